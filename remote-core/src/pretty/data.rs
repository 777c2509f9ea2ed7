//! Typed data for people: one compact line per host in the run summary, and the `table` step's columns.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::data::{Data, Interface};
use crate::report::Report;

/// How many processes the one-line form names before "and N more".
const PROCESSES_SHOWN: usize = 3;
/// The CPU share fields, percentages without `_percent` in their names.
const CPU_SHARES: [&str; 8] = ["usr", "nice", "sys", "idle", "iowait", "irq", "softirq", "steal"];
/// Widest cell of a table; longer text (a command line) is cut with `…`.
const CELL_CHARS: usize = 60;

/// `data` on one line, starting with its kind: `cpu  usr 3.1%  sys 0.9%  iowait 0.0%  steal 0.0%  idle
/// 95.8%`.
pub(crate) fn one_line(data: &Data) -> String {
    let mut line = format!("{}  ", data.kind());
    let parts: Vec<String> = match data {
        Data::Cpu(cpu) => {
            let mut parts: Vec<String> = [
                ("usr", cpu.usr),
                ("sys", cpu.sys),
                ("iowait", cpu.iowait),
                ("steal", cpu.steal),
                ("idle", cpu.idle),
            ]
            .iter()
            .map(|(name, value)| format!("{name} {}", percent(*value)))
            .collect();
            if !cpu.cores.is_empty() {
                // Busy as the `busy` field counts it: neither idle nor waiting for I/O.
                let busy: Vec<String> = cpu
                    .cores
                    .iter()
                    .map(|c| format!("{}:{:.0}%", c.core, 100.0 - c.idle - c.iowait))
                    .collect();
                parts.push(format!("busy per core {}", busy.join(" ")));
            }
            parts
        }
        Data::Ram(ram) => vec![
            format!(
                "used {} of {} ({})",
                bytes(ram.used_bytes),
                bytes(ram.total_bytes),
                percent(ram.used_percent)
            ),
            format!("available {}", bytes(ram.available_bytes)),
            format!("cache {}", bytes(ram.buffers_cache_bytes)),
            format!("swap {} of {}", bytes(ram.swap_used_bytes), bytes(ram.swap_total_bytes)),
        ],
        Data::Load(load) => {
            vec![
                format!("{:.2} {:.2} {:.2}", load.load1, load.load5, load.load15),
                format!("on {} cores", load.cores),
            ]
        }
        Data::Net(net) => {
            let shown: Vec<&Interface> = net
                .interfaces
                .iter()
                .filter(|i| i.default_route || i.rx_bytes_per_sec > 0.0 || i.tx_bytes_per_sec > 0.0)
                .collect();
            if shown.is_empty() {
                vec![format!("no traffic on {} interfaces", net.interfaces.len())]
            } else {
                shown
                    .iter()
                    .map(|i| {
                        let mark = if i.default_route { "*" } else { "" };
                        format!(
                            "{}{mark} rx {} tx {}",
                            i.name,
                            rate(i.rx_bytes_per_sec),
                            rate(i.tx_bytes_per_sec)
                        )
                    })
                    .collect()
            }
        }
        Data::Disk(disk) if disk.filesystems.is_empty() => vec!["no filesystems".into()],
        Data::Disk(disk) => disk
            .filesystems
            .iter()
            .map(|f| format!("{} {} of {}", f.mount, percent(f.used_percent), bytes(f.size_bytes)))
            .collect(),
        Data::Entropy(entropy) => {
            vec![format!("{} of {} bits", entropy.available_bits, entropy.pool_size_bits)]
        }
        Data::OsInfo(os) => {
            let name = if os.pretty_name.is_empty() {
                format!("{} {}", os.distribution, os.version)
            } else {
                os.pretty_name.clone()
            };
            let mut parts = vec![
                name,
                format!("kernel {}", os.kernel),
                os.architecture.clone(),
                format!("up {}", uptime(os.uptime_seconds)),
            ];
            parts.extend(os.virtualization.clone());
            parts
        }
        Data::Hardware(hardware) => {
            let mut parts = vec![
                hardware.cpu_model.clone(),
                format!("{} cores", hardware.cores),
                bytes(hardware.memory_bytes),
            ];
            parts.extend(hardware.disks.iter().map(|d| format!("{} {}", d.name, bytes(d.size_bytes))));
            parts
        }
        Data::Processes(list) => {
            let matching =
                if list.filter.is_empty() { String::new() } else { format!(" matching {:?}", list.filter) };
            let mut parts =
                vec![format!("{}{matching}", count(list.processes.len(), "process", "processes"))];
            parts.extend(list.processes.iter().take(PROCESSES_SHOWN).map(|p| {
                format!(
                    "{} {} {} {} {}",
                    p.pid,
                    p.user,
                    percent(p.cpu_percent),
                    bytes(p.memory_bytes),
                    p.command
                )
            }));
            if list.processes.len() > PROCESSES_SHOWN {
                parts.push(format!("and {} more", list.processes.len() - PROCESSES_SHOWN));
            }
            parts
        }
        Data::Temperature(temperature) => {
            temperature.sensors.iter().map(|s| format!("{} {:.1}°C", s.name, s.celsius)).collect()
        }
        Data::Packages(packages) => {
            let mut parts = vec![
                packages.manager.name().to_string(),
                format!("{} upgrade(s) available", packages.pending.len()),
            ];
            parts.extend(
                packages
                    .pending
                    .iter()
                    .take(PROCESSES_SHOWN)
                    .map(|u| format!("{} {} → {}", u.name, u.from, u.to)),
            );
            if packages.pending.len() > PROCESSES_SHOWN {
                parts.push(format!("and {} more", packages.pending.len() - PROCESSES_SHOWN));
            }
            parts
        }
        Data::Service(service) => {
            let mut parts =
                vec![service.unit.clone(), format!("{} ({})", service.active_state, service.sub_state)];
            if !service.unit_file_state.is_empty() {
                parts.push(service.unit_file_state.clone());
            }
            parts.extend(service.main_pid.map(|pid| format!("pid {pid}")));
            parts.extend(service.memory_bytes.map(bytes));
            parts.extend(service.active_since.as_ref().map(|since| format!("since {since}")));
            if service.result != "success" && !service.result.is_empty() {
                parts.push(format!("last result {}", service.result));
            }
            parts
        }
    };
    line.push_str(&parts.join("  "));
    line
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn percent(value: f64) -> String {
    format!("{value:.1}%")
}

/// A byte count in binary units, three significant digits: `512 B`, `1.5 KiB`, `7.81 GiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

fn rate(per_second: f64) -> String {
    format!("{}/s", bytes(per_second.round() as u64))
}

/// Seconds as the largest two units: `3d 4h`, `2h 5m`, `42s`.
fn uptime(seconds: f64) -> String {
    let total = seconds as u64;
    let (days, hours, minutes) = (total / 86_400, total / 3600 % 24, total / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{total}s"),
        (0, 0, m) => format!("{m}m {}s", total % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// The hosts' data as a table: a row per host, or per item (filesystem, interface, process, sensor, core)
/// when the data is a list. Columns are the JSON fields, in the struct's order; hosts without data are listed
/// under it.
pub(crate) fn table(report: &Report) -> String {
    let mut header: Vec<String> = vec!["host".into()];
    let mut table_rows: Vec<Vec<Cell>> = Vec::new();
    let mut without: Vec<String> = Vec::new();
    for result in &report.results {
        let Some(data) = result.any_data() else {
            without.push(format!(
                "{} ({})",
                result.host,
                result.error_text().unwrap_or_else(|| "no typed data".into())
            ));
            continue;
        };
        for object in rows(data) {
            let mut row = vec![Cell::text(&result.host)];
            for (key, value) in object.iter().filter(|(_, v)| !v.is_array()) {
                let column = match header.iter().position(|h| h == key) {
                    Some(column) => column,
                    None => {
                        header.push(key.clone());
                        header.len() - 1
                    }
                };
                row.resize(row.len().max(column + 1), Cell::text(""));
                row[column] = Cell::of(key, value);
            }
            table_rows.push(row);
        }
    }
    let mut text =
        format!("\n{} on {}\n\n", super::clip(report.label.lines().next().unwrap_or_default()), report.group);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            table_rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.text.chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|c| table_rows.iter().filter_map(|r| r.get(c)).any(|cell| cell.number))
        .collect();
    let line = |cells: Vec<(&str, bool)>| {
        let mut out = String::from(" ");
        for (c, (cell, right)) in cells.into_iter().enumerate() {
            let width = widths[c];
            let _ = if right { write!(out, " {cell:>width$}") } else { write!(out, " {cell:<width$}") };
        }
        out.trim_end().to_string() + "\n"
    };
    text.push_str(&line(header.iter().enumerate().map(|(c, h)| (h.as_str(), numeric[c])).collect()));
    for row in &table_rows {
        text.push_str(&line(
            (0..header.len())
                .map(|c| (row.get(c).map_or("", |cell| cell.text.as_str()), numeric[c]))
                .collect(),
        ));
    }
    if !without.is_empty() {
        text.push_str(&format!("\n  without data: {}\n", super::sanitize(&without.join(", "))));
    }
    text.push('\n');
    text
}

/// The rows one host's data makes: its JSON fields, in their written order. A list (filesystems, interfaces,
/// processes, sensors) makes a row per item; per-core CPU makes the total (core `all`) and a row per core;
/// the hardware's disks fit in one cell, so the machine stays one row.
fn rows(data: &Data) -> Vec<Map<String, Value>> {
    let Ok(Value::Object(fields)) = serde_json::to_value(data) else { return Vec::new() };
    let items = |key: &str| -> Vec<Map<String, Value>> {
        match fields.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_object().cloned()).collect(),
            _ => Vec::new(),
        }
    };
    match data {
        Data::Cpu(cpu) if !cpu.cores.is_empty() => {
            let mut total = Map::new();
            total.insert("core".into(), Value::String("all".into()));
            total.extend(
                fields
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "interval_ms" | "cores"))
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            std::iter::once(total).chain(items("cores")).collect()
        }
        Data::Hardware(hardware) => {
            let mut row = fields.clone();
            let disks: Vec<String> =
                hardware.disks.iter().map(|d| format!("{} {}", d.name, bytes(d.size_bytes))).collect();
            row.insert("disks".into(), Value::String(disks.join(", ")));
            vec![row]
        }
        Data::Net(_) => items("interfaces"),
        Data::Disk(_) => items("filesystems"),
        Data::Processes(_) => items("processes"),
        Data::Temperature(_) => items("sensors"),
        Data::Packages(_) => items("pending"),
        _ => vec![fields],
    }
}

