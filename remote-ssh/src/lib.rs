//! The SSH transport of `remote`: connections, host keys, the session pool, exec with kills, and the driver
//! the host process hands to pipelines.
//!
//! Layout:
//! - [`connection`] opens and verifies one connection (host keys, authentication).
//! - [`known_hosts`] reads and matches `known_hosts` files with OpenSSH's semantics.
//! - [`pool`] keeps one connection per host open, bounds concurrency and fans commands out.
//! - [`exec`] runs one command on one connection: output capture, timeouts that kill.
//! - [`driver`] is the host process's [`remote_core::Driver`] over the pool.
//!
//! Architecture invariant: `ops` never links this crate; pipelines reach it only through the `Driver`
//! trait object inside the `Hosts` they are given.

pub mod connection;
pub mod driver;
pub mod exec;
pub mod known_hosts;
pub mod pool;

pub use connection::ConnectOptions;
pub use driver::SessionDriver;
pub use pool::{ExecOptions, PoolConfig, SessionPool};
