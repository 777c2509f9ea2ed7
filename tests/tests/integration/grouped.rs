//! Fleet control against real sshd: identical outputs grouped under a compact host set, host ranges in the
//! inventory and in `--limit`/`--exclude`, pipelines that fail on what they found, and rolling runs under
//! one failure budget.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use serde_json::Value;
use tests::{TestHosts, free_loopback_addresses, remote};

/// Four hosts on consecutive loopback addresses sharing one port, written into the inventory as one range
/// (`127.X.Y.[c-d]`), so that host sets fold as a person's fleet would.
struct Fleet {
    hosts: TestHosts,
    inventory: String,
    /// `127.X.Y.`
    prefix: String,
    /// The last number of the first host's address.
    first: u8,
}

impl Fleet {
    fn start() -> Self {
        let (base, port) = consecutive_with_one_port(4);
        let addresses: Vec<SocketAddr> =
            (0..4).map(|n| SocketAddr::new(Ipv4Addr::from(u32::from(base) + n).into(), port)).collect();
        let hosts = TestHosts::start_at(&addresses);
        let [a, b, c, first] = base.octets();
        let prefix = format!("{a}.{b}.{c}.");
        let range = format!("\"{prefix}[{first}-{}]\"", first + 3);
        let inventory =
            hosts.write_inventory(&[("hosts", &format!("[{range}]")), ("port", &port.to_string())]);
        Fleet { hosts, inventory: inventory.to_str().unwrap().to_string(), prefix, first }
    }

    /// Host `n`'s name, as the inventory's range expands it.
    fn name(&self, n: u8) -> String {
        format!("{}{}", self.prefix, self.first + n)
    }

    /// `remote --inventory … ARGS`.
    fn remote(&self, args: &[&str]) -> tests::CliOutput {
        let mut all = vec!["--inventory", self.inventory.as_str()];
        all.extend_from_slice(args);
        remote(&all)
    }

    /// The hosts of a `--json` document's results, in order.
    fn result_hosts(json: &Value) -> Vec<String> {
        json["results"].as_array().unwrap().iter().map(|r| r["host"].as_str().unwrap().to_string()).collect()
    }
}

/// The first of `count` consecutive free loopback addresses and a port free on all of them.
fn consecutive_with_one_port(count: u32) -> (Ipv4Addr, u16) {
    loop {
        let base = free_loopback_addresses(count as usize);
        let port = TcpListener::bind((base, 0)).and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
        let free = (0..count).all(|n| TcpListener::bind((Ipv4Addr::from(u32::from(base) + n), port)).is_ok());
        if free {
            return (base, port);
        }
    }
}

/// The summary's lines after its header, which holds the run's time.
fn summary_body(stdout: &str) -> String {
    let start = stdout.find("Run summary:").expect("a summary");
    let rest = &stdout[start..];
    rest[rest.find('\n').unwrap() + 1..].trim_matches('\n').to_string()
}

