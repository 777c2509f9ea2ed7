//! Rolling runs (`--batch`, `--max-fail`): a group's hosts in batches, one after another, under one failure
//! budget for the whole run.
//!
//! The budget is the run's, not a batch's (Ansible's `max_fail_percentage` is per batch, and a batch that
//! fails entirely stops a run that could afford it): once more hosts have failed than it allows, no new batch
//! starts, the batch running finishes, and every host not started says why.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use remote_core::{HostError, HostResult, HostSpec, Report};

/// A number of hosts, or a share of the group's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    /// This many hosts.
    Hosts(usize),
    /// This percentage of the group's hosts.
    Percent(u32),
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Hosts(n) => write!(f, "{n}"),
            Amount::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Why `--batch` or `--max-fail` cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    #[error(
        "`{text}` is not a batch size; write hosts per batch (10), a share of the group (25%), or several for the first batches, the last repeating (1,10%)"
    )]
    Batch { text: String },
    #[error(
        "`{text}` is not a failure budget; write how many hosts may fail (0 stops at the first failure) or a share of the group (10%)"
    )]
    MaxFail { text: String },
}

/// Reads `N` or `P%` (`P` up to 100); `zero` says whether 0 is allowed.
fn amount(text: &str, zero: bool) -> Option<Amount> {
    let text = text.trim();
    match text.strip_suffix('%') {
        Some(percent) => {
            let p: u32 = percent.trim().parse().ok()?;
            (p <= 100 && (zero || p > 0)).then_some(Amount::Percent(p))
        }
        None => {
            let n: usize = text.parse().ok()?;
            (zero || n > 0).then_some(Amount::Hosts(n))
        }
    }
}

/// `--batch`: the sizes of the first batches, the last one repeating (`1,10%` is a canary, then tenths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batches(pub Vec<Amount>);

impl FromStr for Batches {
    type Err = RolloutError;

    fn from_str(text: &str) -> Result<Self, RolloutError> {
        let bad = || RolloutError::Batch { text: text.to_string() };
        let sizes: Option<Vec<Amount>> = text.split(',').map(|part| amount(part, false)).collect();
        sizes.filter(|sizes| !sizes.is_empty()).map(Batches).ok_or_else(bad)
    }
}

/// `--max-fail`: how many hosts of the whole run may fail before no new batch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxFail(pub Amount);

impl FromStr for MaxFail {
    type Err = RolloutError;

    fn from_str(text: &str) -> Result<Self, RolloutError> {
        amount(text, true).map(MaxFail).ok_or_else(|| RolloutError::MaxFail { text: text.to_string() })
    }
}

/// `amount` of `hosts` as a count: a share rounds up, so that 10% of 5 hosts is one host, never none.
fn count(amount: Amount, hosts: usize) -> usize {
    match amount {
        Amount::Hosts(n) => n,
        Amount::Percent(p) => (hosts * p as usize).div_ceil(100),
    }
}

/// How a group of `hosts` hosts runs: its batches, as ranges of positions, and how many failures the run
/// allows (`None`: any number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub batches: Vec<Range<usize>>,
    pub allowed: Option<usize>,
}

impl Plan {
    pub fn new(hosts: usize, batches: &Batches, max_fail: Option<MaxFail>) -> Plan {
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut sizes = batches.0.iter();
        let mut size = 1;
        while start < hosts {
            if let Some(next) = sizes.next() {
                size = count(*next, hosts).max(1);
            }
            let end = (start + size).min(hosts);
            ranges.push(start..end);
            start = end;
        }
        // A share of failures rounds down: 10% of 5 hosts allows none to fail.
        let allowed = max_fail.map(|MaxFail(amount)| match amount {
            Amount::Hosts(n) => n,
            Amount::Percent(p) => hosts * p as usize / 100,
        });
        Plan { batches: ranges, allowed }
    }
}

