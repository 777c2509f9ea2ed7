//! The boundary to `ops`: its catalog of pipelines and steps, one stable entry point, and the `export!` macro.
//!
//! `ops` is linked statically into `remote` for CI and loaded as a hot-reloaded library by `remote live`.
//! Either way the host sees it only through [`Library`]: `catalog()` says what exists, `invoke()` runs
//! one thing by name. New pipelines therefore appear after a reload without the host knowing them when
//! it was compiled.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::hosts::Hosts;
use crate::run::Run;
use crate::value::{Type, Value};

/// What `ops` exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// `fn name(hs: &Hosts) -> Run`: run with `remote run NAME GROUP`, or as a first step.
    Pipeline,
    /// `fn name(run: Run, args…) -> Run`: a step for later positions of a pipeline.
    Step,
}

/// One parameter of an exported step (after its `Run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportParam {
    /// The Rust parameter name.
    pub name: String,
    /// What the prompt must pass.
    pub ty: Type,
}

/// One exported pipeline or step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The function's name.
    pub name: String,
    /// Pipeline or step.
    pub kind: ExportKind,
    /// Parameters after the host set or run.
    pub params: Vec<ExportParam>,
    /// One line of documentation.
    pub doc: String,
}

impl Export {
    /// An entry for `kind` named `name`; `doc` is the joined doc-comment lines, of which the first sentence is kept.
    pub fn new(kind: ExportKind, name: &str, doc: &str, params: Vec<ExportParam>) -> Self {
        let doc = doc.lines().map(str::trim).take_while(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        Self { name: name.to_string(), kind, params, doc }
    }
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

/// A library of pipelines: `ops`, linked statically or hot-reloaded.
pub trait Library: Send + Sync {
    /// What it exports, in the order written.
    fn catalog(&self) -> Vec<Export>;
    /// Runs one export; a panic inside becomes an `Err`, never an abort of the host.
    fn invoke(&self, call: Call) -> Result<Run, String>;
}

/// Runs `body`, turning a panic into an error message. `export!` wraps every entry point in it, inside
/// the library, because a panic unwinding out of a dynamic library would abort the host.
pub fn guard(body: impl FnOnce() -> Result<Run, String>) -> Result<Run, String> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with no message".to_string());
        Err(format!("panicked: {message}"))
    })
}

/// Generates `ops`' stable entry points, `catalog()` and `invoke()`, from a list of its pipelines and steps,
/// and `Linked`, the crate as a [`Library`] when linked statically.
///
/// ```
/// use remote_core::prelude::*;
///
/// pub fn listing(hs: &Hosts) -> Run {
///     pipeline!(ls(hs, "/", "-la") | pretty)
/// }
///
/// pub fn mentioning(run: Run, word: String) -> Run {
///     pick(run, stdout_has(&word))
/// }
///
/// remote_core::export! {
///     pipelines {
///         /// Lists `/` on every host.
///         listing,
///     }
///     steps {
///         /// Keeps the hosts whose stdout mentions `word`.
///         mentioning(word: String),
///     }
/// }
///
/// let names: Vec<String> = catalog().into_iter().map(|export| export.name).collect();
/// assert_eq!(names, ["listing", "mentioning"]);
/// ```
/// A step's parameters after its `Run` are repeated here with their types (`String`, `i64`, `f64`,
/// `bool`, `Predicate`), so the prompt can check and pass them; the compiler checks that they match.
#[macro_export]
macro_rules! export {
    (
        pipelines { $( $(#[doc = $pipeline_doc:literal])* $pipeline:ident ),* $(,)? }
        steps { $( $(#[doc = $step_doc:literal])* $step:ident ( $( $param:ident : $ty:ty ),* $(,)? ) ),* $(,)? }
    ) => {
        /// Everything this crate exports to `remote`, in the order written.
        pub fn catalog() -> ::std::vec::Vec<$crate::catalog::Export> {
            ::std::vec![
                $( $crate::catalog::Export::new(
                    $crate::catalog::ExportKind::Pipeline,
                    ::core::stringify!($pipeline),
                    ::core::concat!($($pipeline_doc, "\n"),*),
                    ::std::vec::Vec::new(),
                ), )*
                $( $crate::catalog::Export::new(
                    $crate::catalog::ExportKind::Step,
                    ::core::stringify!($step),
                    ::core::concat!($($step_doc, "\n"),*),
                    ::std::vec![$( $crate::catalog::ExportParam {
                        name: ::core::stringify!($param).to_string(),
                        ty: <$ty as $crate::value::FromValue>::TYPE,
                    } ),*],
                ), )*
            ]
        }

        /// This crate as a [`Library`]($crate::catalog::Library) when it is linked statically (CI builds, tests).
        pub struct Linked;

        impl $crate::catalog::Library for Linked {
            fn catalog(&self) -> ::std::vec::Vec<$crate::catalog::Export> {
                catalog()
            }
            fn invoke(&self, call: $crate::catalog::Call) -> ::core::result::Result<$crate::Run, ::std::string::String> {
                invoke(call)
            }
        }

        /// Runs one export by name; panics come back as errors.
        pub fn invoke(call: $crate::catalog::Call) -> ::core::result::Result<$crate::Run, ::std::string::String> {
            $crate::catalog::guard(move || match call {
                $( $crate::catalog::Call::Pipeline { name, hosts } if name == ::core::stringify!($pipeline) => {
                    ::core::result::Result::Ok($pipeline(&hosts))
                } )*
                $( $crate::catalog::Call::Step { name, run, args } if name == ::core::stringify!($step) => {
                    #[allow(unused_mut, unused_variables)]
                    let mut args = args.into_iter();
                    $( let $param: $ty = $crate::value::FromValue::from_value(args.next(), ::core::stringify!($param))?; )*
                    ::core::result::Result::Ok($step(run $(, $param)*))
                } )*
                other => ::core::result::Result::Err(::std::format!("ops exports nothing called `{}` of that kind", other.name())),
            })
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_an_export_comes_back_as_an_error() {
        let text: Result<Run, String> = guard(|| panic!("step blew up"));
        assert_eq!(text.err().as_deref(), Some("panicked: step blew up"));
        let formatted: Result<Run, String> = guard(|| panic!("{} hosts", 3));
        assert_eq!(formatted.err().as_deref(), Some("panicked: 3 hosts"));
    }

    #[test]
    fn doc_is_the_first_paragraph_on_one_line() {
        let export = Export::new(ExportKind::Pipeline, "listing", " Lists `/`\n on every host.\n\n More detail.\n", Vec::new());
        assert_eq!(export.doc, "Lists `/` on every host.");
    }
}
