//! Host sets as pipelines see them: a named group, and the driver in the host process that does their I/O:
//! the world it acts on (commands, copies) and the outlets for what it produces (reports, samples, messages).

use std::fmt;
use std::sync::Arc;

use crate::pretty::View;
use crate::report::{HostResult, Report};
use crate::spec::HostSpec;
use crate::stocks::{Sample, Shape};

/// The world a pipeline acts on: commands and file copies on hosts. The transport (remote-ssh) implements it
/// over SSH; nothing else about the host process passes through it.
///
/// Reached through a trait object, so that code in a hot-reloaded `ops` library calls back into the host's
/// own runtime and sessions instead of carrying a second copy of them.
pub trait World: Send + Sync {
    /// Runs `command` on every host of `hosts` and blocks until all are done: one result per host, named
    /// as the host is (`label` is what ran, for progress displays).
    fn exec(&self, hosts: &Hosts, label: &str, command: &str) -> Vec<HostResult>;
    /// Copies a file between this machine and every host of `hosts` (`upload`, `download`, `sync`), one
    /// result per host that says whether the host's copy changed. By default every host fails: a world that
    /// cannot copy files.
    fn transfer(&self, hosts: &Hosts, label: &str, transfer: &Transfer) -> Vec<HostResult> {
        let _ = label;
        let cause = format!("this driver cannot copy files ({transfer:?})");
        hosts
            .specs()
            .iter()
            .map(|spec| HostResult {
                host: spec.name.clone(),
                outcome: Err(crate::report::HostError::Internal { cause: cause.clone() }),
                elapsed: Default::default(),
            })
            .collect()
    }
    /// True in a dry run (`--check`, `check LINE` at the prompt): operations that change hosts then only say
    /// what they would change ([`crate::On::change`]), and copies only what they would send. False by
    /// default.
    fn checking(&self) -> bool {
        false
    }
}

/// Why a message (an email, a webhook post) was not sent, as the host's outbox says it: its reasons are the
/// SMTP and HTTP libraries' and the inventory's, which the model does not know.
pub type SendError = Box<dyn std::error::Error + Send + Sync>;

/// Where results leave the model in the host process: shown on the terminal, kept in the history, sent to the
/// hub, mailed or posted. The host binary implements it; the transport never sees it.
pub trait Outlets: Send + Sync {
    /// Shows a report to the user as `view` says; this is what the `pretty` and `table` steps do.
    fn show(&self, report: &Report, view: View);
    /// Keeps samples of hosts' typed data in the history, where there is one (`collect`). Nothing by default.
    fn record(&self, samples: &[Sample]) {
        let _ = samples;
    }
    /// Sends the samples of the chart `stock` to the hub, where there is one (`publish`). Nothing by default.
    fn publish(&self, stock: &str, shape: Shape, samples: &[Sample]) {
        let _ = (stock, shape, samples);
    }
    /// Sends `report` on as `message` says (the `email` and `webhook` steps): what was done (e.g. "sent to
    /// …"), or why not; in a dry run (`dry_run`) nothing is sent. By default nothing can be sent.
    fn notify(&self, report: &Report, message: &Message<'_>, dry_run: bool) -> Result<String, SendError> {
        let _ = (report, message, dry_run);
        Err("this command cannot send email or webhook posts".into())
    }
}

/// A closure that shows reports is outlets that keep and send nothing: what a test or a benchmark needs.
impl<F: Fn(&Report, View) + Send + Sync> Outlets for F {
    fn show(&self, report: &Report, view: View) {
        self(report, view);
    }
}

/// Everything a pipeline asks of the outside world: the [`World`] it acts on and the host's [`Outlets`] for
/// what it produces. Cheap to clone.
#[derive(Clone)]
pub struct Driver {
    world: Arc<dyn World>,
    outlets: Arc<dyn Outlets>,
}

impl Driver {
    /// Commands and copies go to `world`; reports, samples and messages to `outlets`.
    pub fn new(world: Arc<dyn World>, outlets: Arc<dyn Outlets>) -> Self {
        Driver { world, outlets }
    }