/// Runs `one` on each batch of `hosts` in turn (with the batch's number from 1) and puts their reports
/// together in inventory order; once more hosts failed than the plan allows, or the run was cancelled (Ctrl-C,
/// a signal) or passed its `--deadline`, the hosts of the batches left are not started and say why. Stops
/// early with `one`'s error.
pub fn roll<E>(
    plan: &Plan,
    hosts: &[HostSpec],
    mut one: impl FnMut(usize, &[HostSpec]) -> Result<Report, E>,
) -> Result<Report, E> {
    let started = std::time::Instant::now();
    let mut results: Vec<HostResult> = Vec::with_capacity(hosts.len());
    let mut label = String::new();
    let mut group = String::new();
    let mut failed = 0;
    let mut ended: Option<HostError> = None;
    for (number, batch) in plan.batches.iter().enumerate() {
        let spent = plan.allowed.is_some_and(|allowed| failed > allowed);
        if spent || ended.is_some() {
            let error = ended.clone().unwrap_or(HostError::BudgetSpent { failed, hosts: hosts.len() });
            results.extend(hosts[batch.clone()].iter().map(|spec| HostResult {
                host: spec.name.clone(),
                outcome: Err(error.clone()),
                elapsed: std::time::Duration::ZERO,
            }));
            continue;
        }
        let report = one(number + 1, &hosts[batch.clone()])?;
        failed += report.failed_count();
        ended = report.results.iter().find_map(ending);
        if label.is_empty() {
            label = report.label;
            group = report.group;
        }
        results.extend(report.results);
    }
    Ok(Report { label, group, results, elapsed: started.elapsed() })
}

/// Says on stderr which batch starts, so that a rolling run's summaries (one per batch from `pretty`, then
/// the whole run's) read in order.
pub fn announce(number: usize, plan: &Plan, hosts: &[HostSpec]) {
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    eprintln!(
        "remote: batch {number} of {}: {}",
        plan.batches.len(),
        remote_core::pretty::sanitize(&remote_core::nodeset::fold(&names))
    );
}

