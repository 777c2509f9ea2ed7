//! Field selectors: named numbers in hosts' typed data (`idle`, `disk_used_percent`, …), for predicates such
//! as `pick(above(disk_used_percent, 85))` and, later, for stocks.
//!
//! A selector is a function returning its [`Field`], so it is the same value in both backends: in Rust, the
//! prelude exports the function (a typo is a compile error, and a `let idle = …` may still shadow it, which a
//! lowercase `const` would forbid); at the prompt, the registry lists [`ALL`] by name (a typo gets "did you
//! mean").

use std::fmt;

use crate::data::Data;
use crate::report::HostResult;

/// A field selector, as passed to `above`, `below` and stocks.
pub type Select = fn() -> Field;

/// One named number of one kind of data; a list kind (filesystems, interfaces, …) gives one value per item.
#[derive(Clone, Copy)]
pub struct Field {
    /// Its name, the same in Rust and at the prompt.
    pub name: &'static str,
    /// The data kind it reads (`cpu`, `disk`, …), as the operation making it is called.
    pub kind: &'static str,
    /// One line on what it is and its unit.
    pub doc: &'static str,
    read: fn(&Data) -> Vec<(String, f64)>,
}

impl Field {
    /// Its values in `data`, each with what it belongs to (a mount point, an interface; empty for a host-wide
    /// value); none when `data` is of another kind.
    pub fn values(&self, data: &Data) -> Vec<(String, f64)> {
        (self.read)(data)
    }

    /// Its values in a host's data; none when the host has no data of this kind.
    pub fn of(&self, result: &HostResult) -> Vec<(String, f64)> {
        result.any_data().map(|data| self.values(data)).unwrap_or_default()
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Field({})", self.name)
    }
}

/// The fields of data kind `kind` (`cpu`, `disk`, …), in the order written.
pub fn of_kind(kind: &str) -> Vec<Field> {
    ALL.iter().map(|select| select()).filter(|field| field.kind == kind).collect()
}

fn one(value: f64) -> Vec<(String, f64)> {
    vec![(String::new(), value)]
}

