//! Keeps one SSH connection per host open and fans commands out over them, with bounded concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::auth::KeyCache;
use crate::connection::{Caches, ConnectOptions, Connection};
use crate::exec::{
    Cancel, CommandLimits, Deadline, Echo, Elevation, KillRoute, OnOutput, OutputBudget, cancelled, passed,
    run_command,
};
use remote_core::{HostError, HostResult, HostSpec, Output, Transfer};

/// How the pool opens and uses connections.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Connect timeout and keepalive.
    pub connect: ConnectOptions,
    /// Handshakes in flight at once, across all hosts; keeps a fan-out to a big fleet within fd limits
    /// and within what one controller core can do.
    pub max_connecting: usize,
    /// Commands in flight per connection. OpenSSH refuses the 11th channel by default (`MaxSessions 10`),
    /// so this stays below it and extra work waits its turn.
    pub channels_per_host: usize,
    /// The key from `REMOTE_KEY`: when set, the one key offered to every host, instead of files and the
    /// agent.
    pub identity: Option<crate::auth::Identity>,
    /// The password sudo asks for on hosts that run commands as root (`become`), when one was given.
    pub become_password: Option<crate::auth::Secret>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            connect: ConnectOptions::default(),
            max_connecting: 64,
            channels_per_host: 8,
            identity: None,
            become_password: None,
        }
    }
}

/// What a host's connection is kept under: running as root is a matter of the command line, not of the
/// connection, so a host's one connection serves both. Whoever compares specs with the pool's (see
/// [`SessionPool::retain`]) compares these.
pub fn connection_key(spec: &HostSpec) -> std::borrow::Cow<'_, HostSpec> {
    if spec.become_root {
        std::borrow::Cow::Owned(HostSpec { become_root: false, ..spec.clone() })
    } else {
        std::borrow::Cow::Borrowed(spec)
    }
}

/// Called as each host finishes.
pub type HostDone = Arc<dyn Fn(&HostResult) + Send + Sync>;

/// Per-call options of a fan-out.
#[derive(Clone)]
pub struct ExecOptions {
    /// Limit per command; on expiry the remote process is killed.
    pub timeout: Duration,
    /// Bytes of stdout and of stderr kept per host.
    pub max_output: usize,
    /// Bytes kept from all hosts of one fan-out together (`--max-output`).
    pub max_output_total: usize,
    /// Which fan-out these options belong to (0: none), so that its hosts can share what one of them learned.
    pub fan_out: u64,
    /// The budget the hosts of one fan-out share; [`SessionPool::exec`] makes a fresh one of
    /// `max_output_total` for each fan-out, and a single [`SessionPool::exec_on`] without one has its own.
    pub budget: Option<Arc<OutputBudget>>,
    /// Called as each host finishes (e.g. to advance a progress bar).
    pub on_host_done: Option<HostDone>,
    /// When set to `true`, commands still running are killed (their output says so in `stopped`) and hosts
    /// still waiting for a connection or channel report `NotStarted`, with the cause.
    pub cancel: Option<Cancel>,
    /// When the whole run must be over (`--deadline`): commands still running then are killed like timed-out
    /// ones, and hosts still waiting for a connection or channel, or reached only after it, report
    /// `DeadlinePassed`.
    pub deadline: Option<Deadline>,
    /// Where each host's output goes as it arrives (`--stream`), besides being kept in its result.
    pub on_output: Option<OnOutput>,
    /// A dry run (`--check`): operations that change hosts say what they would change and change nothing.
    pub check: bool,
    /// Tries after the first for a host whose connection or command failed (`--retries`); 0: none.
    pub retries: u32,
    /// The wait before the first retry (`--retry-delay`); it doubles for each one after, up to a minute.
    pub retry_delay: Duration,
}

/// `work` (waiting for a channel or a connection), unless the run is cancelled or its deadline passes first:
/// then nothing has run on the host, and it says so.
async fn before_start<T>(
    work: impl std::future::Future<Output = T>,
    options: &ExecOptions,
) -> Result<T, HostError> {
    let deadline = options.deadline;
    tokio::select! {
        done = work => Ok(done),
        cause = cancelled(options.cancel.as_ref()) => Err(HostError::NotStarted { cause }),
        () = passed(deadline) => Err(HostError::DeadlinePassed { after: deadline.map(|d| d.after).unwrap_or_default() }),
    }
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            max_output: 64 << 20,
            max_output_total: 256 << 20,
            budget: None,
            fan_out: 0,
            on_host_done: None,
            cancel: None,
            deadline: None,
            on_output: None,
            check: false,
            retries: 0,
            retry_delay: Duration::from_secs(1),
        }
    }
}

