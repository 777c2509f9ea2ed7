//! The `pipeline!` proc macro: parse → validate → expand a `step | step | …` chain into calls on `remote-core`.
//!
//! Parsing and validation live in `remote-syntax`, shared with the prompt's interpreter so that both
//! backends accept exactly the same pipelines; this crate adds the Rust expansion.
//! Architecture invariant: this crate does no I/O and never depends on tokio.

mod expand;

use proc_macro::TokenStream;

/// Threads a `Run` through steps: `pipeline!(ls(hs, "/", "-la") | pretty)`.
///
/// The first step is called as written, with the host set as its first argument. Every later step
/// is called with the previous step's `Run` put in front of its own arguments: `pretty` becomes
/// `pretty(run)` and `pick(successful)` becomes `pick(run, successful)`. Steps are plain functions
/// found by Rust's name resolution (`use remote_core::prelude::*;` brings the built-in ones).
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    let parsed = syn::parse_macro_input!(input as remote_syntax::Pipeline);
    let checked = remote_syntax::validate(&parsed);
    expand::expand(&parsed, checked).into()
}
