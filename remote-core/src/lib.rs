//! The contract of `remote`: what both sides of the hot-reload boundary link, and nothing else.
//!
//! Layout:
//! - [`spec`] holds the host specs the configuration resolves (remote-config reads them from `remote.toml`).
//! - [`quote`] turns argument vectors into shell command lines that cannot inject code.
//! - [`report`] is what a fan-out produced, as plain data, with typed [`data`] per host; [`pretty`] renders
//!   it for people, `Report::to_json` for tools; [`run`] pairs a report with its host set so that later steps
//!   can go on.
//! - [`hosts`] is the host set pipelines receive, with the [`hosts::Driver`] that does their I/O: the
//!   [`World`] (commands, copies), which the transport (`remote-ssh`) implements, and the [`Outlets`]
//!   (reports, samples, messages), which the host binary implements.
//! - [`fields`] names the numbers in typed data, [`stocks`] the charts drawn from them, [`value`] what the
//!   prompt passes to a declared function; [`wire`] is how the hub sends samples to viewers.
//! - [`catalog`] gathers every declaration (`#[remote::…]` attributes: remote-std's built-ins and the user's
//!   `ops`) and is the boundary to `ops`; [`registry`] lists them with their parameters; [`interpret`] runs a
//!   prompt line.
//! - [`memory`] is a world in memory that answers from a table, for tests of the model and of users'
//!   pipelines.
//!
//! Architecture invariant: no tokio, no russh, no toml, no libc, no network, and no Cargo feature that
//! changes a type. The hot-reloaded `ops` library and the host link this crate separately and must agree on
//! every layout.

// The declaration attributes expand to `::remote_core::…` paths, in this crate's own doc tests too.
extern crate self as remote_core;

#[doc(hidden)]
pub use linkme;

pub mod catalog;
pub mod data;
pub mod fields;
pub mod hosts;
pub mod interpret;
pub mod memory;
pub mod pretty;
pub mod quote;
pub mod registry;
pub mod report;
pub mod run;
pub mod spec;
pub mod stocks;
mod suggest;
pub mod value;
pub mod wire;

pub use hosts::{Driver, Hosts, Message, Outlets, Transfer, World};
pub use report::{CancelCause, HostError, HostResult, Kill, Output, Report, StopReason, Stopped};
pub use run::{On, Preview, Run};
pub use spec::{Agent, Algorithms, Auth, Group, Groups, HostKeyPolicy, HostSpec};
pub use suggest::did_you_mean;
