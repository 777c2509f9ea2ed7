//! Everything a pipeline file needs: `use remote_std::prelude::*;`.

pub use remote_core::data::{
    BlockDevice, CoreCpu, Cpu, Data, Disk, Entropy, Filesystem, FromData, Hardware, Interface, Load, Manager,
    Net, OsInfo, Package, Packages, Process, Processes, Ram, Sensor, Service, Temperature, Upgrade,
};
pub use remote_core::fields::selectors::*;
pub use remote_core::fields::{Field, Select};
pub use remote_core::stocks::{Sample, Shape, Stock, fleet, sliding, stock};
pub use remote_core::{
    Export, HostError, HostResult, Hosts, JobSpec, Kind, On, Output, Predicate, Preview, Report, Run,
};
pub use remote_macros::pipeline;

pub use crate::facts::{hardware, os_info, processes, temperature};
pub use crate::metrics::{cpu, cpu_cores, cpu_over, disk, disk_all, entropy, load, net, net_over, ram};
pub use crate::operations::{
    download, exec, extract, ls, mkdir, nohup, ping, query, rm, sudo, sync, upload, uptime,
};
pub use crate::packages::{pkg_install, pkg_remove, pkg_update, pkg_upgrade};
pub use crate::remote;
pub use crate::services::service;
pub use crate::steps::{
    above, below, diff, email, fail, failed, notify, pick, pretty, pretty_all, stdout_has, successful, table,
    webhook,
};
pub use crate::stocks::{collect, publish};
