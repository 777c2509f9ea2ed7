//! The standard operations and steps of `remote`: what a pipeline can do out of the box.
//!
//! Layout:
//! - [`operations`] are the plain ones (`ls`, `exec`, `upload`, `sync`, …);
//! - [`metrics`] and [`facts`] read a host's numbers and facts through `probe`'s scripts into typed data;
//! - [`services`] drives systemd units (`service`) and [`packages`] the hosts' package managers;
//! - [`steps`] are the built-in steps and predicates (`pretty`, `table`, `pick`, `email`, `above`, …) and
//!   [`stocks`] the chart steps (`collect`, `publish`);
//! - [`prelude`] is what a pipeline file imports: `use remote_std::prelude::*;`.
//!
//! Every built-in is declared with `#[remote::operation]`, `#[remote::step]` or `#[remote::predicate]`, so it
//! lands in remote-core's catalog and the prompt, `remote list` and `pipeline!` all see the same names.
//!
//! Architecture invariant: nothing here does I/O of its own. An operation builds a shell command and reads
//! what the host printed; the [`remote_core::World`] in the host process runs it. So this crate links no
//! tokio and no russh, and a built-in can be unit-tested on recorded output.

/// The declaration attributes: `#[remote::pipeline]` and `#[remote::step]` on a function make it reachable
/// from `remote run`, `remote list` and the prompt; `#[remote::jobs]` declares a job set (`fn(hs: &Hosts) ->
/// Vec<JobSpec>`); `operation` and `predicate` declare remote-std's built-ins.
pub mod remote {
    pub use remote_macros::{
        declare_jobs as jobs, declare_operation as operation, declare_pipeline as pipeline,
        declare_predicate as predicate, declare_step as step,
    };
}

pub mod facts;
pub mod metrics;
pub mod operations;
pub mod packages;
pub mod prelude;
mod probe;
pub mod services;
pub mod steps;
pub mod stocks;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod model;

#[cfg(test)]
mod tests {
    use remote_core::fields::of_kind;

    #[test]
    fn every_builtin_is_declared_once_in_source_order() {
        let names: Vec<&str> =
            remote_core::__private::declared().iter().filter(|d| d.is_builtin()).map(|d| d.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for name in
            ["ls", "exec", "mkdir", "rm", "uptime", "pretty", "pick", "successful", "failed", "stdout_has"]
        {
            assert!(names.contains(&name), "{name} is not declared: {names:?}");
        }
    }

    #[test]
    fn every_data_kind_an_operation_declares_has_fields() {
        let declared: Vec<&str> = remote_core::__private::declared().iter().filter_map(|d| d.data).collect();
        assert!(declared.contains(&"cpu") && declared.contains(&"temperature"), "{declared:?}");
        for kind in declared {
            assert!(!of_kind(kind).is_empty(), "`{kind}` has no field selectors");
        }
    }
}
