//! Fact operations: what a host is (`os_info`, `hardware`), what runs on it (`processes`) and how warm it is
//! (`temperature`), read like the metrics: one script per host, parsed into typed [`Data`].

// Parsers fail with the host's own error, whatever its size: they run once per host, not in a hot loop.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};

use crate::metrics::uptime_seconds;
use crate::probe::{Probe, Reading, Script, Section};
use crate::remote;
use remote_core::data::{BlockDevice, Data, Hardware, OsInfo, Process, Processes, Sensor, Temperature};
use remote_core::{HostError, On, Run};

/// Tells the virtualisation from what the host shows: systemd's own verdict when it has one, container marker
/// files, the DMI vendor, and the CPU's `hypervisor` flag, in that order.
const VIRTUALIZATION: &str = "\
if command -v systemd-detect-virt >/dev/null 2>&1; then echo \"systemd $(systemd-detect-virt 2>/dev/null || true)\"; fi
if [ -e /.dockerenv ]; then echo 'container docker'; fi
if [ -e /run/.containerenv ]; then echo 'container podman'; fi
if [ -r /sys/class/dmi/id/sys_vendor ]; then echo \"vendor $(cat /sys/class/dmi/id/sys_vendor)\"; fi
if [ -r /sys/class/dmi/id/product_name ]; then echo \"product $(cat /sys/class/dmi/id/product_name)\"; fi
if grep -q '^flags.* hypervisor' /proc/cpuinfo 2>/dev/null; then echo 'flag hypervisor'; fi";

/// The distribution, kernel, architecture, hostname, uptime and virtualisation of each host.
///
/// From `/etc/os-release`, `/proc/sys/kernel`, `uname -m` and `/proc/uptime`. Fields: `uptime_seconds`.
#[remote::operation(data = "os_info")]
pub fn os_info(on: impl Into<On>) -> Run {
    os_info_probe().run(on, "os_info")
}

pub(crate) fn os_info_probe() -> Probe {
    Script::new()
        .read_optional("/etc/os-release")
        .read("/proc/sys/kernel/hostname")
        .read("/proc/sys/kernel/osrelease")
        .run("uname -m", "uname -m")
        .read("/proc/uptime")
        .run("virtualization", VIRTUALIZATION)
        .parsed_by("os_info", parse_os_info)
}

/// A value of `/etc/os-release`, its quotes and backslash escapes removed.
fn os_release_value(raw: &str) -> String {
    let raw = raw.trim();
    let quoted = |q: char| raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q);
    if quoted('\'') {
        return raw[1..raw.len() - 1].to_string();
    }
    let inner = if quoted('"') { &raw[1..raw.len() - 1] } else { raw };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

/// The virtualisation the hints point to; `None` when they tell nothing.
fn virtualization(section: &Section) -> Option<String> {
    let hints: Vec<(&str, &str)> =
        section.lines.iter().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k, v.trim())).collect();
    let hint = |key: &str| hints.iter().find(|(k, v)| *k == key && !v.is_empty()).map(|(_, v)| *v);
    if let Some(verdict) = hint("systemd") {
        return Some(verdict.to_string());
    }
    if let Some(container) = hint("container") {
        return Some(container.to_string());
    }
    let vendor = format!("{} {}", hint("vendor").unwrap_or_default(), hint("product").unwrap_or_default())
        .to_lowercase();
    let known = [
        ("qemu", "qemu"),
        ("kvm", "kvm"),
        ("vmware", "vmware"),
        ("virtualbox", "oracle"),
        ("innotek", "oracle"),
        ("xen", "xen"),
        ("amazon ec2", "amazon"),
        ("google compute engine", "google"),
        ("microsoft corporation virtual machine", "microsoft"),
        ("firecracker", "firecracker"),
    ];
    if let Some((_, name)) = known.iter().find(|(needle, _)| vendor.contains(needle)) {
        return Some(name.to_string());
    }
    hint("flag").map(|_| "vm (unknown hypervisor)".to_string())
}

