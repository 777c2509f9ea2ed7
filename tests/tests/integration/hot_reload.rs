//! Hot reload end to end: `remote live` in a copy of the workspace (sharing the target dir) picks up edits of
//! `ops` over the connections it has open, keeps serving through compile errors, panics and ABI changes.
//!
//! The copy (`remote_sandbox::workspace`) gives `remote-core` and `ops` builds of their own, so edits here
//! never touch the artifacts of the workspace under test. The tests take turns: they share the copy and the
//! library file cargo writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use remote_sandbox::workspace::{LivePrompt, ScratchWorkspace};
use tests::{TestHosts, processes_with, remote_bin};

/// How long a rebuild may take on a loaded 2-core machine.
const BUILD: Duration = Duration::from_secs(120);

/// One test at a time of those that build with cargo while they measure reloads (the fleet's test too): two
/// cargo builds at once on 2 cores push a reload past its deadline.
pub(crate) static TURN: Mutex<()> = Mutex::new(());

/// The copy of the workspace, one test at a time.
struct Workspace {
    copy: ScratchWorkspace,
    _turn: MutexGuard<'static, ()>,
}

impl std::ops::Deref for Workspace {
    type Target = ScratchWorkspace;
    fn deref(&self) -> &ScratchWorkspace {
        &self.copy
    }
}

impl Workspace {
    fn prepare() -> Self {
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        // The binary under test is built before any edit, so nothing here can end up linked into it.
        let target = remote_bin().parent().and_then(Path::parent).expect("target dir").to_path_buf();
        let original = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
        Workspace { copy: ScratchWorkspace::prepare(original, &target, "hot-reload-workspace"), _turn: turn }
    }

    fn live(&self, inventory: &Path, extra: &[&str]) -> LivePrompt {
        self.copy.live(remote_bin(), inventory, extra, &[])
    }
}

/// `count` test hosts, their inventory, and the copy of the workspace as it is under test.
fn start(count: usize) -> (TestHosts, PathBuf, Workspace) {
    let hosts = TestHosts::start(count);
    let inventory = hosts.write_inventory(&[]);
    (hosts, inventory, Workspace::prepare())
}

/// Makes `change` to the copy and waits for the reload it causes; the reload notice.
fn reloaded(live: &LivePrompt, change: impl FnOnce()) -> String {
    let from = live.len();
    change();
    let at = live.wait_for_from(from, "ops reloaded in ", BUILD);
    live.line(at).1
}

const LISTING: &str = r#"pipeline!(ls(hs, "/", "-la") | pretty)"#;

