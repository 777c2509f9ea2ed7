//! Built-in steps (`pretty`, `table`, `email`, `webhook`, `pick`) and the predicates `pick` takes.
//!
//! Shape of a step: `fn name(run: Run, args…) -> Run`; `pipeline!` passes the previous run first.
//! A user's own step in `ops` has the same shape and needs nothing else to work in `pipeline!`.

use crate::hosts::Notice;
use crate::prelude::remote;
use crate::pretty::View;
use crate::report::HostResult;
use crate::run::Run;

/// Shows the run summary (✔/✖ per host) and passes the run on.
#[remote::step]
pub fn pretty(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Summary);
    run
}

/// Shows the hosts' typed data (from `cpu`, `disk`, …) as a table and passes the run on.
///
/// A row per host, or per filesystem, interface, process or sensor; hosts without data are named below it.
#[remote::step]
pub fn table(run: Run) -> Run {
    run.hosts().driver().show(run.report(), View::Table);
    run
}

/// Emails the run's summary to `to` (addresses separated by commas; `""`: `[notify]`'s `to`), through the inventory's `[notify]` server:
/// HTML with a row per host, the failed hosts' output attached. The seed's `email`: `pkg_update(hs) | email("ops@example.org", "updates")`.
///
/// The run goes on unchanged. A summary that cannot be sent is said on stderr and makes the command exit 1.
#[remote::step]
pub fn email(run: Run, to: &str, subject: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Notice::Email { to, subject });
    run
}

/// Emails the run's summary, as `email` does, to the recipients the inventory's `[notify]` table names (`to`), e.g.
/// `pkg_update(hs) | pretty | notify("package updates")`.
#[remote::step]
pub fn notify(run: Run, subject: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Notice::Email { to: "", subject });
    run
}

/// Posts the run's JSON document (as `--json` prints it) to a webhook: a name from the inventory's `[webhooks]`
/// table (e.g. `webhook("oncall")`), or a URL. Hooks carry their secret in the URL, so name them: a pipeline's
/// text is kept in the history and in reports.
///
/// The run goes on unchanged. A post that fails is said on stderr and makes the command exit 1.
#[remote::step]
pub fn webhook(run: Run, url: &str) -> Run {
    let _ = run.hosts().driver().notify(run.report(), &Notice::Webhook { url });
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
    move |result| result.output().is_some_and(|o| needle.is_empty() || o.stdout.windows(needle.len()).any(|w| w == needle))
}
