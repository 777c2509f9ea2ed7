//! The user's pipelines: plain functions over host sets, declared with an attribute.
//!
//! Write a pipeline as `#[remote::pipeline] pub fn name(hs: &Hosts) -> Run { pipeline!(…) }` and a step
//! as `#[remote::step] pub fn name(run: Run, args…) -> Run`. The attribute is all it takes for `remote run`,
//! `remote list` and the prompt to find it, with its doc comment as its description; `remote live` picks
//! up a saved change without a restart.
//!
//! Architecture invariant: `ops` holds no global state, spawns no tasks and does no I/O of its own; all
//! I/O goes through the driver the host puts inside `Hosts`.

use remote_std::prelude::*;

/// Lists `/` on every host, long format.
///
/// The seed's first example.
#[remote::pipeline]
pub fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty)
}

/// Keeps the hosts that run Debian.
///
/// An example of a user step: it asks each host for `/etc/os-release`. Hosts that failed earlier stay,
/// with their failure, so the summary still shows them.
#[remote::step]
pub fn only_debian(run: Run) -> Run {
    let debian: Vec<String> = query(&run, "grep -qx 'ID=debian' /etc/os-release")
        .results()
        .iter()
        .filter(|r| r.ok())
        .map(|r| r.host.clone())
        .collect();
    pick(run, |r: &HostResult| !r.ok() || debian.contains(&r.host))
}

/// Refreshes every host's package index, shows the upgrades on offer, and emails them to the inventory's
/// `[notify]` recipients.
///
/// The seed's `aptdate` (`update | pretty | email`), on any package manager. Refreshing needs root: set
/// `become = true` for the group, or log in as root.
#[remote::pipeline]
pub fn aptdate(hs: &Hosts) -> Run {
    pipeline!(pkg_update(hs) | pretty | notify("Package updates on offer"))
}

/// `aptdate`, then upgrades the hosts whose index was refreshed and emails what changed.
///
/// The seed's `aptgrade` (`aptdate | pick successful | upgrade | pretty | email`). Try it first as a dry run:
/// `remote --check run aptgrade web`.
#[remote::pipeline]
pub fn aptgrade(hs: &Hosts) -> Run {
    pipeline!(aptdate(hs) | pick(successful) | pkg_upgrade | pretty | notify("Packages upgraded"))
}

/// Keeps the hosts whose last output mentions `word`.
#[remote::step]
pub fn mentioning(run: Run, word: String) -> Run {
    pipeline!(pick(run, stdout_has(&word)))
}

/// The hosts with a filesystem more than 85% full, each a failure: a run that finds one exits 1.
///
/// The seed's `low-disk` (and its alert rule), now one line over typed data.
#[remote::pipeline]
pub fn low_disk(hs: &Hosts) -> Run {
    pipeline!(disk(hs) | pick(above(disk_used_percent, 85)) | fail("disk over 85%") | pretty)
}

/// The hosts whose 1-minute load is above twice their cores.
///
/// The seed's load alert rule.
#[remote::pipeline]
pub fn overloaded(hs: &Hosts) -> Run {
    pipeline!(load(hs) | pick(above(load_per_core, 2)) | pretty)
}

/// Orders the hosts busiest first, by the idle CPU of a `cpu` step before it.
///
/// An example of a step reading typed data: `cpu(sandbox) | busiest_first | table`.
#[remote::step]
pub fn busiest_first(run: Run) -> Run {
    let idle = |r: &HostResult| r.data::<Cpu>().map_or(f64::INFINITY, |cpu| cpu.idle);
    run.sort_by(|a, b| idle(a).total_cmp(&idle(b)))
}

/// Idle and user CPU of every host, to the hub's charts.
///
/// The seed's `cpu-publish`: each host's CPU over one second, kept in the history and drawn as stocks; user
/// CPU also as a one-minute moving average (12 readings 5 s apart, the seed's `sliding avg`) with the fleet's
/// mean and max.
#[remote::pipeline]
pub fn cpu_publish(hs: &Hosts) -> Run {
    pipeline!(
        cpu(hs)
            | collect
            | publish(stock("Idle CPU", idle))
            | publish(stock("User CPU", usr))
            | publish(fleet(sliding(stock("User CPU, 1 min avg", usr), 12)))
    )
}

/// Memory in use, in percent, to the hub's charts.
#[remote::pipeline]
pub fn ram_publish(hs: &Hosts) -> Run {
    pipeline!(ram(hs) | collect | publish(stock("RAM used %", ram_used_percent)))
}

/// The 1-minute load per core, to the hub's charts.
#[remote::pipeline]
pub fn load_publish(hs: &Hosts) -> Run {
    pipeline!(load(hs) | collect | publish(stock("Load per core", load_per_core)))
}

/// Bytes in and out per second on every interface, to the hub's charts.
#[remote::pipeline]
pub fn net_publish(hs: &Hosts) -> Run {
    pipeline!(
        net(hs)
            | collect
            | publish(stock("Network in", rx_bytes_per_sec))
            | publish(stock("Network out", tx_bytes_per_sec))
    )
}

/// Disk use of every filesystem, in percent, to the hub's charts.
#[remote::pipeline]
pub fn disk_publish(hs: &Hosts) -> Run {
    pipeline!(disk(hs) | collect | publish(stock("Disk used %", disk_used_percent)))
}

/// The seed's `stats-jobs`: every stock pipeline every 5 s on the group.
///
/// Type `stats_jobs sandbox` at the `remote live` prompt to schedule them; the charts fill in the hub.
#[remote::jobs]
pub fn stats_jobs(hs: &Hosts) -> Vec<JobSpec> {
    ["cpu", "ram", "load", "net", "disk"]
        .iter()
        .map(|metric| JobSpec::pipeline(metric, "every 5s", &format!("{metric}_publish"), hs))
        .collect()
}

/// Pipelines tested without any host: a world in memory answers from a table and records what each host was
/// asked (README, "Pipelines").
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use remote_core::memory::{Answer, MemoryWorld, host};
    use remote_core::{Driver, HostError};

    use super::*;

    #[test]
    fn only_debian_asks_the_hosts_that_answered_and_keeps_the_failed_ones() {
        let world = Arc::new(
            MemoryWorld::new()
                .answer_on("web-2", "", Answer::fails(HostError::ConnectRefused { port: 22 }))
                .answer_on("web-3", "ID=debian", Answer::exit(1, ""))
                .answer("uptime", Answer::ok(" 10:00:00 up 3 days\n"))
                .answer("ID=debian", Answer::ok("")),
        );
        let driver = Driver::new(world.clone(), Arc::new(|_: &_, _| {}));
        let hosts = Hosts::new("web", vec![host("web-1"), host("web-2"), host("web-3")], driver);
        let run = only_debian(uptime(&hosts));
        // web-2, down, is asked only the first command and stays in the run with its failure; web-3 is not Debian.
        let kept: Vec<&str> = run.results().iter().map(|r| r.host.as_str()).collect();
        assert_eq!(kept, ["web-1", "web-2"]);
        assert_eq!(run.failed_count(), 1);
        let asked: Vec<String> =
            world.asked().iter().map(|(host, command)| format!("{host}: {command}")).collect();
        assert_eq!(
            asked,
            [
                "web-1: uptime",
                "web-1: grep -qx 'ID=debian' /etc/os-release",
                "web-2: uptime",
                "web-3: uptime",
                "web-3: grep -qx 'ID=debian' /etc/os-release",
            ]
        );
    }
}
