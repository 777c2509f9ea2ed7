//! Everything a pipeline file needs: `use remote_core::prelude::*;`.

pub use crate::catalog::{Export, JobSpec, Kind};
pub use crate::data::{
    BlockDevice, CoreCpu, Cpu, Data, Disk, Entropy, Filesystem, FromData, Hardware, Interface, Load, Net, OsInfo, Process,
    Processes, Ram, Sensor, Temperature,
};
pub use crate::facts::{hardware, os_info, processes, temperature};
pub use crate::fields::selectors::*;
pub use crate::fields::{Field, Select, above, below};
pub use crate::hosts::Hosts;
pub use crate::metrics::{cpu, cpu_cores, cpu_over, disk, disk_all, entropy, load, net, net_over, ram};
pub use crate::operations::{download, exec, extract, ls, mkdir, nohup, ping, query, rm, sudo, sync, upload, uptime};
pub use crate::packages::{Manager, Package, Packages, Upgrade, pkg_install, pkg_remove, pkg_update, pkg_upgrade};
pub use crate::report::{HostError, HostResult, Output, Report};
pub use crate::run::{On, Preview, Run};
pub use crate::services::{Service, service};
pub use crate::steps::{email, failed, notify, pick, pretty, stdout_has, successful, table, webhook};
pub use crate::stocks::{Sample, Shape, Stock, collect, fleet, publish, sliding, stock};
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
