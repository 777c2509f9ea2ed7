//! The prompt's interpreter: a line parsed by the macro's own grammar, names resolved in the registry and
//! the inventory, arguments checked, then run step by step with the same semantics as `pipeline!`.

use std::fmt;

use remote_syntax::{Arg, ArgKind, Columns, SyntaxError, parse_line};

use crate::catalog::Kind;
use crate::catalog::{Call, CallError, Invoke, Library, guard};
use crate::hosts::{Driver, Hosts};
use crate::registry::{Callable, Entry, Registry};
use crate::report::HostError;
use crate::run::{On, Run};
use crate::spec::Groups;
use crate::suggest::did_you_mean;
use crate::value::{Type, Value};

/// What a line is evaluated against.
pub struct Context<'a> {
    /// Where group names are looked up.
    pub inventory: &'a dyn Groups,
    /// Runs the commands.
    pub driver: Driver,
    /// Names from the operation registry and from `ops`.
    pub registry: &'a Registry,
    /// `ops`, for its pipelines and steps.
    pub library: Option<&'a dyn Library>,
}

/// Why a line could not run: what is wrong, where, and a hint when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// What is wrong, e.g. "unknown operation `lss`".
    pub message: String,
    /// Where in the line.
    pub at: Columns,
    /// What to do, e.g. "did you mean `ls`?".
    pub help: Option<String>,
}

impl EvalError {
    fn new(message: impl Into<String>, at: Columns) -> Self {
        Self { message: message.into(), at, help: None }
    }

    fn help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// The error under the line it is about, with a caret line:
    /// ```text
    /// error: unknown operation `lss` (column 1)
    ///   lss(sandbox, "/", "-la") | pretty
    ///   ^^^
    ///   help: did you mean `ls`?
    /// ```
    ///
    /// What the user typed reaches the terminal made safe (an escape or a bidirectional override shows as
    /// `·`) and, on a long line, only around the error: a pasted megabyte is not echoed back.
    pub fn render(&self, line: &str) -> String {
        let (shown, caret_at) = window(line, self.at.start);
        let width = self.at.end.saturating_sub(self.at.start).clamp(1, ECHO_CHARS);
        let mut text = format!(
            "error: {} (column {})\n  {shown}\n  {}{}\n",
            crate::pretty::bounded(&self.message),
            self.at.start,
            " ".repeat(caret_at - 1),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            text.push_str(&format!("  help: {}\n", crate::pretty::bounded(help)));
        }
        text
    }
}

/// Characters of the user's line shown under an error: about a screen line.
const ECHO_CHARS: usize = 100;

/// The part of `line` shown under an error at `column` (1-based, in characters), made safe for a terminal,
/// and the column of the error in it: the whole line when it is short, else [`ECHO_CHARS`] around the error
/// with `…` where it was cut.
fn window(line: &str, column: usize) -> (String, usize) {
    let count = line.chars().count();
    if count <= ECHO_CHARS {
        return (crate::pretty::sanitize(line), column);
    }
    // A third of the window before the error, the rest after it.
    let first = column.saturating_sub(1 + ECHO_CHARS / 3).min(count - ECHO_CHARS);
    let piece: String = line.chars().skip(first).take(ECHO_CHARS).collect();
    let (before, after) =
        (if first > 0 { "…" } else { "" }, if first + ECHO_CHARS < count { "…" } else { "" });
    let shown = format!("{before}{}{after}", crate::pretty::sanitize(&piece));
    (shown, column - first + before.chars().count())
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (column {})", self.message, self.at.start)?;
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

impl From<SyntaxError> for EvalError {
    fn from(err: SyntaxError) -> Self {
        EvalError::new(err.message, err.at)
    }
}

/// Parses, checks and runs one pipeline line.
pub fn eval(text: &str, context: &Context) -> Result<Run, EvalError> {
    let calls = check(text, context)?;
    Ok(execute(calls, context))
}

/// Parses and checks one pipeline line (names, groups, argument counts and types) without running it, e.g.
/// for a job that will run it later.
pub fn check_line(text: &str, context: &Context) -> Result<(), EvalError> {
    check(text, context).map(|_| ())
}

/// One step, resolved and with its arguments evaluated.
struct Resolved<'a> {
    entry: &'a Entry,
    hosts: Option<Hosts>,
    args: Vec<Value>,
}

