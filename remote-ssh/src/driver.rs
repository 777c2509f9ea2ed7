//! The driver the host process gives to pipelines: commands go to the session pool on the host's runtime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::exec::OnOutput;
use crate::pool::{ExecOptions, HostDone, SessionPool};
use remote_core::hosts::{Driver, Hosts, Notice, Notifier, Transfer};
use remote_core::pretty::View;
use remote_core::report::{HostError, HostResult, Report};
use remote_core::stocks::{Sample, Shape, Stocks};

/// What `pretty` and `table` do with a report in this process.
type Show = dyn Fn(&Report, View) + Send + Sync;

/// Makes the per-host callback for one fan-out of `hosts` hosts labelled `label` (e.g. a progress bar).
pub type OnFanOut = Arc<dyn Fn(&str, usize) -> Option<HostDone> + Send + Sync>;

/// Runs pipeline commands over a [`SessionPool`] on a tokio runtime that the host owns.
pub struct SessionDriver {
    pool: SessionPool,
    runtime: Handle,
    options: ExecOptions,
    on_fan_out: Option<OnFanOut>,
    show: Box<Show>,
    /// Where `collect` and `publish` send samples: set once when the live host starts its hub.
    stocks: OnceLock<Arc<dyn Stocks>>,
    /// Where output goes as it arrives, while a streamed line runs (`stream` at the prompt). Why a std Mutex:
    /// held only to clone or replace the handle, never across an await.
    echo: std::sync::Mutex<Option<OnOutput>>,
    /// Where `email` and `webhook` send runs: set once by the host process.
    notifier: OnceLock<Arc<dyn Notifier>>,
    /// A dry run (`--check`, or `check LINE` while that line runs); starts as the options say.
    check: AtomicBool,
}

impl SessionDriver {
    /// A driver over `pool` on `runtime`, which must be a multi-thread runtime (its workers carry the
    /// I/O while a pipeline blocks); `show` is what the `pretty` step does with a run.
    pub fn new(
        pool: SessionPool,
        runtime: Handle,
        options: ExecOptions,
        show: impl Fn(&Report, View) + Send + Sync + 'static,
    ) -> Self {
        Self {
            pool,
            runtime,
            on_fan_out: None,
            show: Box::new(show),
            stocks: OnceLock::new(),
            check: AtomicBool::new(options.check),
            options,
            echo: std::sync::Mutex::new(None),
            notifier: OnceLock::new(),
        }
    }

    /// The pool the commands go through.
    pub fn pool(&self) -> &SessionPool {
        &self.pool
    }

    /// Sends the samples of `collect` and `publish` to `stocks` from now on (once; later calls are ignored).
    pub fn use_stocks(&self, stocks: Arc<dyn Stocks>) {
        let _ = self.stocks.set(stocks);
    }

    /// Sends what `email` and `webhook` send through `notifier` from now on (once; later calls are ignored).
    pub fn use_notifier(&self, notifier: Arc<dyn Notifier>) {
        let _ = self.notifier.set(notifier);
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

impl Driver for SessionDriver {
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

    fn notify(&self, report: &Report, notice: &Notice<'_>) -> Result<String, String> {
        match self.notifier.get() {
            Some(notifier) => notifier.notify(report, notice, self.checking()),
            None => Err("this command cannot send notices".into()),
        }
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

    fn show(&self, report: &Report, view: View) {
        (self.show)(report, view);
    }

    fn record(&self, samples: &[Sample]) {
        if let Some(stocks) = self.stocks.get() {
            stocks.record(samples);
        }
    }

    fn publish(&self, stock: &str, shape: Shape, samples: &[Sample]) {
        if let Some(stocks) = self.stocks.get() {
            stocks.publish(stock, shape, samples);
        }
    }
}

impl SessionDriver {
    /// Blocks on `work` from a pipeline's thread, whatever runtime (if any) that thread is in; a panic of the
    /// thread running it fails every host of `hosts` rather than the caller.
    fn block_on(&self, hosts: &Hosts, work: impl std::future::Future<Output = Vec<HostResult>> + Send) -> Vec<HostResult> {
        match Handle::try_current().map(|current| current.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| self.runtime.block_on(work)),
            Ok(_) => std::thread::scope(|scope| scope.spawn(|| self.runtime.block_on(work)).join()).unwrap_or_else(|_| {
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
