//! `bench --grouping N`: the client CPU the grouped summary costs for N hosts' outputs of 100 lines each, in
//! four shapes side by side: every host alike, ten distinct outputs, every host one line apart from the
//! others (each shown as its difference from the first), every host different.
//!
//! No hosts are contacted: the reports are built in memory as a fan-out returns them, so the figure is the
//! summary's own cost (grouping, folding host sets, rendering) and the `--json` document's, nothing else.

use std::time::Duration;

use remote_core::{HostResult, Output, Report, pretty};

/// Lines of each host's output.
const LINES: usize = 100;

/// A line of `ls -la`, about 60 bytes, the kind of output a fleet is asked for.
fn line(n: usize, variant: usize) -> String {
    format!("drwxr-xr-x  {:>2} root root  4096 Nov 25 18:{:02} entry-{n:03}-{variant}\n", n % 20, n % 60)
}

/// A report of `hosts` hosts on `web-0001`…, where host `h` prints variant `variant(h, n)` of line `n`.
fn report(hosts: usize, variant: impl Fn(usize, usize) -> usize) -> Report {
    let results = (0..hosts)
        .map(|h| {
            let stdout: String = (0..LINES).map(|n| line(n, variant(h, n))).collect();
            let output = Output { exit: Some(0), stdout: stdout.into_bytes(), ..Output::default() };
            HostResult { host: format!("web-{:04}", h + 1), outcome: Ok(output), elapsed: Duration::ZERO }
        })
        .collect();
    Report { label: "ls -la /srv".into(), group: "web".into(), results, elapsed: Duration::from_millis(800) }
}

/// The median of `rounds` measurements of `work`, in CPU milliseconds of this process.
fn cpu_ms(rounds: usize, mut work: impl FnMut() -> usize) -> (f64, usize) {
    let mut samples = Vec::with_capacity(rounds);
    let mut size = 0;
    for _ in 0..rounds {
        let before = crate::own_cpu_seconds();
        size = std::hint::black_box(work());
        samples.push((crate::own_cpu_seconds() - before) * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], size)
}

pub fn run(hosts: usize, rounds: usize) {
    let bytes = hosts * (0..LINES).map(|n| line(n, 0).len()).sum::<usize>();
    println!(
        "## Grouped summary: {hosts} hosts × {LINES} lines ({:.1} MB of output), median of {rounds} rounds, client CPU\n",
        bytes as f64 / 1e6
    );
    println!("| shape | groups | groups() ms | summary ms | --json ms | summary lines |");
    println!("|---|---:|---:|---:|---:|---:|");
    let shapes: [(&str, Box<dyn Fn(usize, usize) -> usize>); 4] = [
        ("every host alike", Box::new(|_, _| 0)),
        ("ten distinct outputs", Box::new(|h, _| h % 10)),
        ("every host one line apart", Box::new(|h, n| if n == 50 { h } else { 0 })),
        ("every host different", Box::new(|h, _| h)),
    ];
    for (name, variant) in shapes {
        let report = report(hosts, variant);
        let (group_ms, groups) = cpu_ms(rounds, || report.groups().len());
        let (summary_ms, lines) = cpu_ms(rounds, || pretty::render(&report, false).lines().count());
        let (json_ms, _) = cpu_ms(rounds, || {
            let mut out = Vec::with_capacity(bytes + bytes / 4);
            report.write_json(&mut out).expect("JSON in memory");
            out.len()
        });
        println!("| {name} | {groups} | {group_ms:.1} | {summary_ms:.1} | {json_ms:.1} | {lines} |");
    }
    println!("\n`summary ms` includes grouping; the goal is under 50 ms for 1,000 hosts.");
}
