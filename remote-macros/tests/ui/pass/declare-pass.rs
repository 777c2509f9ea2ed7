//! Pipelines and steps declared by attribute compile, with every parameter type the prompt can pass, and
//! land in the catalog with their docs and parameters.

use remote_core::{Kind, Library, Linked};
use remote_std::prelude::*;

/// Lists `/` everywhere.
///
/// More detail that `remote list` leaves out.
#[remote::pipeline]
pub fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty)
}

/// Keeps hosts by several kinds of argument.
#[remote::step(default(suffix = "x"))]
fn keep(run: Run, word: &str, owned: String, limit: i64, ratio: f64, strict: bool, test: impl Fn(&HostResult) -> bool, suffix: &str) -> Run {
    let _ = (word, owned, limit, ratio, strict, suffix);
    pick(run, test)
}

/// Takes a predicate value.
#[remote::step]
fn keep_with(run: Run, test: Predicate) -> Run {
    pick(run, move |r: &HostResult| test.test(r))
}

/// Keeps hosts with a field past a threshold; Rust callers may pass `85` for the number.
#[remote::step]
fn past(run: Run, field: Select, threshold: impl Into<f64>) -> Run {
    pick(run, above(field, threshold))
}

/// The seed's low-disk check, calling the step above with a whole number.
#[remote::pipeline]
pub fn low_disk(hs: &Hosts) -> Run {
    pipeline!(disk(hs) | past(disk_used_percent, 85) | pick(below(idle, 10.5)))
}

/// Lists every night.
#[remote::jobs]
pub fn nightly(hs: &Hosts) -> Vec<JobSpec> {
    vec![JobSpec::pipeline("listing", "daily 03:00", "listing", hs)]
}

fn main() {
    let names: Vec<(String, Kind)> = Linked.catalog().into_iter().map(|e| (e.name, e.kind)).collect();
    assert_eq!(
        names,
        [
            ("listing".to_string(), Kind::Pipeline),
            ("keep".into(), Kind::Step),
            ("keep_with".into(), Kind::Step),
            ("past".into(), Kind::Step),
            ("low_disk".into(), Kind::Pipeline),
            ("nightly".into(), Kind::JobSet)
        ]
    );
    let keep = Linked.catalog().into_iter().find(|e| e.name == "keep").unwrap();
    assert_eq!(keep.doc, "Keeps hosts by several kinds of argument.");
    assert_eq!(
        keep.signature(),
        "keep(run, word: string, owned: string, limit: integer, ratio: number, strict: bool, test: predicate, suffix: string = \"x\")"
    );
    assert_eq!(Linked.catalog()[0].doc, "Lists `/` everywhere.");
    let past = Linked.catalog().into_iter().find(|e| e.name == "past").unwrap();
    assert_eq!(past.signature(), "past(run, field: field, threshold: number)");
}
