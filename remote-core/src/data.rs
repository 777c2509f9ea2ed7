//! Typed per-host results: what the metric and fact operations read from a host, as Rust values beside the
//! text output, reachable by type (`result.data::<Cpu>()`), as `data` in `--json`, and on one line in
//! `pretty`.
//!
//! Architecture invariant: [`Data`] is a closed enum of plain owned values (numbers, strings, vectors), never
//! `dyn Any`. A hot-reloaded `ops` links its own copy of this crate, whose `TypeId`s need not match the
//! host's, while the enum's layout is covered by the ABI stamp, so a value made on one side is read safely on
//! the other.

use serde::Serialize;

/// One host's typed result, tagged by what produced it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Data {
    /// From `cpu`, `cpu_over`, `cpu_cores`.
    Cpu(Cpu),
    /// From `ram`.
    Ram(Ram),
    /// From `load`.
    Load(Load),
    /// From `net`, `net_over`.
    Net(Net),
    /// From `disk`, `disk_all`.
    Disk(Disk),
    /// From `entropy`.
    Entropy(Entropy),
    /// From `os_info`.
    OsInfo(OsInfo),
    /// From `hardware`.
    Hardware(Hardware),
    /// From `processes`.
    Processes(Processes),
    /// From `temperature`.
    Temperature(Temperature),
    /// From `service`: the unit's state after the action.
    Service(Service),
    /// From `pkg_update`, `pkg_upgrade`, `pkg_install`, `pkg_remove`: what changed, and what is pending.
    Packages(Packages),
}

impl Data {
    /// The kind's name, as the operation that makes it is called: `cpu`, `ram`, ….
    pub fn kind(&self) -> &'static str {
        match self {
            Data::Cpu(_) => "cpu",
            Data::Ram(_) => "ram",
            Data::Load(_) => "load",
            Data::Net(_) => "net",
            Data::Disk(_) => "disk",
            Data::Entropy(_) => "entropy",
            Data::OsInfo(_) => "os_info",
            Data::Hardware(_) => "hardware",
            Data::Processes(_) => "processes",
            Data::Temperature(_) => "temperature",
            Data::Service(_) => "service",
            Data::Packages(_) => "packages",
        }
    }
}

/// A type that can be read out of [`Data`]: `result.data::<Cpu>()`.
pub trait FromData {
    /// The value, when `data` holds one of this type.
    fn from_data(data: &Data) -> Option<&Self>;
}

macro_rules! from_data {
    ($($variant:ident),* $(,)?) => {$(
        impl FromData for $variant {
            fn from_data(data: &Data) -> Option<&Self> {
                match data {
                    Data::$variant(value) => Some(value),
                    _ => None,
                }
            }
        }
        impl From<$variant> for Data {
            fn from(value: $variant) -> Data {
                Data::$variant(value)
            }
        }
    )*};
}

from_data!(Cpu, Ram, Load, Net, Disk, Entropy, OsInfo, Hardware, Processes, Temperature, Service, Packages);

mod packages;
mod service;

pub use packages::{Manager, Package, Packages, Upgrade};
pub use service::Service;

/// Where CPU time went over an interval, in percent of all CPUs' time (they sum to 100).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cpu {
    /// Running user code (guest time included, as the kernel counts it).
    pub usr: f64,
    /// Running user code at a lowered priority (`nice`).
    pub nice: f64,
    /// Running kernel code.
    pub sys: f64,
    /// Idle with nothing waiting.
    pub idle: f64,
    /// Idle while waiting for I/O.
    pub iowait: f64,
    /// Serving hardware interrupts.
    pub irq: f64,
    /// Serving software interrupts.
    pub softirq: f64,
    /// Wanted by this (virtual) machine but given to another by the hypervisor.
    pub steal: f64,
    /// The time between the two readings.
    pub interval_ms: u64,
    /// The same per core, when asked for (`cpu_cores`); empty otherwise.
    pub cores: Vec<CoreCpu>,
}

/// One core's share of its own time, in percent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CoreCpu {
    /// The kernel's number for the core (`cpu3` → 3).
    pub core: u32,
    /// See [`Cpu::usr`].
    pub usr: f64,
    /// See [`Cpu::nice`].
    pub nice: f64,
    /// See [`Cpu::sys`].
    pub sys: f64,
    /// See [`Cpu::idle`].
    pub idle: f64,
    /// See [`Cpu::iowait`].
    pub iowait: f64,
    /// See [`Cpu::irq`].
    pub irq: f64,
    /// See [`Cpu::softirq`].
    pub softirq: f64,
    /// See [`Cpu::steal`].
    pub steal: f64,
}

/// Memory and swap, in bytes (`/proc/meminfo`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ram {
    /// All usable RAM.
    pub total_bytes: u64,
    /// In use and not reclaimable: total minus available, as `free` (procps 4) counts it.
    pub used_bytes: u64,
    /// Not used for anything.
    pub free_bytes: u64,
    /// What new programs can get without swapping (the kernel's estimate).
    pub available_bytes: u64,
    /// Page cache, buffers and reclaimable kernel memory.
    pub buffers_cache_bytes: u64,
    /// All swap space.
    pub swap_total_bytes: u64,
    /// Swap in use.
    pub swap_used_bytes: u64,
    /// `used_bytes` in percent of `total_bytes`.
    pub used_percent: f64,
}