/// What typed data the hosts carry after a step, as far as the line tells.
enum Carried<'a> {
    /// The data kind an operation read (`disk`), and the operation.
    Data(&'a str, &'a str),
    /// No typed data: the operation before reads none (`exec`), or nothing ran yet.
    Nothing(Option<&'a str>),
    /// A pipeline or a step of ops ran: it may have run anything.
    Unknown,
}

impl<'a> Carried<'a> {
    /// What the hosts carry after `entry` ran.
    fn after(self, entry: &'a Entry) -> Carried<'a> {
        match (entry.kind, &entry.callable, entry.data.as_deref()) {
            (Kind::Operation, _, Some(kind)) => Carried::Data(kind, &entry.name),
            (Kind::Operation, _, None) => Carried::Nothing(Some(&entry.name)),
            (Kind::Step, Callable::Builtin(_), _) => self,
            _ => Carried::Unknown,
        }
    }
}

/// Refuses a field in `args` (at any depth, as in `pick(above(used, 80))`) that cannot be in the data the
/// hosts carry: such a predicate would quietly drop every host.
fn check_fields(args: &[Arg], carried: &Carried, registry: &Registry) -> Result<(), EvalError> {
    for arg in args {
        match &arg.kind {
            ArgKind::Name(name) => {
                let Some(Callable::Field(select)) = registry.find(name).map(|e| e.callable) else { continue };
                let field = select();
                let others = |kind: &str| {
                    let names: Vec<&str> = crate::fields::of_kind(kind).iter().map(|f| f.name).collect();
                    Some(format!("the fields of {kind} data are: {}", names.join(", ")))
                };
                match carried {
                    Carried::Data(kind, from) if *kind != field.kind => {
                        let message = format!(
                            "`{name}` is a field of {} data, but the hosts carry {kind} data here (from `{from}`)",
                            field.kind
                        );
                        return Err(EvalError::new(message, arg.at).help(others(kind)));
                    }
                    Carried::Nothing(from) => {
                        let from = from.map(|f| format!(" (`{f}` reads none)")).unwrap_or_default();
                        let message = format!(
                            "`{name}` is a field of {} data, but the hosts carry no typed data here{from}",
                            field.kind
                        );
                        let help = format!(
                            "start with an operation that reads it, e.g. `{}(GROUP) | …`",
                            field.kind
                        );
                        return Err(EvalError::new(message, arg.at).help(Some(help)));
                    }
                    _ => {}
                }
            }
            ArgKind::Call { args, .. } | ArgKind::List(args) => check_fields(args, carried, registry)?,
            _ => {}
        }
    }
    Ok(())
}

fn check<'a>(text: &str, context: &'a Context) -> Result<Vec<Resolved<'a>>, EvalError> {
    let line = parse_line(text)?;
    let mut resolved = Vec::with_capacity(line.steps.len());
    let mut carried = Carried::Nothing(None);
    for (index, step) in line.steps.iter().enumerate() {
        let entry = find(context.registry, &step.name, step.at, |kind| {
            matches!(kind, Kind::Operation | Kind::Step | Kind::Pipeline | Kind::JobSet)
        })?;
        if entry.kind == Kind::JobSet {
            return Err(EvalError::new(
                format!("`{}` is a job set, not a step of a pipeline", step.name),
                step.at,
            )
            .help(Some(format!("type `{} GROUP` at the live prompt to schedule its jobs", step.name))));
        }
        let (hosts, rest) = if index == 0 {
            if entry.kind == Kind::Step {
                return Err(EvalError::new(
                    format!(
                        "`{}` is a step: it works on the run of the step before it, so it cannot start a pipeline",
                        step.name
                    ),
                    step.at,
                )
                .help(Some(
                    "start with an operation or pipeline on a group, e.g. `ls(sandbox, \"/\", \"-la\") | pretty`".into(),
                )));
            }
            // The grammar guarantees the first step has a first argument.
            let Some(first) = step.args.first() else {
                return Err(EvalError::new(
                    "the first step needs the host set as its first argument",
                    step.at,
                ));
            };
            (Some(group(first, context)?), &step.args[1..])
        } else {
            if entry.kind == Kind::Pipeline {
                return Err(EvalError::new(
                    format!(
                        "`{}` is a pipeline: it starts from a host set, so it cannot follow `|`",
                        step.name
                    ),
                    step.at,
                )
                .help(Some(format!("run it first: `{}(GROUP) | …`", step.name))));
            }
            (None, &step.args[..])
        };
        let args = arguments(entry, step.at, rest, context)?;
        check_fields(rest, &carried, context.registry)?;
        carried = carried.after(entry);
        resolved.push(Resolved { entry, hosts, args });
    }
    Ok(resolved)
}