fn parse_os_info(reading: &Reading) -> Result<Data, HostError> {
    let release = reading.section("/etc/os-release")?;
    let values: HashMap<&str, String> = release
        .lines
        .iter()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim(), os_release_value(v)))
        .collect();
    let value = |key: &str| values.get(key).cloned().unwrap_or_default();
    let architecture = reading.section("uname -m")?.text().to_string();
    if architecture.is_empty() {
        return Err(reading.section("uname -m")?.missing("architecture"));
    }
    Ok(Data::OsInfo(OsInfo {
        hostname: reading.section("/proc/sys/kernel/hostname")?.text().to_string(),
        distribution: value("ID"),
        version: value("VERSION_ID"),
        pretty_name: value("PRETTY_NAME"),
        kernel: reading.section("/proc/sys/kernel/osrelease")?.text().to_string(),
        architecture,
        uptime_seconds: uptime_seconds(reading.section("/proc/uptime")?)?,
        virtualization: virtualization(reading.section("virtualization")?),
    }))
}

/// Block devices: name, size in 512-byte sectors, and 0/1 for rotational (`-` when unknown). A device that
/// goes away meanwhile (a loop device detached) is skipped rather than failing the script.
const BLOCK_DEVICES: &str = "\
for b in /sys/block/*; do
  { read -r size < \"$b/size\"; } 2>/dev/null || continue
  rot=-
  { read -r rot < \"$b/queue/rotational\"; } 2>/dev/null || true
  echo \"${b##*/} $size $rot\"
done";

/// The CPU model, cores, memory and disks of each host.
///
/// From `/proc/cpuinfo`, `/proc/meminfo` and `/sys/block` (loop and RAM disks left out).
#[remote::operation(data = "hardware")]
pub fn hardware(on: impl Into<On>) -> Run {
    hardware_probe().run(on, "hardware")
}

pub(crate) fn hardware_probe() -> Probe {
    Script::new()
        .read("/proc/cpuinfo")
        .read("/proc/meminfo")
        .run("/sys/block", BLOCK_DEVICES)
        .parsed_by("hardware", parse_hardware)
}

fn parse_hardware(reading: &Reading) -> Result<Data, HostError> {
    let cpuinfo = reading.section("/proc/cpuinfo")?;
    let entries: Vec<(&str, &str)> = cpuinfo
        .lines
        .iter()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    // x86 says `model name`; ARM `Processor` or `Hardware`; MIPS `cpu model`; POWER `cpu`.
    let cpu_model = ["model name", "Processor", "cpu model", "Hardware", "cpu"]
        .iter()
        .find_map(|key| entries.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.to_string()))
        .unwrap_or_else(|| "unknown".into());
    let cores = entries.iter().filter(|(k, _)| *k == "processor").count().max(1) as u32;
    let meminfo = reading.section("/proc/meminfo")?;
    let (index, words) = meminfo.find("MemTotal:").ok_or_else(|| meminfo.missing("`MemTotal:` line"))?;
    let memory_bytes = meminfo.bytes(index, &words, 1, 1024, "size")?;
    let block = reading.section("/sys/block")?;
    let mut disks = Vec::new();
    for (index, line) in block.lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(name) = words.first() else { continue };
        let size_bytes = block.bytes(index, &words, 1, 512, "size in sectors")?;
        if size_bytes == 0 || ["loop", "ram"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let rotational = match words.get(2) {
            Some(&"1") => Some(true),
            Some(&"0") => Some(false),
            _ => None,
        };
        disks.push(BlockDevice { name: name.to_string(), size_bytes, rotational });
    }
    Ok(Data::Hardware(Hardware { cpu_model, cores, memory_bytes, disks }))
}

/// One block per process: `P` and its `stat` line, `U` and its uid and resident kB, `C` and its command line.
/// Only shell built-ins but `tr`, so it stays fast with hundreds of processes; a process that ends meanwhile
/// is skipped.
const PROCESS_TABLE: &str = "\
for d in /proc/[0-9]*; do
  { read -r stat < \"$d/stat\"; } 2>/dev/null || continue
  uid=-; rss=0
  { while read -r k v rest; do case $k in Uid:) uid=$v;; VmRSS:) rss=$v;; esac; done < \"$d/status\"; } 2>/dev/null || true
  printf 'P %s\\nU %s %s\\nC ' \"$stat\" \"$uid\" \"$rss\"
  { tr '\\0\\n' '  ' < \"$d/cmdline\"; } 2>/dev/null || true
  echo
done";

/// Processes whose command line contains `filter`: pid, user, CPU %, memory and command line.
///
/// From `/proc/PID`, no `ps` needed (busybox's has no CPU column). An empty filter lists every process.
/// CPU % is over the process's lifetime, as `ps` shows it. Fields: `process_count`, `process_cpu_percent`, ….
#[remote::operation(data = "processes", default(filter = ""))]
pub fn processes(on: impl Into<On>, filter: &str) -> Run {
    let label =
        if filter.is_empty() { "processes".to_string() } else { format!("processes matching {filter:?}") };
    let filter = filter.to_string();
    let run = processes_probe().run(on, &label);
    // The filter is applied here, not in the remote shell, so it is never shell code.
    run.map_results(move |mut result| {
        if let Ok(output) = &mut result.outcome
            && let Some(Data::Processes(list)) = &mut output.data
        {
            list.processes.retain(|p| p.command.contains(filter.as_str()));
            list.filter = filter.clone();
        }
        result
    })
}

pub(crate) fn processes_probe() -> Probe {
    Script::new()
        .read("/proc/uptime")
        .run("clock ticks", "getconf CLK_TCK 2>/dev/null || echo 100")
        .read_optional("/etc/passwd")
        .run("self", "echo $$")
        .run("processes", PROCESS_TABLE)
        .parsed_by("processes", parse_processes)
}

/// A `/proc/PID/stat` line's fields after the command name, which is in parentheses and may hold anything.
fn stat_fields(stat: &str) -> Option<(&str, Vec<&str>)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    Some((comm, stat[close + 1..].split_whitespace().collect()))
}

fn parse_processes(reading: &Reading) -> Result<Data, HostError> {
    let uptime = uptime_seconds(reading.section("/proc/uptime")?)?;
    let ticks_section = reading.section("clock ticks")?;
    let ticks: f64 =
        ticks_section.number(0, &[ticks_section.text().as_ref()], 0, "clock ticks per second")?;
    let users: HashMap<&str, &str> = reading
        .section("/etc/passwd")?
        .lines
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() >= 3).then(|| (fields[2], fields[0]))
        })
        .collect();
    let own = reading.section("self")?.text().to_string();
    let table = reading.section("processes")?;
    let mut processes = BTreeMap::new();
    let mut current: Option<(u32, Process, String)> = None;
    for (index, line) in table.lines.iter().enumerate() {
        if let Some(stat) = line.strip_prefix("P ") {
            let pid: u32 = stat
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .parse()
                .map_err(|_| table.error(index, "no pid"))?;
            // A command name with a line break cuts the line short: such a process is left out, not the host.
            current = None;
            let Some((comm, fields)) = stat_fields(stat).filter(|(_, f)| f.len() >= 20) else { continue };
            let number = |position: usize, what: &str| table.number::<f64>(index, &fields, position, what);
            let (ppid, busy, start) = (
                fields[1].to_string(),
                number(11, "utime")? + number(12, "stime")?,
                number(19, "start time")?,
            );
            let alive = uptime - start / ticks;
            let cpu_percent = if alive > 0.0 { busy / ticks / alive * 100.0 } else { 0.0 };
            let process = Process { pid, cpu_percent, command: format!("[{comm}]"), ..Process::default() };
            current = Some((pid, process, ppid));
        } else if let (Some(rest), Some((_, process, _))) = (line.strip_prefix("U "), current.as_mut()) {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let uid = words.first().copied().unwrap_or("-");
            process.user = users.get(uid).map_or(uid, |name| *name).to_string();
            process.memory_bytes = table.bytes(index, &words, 1, 1024, "resident size")?;
        } else if let (Some(command), Some((pid, mut process, ppid))) =
            (line.strip_prefix("C"), current.take())
        {
            let command = command.trim();
            if !command.is_empty() {
                process.command = command.to_string();
            }
            // The script's own shell and what it starts are not what the user asked about.
            if pid.to_string() != own && ppid != own {
                processes.insert(pid, process);
            }
        }
    }
    Ok(Data::Processes(Processes { filter: String::new(), processes: processes.into_values().collect() }))
}

