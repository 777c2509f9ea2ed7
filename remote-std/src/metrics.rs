//! Metric operations: CPU, memory, load, network, disk space and entropy, read from the kernel's own files
//! in one SSH command per host, returned as typed [`Data`] beside the raw text.
//!
//! Each operation is a `Script` (what to read) and a parser (what it means). The parsers are pure
//! functions over a `Reading`, so they are tested on recorded files without a host.

// Parsers fail with the host's own error, whatever its size: they run once per host, not in a hot loop.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use crate::probe::{self, Probe, Reading, Script, Section};
use crate::remote;
use remote_core::data::{CoreCpu, Cpu, Data, Disk, Entropy, Filesystem, Interface, Load, Net, Ram};
use remote_core::{HostError, On, Run};

/// The usual interval of the rate operations (`cpu`, `net`).
const DEFAULT_INTERVAL: f64 = 1.0;

/// Refuses every host with `cause` when an argument is wrong; nothing is run.
fn refuse(on: impl Into<On>, operation: &str, cause: String) -> Run {
    on.into().refuse(operation, HostError::BadArgument { cause })
}

/// CPU use over one second, in percent: usr, nice, sys, idle, iowait, irq, softirq, steal.
///
/// From two readings of `/proc/stat` one second apart; no sysstat needed. Fields: `usr`, `sys`, `idle`,
/// `iowait`, `steal`, ….
#[remote::operation(data = "cpu")]
pub fn cpu(on: impl Into<On>) -> Run {
    cpu_probe(DEFAULT_INTERVAL, false).run(on, "cpu")
}

/// CPU use over `interval` (e.g. `"5s"`, `"500ms"`), in percent.
///
/// Like `cpu`, with the interval chosen.
#[remote::operation(data = "cpu")]
pub fn cpu_over(on: impl Into<On>, interval: &str) -> Run {
    match probe::interval(interval) {
        Ok(seconds) => cpu_probe(seconds, false).run(on, &format!("cpu over {interval}")),
        Err(cause) => refuse(on, "cpu_over", cause.to_string()),
    }
}

/// CPU use over `interval`, in percent, in all and per core.
///
/// The data's `cores` lists each core's shares.
#[remote::operation(data = "cpu", default(interval = "1s"))]
pub fn cpu_cores(on: impl Into<On>, interval: &str) -> Run {
    match probe::interval(interval) {
        Ok(seconds) => cpu_probe(seconds, true).run(on, &format!("cpu per core over {interval}")),
        Err(cause) => refuse(on, "cpu_cores", cause.to_string()),
    }
}

pub(crate) fn cpu_probe(seconds: f64, per_core: bool) -> Probe {
    let script = Script::new()
        .read("/proc/uptime")
        .read("/proc/stat")
        .sleep(seconds)
        .read("/proc/uptime")
        .read("/proc/stat");
    script.parsed_by("cpu", if per_core { parse_cpu_cores } else { parse_cpu })
}

fn parse_cpu(reading: &Reading) -> Result<Data, HostError> {
    read_cpu(reading, false).map(Data::Cpu)
}

fn parse_cpu_cores(reading: &Reading) -> Result<Data, HostError> {
    read_cpu(reading, true).map(Data::Cpu)
}

/// The `cpu` lines of one `/proc/stat`: label (`cpu`, `cpu0`, …) and the first eight counters (user, nice,
/// system, idle, iowait, irq, softirq, steal); kernels before 2.6.11 lack the last ones, which count as 0.
fn stat_lines<'a>(section: &Section<'a>) -> Result<Vec<(&'a str, [u64; 8])>, HostError> {
    let mut found = Vec::new();
    for (index, line) in section.lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(label) = words.first().filter(|w| w.starts_with("cpu")) else { continue };
        if words.len() < 5 {
            return Err(section.error(index, "a cpu line needs at least user, nice, system and idle"));
        }
        let mut counters = [0u64; 8];
        for (position, slot) in counters.iter_mut().enumerate() {
            if position + 1 < words.len() {
                *slot = section.number(index, &words, position + 1, "time counter")?;
            }
        }
        found.push((*label, counters));
    }
    if found.iter().all(|(label, _)| *label != "cpu") {
        return Err(section.missing("`cpu` line (the total of all cores)"));
    }
    Ok(found)
}

