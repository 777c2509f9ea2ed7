//! `remote run`, `remote eval` and `remote list`: named pipelines from `ops` and prompt expressions, run once.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use ops::Linked;
use remote_core::catalog::{Call, ExportKind, Library};
use remote_core::driver::SessionDriver;
use remote_core::interpret::{self, Context};
use remote_core::inventory::did_you_mean;
use remote_core::pool::{ExecOptions, PoolConfig, SessionPool};
use remote_core::registry::{Kind, Registry};
use remote_core::ssh::ConnectOptions;
use remote_core::{Hosts, Inventory, Run, pretty};
use serde_json::json;

use crate::cli::{EvalArgs, GlobalArgs, RunArgs, SessionArgs};
use crate::exec::progress_bar;
use crate::{EXIT_HOST_FAILED, EXIT_OK, EXIT_USAGE};

/// The runtime, pool and driver a one-shot command runs pipelines with.
struct Session {
    /// Owns the threads the pool's I/O runs on; pipelines block on it from the main thread.
    _runtime: tokio::runtime::Runtime,
    driver: Arc<SessionDriver>,
    /// What the `pretty` step showed last, so the final run is printed unless it is exactly that one.
    last_shown: Arc<Mutex<Option<Shown>>>,
}

impl Session {
    fn start(args: &SessionArgs, json: bool) -> Result<Self, Box<dyn std::error::Error>> {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let pool = SessionPool::new(PoolConfig {
            connect: ConnectOptions { timeout: args.connect_timeout, ..ConnectOptions::default() },
            ..PoolConfig::default()
        });
        let last_shown = Arc::new(Mutex::new(None));
        let show = {
            let last_shown = last_shown.clone();
            move |run: &Run| {
                *last_shown.lock().unwrap_or_else(|e| e.into_inner()) = Some(Shown::of(run));
                // With --json, standard output carries the one JSON document and nothing else.
                if !json {
                    print!("{}", pretty::render(run, pretty::stdout_wants_color()));
                }
            }
        };
        let options = ExecOptions { timeout: args.timeout, ..ExecOptions::default() };
        let driver = SessionDriver::new(pool, runtime.handle().clone(), options, show).with_fan_out(Arc::new(|_, hosts| {
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
        Ok(Session { _runtime: runtime, driver: Arc::new(driver), last_shown })
    }

    /// Prints what the pipeline has not shown yet and maps the run to an exit code.
    fn finish(&self, run: &Run, json: bool) -> u8 {
        if json {
            println!("{}", run.to_json());
        } else if *self.last_shown.lock().unwrap_or_else(|e| e.into_inner()) != Some(Shown::of(run)) {
            print!("{}", pretty::render(run, pretty::stdout_wants_color()));
        }
        if run.results.is_empty() {
            eprintln!("remote: no hosts are left in the run (a `pick` kept none)");
            return EXIT_HOST_FAILED;
        }
        if run.all_ok() { EXIT_OK } else { EXIT_HOST_FAILED }
    }
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
    fn of(run: &Run) -> Self {
        Shown { label: run.label.clone(), elapsed: run.elapsed, hosts: run.results.iter().map(|r| r.host.clone()).collect() }
    }
}

/// `remote eval 'EXPR'`.
pub fn eval(global: &GlobalArgs, args: &EvalArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = Inventory::load(&global.inventory_path())?;
    let registry = Registry::new(Some(&Linked));
    let session = Session::start(&args.session, global.json)?;
    let context = Context { inventory: &inventory, driver: session.driver.clone(), registry: &registry, library: Some(&Linked) };
    match interpret::eval(&args.expression, &context) {
        Ok(run) => Ok(session.finish(&run, global.json)),
        Err(err) => {
            eprint!("{}", err.render(&args.expression));
            Ok(EXIT_USAGE)
        }
    }
}

/// `remote run PIPELINE GROUP`.
pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = Inventory::load(&global.inventory_path())?;
    let group = inventory.group(&args.group)?;
    let pipelines: Vec<String> =
        Linked.catalog().into_iter().filter(|e| e.kind == ExportKind::Pipeline).map(|e| e.name).collect();
    if !pipelines.contains(&args.pipeline) {
        let hint = match did_you_mean(&args.pipeline, pipelines.iter().map(String::as_str)) {
            Some(name) => format!("did you mean `{name}`?"),
            None => format!("ops exports: {}", pipelines.join(", ")),
        };
        eprintln!("error: unknown pipeline `{}`; {hint} (`remote list` shows them all)", args.pipeline);
        return Ok(EXIT_USAGE);
    }
    let session = Session::start(&args.session, global.json)?;
    let hosts = Hosts::new(&group.name, group.hosts.clone(), session.driver.clone());
    match Linked.invoke(Call::Pipeline { name: args.pipeline.clone(), hosts }) {
        Ok(run) => Ok(session.finish(&run, global.json)),
        Err(cause) => {
            eprintln!("error: pipeline `{}` failed: {cause}", args.pipeline);
            Ok(EXIT_HOST_FAILED)
        }
    }
}

/// `remote list`.
pub fn list(global: &GlobalArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let registry = Registry::new(Some(&Linked));
    if global.json {
        let entries: Vec<_> = registry
            .entries()
            .iter()
            .map(|e| {
                let params: Vec<_> = e.params.iter().map(|p| json!({"name": p.name, "type": p.ty.to_string()})).collect();
                json!({"name": e.name, "kind": e.kind.to_string(), "signature": e.signature(), "params": params, "doc": e.doc})
            })
            .collect();
        println!("{}", json!(entries));
        return Ok(EXIT_OK);
    }
    let sections = [
        (Kind::Pipeline, "Pipelines (from ops; `remote run NAME GROUP`)"),
        (Kind::Operation, "Operations (first step: `name(GROUP, …)`; later: on the hosts that succeeded)"),
        (Kind::Step, "Steps (after `|`; they get the run before them)"),
        (Kind::Predicate, "Predicates (for `pick`)"),
    ];
    let width = registry.entries().iter().map(|e| e.signature().chars().count()).max().unwrap_or(0);
    for (kind, title) in sections {
        println!("{title}");
        for entry in registry.entries().iter().filter(|e| e.kind == kind) {
            println!("  {:<width$}  {}", entry.signature(), entry.doc);
        }
        println!();
    }
    Ok(EXIT_OK)
}
