//! Open files: the soft limit is raised to the hard one at start, and a command that would keep more
//! connections open than the limit allows is refused once, before connecting, instead of failing host by
//! host.

/// Descriptors kept for everything but host connections: standard streams, the runtime, logs, `known_hosts`
/// reads, and the extra connections that kills may open.
const RESERVE: u64 = 64;

/// The soft and hard limits on open files.
fn open_files() -> (u64, u64) {
    // SAFETY: getrlimit only writes the struct we hand it.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return (u64::MAX, u64::MAX);
    }
    (limit.rlim_cur, limit.rlim_max)
}

/// Raises the soft limit on open files to the hard limit, as a server would: one connection per host is one
/// descriptor, and the usual soft limit (1024) is far below a big fleet.
pub fn raise_open_files() {
    let (soft, hard) = open_files();
    // An unlimited hard limit cannot be the soft one: the kernel caps descriptors at fs.nr_open.
    let ceiling = if hard == libc::RLIM_INFINITY {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(soft)
    } else {
        hard
    };
    if soft < ceiling {
        let limit = libc::rlimit { rlim_cur: ceiling, rlim_max: hard };
        // SAFETY: setrlimit reads the struct we hand it; raising the soft limit up to the hard one is always
        // allowed.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            tracing::warn!(soft, hard, "could not raise the open-files limit");
        }
    }
}

/// `Err` with what to do when `new_hosts` more connections, on top of `open` ones, would not fit the limit.
pub fn check(group: &str, new_hosts: usize, open: usize) -> Result<(), String> {
    let (soft, hard) = open_files();
    let needed = (new_hosts + open) as u64 + RESERVE;
    if soft == libc::RLIM_INFINITY || needed <= soft {
        return Ok(());
    }
    let already =
        if open > 0 { format!(" besides the {open} connections already open") } else { String::new() };
    Err(format!(
        "group `{group}` has {new_hosts} hosts and one connection to each is kept open{already}, but this process may \
         open only {soft} files (hard limit {hard}); nothing was started. Raise the limit (e.g. `ulimit -n {needed}` \
         where the hard limit allows it, or LimitNOFILE={needed} for a service) or run the group in smaller parts"
    ))
}
