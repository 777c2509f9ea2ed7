//! The stock hub of `remote live` against real hosts: a job publishes, two viewers get the history then live
//! batches, and `/metrics` is read by Prometheus's own text-format parser.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{TestHosts, spawn_remote};

/// `remote live --script` with the hub on a port of the kernel's choice; the address it says it serves.
// The child goes back to the caller, which waits for it.
#[allow(clippy::zombie_processes)]
fn live_with_hub(
    hosts: &TestHosts,
    lines: &[&str],
) -> (Child, SocketAddr, BufReader<std::process::ChildStderr>) {
    let inventory = hosts.write_inventory(&[]);
    let script = hosts.dir().join("hub.remote");
    std::fs::write(&script, lines.join("\n")).unwrap();
    let args = [
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--script",
        script.to_str().unwrap(),
        "--hub",
        "127.0.0.1:0",
    ];
    let mut child = spawn_remote(&args);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let status = child.wait();
            panic!("remote live ended ({status:?}) before it served the hub");
        }
        if let Some(rest) = line.split("stock hub on http://").nth(1) {
            let address = rest.split_whitespace().next().unwrap().parse().unwrap();
            return (child, address, stderr);
        }
    }
}

/// `GET path` over a fresh connection; the response's head is read, the body is left to the caller.
fn get(address: SocketAddr, path: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{path}: {line}");
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
    reader
}

/// The next server-sent event: its name and data. Chunked transfer framing (hex length lines) is skipped.
fn next_event(reader: &mut BufReader<TcpStream>) -> (String, String) {
    let (mut name, mut data) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(value) = line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:")) {
            name = value.to_string();
        } else if let Some(value) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
            data.push_str(value);
        } else if line.is_empty() && !name.is_empty() {
            return (name, data);
        }
    }
}

#[test]
fn two_viewers_get_the_history_then_live_batches_and_prometheus_reads_metrics() {
    let hosts = TestHosts::start(2);
    let entries = hosts.sandbox.host_entries();
    let (mut child, address, _stderr) = live_with_hub(
        &hosts,
        &[
            "cpu_over(test, \"100ms\") | collect | publish(stock(\"Idle CPU\", idle))",
            "watch c every 300ms cpu_over(test, \"100ms\") | collect | publish(stock(\"Idle CPU\", idle)) | publish(stock(\"User CPU\", usr))",
            "wait 30s",
        ],
    );
    // Joined after the first line published (its series is in /metrics): the history has it.
    let started = Instant::now();
    while !metrics_text(address).contains("remote_idle") {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing was published");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut viewers = [get(address, "/stream"), get(address, "/stream")];
    for viewer in &mut viewers {
        let (name, data) = next_event(viewer);
        assert_eq!(name, "history");
        let history: Vec<Value> = serde_json::from_str(&data).unwrap();
        assert!(history.iter().any(|b| b["stock"] == "Idle CPU"), "{data}");
        // Then live batches, each host in them, from the job.
        let started = Instant::now();
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 4 && started.elapsed() < Duration::from_secs(10) {
            let (name, data) = next_event(viewer);
            assert_eq!(name, "batch", "{data}");
            let batch: Value = serde_json::from_str(&data).unwrap();
            for sample in batch["samples"].as_array().unwrap() {
                let value = sample["value"].as_f64().unwrap();
                assert!((0.0..=100.0).contains(&value) && sample["at_ms"].as_i64().unwrap() > 0, "{sample}");
                seen.insert((
                    batch["stock"].as_str().unwrap().to_string(),
                    sample["host"].as_str().unwrap().to_string(),
                ));
            }
        }
        let expected: std::collections::BTreeSet<(String, String)> = ["Idle CPU", "User CPU"]
            .iter()
            .flat_map(|stock| entries.iter().map(move |host| (stock.to_string(), host.clone())))
            .collect();
        assert_eq!(seen, expected);
    }

    let metrics = metrics_text(address);
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as parse\n\
             for family in parse(sys.stdin.read()):\n    for s in family.samples:\n        \
             print(family.name, family.type, s.labels['stock'], s.labels['host'], s.value)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut python| {
            python.stdin.take().unwrap().write_all(metrics.as_bytes())?;
            python.wait_with_output()
        })
        .expect("python3 with prometheus_client (pip install prometheus_client; .ci/run installs it)");
    assert!(parsed.status.success(), "{}\n{metrics}", String::from_utf8_lossy(&parsed.stderr));
    let lines = String::from_utf8_lossy(&parsed.stdout).to_string();
    for host in &entries {
        assert!(lines.contains(&format!("remote_idle gauge Idle CPU {host} ")), "{lines}");
        assert!(lines.contains(&format!("remote_usr gauge User CPU {host} ")), "{lines}");
    }
    // Done before the script's end: the live host is not needed any more.
    let _ = child.kill();
    let _ = child.wait();
}

/// The body of `GET /metrics`.
fn metrics_text(address: SocketAddr) -> String {
    let mut text = String::new();
    get(address, "/metrics").read_to_string(&mut text).unwrap();
    text
}