/// One table cell, already formatted.
#[derive(Clone)]
struct Cell {
    text: String,
    number: bool,
}

impl Cell {
    fn text(text: &str) -> Self {
        let visible = super::sanitize(text);
        let text = if visible.chars().count() > CELL_CHARS {
            visible.chars().take(CELL_CHARS - 1).chain(['…']).collect()
        } else {
            visible
        };
        Cell { text, number: false }
    }

    /// A value formatted by what its name says it is: bytes and rates in binary units, other numbers with one
    /// or two decimals.
    fn of(key: &str, value: &Value) -> Self {
        let number = |text: String| Cell { text, number: true };
        match value {
            Value::Number(n) if key.ends_with("_bytes_per_sec") => number(rate(n.as_f64().unwrap_or(0.0))),
            Value::Number(n) if key.ends_with("_bytes") => number(bytes(n.as_u64().unwrap_or(0))),
            // Percentages with one decimal, as `pretty` shows them; small numbers (load averages) with two.
            Value::Number(n) if n.is_f64() => {
                let value = n.as_f64().unwrap_or(0.0);
                number(if key.ends_with("_percent") || value.abs() >= 10.0 || CPU_SHARES.contains(&key) {
                    format!("{value:.1}")
                } else {
                    format!("{value:.2}")
                })
            }
            Value::Number(n) => number(n.to_string()),
            Value::Bool(flag) => Cell::text(if *flag { "yes" } else { "no" }),
            Value::Null => Cell::text("-"),
            Value::String(text) => Cell::text(text),
            other => Cell::text(&other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::data::{Cpu, Disk, Filesystem, Load, Ram};
    use crate::report::{HostError, HostResult, Output};

    #[test]
    fn one_line_per_kind() {
        let check = |data: Data, expected: &str| assert_eq!(one_line(&data), expected);
        check(
            Data::Cpu(Cpu { usr: 3.12, sys: 0.9, idle: 95.8, interval_ms: 1000, ..Cpu::default() }),
            "cpu  usr 3.1%  sys 0.9%  iowait 0.0%  steal 0.0%  idle 95.8%",
        );
        check(
            Data::Ram(Ram {
                total_bytes: 8 << 30,
                used_bytes: 1288 << 20,
                available_bytes: 6 << 30,
                buffers_cache_bytes: 3 << 30,
                swap_total_bytes: 2 << 30,
                used_percent: 15.72,
                ..Ram::default()
            }),
            "ram  used 1.26 GiB of 8.00 GiB (15.7%)  available 6.00 GiB  cache 3.00 GiB  swap 0 B of 2.00 GiB",
        );
        check(
            Data::Load(Load { load1: 0.5, load5: 0.25, load15: 0.125, cores: 4, ..Load::default() }),
            "load  0.50 0.25 0.12  on 4 cores",
        );
        check(
            Data::Disk(Disk {
                filesystems: vec![Filesystem {
                    mount: "/".into(),
                    size_bytes: 252 << 30,
                    used_percent: 27.04,
                    ..Filesystem::default()
                }],
            }),
            "disk  / 27.0% of 252 GiB",
        );
    }

    #[test]
    fn sizes_for_people() {
        let check = |input: u64, expected: &str| assert_eq!(bytes(input), expected, "{input}");
        check(0, "0 B");
        check(1023, "1023 B");
        check(1024, "1.00 KiB");
        check(1536, "1.50 KiB");
        check(10 * 1024 * 1024 + 1, "10.0 MiB");
        check(300 << 30, "300 GiB");
        check(u64::MAX, "16.0 EiB");
        let check = |input: f64, expected: &str| assert_eq!(uptime(input), expected, "{input}");
        check(42.0, "42s");
        check(125.0, "2m 5s");
        check(7500.0, "2h 5m");
        check(3.0 * 86400.0 + 4.5 * 3600.0, "3d 4h");
    }

    #[test]
    fn per_core_cpu_has_a_total_row_and_hardware_one_row() {
        use crate::data::{BlockDevice, CoreCpu, Hardware};
        let check = |data: Data, expected: &[&str]| {
            let shown: Vec<String> =
                rows(&data).iter().map(|row| row.keys().cloned().collect::<Vec<_>>().join(" ")).collect();
            assert_eq!(shown, expected);
        };
        let core = |core: u32| CoreCpu { core, ..CoreCpu::default() };
        check(
            Data::Cpu(Cpu { cores: vec![core(0), core(1)], ..Cpu::default() }),
            &[
                "core usr nice sys idle iowait irq softirq steal",
                "core usr nice sys idle iowait irq softirq steal",
                "core usr nice sys idle iowait irq softirq steal",
            ],
        );
        check(Data::Cpu(Cpu::default()), &["usr nice sys idle iowait irq softirq steal interval_ms cores"]);
        let disk = BlockDevice { name: "sda".into(), size_bytes: 1 << 30, rotational: None };
        let hardware = Data::Hardware(Hardware {
            cpu_model: "x".into(),
            cores: 2,
            memory_bytes: 1,
            disks: vec![disk.clone(), disk],
        });
        check(hardware.clone(), &["cpu_model cores memory_bytes disks"]);
        assert_eq!(rows(&hardware)[0]["disks"], "sda 1.00 GiB, sda 1.00 GiB");
    }

    #[test]
    fn a_table_has_a_row_per_item_and_names_hosts_without_data() {
        let disk = |mount: &str, used: f64| Filesystem {
            device: "/dev/sda1".into(),
            mount: mount.into(),
            fs_type: "ext4".into(),
            size_bytes: 10 << 30,
            used_bytes: 5 << 30,
            available_bytes: 5 << 30,
            used_percent: used,
        };
        let host = |name: &str, outcome: Result<Output, HostError>| HostResult {
            host: name.into(),
            outcome,
            elapsed: Duration::ZERO,
        };
        let data = Data::Disk(Disk { filesystems: vec![disk("/", 50.0), disk("/srv/\x1b[31mred", 7.25)] });
        let report = Report {
            label: "disk".into(),
            group: "web".into(),
            elapsed: Duration::ZERO,
            results: vec![
                host("a", Ok(Output { exit: Some(0), data: Some(data), ..Output::default() })),
                host("bb", Err(HostError::ConnectRefused { port: 22 })),
            ],
        };
        let expected = "
disk on web

  host device    mount         fs_type size_bytes used_bytes available_bytes used_percent
  a    /dev/sda1 /             ext4      10.0 GiB   5.00 GiB        5.00 GiB         50.0
  a    /dev/sda1 /srv/·[31mred ext4      10.0 GiB   5.00 GiB        5.00 GiB          7.2

  without data: bb (connection refused (is sshd running on port 22?))

";
        assert_eq!(table(&report), expected);
    }
}
