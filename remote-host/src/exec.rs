//! `remote exec GROUP -- CMD…`: one quoted command on every host of a group, summary or JSON out.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use remote_config::Inventory;
use remote_core::{Report, pretty, quote};
use remote_ssh::pool::{ExecOptions, SessionPool};

use crate::ci::CiRun;
use crate::cli::{ExecArgs, GlobalArgs};
use crate::stream::Streamer;

/// Runs the command and prints its result; returns the exit code.
pub fn run(global: &GlobalArgs, args: &ExecArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = Inventory::load(&global.inventory_path())?;
    inventory.group(&args.group)?;
    let (inventory, whole) = crate::ci::cut(inventory, &args.ci, Some(&args.group))?;
    let group = inventory.group(&args.group)?;
    let command = quote::command_line(&args.command)?;
    let ci = CiRun::begin(&args.ci, global.json, global.check, &command, &group.name);
    if group.hosts.is_empty() && args.ci.shard.is_some() {
        return ci.empty_shard(&group.name, whole, &command);
    }
    crate::limits::check(&group.name, group.hosts.len(), 0)?;
    // Streamed lines are the progress; a bar redrawn between them would only garble them.
    let streamer =
        args.stream.then(|| Streamer::new(group.hosts.iter().map(|h| h.name.as_str()), global.json));
    let progress =
        if streamer.is_some() { ProgressBar::hidden() } else { progress_bar(group.hosts.len() as u64) };
    let options = ExecOptions {
        timeout: args.session.timeout,
        max_output_total: args.session.max_output,
        retries: args.session.retries,
        retry_delay: args.session.retry_delay,
        on_host_done: Some(Arc::new({
            let (progress, streamer) = (progress.clone(), streamer.clone());
            move |result: &remote_core::HostResult| {
                progress.inc(1);
                if let Some(streamer) = &streamer {
                    streamer.flush_host(&result.host);
                }
            }
        })),
        on_output: streamer.as_ref().map(Streamer::sink),
        deadline: ci.deadline(),
        ..ExecOptions::default()
    };
    let pool = SessionPool::new(crate::pool_config(&args.session));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let cancel = crate::interrupt::cancel_on_signals(&runtime);
    crate::out::cancel_on_close(&cancel);
    let options = ExecOptions { cancel: Some(cancel.subscribe()), ..options };
    let started = std::time::Instant::now();
    // A command line can change anything, and nothing tells beforehand what: a dry run reaches each host and
    // says so.
    let run_there =
        if global.check { remote_core::Preview::unknown_script(&command) } else { command.clone() };
    let one = |hosts: &[remote_core::HostSpec]| {
        let results = runtime.block_on(pool.exec(hosts, &run_there, &options));
        Report { label: command.clone(), group: group.name.clone(), results, elapsed: started.elapsed() }
    };
    let report = match args.ci.rollout(group.hosts.len()) {
        Some(plan) => crate::rollout::roll(&plan, &group.hosts, |number, batch| {
            progress.suspend(|| crate::rollout::announce(number, &plan, batch));
            Ok::<_, std::convert::Infallible>(one(batch))
        })
        .unwrap_or_else(|never| match never {}),
        None => one(&group.hosts),
    };
    progress.finish_and_clear();
    if let Some(streamer) = &streamer {
        streamer.flush();
    }
    if global.json {
        ci.write_json(&report);
    } else {
        let render = if args.ci.full { pretty::render_full } else { pretty::render };
        out!("{}", render(&report, pretty::stdout_wants_color()));
    }
    crate::usage::hints_after(&report, Some(&args.command));
    ci.finish(&report)
}

/// A bar on stderr while hosts run, only when both stdout and stderr are terminals: output that goes to a
/// file, a pipe or a CI log stays plain text, without animation.
pub fn progress_bar(hosts: u64) -> ProgressBar {
    if !(std::io::stderr().is_terminal() && std::io::stdout().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(hosts);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos}/{len} hosts done [{elapsed}] {wide_bar}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
