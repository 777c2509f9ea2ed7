//! Fleet control against real sshd: identical outputs grouped under a compact host set, host ranges in the
//! inventory and in `--limit`/`--exclude`, and pipelines that fail on what they found.

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
