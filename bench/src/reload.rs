//! Edit → live benchmark: save a one-line change of an `ops` pipeline while `remote live` runs, and time the
//! way to the first call that runs the new code, split into its parts.
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --reload 10`. It drives the dev-profile
//! `remote` (the one `cargo run -p remote -- live` gives a developer) in a scratch copy of the workspace
//! that shares the target dir. The parts come from the host's own log (`REMOTE_LOG=remote_host::hot=info`: the
//! source watcher's wait, cargo, the library watcher's wait, the load) and from watching for the linker's
//! processes while cargo runs; the call is the time from the reload notice to the new output.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use remote_sandbox::workspace::ScratchWorkspace;

/// Names of the processes that link: the C compiler driver rustc runs, and the linkers under it.
const LINKERS: &[&str] = &["cc", "collect2", "ld", "ld.lld", "rust-lld", "lld"];

/// One edit's timings, in milliseconds.
#[derive(Default, Clone)]
struct Round {
    total: f64,
    watch: f64,
    cargo: f64,
    link: f64,
    library_wait: f64,
    load: f64,
    call: f64,
}

pub fn run(rounds: usize, dir: &Path) {
    let remote = remote_sandbox::workspace::built_remote(Path::new(env!("CARGO_MANIFEST_DIR")));
    let target = remote.parent().and_then(Path::parent).expect("target dir").to_path_buf();
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let copy = ScratchWorkspace::prepare(original, &target, "bench-reload-workspace");
    copy.append("ops/src/lib.rs", &pipeline(0));

    let hosts = crate::start_servers(
        dir,
        remote_sandbox::loopback_addresses(1, std::net::Ipv4Addr::new(127, 78, 1, 1), crate::bench_port()),
        1,
        &crate::login_user(),
    );
    let inventory = crate::write_inventory(&hosts, &[1], dir);
    let mut live = copy.live(&remote, &inventory, &[], &[("REMOTE_LOG", "remote_host::hot=info")]);
    live.call("bench_reload b1", "bench-0");
    let linking = LinkWatch::start();
    let mut table = Vec::new();
    for n in 1..=rounds {
        let from = live.len();
        linking.reset();
        let saved = Instant::now();
        copy.edit("ops/src/lib.rs", &format!("bench-{}", n - 1), &format!("bench-{n}"));
        let reloaded = live.wait_for_from(from, "ops reloaded in ", Duration::from_secs(120));
        let (notice_at, _) = live.line(reloaded);
        let output = live.call("bench_reload b1", &format!("bench-{n}"));
        let (output_at, _) = live.line(output);
        let log =
            (from..live.len()).map(|i| live.line(i).1).find(|l| l.contains("ops live")).unwrap_or_default();
        let fields = parse_fields(&log);
        let field = |name: &str| fields.get(name).copied().unwrap_or(f64::NAN);
        let round = Round {
            total: ms(output_at - saved),
            watch: field("watch_ms"),
            cargo: field("cargo_ms"),
            link: linking.window_ms(),
            library_wait: field("library_wait_ms"),
            load: field("load_ms"),
            call: ms(output_at - notice_at),
        };
        eprintln!(
            "bench: edit {n}: {:.0} ms (watch {:.0}, cargo {:.0} of which link {:.0}, library watch {:.0}, load {:.0}, call {:.0})",
            round.total, round.watch, round.cargo, round.link, round.library_wait, round.load, round.call
        );
        table.push(round);
        // A developer does not save twice within a few hundred milliseconds of a reload.
        std::thread::sleep(Duration::from_millis(300));
    }
    linking.stop();
    let (code, _) = live.quit();
    assert_eq!(code, 0, "remote live did not exit cleanly");
    report(&table, &library_size(&target));
}

fn pipeline(version: usize) -> String {
    format!(
        "\n/// Benchmark.\n#[remote::pipeline]\npub fn bench_reload(hs: &Hosts) -> Run {{\n    pipeline!(exec(hs, \"echo bench-{version}\"))\n}}\n"
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `key=value` numbers of a tracing line.
fn parse_fields(line: &str) -> HashMap<String, f64> {
    line.split_whitespace()
        .filter_map(|word| {
            let (key, value) = word.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn library_size(target: &Path) -> String {
    let file = format!("lib{}.so", remote_sandbox::workspace::LIBRARY);
    let size = std::fs::metadata(target.join("debug").join(file)).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MiB", size as f64 / (1024.0 * 1024.0))
}

/// Watches /proc for linker processes, every 2 ms, and keeps the window from the first one seen to the last.
struct LinkWatch {
    window: Arc<Mutex<Option<(Instant, Instant)>>>,
    stop: Arc<AtomicBool>,
}

impl LinkWatch {
    fn start() -> Self {
        let window = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (window.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                if linker_running() {
                    let now = Instant::now();
                    let mut window = seen.lock().unwrap_or_else(|e| e.into_inner());
                    *window = Some(window.map_or((now, now), |(first, _)| (first, now)));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        LinkWatch { window, stop }
    }

    fn reset(&self) {
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn window_ms(&self) -> f64 {
        self.window.lock().unwrap_or_else(|e| e.into_inner()).map_or(0.0, |(first, last)| ms(last - first))
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn linker_running() -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).any(
        |e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|comm| LINKERS.contains(&comm.trim())),
    )
}

/// One column of the report: its name and how to read it from a round.
type Part = (&'static str, fn(&Round) -> f64);

fn report(table: &[Round], library: &str) {
    let column = |pick: fn(&Round) -> f64| -> (f64, f64) {
        let mut values: Vec<f64> = table.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        (values[values.len() / 2], values[values.len() - 1])
    };
    println!(
        "\nEdit → live: {} one-line edits of an ops pipeline, dev profile, library {library}\n",
        table.len()
    );
    println!("| part | median ms | worst ms |");
    println!("|---|---:|---:|");
    let parts: [Part; 7] = [
        ("save → first call with the new code", |r| r.total),
        ("source watcher (debounce) → cargo starts", |r| r.watch),
        ("cargo + rustc, link included", |r| r.cargo),
        ("  of which the linker runs", |r| r.link),
        ("library watcher (debounce) → load starts", |r| r.library_wait),
        ("load (ABI check, dlopen, catalog)", |r| r.load),
        ("reload notice → the call's output", |r| r.call),
    ];
    for (name, pick) in parts {
        let (median, worst) = column(pick);
        println!("| {name} | {median:.0} | {worst:.0} |");
    }
}