/// Each counter's share of the time that passed between two readings, in percent.
fn shares(before: &[u64; 8], after: &[u64; 8]) -> Option<[f64; 8]> {
    let deltas: Vec<u64> = before.iter().zip(after).map(|(b, a)| a.saturating_sub(*b)).collect();
    let total: u128 = deltas.iter().map(|d| u128::from(*d)).sum();
    if total == 0 {
        return None;
    }
    let mut out = [0.0; 8];
    for (slot, delta) in out.iter_mut().zip(&deltas) {
        *slot = *delta as f64 * 100.0 / total as f64;
    }
    Some(out)
}

/// Milliseconds between two readings of `/proc/uptime`.
fn uptime_interval(reading: &Reading) -> Result<Option<f64>, HostError> {
    let uptimes = reading.sections("/proc/uptime");
    let [before, after] = uptimes.as_slice() else { return Ok(None) };
    Ok(Some(uptime_seconds(after)? - uptime_seconds(before)?))
}

/// Seconds since boot, from `/proc/uptime`.
pub(crate) fn uptime_seconds(section: &Section) -> Result<f64, HostError> {
    let words: Vec<&str> = section.lines.first().map(|l| l.split_whitespace().collect()).unwrap_or_default();
    if words.is_empty() {
        return Err(section.missing("uptime"));
    }
    section.number(0, &words, 0, "uptime")
}

fn read_cpu(reading: &Reading, per_core: bool) -> Result<Cpu, HostError> {
    let stats = reading.sections("/proc/stat");
    let [before, after] = stats.as_slice() else {
        return Err(reading.unavailable("the host printed /proc/stat fewer than two times"));
    };
    let (before_lines, after_lines) = (stat_lines(before)?, stat_lines(after)?);
    let earlier: HashMap<&str, [u64; 8]> = before_lines.into_iter().collect();
    let idle_interval = || {
        reading
            .unavailable("no CPU time passed between the two readings of /proc/stat; give a longer interval")
    };
    let interval_ms = (uptime_interval(reading)?.unwrap_or(0.0) * 1000.0).round().max(0.0) as u64;
    let mut cpu = Cpu { interval_ms, ..Cpu::default() };
    for (label, counters) in after_lines {
        let Some(previous) = earlier.get(label) else { continue };
        let Some(s) = shares(previous, &counters) else {
            if label == "cpu" {
                return Err(idle_interval());
            }
            continue;
        };
        if label == "cpu" {
            [cpu.usr, cpu.nice, cpu.sys, cpu.idle, cpu.iowait, cpu.irq, cpu.softirq, cpu.steal] = s;
        } else if per_core {
            let core = label["cpu".len()..].parse().unwrap_or(u32::MAX);
            let [usr, nice, sys, idle, iowait, irq, softirq, steal] = s;
            cpu.cores.push(CoreCpu { core, usr, nice, sys, idle, iowait, irq, softirq, steal });
        }
    }
    Ok(cpu)
}

/// Memory and swap use, in bytes, from `/proc/meminfo`.
///
/// Fields: `total_bytes`, `used_bytes`, `available_bytes`, `buffers_cache_bytes`, `swap_used_bytes`,
/// `used_percent`, ….
#[remote::operation(data = "ram")]
pub fn ram(on: impl Into<On>) -> Run {
    ram_probe().run(on, "ram")
}

pub(crate) fn ram_probe() -> Probe {
    Script::new().read("/proc/meminfo").parsed_by("ram", parse_ram)
}

fn parse_ram(reading: &Reading) -> Result<Data, HostError> {
    let meminfo = reading.section("/proc/meminfo")?;
    let kib = |key: &str| -> Result<Option<u64>, HostError> {
        match meminfo.find(key) {
            Some((index, words)) => meminfo.bytes(index, &words, 1, 1024, "size").map(Some),
            None => Ok(None),
        }
    };
    let required = |key: &str| kib(key)?.ok_or_else(|| meminfo.missing(&format!("`{key}` line")));
    let total = required("MemTotal:")?;
    let free = required("MemFree:")?;
    let buffers_cache = [kib("Buffers:")?, kib("Cached:")?, kib("SReclaimable:")?]
        .into_iter()
        .fold(0u64, |sum, part| sum.saturating_add(part.unwrap_or(0)));
    // Kernels before 3.14 have no MemAvailable; free plus what can be reclaimed is what `free` showed then.
    let available = kib("MemAvailable:")?.unwrap_or(free.saturating_add(buffers_cache)).min(total);
    let swap_total = kib("SwapTotal:")?.unwrap_or(0);
    let swap_free = kib("SwapFree:")?.unwrap_or(0);
    let used = total - available;
    Ok(Data::Ram(Ram {
        total_bytes: total,
        used_bytes: used,
        free_bytes: free,
        available_bytes: available,
        buffers_cache_bytes: buffers_cache,
        swap_total_bytes: swap_total,
        swap_used_bytes: swap_total.saturating_sub(swap_free),
        used_percent: if total == 0 { 0.0 } else { used as f64 * 100.0 / total as f64 },
    }))
}