macro_rules! fields {
    ($( #[doc = $doc:literal] $name:ident ($kind:literal) = $read:expr; )*) => {
        /// The field selectors, one function per field; the prelude exports every one of them.
        pub mod selectors {
            use super::*;
            $(
                #[doc = $doc]
                pub fn $name() -> Field {
                    Field { name: stringify!($name), kind: $kind, doc: $doc.trim_ascii(), read: $read }
                }
            )*
        }
        pub use selectors::*;
        /// Every field selector, in the order written.
        pub const ALL: &[Select] = &[$(selectors::$name),*];
    };
}

fields! {
    /// CPU time running user code, in percent.
    usr("cpu") = |d| if let Data::Cpu(c) = d { one(c.usr) } else { vec![] };
    /// CPU time running niced user code, in percent.
    nice("cpu") = |d| if let Data::Cpu(c) = d { one(c.nice) } else { vec![] };
    /// CPU time running kernel code, in percent.
    sys("cpu") = |d| if let Data::Cpu(c) = d { one(c.sys) } else { vec![] };
    /// CPU time idle, in percent.
    idle("cpu") = |d| if let Data::Cpu(c) = d { one(c.idle) } else { vec![] };
    /// CPU time idle waiting for I/O, in percent.
    iowait("cpu") = |d| if let Data::Cpu(c) = d { one(c.iowait) } else { vec![] };
    /// CPU time serving hardware interrupts, in percent.
    irq("cpu") = |d| if let Data::Cpu(c) = d { one(c.irq) } else { vec![] };
    /// CPU time serving software interrupts, in percent.
    softirq("cpu") = |d| if let Data::Cpu(c) = d { one(c.softirq) } else { vec![] };
    /// CPU time taken by the hypervisor for others, in percent.
    steal("cpu") = |d| if let Data::Cpu(c) = d { one(c.steal) } else { vec![] };
    /// CPU time not idle (100 minus idle and iowait), in percent.
    busy("cpu") = |d| if let Data::Cpu(c) = d { one(100.0 - c.idle - c.iowait) } else { vec![] };
    /// Memory in use (total minus available), in bytes.
    used("ram") = |d| if let Data::Ram(r) = d { one(r.used_bytes as f64) } else { vec![] };
    /// Memory new programs can get without swapping, in bytes.
    available("ram") = |d| if let Data::Ram(r) = d { one(r.available_bytes as f64) } else { vec![] };
    /// Memory in use, in percent of all.
    ram_used_percent("ram") = |d| if let Data::Ram(r) = d { one(r.used_percent) } else { vec![] };
    /// Swap in use, in bytes.
    swap_used("ram") = |d| if let Data::Ram(r) = d { one(r.swap_used_bytes as f64) } else { vec![] };
    /// Load average over 1 minute.
    load1("load") = |d| if let Data::Load(l) = d { one(l.load1) } else { vec![] };
    /// Load average over 5 minutes.
    load5("load") = |d| if let Data::Load(l) = d { one(l.load5) } else { vec![] };
    /// Load average over 15 minutes.
    load15("load") = |d| if let Data::Load(l) = d { one(l.load15) } else { vec![] };
    /// Load average over 1 minute divided by the number of cores.
    load_per_core("load") = |d| if let Data::Load(l) = d { one(l.load1 / f64::from(l.cores.max(1))) } else { vec![] };
    /// Bytes received per second, per interface.
    rx_bytes_per_sec("net") = |d| interfaces(d, |i| i.rx_bytes_per_sec);
    /// Bytes sent per second, per interface.
    tx_bytes_per_sec("net") = |d| interfaces(d, |i| i.tx_bytes_per_sec);
    /// Packets received per second, per interface.
    rx_packets_per_sec("net") = |d| interfaces(d, |i| i.rx_packets_per_sec);
    /// Packets sent per second, per interface.
    tx_packets_per_sec("net") = |d| interfaces(d, |i| i.tx_packets_per_sec);
    /// Space in use, in percent, per filesystem.
    disk_used_percent("disk") = |d| filesystems(d, |f| f.used_percent);
    /// Space in use, in bytes, per filesystem.
    disk_used_bytes("disk") = |d| filesystems(d, |f| f.used_bytes as f64);
    /// Space still available, in bytes, per filesystem.
    disk_available_bytes("disk") = |d| filesystems(d, |f| f.available_bytes as f64);
    /// Entropy available in the kernel's pool, in bits.
    entropy_bits("entropy") = |d| if let Data::Entropy(e) = d { one(e.available_bits as f64) } else { vec![] };
    /// Seconds since boot.
    uptime_seconds("os_info") = |d| if let Data::OsInfo(o) = d { one(o.uptime_seconds) } else { vec![] };
    /// Logical cores of the machine.
    core_count("hardware") = |d| if let Data::Hardware(h) = d { one(f64::from(h.cores)) } else { vec![] };
    /// All usable RAM of the machine, in bytes.
    memory_bytes("hardware") = |d| if let Data::Hardware(h) = d { one(h.memory_bytes as f64) } else { vec![] };
    /// How many processes matched.
    process_count("processes") = |d| if let Data::Processes(p) = d { one(p.processes.len() as f64) } else { vec![] };
    /// CPU use per matching process, in percent of one core.
    process_cpu_percent("processes") = |d| processes(d, |p| p.cpu_percent);
    /// Resident memory per matching process, in bytes.
    process_memory_bytes("processes") = |d| processes(d, |p| p.memory_bytes as f64);
    /// 1 when the service is active (`active`, `reloading`), else 0.
    service_active("service") = |d| if let Data::Service(s) = d { one(if s.is_active() { 1.0 } else { 0.0 }) } else { vec![] };
    /// How often systemd restarted the service automatically (absent before systemd 235).
    service_restarts("service") = |d| match d {
        Data::Service(s) => s.restarts.map(|n| one(f64::from(n))).unwrap_or_default(),
        _ => vec![],
    };
    /// Memory of the service's control group, in bytes (absent without memory accounting).
    service_memory_bytes("service") = |d| match d {
        Data::Service(s) => s.memory_bytes.map(|n| one(n as f64)).unwrap_or_default(),
        _ => vec![],
    };
    /// Upgrades the host's package index offers (`pkg_update`).
    pending_upgrades("packages") = |d| if let Data::Packages(p) = d { one(p.pending.len() as f64) } else { vec![] };
    /// Temperature per sensor, in degrees Celsius.
    celsius("temperature") = |d| match d {
        Data::Temperature(t) => t.sensors.iter().map(|s| (s.name.clone(), s.celsius)).collect(),
        _ => vec![],
    };
}

fn interfaces(data: &Data, value: fn(&crate::data::Interface) -> f64) -> Vec<(String, f64)> {
    match data {
        Data::Net(net) => net.interfaces.iter().map(|i| (i.name.clone(), value(i))).collect(),
        _ => vec![],
    }
}

fn filesystems(data: &Data, value: fn(&crate::data::Filesystem) -> f64) -> Vec<(String, f64)> {
    match data {
        Data::Disk(disk) => disk.filesystems.iter().map(|f| (f.mount.clone(), value(f))).collect(),
        _ => vec![],
    }
}

fn processes(data: &Data, value: fn(&crate::data::Process) -> f64) -> Vec<(String, f64)> {
    match data {
        Data::Processes(list) => list.processes.iter().map(|p| (p.pid.to_string(), value(p))).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn names_are_unique_and_match_their_functions() {
        let mut names: Vec<&str> = ALL.iter().map(|select| select().name).collect();
        assert_eq!(idle().name, "idle");
        assert!(ALL.iter().all(|select| !select().doc.is_empty() && !select().doc.starts_with(' ')));
        names.sort();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a field name is declared twice");
    }
}