/// The longest wait between two tries of a host.
const RETRY_DELAY_CAP: Duration = Duration::from_secs(60);

/// Whether a host's outcome is worth another try under `--retries`: a connection that failed to open or
/// broke, or a command that failed or outlived its timeout. Never a host key, an authentication, a setting or
/// an argument (another try cannot change them, and a host key must not be asked again until it passes), nor
/// a run that was cancelled or is past its deadline. A jump host's failure is not tried again either: it
/// carries its cause as text only, which may be a host key or a login.
fn retryable(outcome: &Result<Output, HostError>) -> bool {
    match outcome {
        Ok(output) => match &output.stopped {
            Some(stopped) => matches!(stopped.reason, remote_core::StopReason::Timeout { .. }),
            None => !output.success(),
        },
        Err(error) => retryable_error(error),
    }
}

fn retryable_error(error: &HostError) -> bool {
    matches!(
        error,
        HostError::Resolve { .. }
            | HostError::ConnectRefused { .. }
            | HostError::ConnectTimeout { .. }
            | HostError::Connect { .. }
            | HostError::Handshake { .. }
            | HostError::Disconnected { .. }
            | HostError::ChannelRefused { .. }
    )
}

/// Runs `attempt` until it succeeds, fails in a way another try cannot mend, or has been tried
/// `options.retries` times more, waiting `retry_delay` (doubling, at most a minute) in between; a cancel or
/// the deadline ends the wait with the last outcome. The outcome says how many tries it took.
async fn with_retries<F, Fut>(options: &ExecOptions, attempt: F) -> Result<Output, HostError>
where
    F: Fn(&ExecOptions) -> Fut,
    Fut: std::future::Future<Output = Result<Output, HostError>>,
{
    let mut tries: u32 = 1;
    let mut delay = options.retry_delay.min(RETRY_DELAY_CAP);
    let mut before: Option<Result<Output, HostError>> = None;
    loop {
        // Each round of retries is a fan-out of its own (real ones count up from 1, far below 2^48): hosts
        // behind one dead jump host still learn its failure from each other instead of each reconnecting in
        // turn, while no retry is answered by the failure of the try before it.
        let round = match (tries, options.fan_out) {
            (1, _) | (_, 0) => options.clone(),
            (_, fan_out) => ExecOptions { fan_out: fan_out | (u64::from(tries) << 48), ..options.clone() },
        };
        let outcome = attempt(&round).await;
        // A retry that could not start (cancelled, or past the deadline) says nothing new of the host: the
        // try before it, which ran, is what it did.
        if let (Err(HostError::NotStarted { .. } | HostError::DeadlinePassed { .. }), Some(before)) =
            (&outcome, before.take())
        {
            return tried(before, tries - 1);
        }
        let done = tries > options.retries || !retryable(&outcome);
        let past_deadline = options.deadline.is_some_and(|d| tokio::time::Instant::now() + delay >= d.at);
        if done || past_deadline {
            return tried(outcome, tries);
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = cancelled(options.cancel.as_ref()) => return tried(outcome, tries),
        }
        before = Some(outcome);
        tries += 1;
        delay = (delay * 2).min(RETRY_DELAY_CAP);
    }
}

/// `outcome`, the last of `tries`, saying how many there were: an output counts its retries, and an error
/// another try could have mended says it gave up (one that no try can mend, a host key say, stays as it is).
fn tried(outcome: Result<Output, HostError>, tries: u32) -> Result<Output, HostError> {
    match outcome {
        Ok(output) => Ok(Output { retries: tries - 1, ..output }),
        Err(error) if tries > 1 && retryable_error(&error) => {
            Err(HostError::GaveUp { tries, last: Box::new(error) })
        }
        Err(error) => Err(error),
    }
}

