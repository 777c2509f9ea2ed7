//! The model of `remote`: inventory, host sets, runs, operations, pipeline steps, the registry and the interpreter.
//!
//! Layout:
//! - [`spec`] holds the host specs the configuration resolves (remote-config reads them from `remote.toml`).
//! - [`quote`] turns argument vectors into shell command lines that cannot inject code.
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
pub mod spec;
pub mod steps;
pub mod stocks;
mod suggest;
pub mod value;

pub use hosts::{Driver, Hosts, Notice, Notifier, Transfer};
pub use report::{CancelCause, HostError, HostResult, Kill, Output, Report, StopReason, Stopped};
pub use run::{On, Preview, Run};
pub use spec::{Agent, Algorithms, Auth, Group, Groups, HostKeyPolicy, HostSpec};
pub use suggest::did_you_mean;
