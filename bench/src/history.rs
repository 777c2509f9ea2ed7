//! The history store under a fleet's samples: 1,000 hosts × 6 stocks every 5 s over a simulated span, handed
//! to the writer as fast as it takes them, against the size cap. Says the bytes a sample takes on disk, the
//! longest a prune or vacuum step held the writer (the bound: 50 ms), and the file's size once at the
//! cap.
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --history 24` (simulated hours), with
//! `--history-cap 256MiB` for another cap than the default 1 GiB.

use std::path::Path;
use std::time::{Duration, Instant};

use remote_core::stocks::{Sample, now_ms};
use remote_host::history::{History, Limits};

/// Hosts of the simulated fleet.
const HOSTS: usize = 1000;
/// The stocks of `stats_jobs`, each with the one field and item its samples carry.
const STOCKS: [(&str, &str, &str); 6] = [
    ("Idle CPU", "idle", ""),
    ("User CPU", "usr", ""),
    ("RAM", "used_percent", ""),
    ("Load", "load1", ""),
    ("Net in", "rx_bytes_per_second", "eth0"),
    ("Disk", "used_percent", "/"),
];
/// Seconds between two ticks of the jobs.
const TICK_S: i64 = 5;
/// Ticks handed over between two waits for the writer: its queue drops rather than stall a run, and a
/// benchmark that outran it would measure drops.
const TICKS_PER_FLUSH: i64 = 20;

/// One simulated span written into a fresh history under `cap`; what it measured.
struct Outcome {
    samples: u64,
    seconds: f64,
    /// The largest the file (and its log) was at any wait for the writer.
    peak: u64,
    /// Its size once the writer had caught up (at most 30 s after the last write).
    bytes: u64,
    kept: i64,
    longest_step: Duration,
}

fn simulate(work: &Path, name: &str, hours: f64, cap: Option<u64>) -> Outcome {
    let path = work.join(format!("{name}.sqlite"));
    let history = History::open_with(&path, Limits { keep: None, max_size: cap }).expect("a history");
    let hosts: Vec<String> = (0..HOSTS).map(|h| format!("web-{h:04}.example")).collect();
    let ticks = (hours * 3600.0 / TICK_S as f64) as i64;
    let start = now_ms() - ticks * TICK_S * 1000;
    let began = Instant::now();
    let mut samples = 0u64;
    let mut peak = 0;
    for tick in 0..ticks {
        let at_ms = start + tick * TICK_S * 1000;
        for (stock, field, item) in STOCKS {
            let batch: Vec<Sample> = hosts
                .iter()
                .enumerate()
                .map(|(h, host)| Sample {
                    field: field.into(),
                    host: host.clone(),
                    item: item.into(),
                    at_ms,
                    value: ((tick as usize * 7 + h * 13) % 1000) as f64 / 10.0,
                })
                .collect();
            samples += batch.len() as u64;
            history.record_samples(stock, &batch);
        }
        if tick % TICKS_PER_FLUSH == TICKS_PER_FLUSH - 1 {
            assert!(history.flush(Duration::from_secs(600)), "the writer kept up");
            peak = peak.max(on_disk(&path));
        }
    }
    assert!(history.flush(Duration::from_secs(600)), "the writer kept up");
    let seconds = began.elapsed().as_secs_f64();
    // The writer prunes between batches; with no more coming, it finishes on its own clock.
    let settled = Instant::now();
    while cap.is_some_and(|cap| on_disk(&path) > cap) && settled.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stats = history.stats().expect("stats");
    Outcome {
        samples,
        seconds,
        peak: peak.max(stats.bytes),
        bytes: stats.bytes,
        kept: stats.samples,
        longest_step: history.longest_upkeep_step(),
    }
}

/// The history's size on disk, its write-ahead log included.
fn on_disk(path: &Path) -> u64 {
    let size = |suffix: &str| std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len());
    size("") + size("-wal")
}

/// Simulates an hour without a cap (the bytes a sample takes), then `hours` under `cap`.
pub fn run(hours: f64, cap: u64, work: &Path) {
    eprintln!(
        "bench: history, {HOSTS} hosts × {} stocks every {TICK_S}s: one hour without a cap, then {hours} h under a cap of {} MiB",
        STOCKS.len(),
        cap >> 20
    );
    let hour = simulate(work, "uncapped", 1.0, None);
    let capped = simulate(work, "capped", hours, Some(cap));
    println!(
        "| run | samples written | written in | samples/s | peak on disk | on disk after | samples kept | bytes per sample | longest upkeep step |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, o) in [("1 h, no cap", &hour), (&*format!("{hours} h, cap {} MiB", cap >> 20), &capped)] {
        println!(
            "| {name} | {} | {:.1} s | {:.0} | {:.1} MiB | {:.1} MiB | {} | {:.1} | {:.1} ms |",
            o.samples,
            o.seconds,
            o.samples as f64 / o.seconds,
            o.peak as f64 / (1u64 << 20) as f64,
            o.bytes as f64 / (1u64 << 20) as f64,
            o.kept,
            o.bytes as f64 / o.kept.max(1) as f64,
            o.longest_step.as_secs_f64() * 1000.0
        );
    }
}