/// A cheap, cloneable handle to the shared pool of connections.
#[derive(Clone)]
pub struct SessionPool {
    inner: Arc<Inner>,
}

struct Inner {
    config: PoolConfig,
    /// Private keys and known_hosts files read from disk.
    caches: Caches,
    /// Bounds concurrent handshakes (see [`PoolConfig::max_connecting`]).
    connecting: Semaphore,
    /// One slot per distinct target. Why a std Mutex: held only to find or insert a slot, never across I/O.
    slots: Mutex<HashMap<HostSpec, Arc<Slot>>>,
}

/// The connection to one host and the gate on its channels.
struct Slot {
    /// Why a tokio Mutex: it is held across the handshake, so that concurrent commands to one host
    /// wait for that one connection instead of each opening their own.
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// Bounds channels in flight on this connection (see [`PoolConfig::channels_per_host`]); shrinks to what
    /// the server allows when it refuses a channel while others are open.
    channels: Semaphore,
    /// Permits the gate has in all (in flight + available), so that the number in flight can be told. Why a
    /// std Mutex: held only to compare and decrement, never across an await.
    capacity: Mutex<usize>,
    /// The last failure to connect and the fan-out it happened in: the other commands of that fan-out that
    /// wait on this slot (targets behind a jump host, most of all) get the failure at once instead of each
    /// trying again for a whole timeout. A later fan-out (the next line at the prompt) tries again.
    failed: Mutex<Option<(u64, HostError)>>,
}

impl Slot {
    /// An open connection is in the slot now (one being opened does not count yet).
    fn is_open(&self) -> bool {
        self.connection.try_lock().is_ok_and(|c| c.as_ref().is_some_and(|c| !c.is_closed()))
    }
}

impl SessionPool {
    /// An empty pool; connections open on first use.
    pub fn new(config: PoolConfig) -> Self {
        let connecting = Semaphore::new(config.max_connecting.max(1));
        let caches = Caches { keys: KeyCache::with_identity(config.identity.clone()), ..Caches::default() };
        Self { inner: Arc::new(Inner { config, caches, connecting, slots: Mutex::default() }) }
    }

    /// Runs `command` (a complete `sh` command line) on every host concurrently; results keep the order of
    /// `hosts`.
    pub async fn exec(&self, hosts: &[HostSpec], command: &str, options: &ExecOptions) -> Vec<HostResult> {
        let command: Arc<str> = Arc::from(command);
        static FAN_OUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let fan_out = FAN_OUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let options = ExecOptions {
            budget: Some(OutputBudget::new(options.max_output_total)),
            fan_out,
            ..options.clone()
        };
        self.fan_out(hosts, &options, move |pool, spec, options| {
            let command = command.clone();
            async move { pool.exec_outcome(&spec, &command, &options).await }
        })
        .await
    }

    /// Copies a file between this machine and every host concurrently over their kept-open connections
    /// (SFTP); results keep the order of `hosts`.
    pub async fn transfer(
        &self,
        hosts: &[HostSpec],
        transfer: &Transfer,
        options: &ExecOptions,
    ) -> Vec<HostResult> {
        let transfer = Arc::new(transfer.clone());
        let hashes = Arc::new(crate::sftp::LocalHashes::default());
        self.fan_out(hosts, options, move |pool, spec, options| {
            let (transfer, hashes) = (transfer.clone(), hashes.clone());
            async move { pool.transfer_outcome(&spec, &transfer, &options, &hashes).await }
        })
        .await
    }

