//! Stocks: named charts of hosts' typed data over time. `collect` turns each host's data into timestamped
//! samples of every field, `publish(stock(title, field))` sends one field's samples to the live host's hub,
//! which keeps them and serves them to viewers and to Prometheus.
//!
//! Architecture invariant: nothing here keeps state between runs. Samples leave a pipeline through the
//! driver, into the host process, so a reload of `ops` loses none of them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::data::Data;
use crate::fields::{self, Field};
use crate::report::HostResult;

/// One value of one field on one host at one time: a point of one line in a chart.
/// Serialised in the hub's wire format (`crate::wire`); the viewer reads it back with the same type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The field (`idle`).
    pub field: String,
    /// The host, as written in the inventory.
    pub host: String,
    /// What the value belongs to on the host: a mount point, an interface, a sensor; empty for host-wide
    /// data.
    pub item: String,
    /// When it was read, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The value, in the field's unit.
    pub value: f64,
}

/// How a stock's lines are drawn beyond the readings themselves. Plain data, so it crosses into the host
/// process, which keeps what smoothing needs between runs (a reload of `ops` loses none of it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Each line is the mean of its last this many readings (the seed's `sliding avg`), when set.
    pub sliding: Option<usize>,
    /// The fleet's mean and max over hosts are drawn as two more lines, `fleet mean` and `fleet max`.
    pub fleet: bool,
}

/// A chart: a title and the fields it draws, one line per host and field (and per item for lists of
/// filesystems, interfaces, sensors).
#[derive(Clone, Debug)]
pub struct Stock {
    /// What the chart is called (`Idle CPU`).
    pub title: String,
    /// What it draws: one field or more, of one kind of data.
    pub fields: Vec<Field>,
    /// Smoothing and fleet lines.
    pub shape: Shape,
}

/// The fields of a stock: one field (`idle`) or a list of them (`[usr, sys, iowait]`).
pub trait IntoFields {
    /// The fields, in the order written.
    fn into_fields(self) -> Vec<Field>;
}

impl<F: Fn() -> Field> IntoFields for F {
    fn into_fields(self) -> Vec<Field> {
        vec![self()]
    }
}

impl<F: Fn() -> Field, const N: usize> IntoFields for [F; N] {
    fn into_fields(self) -> Vec<Field> {
        self.iter().map(|select| select()).collect()
    }
}

impl<F: Fn() -> Field> IntoFields for Vec<F> {
    fn into_fields(self) -> Vec<Field> {
        self.iter().map(|select| select()).collect()
    }
}

/// A chart called `title` of one field, `publish(stock("Idle CPU", idle))`, or of several, a line per host
/// and field: `publish(stock("CPU", [usr, sys, iowait]))`.
pub fn stock(title: &str, fields: impl IntoFields) -> Stock {
    Stock { title: title.to_string(), fields: fields.into_fields(), shape: Shape::default() }
}

/// The same chart with each line the moving average of its last `readings` readings (at least 1):
/// `publish(sliding(stock("User CPU avg", usr), 12))`, a minute of 5-second readings.
pub fn sliding(mut stock: Stock, readings: i64) -> Stock {
    stock.shape.sliding = Some(readings.clamp(1, 100_000) as usize);
    stock
}

/// The same chart with the fleet's mean and max over hosts as two more lines: `publish(fleet(stock("Idle
/// CPU", idle)))`.
pub fn fleet(mut stock: Stock) -> Stock {
    stock.shape.fleet = true;
    stock
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The samples of `field` in each succeeded host's data, all stamped `at_ms`.
pub fn samples_of(field: &Field, results: &[HostResult], at_ms: i64) -> Vec<Sample> {
    results
        .iter()
        .filter(|r| r.ok())
        .flat_map(|r| {
            // Not-a-number or infinite readings have no place on a chart (or in Prometheus's gauges).
            field.of(r).into_iter().filter(|(_, value)| value.is_finite()).map(|(item, value)| Sample {
                field: field.name.to_string(),
                host: r.host.clone(),
                item,
                at_ms,
                value,
            })
        })
        .collect()
}

/// Every field's samples in `data` of one host (what `collect` records).
pub fn all_samples(host: &str, data: &Data, at_ms: i64) -> Vec<Sample> {
    fields::of_kind(data.kind())
        .iter()
        .flat_map(|field| {
            field.values(data).into_iter().filter(|(_, value)| value.is_finite()).map(|(item, value)| {
                Sample { field: field.name.to_string(), host: host.to_string(), item, at_ms, value }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::data::{Cpu, Disk, Filesystem};
    use crate::fields::{Select, disk_used_percent, idle, sys, usr};
    use crate::report::{HostError, Output};

    fn host(name: &str, outcome: Result<Output, HostError>) -> HostResult {
        HostResult { host: name.into(), outcome, elapsed: Duration::ZERO }
    }

    fn with(data: Data) -> Output {
        Output { exit: Some(0), data: Some(data), ..Output::default() }
    }

    #[test]
    fn a_stock_has_a_line_per_host_and_item() {
        let fs = |mount: &str, used_percent: f64| Filesystem {
            mount: mount.into(),
            used_percent,
            ..Filesystem::default()
        };
        let results = [
            host("a", Ok(with(Data::Cpu(Cpu { idle: 90.0, ..Cpu::default() })))),
            host("b", Ok(with(Data::Disk(Disk { filesystems: vec![fs("/", 40.0), fs("/var", 91.5)] })))),
            host("c", Err(HostError::ConnectRefused { port: 22 })),
            host("d", Ok(Output { exit: Some(0), ..Output::default() })),
        ];
        let point = |s: &Sample| (s.host.clone(), s.item.clone(), s.value);
        let idle: Vec<_> =
            samples_of(&stock("Idle CPU", idle).fields[0], &results, 7).iter().map(point).collect();
        assert_eq!(idle, [("a".to_string(), String::new(), 90.0)]);
        let disk: Vec<_> = samples_of(&disk_used_percent(), &results, 7).iter().map(point).collect();
        assert_eq!(
            disk,
            [("b".to_string(), "/".to_string(), 40.0), ("b".to_string(), "/var".to_string(), 91.5)]
        );
        assert!(
            samples_of(&disk_used_percent(), &results, 7)
                .iter()
                .all(|s| s.at_ms == 7 && s.field == "disk_used_percent")
        );
    }

    #[test]
    fn a_stock_has_one_field_or_a_list() {
        let names = |stock: Stock| stock.fields.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(stock("Idle", idle)), ["idle"]);
        assert_eq!(names(stock("CPU", [usr, sys, idle])), ["usr", "sys", "idle"]);
        assert_eq!(names(stock("CPU", [usr])), ["usr"]);
        assert_eq!(names(stock("CPU", vec![usr as Select, sys])), ["usr", "sys"]);
    }

    #[test]
    fn collect_takes_every_field_of_the_kind() {
        let samples = all_samples("a", &Data::Cpu(Cpu { usr: 1.0, idle: 99.0, ..Cpu::default() }), 5);
        let fields: Vec<&str> = samples.iter().map(|s| s.field.as_str()).collect();
        assert_eq!(fields, ["usr", "nice", "sys", "idle", "iowait", "irq", "softirq", "steal", "busy"]);
    }
}