/// Run-queue averages (`/proc/loadavg`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Load {
    /// Over the last minute.
    pub load1: f64,
    /// Over the last 5 minutes.
    pub load5: f64,
    /// Over the last 15 minutes.
    pub load15: f64,
    /// Online cores, to read the averages against.
    pub cores: u32,
    /// Runnable tasks right now.
    pub running: u32,
    /// Tasks in all.
    pub tasks: u32,
}

/// Network traffic per interface over an interval (`/proc/net/dev`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Net {
    /// The time between the two readings.
    pub interval_ms: u64,
    /// Every interface, in the kernel's order.
    pub interfaces: Vec<Interface>,
}

/// One network interface's rates and counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Interface {
    /// Its name (`eth0`).
    pub name: String,
    /// Whether a default route (IPv4 or IPv6) goes out through it.
    pub default_route: bool,
    /// Bytes received per second.
    pub rx_bytes_per_sec: f64,
    /// Bytes sent per second.
    pub tx_bytes_per_sec: f64,
    /// Packets received per second.
    pub rx_packets_per_sec: f64,
    /// Packets sent per second.
    pub tx_packets_per_sec: f64,
    /// Bytes received since the interface came up.
    pub rx_bytes: u64,
    /// Bytes sent since the interface came up.
    pub tx_bytes: u64,
}

/// Mounted filesystems and their space (`df -P -k` and `/proc/mounts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Disk {
    /// One per mount point, in `df`'s order.
    pub filesystems: Vec<Filesystem>,
}

/// One mounted filesystem.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Filesystem {
    /// What is mounted (`/dev/sda1`).
    pub device: String,
    /// Where (`/`).
    pub mount: String,
    /// Its type (`ext4`), from `/proc/mounts`; empty when it is not listed there.
    pub fs_type: String,
    /// All its space.
    pub size_bytes: u64,
    /// Space in use.
    pub used_bytes: u64,
    /// Space an unprivileged user can still write.
    pub available_bytes: u64,
    /// In use, in percent of what users can have (used + available), as `df` counts it.
    pub used_percent: f64,
}

/// The kernel's random pool (`/proc/sys/kernel/random`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Entropy {
    /// Bits of entropy available.
    pub available_bits: u64,
    /// The pool's size in bits.
    pub pool_size_bits: u64,
}

/// What the host is (`/etc/os-release`, `/proc/sys/kernel`, `uname -m`, `/proc/uptime`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OsInfo {
    /// The host's own name.
    pub hostname: String,
    /// The distribution's id (`debian`, `alpine`), empty when there is no os-release.
    pub distribution: String,
    /// Its version (`12`), empty when unknown.
    pub version: String,
    /// Its name for people (`Debian GNU/Linux 12 (bookworm)`).
    pub pretty_name: String,
    /// The kernel release (`6.1.0-13-amd64`).
    pub kernel: String,
    /// The machine architecture (`x86_64`, `aarch64`).
    pub architecture: String,
    /// Seconds since boot.
    pub uptime_seconds: f64,
    /// The virtual machine or container it runs in (`kvm`, `docker`, …), `none` on bare metal, or `None`
    /// when it cannot be told.
    pub virtualization: Option<String>,
}

/// The machine (`/proc/cpuinfo`, `/proc/meminfo`, `/sys/block`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Hardware {
    /// The CPU's model name, as the kernel reports it.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: u32,
    /// All usable RAM.
    pub memory_bytes: u64,
    /// Block devices, without loop and RAM disks.
    pub disks: Vec<BlockDevice>,
}

/// One block device.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BlockDevice {
    /// Its name (`sda`, `nvme0n1`).
    pub name: String,
    /// Its size.
    pub size_bytes: u64,
    /// Whether it spins, when the kernel knows.
    pub rotational: Option<bool>,
}

/// The processes whose command line matched the filter (`/proc/PID`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Processes {
    /// What the command lines were matched against (empty: every process).
    pub filter: String,
    /// The matching processes, by pid.
    pub processes: Vec<Process>,
}

/// One process.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// Its real user, by name when `/etc/passwd` has it, else the uid.
    pub user: String,
    /// CPU time over its lifetime, in percent of one core (as `ps` shows it).
    pub cpu_percent: f64,
    /// Resident memory.
    pub memory_bytes: u64,
    /// The command line, arguments separated by spaces; the name in brackets for kernel threads.
    pub command: String,
}

/// Temperature sensors (`/sys/class/thermal`, `/sys/class/hwmon`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Temperature {
    /// Every sensor that reads a temperature.
    pub sensors: Vec<Sensor>,
}

/// One sensor's reading.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sensor {
    /// What it measures (`x86_pkg_temp`, `coretemp Core 0`).
    pub name: String,
    /// Where it was read.
    pub source: String,
    /// Degrees Celsius.
    pub celsius: f64,
    /// Where the hardware counts it as too hot (hwmon `max`, or a thermal zone's `hot` trip point), if it
    /// says.
    pub high_celsius: Option<f64>,
    /// Where the hardware shuts down or throttles hard (hwmon `crit`, or the `critical` trip point), if it
    /// says.
    pub critical_celsius: Option<f64>,
}
