//! `remote run`, `remote eval` and `remote list`: named pipelines from `ops` and prompt expressions; the
//! session they run in is shared with `remote live`.

use remote_config::Inventory;
use remote_core::{Kind, Linked, Registry, interpret};

use serde_json::json;

use crate::ci::CiRun;
use crate::cli::{EvalArgs, GlobalArgs, RunArgs};
use crate::session::{Session, expression_group};
use crate::{EXIT_OK, EXIT_USAGE};

/// Whether `--shard` left `group` without hosts.
fn empty_shard(inventory: &Inventory, shard: Option<remote_config::shard::Shard>, group: &str) -> bool {
    shard.is_some() && inventory.group(group).is_ok_and(|g| g.hosts.is_empty())
}

/// `remote eval 'EXPR'`.
pub fn eval(global: &GlobalArgs, args: &EvalArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let group = expression_group(&args.expression).map(|(name, _)| name);
    let (inventory, whole) =
        crate::ci::cut(Inventory::load(&global.inventory_path())?, &args.ci, group.as_deref())?;
    let ci =
        CiRun::begin(&args.ci, global.json, global.check, &args.expression, group.as_deref().unwrap_or("?"));
    let session = Session::start(&args.session, &global.inventory_path(), global.json, ci.deadline())?;
    session.set_check(global.check);
    session.set_full(args.ci.full);
    let refuse = |err: interpret::EvalError| {
        eprint!("{}", err.render(&args.expression));
        let at = crate::usage::At { line: Some(1), column: Some(err.at.start), ..Default::default() };
        crate::usage::json_error(global.json, &err.to_string(), at);
        Ok(EXIT_USAGE)
    };
    if let Some(group) = group.as_deref()
        && empty_shard(&inventory, args.ci.shard, group)
    {
        // Checked as it would run, so that a typo fails in every shard, not only in those with hosts.
        return match session.check_expression(&inventory, &args.expression) {
            Ok(()) => ci.empty_shard(group, whole, &args.expression),
            Err(err) => refuse(err),
        };
    }
    let plan = group.as_deref().and_then(|g| args.ci.rollout(inventory.group(g).ok()?.hosts.len()));
    let Some(plan) = plan else {
        if args.ci.batch.is_some() {
            let message =
                "--batch needs an expression whose first argument is a group, e.g. 'ls(web, \"/\")'";
            return Err(message.into());
        }
        return match session.eval(&inventory, &args.expression) {
            Ok(run) => session.finish(run.report(), global.json, ci),
            Err(err) => refuse(err),
        };
    };
    let group = group.expect("a plan has a group");
    let hosts = inventory.group(&group)?.hosts.clone();
    let report = crate::rollout::roll(&plan, &hosts, |number, batch| {
        crate::rollout::announce(number, &plan, batch);
        session.eval(&inventory.clone().only(&group, batch), &args.expression).map(|run| run.into_report())
    });
    match report {
        Ok(report) => session.finish(&report, global.json, ci),
        Err(err) => refuse(err),
    }
}

/// `remote run PIPELINE GROUP`.
pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let (inventory, whole) =
        crate::ci::cut(Inventory::load(&global.inventory_path())?, &args.ci, Some(&args.group))?;
    let ci = CiRun::begin(&args.ci, global.json, global.check, &args.pipeline, &args.group);
    let session = Session::start(&args.session, &global.inventory_path(), global.json, ci.deadline())?;
    session.set_check(global.check);
    session.set_full(args.ci.full);
    let refuse = |message: String| {
        eprintln!("error: {}", remote_core::pretty::bounded(&message));
        crate::usage::json_error(global.json, &message, crate::usage::At::default());
        Ok(EXIT_USAGE)
    };
    if empty_shard(&inventory, args.ci.shard, &args.group) {
        return match session.check_named(&inventory, &args.pipeline, &args.group) {
            Ok(group) => ci.empty_shard(&group.name, whole, &args.pipeline),
            Err(message) => refuse(message),
        };
    }
    if args.ci.batch.is_some() && inventory.group(&args.group).is_err() {
        // A host set written out is resolved only as the pipeline starts; a rolling run needs its hosts first.
        let message = format!("--batch needs a group name from the inventory, not `{}`", args.group);
        return Err(message.into());
    }
    let plan = inventory.group(&args.group).ok().and_then(|g| args.ci.rollout(g.hosts.len()));
    let report = match (plan, inventory.group(&args.group)) {
        (Some(plan), Ok(group)) => crate::rollout::roll(&plan, &group.hosts.clone(), |number, batch| {
            crate::rollout::announce(number, &plan, batch);
            let inventory = inventory.clone().only(&args.group, batch);
            session.run_named(&inventory, &args.pipeline, &args.group).map(|run| run.into_report())
        }),
        _ => session.run_named(&inventory, &args.pipeline, &args.group).map(|run| run.into_report()),
    };
    match report {
        Ok(report) => session.finish(&report, global.json, ci),
        Err(message) => refuse(message),
    }
}

/// `remote list`.
pub fn list(global: &GlobalArgs) -> Result<u8, Box<dyn std::error::Error>> {
    print_list(&Registry::new(Some(&Linked)), global.json);
    Ok(EXIT_OK)
}

/// Prints `registry` as `remote list` does: sections by kind, or one JSON array. A reader that goes away
/// early (`remote list | head`) ends the listing quietly instead of a panic of `println!`.
pub fn print_list(registry: &Registry, json: bool) {
    let _ = write_list(&mut crate::out::Stdout, registry, json);
}

/// The field selectors of a data kind, for an operation's entry in the list.
fn fields_of(kind: &str) -> Vec<&'static str> {
    remote_core::fields::of_kind(kind).iter().map(|field| field.name).collect()
}

fn write_list(out: &mut impl std::io::Write, registry: &Registry, json: bool) -> std::io::Result<()> {
    if json {
        let entries: Vec<_> = registry
            .entries()
            .iter()
            .map(|e| {
                let params: Vec<_> = e.params.iter().map(|p| json!({"name": p.name, "type": p.ty.to_string()})).collect();
                let mut entry =
                    json!({"name": e.name, "kind": e.kind.to_string(), "signature": e.signature(), "params": params, "doc": e.doc});
                if let Some(data) = &e.data {
                    entry["data"] = json!(data);
                    entry["fields"] = json!(fields_of(data));
                }
                entry
            })
            .collect();
        return writeln!(out, "{}", remote_core::pretty::json_text(&entries));
    }
    let sections = [
        (Kind::Pipeline, "Pipelines (from ops; `remote run NAME GROUP`)"),
        (Kind::JobSet, "Job sets (from ops; `NAME GROUP` at the `remote live` prompt schedules their jobs)"),
        (Kind::Operation, "Operations (first step: `name(GROUP, …)`; later: on the hosts that succeeded)"),
        (Kind::Step, "Steps (after `|`; they get the run before them)"),
        (Kind::Predicate, "Predicates (for `pick`)"),
        (Kind::Field, "Fields (of typed data, for `above`/`below`: `pick(above(disk_used_percent, 85))`)"),
    ];
    let width = registry.entries().iter().map(|e| e.signature().chars().count()).max().unwrap_or(0);
    for (kind, title) in sections {
        writeln!(out, "{title}")?;
        for entry in registry.entries().iter().filter(|e| e.kind == kind) {
            writeln!(out, "  {:<width$}  {}", entry.signature(), entry.doc)?;
            if let Some(data) = &entry.data {
                writeln!(out, "  {:<width$}  fields: {}", "", fields_of(data).join(" "))?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}
