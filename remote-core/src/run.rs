//! A run: the report of a fan-out together with the host set it ran on, so that a later step can go on from
//! it.
//!
//! Every `Run` has its hosts; results are matched to them by name. A user's step may narrow or reorder a run
//! ([`Run::retain`], [`Run::sort_by`]) but cannot invent a host, so every succeeded host has somewhere to go
//! on.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::data::Data;
use crate::hosts::{Hosts, Transfer};
use crate::report::{HostError, HostResult, Output, Report};
use crate::spec::HostSpec;

/// Distinct commands [`Run::exec_each`] runs at once, each on its own thread.
const COMMANDS_AT_ONCE: usize = 16;

/// The outcome of a pipeline step: one result per host of its host set, and the set itself.
#[derive(Clone, Debug)]
pub struct Run {
    hosts: Hosts,
    report: Report,
}

impl Run {
    /// Does `work` (one result per host) on every host of `hosts`.
    fn apply(hosts: Hosts, label: &str, work: &dyn Fn(&Hosts) -> Vec<HostResult>) -> Run {
        let started = Instant::now();
        let results = work(&hosts);
        Run::collect(hosts, label, results, started.elapsed())
    }

    /// Pairs `results` with `hosts` by name, in the set's order. A host the driver returned nothing for fails
    /// with an internal error rather than vanishing, and results for hosts outside the set are dropped.
    fn collect(hosts: Hosts, label: &str, results: Vec<HostResult>, elapsed: Duration) -> Run {
        let in_order = results.len() == hosts.len()
            && results.iter().zip(hosts.specs()).all(|(r, spec)| r.host == spec.name);
        let results = if in_order {
            results
        } else {
            let mut by_name: HashMap<String, HostResult> =
                results.into_iter().map(|r| (r.host.clone(), r)).collect();
            hosts
                .specs()
                .iter()
                .map(|spec| {
                    by_name.remove(&spec.name).unwrap_or_else(|| {
                        failure(
                            &spec.name,
                            HostError::Internal {
                                cause: "the driver returned no result for this host".into(),
                            },
                        )
                    })
                })
                .collect()
        };
        let report = Report { label: label.to_string(), group: hosts.group().to_string(), results, elapsed };
        Run { hosts, report }
    }

    /// Runs, on each host that succeeded, the command `next` makes from its result, and lets a host `next`
    /// makes none for keep its result. Hosts given the same command share one fan-out; the fan-outs of
    /// different commands run at once, so a fleet whose hosts each need their own command is not done one
    /// host at a time.
    pub fn exec_each(self, label: &str, next: impl Fn(&HostResult) -> Option<String>) -> Run {
        // The commands change hosts: a dry run runs none of them, whatever the caller forgot.
        if self.hosts.driver().checking() {
            return self;
        }
        self.each(label, next)
    }

    /// As [`Run::exec_each`], for commands that only read: they run in dry runs too.
    pub fn read_each(self, label: &str, next: impl Fn(&HostResult) -> Option<String>) -> Run {
        self.each(label, next)
    }