#[test]
fn runs_and_samples_outlive_the_live_host_in_the_history() {
    let hosts = TestHosts::start(2);
    let entries = hosts.sandbox.host_entries();
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (mut first, _, _stderr) = live_with_hub(
        &hosts,
        &[
            "cpu_over(test, \"100ms\") | collect | publish(stock(\"Idle CPU\", idle))",
            "exec(test, \"echo gone >&2; exit 3\")",
        ],
    );
    assert!(first.wait().unwrap().success());
    // Prompt lines and the ends of hosts' output are in it: readable by its owner only.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(hosts.dir().join(".remote/history.sqlite")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Every line's per-host outcome, oldest first.
    let history = |filters: &[&str]| -> Vec<Value> {
        let mut args = vec!["--inventory", inventory, "history", "--json"];
        args.extend_from_slice(filters);
        let out = tests::remote(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let document: Value = serde_json::from_str(&out.stdout).unwrap();
        document["runs"].as_array().unwrap().clone()
    };
    let runs = history(&[]);
    let lines: Vec<&str> = runs.iter().map(|r| r["line"].as_str().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "cpu_over(test, \"100ms\") | collect | publish(stock(\"Idle CPU\", idle))",
            "exec(test, \"echo gone >&2; exit 3\")"
        ]
    );
    let failed = &runs[1]["results"][0];
    assert_eq!(
        (failed["ok"].clone(), failed["exit"].clone()),
        (Value::Bool(false), Value::from(3)),
        "{failed}"
    );
    assert_eq!(failed["error"], "exited with status 3");
    assert!(failed["output"].as_str().unwrap().contains("gone"), "{failed}");
    assert_eq!(history(&["--pipeline", "exec"]).len(), 1);
    let one_host = history(&["--host", &entries[1], "--since", "1h"]);
    assert!(one_host.iter().all(
        |r| r["results"].as_array().unwrap().len() == 1 && r["results"][0]["host"] == entries[1].as_str()
    ));
    assert_eq!(one_host.len(), 2);
    let out = tests::remote(&["--inventory", inventory, "history"]);
    assert!(out.stdout.contains("✖ ") && out.stdout.contains("exited with status 3"), "{}", out.stdout);
    // On a screen the newest comes first, and --last keeps to the newest N; --output shows what a host said.
    let (exec_at, cpu_at) =
        (out.stdout.find("exec(test").unwrap(), out.stdout.find("cpu_over(test").unwrap());
    assert!(exec_at < cpu_at, "newest first: {}", out.stdout);
    let out = tests::remote(&["--inventory", inventory, "history", "--last", "1", "--output"]);
    assert!(!out.stdout.contains("cpu_over(test") && out.stdout.contains("        gone\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("(1 older run(s) not shown: --last N shows more, --last 0 all)"),
        "{}",
        out.stdout
    );
    let out = tests::remote(&["--inventory", inventory, "history", "--stats", "--json"]);
    let stats: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (stats["stats"]["runs"].clone(), stats["stats"]["outcomes"].clone()),
        (Value::from(2), Value::from(4)),
        "{stats}"
    );
    assert!(
        stats["stats"]["bytes"].as_u64().unwrap() > 0 && stats["stats"]["oldest_ms"].as_i64().is_some(),
        "{stats}"
    );
    let out = tests::remote(&["--inventory", inventory, "history", "--stats"]);
    assert!(out.stdout.contains("  runs    2 (4 host outcomes)\n"), "{}", out.stdout);

    // A new live host serves what the first one published.
    let (mut second, address, _stderr) = live_with_hub(&hosts, &["wait 30s"]);
    let (name, data) = next_event(&mut get(address, "/stream"));
    assert_eq!(name, "history");
    let batches: Vec<Value> = serde_json::from_str(&data).unwrap();
    assert_eq!(batches.len(), 1, "{data}");
    assert_eq!(batches[0]["stock"], "Idle CPU");
    let hosts_in: Vec<&str> =
        batches[0]["samples"].as_array().unwrap().iter().map(|s| s["host"].as_str().unwrap()).collect();
    assert_eq!(hosts_in, entries.iter().map(String::as_str).collect::<Vec<_>>());
    let _ = second.kill();
    let _ = second.wait();
}