/// Looks `name` up among entries whose kind passes `wanted`, with a suggestion when it is unknown.
fn find<'a>(
    registry: &'a Registry,
    name: &str,
    at: Columns,
    wanted: impl Fn(Kind) -> bool,
) -> Result<&'a Entry, EvalError> {
    if let Some(entry) = registry.find(name).filter(|e| wanted(e.kind)) {
        return Ok(entry);
    }
    let candidates: Vec<&str> =
        registry.entries().iter().filter(|e| wanted(e.kind)).map(|e| e.name.as_str()).collect();
    if registry.was_removed(name) {
        return Err(EvalError::new(format!("`{name}` was removed from ops by a reload"), at).help(Some(
            "put it back in ops/src and save, or use another name (`list` shows what there is now)".into(),
        )));
    }
    let message = match registry.find(name) {
        Some(other) if other.kind == Kind::Operation => {
            format!("`{name}` is an operation and cannot be used here")
        }
        Some(other) => format!("`{name}` is a {} and cannot be used here", other.kind),
        None if wanted(Kind::Predicate) && !wanted(Kind::Operation) => format!("unknown predicate `{name}`"),
        None if wanted(Kind::Field) && !wanted(Kind::Operation) => format!("unknown field `{name}`"),
        None => format!("unknown operation, step or pipeline `{name}`"),
    };
    let help =
        did_you_mean(name, candidates.iter().copied()).map(|s| format!("did you mean `{s}`?")).or_else(
            || Some(format!("`remote list` shows them all; here it takes one of: {}", candidates.join(", "))),
        );
    Err(EvalError::new(message, at).help(help))
}

/// The group a first argument names.
fn group(arg: &Arg, context: &Context) -> Result<Hosts, EvalError> {
    if let ArgKind::Str(text) = &arg.kind {
        // A string is a host-set expression: `ls("web - web-[03]", "/")`.
        let hosts = crate::nodeset::select(text, context.inventory)
            .map_err(|err| EvalError::new(err.to_string(), arg.at))?;
        if hosts.is_empty() {
            return Err(EvalError::new(format!("the host set `{text}` names no host"), arg.at));
        }
        return Ok(Hosts::new(text, hosts, context.driver.clone()));
    }
    let ArgKind::Name(name) = &arg.kind else {
        return Err(EvalError::new(
            "the first argument of the first step is the host set: a group name from the inventory, or a host-set expression in quotes (\"web - web-[03]\")",
            arg.at,
        )
        .help(groups_help(context.inventory)));
    };
    match context.inventory.group(name) {
        Some(group) => Ok(Hosts::new(&group.name, group.hosts.clone(), context.driver.clone())),
        None => {
            let suggestion = did_you_mean(name, context.inventory.names());
            Err(EvalError::new(
                format!("unknown group `{name}` in {}", context.inventory.origin().display()),
                arg.at,
            )
            .help(
                suggestion.map(|s| format!("did you mean `{s}`?")).or_else(|| groups_help(context.inventory)),
            ))
        }
    }
}

fn groups_help(inventory: &dyn Groups) -> Option<String> {
    let names = inventory.names();
    Some(if names.is_empty() {
        "the inventory defines no groups yet".into()
    } else {
        format!("groups: {}", names.join(", "))
    })
}