    fn each(self, label: &str, next: impl Fn(&HostResult) -> Option<String>) -> Run {
        let Run { hosts, report } = self;
        let by_name = specs_by_name(&hosts);
        let mut commands: Vec<(String, Vec<HostSpec>)> = Vec::new();
        for result in report.results.iter().filter(|r| r.ok()) {
            let (Some(command), Some(spec)) = (next(result), by_name.get(result.host.as_str())) else {
                continue;
            };
            match commands.iter_mut().find(|(known, _)| *known == command) {
                Some((_, specs)) => specs.push((*spec).clone()),
                None => commands.push((command, vec![(*spec).clone()])),
            }
        }
        let started = Instant::now();
        // A thread per command blocks on the driver, at most COMMANDS_AT_ONCE of them, each taking the next
        // command as it finishes one, so that one slow host does not hold up the commands behind it.
        let taken = std::sync::atomic::AtomicUsize::new(0);
        let fresh = std::sync::Mutex::new(Vec::with_capacity(report.results.len()));
        std::thread::scope(|scope| {
            for _ in 0..COMMANDS_AT_ONCE.min(commands.len()) {
                scope.spawn(|| {
                    while let Some((command, specs)) =
                        commands.get(taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                    {
                        let subset = hosts.with_specs(specs.clone());
                        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            subset.driver().exec(&subset, label, command)
                        }));
                        let results = run.unwrap_or_else(|_| {
                            let cause = "the thread running this command panicked".to_string();
                            specs
                                .iter()
                                .map(|spec| failure(&spec.name, HostError::Internal { cause: cause.clone() }))
                                .collect()
                        });
                        fresh.lock().unwrap_or_else(|e| e.into_inner()).extend(results);
                    }
                });
            }
        });
        let fresh = fresh.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut fresh: HashMap<String, HostResult> = fresh.into_iter().map(|r| (r.host.clone(), r)).collect();
        let results = report.results.into_iter().map(|old| fresh.remove(&old.host).unwrap_or(old)).collect();
        let elapsed = report.elapsed + started.elapsed();
        Run { hosts, report: Report { label: label.to_string(), group: report.group, results, elapsed } }
    }

    /// The host set the results belong to.
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    /// The plain outcomes, for rendering, JSON or keeping.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The plain outcomes, without the host set.
    pub fn into_report(self) -> Report {
        self.report
    }

    /// One result per host.
    pub fn results(&self) -> &[HostResult] {
        &self.report.results
    }

    /// What ran, for people (e.g. the command line).
    pub fn label(&self) -> &str {
        &self.report.label
    }

    /// The group it ran on.
    pub fn group(&self) -> &str {
        &self.report.group
    }

    /// Wall time of the step's fan-out.
    pub fn elapsed(&self) -> Duration {
        self.report.elapsed
    }

    /// Every host succeeded.
    pub fn all_ok(&self) -> bool {
        self.report.all_ok()
    }

    /// How many hosts failed.
    pub fn failed_count(&self) -> usize {
        self.report.failed_count()
    }

    /// The `--json` document (DESIGN.md section 3).
    pub fn to_json(&self) -> Value {
        self.report.to_json()
    }

    /// Keeps only the hosts whose result passes `keep`; the others leave the run and its host set.
    pub fn retain(mut self, mut keep: impl FnMut(&HostResult) -> bool) -> Run {
        self.report.results.retain(|r| keep(r));
        let by_name = specs_by_name(&self.hosts);
        let specs: Vec<HostSpec> = self
            .report
            .results
            .iter()
            .filter_map(|r| by_name.get(r.host.as_str()).map(|s| (*s).clone()))
            .collect();
        self.hosts = self.hosts.with_specs(specs);
        self
    }

    /// Orders the results by `compare` (the summary shows them in this order); hosts keep their results.
    pub fn sort_by(mut self, compare: impl FnMut(&HostResult, &HostResult) -> std::cmp::Ordering) -> Run {
        self.report.results.sort_by(compare);
        self
    }

    /// Each succeeded host's output turned into data by `parse`; a host it fails for fails with its reason.
    // Parsers fail with the host's own error, whatever its size: they run once per host, not in a hot loop.
    #[allow(clippy::result_large_err)]
    pub fn with_data(self, parse: impl Fn(&Output) -> Result<Data, HostError>) -> Run {
        self.map_results(|result| {
            if !result.ok() {
                return result;
            }
            let HostResult { host, outcome, elapsed } = result;
            let outcome = outcome.and_then(|mut output| match parse(&output) {
                Ok(data) => {
                    output.data = Some(data);
                    Ok(output)
                }
                Err(err) => Err(err),
            });
            HostResult { host, outcome, elapsed }
        })
    }

    /// Every result replaced by what `change` makes of it (hosts stay the same).
    pub fn map_results(mut self, change: impl FnMut(HostResult) -> HostResult) -> Run {
        self.report.results = std::mem::take(&mut self.report.results).into_iter().map(change).collect();
        self
    }

    /// The same run with every succeeded host's output dropped (a step's failure report replaces it), so
    /// that large outputs are not copied.
    pub fn skeleton(&self) -> Run {
        let results = self
            .results()
            .iter()
            .map(|result| {
                if result.ok() {
                    let outcome = Ok(Output { exit: Some(0), ..Output::default() });
                    HostResult { host: result.host.clone(), outcome, elapsed: result.elapsed }
                } else {
                    result.clone()
                }
            })
            .collect();
        Run { hosts: self.hosts.clone(), report: Report { results, ..self.report.clone_header() } }
    }
}

