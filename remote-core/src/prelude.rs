//! Everything a pipeline file needs: `use remote_core::prelude::*;`.

pub use crate::catalog::{Export, JobSpec, Kind};
pub use crate::data::{
    BlockDevice, CoreCpu, Cpu, Data, Disk, Entropy, Filesystem, FromData, Hardware, Interface, Load, Net, OsInfo, Process,
    Processes, Ram, Sensor, Temperature,
};
pub use crate::facts::{hardware, os_info, processes, temperature};
pub use crate::fields::{
    Field, Select, above, available, below, busy, celsius, disk_available_bytes, disk_used_bytes, disk_used_percent,
    entropy_bits, idle, iowait, load_per_core, load1, load5, load15, nice, process_count, process_cpu_percent,
    process_memory_bytes, ram_used_percent, rx_bytes_per_sec, rx_packets_per_sec, steal, swap_used, sys, tx_bytes_per_sec,
    tx_packets_per_sec, uptime_seconds, used, usr,
};
pub use crate::hosts::Hosts;
pub use crate::metrics::{cpu, cpu_cores, cpu_over, disk, disk_all, entropy, load, net, net_over, ram};
pub use crate::operations::{exec, ls, mkdir, rm, uptime};
pub use crate::report::{HostError, HostResult, Output, Report};
pub use crate::run::{On, Run};
pub use crate::steps::{failed, pick, pretty, stdout_has, successful, table};
pub use crate::value::Predicate;
pub use remote_macros::pipeline;

/// The declaration attributes: `#[remote::pipeline]` and `#[remote::step]` on a function make it reachable
/// from `remote run`, `remote list` and the prompt; `#[remote::jobs]` declares a job set (`fn(hs: &Hosts) ->
/// Vec<JobSpec>`); `operation` and `predicate` declare remote-core's built-ins.
pub mod remote {
    pub use remote_macros::{
        declare_jobs as jobs, declare_operation as operation, declare_pipeline as pipeline, declare_predicate as predicate,
        declare_step as step,
    };
}
