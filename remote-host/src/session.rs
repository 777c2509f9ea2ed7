//! The session pipelines run in, for one command (`remote run`, `remote eval`) or a whole `remote live`: the
//! runtime, the pool kept open between lines, the drivers of the prompt's lines and of jobs, the loaded
//! `ops`.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use remote_config::Inventory;
use remote_core::interpret::{self, Context};
use remote_core::pretty::View;
use remote_core::{
    Call, Driver, HostError, Hosts, Kind, Library, Linked, On, Registry, Report, Run, World as _,
    did_you_mean, pretty,
};

use remote_ssh::exec::Deadline;
use remote_ssh::pool::{ExecOptions, SessionPool};
use remote_ssh::world::SessionWorld;

use crate::ci::CiRun;
use crate::cli::SessionArgs;
use crate::exec::progress_bar;
use crate::outlets::HostOutlets;

/// The world a kind of line acts on and the outlets for what it produces: the prompt's, or the jobs'.
struct Lane {
    world: Arc<SessionWorld>,
    outlets: Arc<HostOutlets>,
}

impl Lane {
    /// The driver pipelines of this lane are given.
    fn driver(&self) -> Driver {
        Driver::new(self.world.clone(), self.outlets.clone())
    }
}

/// The runtime, pool and drivers pipelines run with: for one command, or for a whole live session,
/// where the connections stay open from one line to the next.
pub struct Session {
    /// Owns the threads the pool's I/O runs on; pipelines block on it from the main thread.
    runtime: tokio::runtime::Runtime,
    /// What the command's or the prompt's lines run with.
    lines: Lane,
    /// What the `pretty` step showed last, so the final run is printed unless it is exactly that one.
    last_shown: Arc<Mutex<Option<Shown>>>,
    /// `--full`: summaries show every line of every distinct output.
    full: Arc<std::sync::atomic::AtomicBool>,
    /// The hosts that failed and those that succeeded in the last line's run: the prompt's `failed` and `ok`.
    last_run: Mutex<Option<(Vec<String>, Vec<String>)>>,
    /// Set by Ctrl-C; cleared before each live line.
    cancel: crate::interrupt::Switch,
    /// Where named pipelines and user steps come from: the `ops` linked in, or the hot-reloaded one.
    library: Arc<dyn Library>,
    /// Runs scheduled jobs' lines over the same pool with nothing printed and a cancel switch of its own:
    /// Ctrl-C at the prompt is for the line being typed, not for the jobs.
    jobs: Lane,
    job_cancel: tokio::sync::watch::Sender<Option<remote_core::CancelCause>>,
    /// Where every run's outcome is kept, when there is a history.
    history: std::sync::OnceLock<Arc<crate::history::History>>,
}

impl Session {
    /// A runtime and an empty pool; with `json`, `pretty` prints nothing and runs are printed as JSON.
    /// With `deadline`, every command of the session's lines ends by then (jobs' commands are not bounded by
    /// it).
    pub fn start(
        args: &SessionArgs,
        inventory: &Path,
        json: bool,
        deadline: Option<Deadline>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let pool = SessionPool::new(crate::pool_config(args));
        let last_shown = Arc::new(Mutex::new(None));
        let full = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let show = {
            let (last_shown, full) = (last_shown.clone(), full.clone());
            move |report: &Report, view: View| {
                *last_shown.lock().unwrap_or_else(|e| e.into_inner()) = Some(Shown::of(report));
                let view = match view {
                    View::Summary if full.load(std::sync::atomic::Ordering::Relaxed) => View::Full,
                    view => view,
                };
                // With --json, standard output carries the one JSON document and nothing else.
                if !json {
                    out!("{}", pretty::render_view(report, view, pretty::stdout_wants_color()));
                }
            }
        };
        let cancel = crate::interrupt::cancel_on_signals(&runtime);
        crate::out::cancel_on_close(&cancel);
        let (job_cancel, _) = tokio::sync::watch::channel(None);
        let job_options = ExecOptions {
            timeout: args.timeout,
            max_output_total: args.max_output,
            retries: args.retries,
            retry_delay: args.retry_delay,
            cancel: Some(job_cancel.subscribe()),
            ..ExecOptions::default()
        };
        let job_world = Arc::new(SessionWorld::new(pool.clone(), runtime.handle().clone(), job_options));
        let options = ExecOptions {
            timeout: args.timeout,
            max_output_total: args.max_output,
            retries: args.retries,
            retry_delay: args.retry_delay,
            cancel: Some(cancel.subscribe()),
            deadline,
            ..ExecOptions::default()
        };
        let world =
            SessionWorld::new(pool, runtime.handle().clone(), options).with_fan_out(Arc::new(|_, hosts| {
                if hosts == 0 {
                    return None;
                }
                let bar = progress_bar(hosts as u64);
                Some(Arc::new(move |_: &remote_core::HostResult| {
                    bar.inc(1);
                    if bar.position() >= bar.length().unwrap_or(0) {
                        bar.finish_and_clear();
                    }
                }))
            }));
        let outbox = crate::outbox(inventory);
        Ok(Session {
            runtime,
            lines: Lane { world: Arc::new(world), outlets: Arc::new(HostOutlets::new(show, outbox.clone())) },
            last_shown,
            full,
            last_run: Mutex::new(None),
            cancel,
            library: Arc::new(Linked),
            jobs: Lane {
                world: job_world,
                outlets: Arc::new(HostOutlets::new(|_: &Report, _: View| {}, outbox)),
            },
            job_cancel,
            history: std::sync::OnceLock::new(),
        })
    }

