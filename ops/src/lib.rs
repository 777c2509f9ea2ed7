//! The user's pipelines: plain `pub fn`s over host sets, exported through one stable entry point.
//!
//! Pipelines arrive with the pipeline-language issue (`pipeline!`, `listing`, …). Architecture invariant:
//! `ops` holds no global state, spawns no tasks and does no I/O of its own; all I/O goes through host code.