/// Checks count and types of `args` against `entry` and evaluates them; trailing parameters with a
/// default may be left out.
fn arguments(entry: &Entry, at: Columns, args: &[Arg], context: &Context) -> Result<Vec<Value>, EvalError> {
    let required = entry.params.iter().take_while(|p| p.default.is_none()).count();
    if args.len() < required || args.len() > entry.params.len() {
        let after = match entry.kind {
            Kind::Operation | Kind::Pipeline | Kind::JobSet => " after the host set",
            Kind::Step => " after the run",
            Kind::Predicate | Kind::Field => "",
        };
        let count = if required == entry.params.len() {
            required.to_string()
        } else {
            format!("{required} to {}", entry.params.len())
        };
        return Err(EvalError::new(
            format!("`{}` takes {count} argument(s){after}, got {}", entry.name, args.len()),
            at,
        )
        .help(Some(format!("it is called as `{}`", entry.signature()))));
    }
    let given =
        entry.params.iter().zip(args).map(|(param, arg)| value(arg, param.ty, &param.name, entry, context));
    let defaults = entry.params[args.len()..]
        .iter()
        .map(|param| Ok(Value::Str(param.default.clone().unwrap_or_default())));
    given.chain(defaults).collect()
}

/// Evaluates one argument as type `ty`.
fn value(arg: &Arg, ty: Type, param: &str, entry: &Entry, context: &Context) -> Result<Value, EvalError> {
    let mismatch = || {
        let found = match &arg.kind {
            ArgKind::Str(_) => "a string".to_string(),
            ArgKind::Int(_) => "an integer".to_string(),
            ArgKind::Float(_) => "a number".to_string(),
            ArgKind::Bool(_) => "a bool".to_string(),
            ArgKind::Name(name) => format!("the name `{name}`"),
            ArgKind::Call { name, .. } => format!("a call of `{name}`"),
            ArgKind::List(_) => "a list".to_string(),
        };
        let hint = matches!((&arg.kind, ty), (ArgKind::Name(_), Type::Str))
            .then(|| "strings are written in double quotes".to_string());
        EvalError::new(format!("`{param}` of `{}` is a {ty}, but this is {found}", entry.name), arg.at)
            .help(hint)
    };
    Ok(match (ty, &arg.kind) {
        (Type::Str, ArgKind::Str(text)) => Value::Str(text.clone()),
        (Type::Int, ArgKind::Int(number)) => Value::Int(*number),
        (Type::Float, ArgKind::Int(number)) => Value::Float(*number as f64),
        (Type::Float, ArgKind::Float(number)) => Value::Float(*number),
        (Type::Bool, ArgKind::Bool(flag)) => Value::Bool(*flag),
        (Type::Predicate, ArgKind::Name(name)) => predicate(name, arg.at, &[], arg.at, context)?,
        (Type::Predicate, ArgKind::Call { name, name_at, args }) => {
            predicate(name, *name_at, args, arg.at, context)?
        }
        (Type::Stock, ArgKind::Call { name, name_at, args }) => {
            stock_call(name, *name_at, args, arg.at, context)?
        }
        (Type::Field, ArgKind::Name(name)) => Value::Field(field_named(name, arg.at, context)?),
        _ => return Err(mismatch()),
    })
}

/// The field selector called `name`, with "did you mean" when there is none.
fn field_named(name: &str, at: Columns, context: &Context) -> Result<crate::fields::Select, EvalError> {
    match find(context.registry, name, at, |kind| kind == Kind::Field)?.callable {
        Callable::Field(select) => Ok(select),
        _ => Err(EvalError::new(format!("`{name}` is not a field"), at)),
    }
}

