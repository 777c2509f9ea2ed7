//! The engine of `remote`: inventory, SSH sessions, operations, runs, pipeline steps and the interpreter.
//!
//! Layout:
//! - [`inventory`] reads `remote.toml` into groups of [`HostSpec`]s.
//! - [`quote`] turns argument vectors into shell command lines that cannot inject code.
//! - [`ssh`] opens and verifies one connection (host keys, authentication).
//! - [`pool`] keeps one connection per host open, bounds concurrency and fans commands out.
//! - [`exec`] runs one command on one connection: output capture, timeouts that kill.
//! - [`run`] is the result of a fan-out, [`pretty`] renders it for people, `Run::to_json` for tools.
//! - [`hosts`] is the host set pipelines receive, with the [`hosts::Driver`] that does their I/O;
//!   [`driver`] is the host process's driver over the pool.
//! - [`operations`] and [`steps`] are the built-in pipeline functions; [`registry`] lists them with
//!   their parameters; [`interpret`] runs a prompt line with them; [`catalog`] is the boundary to `ops`.
//! - [`sandbox`] starts real sshd servers on loopback for the demo, the tests and the benchmark.
//!
//! Without the default `ssh` feature only the pipeline model is built (no tokio, no russh): that is what
//! `ops` and the macro's compile tests need.

pub mod catalog;
pub mod hosts;
pub mod interpret;
pub mod inventory;
pub mod operations;
pub mod prelude;
pub mod pretty;
pub mod quote;
pub mod registry;
pub mod run;
pub mod steps;
pub mod value;

#[cfg(feature = "ssh")]
pub mod driver;
#[cfg(feature = "ssh")]
pub mod exec;
#[cfg(feature = "ssh")]
pub mod pool;
#[cfg(feature = "ssh")]
pub mod sandbox;
#[cfg(feature = "ssh")]
pub mod ssh;

pub use hosts::{Driver, Hosts, On};
pub use inventory::{Auth, Group, HostKeyPolicy, HostSpec, Inventory, InventoryError};
#[cfg(feature = "ssh")]
pub use pool::{ExecOptions, PoolConfig, SessionPool};
pub use run::{HostError, HostResult, Output, Run};
