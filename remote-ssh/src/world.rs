//! The world the host process gives to pipelines: commands and copies go to the session pool on the host's
//! runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::exec::OnOutput;
use crate::pool::{ExecOptions, HostDone, SessionPool};
use remote_core::{HostError, HostResult, Hosts, Transfer, World};

/// Makes the per-host callback for one fan-out of `hosts` hosts labelled `label` (e.g. a progress bar).
pub type OnFanOut = Arc<dyn Fn(&str, usize) -> Option<HostDone> + Send + Sync>;

/// Runs pipeline commands over a [`SessionPool`] on a tokio runtime that the host owns.
pub struct SessionWorld {
    pool: SessionPool,
    runtime: Handle,
    options: ExecOptions,
    on_fan_out: Option<OnFanOut>,
    /// Where output goes as it arrives, while a streamed line runs (`stream` at the prompt). Why a std Mutex:
    /// held only to clone or replace the handle, never across an await.
    echo: std::sync::Mutex<Option<OnOutput>>,
    /// A dry run (`--check`, or `check LINE` while that line runs); starts as the options say.
    check: AtomicBool,
}

impl SessionWorld {
    /// A world over `pool` on `runtime`, which must be a multi-thread runtime (its workers carry the
    /// I/O while a pipeline blocks).
    pub fn new(pool: SessionPool, runtime: Handle, options: ExecOptions) -> Self {
        Self {
            pool,
            runtime,
            on_fan_out: None,
            check: AtomicBool::new(options.check),
            options,
            echo: std::sync::Mutex::new(None),
        }
    }

    /// The pool the commands go through.
    pub fn pool(&self) -> &SessionPool {
        &self.pool
    }

    /// Sends every command's output to `echo` as it arrives from now on, or no more with `None`.
    pub fn set_echo(&self, echo: Option<OnOutput>) {
        *self.echo.lock().unwrap_or_else(|e| e.into_inner()) = echo;
    }

    /// Makes what runs from now on a dry run (`true`) or a real one.
    pub fn set_check(&self, check: bool) {
        self.check.store(check, Ordering::SeqCst);
    }

    /// Calls `on_fan_out` at the start of every fan-out, for progress display.
    pub fn with_fan_out(mut self, on_fan_out: OnFanOut) -> Self {
        self.on_fan_out = Some(on_fan_out);
        self
    }
}

impl World for SessionWorld {
    fn exec(&self, hosts: &Hosts, label: &str, command: &str) -> Vec<HostResult> {
        let mut options = self.options.clone();
        match self.echo.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            Some(echo) => options.on_output = Some(echo),
            // Streamed lines are the progress (`stream LINE`): a bar redrawn between them would leave a stale
            // full-width line after each.
            None => {
                if let Some(on_fan_out) = &self.on_fan_out {
                    options.on_host_done = on_fan_out(label, hosts.len()).or(options.on_host_done);
                }
            }
        }
        self.block_on(hosts, self.pool.exec(hosts.specs(), command, &options))
    }

    fn checking(&self) -> bool {
        self.check.load(Ordering::SeqCst)
    }

    fn transfer(&self, hosts: &Hosts, label: &str, transfer: &Transfer) -> Vec<HostResult> {
        let mut options = self.options.clone();
        options.check = self.checking();
        if let Some(on_fan_out) = &self.on_fan_out {
            options.on_host_done = on_fan_out(label, hosts.len()).or(options.on_host_done);
        }
        self.block_on(hosts, self.pool.transfer(hosts.specs(), transfer, &options))
    }
}

impl SessionWorld {
    /// Blocks on `work` from a pipeline's thread, whatever runtime (if any) that thread is in; a panic of the
    /// thread running it fails every host of `hosts` rather than the caller.
    fn block_on(
        &self,
        hosts: &Hosts,
        work: impl std::future::Future<Output = Vec<HostResult>> + Send,
    ) -> Vec<HostResult> {
        match Handle::try_current().map(|current| current.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| self.runtime.block_on(work)),
            Ok(_) => std::thread::scope(|scope| scope.spawn(|| self.runtime.block_on(work)).join())
                .unwrap_or_else(|_| {
                    let cause = "the thread running the commands panicked".to_string();
                    let failed = |name: &str| HostResult {
                        host: name.to_string(),
                        outcome: Err(HostError::Internal { cause: cause.clone() }),
                        elapsed: Default::default(),
                    };
                    hosts.specs().iter().map(|spec| failed(&spec.name)).collect()
                }),
            Err(_) => self.runtime.block_on(work),
        }
    }
}
