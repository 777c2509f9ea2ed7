//! Units for axes and legends, read from the field's own documentation in remote-core, so a new field gets
//! its unit where it is declared (`"…, in bytes."`) and the viewer needs no list of its own.

use remote_core::fields;

/// How a field's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `95.8%`.
    Percent,
    /// `1.5 GiB`.
    Bytes,
    /// `12.0 MiB/s`.
    BytesPerSecond,
    /// `48.0 °C`.
    Celsius,
    /// `3 h 12 min`.
    Seconds,
    /// A plain number: load averages, counts, packets per second.
    Number,
}

impl Unit {
    /// The unit of the field named `field`, or [`Unit::Number`] for a field this build does not know.
    pub fn of(field: &str) -> Unit {
        let Some(field) = fields::ALL.iter().map(|select| select()).find(|f| f.name == field) else {
            return Unit::Number;
        };
        let doc = field.doc.to_ascii_lowercase();
        if doc.contains("in percent") {
            Unit::Percent
        } else if doc.starts_with("bytes") && doc.contains("per second") {
            Unit::BytesPerSecond
        } else if doc.contains("in bytes") {
            Unit::Bytes
        } else if doc.contains("celsius") {
            Unit::Celsius
        } else if doc.starts_with("seconds") {
            Unit::Seconds
        } else {
            Unit::Number
        }
    }

    /// `value` written for a person, short enough for a legend column.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "–".to_string();
        }
        match self {
            Unit::Percent => format!("{value:.1}%"),
            Unit::Bytes => binary(value, ""),
            Unit::BytesPerSecond => binary(value, "/s"),
            Unit::Celsius => format!("{value:.1} °C"),
            Unit::Seconds => {
                let s = value.max(0.0) as u64;
                match s {
                    0..60 => format!("{s} s"),
                    60..3600 => format!("{} min", s / 60),
                    3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
                    _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
                }
            }
            Unit::Number if value.abs() >= 1e6 => format!("{value:.3e}"),
            Unit::Number if value.fract() == 0.0 => format!("{value:.0}"),
            Unit::Number => format!("{value:.2}"),
        }
    }

    /// A value on an axis whose marks are `step` apart: with as many decimals as the step needs, so close
    /// marks (33.36%, 33.38%) never read the same.
    pub fn axis(self, value: f64, step: f64) -> String {
        let decimals = |scaled_step: f64| (-scaled_step.abs().log10().floor()).clamp(0.0, 4.0) as usize;
        match self {
            Unit::Percent => format!("{value:.*}%", decimals(step)),
            Unit::Celsius => format!("{value:.*} °C", decimals(step)),
            Unit::Number => format!("{value:.*}", decimals(step)),
            Unit::Seconds => self.format(value),
            Unit::Bytes | Unit::BytesPerSecond => {
                let suffix = if self == Unit::Bytes { "" } else { "/s" };
                let (scale, name) = binary_scale(value.abs().max(step.abs()));
                format!("{:.*} {name}{suffix}", decimals(step / scale), value / scale)
            }
        }
    }
}

/// The power of 1024 to write `value` in, and its name.
fn binary_scale(value: f64) -> (f64, &'static str) {
    const NAMES: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut scale = 1.0;
    let mut power = 0;
    while value / scale >= 1024.0 && power < NAMES.len() - 1 {
        scale *= 1024.0;
        power += 1;
    }
    (scale, NAMES[power])
}

/// Bytes in powers of 1024, as `df -h` and `free -h` write them.
fn binary(value: f64, suffix: &str) -> String {
    let (scale, name) = binary_scale(value.abs());
    if scale == 1.0 {
        format!("{value:.0} B{suffix}")
    } else {
        format!("{:.1} {name}{suffix}", value / scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(field: &str, value: f64, expected: &str) {
        assert_eq!(Unit::of(field).format(value), expected, "{field} = {value}");
    }

    #[test]
    fn values_in_their_units() {
        check("idle", 95.84, "95.8%");
        check("disk_used_percent", 100.0, "100.0%");
        check("used", 1536.0 * 1024.0 * 1024.0, "1.5 GiB");
        check("used", 512.0, "512 B");
        check("rx_bytes_per_sec", 12.0 * 1024.0 * 1024.0, "12.0 MiB/s");
        check("rx_packets_per_sec", 12.0, "12");
        check("celsius", 48.04, "48.0 °C");
        check("uptime_seconds", 11_520.0, "3 h 12 min");
        check("load_1", 0.4567, "0.46");
        check("entropy_bits", 256.0, "256");
        check("no_such_field", 2.5, "2.50");
        check("idle", f64::NAN, "–");
    }

    #[test]
    fn axis_marks_have_the_decimals_their_step_needs() {
        let cases = [
            ("idle", 33.36, 0.01, "33.36%"),
            ("idle", 40.0, 10.0, "40%"),
            ("load_1", 1.25, 0.05, "1.25"),
            ("used", 3.5 * 1024.0 * 1024.0, 512.0 * 1024.0, "3.5 MiB"),
            ("rx_bytes_per_sec", 40_000.0, 10_000.0, "39 KiB/s"),
            ("celsius", 48.0, 2.0, "48 °C"),
        ];
        for (field, value, step, expected) in cases {
            assert_eq!(Unit::of(field).axis(value, step), expected, "{field} {value} step {step}");
        }
    }

    #[test]
    fn every_field_of_remote_core_has_a_unit_its_doc_names() {
        for field in fields::ALL.iter().map(|select| select()) {
            let unit = Unit::of(field.name);
            let doc = field.doc.to_ascii_lowercase();
            let says_unit = ["percent", "bytes", "celsius", "seconds"].iter().any(|u| doc.contains(u));
            assert_eq!(unit != Unit::Number, says_unit, "{}: {unit:?} for {:?}", field.name, field.doc);
        }
    }
}
