//! The `pipeline!` proc macro: parse → validate → expand a `step | step | …` chain into calls on `remote-core`.
//!
//! The macro arrives with the pipeline-language issue; until then this crate only holds its place in the
//! workspace. Architecture invariant: this crate does no I/O and never depends on tokio.
