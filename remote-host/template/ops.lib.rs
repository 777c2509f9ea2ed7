//! This fleet's pipelines, steps and jobs.
//!
//! A pipeline is `#[remote::pipeline] pub fn name(hs: &Hosts) -> Run`, a step `#[remote::step] pub fn
//! name(run: Run, args…) -> Run`, a job set `#[remote::jobs] pub fn name(hs: &Hosts) -> Vec<JobSpec>`. The
//! attribute is all it takes for `remote run`, `remote list` and the prompt of `remote live` to find it, with
//! its doc comment as its description. Save this file while `remote live` is open and the next line runs the
//! new code.

use remote_std::prelude::*;

/// Lists `/` on every host, long format.
#[remote::pipeline]
pub fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty)
}

/// The hosts with a filesystem more than 85% full, each a failure: a run that finds one exits 1.
#[remote::pipeline]
pub fn low_disk(hs: &Hosts) -> Run {
    pipeline!(disk(hs) | pick(above(disk_used_percent, 85)) | fail("disk over 85%") | pretty)
}

/// Keeps the hosts whose last output mentions `word`: `exec(sandbox, "uname -a") | mentioning("Linux")`.
#[remote::step]
pub fn mentioning(run: Run, word: String) -> Run {
    pipeline!(pick(run, stdout_has(&word)))
}

/// The listing every minute and the disk check every morning: type `checks GROUP` at the `remote live`
/// prompt to schedule both.
#[remote::jobs]
pub fn checks(hs: &Hosts) -> Vec<JobSpec> {
    vec![
        JobSpec::pipeline("listing", "every 1m", "listing", hs),
        JobSpec::pipeline("low_disk", "daily 07:00", "low_disk", hs),
    ]
}

/// Pipelines tested without any host (`cargo test`): a world in memory answers from a table and records
/// what each host was asked.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use remote_core::memory::{Answer, MemoryWorld, host};
    use remote_core::{Driver, HostError};

    use super::*;

    #[test]
    fn mentioning_keeps_the_hosts_that_said_the_word_and_the_failed_ones() {
        let world = Arc::new(
            MemoryWorld::new()
                .answer_on("web-2", "", Answer::fails(HostError::ConnectRefused { port: 22 }))
                .answer_on("web-3", "uname", Answer::ok("FreeBSD\n"))
                .answer("uname", Answer::ok("Linux\n")),
        );
        let driver = Driver::new(world.clone(), Arc::new(|_: &_, _| {}));
        let hosts = Hosts::new("web", vec![host("web-1"), host("web-2"), host("web-3")], driver);
        let run = mentioning(exec(&hosts, "uname"), "Linux".to_string());
        let kept: Vec<&str> = run.results().iter().map(|r| r.host.as_str()).collect();
        assert_eq!(kept, ["web-1", "web-2"]);
        assert_eq!(run.failed_count(), 1);
    }
}