    /// Waits until the history has written what it was given (at the end: the writer is a thread of its own).
    pub fn flush_history(&self) {
        let limit = std::time::Duration::from_secs(10);
        if let Some(history) = self.history.get()
            && !history.flush(limit)
        {
            eprintln!(
                "remote live: the history did not finish writing within {limit:?}; the last runs may be missing from it"
            );
        }
    }

    /// Keeps every run's outcome in `history` from now on (once).
    pub fn use_history(&self, history: Arc<crate::history::History>) {
        let _ = self.history.set(history);
    }

    /// Keeps `run`, the outcome of `line` run in `lane`, in the history when there is one; a dry run is kept
    /// as the `check LINE` it was, so that it never reads as a change made.
    /// `inventory` with the groups `failed` and `ok`: the hosts that failed and succeeded in the last line's
    /// run (`exec(failed, "systemctl restart app")`, `listing failed`), unless the inventory has groups of
    /// those names.
    fn with_last_run(&self, inventory: &Inventory) -> Inventory {
        match &*self.last_run.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((failed, ok)) => {
                inventory.clone().with_group_of(LAST_FAILED, failed).with_group_of(LAST_OK, ok)
            }
            None => inventory.clone(),
        }
    }

    fn remember(&self, lane: &Lane, line: &str, run: &Run) {
        if std::ptr::eq(lane, &self.lines) {
            let (failed, ok): (Vec<&remote_core::HostResult>, Vec<&remote_core::HostResult>) =
                run.results().iter().partition(|r| !r.ok());
            let names =
                |results: Vec<&remote_core::HostResult>| results.iter().map(|r| r.host.clone()).collect();
            *self.last_run.lock().unwrap_or_else(|e| e.into_inner()) = Some((names(failed), names(ok)));
        }
        if let Some(history) = self.history.get() {
            let line = if lane.world.checking() { format!("check {line}") } else { line.to_string() };
            history.record_run(&line, run.report());
        }
    }

    /// Sends what `collect` and `publish` make, in commands and in jobs, to `hub` from now on.
    pub fn use_hub(&self, hub: Arc<crate::hub::Hub>) {
        self.lines.outlets.use_hub(hub.clone());
        self.jobs.outlets.use_hub(hub);
    }

    /// Sends the output of this session's lines (not its jobs') to `echo` as it arrives, or no more with
    /// `None`.
    pub fn stream_to(&self, echo: Option<remote_ssh::exec::OnOutput>) {
        self.lines.world.set_echo(echo);
    }

    /// Makes this session's lines (not its jobs) dry runs from now on (`true`), or real ones again.
    pub fn set_check(&self, check: bool) {
        self.lines.world.set_check(check);
    }

    /// With `full`, summaries show every line of every distinct output (`--full`).
    pub fn set_full(&self, full: bool) {
        self.full.store(full, std::sync::atomic::Ordering::Relaxed);
    }

    /// The runtime the session's I/O runs on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// Takes pipelines and steps from `library` from now on.
    pub fn use_library(&mut self, library: Arc<dyn Library>) {
        self.library = library;
    }

    /// The built-ins and what the library exports now.
    pub fn registry(&self) -> Registry {
        Registry::new(Some(&*self.library))
    }

    /// Closes the connections of hosts that `inventory` no longer describes as they were opened (a changed
    /// user, key, port or host-key setting), so that the next command uses the settings as they are now.
    pub fn forget_stale(&self, inventory: &Inventory) {
        // Jump hosts count as in use while a host that goes through them is.
        // As the pool keeps them: a group's `become` is not part of its hosts' connections.
        let current: std::collections::HashSet<remote_core::HostSpec> = inventory
            .groups()
            .flat_map(|group| group.hosts.iter())
            .flat_map(|host| std::iter::once(host).chain(host.jump_chain()))
            .map(|spec| remote_ssh::pool::connection_key(spec).into_owned())
            .collect();
        let closed = self.runtime.block_on(self.lines.world.pool().retain(|spec| current.contains(spec)));
        if closed > 0 {
            tracing::info!(closed, "closed connections opened under an older inventory entry");
        }
    }

    /// Whether the line was cancelled (Ctrl-C, or a signal that ends the process) since it began.
    pub fn interrupted(&self) -> bool {
        self.cancel.borrow().is_some()
    }

    /// Re-arms Ctrl-C for the next line, after an earlier one was cancelled (not once the process is ending).
    pub fn rearm(&self) {
        crate::interrupt::rearm(&self.cancel);
    }

    /// Runs a prompt line.
    pub fn eval(&self, inventory: &Inventory, line: &str) -> Result<Run, interpret::EvalError> {
        self.eval_with(&self.lines, inventory, line)
    }

    fn eval_with(&self, lane: &Lane, inventory: &Inventory, line: &str) -> Result<Run, interpret::EvalError> {
        let inventory = &self.with_last_run(inventory);
        if let Some((name, at)) = expression_group(line)
            && let Ok(group) = inventory.group(&name)
        {
            self.check_open_files(&group.name, &group.hosts).map_err(|message| interpret::EvalError {
                message,
                at,
                help: None,
            })?;
        }
        let registry = self.registry();
        let context =
            Context { inventory, driver: lane.driver(), registry: &registry, library: Some(&*self.library) };
        let run = interpret::eval(line, &context)?;
        self.remember(lane, line, &run);
        Ok(run)
    }

    /// Runs pipeline `name` from `ops` on `group`. `Err` says why it could not start (an unknown
    /// pipeline or group); a pipeline that fails as a whole (it panicked) gives a run in which every host
    /// says so, like any other failure on the hosts.
    pub fn run_named(&self, inventory: &Inventory, name: &str, group: &str) -> Result<Run, String> {
        self.run_named_with(&self.lines, inventory, name, group)
    }

    fn run_named_with(
        &self,
        lane: &Lane,
        inventory: &Inventory,
        name: &str,
        group: &str,
    ) -> Result<Run, String> {
        let mut inventory = self.with_last_run(inventory);
        if inventory.group(group).is_err() {
            // A host set written out (`listing web - web-[03]`, `listing web-01`) is a group of its own; a
            // single word that is no host either is an unknown group, said as such below.
            match remote_core::nodeset::select(group, &inventory) {
                Ok(hosts) if hosts.is_empty() => return Err(format!("the host set `{group}` names no host")),
                Ok(hosts) => {
                    let names: Vec<String> = hosts.into_iter().map(|h| h.name).collect();
                    inventory = inventory.with_group_of(group, &names);
                }
                Err(err) if group.contains(['[', ' ', ',']) => return Err(err.to_string()),
                Err(_) => {}
            }
        }
        let inventory = &inventory;
        let group = self.check_named(inventory, name, group)?;
        self.check_open_files(&group.name, &group.hosts)?;
        let hosts = Hosts::new(&group.name, group.hosts.clone(), lane.driver());
        let run = self
            .library
            .invoke(Call::Pipeline { name: name.to_string(), hosts: hosts.clone() })
            .unwrap_or_else(|error| {
                On::Hosts(hosts).refuse(name, HostError::Library { cause: error.to_string() })
            });
        self.remember(lane, &format!("{name} {}", group.name), &run);
        Ok(run)
    }

    /// Checks an expression as [`Self::eval`] would, without running it.
    pub fn check_expression(&self, inventory: &Inventory, line: &str) -> Result<(), interpret::EvalError> {
        let registry = self.registry();
        let context = Context {
            inventory,
            driver: self.jobs.driver(),
            registry: &registry,
            library: Some(&*self.library),
        };
        interpret::check_line(line, &context)
    }

    /// The group of `PIPELINE GROUP` when both exist now, or what to say.
    pub fn check_named<'a>(
        &self,
        inventory: &'a Inventory,
        name: &str,
        group: &str,
    ) -> Result<&'a remote_core::Group, String> {
        let group = inventory.group(group).map_err(|e| e.to_string())?;
        check_pipeline(&self.registry(), name, &group.name)?;
        Ok(group)
    }

    /// Runs a scheduled job's line (`PIPELINE GROUP` or an expression) with nothing printed, on the `ops`
    /// loaded now and the inventory as it is now.
    pub fn run_job(&self, inventory: &Path, line: &str) -> crate::jobs::Outcome {
        let failed = |error: String| crate::jobs::Outcome { error: Some(error), ..Default::default() };
        let inventory = match Inventory::load(inventory) {
            Ok(inventory) => inventory,
            Err(err) => return failed(err.to_string()),
        };
        let run = match named_call(line) {
            Some((name, group)) => self.run_named_with(&self.jobs, &inventory, name, group),
            None => self.eval_with(&self.jobs, &inventory, line).map_err(|err| err.to_string()),
        };
        match run {
            Ok(run) => {
                let report = run.report();
                let ok = report.results.iter().filter(|r| r.ok()).count();
                let failed = report.results.len() - ok;
                // When ops failed for every host alike (a panic, a step a reload removed), that is the job's
                // error; hosts failing on their own are counted, not an error of the job.
                // The cause itself, as a check before the call would have said it (`… was removed from ops by
                // a reload`).
                let library: Vec<String> = report
                    .results
                    .iter()
                    .filter_map(|r| match &r.outcome {
                        Err(HostError::Library { cause }) => Some(cause.clone()),
                        _ => None,
                    })
                    .collect();
                // Both are shown in notices and the `jobs` table, which print them as they are: what a host
                // wrote (or a panic message quoting it) must not drive the terminal there either.
                let error = (ok == 0
                    && library.len() == report.results.len()
                    && library.iter().all(|e| *e == library[0]))
                .then(|| pretty::sanitize(&library[0]));
                let first_failure = report.results.iter().find(|r| !r.ok()).map(|r| {
                    pretty::sanitize(&format!("{}: {}", r.host, r.error_text().unwrap_or_default()))
                });
                crate::jobs::Outcome {
                    ok,
                    failed,
                    error,
                    first_failure,
                    summary: pretty::render(report, false),
                }
            }
            Err(error) => failed(error),
        }
    }

    /// The jobs the job set `name` of `ops` gives for `group`.
    pub fn job_set(
        &self,
        inventory: &Inventory,
        name: &str,
        group: &str,
    ) -> Result<Vec<remote_core::JobSpec>, String> {
        let group = inventory.group(group).map_err(|e| e.to_string())?;
        let hosts = Hosts::new(&group.name, group.hosts.clone(), self.jobs.driver());
        self.library.jobs(name, hosts).map_err(|error| error.to_string())
    }

    /// Kills the commands of the jobs' runs still going (as a timeout would), saying `cause`.
    pub fn cancel_jobs(&self, cause: remote_core::CancelCause) {
        self.job_cancel.send_replace(Some(cause));
    }

    /// Lets jobs' runs go on again after [`Self::cancel_jobs`].
    pub fn rearm_jobs(&self) {
        self.job_cancel.send_replace(None);
    }

    /// Closes every connection; the next command opens what it needs again. How many were open.
    pub fn close_all(&self) -> usize {
        self.runtime.block_on(self.lines.world.pool().retain(|_| false))
    }

    /// Refuses, before connecting, a group whose connections would not fit the open-files limit.
    fn check_open_files(&self, group: &str, hosts: &[remote_core::HostSpec]) -> Result<(), String> {
        // Hosts already connected need no new descriptor; they are in the open count already.
        let pool = self.lines.world.pool();
        let new = hosts.iter().filter(|spec| !pool.is_open(spec)).count();
        crate::limits::check(group, new, pool.open_connections())
    }

    /// Prints what the pipeline has not shown yet: the summary, or under `--json` the run as one line.
    pub fn report(&self, run: &Run, json: bool) {
        self.print_rest(run.report(), json, |report| {
            let _ = report.write_json(&mut crate::out::Stdout);
        });
    }

    /// Prints what the pipeline has not shown yet, or the JSON document, and ends the CI run: its reports and
    /// its exit code.
    pub fn finish(&self, run: &Report, json: bool, ci: CiRun<'_>) -> Result<u8, Box<dyn std::error::Error>> {
        self.print_rest(run, json, |report| ci.write_json(report));
        crate::usage::hints_after(run, None);
        ci.finish(run)
    }

    /// The summary unless `pretty` showed exactly this run already, or under `--json` the document
    /// `write_json` writes; and a word when no host is left.
    fn print_rest(&self, run: &Report, json: bool, write_json: impl FnOnce(&Report)) {
        // Taken, not read: what one line's `pretty` showed says nothing about the next line's run.
        let last_shown = self.last_shown.lock().unwrap_or_else(|e| e.into_inner()).take();
        if json {
            write_json(run);
        } else if last_shown != Some(Shown::of(run)) {
            let view =
                if self.full.load(std::sync::atomic::Ordering::Relaxed) { View::Full } else { View::Summary };
            out!("{}", pretty::render_view(run, view, pretty::stdout_wants_color()));
        }
        if run.results.is_empty() {
            eprintln!("remote: no hosts are left in the run; nothing failed");
        }
    }
}