#[test]
fn identical_outputs_are_shown_once_under_their_host_set_failures_first() {
    let fleet = Fleet::start();
    let script = format!(
        "case \"$SSH_CONNECTION \" in *\" {} \"*) echo broken >&2; exit 3;; *\" {} \"*) echo other;; \
         *) echo same; echo lines;; esac",
        fleet.hosts.server_end(1),
        fleet.hosts.server_end(3)
    );
    let out = fleet.remote(&["exec", "test", "--", "sh", "-c", &script]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let (p, f) = (&fleet.prefix, fleet.first);
    let expected = format!(
        "  ✖ {p}{}  exited with status 3\n      broken\n  ✔ {p}[{f},{}] (2)\n      same\n      lines\n  ✔ {p}{}  other",
        f + 1,
        f + 2,
        f + 3
    );
    assert_eq!(summary_body(&out.stdout), expected, "{}", out.stdout);
    assert!(out.stdout.contains("on test (4 hosts: 3 ok, 1 failed,"), "{}", out.stdout);

    // JSON keeps every host's output and adds the groups, in the summary's order.
    let out = fleet.remote(&["--json", "exec", "test", "--", "sh", "-c", &script]);
    let json: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(Fleet::result_hosts(&json), (0..4).map(|n| fleet.name(n)).collect::<Vec<_>>());
    assert_eq!(json["results"][2]["stdout"], "same\nlines\n");
    let groups: Vec<(Vec<String>, bool)> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let digest = g["digest"].as_str().unwrap();
            assert!(digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit()), "{g}");
            let hosts = g["hosts"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string());
            (hosts.collect(), g["ok"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(
        groups,
        [
            (vec![fleet.name(1)], false),
            (vec![fleet.name(0), fleet.name(2)], true),
            (vec![fleet.name(3)], true)
        ]
    );
}

#[test]
fn a_long_output_is_shown_up_to_a_height_and_in_full_when_asked() {
    let fleet = Fleet::start();
    let all = format!("{}[{}-{}] (4)", fleet.prefix, fleet.first, fleet.first + 3);
    let numbers =
        |range: std::ops::RangeInclusive<u32>| range.map(|n| format!("      {n}\n")).collect::<String>();
    let out = fleet.remote(&["exec", "test", "--", "seq", "25"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown =
        format!("  ✔ {all}\n{}      … 5 more lines (`pretty_all` or --full shows all)", numbers(1..=20));
    assert_eq!(summary_body(&out.stdout), shown, "{}", out.stdout);

    let out = fleet.remote(&["exec", "test", "--full", "--", "seq", "25"]);
    assert_eq!(
        summary_body(&out.stdout),
        format!("  ✔ {all}\n{}", numbers(1..=25).trim_end()),
        "{}",
        out.stdout
    );

    // The same from a pipeline: `pretty_all` shows it once, and the run is not printed again.
    let out = fleet.remote(&["eval", r#"exec(test, "seq 25") | pretty_all"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("Run summary:").count(), 1, "{}", out.stdout);
    assert_eq!(
        summary_body(&out.stdout),
        format!("  ✔ {all}\n{}", numbers(1..=25).trim_end()),
        "{}",
        out.stdout
    );
}

#[test]
fn ranges_limits_and_exclusions_pick_exactly_the_named_hosts() {
    let fleet = Fleet::start();
    let (p, f) = (&fleet.prefix, fleet.first);
    let hosts_of = |args: &[&str]| {
        let mut all = vec!["--json", "exec", "test"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", "true"]);
        let out = fleet.remote(&all);
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        let json: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
        Fleet::result_hosts(&json)
    };
    let names = |ns: &[u8]| ns.iter().map(|&n| fleet.name(n)).collect::<Vec<_>>();
    // The inventory's one range is four hosts.
    assert_eq!(hosts_of(&[]), names(&[0, 1, 2, 3]));
    let first_two = format!("{p}[{f}-{}]", f + 1);
    assert_eq!(hosts_of(&["--limit", &first_two]), names(&[0, 1]));
    let third = format!("{p}{}", f + 2);
    assert_eq!(hosts_of(&["--exclude", &third]), names(&[0, 1, 3]));
    let last_three = format!("{p}[{}-{}]", f + 1, f + 3);
    assert_eq!(hosts_of(&["--limit", "@test", "--exclude", &last_three]), names(&[0]));
    let listed = format!("{p}{},{p}{}", f + 3, f);
    assert_eq!(hosts_of(&["--limit", &listed]), names(&[0, 3]));

    // A name that is no host is refused, not ignored: excluding a typo would run on the host meant to be spared.
    let typo = format!("{p}{}", u16::from(f) + 9);
    let out = fleet.remote(&["exec", "test", "--exclude", &typo, "--", "true"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains(&format!("--exclude: {typo} is not a host of")), "{}", out.stderr);
    let out = fleet.remote(&["exec", "test", "--limit", &format!("{p}[{f}-"), "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is never closed"), "{}", out.stderr);
    // Excluding every host says so instead of running on none.
    let everyone = format!("{p}[{f}-{}]", f + 3);
    let out = fleet.remote(&["run", "listing", "test", "--exclude", &everyone]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("leaves no host of group `test` (4 before)"), "{}", out.stderr);
}

#[test]
fn a_filter_that_keeps_nothing_succeeds_and_fail_turns_what_is_left_into_failures() {
    let fleet = Fleet::start();
    // Nothing failed, so `pick(failed)` keeps nothing: that is good news, exit 0, and JSON agrees.
    let out = fleet.remote(&["--json", "eval", r#"exec(test, "true") | pick(failed)"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((json["ok"].clone(), json["results"].as_array().unwrap().len()), (Value::Bool(true), 0));

    // `fail` makes every host still in the run a failure with the pipeline's reason, its output kept.
    let found =
        format!("case $SSH_CONNECTION in *' {}') echo 91%;; *) echo 12%;; esac", fleet.hosts.server_end(2));
    let expression = format!(r#"exec(test, "{found}") | pick(stdout_has("91")) | fail("disk over 85%")"#);
    let out = fleet.remote(&["--json", "eval", &expression]);
    assert_eq!(out.code, 1, "{expression}: {}{}", out.stdout, out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(Fleet::result_hosts(&json), [fleet.name(2)]);
    assert_eq!(
        (json["results"][0]["error"].clone(), json["results"][0]["stdout"].clone()),
        ("disk over 85%".into(), "91%\n".into())
    );

    let out = fleet.remote(&["eval", &expression]);
    assert_eq!(out.code, 1);
    assert_eq!(
        summary_body(&out.stdout),
        format!("  ✖ {}  disk over 85%\n      91%", fleet.name(2)),
        "{}",
        out.stdout
    );
}

#[test]
fn diff_shows_how_each_host_differs_from_the_most_common_output() {
    let fleet = Fleet::start();
    let config = format!(
        "case $SSH_CONNECTION in *' {}') port=8080;; *) port=80;; esac; printf 'user = app\\nport = %s\\nworkers = 4\\n' $port",
        fleet.hosts.server_end(2)
    );
    let expression = format!(r#"exec(test, "{config}") | diff"#);
    let out = fleet.remote(&["eval", &expression]);
    assert_eq!(out.code, 0, "{expression}: {}{}", out.stdout, out.stderr);
    let (p, f) = (&fleet.prefix, fleet.first);
    assert!(out.stdout.contains("on test (4 hosts: 3 alike, 1 differ, 0 failed)"), "{}", out.stdout);
    let expected = format!(
        "  = {p}[{f}-{},{}] (3)  the most common output, 3 lines\n  ≠ {p}{}\n      @@ -1,3 +1,3 @@\n       user = app\n      -port = 80\n      +port = 8080\n       workers = 4",
        f + 1,
        f + 3,
        f + 2
    );
    assert_eq!(summary_body(&out.stdout.replace("Diff:", "Run summary:")), expected, "{}", out.stdout);
    // The diff is what the run showed: the summary is not printed after it.
    assert!(!out.stdout.contains("Run summary:"), "{}", out.stdout);
}

#[test]
fn a_rolling_run_goes_batch_by_batch_and_stops_once_its_one_budget_is_spent() {
    let fleet = Fleet::start();
    // Batches run one after another: each host says when it started and ended.
    let clock = "date +%s%N; sleep 0.3; date +%s%N";
    let out = fleet.remote(&["--json", "exec", "test", "--batch", "2", "--", "sh", "-c", clock]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let times: Vec<(u128, u128)> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let t: Vec<u128> =
                r["stdout"].as_str().unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect();
            (t[0], t[1])
        })
        .collect();
    let first_end = times[0].1.max(times[1].1);
    assert!(
        times[2].0 >= first_end && times[3].0 >= first_end,
        "batch 2 started before batch 1 ended: {times:?}"
    );
    for n in 1..=2 {
        assert!(out.stderr.contains(&format!("remote: batch {n} of 2: ")), "{}", out.stderr);
    }

    // One host fails in the second batch of one: with --max-fail 0 the run stops there.
    let second_fails =
        format!("case $SSH_CONNECTION in *' {}') exit 3;; esac; echo fine", fleet.hosts.server_end(1));
    let out = fleet.remote(&[
        "--json",
        "exec",
        "test",
        "--batch",
        "1",
        "--fail-fast",
        "--",
        "sh",
        "-c",
        &second_fails,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let errors: Vec<Value> = json["results"].as_array().unwrap().iter().map(|r| r["error"].clone()).collect();
    let spent = Value::from("not started: failure budget spent (1 of 4 failed)");
    assert_eq!(errors, [Value::Null, Value::from("exited with status 3"), spent.clone(), spent]);
    assert!(
        out.stderr.contains("remote: batch 2 of 4") && !out.stderr.contains("batch 3 of 4"),
        "{}",
        out.stderr
    );
    // The summary says it once, for both hosts.
    let out =
        fleet.remote(&["exec", "test", "--batch", "1", "--max-fail", "0", "--", "sh", "-c", &second_fails]);
    let (p, f) = (&fleet.prefix, fleet.first);
    assert!(
        out.stdout.contains(&format!(
            "  ✖ {p}[{}-{}] (2)  not started: failure budget spent (1 of 4 failed)",
            f + 2,
            f + 3
        )),
        "{}",
        out.stdout
    );

    // A budget of two tolerates a whole failing batch: the next batch still runs.
    let first_two_fail = format!(
        "case $SSH_CONNECTION in *' {}'|*' {}') exit 3;; esac; echo fine",
        fleet.hosts.server_end(0),
        fleet.hosts.server_end(1)
    );
    let out = fleet.remote(&[
        "--json",
        "exec",
        "test",
        "--batch",
        "2",
        "--max-fail",
        "2",
        "--",
        "sh",
        "-c",
        &first_two_fail,
    ]);
    assert_eq!(out.code, 1);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let ok: Vec<bool> =
        json["results"].as_array().unwrap().iter().map(|r| r["ok"].as_bool().unwrap()).collect();
    assert_eq!(ok, [false, false, true, true]);

    // A named pipeline rolls the same way, and a budget without batches is refused.
    let out = fleet.remote(&["--json", "run", "listing", "test", "--batch", "50%", "--max-fail", "0"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(Fleet::result_hosts(&serde_json::from_str(&out.stdout).unwrap()).len(), 4);
    assert!(out.stderr.contains("remote: batch 2 of 2"), "{}", out.stderr);
    let out = fleet.remote(&["exec", "test", "--max-fail", "1", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--batch"), "{}", out.stderr);
}

#[test]
fn retries_mend_a_host_that_fails_its_first_try_and_say_how_many_it_took() {
    let mut fleet = Fleet::start();
    // Each host's command fails until a marker of its own exists (the hosts share this machine's files).
    let markers = fleet.hosts.dir().join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let flaky = format!(
        "f={}/$(echo $SSH_CONNECTION | cut -d' ' -f3); if [ -e $f ]; then echo second; else touch $f; exit 1; fi",
        markers.display()
    );
    let out = fleet.remote(&[
        "--json",
        "exec",
        "test",
        "--retries",
        "2",
        "--retry-delay",
        "100ms",
        "--",
        "sh",
        "-c",
        &flaky,
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let tries: Vec<(Value, Value)> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["stdout"].clone(), r["tries"].clone()))
        .collect();
    assert_eq!(tries, vec![(Value::from("second\n"), Value::from(2)); 4]);
    std::fs::remove_dir_all(&markers).unwrap();
    std::fs::create_dir_all(&markers).unwrap();
    let out =
        fleet.remote(&["exec", "test", "--retries", "2", "--retry-delay", "100ms", "--", "sh", "-c", &flaky]);
    let (p, f) = (&fleet.prefix, fleet.first);
    assert_eq!(
        summary_body(&out.stdout),
        format!("  ✔ {p}[{f}-{}] (4)  second\n      retried: {p}[{f}-{}] (2 tries)", f + 3, f + 3),
        "{}",
        out.stdout
    );

    // A host whose sshd comes back while remote waits between tries is reached.
    fleet.hosts.sandbox.server_mut(1).stop();
    let args = [
        "--inventory",
        &fleet.inventory,
        "--json",
        "exec",
        "test",
        "--retries",
        "4",
        "--retry-delay",
        "500ms",
        "--",
        "true",
    ];
    let out = std::thread::scope(|scope| {
        let run = scope.spawn(|| remote(&args));
        std::thread::sleep(std::time::Duration::from_millis(700));
        fleet.hosts.sandbox.server_mut(1).start().expect("sshd starts again");
        run.join().unwrap()
    });
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let tries = json["results"][1]["tries"].as_u64().expect("host 1 was tried again");
    assert!(tries >= 2, "{}", out.stdout);

    // One that never comes back is given up on, with its last error and its tries.
    fleet.hosts.sandbox.server_mut(2).stop();
    let out =
        fleet.remote(&["--json", "exec", "test", "--retries", "1", "--retry-delay", "100ms", "--", "true"]);
    assert_eq!(out.code, 1);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let error = json["results"][2]["error"].as_str().unwrap();
    assert!(error.starts_with("connection refused") && error.ends_with("(gave up after 2 tries)"), "{error}");
    assert_eq!(json["results"][2]["tries"], 2);
}

#[test]
fn the_last_runs_failed_and_ok_hosts_are_groups_at_the_prompt() {
    let fleet = Fleet::start();
    let script = fleet.hosts.dir().join("again.remote");
    let second_fails =
        format!("case $SSH_CONNECTION in *' {}') exit 3;; esac; echo fine", fleet.hosts.server_end(1));
    std::fs::write(
        &script,
        format!("exec(test, \"{second_fails}\")\nexec(failed, \"echo again\")\nlisting ok\n"),
    )
    .unwrap();
    let out = fleet.remote(&["live", "--no-hub", "--no-build", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (p, f) = (&fleet.prefix, fleet.first);
    assert!(
        out.stdout.contains("Run summary: echo again on failed (1 host: 1 ok, 0 failed"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("  ✔ {p}{}  again", f + 1)), "{}", out.stdout);
    // `exec(failed, …)` succeeded everywhere, so `ok` is the one host it ran on.
    assert!(out.stdout.contains("Run summary: ls -la / on ok (1 host: 1 ok, 0 failed"), "{}", out.stdout);
}

#[test]
fn host_set_expressions_name_hosts_at_the_prompt_and_in_eval() {
    let fleet = Fleet::start();
    let (p, f) = (&fleet.prefix, fleet.first);
    let but_third = format!("test - {p}[{}]", f + 2);
    let out = fleet.remote(&["--json", "eval", &format!(r#"exec("{but_third}", "true")"#)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(Fleet::result_hosts(&json), [fleet.name(0), fleet.name(1), fleet.name(3)]);
    assert_eq!(json["group"], but_third.as_str());

    // `PIPELINE SET` at the prompt, with the last run's hosts as a term.
    let script = fleet.hosts.dir().join("sets.remote");
    let second_fails =
        format!("case $SSH_CONNECTION in *' {}') exit 3;; esac; echo fine", fleet.hosts.server_end(1));
    std::fs::write(
        &script,
        format!("exec(test, \"{second_fails}\")\nlisting test - failed - {p}{}\n", f + 3),
    )
    .unwrap();
    let out = fleet.remote(&["live", "--no-hub", "--no-build", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("Run summary: ls -la / on test - failed - {p}{} (2 hosts: 2 ok", f + 3)),
        "{}",
        out.stdout
    );

    // A term that is no group or host is refused with a suggestion, before anything runs.
    let out = fleet.remote(&["eval", &format!(r#"exec("test - {p}{}", "true")"#, u16::from(f) + 9)]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("is no group or host of"), "{}", out.stderr);
}

#[test]
fn hosts_from_the_last_run_of_the_prompt_are_what_the_command_line_runs_on() {
    let fleet = Fleet::start();
    // No history yet: said, before anything runs.
    let out = fleet.remote(&["exec", "test", "--hosts-from", "last-failed", "--", "true"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("reads the history `remote live` keeps"), "{}", out.stderr);

    let script = fleet.hosts.dir().join("fails.remote");
    let second_fails =
        format!("case $SSH_CONNECTION in *' {}') exit 3;; esac; echo fine", fleet.hosts.server_end(1));
    std::fs::write(&script, format!("exec(test, \"{second_fails}\")\n")).unwrap();
    let out = fleet.remote(&["live", "--no-hub", "--no-build", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let hosts_from = |which: &str| {
        let out = fleet.remote(&["--json", "exec", "test", "--hosts-from", which, "--", "echo", "again"]);
        assert_eq!(out.code, 0, "{which}: {}", out.stderr);
        Fleet::result_hosts(&serde_json::from_str(&out.stdout).unwrap())
    };
    assert_eq!(hosts_from("last-failed"), [fleet.name(1)]);
    assert_eq!(hosts_from("last-ok"), [fleet.name(0), fleet.name(2), fleet.name(3)]);
    let out = fleet.remote(&["--json", "run", "listing", "test", "--hosts-from", "last-failed"]);
    assert_eq!(Fleet::result_hosts(&serde_json::from_str(&out.stdout).unwrap()), [fleet.name(1)]);
}
