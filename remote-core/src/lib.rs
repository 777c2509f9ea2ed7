//! The model of `remote`: inventory, host sets, runs, operations, pipeline steps, the registry and the interpreter.
//!
//! Layout:
//! - [`inventory`] reads `remote.toml` into groups of [`HostSpec`]s; [`shard`] cuts a group to `--shard K/N`.
//! - [`quote`] turns argument vectors into shell command lines that cannot inject code.
//! - [`ssh_config`] reads OpenSSH client configuration files (`~/.ssh/config`) with OpenSSH 9.2's semantics.
//! - [`report`] is what a fan-out produced, as plain data; [`pretty`] renders it for people, `Report::to_json`
//!   for tools; [`run`] pairs a report with its host set so that later steps can go on from it.
//! - [`hosts`] is the host set pipelines receive, with the [`hosts::Driver`] that does their I/O;
//!   the transport (`remote-ssh`) implements the driver in the host process.
//! - [`services`] drives systemd units (`service`) and [`packages`] the hosts' package managers.
//! - [`operations`] and [`steps`] are the built-in pipeline functions; [`registry`] lists them with
//!   their parameters; [`interpret`] runs a prompt line with them; [`catalog`] gathers every declaration
//!   (`#[remote::…]` attributes) and is the boundary to `ops`.
//!
//! Architecture invariant: no tokio, no russh, no network, and no Cargo feature that changes a type. The
//! hot-reloaded `ops` library and the host link this crate separately and must agree on every layout.

// The declaration attributes expand to `::remote_core::…` paths, in remote-core's own built-ins too.
extern crate self as remote_core;

#[doc(hidden)]
pub use linkme;

pub mod catalog;
pub mod data;
pub mod facts;
pub mod fields;
#[cfg(test)]
mod fuzz;
pub mod hosts;
pub mod interpret;
pub mod inventory;
pub mod metrics;
pub mod operations;
pub mod packages;
pub mod prelude;
pub mod pretty;
mod probe;
pub mod quote;
pub mod registry;
pub mod report;
pub mod run;
pub mod services;
pub mod settings;
pub mod shard;
pub mod ssh_config;
pub mod steps;
pub mod stocks;
pub mod value;

pub use hosts::{Driver, Hosts, Notice, Notifier, Transfer};
pub use inventory::{Auth, Group, HostKeyPolicy, HostSpec, Inventory, InventoryError};
pub use report::{CancelCause, HostError, HostResult, Kill, Output, Report, StopReason, Stopped};
pub use run::{On, Preview, Run};
