//! `remote exec GROUP -- CMD…`: one quoted command on every host of a group, summary or JSON out.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use remote_core::{Inventory, Report, pretty, quote};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};

use crate::cli::{ExecArgs, GlobalArgs};
use crate::{EXIT_HOST_FAILED, EXIT_OK};

/// Runs the command and prints its result; returns the exit code.
pub fn run(global: &GlobalArgs, args: &ExecArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = Inventory::load(&global.inventory_path())?;
    let group = inventory.group(&args.group)?;
    let command = quote::command_line(&args.command)?;
    crate::limits::check(&group.name, group.hosts.len(), 0)?;
    let progress = progress_bar(group.hosts.len() as u64);
    let options = ExecOptions {
        timeout: args.session.timeout,
        max_output_total: args.session.max_output,
        on_host_done: Some(Arc::new({
            let progress = progress.clone();
            move |_| progress.inc(1)
        })),
        ..ExecOptions::default()
    };
    let pool = SessionPool::new(PoolConfig { connect: args.session.connect_options(), ..PoolConfig::default() });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let options = ExecOptions { cancel: Some(crate::interrupt::cancel_on_ctrl_c(&runtime).subscribe()), ..options };
    let started = std::time::Instant::now();
    let results = runtime.block_on(pool.exec(&group.hosts, &command, &options));
    let report = Report { label: command, group: group.name.clone(), results, elapsed: started.elapsed() };
    progress.finish_and_clear();
    print_report(&report, global.json);
    Ok(if report.all_ok() { EXIT_OK } else { EXIT_HOST_FAILED })
}

/// Prints the JSON document or the human summary.
pub fn print_report(report: &Report, json: bool) {
    if json {
        // Streamed: a large run's output is not copied into a JSON value first. A closed stdout is not our error.
        let _ = report.write_json(&mut std::io::stdout().lock());
    } else {
        print!("{}", pretty::render(report, pretty::stdout_wants_color()));
    }
}

/// A bar on stderr while hosts run, only when stderr is a terminal.
pub fn progress_bar(hosts: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(hosts);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos}/{len} hosts done [{elapsed}] {wide_bar}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