    /// Does `work` for every host in a task of its own, each result timed and announced (`on_host_done`) as
    /// it comes; a task that panics fails its host instead of the fan-out.
    async fn fan_out<F, W>(&self, hosts: &[HostSpec], options: &ExecOptions, work: W) -> Vec<HostResult>
    where
        W: Fn(SessionPool, HostSpec, ExecOptions) -> F + Clone + Send + Sync + 'static,
        F: std::future::Future<Output = Result<Output, HostError>> + Send + 'static,
    {
        let started = Instant::now();
        let tasks: Vec<_> = hosts
            .iter()
            .map(|spec| {
                let host = spec.name.clone();
                let on_host_done = options.on_host_done.clone();
                let (pool, spec, options, work) = (self.clone(), spec.clone(), options.clone(), work.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome =
                        with_retries(&options, |options| work(pool.clone(), spec.clone(), options.clone()))
                            .await;
                    let result = HostResult { host, outcome, elapsed: started.elapsed() };
                    if let Some(callback) = &on_host_done {
                        callback(&result);
                    }
                    result
                })
            })
            .collect();
        let mut results = Vec::with_capacity(hosts.len());
        for (task, spec) in tasks.into_iter().zip(hosts) {
            results.push(task.await.unwrap_or_else(|panic| HostResult {
                host: spec.name.clone(),
                outcome: Err(HostError::Internal {
                    cause: format!("the task running this host failed: {panic}"),
                }),
                elapsed: started.elapsed(),
            }));
        }
        results
    }

    async fn transfer_outcome(
        &self,
        spec: &HostSpec,
        transfer: &Transfer,
        options: &ExecOptions,
        hashes: &crate::sftp::LocalHashes,
    ) -> Result<Output, HostError> {
        // SFTP paths are C strings on the server: a NUL would cut one short, and a copy would land elsewhere.
        let paths: Vec<&str> = match transfer {
            Transfer::Upload { remote, .. } | Transfer::Download { remote, .. } => vec![remote],
            Transfer::Sync { remote_dir, .. } => vec![remote_dir],
        };
        if paths.iter().any(|path| path.contains('\0')) {
            return Err(HostError::BadArgument {
                cause: "the path on the host holds a NUL byte, which SFTP cannot carry".into(),
            });
        }
        let slot = self.slot(spec);
        let (cancel, deadline) = (options.cancel.as_ref(), options.deadline);
        let permit = before_start(slot.channels.acquire(), options).await?;
        let _permit = permit.map_err(|e| HostError::Internal { cause: format!("channel gate: {e}") })?;
        let connection = before_start(self.connection(&slot, spec, options.fan_out), options).await??;
        // Bounded like a command: by the timeout (a host frozen mid-copy), a cancel and the run's deadline.
        // Stopped halfway, the copy leaves the target whole: only the final rename replaces it.
        let temporaries = crate::sftp::Temporaries::default();
        let why = tokio::select! {
            outcome = crate::sftp::transfer(&connection, &spec.name, transfer, options.check, hashes, &temporaries) => return outcome,
            () = tokio::time::sleep(options.timeout) => format!("timed out after {}", humantime::format_duration(options.timeout)),
            cause = cancelled(cancel) => format!("cancelled ({cause})"),
            () = passed(deadline) => {
                format!("the run's deadline ({}) passed", humantime::format_duration(deadline.map(|d| d.after).unwrap_or_default()))
            }
        };
        let left = temporaries.clean_up(&connection).await;
        let path = match transfer {
            Transfer::Upload { remote, .. } | Transfer::Download { remote, .. } => remote,
            Transfer::Sync { remote_dir, .. } => remote_dir,
        };
        Err(HostError::RemoteFile {
            path: path.clone(),
            cause: format!(
                "{why} during the copy; a file is replaced only by the rename of its complete copy, so each target is the \
                 old file or the new one{left}"
            ),
        })
    }

    /// Runs `command` on one host, reusing its open connection or opening one.
    pub async fn exec_on(&self, spec: &HostSpec, command: &str, options: &ExecOptions) -> HostResult {
        let started = Instant::now();
        let outcome = self.exec_outcome(spec, command, options).await;
        let result = HostResult { host: spec.name.clone(), outcome, elapsed: started.elapsed() };
        if let Some(callback) = &options.on_host_done {
            callback(&result);
        }
        result
    }

    async fn exec_outcome(
        &self,
        spec: &HostSpec,
        command: &str,
        options: &ExecOptions,
    ) -> Result<Output, HostError> {
        // A NUL cannot travel in an exec request: sent anyway, it breaks the SSH connection the host's other
        // commands share. Only `command_line` refuses it in arguments; a script from `ops` is checked here.
        if command.contains('\0') {
            return Err(HostError::BadArgument {
                cause: "the command holds a NUL byte, which no remote shell can receive".into(),
            });
        }
        let slot = self.slot(spec);
        let cancel = options.cancel.as_ref();
        let budget = options.budget.clone().unwrap_or_else(|| OutputBudget::new(options.max_output_total));
        let echo = options.on_output.clone().map(|sink| Echo { host: Arc::from(spec.name.as_str()), sink });
        let limits = CommandLimits {
            timeout: options.timeout,
            max_output: options.max_output,
            budget,
            deadline: options.deadline,
            echo,
        };
        let deadline = options.deadline;
        if deadline.is_some_and(|d| d.at <= tokio::time::Instant::now()) {
            return Err(HostError::DeadlinePassed { after: deadline.map(|d| d.after).unwrap_or_default() });
        }
        let too_late = || HostError::DeadlinePassed { after: deadline.map(|d| d.after).unwrap_or_default() };
        // A connection can die between two commands (server restart, idle kill). Nothing has run when
        // the channel fails to open, so one fresh connection and a second try is always safe.
        let mut reconnected = false;
        loop {
            // Cancelled while waiting for a channel or a connection, nothing runs yet: stop waiting. Once the
            // command runs, `run_command` watches the cancel itself, so that it can kill what it started.
            let permit = before_start(slot.channels.acquire(), options)
                .await?
                .map_err(|e| HostError::Internal { cause: format!("channel gate: {e}") })?;
            let connection = before_start(self.connection(&slot, spec, options.fan_out), options).await??;
            let open = tokio::select! {
                open = tokio::time::timeout(self.inner.config.connect.timeout, connection.open_session()) => open,
                () = passed(deadline) => return Err(too_late()),
            };
            let failure = match open {
                Ok(Ok(channel)) => {
                    let route =
                        KillRoute { spec, caches: &self.inner.caches, options: &self.inner.config.connect };
                    let elevation = spec.become_root.then(|| self.elevation(spec, &connection));
                    return run_command(
                        &connection,
                        channel,
                        command,
                        limits.clone(),
                        cancel,
                        route,
                        elevation,
                    )
                    .await;
                }
                Ok(Err(russh::Error::ChannelOpenFailure(reason))) if !connection.is_closed() => {
                    // The server allows fewer sessions per connection than we tried (`MaxSessions` below our
                    // gate). While other commands hold channels here, that is a limit to learn, not a
                    // failure: this permit is given up for good, and the command waits for a channel to free.
                    // Decided under a lock, and never below one channel, so that racing refusals cannot close
                    // the gate for good.
                    let mut capacity = slot.capacity.lock().unwrap_or_else(|e| e.into_inner());
                    let held = capacity.saturating_sub(slot.channels.available_permits() + 1);
                    if held == 0 || *capacity <= 1 {
                        return Err(HostError::ChannelRefused {
                            cause: format!("channel open failed: {reason:?}"),
                        });
                    }
                    permit.forget();
                    *capacity -= 1;
                    tracing::debug!(host = %spec.name, capacity = *capacity, "the server refused a channel; fewer at once");
                    continue;
                }
                Ok(Err(err)) => err.to_string(),
                Err(_) => "the server did not answer a channel request".to_string(),
            };
            drop(permit);
            self.forget(&slot, &connection).await;
            if reconnected {
                return Err(HostError::Disconnected { cause: failure });
            }
            tracing::debug!(host = %spec.name, cause = %failure, "connection lost; reconnecting");
            reconnected = true;
        }
    }

    /// How `spec`'s commands run as root: with the password given, unless it must not go to this host: only a
    /// host whose key matched a known_hosts record is offered it.
    fn elevation(&self, spec: &HostSpec, connection: &Connection) -> Elevation<'_> {
        let Some(secret) = self.inner.config.become_password.as_ref() else {
            return Elevation { password: None, withheld: None };
        };
        let withheld = if secret.refused() {
            Some(
                "the password given was refused by another host of this run, so it is not offered again; check it and run again",
            )
        } else if spec.host_key_checking == remote_core::HostKeyPolicy::Off {
            Some(
                "the password given is not offered to a host whose key is not checked (host_key_checking = \"off\"), where anyone in between could take it",
            )
        } else if !connection.host_key_vouched() {
            Some(
                "the password given is not offered to a host whose key was first recorded on this connection (accept-new), since nothing vouched for it yet; the next connection to it, checked against that record, will be offered it",
            )
        } else {
            None
        };
        Elevation { password: withheld.is_none().then_some(secret), withheld }
    }

    fn slot(&self, spec: &HostSpec) -> Arc<Slot> {
        let spec = &*connection_key(spec);
        let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
        // Looked up before cloning: a spec holds several paths, and warm commands find their slot every time.
        if let Some(slot) = slots.get(spec) {
            return slot.clone();
        }
        slots
            .entry(spec.clone())
            .or_insert_with(|| {
                let capacity = self.inner.config.channels_per_host.max(1);
                Arc::new(Slot {
                    connection: tokio::sync::Mutex::new(None),
                    channels: Semaphore::new(capacity),
                    capacity: Mutex::new(capacity),
                    failed: Mutex::new(None),
                })
            })
            .clone()
    }

    async fn connection(
        &self,
        slot: &Slot,
        spec: &HostSpec,
        fan_out: u64,
    ) -> Result<Arc<Connection>, HostError> {
        let mut current = slot.connection.lock().await;
        if let Some(connection) = current.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        if let Some((failed_in, error)) = slot.failed.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && fan_out != 0
            && *failed_in == fan_out
        {
            return Err(error.clone());
        }
        let opened = self.open(spec, fan_out).await;
        match opened {
            Ok(connection) => {
                *current = Some(connection.clone());
                *slot.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(connection)
            }
            Err(error) => {
                *slot.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some((fan_out, error.clone()));
                Err(error)
            }
        }
    }

    /// Opens a connection to `spec`, through its jump host's connection (kept in its own slot, so that many
    /// targets share one connection to their jump host) when it has one.
    async fn open(&self, spec: &HostSpec, fan_out: u64) -> Result<Arc<Connection>, HostError> {
        let via = match &spec.jump {
            Some(hop) => Some(
                self.connection_to(hop, fan_out)
                    .await
                    .map_err(|err| HostError::Jump { jump: hop.name.clone(), cause: err.to_string() })?,
            ),
            None => None,
        };
        let (caches, options) = (&self.inner.caches, &self.inner.config.connect);
        Ok(Arc::new(Connection::open(spec, caches, options, &self.inner.connecting, via).await?))
    }

    /// The open connection to `spec` (a jump host), opening it, and the hops before it, when needed.
    fn connection_to<'a>(
        &'a self,
        spec: &'a HostSpec,
        fan_out: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Arc<Connection>, HostError>> + Send + 'a>>
    {
        Box::pin(async move {
            let slot = self.slot(spec);
            self.connection(&slot, spec, fan_out).await
        })
    }

    /// Drops `dead` from its slot unless another task already replaced it.
    async fn forget(&self, slot: &Slot, dead: &Arc<Connection>) {
        let mut current = slot.connection.lock().await;
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, dead)) {
            *current = None;
        }
    }

    /// Whether a connection to `spec` is open now.
    pub fn is_open(&self, spec: &HostSpec) -> bool {
        let slot =
            self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).get(&*connection_key(spec)).cloned();
        slot.is_some_and(|slot| slot.is_open())
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> usize {
        let slots: Vec<Arc<Slot>> =
            self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        slots.iter().filter(|slot| slot.is_open()).count()
    }

    /// Closes and forgets the connections of hosts for which `keep` is false, e.g. those opened under an
    /// inventory entry that has since changed (user, key, port…): the next command to such a host opens a
    /// connection with its new settings instead of going on over the old one. Returns how many were closed.
    /// `keep` is asked with each connection's key ([`connection_key`]: `become_root` always false).
    pub async fn retain(&self, keep: impl Fn(&HostSpec) -> bool) -> usize {
        let gone: Vec<Arc<Slot>> = {
            let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
            let stale: Vec<HostSpec> = slots.keys().filter(|spec| !keep(spec)).cloned().collect();
            stale.iter().filter_map(|spec| slots.remove(spec)).collect()
        };
        let mut closed = 0;
        for slot in gone {
            if let Some(connection) = slot.connection.lock().await.take() {
                connection.close().await;
                closed += 1;
            }
        }
        closed
    }

    /// Closes every connection; later commands open new ones.
    pub async fn close_all(&self) {
        let slots: Vec<Arc<Slot>> =
            self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for slot in slots {
            if let Some(connection) = slot.connection.lock().await.take() {
                connection.close().await;
            }
        }
    }
}
