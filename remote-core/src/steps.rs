//! Built-in steps (`pretty`, `pick`) and the predicates `pick` takes.
//!
//! Shape of a step: `fn name(run: Run, args…) -> Run`; `pipeline!` passes the previous run first.
//! A user's own step in `ops` has the same shape and needs nothing else to work in `pipeline!`.

use crate::pretty;
use crate::run::{HostResult, Run};

/// Shows the run summary (✔/✖ per host) and passes the run on unchanged.
pub fn pretty(run: Run) -> Run {
    match &run.hosts {
        Some(hosts) => hosts.show(&run),
        // A run made without a host set has no driver to show it through. Standard error, because
        // standard output may be carrying a `--json` document.
        None => eprint!("{}", pretty::render(&run, console::colors_enabled_stderr())),
    }
    run
}

/// Keeps only the hosts whose outcome passes `keep`; the others leave the run (and the summary).
pub fn pick(run: Run, keep: impl Fn(&HostResult) -> bool) -> Run {
    let results: Vec<HostResult> = run.results.into_iter().filter(|r| keep(r)).collect();
    let hosts = run.hosts.map(|hosts| hosts.with_specs(results.iter().filter_map(|r| hosts.spec(&r.host).cloned()).collect()));
    Run { results, hosts, ..run }
}

/// The host ran its command and it exited 0.
pub fn successful(result: &HostResult) -> bool {
    result.ok()
}

/// The host could not run its command, or it exited non-zero.
pub fn failed(result: &HostResult) -> bool {
    !result.ok()
}

/// The host's stdout contains `text`.
pub fn stdout_has(text: &str) -> impl Fn(&HostResult) -> bool + Send + Sync + 'static {
    let needle = text.as_bytes().to_vec();
    move |result| result.output().is_some_and(|o| needle.is_empty() || o.stdout.windows(needle.len()).any(|w| w == needle))
}