/// A stock: `stock("Title", field)`, optionally inside `sliding(…, n)` and `fleet(…)`.
fn stock_call(
    name: &str,
    name_at: Columns,
    args: &[Arg],
    at: Columns,
    context: &Context,
) -> Result<Value, EvalError> {
    let usage = || {
        Some(
            "a stock is `stock(\"Title\", field)` or `stock(\"Title\", [field, …])`, e.g. `stock(\"Idle CPU\", idle)` or \
              `stock(\"CPU\", [usr, sys])`, smoothed by `sliding(stock(…), 12)` or with fleet lines by `fleet(stock(…))`"
                .to_string(),
        )
    };
    let inner = |arg: &Arg| -> Result<crate::stocks::Stock, EvalError> {
        match &arg.kind {
            ArgKind::Call { name, name_at, args } => match stock_call(name, *name_at, args, arg.at, context)?
            {
                Value::Stock(stock) => Ok(stock),
                _ => Err(EvalError::new("expected a stock", arg.at).help(usage())),
            },
            _ => {
                Err(EvalError::new("expected a stock, such as `stock(\"Idle CPU\", idle)`", arg.at)
                    .help(usage()))
            }
        }
    };
    match (name, args) {
        ("stock", [title, field]) => {
            let ArgKind::Str(title) = &title.kind else {
                return Err(EvalError::new("the title of a stock is a string", title.at).help(usage()));
            };
            let not_a_field = |at| {
                EvalError::new(
                    "the second argument of `stock` is a field, such as `idle`, or a list of them, such as `[usr, sys]`",
                    at,
                )
                .help(usage())
            };
            let named = |arg: &Arg| match &arg.kind {
                ArgKind::Name(name) => field_named(name, arg.at, context),
                _ => Err(not_a_field(arg.at)),
            };
            let written = match &field.kind {
                ArgKind::List(list) if list.is_empty() => {
                    return Err(EvalError::new("a stock draws at least one field", field.at).help(usage()));
                }
                ArgKind::List(list) => list.iter().collect::<Vec<_>>(),
                _ => vec![field],
            };
            let mut fields: Vec<crate::fields::Select> = Vec::with_capacity(written.len());
            for arg in written {
                let select = named(arg)?;
                let (this, first) = (select(), fields.first().map(|f| f()));
                if fields.iter().any(|f| f().name == this.name) {
                    // Twice in one stock, each reading would be drawn, averaged and kept twice.
                    return Err(EvalError::new(format!("`{}` is in this stock twice", this.name), arg.at)
                        .help(usage()));
                }
                if let Some(first) = first.filter(|first| first.kind != this.kind) {
                    let message = format!(
                        "the fields of a stock are of one kind of data, but `{}` is {} data and `{}` {} data",
                        first.name, first.kind, this.name, this.kind
                    );
                    return Err(EvalError::new(message, arg.at).help(usage()));
                }
                fields.push(select);
            }
            Ok(Value::Stock(crate::stocks::stock(title, fields)))
        }
        ("sliding", [stock, readings]) => {
            let ArgKind::Int(readings) = readings.kind else {
                return Err(EvalError::new(
                    "`sliding` averages over a whole number of readings",
                    readings.at,
                )
                .help(usage()));
            };
            if readings < 1 {
                return Err(EvalError::new("`sliding` needs at least 1 reading", at).help(usage()));
            }
            Ok(Value::Stock(crate::stocks::sliding(inner(stock)?, readings)))
        }
        ("fleet", [stock]) => Ok(Value::Stock(crate::stocks::fleet(inner(stock)?))),
        ("stock" | "sliding" | "fleet", _) => {
            Err(EvalError::new(format!("`{name}` got {} argument(s)", args.len()), at).help(usage()))
        }
        _ => Err(EvalError::new(format!("a stock is wanted here, but this is a call of `{name}`"), name_at)
            .help(usage())),
    }
}

fn predicate(
    name: &str,
    name_at: Columns,
    args: &[Arg],
    at: Columns,
    context: &Context,
) -> Result<Value, EvalError> {
    let entry = find(context.registry, name, name_at, |kind| kind == Kind::Predicate)?;
    let Callable::Builtin(Invoke::Predicate(make)) = entry.callable else {
        return Err(EvalError::new(format!("`{name}` is not a predicate"), name_at));
    };
    let values = arguments(entry, at, args, context)?;
    make(values).map(Value::Predicate).map_err(|error| EvalError::new(error.to_string(), at))
}

/// Runs checked steps in order, threading the run.
fn execute(calls: Vec<Resolved>, context: &Context) -> Run {
    let mut current: Option<Run> = None;
    for Resolved { entry, hosts, args } in calls {
        let on = match (hosts, current.take()) {
            (Some(hosts), _) => On::Hosts(hosts),
            (None, Some(run)) => On::After(run),
            // `check` gives the first step a host set, so every later step has a run.
            (None, None) => unreachable!("a step without a host set or a previous run"),
        };
        current = Some(call(entry, on, args, context));
    }
    current.unwrap_or_else(|| unreachable!("a parsed line has at least one step"))
}