impl Report {
    /// Label, group and time without the results.
    fn clone_header(&self) -> Report {
        Report {
            label: self.label.clone(),
            group: self.group.clone(),
            results: Vec::new(),
            elapsed: self.elapsed,
        }
    }
}

/// The host set's specs by name, so that matching a thousand results to their hosts is not a thousand scans.
fn specs_by_name(hosts: &Hosts) -> HashMap<&str, &HostSpec> {
    hosts.specs().iter().map(|spec| (spec.name.as_str(), spec)).collect()
}

fn failure(host: &str, error: HostError) -> HostResult {
    HostResult { host: host.to_string(), outcome: Err(error), elapsed: Duration::ZERO }
}

/// What a command that changes hosts does instead in a dry run (`--check`).
#[derive(Clone, Copy, Debug)]
pub enum Preview<'a> {
    /// Shell code that changes nothing and prints a line per change the command would make; a host where it
    /// prints nothing is as asked already (`changed: false`).
    Script(&'a str),
    /// Nothing can tell beforehand what the command would change (a user's script): it is not run, and each
    /// host says so. The host is still reached, so a dry run still finds the hosts that are down.
    Unknown,
}

impl Preview<'_> {
    /// Shell code that says, on the host, that `command` was not run because its changes cannot be known.
    pub fn unknown_script(command: &str) -> String {
        unknown_preview(command)
    }
}

fn unknown_preview(command: &str) -> String {
    let first = command.lines().next().unwrap_or_default();
    let shown = if command.lines().nth(1).is_some() { format!("{first} …") } else { first.to_string() };
    format!(
        "printf 'dry run: would run %s; what it would change cannot be known beforehand\n' {}",
        crate::quote::quote(&shown)
    )
}

/// What an operation runs on: a host set (first step), or the run of the previous step, whose
/// succeeded hosts go on while its failed hosts keep their failure in the result.
pub enum On {
    /// Every host of the set.
    Hosts(Hosts),
    /// The hosts that succeeded in this run.
    After(Run),
}

impl From<&Hosts> for On {
    fn from(hosts: &Hosts) -> Self {
        On::Hosts(hosts.clone())
    }
}

impl From<Hosts> for On {
    fn from(hosts: Hosts) -> Self {
        On::Hosts(hosts)
    }
}

impl From<Run> for On {
    fn from(run: Run) -> Self {
        On::After(run)
    }
}

impl From<&Run> for On {
    fn from(run: &Run) -> Self {
        On::After(run.clone())
    }
}

impl On {
    /// The same target without the outputs, to fail in place of a call that could not run.
    pub fn skeleton(&self) -> On {
        match self {
            On::Hosts(hosts) => On::Hosts(hosts.clone()),
            On::After(run) => On::After(run.skeleton()),
        }
    }

    /// Runs `command` where this target says, and returns a run over the same hosts as the target:
    /// hosts that failed before keep their earlier outcome and are not contacted again.
    ///
    /// Nothing tells what a command may change, so in a dry run (`--check`) it is not run, and each host says
    /// so ([`Preview::Unknown`]): a dry run fails closed. A command that only reads goes through
    /// [`On::read`], one that changes hosts and can say what it would change through [`On::change`].
    pub fn exec(self, label: &str, command: &str) -> Run {
        self.change(label, command, Preview::Unknown)
    }

    /// Runs `command`, which must change nothing on the hosts (it reads a file, a state, a metric), where
    /// this target says, as [`On::exec`] does; it runs in a dry run too.
    pub fn read(self, label: &str, command: &str) -> Run {
        self.apply(label, &|hosts: &Hosts| hosts.driver().exec(hosts, label, command))
    }