/// Load averages over 1, 5 and 15 minutes, with the number of cores to read them against.
///
/// From `/proc/loadavg` and `/proc/stat`. Fields: `load1`, `load5`, `load15`, `cores`.
#[remote::operation(data = "load")]
pub fn load(on: impl Into<On>) -> Run {
    load_probe().run(on, "load")
}

pub(crate) fn load_probe() -> Probe {
    Script::new().read("/proc/loadavg").read("/proc/stat").parsed_by("load", parse_load)
}

fn parse_load(reading: &Reading) -> Result<Data, HostError> {
    let loadavg = reading.section("/proc/loadavg")?;
    let words: Vec<&str> = loadavg.lines.first().map(|l| l.split_whitespace().collect()).unwrap_or_default();
    if words.is_empty() {
        return Err(loadavg.missing("load averages"));
    }
    let tasks = words.get(3).copied().unwrap_or_default();
    let (running, all) = tasks
        .split_once('/')
        .ok_or_else(|| loadavg.error(0, "the fourth word should be running/all tasks"))?;
    let stat = reading.section("/proc/stat")?;
    let cores = stat_lines(stat)?.iter().filter(|(label, _)| *label != "cpu").count().max(1);
    Ok(Data::Load(Load {
        load1: loadavg.number(0, &words, 0, "1-minute average")?,
        load5: loadavg.number(0, &words, 1, "5-minute average")?,
        load15: loadavg.number(0, &words, 2, "15-minute average")?,
        cores: cores as u32,
        running: loadavg.number(0, &[running], 0, "number of running tasks")?,
        tasks: loadavg.number(0, &[all], 0, "number of tasks")?,
    }))
}

/// Network traffic per interface over one second: bytes and packets per second in and out.
///
/// From `/proc/net/dev`; the interface of the default route is marked. Fields: `rx_bytes_per_sec`,
/// `tx_bytes_per_sec`, ….
#[remote::operation(data = "net")]
pub fn net(on: impl Into<On>) -> Run {
    net_probe(DEFAULT_INTERVAL).run(on, "net")
}

/// Network traffic per interface over `interval` (e.g. `"5s"`).
///
/// Like `net`, with the interval chosen.
#[remote::operation(data = "net")]
pub fn net_over(on: impl Into<On>, interval: &str) -> Run {
    match probe::interval(interval) {
        Ok(seconds) => net_probe(seconds).run(on, &format!("net over {interval}")),
        Err(cause) => refuse(on, "net_over", cause.to_string()),
    }
}

pub(crate) fn net_probe(seconds: f64) -> Probe {
    Script::new()
        .read("/proc/uptime")
        .read("/proc/net/dev")
        .sleep(seconds)
        .read("/proc/uptime")
        .read("/proc/net/dev")
        .read_optional("/proc/net/route")
        .read_optional("/proc/net/ipv6_route")
        .parsed_by("net", parse_net)
}

/// Counters of one `/proc/net/dev`: name → [rx bytes, rx packets, tx bytes, tx packets], in the file's order.
fn net_counters<'a>(section: &Section<'a>) -> Result<Vec<(&'a str, [u64; 4])>, HostError> {
    let mut found = Vec::new();
    for (index, line) in section.lines.iter().enumerate() {
        // The two header lines have `|` where interface lines have `name:`.
        let Some((name, rest)) = line.split_once(':') else { continue };
        if name.contains('|') {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        if words.len() < 16 {
            return Err(
                section.error(index, format!("an interface line has 16 counters, this one {}", words.len()))
            );
        }
        let counter = |position: usize, what: &str| section.number::<u64>(index, &words, position, what);
        found.push((
            name.trim(),
            [
                counter(0, "received bytes")?,
                counter(1, "received packets")?,
                counter(8, "sent bytes")?,
                counter(9, "sent packets")?,
            ],
        ));
    }
    Ok(found)
}

/// Interfaces a default route goes out through, IPv4 (`/proc/net/route`) or IPv6 (`/proc/net/ipv6_route`).
fn default_route_interfaces<'a>(reading: &Reading<'a>) -> Vec<&'a str> {
    let mut found = Vec::new();
    if let Ok(route) = reading.section("/proc/net/route") {
        for line in route.lines.iter().skip(1) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() >= 8 && words[1] == "00000000" && words[7] == "00000000" {
                found.push(words[0]);
            }
        }
    }
    if let Ok(route) = reading.section("/proc/net/ipv6_route") {
        for line in &route.lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            // `lo` carries the kernel's unreachable default; it is not a way out.
            if words.len() >= 10
                && words[0].bytes().all(|b| b == b'0')
                && words[1] == "00"
                && words[9] != "lo"
            {
                found.push(words[9]);
            }
        }
    }
    found
}