/// Why no batch may start after a host ended so: the run was cancelled, or its deadline passed.
fn ending(result: &HostResult) -> Option<HostError> {
    match &result.outcome {
        Err(HostError::NotStarted { cause }) => Some(HostError::NotStarted { cause: *cause }),
        Err(HostError::DeadlinePassed { after }) => Some(HostError::DeadlinePassed { after: *after }),
        Ok(output) => match output.stopped.as_ref().map(|s| s.reason) {
            Some(remote_core::StopReason::Cancelled(cause)) => Some(HostError::NotStarted { cause }),
            Some(remote_core::StopReason::Deadline { after }) => Some(HostError::DeadlinePassed { after }),
            _ => None,
        },
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use remote_core::Output;

    fn check_plan(hosts: usize, batch: &str, max_fail: Option<&str>, expected: &str) {
        let plan = Plan::new(hosts, &batch.parse().unwrap(), max_fail.map(|m| m.parse().unwrap()));
        let batches: Vec<String> = plan.batches.iter().map(|b| format!("{}-{}", b.start, b.end)).collect();
        let got = format!("{} allowed={:?}", batches.join(" "), plan.allowed);
        assert_eq!(got, expected, "{hosts} hosts, --batch {batch} --max-fail {max_fail:?}");
    }

    #[test]
    fn batches_cover_the_group_in_order_and_budgets_round_down() {
        check_plan(10, "3", None, "0-3 3-6 6-9 9-10 allowed=None");
        check_plan(10, "25%", Some("0"), "0-3 3-6 6-9 9-10 allowed=Some(0)");
        check_plan(10, "1,50%", Some("10%"), "0-1 1-6 6-10 allowed=Some(1)");
        check_plan(5, "10%", Some("10%"), "0-1 1-2 2-3 3-4 4-5 allowed=Some(0)");
        check_plan(3, "100", Some("2"), "0-3 allowed=Some(2)");
        check_plan(0, "2", None, " allowed=None");
    }

    #[test]
    fn bad_sizes_say_how_to_write_them() {
        for text in ["0", "0%", "101%", "x", "", "1,,2", "-1"] {
            assert!(text.parse::<Batches>().is_err(), "--batch {text}");
        }
        for text in ["101%", "x", "", "-1"] {
            assert!(text.parse::<MaxFail>().is_err(), "--max-fail {text}");
        }
        assert_eq!("0".parse::<MaxFail>(), Ok(MaxFail(Amount::Hosts(0))));
    }

    /// `count` hosts named h0, h1, … as the inventory resolves them.
    fn specs(count: usize) -> Vec<HostSpec> {
        let text = format!("[groups.g]\nhosts = [\"h[0-{}]\"]\n", count - 1);
        let inventory =
            remote_config::Inventory::parse_with_ssh_config(&text, std::path::Path::new("remote.toml"), None);
        inventory.expect("inventory").group("g").expect("group").hosts.clone()
    }

    /// Rolls `hosts` hosts where the hosts named in `failing` fail; each host's outcome in order, `.` for ok,
    /// `x` for failed, `-` for not started, and which batches ran.
    fn check_roll(hosts: usize, batch: &str, max_fail: &str, failing: &[usize], expected: &str) {
        let specs = specs(hosts);
        let plan = Plan::new(hosts, &batch.parse().unwrap(), Some(max_fail.parse().unwrap()));
        let mut ran = Vec::new();
        let report = roll(&plan, &specs, |number, batch| {
            ran.push(number.to_string());
            let results = batch
                .iter()
                .map(|spec| {
                    let n: usize = spec.name[1..].parse().unwrap();
                    let exit = if failing.contains(&n) { 1 } else { 0 };
                    let outcome = Ok(Output { exit: Some(exit), ..Output::default() });
                    HostResult { host: spec.name.clone(), outcome, elapsed: Duration::ZERO }
                })
                .collect();
            Ok::<_, ()>(Report { label: "x".into(), group: "g".into(), results, elapsed: Duration::ZERO })
        })
        .unwrap();
        let marks: String = report
            .results
            .iter()
            .map(|r| match &r.outcome {
                Err(HostError::BudgetSpent { .. }) => '-',
                _ if r.ok() => '.',
                _ => 'x',
            })
            .collect();
        assert_eq!(format!("{marks} batches {}", ran.join(",")), expected);
    }

    #[test]
    fn the_budget_is_the_whole_run_and_stops_new_batches_only() {
        // Two failures allowed: the third stops the run after its batch.
        check_roll(8, "2", "2", &[0, 3, 4], "x..xx.-- batches 1,2,3");
        // A batch that fails entirely does not stop a run that can afford it.
        check_roll(6, "2", "3", &[2, 3], "..xx.. batches 1,2,3");
        // 0 stops at the first failure.
        check_roll(4, "1", "0", &[1], ".x-- batches 1,2");
        check_roll(4, "1", "0", &[], ".... batches 1,2,3,4");
        // The batch that spends the budget finishes: its other hosts still run.
        check_roll(4, "2", "0", &[0], "x.-- batches 1");
    }

    #[test]
    fn a_cancelled_batch_is_the_last_and_the_hosts_left_say_so() {
        let specs = specs(4);
        let plan = Plan::new(4, &"1".parse().unwrap(), None);
        let report = roll(&plan, &specs, |number, batch| {
            let outcome = if number == 2 {
                let stopped = remote_core::Stopped {
                    reason: remote_core::StopReason::Cancelled(remote_core::CancelCause::CtrlC),
                    kill: remote_core::Kill::Killed,
                };
                Ok(Output { exit: None, stopped: Some(stopped), ..Output::default() })
            } else {
                Ok(Output { exit: Some(0), ..Output::default() })
            };
            let results = vec![HostResult { host: batch[0].name.clone(), outcome, elapsed: Duration::ZERO }];
            Ok::<_, ()>(Report { label: "x".into(), group: "g".into(), results, elapsed: Duration::ZERO })
        })
        .unwrap();
        let errors: Vec<String> = report.results.iter().map(|r| r.error_text().unwrap_or_default()).collect();
        let not_started =
            "not started: cancelled (Ctrl-C) before the command could start; nothing ran on this host";
        assert_eq!(errors[2..], [not_started, not_started]);
        assert!(errors[0].is_empty() && errors[1].starts_with("cancelled (Ctrl-C)"), "{errors:?}");
    }

    #[test]
    fn hosts_not_started_say_why() {
        let error = HostError::BudgetSpent { failed: 3, hosts: 8 };
        assert_eq!(error.to_string(), "not started: failure budget spent (3 of 8 failed)");
    }
}
