//! The boundary to `ops`: declarations gathered from `#[remote::…]` attributes, the catalog built from
//! them, and the stable entry points a hot-reloaded `ops` library exports.
//!
//! Every pipeline, step, operation and predicate, built-in or the user's, is declared once by an
//! attribute on its function (`#[remote::pipeline]`, `#[remote::step]`, and for remote-std's built-ins
//! `#[remote::operation]`, `#[remote::predicate]`). The attribute adds a [`Declared`] to one distributed
//! slice ([`DECLARED`], gathered by the linker through `linkme`), so nothing can be declared and not
//! registered, and `remote list` is read from the code itself.
//!
//! `ops` is linked statically into `remote` for CI and loaded as a hot-reloaded library by `remote live`.
//! Either way the host sees it only through [`Library`]: `catalog()` says what exists, `invoke()` runs
//! one thing by name. New pipelines therefore appear after a reload without the host knowing them when
//! it was compiled. A loaded library's own copy of this module answers through [`remote_ops_catalog`]
//! and [`remote_ops_invoke`], after the host has compared [`remote_ops_abi`] with its own [`ABI`].

use std::cell::Cell;
use std::ffi::c_char;
use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::sync::Once;

use linkme::distributed_slice;

use crate::hosts::Hosts;
use crate::run::{On, Run};
use crate::value::{ArgumentError, Predicate, Type, Value};

/// What kind of thing a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Runs a command on a host set or after a run.
    Operation,
    /// Transforms or shows a run.
    Step,
    /// Tests one host's outcome; used inside `pick(…)`.
    Predicate,
    /// A named pipeline from `ops`: starts from a host set.
    Pipeline,
    /// A set of jobs from `ops` for a host set: `NAME GROUP` at the live prompt schedules them all.
    JobSet,
    /// A named number in hosts' typed data, for `above`/`below` and stocks (see [`crate::fields`]).
    Field,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Operation => "operation",
            Kind::Step => "step",
            Kind::Predicate => "predicate",
            Kind::Pipeline => "pipeline",
            Kind::JobSet => "job set",
            Kind::Field => "field",
        })
    }
}

/// One parameter, after the implicit host set or run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name, as in the Rust function.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// The string it is when left out at the prompt, if it may be (only trailing string parameters
    /// have one). Rust has no default arguments, so in `pipeline!` every parameter is written.
    pub default: Option<String>,
}

impl Param {
    /// `name: type`, with ` = "default"` when it may be left out.
    pub fn describe(&self) -> String {
        match &self.default {
            Some(default) => format!("{}: {} = {default:?}", self.name, self.ty),
            None => format!("{}: {}", self.name, self.ty),
        }
    }
}

/// One declared name, as it crosses the boundary: owned data only, so nothing in it points into a
/// library that a reload unloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The function's name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Parameters after the host set or run (all of them for predicates).
    pub params: Vec<Param>,
    /// One line of documentation: the doc comment's first paragraph.
    pub doc: String,
    /// The kind of typed data an operation returns (`cpu`, `disk`, …), whose fields `remote list` shows.
    pub data: Option<String>,
}

impl Export {
    /// How it is called, e.g. `ls(hs, target: string, flags: string)` or `pick(run, keep: predicate)`.
    pub fn signature(&self) -> String {
        let first = match self.kind {
            Kind::Operation | Kind::Pipeline | Kind::JobSet => Some("hs"),
            Kind::Step => Some("run"),
            Kind::Predicate | Kind::Field => None,
        };
        let params: Vec<String> =
            first.map(str::to_string).into_iter().chain(self.params.iter().map(Param::describe)).collect();
        if params.is_empty() {
            // A predicate without parameters is used by name: `pick(successful)`.
            return self.name.clone();
        }
        format!("{}({})", self.name, params.join(", "))
    }
}

/// A parameter as the attribute writes it down, in static data.
#[derive(Debug)]
pub struct DeclaredParam {
    /// The Rust parameter name.
    pub name: &'static str,
    /// What the prompt must pass.
    pub ty: Type,
    /// The default for a trailing string parameter, from `default(name = "…")` in the attribute.
    pub default: Option<&'static str>,
}

/// How a declared function is called with evaluated prompt arguments. The adapters are generated by the
/// attribute; arguments arrive already type-checked against the parameters.
#[derive(Clone, Copy)]
pub enum Invoke {
    /// `fn(hs: &Hosts) -> Run`.
    Pipeline(fn(&Hosts) -> Run),
    /// `fn(on: impl Into<On>, args…) -> Run`.
    Operation(fn(On, Vec<Value>) -> Result<Run, ArgumentError>),
    /// `fn(run: Run, args…) -> Run`.
    Step(fn(Run, Vec<Value>) -> Result<Run, ArgumentError>),
    /// `fn(&HostResult) -> bool`, or `fn(args…) -> impl Fn(&HostResult) -> bool`.
    Predicate(fn(Vec<Value>) -> Result<Predicate, ArgumentError>),
    /// `fn(hs: &Hosts) -> Vec<JobSpec>`.
    JobSet(fn(&Hosts) -> Vec<JobSpec>),
}

