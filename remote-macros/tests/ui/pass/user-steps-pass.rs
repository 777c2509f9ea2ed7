//! User steps, composition, closures and arbitrary Rust expressions as arguments compile.

use remote_std::prelude::*;

/// A user's own step: a plain function from run to run.
fn only_debian(run: Run) -> Run {
    pipeline!(exec(run, "grep -qx ID=debian /etc/os-release") | pick(successful))
}

/// A step with arguments of its own.
fn lines_longer_than(run: Run, limit: usize) -> Run {
    pick(run, move |r| r.output().is_some_and(|o| o.stdout.len() > limit))
}

/// A pipeline that starts from another pipeline's run, with closures and any Rust expression as arguments.
fn upgrade(hs: &Hosts) -> Run {
    let folder = String::from("/var");
    pipeline!(
        only_debian(uptime(hs))
            | ls(&folder, &format!("-{}", "la"))
            | lines_longer_than(10 * 2)
            | pick(|r: &HostResult| r.host.starts_with("127."))
            | pick(stdout_has("root"))
            | pretty
    )
}

fn main() {
    let _ = upgrade;
}
