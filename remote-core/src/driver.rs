//! The driver the host process gives to pipelines: commands go to the session pool on the host's runtime.

use std::sync::Arc;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::hosts::{Driver, Hosts};
use crate::pool::{ExecOptions, HostDone, SessionPool};
use crate::run::Run;

/// Makes the per-host callback for one fan-out of `hosts` hosts labelled `label` (e.g. a progress bar).
pub type OnFanOut = Arc<dyn Fn(&str, usize) -> Option<HostDone> + Send + Sync>;

/// Runs pipeline commands over a [`SessionPool`] on a tokio runtime that the host owns.
pub struct SessionDriver {
    pool: SessionPool,
    runtime: Handle,
    options: ExecOptions,
    on_fan_out: Option<OnFanOut>,
    show: Box<dyn Fn(&Run) + Send + Sync>,
}

impl SessionDriver {
    /// A driver over `pool` on `runtime`; `show` is what the `pretty` step does with a run.
    pub fn new(pool: SessionPool, runtime: Handle, options: ExecOptions, show: impl Fn(&Run) + Send + Sync + 'static) -> Self {
        Self { pool, runtime, options, on_fan_out: None, show: Box::new(show) }
    }

    /// Calls `on_fan_out` at the start of every fan-out, for progress display.
    pub fn with_fan_out(mut self, on_fan_out: OnFanOut) -> Self {
        self.on_fan_out = Some(on_fan_out);
        self
    }
}

impl Driver for SessionDriver {
    fn exec(&self, hosts: &Hosts, label: &str, command: &str) -> Run {
        let mut options = self.options.clone();
        if let Some(on_fan_out) = &self.on_fan_out {
            options.on_host_done = on_fan_out(label, hosts.len()).or(options.on_host_done);
        }
        let work = self.pool.exec(hosts.group(), hosts.specs(), label, command, &options);
        // Pipelines are synchronous; they are called off the runtime (the CLI's main thread, or a blocking
        // thread of the live host). On a runtime worker thread, `block_in_place` keeps `block_on` legal.
        match Handle::try_current() {
            Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.runtime.block_on(work))
            }
            _ => self.runtime.block_on(work),
        }
    }

    fn show(&self, run: &Run) {
        (self.show)(run);
    }
}