/// One job of a job set: `watch NAME SCHEDULE LINE` at the prompt, written in `ops`.
///
/// ```
/// use remote_core::{Hosts, JobSpec};
/// # use remote_macros::declare_jobs as jobs;
/// // In `ops`: `use remote_std::prelude::*;` and `#[remote::jobs]`.
///
/// /// The listing every 5 s and the disk use every morning.
/// #[jobs]
/// pub fn stats_jobs(hs: &Hosts) -> Vec<JobSpec> {
///     vec![
///         JobSpec::pipeline("listing", "every 5s", "listing", hs),
///         JobSpec::line("disk", "daily 06:00", format!("exec({}, \"df -h /\") | pretty", hs.group())),
///     ]
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// The job's name (a job of that name is replaced).
    pub name: String,
    /// When it runs, as after `watch NAME` (`every 5s`, `daily 07:30`, …).
    pub schedule: String,
    /// What it runs: a prompt line, `PIPELINE GROUP` or an expression.
    pub line: String,
}

impl JobSpec {
    /// A job running the named pipeline on the host set's group.
    pub fn pipeline(name: &str, schedule: &str, pipeline: &str, hosts: &Hosts) -> Self {
        JobSpec {
            name: name.into(),
            schedule: schedule.into(),
            line: format!("{pipeline} {}", hosts.group()),
        }
    }

    /// A job running any prompt line.
    pub fn line(name: &str, schedule: &str, line: impl Into<String>) -> Self {
        JobSpec { name: name.into(), schedule: schedule.into(), line: line.into() }
    }
}

/// What one `#[remote::…]` attribute records about its function.
pub struct Declared {
    /// The function's name.
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// Its doc comment, lines joined with `\n`.
    pub doc: &'static str,
    /// Parameters after the host set or run.
    pub params: &'static [DeclaredParam],
    /// The crate that declared it: `remote_std` for built-ins.
    pub origin: &'static str,
    /// Where it was written, so that lists keep the order of the source.
    pub file: &'static str,
    /// The line it was written on.
    pub line: u32,
    /// The generated adapter.
    pub invoke: Invoke,
    /// `data = "…"` of a built-in operation: the kind of typed data it returns.
    pub data: Option<&'static str>,
}

impl Declared {
    /// Whether remote-std declared it (a built-in) rather than `ops`.
    pub fn is_builtin(&self) -> bool {
        self.origin == BUILTIN_ORIGIN
    }

    /// The owned description that crosses the boundary.
    pub fn export(&self) -> Export {
        Export {
            name: self.name.to_string(),
            kind: self.kind,
            params: self
                .params
                .iter()
                .map(|p| Param { name: p.name.to_string(), ty: p.ty, default: p.default.map(str::to_string) })
                .collect(),
            doc: first_paragraph(self.doc),
            data: self.data.map(str::to_string),
        }
    }
}

/// The crate built-ins are declared in.
const BUILTIN_ORIGIN: &str = "remote_std";