    /// Runs `command` on every host of `hosts` (see [`World::exec`]).
    pub fn exec(&self, hosts: &Hosts, label: &str, command: &str) -> Vec<HostResult> {
        self.world.exec(hosts, label, command)
    }

    /// Copies a file between this machine and every host of `hosts` (see [`World::transfer`]).
    pub fn transfer(&self, hosts: &Hosts, label: &str, transfer: &Transfer) -> Vec<HostResult> {
        self.world.transfer(hosts, label, transfer)
    }

    /// True in a dry run (see [`World::checking`]).
    pub fn checking(&self) -> bool {
        self.world.checking()
    }

    /// Shows `report` as `view` says (`pretty`, `table`).
    pub fn show(&self, report: &Report, view: View) {
        self.outlets.show(report, view);
    }

    /// Keeps samples in the history (`collect`).
    pub fn record(&self, samples: &[Sample]) {
        self.outlets.record(samples);
    }

    /// Sends one chart's samples to the hub (`publish`).
    pub fn publish(&self, stock: &str, shape: Shape, samples: &[Sample]) {
        self.outlets.publish(stock, shape, samples);
    }

    /// Sends `report` on as `message` says (`email`, `webhook`); nothing is sent in a dry run.
    pub fn notify(&self, report: &Report, message: &Message<'_>) -> Result<String, SendError> {
        self.outlets.notify(report, message, self.checking())
    }
}

/// A run's report sent on (`email`, `webhook`): an email or a post. ("Notices" are the prompt's own lines.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// An email to `to` (addresses separated by commas; empty: `[notify]`'s `to`) with `subject`, through the
    /// inventory's `[notify]` server.
    Email {
        /// The recipients.
        to: &'a str,
        /// The subject line.
        subject: &'a str,
    },
    /// The run's JSON document, posted to `url`.
    Webhook {
        /// Where to post it: a name from the inventory's `[webhooks]`, or an `http://`/`https://` URL.
        url: &'a str,
    },
}

/// A file to copy between this machine and hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// The local file `local` to the path `remote` on every host.
    Upload {
        /// The file on this machine.
        local: std::path::PathBuf,
        /// Where it goes on each host (a file path; `~/` is the login user's home).
        remote: String,
    },
    /// The folder `local_dir` to `remote_dir` on every host: only the files whose size, modification time or
    /// mode differ (or, with `checksum`, whose content differs) are sent; with `delete`, what the host has
    /// there and the local folder has not is removed.
    Sync {
        /// The folder on this machine.
        local_dir: std::path::PathBuf,
        /// The folder on each host (made if missing).
        remote_dir: String,
        /// Remove files and folders that are not in `local_dir`.
        delete: bool,
        /// Compare files of the same size by their SHA-256 (`sha256sum` on the host) rather than by time and
        /// mode.
        checksum: bool,
    },
    /// The file `remote` of every host to `local_dir/HOST/NAME` on this machine.
    Download {
        /// The file on each host.
        remote: String,
        /// The folder that gets a folder per host.
        local_dir: std::path::PathBuf,
    },
}

/// A named set of hosts, bound to the driver that runs commands on them. Cheap to clone.
#[derive(Clone)]
pub struct Hosts {
    group: Arc<str>,
    specs: Arc<[HostSpec]>,
    driver: Driver,
}

impl Hosts {
    /// The hosts of `group`, driven by `driver`.
    pub fn new(group: &str, specs: Vec<HostSpec>, driver: Driver) -> Self {
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

    /// The same hosts with their commands run as root through sudo (what `become = true` does for a group).
    pub fn as_root(&self) -> Hosts {
        self.with_specs(
            self.specs.iter().map(|spec| HostSpec { become_root: true, ..spec.clone() }).collect(),
        )
    }

    /// The driver that does this set's I/O.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }
}

impl fmt::Debug for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hosts")
            .field("group", &self.group)
            .field("hosts", &self.specs.len())
            .finish_non_exhaustive()
    }
}