#[test]
fn an_edit_is_live_on_the_next_line_over_the_same_connections_and_new_pipelines_come_and_go() {
    let (hosts, inventory, ws) = start(2);
    let mut live = ws.live(&inventory, &[]);
    assert!(live.transcript().contains("ops loaded from "), "{}", live.transcript());
    live.call("listing test", "Run summary: ls -la / on test");

    let from = live.len();
    ws.edit("ops/src/lib.rs", LISTING, r#"pipeline!(ls(hs, "/etc", "-la") | pretty)"#);
    live.wait_for_from(from, "rebuilding ops…", BUILD);
    live.wait_for_from(from, "ops reloaded in ", BUILD);
    live.call("listing test", "Run summary: ls -la /etc on test");

    // A brand-new pipeline, called without restarting; then removed again.
    let notice = reloaded(&live, || {
        ws.append("ops/src/lib.rs", "\n/// Says hello.\n#[remote::pipeline]\npub fn greet(hs: &Hosts) -> Run {\n    pipeline!(exec(hs, \"echo hello-from-greet\") | pretty)\n}\n")
    });
    assert!(notice.contains("(+greet)"), "{}", live.transcript());
    live.call("greet test", "hello-from-greet");
    live.call("list", "greet(hs)");
    let notice = reloaded(&live, || ws.restore("ops/src/lib.rs"));
    assert!(notice.contains("(−greet)"), "{}", live.transcript());
    live.call("greet test", "`greet` was removed from ops by a reload");
    live.call("listing test", "Run summary: ls -la / on test");

    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
    // Every line ran over the connection opened for the first one.
    for server in hosts.sandbox.servers() {
        assert_eq!(server.log().matches("Accepted publickey").count(), 1, "{}", server.log());
    }
}

#[test]
fn a_compile_error_is_shown_and_the_old_code_keeps_serving_until_it_is_fixed() {
    let (_hosts, inventory, ws) = start(1);
    let mut live = ws.live(&inventory, &[]);
    let from = live.len();
    ws.edit("ops/src/lib.rs", LISTING, r#"pipeline!(ls(hs, "/etc", 1) | pretty)"#);
    live.wait_for_from(from, "ops did not build; the ops loaded before keeps serving", BUILD);
    // The compiler's error as cargo renders it: headline, place, and the code under it.
    live.wait_for_from(from, "error[E0308]: mismatched types", BUILD);
    live.wait_for_from(from, "ops/src/lib.rs:", BUILD);
    live.call("listing test", "Run summary: ls -la / on test");
    reloaded(&live, || {
        ws.edit(
            "ops/src/lib.rs",
            r#"pipeline!(ls(hs, "/etc", 1) | pretty)"#,
            r#"pipeline!(ls(hs, "/etc", "-la") | pretty)"#,
        )
    });
    live.call("listing test", "Run summary: ls -la /etc on test");
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
}

#[test]
fn no_build_reloads_a_library_built_elsewhere_and_stale_copies_are_removed() {
    let (_hosts, inventory, ws) = start(1);
    ws.cargo_build_ops();
    // A copy left by a `remote live` that was killed (no such process).
    let stale =
        ws.target.join("debug").join(format!("lib{}-hot-4194300-7.so", remote_sandbox::workspace::LIBRARY));
    std::fs::write(&stale, b"stale").unwrap();
    let mut live = ws.live(&inventory, &["--no-build"]);
    assert!(!stale.exists(), "the stale copy is still there");
    live.call("listing test", "Run summary: ls -la / on test");
    let from = live.len();
    ws.edit("ops/src/lib.rs", LISTING, r#"pipeline!(ls(hs, "/etc", "-la") | pretty)"#);
    // Nothing builds on save under --no-build; the test builds, as `cargo watch` would.
    std::thread::sleep(Duration::from_millis(500));
    ws.cargo_build_ops();
    live.wait_for_from(from, "ops reloaded in ", BUILD);
    assert!(!live.transcript()[..].contains("rebuilding ops"), "{}", live.transcript());
    live.call("listing test", "Run summary: ls -la /etc on test");
    let pid = live.child.id();
    assert_eq!(
        ws.copies().iter().filter(|c| c.contains(&format!("-{pid}-"))).count(),
        1,
        "{:?}",
        ws.copies()
    );
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
    assert!(
        !ws.copies().iter().any(|c| c.contains(&format!("-{pid}-"))),
        "copies left after exit: {:?}",
        ws.copies()
    );
}

#[test]
fn a_panic_is_reported_with_its_place_and_a_call_in_flight_finishes_on_the_old_code() {
    let (_hosts, inventory, ws) = start(1);
    let marker = format!("slow-{}", std::process::id());
    let slow = |version: &str| {
        format!(
            "\n/// Panics.\n#[remote::step]\npub fn boom(_run: Run) -> Run {{\n    panic!(\"boom at the prompt\")\n}}\n\n\
             /// Takes its time.\n#[remote::pipeline]\npub fn slow(hs: &Hosts) -> Run {{\n    pipeline!(exec(hs, \"sleep 3; echo {marker}-{version}\") | pretty)\n}}\n"
        )
    };
    ws.append("ops/src/lib.rs", &slow("old"));
    let mut live = ws.live(&inventory, &[]);
    live.call("uptime(test) | boom", "boom at the prompt");
    let transcript = live.transcript();
    assert!(transcript.contains("panicked at ops/src/lib.rs:"), "{transcript}");
    // The host lives on.
    live.call("listing test", "Run summary: ls -la / on test");

    // Saved while `slow` runs: the call finishes on the old code, the reload waits for it, the next call is
    // new.
    let from = live.len();
    live.send("slow test");
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with(&format!("{marker}-old")).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    ws.edit("ops/src/lib.rs", &format!("{marker}-old"), &format!("{marker}-new"));
    let old = live.wait_for_from(from, &format!("{marker}-old"), BUILD);
    let reloaded = live.wait_for_from(from, "ops reloaded in ", BUILD);
    assert!(old < reloaded, "the reload did not wait for the call:\n{}", live.transcript());
    live.call("slow test", &format!("{marker}-new"));
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
}

#[test]
fn a_library_built_from_a_changed_remote_core_is_refused_and_the_old_one_keeps_serving() {
    let (_hosts, inventory, ws) = start(1);
    let mut live = ws.live(&inventory, &[]);
    let from = live.len();
    ws.append(
        "remote-core/src/lib.rs",
        "\n/// A change to the model the running host does not have.\npub const CHANGED: u32 = 1;\n",
    );
    ws.edit("ops/src/lib.rs", LISTING, r#"pipeline!(ls(hs, "/etc", "-la") | pretty)"#);
    live.wait_for_from(from, "restart `remote live` to pick up this change", BUILD);
    live.call("listing test", "Run summary: ls -la / on test");
    // `reload` says the same and is refused; the host is still fine.
    let from = live.len();
    live.send("reload");
    live.wait_for_from(from, "restart `remote live` to pick up this change", BUILD);
    live.call("listing test", "Run summary: ls -la / on test");
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
}

#[test]
fn a_library_built_after_cargo_lock_changed_is_refused_and_the_old_one_keeps_serving() {
    let (_hosts, inventory, ws) = start(1);
    let mut live = ws.live(&inventory, &[]);
    let from = live.len();
    // A new dependency of ops: cargo records it in Cargo.lock at the next build, which the running host was
    // not built against.
    ws.edit(
        "ops/Cargo.toml",
        "remote-std.workspace = true",
        "remote-std.workspace = true\nremote-syntax.workspace = true",
    );
    ws.edit("ops/src/lib.rs", LISTING, r#"pipeline!(ls(hs, "/etc", "-la") | pretty)"#);
    live.wait_for_from(from, "Cargo.lock changed since this `remote live` started", BUILD);
    live.call("listing test", "Run summary: ls -la / on test");
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
}

#[test]
fn fifty_reloads_under_steady_calls_fail_no_call_and_leak_no_copies() {
    let (_hosts, inventory, ws) = start(1);
    let soak = |n: usize| {
        format!(
            "\n/// Soak.\n#[remote::pipeline]\npub fn soak(hs: &Hosts) -> Run {{\n    pipeline!(exec(hs, \"echo soak-{n}\"))\n}}\n"
        )
    };
    ws.append("ops/src/lib.rs", &soak(0));
    let mut live = ws.live(&inventory, &[]);
    live.call("soak test", "soak-0");
    let start_rss = live.rss_kib();
    // Another thread calls the pipeline every 100 ms while the sources change.
    let mut stdin = live.stdin.take().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut calls = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                writeln!(stdin, "soak test").unwrap();
                calls += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            (stdin, calls)
        })
    };
    let cycles = 50;
    let mut peak_rss = start_rss;
    let mut settled_rss = start_rss;
    for n in 1..=cycles {
        let from = live.len();
        ws.edit("ops/src/lib.rs", &format!("soak-{}", n - 1), &format!("soak-{n}"));
        live.wait_for_from(from, "ops reloaded in ", BUILD);
        peak_rss = peak_rss.max(live.rss_kib());
        if n == 10 {
            settled_rss = live.rss_kib();
        }
        let pid = live.child.id();
        assert!(
            ws.copies().iter().filter(|c| c.contains(&format!("-{pid}-"))).count() <= 1,
            "{:?}",
            ws.copies()
        );
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (stdin, calls) = caller.join().unwrap();
    live.stdin = Some(stdin);
    live.call("soak test", &format!("soak-{cycles}"));
    let end_rss = live.rss_kib();
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
    let summaries: Vec<&str> =
        transcript.lines().filter(|l| l.starts_with("Run summary: echo soak-")).collect();
    assert!(summaries.len() > calls / 2, "{} runs for {calls} calls:\n{transcript}", summaries.len());
    assert!(summaries.iter().all(|l| l.contains("1 ok, 0 failed")), "a call failed:\n{transcript}");
    assert!(!transcript.contains("error:"), "{transcript}");
    // Versions only go forward: no call ran a library older than one already seen.
    let versions: Vec<usize> = summaries
        .iter()
        .filter_map(|l| l.split("soak-").nth(1)?.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    // The first reloads grow the heap once (a second library mapped while the first is unloaded, buffers of
    // the watcher's pass over the file); after that, forty more reloads must not add more than a little.
    let mib = |kib: u64| kib as f64 / 1024.0;
    let late_growth = mib(end_rss.saturating_sub(settled_rss));
    eprintln!(
        "soak: {cycles} reloads, {calls} calls; RSS {:.1} MiB at start, {:.1} MiB after 10 reloads, {:.1} MiB after {cycles} \
         (peak {:.1} MiB): +{late_growth:.2} MiB over the last {} reloads",
        mib(start_rss),
        mib(settled_rss),
        mib(end_rss),
        mib(peak_rss),
        cycles - 10
    );
    assert!(late_growth < 8.0, "RSS grew by {late_growth:.1} MiB over the last {} reloads", cycles - 10);
    assert!(mib(peak_rss) < mib(start_rss) + 100.0, "RSS peaked at {:.1} MiB", mib(peak_rss));
}

#[test]
fn a_job_runs_the_newest_code_on_every_tick_and_says_once_when_its_pipeline_is_gone() {
    let (hosts, inventory, ws) = start(1);
    ws.append(
        "ops/src/lib.rs",
        "\n/// Ticks.\n#[remote::pipeline]\npub fn ticker(hs: &Hosts) -> Run {\n    pipeline!(exec(hs, \"echo tick-old\"))\n}\n",
    );
    let mut live = ws.live(&inventory, &[]);
    live.call("watch t every 200ms ticker test", "remote live: job t every 200ms");
    live.send("wait 600ms");
    live.call("jobs t", "tick-old");
    reloaded(&live, || ws.edit("ops/src/lib.rs", "tick-old", "tick-new"));
    live.send("wait 600ms");
    live.call("jobs t", "tick-new");
    // The pipeline goes: the job keeps its schedule and says so once.
    let from = live.len();
    ws.restore("ops/src/lib.rs");
    live.wait_for_from(from, "(−ticker)", BUILD);
    live.wait_for_from(from, "job t: failing: `ticker` was removed from ops by a reload", BUILD);
    live.send("wait 1s");
    live.call("jobs", "NAME");
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
    assert_eq!(transcript.matches("job t: failing:").count(), 1, "{transcript}");
    assert!(transcript.contains("remote live: halted 1 job"), "{transcript}");
    for server in hosts.sandbox.servers() {
        assert_eq!(server.log().matches("Accepted publickey").count(), 1, "{}", server.log());
    }
}

#[test]
fn a_hundred_reloads_under_a_job_every_100ms_lose_no_tick_but_the_skipped_ones() {
    let (_hosts, inventory, ws) = start(1);
    let pipeline = |n: usize| {
        format!(
            "\n/// Beats.\n#[remote::pipeline]\npub fn beat(hs: &Hosts) -> Run {{\n    pipeline!(exec(hs, \"echo beat-{n}\"))\n}}\n"
        )
    };
    ws.append("ops/src/lib.rs", &pipeline(0));
    let mut live = ws.live(&inventory, &["--json"]);
    live.call("watch beat every 100ms beat test", "remote live: job beat every 100ms");
    let watched = Instant::now();
    let reloads = 100;
    for n in 1..=reloads {
        let from = live.len();
        ws.edit("ops/src/lib.rs", &format!("beat-{}", n - 1), &format!("beat-{n}"));
        live.wait_for_from(from, "ops reloaded in ", BUILD);
    }
    // One `jobs` as JSON: every tick due since `watch` either ran or was counted as skipped.
    let from = live.len();
    live.send("jobs");
    let at = live.wait_for_from(from, "\"name\":\"beat\"", Duration::from_secs(30));
    let elapsed = watched.elapsed();
    let table: serde_json::Value = serde_json::from_str(&live.line(at).1).unwrap();
    let job = &table[0];
    let (runs, skipped) = (job["runs"].as_u64().unwrap(), job["skipped"].as_u64().unwrap());
    let due = (elapsed.as_millis() / 100) as u64;
    eprintln!(
        "beat: {reloads} reloads in {:.1} s: {runs} runs + {skipped} skipped ticks, {due} due",
        elapsed.as_secs_f64()
    );
    // The scheduler can be one tick behind the moment `jobs` is read, and `watched` was taken just after the
    // job started.
    assert!((runs + skipped).abs_diff(due) <= 2, "{runs} runs + {skipped} skipped for {due} ticks due");
    assert!(runs > due / 4, "only {runs} of {due} ticks ran");
    assert_eq!(job["last"]["failed"], 0, "{job}");
    assert!(job["last"]["error"].is_null(), "{job}");
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");
    assert!(!transcript.contains("job beat: failing"), "{transcript}");
}