/// Every temperature file, as `path:value` lines; globs that match nothing are dropped with grep's complaint.
const SENSOR_FILES: &str = "\
grep -H . /sys/class/thermal/thermal_zone*/type /sys/class/thermal/thermal_zone*/temp \
/sys/class/thermal/thermal_zone*/trip_point_*_type /sys/class/thermal/thermal_zone*/trip_point_*_temp \
/sys/class/hwmon/hwmon*/name /sys/class/hwmon/hwmon*/temp*_input /sys/class/hwmon/hwmon*/temp*_label \
/sys/class/hwmon/hwmon*/temp*_max /sys/class/hwmon/hwmon*/temp*_crit 2>/dev/null || true";

/// Temperature sensors in degrees Celsius, from `/sys/class/thermal` and `/sys/class/hwmon`.
///
/// A host without any (usual in a VM) fails with "no sensors". Fields: `celsius`.
#[remote::operation(data = "temperature")]
pub fn temperature(on: impl Into<On>) -> Run {
    temperature_probe().run(on, "temperature")
}

pub(crate) fn temperature_probe() -> Probe {
    Script::new().run("sensors", SENSOR_FILES).parsed_by("temperature", parse_temperature)
}

fn parse_temperature(reading: &Reading) -> Result<Data, HostError> {
    let section = reading.section("sensors")?;
    // Directory → file → (line index, value), in path order so sensors are listed stably.
    let mut files: BTreeMap<&str, BTreeMap<&str, (usize, &str)>> = BTreeMap::new();
    for (index, line) in section.lines.iter().enumerate() {
        let Some((path, value)) = line.split_once(':') else { continue };
        let Some((dir, file)) = path.rsplit_once('/') else { continue };
        files.entry(dir).or_default().insert(file, (index, value.trim()));
    }
    let mut sensors = Vec::new();
    for (dir, entries) in &files {
        let millidegrees = |index: usize, value: &str| -> Result<f64, HostError> {
            section.number::<f64>(index, &[value], 0, "temperature").map(|m| m / 1000.0)
        };
        let limit = |file: &str| -> Result<Option<f64>, HostError> {
            entries.get(file).map(|(index, value)| millidegrees(*index, value)).transpose()
        };
        if dir.contains("/thermal/") {
            let Some((index, value)) = entries.get("temp") else { continue };
            let zone = dir.rsplit('/').next().unwrap_or(dir);
            let name = entries.get("type").map_or(zone, |(_, kind)| *kind);
            // Trip points: `trip_point_N_type` says what `trip_point_N_temp` is.
            let trip = |kind: &str| -> Result<Option<f64>, HostError> {
                let found =
                    entries.iter().find(|(file, (_, value))| file.ends_with("_type") && *value == kind);
                match found {
                    Some((file, _)) => limit(&file.replace("_type", "_temp")),
                    None => Ok(None),
                }
            };
            sensors.push(Sensor {
                name: name.to_string(),
                source: format!("{dir}/temp"),
                celsius: millidegrees(*index, value)?,
                high_celsius: trip("hot")?,
                critical_celsius: trip("critical")?,
            });
        } else {
            let chip = entries.get("name").map_or("hwmon", |(_, name)| *name);
            for (file, (index, value)) in
                entries.iter().filter(|(f, _)| f.starts_with("temp") && f.ends_with("_input"))
            {
                let input = file.trim_end_matches("_input");
                let label = entries.get(format!("{input}_label").as_str()).map_or(input, |(_, label)| *label);
                sensors.push(Sensor {
                    name: format!("{chip} {label}"),
                    source: format!("{dir}/{file}"),
                    celsius: millidegrees(*index, value)?,
                    high_celsius: limit(&format!("{input}_max"))?,
                    critical_celsius: limit(&format!("{input}_crit"))?,
                });
            }
        }
    }
    if sensors.is_empty() {
        return Err(reading.unavailable(
            "no sensors: neither /sys/class/thermal nor /sys/class/hwmon has a temperature reading on this host (usual in a virtual machine)",
        ));
    }
    Ok(Data::Temperature(Temperature { sensors }))
}

#[cfg(test)]
mod tests;
