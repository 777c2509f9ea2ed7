//! Host sets as pipelines see them: a named group, and the driver in the host process that does their I/O.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::inventory::HostSpec;
use crate::run::{HostError, HostResult, Run};

/// Everything a pipeline asks of the outside world. Implemented by the host process (the CLI, the live
/// host) and reached through a trait object, so that code in a hot-reloaded `ops` library calls back
/// into the host's own runtime and sessions instead of carrying a second copy of them.
pub trait Driver: Send + Sync {
    /// Runs `command` on every host of `hosts` and blocks until all are done; results in host order.
    fn exec(&self, hosts: &Hosts, label: &str, command: &str) -> Run;
    /// Shows a run to the user; this is what the `pretty` step does.
    fn show(&self, run: &Run);
}

/// A named set of hosts, bound to the driver that runs commands on them. Cheap to clone.
#[derive(Clone)]
pub struct Hosts {
    group: Arc<str>,
    specs: Arc<[HostSpec]>,
    driver: Arc<dyn Driver>,
}

impl Hosts {
    /// The hosts of `group`, driven by `driver`.
    pub fn new(group: &str, specs: Vec<HostSpec>, driver: Arc<dyn Driver>) -> Self {
        Self { group: group.into(), specs: specs.into(), driver }
    }

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The hosts, in inventory order.
    pub fn specs(&self) -> &[HostSpec] {
        &self.specs
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// True when the set has no hosts.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The host called `name` (as written in the inventory).
    pub fn spec(&self, name: &str) -> Option<&HostSpec> {
        self.specs.iter().find(|spec| spec.name == name)
    }

    /// The same group and driver over `specs` instead (e.g. the hosts a step narrowed to).
    pub fn with_specs(&self, specs: Vec<HostSpec>) -> Hosts {
        Hosts { group: self.group.clone(), specs: specs.into(), driver: self.driver.clone() }
    }

    /// Runs a command line on every host through the driver.
    pub fn exec(&self, label: &str, command: &str) -> Run {
        let mut run = self.driver.exec(self, label, command);
        run.hosts = Some(self.clone());
        run
    }

    /// Shows a run through the driver.
    pub fn show(&self, run: &Run) {
        self.driver.show(run);
    }
}

impl fmt::Debug for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hosts").field("group", &self.group).field("hosts", &self.specs.len()).finish_non_exhaustive()
    }
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
    /// Runs `command` where this target says, and returns a run over the same hosts as the target:
    /// hosts that failed before keep their earlier outcome and are not contacted again.
    pub fn exec(self, label: &str, command: &str) -> Run {
        match self {
            On::Hosts(hosts) => hosts.exec(label, command),
            On::After(previous) => {
                // A run built by hand has no host set to go on with; its succeeded hosts say so.
                let Some(hosts) = previous.hosts.clone() else {
                    return On::After(previous).refuse(label, HostError::Unbound);
                };
                // Where each succeeded host goes on, found by name rather than position: a user's step
                // may have reordered or dropped results.
                let targets: Vec<Option<HostSpec>> =
                    previous.results.iter().map(|r| if r.ok() { hosts.spec(&r.host).cloned() } else { None }).collect();
                let specs: Vec<HostSpec> = targets.iter().flatten().cloned().collect();
                let (mut fresh, elapsed) = if specs.is_empty() {
                    (Vec::new().into_iter(), Duration::ZERO)
                } else {
                    let run = hosts.with_specs(specs).exec(label, command);
                    (run.results.into_iter(), run.elapsed)
                };
                let results = previous
                    .results
                    .into_iter()
                    .zip(targets)
                    .map(|(old, target)| match target {
                        Some(_) => fresh.next().unwrap_or_else(|| unbound_host(&old)),
                        None if old.ok() => unbound_host(&old),
                        None => old,
                    })
                    .collect();
                Run { label: label.to_string(), group: previous.group, results, elapsed, hosts: Some(hosts) }
            }
        }
    }

    /// A run in which every host this target would have run on fails with `error`, without contacting any.
    pub fn refuse(self, label: &str, error: HostError) -> Run {
        let fail = |host: &str| HostResult { host: host.to_string(), outcome: Err(error.clone()), elapsed: Duration::ZERO };
        match self {
            On::Hosts(hosts) => Run {
                label: label.to_string(),
                group: hosts.group().to_string(),
                results: hosts.specs().iter().map(|spec| fail(&spec.name)).collect(),
                elapsed: Duration::ZERO,
                hosts: Some(hosts),
            },
            On::After(previous) => {
                let results = previous.results.into_iter().map(|old| if old.ok() { fail(&old.host) } else { old }).collect();
                Run { label: label.to_string(), results, elapsed: Duration::ZERO, ..previous }
            }
        }
    }
}

/// A succeeded host that has nowhere to go on: its run has no host set, or the set does not list it.
fn unbound_host(old: &HostResult) -> HostResult {
    HostResult { host: old.host.clone(), outcome: Err(HostError::Unbound), elapsed: Duration::ZERO }
}
