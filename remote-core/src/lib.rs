//! The engine of `remote`: inventory, SSH session pool, remote execution, results and their rendering.
//!
//! Layout:
//! - [`inventory`] reads `remote.toml` into groups of [`HostSpec`]s.
//! - [`quote`] turns argument vectors into shell command lines that cannot inject code.
//! - [`ssh`] opens and verifies one connection (host keys, authentication).
//! - [`pool`] keeps one connection per host open, bounds concurrency and fans commands out.
//! - [`exec`] runs one command on one connection: output capture, timeouts that kill.
//! - [`run`] is the result of a fan-out, [`pretty`] renders it for people, `Run::to_json` for tools.
//! - [`sandbox`] starts real sshd servers on loopback for the demo, the tests and the benchmark.

pub mod exec;
pub mod inventory;
pub mod pool;
pub mod pretty;
pub mod quote;
pub mod run;
pub mod sandbox;
pub mod ssh;

pub use inventory::{Auth, Group, HostKeyPolicy, HostSpec, Inventory, InventoryError};
pub use pool::{ExecOptions, PoolConfig, SessionPool};
pub use run::{HostError, HostResult, Output, Run};
