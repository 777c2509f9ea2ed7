//! The macros of `remote`: `pipeline!` (parse → validate → expand a `step | step | …` chain into calls on
//! `remote-core`) and the attributes that declare pipelines, steps, operations and predicates.
//!
//! Parsing and validation of pipelines live in `remote-syntax`, shared with the prompt's interpreter so
//! that both backends accept exactly the same pipelines; this crate adds the Rust expansion. The
//! attributes are re-exported by `remote_std::prelude` as `remote::pipeline`, `remote::step`, … (an
//! attribute cannot share the name `pipeline` with the function-like macro).
//! Architecture invariant: this crate does no I/O and never depends on tokio.

mod declare;
mod expand;

use proc_macro::TokenStream;

/// Threads a `Run` through steps: `pipeline!(ls(hs, "/", "-la") | pretty)`.
///
/// The first step is called as written, with the host set as its first argument. Every later step
/// is called with the previous step's `Run` put in front of its own arguments: `pretty` becomes
/// `pretty(run)` and `pick(successful)` becomes `pick(run, successful)`. Steps are plain functions
/// found by Rust's name resolution (`use remote_std::prelude::*;` brings the built-in ones).
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    let parsed = syn::parse_macro_input!(input as remote_syntax::Pipeline);
    let checked = remote_syntax::validate(&parsed);
    expand::expand(&parsed, checked).into()
}

/// Declares a pipeline, `fn name(hs: &Hosts) -> Run`: `remote run NAME GROUP`, `remote list` and the
/// prompt find it by its name; its doc comment's first paragraph is its description. Used as
/// `#[remote::pipeline]`.
#[proc_macro_attribute]
pub fn declare_pipeline(attribute: TokenStream, item: TokenStream) -> TokenStream {
    declare(declare::Kind::Pipeline, attribute, item)
}

/// Declares a step, `fn name(run: Run, args…) -> Run`, for later positions of a pipeline at the prompt.
/// Its parameters after the run may be `&str`, `String`, `i64`, `f64`, `bool` or `impl Fn(&HostResult) ->
/// bool` (given as a predicate). Used as `#[remote::step]`, or `#[remote::step(default(flags = ""))]` to let
/// the prompt leave out trailing string parameters.
#[proc_macro_attribute]
pub fn declare_step(attribute: TokenStream, item: TokenStream) -> TokenStream {
    declare(declare::Kind::Step, attribute, item)
}

/// Declares a job set, `fn name(hs: &Hosts) -> Vec<JobSpec>`: typing `NAME GROUP` at the live prompt
/// schedules every job it returns for that group (replacing jobs of the same names). Used as
/// `#[remote::jobs]`.
#[proc_macro_attribute]
pub fn declare_jobs(attribute: TokenStream, item: TokenStream) -> TokenStream {
    declare(declare::Kind::JobSet, attribute, item)
}

/// Declares one of remote-std's built-in operations, `fn name(on: impl Into<On>, args…) -> Run`.
#[proc_macro_attribute]
pub fn declare_operation(attribute: TokenStream, item: TokenStream) -> TokenStream {
    declare(declare::Kind::Operation, attribute, item)
}

/// Declares one of remote-std's built-in predicates: `fn name(result: &HostResult) -> bool`, or a
/// function of its parameters returning `impl Fn(&HostResult) -> bool`.
#[proc_macro_attribute]
pub fn declare_predicate(attribute: TokenStream, item: TokenStream) -> TokenStream {
    declare(declare::Kind::Predicate, attribute, item)
}

fn declare(kind: declare::Kind, attribute: TokenStream, item: TokenStream) -> TokenStream {
    match declare::parse(kind, attribute.into(), item.into()) {
        Ok(declaration) => declare::expand(declaration).into(),
        Err(err) => err.to_compile_error().into(),
    }
}
