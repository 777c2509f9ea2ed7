//! The user's pipelines: plain `pub fn`s over host sets, exported through one stable entry point.
//!
//! Write a pipeline as `pub fn name(hs: &Hosts) -> Run { pipeline!(…) }` and a step as
//! `pub fn name(run: Run, args…) -> Run`; list both in `export!` at the bottom so that `remote run`,
//! `remote list` and the prompt can find them.
//!
//! Architecture invariant: `ops` holds no global state, spawns no tasks and does no I/O of its own; all
//! I/O goes through the driver the host puts inside `Hosts`.

use remote_core::prelude::*;

/// Lists `/` on every host, long format: the seed's first example.
pub fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty)
}

/// Keeps the hosts whose `/etc/os-release` says they run Debian (an example of a user step). Hosts that
/// failed earlier stay, with their failure, so the summary still shows them.
pub fn only_debian(run: Run) -> Run {
    let debian: Vec<String> =
        exec(&run, "grep -qx 'ID=debian' /etc/os-release").results().iter().filter(|r| r.ok()).map(|r| r.host.clone()).collect();
    pick(run, |r: &HostResult| !r.ok() || debian.contains(&r.host))
}

/// Keeps the hosts whose last output mentions `word`.
pub fn mentioning(run: Run, word: String) -> Run {
    pipeline!(pick(run, stdout_has(&word)))
}

remote_core::export! {
    pipelines {
        /// Lists `/` on every host, long format.
        listing,
    }
    steps {
        /// Keeps the hosts that run Debian.
        only_debian(),
        /// Keeps the hosts whose last output mentions `word`.
        mentioning(word: String),
    }
}
