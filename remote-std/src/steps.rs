//! Built-in steps (`pretty`, `pretty_all`, `table`, `diff`, `fail`, `email`, `webhook`, `pick`) and the predicates `pick` takes.
//!
//! Shape of a step: `fn name(run: Run, args…) -> Run`; `pipeline!` passes the previous run first.
//! A user's own step in `ops` has the same shape and needs nothing else to work in `pipeline!`.

use crate::remote;
use remote_core::fields::Select;
use remote_core::pretty::View;
use remote_core::{HostResult, Message, Run};

/// Shows the run summary and passes the run on: hosts with identical output grouped under their host set
/// (`127.0.1.[1-3]`), failures first, each distinct output once, up to 20 lines (`pretty_all` shows every
/// line).
#[remote::step]
pub fn pretty(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Summary);
    run
}

/// Shows the run summary as `pretty` does, with every line of every distinct output, and passes the run on.
#[remote::step]
pub fn pretty_all(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Full);
    run
}

/// Shows how each host's output differs from the most common one and passes the run on: the biggest group
/// of hosts with identical output is the reference, every other group gets a unified diff against it, e.g.
/// `exec(web, "cat /etc/app.conf") | diff` for "which hosts have a different config".
#[remote::step]
pub fn diff(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Diff);
    run
}

/// Makes every host still in the run that succeeded a failure with `reason`, keeping its output: how a
/// pipeline fails on what it found, e.g. `disk(hs) | pick(above(disk_used_percent, 85)) | fail("disk over
/// 85%")`. Hosts that failed already keep their own reason. With no host left (a `pick` kept none), the run
/// succeeds.
#[remote::step]
pub fn fail(run: Run, reason: &str) -> Run {
    run.map_results(|mut result| {
        if let Ok(output) = &mut result.outcome
            && output.success()
        {
            output.failed = Some(reason.to_string());
        }
        result
    })
}

/// Shows the hosts' typed data (from `cpu`, `disk`, …) as a table and passes the run on.
///
/// A row per host, or per filesystem, interface, process or sensor; hosts without data are named below it.
#[remote::step]
pub fn table(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Table);
    run
}

/// Emails the run's summary to `to` (addresses separated by commas; `""`: `[notify]`'s `to`), through the
/// inventory's `[notify]` server: HTML with a row per host, the failed hosts' output attached. The seed's
/// `email`: `pkg_update(hs) | email("ops@example.org", "updates")`.
///
/// The run goes on unchanged. A summary that cannot be sent is said on stderr and makes the command exit 1.
#[remote::step]
pub fn email(run: Run, to: &str, subject: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Message::Email { to, subject });
    run
}

/// Emails the run's summary, as `email` does, to the recipients the inventory's `[notify]` table names
/// (`to`), e.g. `pkg_update(hs) | pretty | notify("package updates")`.
#[remote::step]
pub fn notify(run: Run, subject: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Message::Email { to: "", subject });
    run
}

/// Posts the run's JSON document (as `--json` prints it) to a webhook: a name from the inventory's
/// `[webhooks]` table (e.g. `webhook("oncall")`), or a URL. Hooks carry their secret in the URL, so name
/// them: a pipeline's text is kept in the history and in reports.
///
/// The run goes on unchanged. A post that fails is said on stderr and makes the command exit 1.
#[remote::step]
pub fn webhook(run: Run, url: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Message::Webhook { url });
    run
}

/// Keeps only the hosts whose outcome passes `keep`.
///
/// The others leave the run (and the summary).
#[remote::step]
pub fn pick(run: Run, keep: impl Fn(&HostResult) -> bool) -> Run {
    run.retain(keep)
}

/// The host's command ran and exited 0.
#[remote::predicate]
pub fn successful(result: &HostResult) -> bool {
    result.ok()
}

/// The host could not run its command, or it exited non-zero.
#[remote::predicate]
pub fn failed(result: &HostResult) -> bool {
    !result.ok()
}

/// The host's stdout contains `text`.
#[remote::predicate]
pub fn stdout_has(text: &str) -> impl Fn(&HostResult) -> bool + Send + Sync + 'static {
    let needle = text.as_bytes().to_vec();
    move |result| {
        result
            .output()
            .is_some_and(|o| needle.is_empty() || o.stdout.windows(needle.len()).any(|w| w == needle))
    }
}

/// Some value of `field` in the host's data is above `threshold`, e.g. `above(disk_used_percent, 85)`.
///
/// Hosts without that data do not pass.
#[remote::predicate]
pub fn above(
    field: Select,
    threshold: impl Into<f64>,
) -> impl Fn(&HostResult) -> bool + Send + Sync + 'static {
    let (field, threshold) = (field(), threshold.into());
    move |result| field.of(result).iter().any(|(_, value)| *value > threshold)
}

/// Some value of `field` in the host's data is below `threshold`, e.g. `below(available, 500e6)`.
///
/// Hosts without that data do not pass.
#[remote::predicate]
pub fn below(
    field: Select,
    threshold: impl Into<f64>,
) -> impl Fn(&HostResult) -> bool + Send + Sync + 'static {
    let (field, threshold) = (field(), threshold.into());
    move |result| field.of(result).iter().any(|(_, value)| *value < threshold)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use remote_core::data::{Cpu, Data, Disk, Filesystem};
    use remote_core::fields::{disk_used_percent, idle};
    use remote_core::{HostResult, Output};

    use super::*;

    fn host(data: Option<Data>) -> HostResult {
        HostResult {
            host: "h".into(),
            outcome: Ok(Output { exit: Some(0), data, ..Output::default() }),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn thresholds_over_typed_fields() {
        let fs = |mount: &str, used_percent: f64| Filesystem {
            mount: mount.into(),
            used_percent,
            ..Filesystem::default()
        };
        let disks = host(Some(Data::Disk(Disk { filesystems: vec![fs("/", 40.0), fs("/var", 91.5)] })));
        let cpu = host(Some(Data::Cpu(Cpu { idle: 12.0, ..Cpu::default() })));
        let none = host(None);
        let check = |keep: &dyn Fn(&HostResult) -> bool, expected: [bool; 3]| {
            assert_eq!([keep(&disks), keep(&cpu), keep(&none)], expected);
        };
        check(&above(disk_used_percent, 85), [true, false, false]);
        check(&above(disk_used_percent, 95), [false, false, false]);
        check(&below(disk_used_percent, 50), [true, false, false]);
        check(&below(idle, 20.5), [false, true, false]);
        check(&above(idle, 12), [false, false, false]);
        assert_eq!(disk_used_percent().of(&disks), [("/".to_string(), 40.0), ("/var".to_string(), 91.5)]);
    }
}