/// The doc comment's first paragraph on one line.
fn first_paragraph(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every declaration linked into this binary or library (this module's copy of the slice: a loaded
/// `ops` library has its own).
#[distributed_slice]
pub static DECLARED: [Declared];

/// The declarations linked here, in the order of the source (file, then line).
pub fn declared() -> Vec<&'static Declared> {
    let mut all: Vec<&'static Declared> = DECLARED.iter().collect();
    all.sort_by_key(|d| (!d.is_builtin(), d.file, d.line));
    all
}

/// A request to run one export.
pub enum Call {
    /// Run pipeline `name` on `hosts`.
    Pipeline {
        /// The pipeline's name.
        name: String,
        /// Where to run it.
        hosts: Hosts,
    },
    /// Run step `name` on `run` with `args` (already type-checked against the catalog).
    Step {
        /// The step's name.
        name: String,
        /// The previous run.
        run: Run,
        /// The step's arguments after the run.
        args: Vec<Value>,
    },
}

impl Call {
    /// The name asked for.
    pub fn name(&self) -> &str {
        match self {
            Call::Pipeline { name, .. } | Call::Step { name, .. } => name,
        }
    }
}

/// Why a declared function of ops (or a built-in) gave no result. It crosses the hot-reload boundary as owned
/// data, so nothing in it points into a library that a reload unloads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// It panicked: where (when the panic hook saw it) and with what message.
    #[error("panicked{}: {message}", at.as_ref().map(|at| format!(" at {at}")).unwrap_or_default())]
    Panicked {
        /// `file:line:column` of the panic.
        at: Option<String>,
        /// The panic's message.
        message: String,
    },
    /// The library exports nothing of this kind and name.
    #[error("ops exports no {kind} called `{name}`")]
    NotExported {
        /// What was asked for.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// A declaration whose adapter does not fit its kind: a bug of the attribute.
    #[error("`{name}` is declared as a {kind} with the wrong shape")]
    WrongShape {
        /// What it was called as.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// A reload removed it after the line naming it was checked.
    #[error("`{name}` was removed from ops by a reload; put it back in ops/src and save, or see `list`")]
    Removed {
        /// Its name.
        name: String,
    },
    /// An argument did not fit its parameter.
    #[error(transparent)]
    Argument(#[from] ArgumentError),
    /// No library can take the call now: none is loaded, or it failed to load, or lacks an entry point.
    #[error("{why}")]
    Unavailable {
        /// Why, in words.
        why: String,
    },
}

/// A library of pipelines: `ops`, linked statically or hot-reloaded.
pub trait Library: Send + Sync {
    /// Its pipelines, steps and job sets, in the order written.
    fn catalog(&self) -> Vec<Export>;
    /// Runs one export; a panic inside becomes an `Err`, never an abort of the host.
    fn invoke(&self, call: Call) -> Result<Run, CallError>;
    /// The jobs of job set `name` for `hosts`; a panic inside becomes an `Err`.
    fn jobs(&self, name: &str, hosts: Hosts) -> Result<Vec<JobSpec>, CallError>;
    /// Names it exported earlier and no longer does (after a reload), so that calling one says so.
    fn removed(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The `ops` linked into this binary (CI builds, `remote run`, tests): the declarations of this copy of
/// the slice that are not remote-std's built-ins.
pub struct Linked;

impl Library for Linked {
    fn catalog(&self) -> Vec<Export> {
        library_catalog()
    }

    fn invoke(&self, call: Call) -> Result<Run, CallError> {
        library_invoke(call)
    }

    fn jobs(&self, name: &str, hosts: Hosts) -> Result<Vec<JobSpec>, CallError> {
        library_jobs(name, hosts)
    }
}

/// The pipelines and steps declared outside remote-std, in source order.
fn library_catalog() -> Vec<Export> {
    declared()
        .into_iter()
        .filter(|d| !d.is_builtin() && matches!(d.kind, Kind::Pipeline | Kind::Step | Kind::JobSet))
        .map(Declared::export)
        .collect()
}

/// Runs the pipeline or step `call` names, from the declarations outside remote-std; a panic comes back as
/// an error.
fn library_invoke(call: Call) -> Result<Run, CallError> {
    let wanted = match &call {
        Call::Pipeline { .. } => Kind::Pipeline,
        Call::Step { .. } => Kind::Step,
    };
    let Some(declared) =
        declared().into_iter().find(|d| !d.is_builtin() && d.kind == wanted && d.name == call.name())
    else {
        return Err(CallError::NotExported { kind: wanted, name: call.name().to_string() });
    };
    guard(move || match (declared.invoke, call) {
        (Invoke::Pipeline(pipeline), Call::Pipeline { hosts, .. }) => Ok(pipeline(&hosts)),
        (Invoke::Step(step), Call::Step { run, args, .. }) => Ok(step(run, args)?),
        _ => Err(CallError::WrongShape { kind: wanted, name: declared.name.to_string() }),
    })
}

/// The jobs of the job set `name` declared outside remote-std, for `hosts`; a panic comes back as an error.
fn library_jobs(name: &str, hosts: Hosts) -> Result<Vec<JobSpec>, CallError> {
    let Some(declared) =
        declared().into_iter().find(|d| !d.is_builtin() && d.kind == Kind::JobSet && d.name == name)
    else {
        return Err(CallError::NotExported { kind: Kind::JobSet, name: name.to_string() });
    };
    let Invoke::JobSet(jobs) = declared.invoke else {
        return Err(CallError::WrongShape { kind: Kind::JobSet, name: name.to_string() });
    };
    guard(|| Ok(jobs(&hosts)))
}

/// The stamp of everything the two sides of the boundary must agree on: compiler, profile, flags,
/// remote-core's source and the workspace's Cargo.lock (computed by `build.rs`). The prefix lets the
/// host read a library's stamp from the file before loading it.
pub const ABI: &str = concat!("REMOTE_ABI_STAMP:", env!("REMOTE_ABI_STAMP"), "\0");

/// The stamp without its prefix and terminator, as messages show it.
pub fn abi_stamp() -> &'static str {
    ABI.trim_start_matches("REMOTE_ABI_STAMP:").trim_end_matches('\0')
}

/// Entry point of a loaded `ops` library: its ABI stamp, a NUL-terminated string. C ABI, so that the host
/// can call it safely before it knows the library was built like itself.
#[unsafe(no_mangle)]
pub extern "C" fn remote_ops_abi() -> *const c_char {
    ABI.as_ptr().cast()
}

/// Entry point of a loaded `ops` library: its catalog. Called only after the stamps matched.
#[unsafe(no_mangle)]
pub fn remote_ops_catalog() -> Vec<Export> {
    catch_unwind(library_catalog).unwrap_or_default()
}

/// Entry point of a loaded `ops` library: runs one export. Called only after the stamps matched.
#[unsafe(no_mangle)]
pub fn remote_ops_invoke(call: Call) -> Result<Run, CallError> {
    library_invoke(call)
}

/// Entry point of a loaded `ops` library: the jobs of one job set. Called only after the stamps matched.
#[unsafe(no_mangle)]
pub fn remote_ops_jobs(name: &str, hosts: Hosts) -> Result<Vec<JobSpec>, CallError> {
    library_jobs(name, hosts)
}

thread_local! {
    // Plain `Cell`s of `Copy` data: no destructor is registered for them, so a library that used them
    // can still be unloaded after a reload.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static PANICKED_AT: Cell<Option<&'static Location<'static>>> = const { Cell::new(None) };
}

static HOOK: Once = Once::new();

/// Records where a panic inside [`guard`] happened, instead of printing it through the prompt; other
/// panics go to the hook that was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.get() {
                PANICKED_AT.set(info.location().map(|l| -> &'static Location<'static> {
                    // A location names a place in the binary that panicked; it lives as long as the code
                    // does, and the message is copied out before that code can be unloaded.
                    unsafe { std::mem::transmute::<&Location<'_>, &'static Location<'static>>(l) }
                }));
            } else {
                previous(info);
            }
        }));
    });
}