/// The prompt's group of the hosts that failed in the last line's run.
pub const LAST_FAILED: &str = "failed";
/// The prompt's group of the hosts that succeeded in the last line's run.
pub const LAST_OK: &str = "ok";

/// The group an expression runs on: the first step's first argument, and where it is; `None` when the line
/// does not parse (the interpreter says why) or starts otherwise.
pub fn expression_group(line: &str) -> Option<(String, remote_syntax::Columns)> {
    let parsed = remote_syntax::parse_line(line).ok()?;
    let arg = parsed.steps.first()?.args.first()?;
    match &arg.kind {
        remote_syntax::ArgKind::Name(name) => Some((name.clone(), arg.at)),
        _ => None,
    }
}

/// `PIPELINE GROUP`: a named pipeline and a group, rather than an expression.
pub fn named_call(line: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [pipeline, group] if is_name(pipeline) && !line.contains('(') => Some((pipeline, group)),
        // `listing web - web-[03]`: the rest of the line is a host-set expression.
        [pipeline, rest @ ..]
            if is_name(pipeline) && !line.contains('(') && remote_core::nodeset::is_expression(rest) =>
        {
            let rest = line.trim_start()[pipeline.len()..].trim();
            Some((pipeline, rest))
        }
        _ => None,
    }
}

