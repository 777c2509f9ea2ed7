//! One controller, many hosts: the output budget across hosts, the open-files limit, and hosts that hang or
//! are unreachable not delaying the others.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{TestHosts, remote, remote_measured};

#[test]
fn the_output_budget_is_shared_by_all_hosts_and_each_says_it_was_cut() {
    let hosts = TestHosts::start(3);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let flood = "head -c 20000000 /dev/zero | tr '\\0' a";
    let args =
        ["--inventory", inventory, "--json", "exec", "test", "--max-output", "30M", "--", "sh", "-c", flood];
    let (out, peak_rss_kib) = remote_measured("true", &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, &out.stdout[..out.stdout.len().min(2000)]);
    let document: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let results = document["results"].as_array().unwrap();
    let kept: usize = results.iter().map(|r| r["stdout"].as_str().unwrap().len()).sum();
    assert_eq!(kept, 30 << 20, "all hosts together keep exactly the budget");
    // First come, first kept: a host cut short says so, a host kept whole does not.
    for result in results {
        let whole = result["stdout"].as_str().unwrap().len() == 20_000_000;
        let flags = (result["ok"].clone(), result["truncated"].clone());
        assert_eq!(flags, (Value::from(true), Value::from(!whole)), "{}", result["host"]);
    }
    // 60 MB were printed; the controller holds the 30 MiB it keeps and streams the JSON out without a copy (a
    // copy into a JSON value would add another 30 MiB on top of the ~20 MiB the process needs anyway).
    assert!(peak_rss_kib < 62 << 10, "peak RSS {} MiB for a 30 MiB budget", peak_rss_kib >> 10);

    let summary =
        remote(&["--inventory", inventory, "exec", "test", "--max-output", "1k", "--", "sh", "-c", flood]);
    // Every group of hosts says its output was cut, and every host is in one.
    let groups = summary.stdout.lines().filter(|l| l.starts_with("  ✔ ")).count();
    assert_eq!(
        summary
            .stdout
            .matches("(output truncated: over the per-host limit or the run's --max-output budget)")
            .count(),
        groups,
        "{}",
        summary.stdout
    );
    for host in hosts.sandbox.host_entries() {
        assert!(summary.stdout.contains(&host), "{host}: {}", summary.stdout);
    }
}

/// An inventory of `count` hosts on loopback ports where nothing listens: nothing is connected before the
/// check.
fn unreachable_inventory(dir: &std::path::Path, count: usize) -> std::path::PathBuf {
    let hosts: Vec<String> = (0..count).map(|i| format!("\"127.0.9.{}:1\"", 1 + i % 250)).collect();
    let path = dir.join("remote.toml");
    let unique: Vec<String> =
        hosts.iter().enumerate().map(|(i, h)| h.replace(":1\"", &format!(":{}\"", 1 + i / 250))).collect();
    std::fs::write(&path, format!("[groups.many]\nhosts = [{}]\n", unique.join(", "))).unwrap();
    path
}

#[test]
fn a_fleet_larger_than_the_open_files_limit_is_refused_once_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = unreachable_inventory(dir.path(), 120);
    let inventory = inventory.to_str().unwrap();
    let (out, _) =
        remote_measured("ulimit -n 100", &["--inventory", inventory, "exec", "many", "--", "true"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.matches("error:").count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("group `many` has 120 hosts"), "{}", out.stderr);
    assert!(
        out.stderr.contains("may open only 100 files (hard limit 100); nothing was started"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let (out, _) = remote_measured("ulimit -n 100", &["--inventory", inventory, "eval", "uptime(many)"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("group `many` has 120 hosts"), "{}", out.stderr);

    // With only the soft limit low, `remote` raises it to the hard limit itself and goes on.
    let (out, _) =
        remote_measured("ulimit -S -n 100", &["--inventory", inventory, "exec", "many", "--", "true"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("connection refused"), "{}", out.stdout);
}

/// Hosts that accept a connection and then never speak (a hung sshd, a tarpit) must not hold the handshake
/// slots that reachable hosts need: the reachable ones finish long before the hung ones time out.
#[test]
fn hung_hosts_do_not_delay_reachable_ones() {
    let hosts = TestHosts::start(2);
    // More hung hosts than the pool's 64 handshake slots, listed first so they would take every slot.
    let hung: Vec<TcpListener> = (0..70)
        .map(|i| {
            TcpListener::bind(("127.0.8.1", 0))
                .or_else(|_| TcpListener::bind(format!("127.0.8.{}:0", 2 + i)))
                .unwrap()
        })
        .collect();
    let mut entries: Vec<String> =
        hung.iter().map(|l| l.local_addr().unwrap()).map(|a: SocketAddr| format!("\"{a}\"")).collect();
    entries.extend(hosts.sandbox.host_entries().iter().map(|h| format!("{h:?}")));
    let inventory = hosts.write_inventory(&[("hosts", &format!("[{}]", entries.join(", ")))]);
    let started = Instant::now();
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "exec",
        "test",
        "--connect-timeout",
        "8s",
        "--",
        "true",
    ]);
    let wall = started.elapsed();
    let document: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stderr));
    let results = document["results"].as_array().unwrap();
    let reachable = &results[70..];
    for result in reachable {
        assert_eq!(result["ok"], true, "{result}");
        let elapsed = result["elapsed_ms"].as_u64().unwrap();
        assert!(elapsed < 4000, "a reachable host waited {elapsed} ms behind hung ones");
    }
    assert!(
        results[..70].iter().all(|r| r["error"].as_str().unwrap().starts_with("connect timed out after 8s")),
        "{}",
        results[0]
    );
    assert!(wall < Duration::from_secs(30), "{wall:?}");
    drop(hung);
}