/// The message a panic was raised with (`panic!("…")`), for reporting a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string())
}

/// Runs `body`, turning a panic into an error message with its location. Every entry point into
/// declared code goes through it, inside the library, because a panic unwinding out of a dynamic
/// library would abort the host.
pub fn guard<T>(body: impl FnOnce() -> Result<T, CallError>) -> Result<T, CallError> {
    install_hook();
    let outer = GUARDED.replace(true);
    PANICKED_AT.set(None);
    let result = catch_unwind(AssertUnwindSafe(body));
    GUARDED.set(outer);
    result.unwrap_or_else(|panic| {
        let message = panic_message(panic.as_ref());
        Err(CallError::Panicked { at: PANICKED_AT.take().map(|at| at.to_string()), message })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_an_export_comes_back_as_an_error_with_its_location() {
        let text: Result<Run, CallError> = guard(|| panic!("step blew up"));
        let text = text.err().unwrap().to_string();
        assert!(text.starts_with("panicked at remote-core/src/catalog.rs:"), "{text}");
        assert!(text.ends_with(": step blew up"), "{text}");
        let formatted: Result<Run, CallError> = guard(|| panic!("{} hosts", 3));
        assert!(formatted.err().unwrap().to_string().ends_with(": 3 hosts"));
    }

    #[test]
    fn doc_is_the_first_paragraph_on_one_line() {
        let check = |doc: &str, expected: &str| assert_eq!(first_paragraph(doc), expected, "{doc:?}");
        check(" Lists `/`\n on every host.\n\n More detail.\n", "Lists `/` on every host.");
        check("\n One line.", "One line.");
        check("", "");
    }

    #[test]
    fn call_errors_say_what_happened_in_words() {
        let check = |error: CallError, expected: &str| assert_eq!(error.to_string(), expected);
        check(
            CallError::Panicked { at: Some("ops/src/lib.rs:3:5".into()), message: "boom".into() },
            "panicked at ops/src/lib.rs:3:5: boom",
        );
        check(CallError::Panicked { at: None, message: "boom".into() }, "panicked: boom");
        check(
            CallError::NotExported { kind: Kind::Pipeline, name: "listng".into() },
            "ops exports no pipeline called `listng`",
        );
        check(
            CallError::WrongShape { kind: Kind::JobSet, name: "jobs".into() },
            "`jobs` is declared as a job set with the wrong shape",
        );
        check(
            CallError::Removed { name: "root_df".into() },
            "`root_df` was removed from ops by a reload; put it back in ops/src and save, or see `list`",
        );
        let argument = ArgumentError::Missing { parameter: "target".into(), expected: Type::Str };
        check(CallError::from(argument), "parameter `target` is missing (a string)");
        check(CallError::Unavailable { why: "no ops library is loaded".into() }, "no ops library is loaded");
    }

    #[test]
    fn the_stamp_is_a_hex_digest() {
        assert_eq!(abi_stamp().len(), 16);
        assert!(abi_stamp().chars().all(|c| c.is_ascii_hexdigit()), "{}", abi_stamp());
    }
}
