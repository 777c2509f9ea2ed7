//! The SSH transport of `remote`: connections, host keys, the session pool, exec with kills, and the world
//! (commands and copies) the host process hands to pipelines.
//!
//! Layout:
//! - [`connection`] opens one connection: addresses, TCP, handshake; [`host_key`] verifies the server's key
//!   against `known_hosts`, `auth` authenticates the client.
//! - [`known_hosts`] reads and matches `known_hosts` files with OpenSSH's semantics.
//! - [`pool`] keeps one connection per host open, bounds concurrency and fans commands out.
//! - [`exec`] runs one command on one connection: output capture, timeouts that kill.
//! - [`world`] is the [`remote_core::World`] the host process gives pipelines: commands and copies over the
//!   pool.
//!
//! Architecture invariant: `ops` never links this crate; pipelines reach it only through the `World`
//! trait object inside the `Hosts` they are given.

// `HostError` is the per-host outcome stored in every result, not a rare failure: boxing it in `Result`s
// would add an allocation to each host's error without making results smaller.
#![allow(clippy::result_large_err)]

mod algorithms;
pub mod auth;
pub mod connection;
pub mod exec;
#[cfg(test)]
mod fuzz;
pub mod host_key;
pub mod known_hosts;
pub mod pool;
mod sftp;
pub mod world;

pub use connection::ConnectOptions;
pub use pool::{ExecOptions, PoolConfig, SessionPool};
pub use world::SessionWorld;