#[test]
fn stocks_at_the_prompt_are_checked_before_anything_runs() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let eval = |line: &str| tests::remote(&["--inventory", inventory.to_str().unwrap(), "eval", line]);
    // Without a hub (`remote eval`), publishing reaches nobody and the run is fine.
    let out =
        eval("cpu_over(test, \"100ms\") | collect | publish(fleet(sliding(stock(\"Idle\", idle), 12)))");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let check = |line: &str, expected: &str| {
        let out = eval(line);
        assert_eq!(out.code, 2, "{line}: {}", out.stdout);
        assert!(out.stderr.contains(expected), "{line}: {}", out.stderr);
        assert!(hosts.sandbox.servers()[0].log().matches("Accepted publickey").count() <= 1, "{line} ran");
    };
    check("cpu(test) | publish(sliding(stock(\"Idle\", idle)))", "`sliding` got 1 argument(s)");
    check("cpu(test) | publish(sliding(stock(\"Idle\", idle), 0))", "`sliding` needs at least 1 reading");
    check(
        "cpu(test) | publish(stok(\"Idle\", idle))",
        "a stock is wanted here, but this is a call of `stok`",
    );
    check("cpu(test) | publish(stock(\"Idle\", idel))", "did you mean `idle`?");
    check(
        "cpu(test) | publish(fleet(stock(\"Idle\", used)))",
        "`used` is a field of ram data, but the hosts carry cpu data",
    );
    check("cpu(test) | publish(\"Idle\")", "is a stock");
    check("cpu(test) | publish(stock(\"CPU\", []))", "a stock draws at least one field");
    check("cpu(test) | publish(stock(\"CPU\", [usr, \"sys\"]))", "the second argument of `stock` is a field");
    check(
        "cpu(test) | publish(stock(\"CPU\", [usr, used]))",
        "the fields of a stock are of one kind of data, but `usr` is cpu data and `used` ram data",
    );
    check(
        "ram(test) | publish(stock(\"CPU\", [usr, sys]))",
        "`usr` is a field of cpu data, but the hosts carry ram data",
    );
    check("cpu(test) | publish(stock(\"CPU\", [usr, sys, usr]))", "`usr` is in this stock twice");
    check(
        "exec(test, \"true\") | publish(stock(\"CPU\", [usr, sys]))",
        "`usr` is a field of cpu data, but the hosts carry no typed data",
    );
}

#[test]
fn stats_jobs_publish_every_stock_and_the_history_keeps_them_across_a_restart() {
    let hosts = TestHosts::start(2);
    let entries = hosts.sandbox.host_entries();
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    // The seed's dashboard: every stock every 5 s, plus a chart of two fields from the prompt.
    let (mut first, address, _stderr) = live_with_hub(
        &hosts,
        &["stats_jobs test", "cpu_over(test, \"100ms\") | publish(stock(\"CPU\", [usr, sys]))", "wait 12s"],
    );
    let mut viewer = get(address, "/stream");
    let mut seen = std::collections::BTreeSet::new();
    let started = Instant::now();
    let expected_stocks = [
        "CPU",
        "Disk used %",
        "Idle CPU",
        "Load per core",
        "Network in",
        "Network out",
        "RAM used %",
        "User CPU",
        "User CPU, 1 min avg",
    ];
    while expected_stocks
        .iter()
        .any(|s| !seen.iter().any(|(stock, _, _): &(String, String, String)| stock == s))
    {
        assert!(started.elapsed() < Duration::from_secs(20), "stocks seen so far: {seen:?}");
        let (name, data) = next_event(&mut viewer);
        let batches: Vec<Value> = match name.as_str() {
            "history" => serde_json::from_str(&data).unwrap(),
            "batch" => vec![serde_json::from_str(&data).unwrap()],
            other => panic!("unexpected event {other}: {data}"),
        };
        for batch in batches {
            for sample in batch["samples"].as_array().unwrap() {
                let key = |k: &str| sample[k].as_str().unwrap().to_string();
                seen.insert((batch["stock"].as_str().unwrap().to_string(), key("host"), key("field")));
            }
        }
    }
    for host in &entries {
        for field in ["usr", "sys"] {
            assert!(
                seen.contains(&("CPU".to_string(), host.clone(), field.to_string())),
                "{field} on {host}: {seen:?}"
            );
        }
        assert!(seen.contains(&("Idle CPU".to_string(), host.clone(), "idle".to_string())), "{seen:?}");
    }
    // The fleet lines of the one-minute average.
    assert!(
        seen.contains(&("User CPU, 1 min avg".to_string(), "fleet mean".to_string(), "usr".to_string())),
        "{seen:?}"
    );
    assert!(first.wait().unwrap().success());

    // The host is gone; the history has the jobs' runs on each host…
    let out = tests::remote(&["--inventory", inventory, "history", "--json", "--pipeline", "cpu_publish"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let runs: Value = serde_json::from_str(&out.stdout).unwrap();
    let runs = runs["runs"].as_array().unwrap();
    assert!(!runs.is_empty(), "{}", out.stdout);
    assert!(
        runs.iter().all(|r| r["results"].as_array().unwrap().len() == entries.len() && r["group"] == "test"),
        "{runs:?}"
    );
    // …and a new live host serves every stock the jobs published.
    let (mut second, address, _stderr) = live_with_hub(&hosts, &["wait 30s"]);
    let (name, data) = next_event(&mut get(address, "/stream"));
    assert_eq!(name, "history");
    let batches: Vec<Value> = serde_json::from_str(&data).unwrap();
    let stocks: std::collections::BTreeSet<&str> =
        batches.iter().map(|b| b["stock"].as_str().unwrap()).collect();
    assert_eq!(
        stocks.into_iter().collect::<Vec<_>>(),
        expected_stocks,
        "the first host's stocks, from the history"
    );
    let _ = second.kill();
    let _ = second.wait();
}