fn call(entry: &Entry, on: On, args: Vec<Value>, context: &Context) -> Run {
    let refuse = |on: On, cause: String| on.refuse(&entry.name, HostError::Library { cause });
    // A built-in that fails as a whole is a bug of remote's, reported as one.
    let bug = |on: On, error: CallError| {
        on.refuse(&entry.name, HostError::Internal { cause: format!("`{}` {error}", entry.name) })
    };
    match (entry.callable, on) {
        // Built-ins run under the same guard as ops: a bug in a parser must fail the step's hosts, not end
        // the prompt.
        (Callable::Builtin(Invoke::Operation(operation)), on) => {
            let fallback = on.skeleton();
            guard(|| Ok(operation(on, args)?)).unwrap_or_else(|error| bug(fallback, error))
        }
        (Callable::Builtin(Invoke::Step(step)), On::After(run)) => {
            let fallback = run.skeleton();
            guard(|| Ok(step(run, args)?)).unwrap_or_else(|error| bug(On::After(fallback), error))
        }
        (Callable::Builtin(Invoke::Pipeline(pipeline)), On::Hosts(hosts)) => {
            let fallback = On::Hosts(hosts.clone());
            guard(|| Ok(pipeline(&hosts))).unwrap_or_else(|error| bug(fallback, error))
        }
        (Callable::Library, On::Hosts(hosts)) => library(
            context,
            Call::Pipeline { name: entry.name.clone(), hosts: hosts.clone() },
            On::Hosts(hosts),
        ),
        (Callable::Library, On::After(run)) => {
            let fallback = run.skeleton();
            library(context, Call::Step { name: entry.name.clone(), run, args }, On::After(fallback))
        }
        (_, on) => refuse(on, format!("`{}` cannot run here", entry.name)),
    }
}

/// Calls into `ops`; when it fails (a panic, a missing export) every host of the step says why.
fn library(context: &Context, call: Call, on: On) -> Run {
    let name = call.name().to_string();
    let result = match context.library {
        Some(library) => library.invoke(call),
        None => Err(CallError::Unavailable { why: "no ops library is loaded".into() }),
    };
    result.unwrap_or_else(|error| on.refuse(&name, HostError::Library { cause: error.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_echoes_a_safe_window_of_the_line() {
        let check = |line: &str, start: usize, end: usize, expected: &str| {
            let error = EvalError::new("unknown operation `x`", Columns { start, end });
            assert_eq!(error.render(line), expected, "{line:?}");
        };
        check("lss(sandbox)", 1, 4, "error: unknown operation `x` (column 1)\n  lss(sandbox)\n  ^^^\n");
        // An escape or a bidirectional override is shown as `·`, one for one, so the caret stays under its
        // column.
        check(
            "a(\u{1b}[31m, \u{202e}b)",
            10,
            11,
            "error: unknown operation `x` (column 10)\n  a(·[31m, ·b)\n           ^\n",
        );
        // A long line: a window around the error, cut with `…`, the caret under the same character.
        let long = format!("ls(sandbox, \"{}\") | oops | {}", "A".repeat(1000), "B".repeat(1000));
        let column = long.find("oops").unwrap() + 1;
        let rendered =
            EvalError::new("unknown step `oops`", Columns { start: column, end: column + 4 }).render(&long);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines.len(), 3, "{rendered}");
        assert!(lines[1].chars().count() <= 2 + 2 + 100, "{}", lines[1]);
        assert!(lines[1].starts_with("  …") && lines[1].ends_with('…'), "{}", lines[1]);
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().skip(caret).take(4).collect::<String>(), "oops", "{rendered}");
        // At the very start and the very end of a long line.
        let rendered = EvalError::new("m", Columns { start: 1, end: 2 }).render(&long);
        assert!(rendered.contains(&format!("\n  ls(sandbox, \"{}…\n  ^\n", "A".repeat(87))), "{rendered}");
        let end = long.chars().count() + 1;
        let rendered = EvalError::new("m", Columns { start: end, end: end + 1 }).render(&long);
        assert!(rendered.ends_with(&format!("…{}\n  {}^\n", "B".repeat(100), " ".repeat(101))), "{rendered}");
    }

    #[test]
    fn a_message_quoting_a_pasted_megabyte_is_cut() {
        let error = EvalError::new(
            format!("unknown operation `{}\u{1b}`", "x".repeat(1 << 20)),
            Columns { start: 1, end: 2 },
        );
        let rendered = error.render("x");
        assert!(rendered.len() < 1000, "{} bytes", rendered.len());
        assert!(
            rendered.starts_with(&format!("error: unknown operation `{}…", "x".repeat(281))),
            "{rendered}"
        );
    }
}
