//! The contract of `remote`: what both sides of the hot-reload boundary link, and nothing else.
//!
//! The vocabulary of pipelines is at the root:
//! - a [`Hosts`] set (from a [`Group`] of [`HostSpec`]s) is driven by a [`Driver`]: the [`World`] (commands,
//!   copies), which the transport (`remote-ssh`) implements, and the [`Outlets`] (reports, samples,
//!   [`Message`]s), which the host binary implements;
//! - [`On`] is where a pipeline starts, a [`Run`] how it goes on: a [`Report`] of one [`HostResult`] per host
//!   (an [`Output`] with typed [`data`], or a [`HostError`]) paired with its host set;
//! - [`Value`] and [`Predicate`] are what the prompt passes to a declared function;
//! - the boundary to `ops`, as the host sees it: a [`Library`] ([`Linked`] into this binary, or loaded) lists
//!   its [`Export`]s and answers a [`Call`]; the [`Registry`] lists everything callable with its parameters.
//!
//! Namespaces used by path: [`data`] (typed results), [`fields`] (the numbers in them), [`stocks`] (the
//! charts drawn from them), [`pretty`] (rendering and sanitising for people), [`quote`] (argument vectors to
//! command lines that cannot inject code), [`nodeset`] (host ranges such as `web-[01-40]`, expanded and
//! folded), [`interpret`] (a prompt line run), [`wire`] (how the hub sends samples to viewers) and [`memory`] (a world that answers from a table, for tests of the model and of
//! users' pipelines).
//!
//! Every function declared with a `#[remote::…]` attribute (remote-std's built-ins and the user's `ops`) is
//! gathered by the linker into one slice; the attributes expand to paths under `__private`, which nothing
//! written by hand uses.
//!
//! Architecture invariant: no tokio, no russh, no toml, no libc, no network, and no Cargo feature that
//! changes a type. The hot-reloaded `ops` library and the host link this crate separately and must agree on
//! every layout.

// The declaration attributes expand to `::remote_core::…` paths, in this crate's own doc tests too.
extern crate self as remote_core;

// The vocabulary of pipelines lives at the root (below); these namespaces group what is used by path.
pub mod data;
pub mod fields;
pub mod interpret;
pub mod memory;
pub mod nodeset;
pub mod pretty;
pub mod quote;
pub mod stocks;
pub mod wire;

// Private: their public items are re-exported below, one path each.
mod catalog;
mod groups;
mod hosts;
mod registry;
mod report;
mod run;
mod spec;
mod suggest;
mod value;

// A host set and the I/O it is driven by.
pub use hosts::{Driver, Hosts, Message, Outlets, SendError, Transfer, World};
// What a fan-out produced, and its hosts grouped by identical outcome.
pub use groups::OutputGroup;
pub use report::{CancelCause, HostError, HostResult, Kill, Output, Report, StopReason, Stopped};
// Pipelines: where a run starts and how it goes on.
pub use run::{On, Preview, Run};
// Hosts as the configuration resolved them.
pub use spec::{Agent, Algorithms, Auth, Group, Groups, HostKeyPolicy, HostSpec};
// What the prompt passes to a declared function.
pub use value::{ArgumentError, FromValue, Predicate, Type, Value};
// The boundary to `ops`, as the host sees it: what a library exports and how it is called.
pub use catalog::{
    ABI, Call, CallError, Export, JobSpec, Kind, Library, Linked, Param, abi_stamp, panic_message,
};
pub use registry::{Entry, Registry, removed_message};
pub use suggest::did_you_mean;

/// What the declaration attributes (`#[remote::pipeline]`, …) expand to, and nothing written by hand
/// should use: the static declarations, their adapters and the slice the linker gathers them in.
#[doc(hidden)]
pub mod __private {
    pub use crate::catalog::{DECLARED, Declared, DeclaredParam, Invoke, Kind, declared, guard};
    pub use crate::value::{ArgumentError, FromValue, Predicate, Type, Value, describe_call};
    pub use linkme;
}
