//! The static CI binary's size and start-up (`remote list`), beside the development build's and beside
//! starting `ssh` itself, measured in one run with the runs of each interleaved.
//!
//! Run: `cargo build --release -p remote -p bench && ./target/release/bench --startup 200`. The static binary
//! is `$REMOTE_STATIC_BIN` when set, else built here with `scripts/build-static`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One program measured: what it is, how it is started.
struct Case {
    name: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
    seconds: Vec<f64>,
}

/// Measures `runs` starts of each case, round-robin, and prints the table.
pub fn run(runs: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench is in the workspace");
    let static_binary = match std::env::var_os("REMOTE_STATIC_BIN").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => build_static(root),
    };
    let dynamic = std::env::current_exe().expect("own path").with_file_name("remote");
    assert!(
        dynamic.exists(),
        "{} is missing; build it with `cargo build --release -p remote`",
        dynamic.display()
    );
    let ssh = which("ssh");
    let mut cases = vec![
        Case { name: "/bin/true", program: PathBuf::from("/bin/true"), args: &[], seconds: Vec::new() },
        Case { name: "ssh -V", program: ssh, args: &["-V"], seconds: Vec::new() },
        Case {
            name: "static: remote --version",
            program: static_binary.clone(),
            args: &["--version"],
            seconds: Vec::new(),
        },
        Case {
            name: "static: remote list",
            program: static_binary.clone(),
            args: &["list"],
            seconds: Vec::new(),
        },
        Case {
            name: "release (dynamic): remote list",
            program: dynamic.clone(),
            args: &["list"],
            seconds: Vec::new(),
        },
    ];
    // A few unmeasured starts first, so that every program is in the page cache.
    for case in &cases {
        for _ in 0..3 {
            start(case);
        }
    }
    for _ in 0..runs {
        for case in &mut cases {
            let seconds = start(case);
            case.seconds.push(seconds);
        }
    }

    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!("\nSizes");
    println!("| binary | bytes | MiB | linked |");
    println!("|---|---:|---:|---|");
    for (name, path) in [
        ("static (scripts/build-static)", &static_binary),
        ("release, dynamic (cargo build --release -p remote)", &dynamic),
    ] {
        println!("| {name} | {} | {:.1} | {} |", size(path), size(path) as f64 / 1048576.0, linkage(path));
    }
    let reference = median(&cases[1].seconds);
    println!("\nStart-up: {runs} runs each, interleaved; wall time from spawn to exit");
    println!("| program | median ms | p90 ms | median / ssh -V |");
    println!("|---|---:|---:|---:|");
    for case in &cases {
        let (median, p90) = (median(&case.seconds), percentile(&case.seconds, 0.9));
        println!("| {} | {:.2} | {:.2} | {:.2} |", case.name, median * 1e3, p90 * 1e3, median / reference);
    }
}

/// One start of `case` to its exit, output discarded; seconds.
fn start(case: &Case) -> f64 {
    let started = Instant::now();
    let status = Command::new(&case.program)
        .args(case.args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", case.program.display()));
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "{} failed: {status}", case.name);
    seconds
}

fn build_static(root: &Path) -> PathBuf {
    eprintln!("bench: building the static binary with scripts/build-static…");
    let output = Command::new("bash")
        .arg(root.join("scripts/build-static"))
        .current_dir(root)
        .output()
        .expect("run scripts/build-static");
    assert!(
        output.status.success(),
        "scripts/build-static failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).lines().last().expect("a path").trim())
}

/// What `file` says of how `path` is linked.
fn linkage(path: &Path) -> String {
    let output = Command::new("file")
        .arg("-L")
        .arg(path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    let text = output.unwrap_or_default();
    ["static-pie linked", "statically linked", "dynamically linked"]
        .into_iter()
        .find(|kind| text.contains(kind))
        .unwrap_or("?")
        .to_string()
}

fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed"))
}

fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}