fn parse_net(reading: &Reading) -> Result<Data, HostError> {
    let devs = reading.sections("/proc/net/dev");
    let [before, after] = devs.as_slice() else {
        return Err(reading.unavailable("the host printed /proc/net/dev fewer than two times"));
    };
    let seconds = uptime_interval(reading)?.unwrap_or(0.0);
    if seconds <= 0.0 {
        return Err(reading
            .unavailable("no time passed between the two readings of /proc/uptime; give a longer interval"));
    }
    let earlier: HashMap<&str, [u64; 4]> = net_counters(before)?.into_iter().collect();
    let defaults = default_route_interfaces(reading);
    let interfaces = net_counters(after)?
        .into_iter()
        .map(|(name, now)| {
            let then = earlier.get(name).copied().unwrap_or(now);
            // A counter that went down was reset (the interface was re-created); no rate can be told.
            let rate = |i: usize| now[i].saturating_sub(then[i]) as f64 / seconds;
            Interface {
                name: name.to_string(),
                default_route: defaults.contains(&name),
                rx_bytes_per_sec: rate(0),
                rx_packets_per_sec: rate(1),
                tx_bytes_per_sec: rate(2),
                tx_packets_per_sec: rate(3),
                rx_bytes: now[0],
                tx_bytes: now[2],
            }
        })
        .collect();
    Ok(Data::Net(Net { interval_ms: (seconds * 1000.0).round() as u64, interfaces }))
}

/// Filesystem types that hold no user data; `disk` leaves them out, `disk_all` keeps them.
const PSEUDO_FILESYSTEMS: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "proc",
    "pstore",
    "ramfs",
    "rpc_pipefs",
    "securityfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
];

/// Space per mounted filesystem: size, used, available, percent used; pseudo filesystems left out.
///
/// From `df -P -k` and `/proc/mounts`; tmpfs, squashfs (snaps) and kernel filesystems are not listed.
/// Fields: `used_percent`, `used_bytes`, `available_bytes`, `size_bytes`.
#[remote::operation(data = "disk")]
pub fn disk(on: impl Into<On>) -> Run {
    disk_probe(false).run(on, "disk")
}

/// Space per mounted filesystem, every one `df` lists (tmpfs and the like included).
///
/// Like `disk`, without leaving anything out.
#[remote::operation(data = "disk")]
pub fn disk_all(on: impl Into<On>) -> Run {
    disk_probe(true).run(on, "disk (all filesystems)")
}

pub(crate) fn disk_probe(all: bool) -> Probe {
    // `-P` keeps one line per filesystem whatever the device name's length; `-k` fixes the unit. df exits 1
    // when it could not read some filesystem (a FUSE mount of another user) yet lists the others: that is
    // not a failure of the host; any other status (df missing, 127) is.
    let parse = if all { parse_disk_all } else { parse_disk };
    Script::new().read("/proc/mounts").run("df -P -k", "df -P -k || test $? -eq 1").parsed_by("disk", parse)
}

fn parse_disk(reading: &Reading) -> Result<Data, HostError> {
    read_disk(reading, false).map(Data::Disk)
}

fn parse_disk_all(reading: &Reading) -> Result<Data, HostError> {
    read_disk(reading, true).map(Data::Disk)
}

