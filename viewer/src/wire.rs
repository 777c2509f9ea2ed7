//! The hub's wire format as the viewer reads it: the events of `GET /stream`, whose types remote-core's
//! `wire` defines.

pub use remote_core::wire::Batch;
use remote_core::wire::{self, Dropped};

/// One event of the stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The hub's recent batches, oldest first: sent once, first, on every (re)connection.
    History(Vec<Batch>),
    /// One publish, as it happens.
    Batch(Batch),
    /// This viewer fell behind and the hub left out this many batches.
    Dropped(u64),
    /// An event this viewer does not know, from a newer hub: ignored, so the format can grow.
    Other(String),
}

/// Why an event could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the hub sent a `{event}` event this viewer cannot read: {cause}")]
pub struct WireError {
    /// The event's name.
    pub event: String,
    /// What serde said.
    pub cause: serde_json::Error,
}

/// Reads one event from its name and its data.
pub fn parse(event: &str, data: &str) -> Result<Event, WireError> {
    let wrap = |cause| WireError { event: event.to_string(), cause };
    Ok(match event {
        wire::HISTORY => Event::History(serde_json::from_str(data).map_err(wrap)?),
        wire::BATCH => Event::Batch(serde_json::from_str(data).map_err(wrap)?),
        wire::DROPPED => Event::Dropped(serde_json::from_str::<Dropped>(data).map_err(wrap)?.batches),
        other => Event::Other(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(event: &str, data: &str, expected: &str) {
        let got = match parse(event, data) {
            Ok(Event::History(batches)) => format!("history {}", batches.len()),
            Ok(Event::Batch(b)) => {
                let s = &b.samples[0];
                format!("batch {} {} {} {:?} {} {}", b.stock, s.field, s.host, s.item, s.at_ms, s.value)
            }
            Ok(Event::Dropped(n)) => format!("dropped {n}"),
            Ok(Event::Other(name)) => format!("other {name}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expected, "{event}: {data}");
    }

    #[test]
    fn events() {
        let batch = r#"{"stock": "Idle CPU", "samples": [{"field": "idle", "host": "web-1", "item": "", "at_ms": 1795716870951, "value": 95.8}]}"#;
        check("batch", batch, r#"batch Idle CPU idle web-1 "" 1795716870951 95.8"#);
        check("history", &format!("[{batch}, {batch}]"), "history 2");
        check("history", "[]", "history 0");
        check("dropped", r#"{"batches": 7}"#, "dropped 7");
        check("hello", "anything", "other hello");
        check(
            "batch",
            r#"{"stock": "x"}"#,
            "the hub sent a `batch` event this viewer cannot read: missing field `samples` at line 1 column 14",
        );
        check(
            "dropped",
            "7",
            "the hub sent a `dropped` event this viewer cannot read: invalid type: integer `7`, expected struct Dropped at line 1 column 1",
        );
    }
}
