//! The operation registry: every built-in operation, step and predicate with its parameters and doc, plus
//! what `ops` exports; `remote list` prints it and the prompt's interpreter resolves names in it.

use std::fmt;

use crate::catalog::{Export, ExportKind, Library};
use crate::run::{On, Run};
use crate::value::{Args, Predicate, Type};
use crate::{operations, steps};

/// What kind of thing a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Runs a command on a host set or after a run.
    Operation,
    /// Transforms or shows a run.
    Step,
    /// Tests one host's outcome; used inside `pick(…)`.
    Predicate,
    /// A named pipeline from `ops`: starts from a host set.
    Pipeline,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Operation => "operation",
            Kind::Step => "step",
            Kind::Predicate => "predicate",
            Kind::Pipeline => "pipeline",
        })
    }
}

/// One parameter.
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

/// How the interpreter calls an entry.
#[derive(Clone, Copy)]
pub(crate) enum Callable {
    Operation(fn(On, &Args) -> Run),
    Step(fn(Run, &Args) -> Run),
    Predicate(fn(&Args) -> Predicate),
    /// Exported by `ops`; called through [`Library::invoke`].
    Library,
}

/// One name the prompt and `remote list` know.
#[derive(Clone)]
pub struct Entry {
    /// The name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Parameters after the implicit host set or run (operations, steps, pipelines) or all of them (predicates).
    pub params: Vec<Param>,
    /// One line of documentation.
    pub doc: String,
    pub(crate) callable: Callable,
}

impl Entry {
    /// How it is called, e.g. `ls(hs, target: string, flags: string)` or `pick(run, keep: predicate)`.
    pub fn signature(&self) -> String {
        let first = match self.kind {
            Kind::Operation | Kind::Pipeline => Some("hs"),
            Kind::Step => Some("run"),
            Kind::Predicate => None,
        };
        let params: Vec<String> = first.map(str::to_string).into_iter().chain(self.params.iter().map(Param::describe)).collect();
        if params.is_empty() {
            // A predicate without parameters is used by name: `pick(successful)`.
            return self.name.clone();
        }
        format!("{}({})", self.name, params.join(", "))
    }
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

fn param(name: &str, ty: Type) -> Param {
    Param { name: name.to_string(), ty, default: None }
}

/// A string parameter that may be left out at the prompt.
fn optional(name: &str, default: &str) -> Param {
    Param { name: name.to_string(), ty: Type::Str, default: Some(default.to_string()) }
}

fn entry(name: &str, kind: Kind, params: Vec<Param>, doc: &str, callable: Callable) -> Entry {
    Entry { name: name.to_string(), kind, params, doc: doc.to_string(), callable }
}

/// The built-in operations, steps and predicates, in the order `remote list` shows them.
pub fn builtins() -> Vec<Entry> {
    use Callable as C;
    use Kind::{Operation, Predicate as Pred, Step};
    use Type::{Predicate as P, Str};
    vec![
        entry(
            "ls",
            Operation,
            vec![param("target", Str), optional("flags", "")],
            "Lists a folder: `ls FLAGS TARGET`.",
            C::Operation(|on, a| operations::ls(on, a.str(0), a.str(1))),
        ),
        entry(
            "exec",
            Operation,
            vec![param("script", Str)],
            "Runs shell code in the login shell.",
            C::Operation(|on, a| operations::exec(on, a.str(0))),
        ),
        entry(
            "mkdir",
            Operation,
            vec![param("folder", Str), optional("flags", "")],
            "Creates a folder: `mkdir FLAGS FOLDER`.",
            C::Operation(|on, a| operations::mkdir(on, a.str(0), a.str(1))),
        ),
        entry(
            "rm",
            Operation,
            vec![param("target", Str), optional("flags", "")],
            "Removes files: `rm FLAGS TARGET`.",
            C::Operation(|on, a| operations::rm(on, a.str(0), a.str(1))),
        ),
        entry(
            "uptime",
            Operation,
            vec![],
            "Shows how long each host has been up, and its load.",
            C::Operation(|on, _| operations::uptime(on)),
        ),
        entry(
            "pretty",
            Step,
            vec![],
            "Shows the run summary (✔/✖ per host) and passes the run on.",
            C::Step(|run, _| steps::pretty(run)),
        ),
        entry(
            "pick",
            Step,
            vec![param("keep", P)],
            "Keeps only the hosts whose outcome passes `keep`.",
            C::Step(|run, a| {
                let keep = a.predicate(0);
                steps::pick(run, move |r| keep.test(r))
            }),
        ),
        entry(
            "successful",
            Pred,
            vec![],
            "The host's command ran and exited 0.",
            C::Predicate(|_| Predicate::new("successful", steps::successful)),
        ),
        entry(
            "failed",
            Pred,
            vec![],
            "The host could not run its command, or it exited non-zero.",
            C::Predicate(|_| Predicate::new("failed", steps::failed)),
        ),
        entry(
            "stdout_has",
            Pred,
            vec![param("text", Str)],
            "The host's stdout contains `text`.",
            C::Predicate(|a| Predicate::new(format!("stdout_has({:?})", a.str(0)), steps::stdout_has(a.str(0)))),
        ),
    ]
}

/// Built-ins plus what a library exports. An export named like a built-in takes its place, as the
/// user's own function does over the prelude's inside `ops`, so a name means the same in both backends.
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// The built-ins and the exports of `library`, if any.
    pub fn new(library: Option<&dyn Library>) -> Self {
        let mut entries = builtins();
        if let Some(library) = library {
            for export in library.catalog().into_iter().map(from_export) {
                match entries.iter_mut().find(|e| e.name == export.name) {
                    Some(builtin) => *builtin = export,
                    None => entries.push(export),
                }
            }
        }
        Self { entries }
    }

    /// Every entry, built-ins first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry called `name`.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

fn from_export(export: Export) -> Entry {
    let kind = match export.kind {
        ExportKind::Pipeline => Kind::Pipeline,
        ExportKind::Step => Kind::Step,
    };
    let params = export.params.into_iter().map(|p| param(&p.name, p.ty)).collect();
    Entry { name: export.name, kind, params, doc: export.doc, callable: Callable::Library }
}
