//! The first build a newcomer waits for: `cargo build -p remote` (what README's demo compiles) in a fresh
//! target dir, at a base revision and at HEAD in one run, and the viewer's at HEAD; wall time, how many
//! units cargo compiled, and the CPU seconds they took, from cargo's own `--timings` report.
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --first-build BASE_REV`. Each revision is
//! exported with `git archive` into `target/first-build/REV/` and built there with nothing else running; the
//! crates come from cargo's cache, so downloading is not measured (it is the same for both). Minutes each.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What one cold build took.
struct Build {
    what: String,
    seconds: f64,
    units: usize,
    cpu_seconds: f64,
}

/// Builds `-p remote` at `base` and at HEAD, then `-p viewer` at HEAD, and prints the table.
pub fn run(base: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench is in the workspace");
    let head = revision(root, "HEAD");
    let base = revision(root, base);
    let mut builds = Vec::new();
    for (rev, package) in [(&base, "remote"), (&head, "remote"), (&head, "viewer")] {
        let dir = export(root, rev);
        builds.push(build(&dir, rev, package));
    }
    println!("| build | revision | wall s | units compiled | CPU s (sum of units) | wall / first row |");
    println!("|---|---|---:|---:|---:|---:|");
    let first = builds[0].seconds;
    for b in &builds {
        let (what, rev) = b.what.split_once('@').expect("what@rev");
        println!(
            "| {what} | {rev} | {:.0} | {} | {:.0} | {:.2} |",
            b.seconds,
            b.units,
            b.cpu_seconds,
            b.seconds / first
        );
    }
}

/// The short hash of `rev`.
fn revision(root: &Path, rev: &str) -> String {
    let output = Command::new("git")
        .args(["rev-parse", "--short", &format!("{rev}^{{commit}}")])
        .current_dir(root)
        .output()
        .expect("run git");
    assert!(output.status.success(), "git does not know {rev}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// `rev`'s files in `target/first-build/REV/src`, its target dir beside them emptied.
fn export(root: &Path, rev: &str) -> PathBuf {
    let dir = root.join("target/first-build").join(rev);
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).expect("create the export folder");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("git archive {rev} | tar -x -C '{}'", src.display()))
        .current_dir(root)
        .status()
        .expect("run git archive");
    assert!(status.success(), "git archive {rev} failed");
    src
}

/// One cold build of `package` in `src`, with `--timings` for the CPU seconds per unit.
fn build(src: &Path, rev: &str, package: &str) -> Build {
    let target = src.parent().expect("src has a parent").join(format!("target-{package}"));
    eprintln!("bench: cargo build -p {package} at {rev}, cold…");
    let started = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--locked", "-p", package, "--timings", "--message-format=json"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_BUILD_BUILD_DIR")
        .env_remove("RUSTFLAGS")
        .current_dir(src)
        .output()
        .expect("run cargo build");
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "the build failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let units = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains("\"fresh\":false"))
        .count();
    Build {
        what: format!("cargo build -p {package}@{rev}"),
        seconds,
        units,
        cpu_seconds: cpu_seconds(&target),
    }
}

/// The sum of the units' durations in the build's `--timings` report (`cargo-timing.html`'s UNIT_DATA).
fn cpu_seconds(target: &Path) -> f64 {
    let html = std::fs::read_to_string(target.join("cargo-timings/cargo-timing.html")).unwrap_or_default();
    // Each unit is an object with `"duration": SECONDS`; nothing else in the report uses that key.
    html.split("\"duration\":")
        .skip(1)
        .filter_map(|rest| {
            rest.trim_start().split(|c: char| c != '.' && !c.is_ascii_digit()).next()?.parse::<f64>().ok()
        })
        .sum()
}