/// A Rust-like identifier: what a pipeline or group name looks like in `PIPELINE GROUP`.
pub fn is_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Enough of a run to tell whether the final run is the one `pretty` already showed: after `pretty`,
/// a later operation or `pick` makes a different one, which must be printed too.
#[derive(PartialEq, Eq)]
struct Shown {
    label: String,
    elapsed: Duration,
    hosts: Vec<String>,
}

impl Shown {
    fn of(report: &Report) -> Self {
        let hosts = report.results.iter().map(|r| r.host.clone()).collect();
        Shown { label: report.label.clone(), elapsed: report.elapsed, hosts }
    }
}

/// `Ok` when `ops` exports a pipeline called `name`, else what to say: how to call it when it is an
/// operation or step, or the closest pipeline name.
fn check_pipeline(registry: &Registry, name: &str, group: &str) -> Result<(), String> {
    if registry.was_removed(name) {
        return Err(remote_core::removed_message(name));
    }
    match registry.find(name).map(|entry| entry.kind) {
        Some(Kind::Pipeline) => return Ok(()),
        Some(Kind::JobSet) => {
            return Err(format!(
                "`{name}` is a job set, not a pipeline: at the `remote live` prompt, `{name} {group}` schedules its jobs"
            ));
        }
        Some(Kind::Operation) => {
            return Err(format!(
                "`{name}` is an operation, not a pipeline of ops; write `{name}({group}, …)`"
            ));
        }
        Some(Kind::Field) => {
            return Err(format!(
                "`{name}` is a field of typed data, not a pipeline of ops; it goes in a predicate or a stock, e.g. \
                 `cpu({group}) | pick(above({name}, 50))`"
            ));
        }
        Some(Kind::Predicate) => {
            return Err(format!(
                "`{name}` is a predicate, not a pipeline of ops; it goes in `pick`, e.g. `uptime({group}) | pick({name})`"
            ));
        }
        Some(kind) => {
            return Err(format!(
                "`{name}` is a {kind}, not a pipeline of ops; it goes after `|`, e.g. `uptime({group}) | {name}`"
            ));
        }
        None => {}
    }
    let pipelines: Vec<&str> =
        registry.entries().iter().filter(|e| e.kind == Kind::Pipeline).map(|e| e.name.as_str()).collect();
    let hint = match did_you_mean(name, pipelines.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("ops exports: {}", pipelines.join(", ")),
    };
    Err(format!("unknown pipeline `{name}`; {hint} (`remote list` shows them all)"))
}