    /// Whether the hosts' driver is doing a dry run.
    pub fn checking(&self) -> bool {
        match self {
            On::Hosts(hosts) => hosts.driver().checking(),
            On::After(run) => run.hosts().driver().checking(),
        }
    }

    /// Runs `command`, which changes hosts, where this target says, as [`On::exec`] does; in a dry run
    /// (`--check`) it runs `preview` instead, which changes nothing and says what would change.
    pub fn change(self, label: &str, command: &str, preview: Preview<'_>) -> Run {
        self.apply(label, &|hosts: &Hosts| {
            let driver = hosts.driver();
            if !driver.checking() {
                return driver.exec(hosts, label, command);
            }
            let (script, known) = match preview {
                Preview::Script(script) => (script.to_string(), true),
                // The label names what the user asked for; the command may be a wrapper around it.
                Preview::Unknown => (unknown_preview(label), false),
            };
            let mut results = driver.exec(hosts, label, &script);
            for result in &mut results {
                if let Ok(output) = &mut result.outcome {
                    output.changed = known.then_some(!output.stdout.is_empty());
                }
            }
            results
        })
    }

    /// Copies a file between this machine and the hosts where this target says, as [`On::exec`] runs a
    /// command.
    pub fn transfer(self, label: &str, transfer: &Transfer) -> Run {
        self.apply(label, &|hosts: &Hosts| hosts.driver().transfer(hosts, label, transfer))
    }

    fn apply(self, label: &str, work: &dyn Fn(&Hosts) -> Vec<HostResult>) -> Run {
        match self {
            On::Hosts(hosts) => Run::apply(hosts, label, work),
            On::After(previous) => {
                let Run { hosts, report } = previous;
                // Found by name rather than position: a user's step may have reordered the results.
                let by_name = specs_by_name(&hosts);
                let targets: Vec<HostSpec> = report
                    .results
                    .iter()
                    .filter(|r| r.ok())
                    .filter_map(|r| by_name.get(r.host.as_str()).map(|spec| (*spec).clone()))
                    .collect();
                let (mut fresh, elapsed) = if targets.is_empty() {
                    (HashMap::new(), Duration::ZERO)
                } else {
                    let run = Run::apply(hosts.with_specs(targets), label, work);
                    let elapsed = run.elapsed();
                    (run.report.results.into_iter().map(|r| (r.host.clone(), r)).collect(), elapsed)
                };
                let results = report
                    .results
                    .into_iter()
                    .map(|old| if old.ok() { fresh.remove(&old.host).unwrap_or(old) } else { old })
                    .collect();
                let report = Report { label: label.to_string(), group: report.group, results, elapsed };
                Run { hosts, report }
            }
        }
    }

    /// The same target with the commands of the steps after it run as root through sudo (the `sudo` step): a
    /// first step gives every host an empty success to go on from; after a run, its results stay as they are.
    pub fn as_root(self, label: &str) -> Run {
        match self {
            On::Hosts(hosts) => {
                let hosts = hosts.as_root();
                let ready = Output { exit: Some(0), ..Output::default() };
                let results = hosts
                    .specs()
                    .iter()
                    .map(|spec| HostResult {
                        host: spec.name.clone(),
                        outcome: Ok(ready.clone()),
                        elapsed: Duration::ZERO,
                    })
                    .collect();
                Run::collect(hosts, label, results, Duration::ZERO)
            }
            On::After(Run { hosts, report }) => Run { hosts: hosts.as_root(), report },
        }
    }

    /// A run in which every host this target would have run on fails with `error`, without contacting any.
    pub fn refuse(self, label: &str, error: HostError) -> Run {
        match self {
            On::Hosts(hosts) => {
                let results = hosts.specs().iter().map(|spec| failure(&spec.name, error.clone())).collect();
                Run::collect(hosts, label, results, Duration::ZERO)
            }
            On::After(Run { hosts, report }) => {
                let results = report
                    .results
                    .into_iter()
                    .map(|old| if old.ok() { failure(&old.host, error.clone()) } else { old })
                    .collect();
                let report = Report {
                    label: label.to_string(),
                    group: report.group,
                    results,
                    elapsed: Duration::ZERO,
                };
                Run { hosts, report }
            }
        }
    }
}
