//! The one grammar of `remote` pipelines, shared by the `pipeline!` macro and the prompt's interpreter.
//!
//! Layout (the macro's three phases, the first two of which live here so both backends share them):
//! - [`parse`] reads tokens into a [`Pipeline`] (the grammar is written on that struct);
//! - [`validate`](mod@validate) checks what the grammar cannot say (the first step names its host set);
//! - `remote-macros` expands a `Pipeline` into Rust; [`line`](mod@line) turns a prompt line into the same
//!   `Pipeline` and then into an owned [`Line`] with columns, which `remote-core` interprets.
//!
//! Architecture invariant: this crate does no I/O and knows no operation names; what a name means is
//! decided by Rust name resolution in the macro and by the registry at the prompt.

pub mod line;
pub mod parse;
pub mod validate;

pub use line::{Arg, ArgKind, Columns, Line, LineStep, SyntaxError, parse_line};
pub use parse::{Pipeline, Step, StepArgs};
pub use validate::validate;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