/// A mount point as `/proc/mounts` writes it, with `\040` for a space (and tab, newline, backslash likewise).
fn unescape_mount(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(digits)) => {
                out.push(digits.iter().fold(0u8, |n, d| n.wrapping_mul(8).wrapping_add(d - b'0')));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The words of `line` with the byte offset each starts at.
fn words_at(line: &str) -> Vec<(usize, &str)> {
    line.split_whitespace().map(|word| (word.as_ptr() as usize - line.as_ptr() as usize, word)).collect()
}

/// A `df -P` number: digits, or `-` where df knows none.
fn is_df_number(word: &str) -> bool {
    word == "-" || (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
}

/// One `df -P` line as (device, [size, used, available], mount point). The capacity word (`41%`, or `-`)
/// after three numbers anchors it, so a device (`//nas/Shared Docs`) or a mount point with spaces reads
/// right.
fn df_line(line: &str) -> Option<(&str, [&str; 3], &str)> {
    let words = words_at(line);
    (4..words.len()).find_map(|k| {
        let (at, capacity) = words[k];
        let is_capacity =
            capacity == "-" || capacity.strip_suffix('%').is_some_and(|d| !d.is_empty() && is_df_number(d));
        let numbers = [words[k - 3].1, words[k - 2].1, words[k - 1].1];
        (is_capacity && numbers.iter().all(|n| is_df_number(n)))
            .then(|| (line[..words[k - 3].0].trim(), numbers, line[at + capacity.len()..].trim_start()))
    })
}

/// `text` as GNU df shows it, control characters as `?`, to find a mount point df printed that way.
fn as_df_shows(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn read_disk(reading: &Reading, all: bool) -> Result<Disk, HostError> {
    let mounts = reading.section("/proc/mounts")?;
    let mut types: HashMap<String, &str> = HashMap::new();
    for line in &mounts.lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [_, point, fs_type, ..] = words.as_slice() {
            // A later mount on the same point hides the earlier one, as `df` shows.
            let point = unescape_mount(point);
            types.insert(as_df_shows(&point), fs_type);
            types.insert(point, fs_type);
        }
    }
    let df = reading.section("df -P -k")?;
    let mut listed: Vec<(Filesystem, bool)> = Vec::new();
    for (index, line) in df.lines.iter().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let Some((device, numbers, mount)) = df_line(line) else {
            // busybox's df prints a line break in a mount point as it is: the rest of the name is on this
            // line.
            match listed.last_mut() {
                Some((previous, _)) => {
                    previous.mount.push('\n');
                    previous.mount.push_str(line);
                    continue;
                }
                None => {
                    let cause = "a filesystem line has a device, size, used and available in 1024-byte blocks, the \
                                 capacity (`41%`) and the mount point";
                    return Err(df.error(index, cause));
                }
            }
        };
        let kib = |position: usize, what: &str| -> Result<u64, HostError> {
            if numbers[position] == "-" {
                return Ok(0);
            }
            df.number::<u64>(index, &numbers, position, what)?
                .checked_mul(1024)
                .ok_or_else(|| df.error(index, format!("the {what} is too large to be real")))
        };
        let (size, used, available) = (kib(0, "size")?, kib(1, "used space")?, kib(2, "available space")?);
        let usable = u128::from(used) + u128::from(available);
        let filesystem = Filesystem {
            device: device.to_string(),
            mount: mount.to_string(),
            fs_type: String::new(),
            size_bytes: size,
            used_bytes: used,
            available_bytes: available,
            used_percent: if usable == 0 { 0.0 } else { used as f64 * 100.0 / usable as f64 },
        };
        listed.push((filesystem, size == 0));
    }
    let mut filesystems = Vec::new();
    for (mut filesystem, empty) in listed {
        filesystem.fs_type = types.get(&filesystem.mount).copied().unwrap_or_default().to_string();
        if all || !(empty || PSEUDO_FILESYSTEMS.contains(&filesystem.fs_type.as_str())) {
            filesystems.push(filesystem);
        }
    }
    Ok(Disk { filesystems })
}

/// Entropy available in the kernel's random pool, in bits.
///
/// From `/proc/sys/kernel/random`. Fields: `available_bits`, `pool_size_bits`.
#[remote::operation(data = "entropy")]
pub fn entropy(on: impl Into<On>) -> Run {
    entropy_probe().run(on, "entropy")
}

pub(crate) fn entropy_probe() -> Probe {
    Script::new()
        .read("/proc/sys/kernel/random/entropy_avail")
        .read("/proc/sys/kernel/random/poolsize")
        .parsed_by("entropy", parse_entropy)
}

fn parse_entropy(reading: &Reading) -> Result<Data, HostError> {
    let single = |file: &str, what: &str| -> Result<u64, HostError> {
        let section = reading.section(file)?;
        let text = section.text();
        section.number(0, &[text.as_ref()], 0, what)
    };
    Ok(Data::Entropy(Entropy {
        available_bits: single("/proc/sys/kernel/random/entropy_avail", "available entropy")?,
        pool_size_bits: single("/proc/sys/kernel/random/poolsize", "pool size")?,
    }))
}

#[cfg(test)]
mod tests;
