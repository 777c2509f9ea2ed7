//! The connection to a hub: a thread that reads `GET /stream` and hands each event to the UI, and reconnects
//! (with a growing pause) whenever the hub goes away, saying why in the status.
//!
//! reqwest does the HTTP, with an idle timeout per read: the hub sends a keep-alive comment every 15 s, so
//! 45 s of silence means the hub or the network is gone even when no socket error says so.
//! eventsource-stream parses the server-sent events format.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource as _;
use futures_util::StreamExt as _;

use crate::wire::{self, Event};

/// How long the stream may be silent before the viewer gives up on it and reconnects.
const IDLE: Duration = Duration::from_secs(45);
/// The pauses between attempts: doubling from the first to the last, and back to the first once connected.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LAST_PAUSE: Duration = Duration::from_secs(5);

/// Where the connection stands, for the status line.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Connecting (the first time, or again after a failure).
    Connecting,
    /// Receiving.
    Live,
    /// Not connected: why, and when the next attempt starts.
    Down { reason: String, retry_at: Instant },
}

/// What the connection thread tells the UI.
#[derive(Debug)]
pub enum Update {
    Status(Status),
    Event(Event),
}

/// Starts reading the hub's stream at `url` (`http://127.0.0.1:8080/stream`) on a thread of its own. `wake`
/// is called after each update so the UI draws it at once. The thread ends when the receiver is dropped.
pub fn connect(url: String, wake: impl Fn() + Send + 'static) -> Receiver<Update> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("hub-stream".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    let reason = format!("cannot start the connection's runtime: {e}");
                    let _ = tx.send(Update::Status(Status::Down { reason, retry_at: Instant::now() }));
                    return wake();
                }
            };
            runtime.block_on(run(url, tx, wake));
        })
        .expect("spawning the hub connection thread");
    rx
}

async fn run(url: String, tx: Sender<Update>, wake: impl Fn()) {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(IDLE)
        .no_proxy()
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            let _ = tx.send(Update::Status(Status::Down { reason: cause(&e), retry_at: Instant::now() }));
            return wake();
        }
    };
    let mut pause = FIRST_PAUSE;
    loop {
        if tx.send(Update::Status(Status::Connecting)).is_err() {
            return;
        }
        wake();
        let reason = match stream(&client, &url, &tx, &wake, &mut pause).await {
            Ok(()) => return,
            Err(reason) => reason,
        };
        let retry_at = Instant::now() + pause;
        if tx.send(Update::Status(Status::Down { reason, retry_at })).is_err() {
            return;
        }
        wake();
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LAST_PAUSE);
    }
}

/// Reads one connection's events until it fails (the reason, for the status line) or the UI has gone (`Ok`).
async fn stream(
    client: &reqwest::Client,
    url: &str,
    tx: &Sender<Update>,
    wake: &impl Fn(),
    pause: &mut Duration,
) -> Result<(), String> {
    let response =
        client.get(url).header("Accept", "text/event-stream").send().await.map_err(|e| cause(&e))?;
    let status = response.status();
    if !status.is_success() {
        // The hub says why in a line of text (too many viewers, say); a stranger's page is cut short.
        let body = response.text().await.unwrap_or_default();
        let why: String = body.trim().chars().take(200).filter(|c| !c.is_control()).collect();
        return Err(if why.is_empty() {
            format!("the hub answered {status}")
        } else {
            format!("the hub answered {status}: {why}")
        });
    }
    let is_stream = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_stream {
        return Err(format!(
            "{url} answers, but not with a hub's stream (not text/event-stream): is the address that of `remote live --hub`?"
        ));
    }
    if tx.send(Update::Status(Status::Live)).is_err() {
        return Ok(());
    }
    wake();
    let mut events = response.bytes_stream().eventsource();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| match e {
            eventsource_stream::EventStreamError::Transport(e) => cause(&e),
            other => format!("the hub's stream is broken: {other}"),
        })?;
        let event = wire::parse(&event.event, &event.data).map_err(|e| e.to_string())?;
        // Back to short pauses only once the hub has given something readable: a hub whose first event this
        // viewer cannot read is asked again at the longest pause, not twice a second.
        *pause = FIRST_PAUSE;
        if tx.send(Update::Event(event)).is_err() {
            return Ok(());
        }
        wake();
    }
    Err("the hub closed the stream".to_string())
}

/// What went wrong, in the words of the innermost cause ("Connection refused (os error 111)"), which says
/// more than reqwest's own "error sending request for url".
fn cause(error: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = error;
    while let Some(source) = inner.source() {
        inner = source;
    }
    if error.is_timeout() {
        return format!("the hub sent nothing for {} s", IDLE.as_secs());
    }
    if error.is_connect() {
        return format!("no hub answers (cannot connect: {inner})");
    }
    inner.to_string()
}
