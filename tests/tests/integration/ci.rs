//! The static CI binary (`scripts/build-static`) against real sshd hosts: it is static and self-contained, it
//! behaves as the development build does, and its CI reports, policies, shards, deadline and key from the
//! environment do what a CI job relies on.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{
    CliOutput, EmptyChroot, TestHosts, generate_key, processes_with, remote_bin, run_remote,
    static_remote_bin,
};

/// Runs the static binary with `args`.
fn ci(args: &[&str]) -> CliOutput {
    run_remote(static_remote_bin(), args, &[])
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// `document` without what differs from one run to the next (times).
fn timeless(mut document: Value) -> Value {
    match &mut document {
        Value::Object(map) => {
            map.remove("elapsed_ms");
            for value in map.values_mut() {
                *value = timeless(value.take());
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = timeless(item.take());
            }
        }
        _ => {}
    }
    document
}

/// Human output without its times (`0.42s)` becomes `T)`).
fn without_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("s)") {
        let number = rest[..at].trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        let time = &rest[number.len()..at];
        if time.contains('.') && time.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(number);
            out.push_str("T)");
        } else {
            out.push_str(&rest[..at + 2]);
        }
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// A command that fails on host `index` only, saying why on stderr.
fn failing_on(hosts: &TestHosts, index: usize) -> String {
    format!(
        "echo checking; case \"$SSH_CONNECTION \" in *\" {} \"*) echo 'disk full' >&2; exit 3;; esac",
        hosts.server_end(index)
    )
}

#[test]
fn the_static_binary_is_static_and_runs_in_an_empty_chroot() {
    let binary = static_remote_bin();
    let file = Command::new("file").arg("-L").arg(binary).output().expect("run file");
    let described = String::from_utf8_lossy(&file.stdout);
    assert!(
        described.contains("statically linked") || described.contains("static-pie linked"),
        "{described}"
    );

    // Nothing in the chroot but the binary and what a CI job brings (see `EmptyChroot`).
    let hosts = TestHosts::start(1);
    let chroot = EmptyChroot::new(binary, &hosts);
    let port = hosts.sandbox.servers()[0].address.port();
    let in_chroot = |args: &[&str]| chroot.run(args);

    let (code, stdout, stderr) = in_chroot(&["list"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for name in ["listing", "cpu_publish", "ls(", "pretty", "Pipelines (from ops"] {
        assert!(stdout.contains(name), "`remote list` in the chroot lacks {name}:\n{stdout}");
    }
    // A real run: the name resolved from /etc/hosts, random numbers for the key exchange without
    // /dev/urandom, the host key checked, a command run.
    let (code, stdout, stderr) =
        in_chroot(&["--inventory", "/remote.toml", "--json", "run", "listing", "ci"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let document = json(&stdout);
    assert_eq!(document["results"][0]["host"], Value::from(format!("ci-host:{port}")));
    assert!(document["results"][0]["stdout"].as_str().unwrap().contains("total "), "{stdout}");
}

#[test]
fn run_eval_exec_and_list_behave_as_in_the_development_build() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let fails = failing_on(&hosts, 1);
    let bad = hosts.dir().join("bad.toml");
    std::fs::write(&bad, "[groups.web]\nhosts = [\"a\"]\nport = \"22\"\n").unwrap();
    let inv = |rest: &[&'static str]| [vec!["--inventory", inventory], rest.to_vec()].concat();
    // Everything but times must match; the hosts' output is the same each time.
    let same = vec![
        vec!["list"],
        vec!["list", "--json"],
        inv(&["eval", "ls(test, \"/\", \"-d\") | pretty"]),
        inv(&["eval", "exec(test, \"echo hi; echo err >&2\") | mentioning(\"hi\")", "--json"]),
        inv(&["eval", "ls(test, \"/\") | prety"]),
        inv(&["run", "lisitng", "test"]),
        [inv(&["exec", "test", "--json", "--", "sh", "-c"]), vec![fails.as_str()]].concat(),
        [inv(&["exec", "test", "--", "sh", "-c"]), vec![fails.as_str()]].concat(),
        vec!["--inventory", bad.to_str().unwrap(), "exec", "web", "--", "true"],
    ];
    for args in same {
        let (dev, fixed) = (run_remote(remote_bin(), &args, &[]), ci(&args));
        assert_eq!(dev.code, fixed.code, "exit codes differ for {args:?}:\n{}\n{}", dev.stderr, fixed.stderr);
        if args.contains(&"--json") {
            assert_eq!(timeless(json(&dev.stdout)), timeless(json(&fixed.stdout)), "{args:?}");
        } else {
            assert_eq!(without_times(&dev.stdout), without_times(&fixed.stdout), "{args:?}");
        }
        assert_eq!(without_times(&dev.stderr), without_times(&fixed.stderr), "{args:?}");
    }
    // Named pipelines read live figures (a listing's times, disk use), so only their outcomes must match.
    let outcome = |out: &CliOutput| -> Vec<Value> {
        let results = json(&out.stdout)["results"].as_array().cloned().unwrap_or_default();
        results
            .iter()
            .map(|r| serde_json::json!([r["host"], r["ok"], r["exit"], r["error"], r["data"].is_object()]))
            .collect()
    };
    for pipeline in ["listing", "low_disk"] {
        let args = inv(&["--json", "run", pipeline, "test"]);
        let (dev, fixed) = (run_remote(remote_bin(), &args, &[]), ci(&args));
        assert_eq!((dev.code, outcome(&dev)), (fixed.code, outcome(&fixed)), "{args:?}");
    }
}

#[test]
fn exit_codes_and_the_junit_report_say_which_host_failed() {
    let hosts = TestHosts::start(3);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let entries = hosts.sandbox.host_entries();
    let junit = hosts.dir().join("reports/junit.xml");
    std::fs::create_dir_all(junit.parent().unwrap()).unwrap();
    let report = || std::fs::read_to_string(&junit).expect("the JUnit report is written");

    let out = ci(&["--inventory", inventory, "run", "listing", "test", "--junit", junit.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let xml = report();
    assert!(xml.contains("<testsuite name=\"listing on test\" tests=\"3\" failures=\"0\""), "{xml}");
    for host in &entries {
        assert!(xml.contains(&format!("<testcase name=\"{host}\" classname=\"listing on test\"")), "{xml}");
    }
    assert!(!xml.contains("<failure"), "{xml}");

    let fails = failing_on(&hosts, 1);
    let out = ci(&[
        "--inventory",
        inventory,
        "exec",
        "test",
        "--junit",
        junit.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        &fails,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let xml = report();
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let failing = xml.split("<testcase ").find(|case| case.contains("<failure ")).unwrap();
    assert!(failing.starts_with(&format!("name=\"{}\"", entries[1])), "{failing}");
    assert!(failing.contains("message=\"exited with status 3\""), "{failing}");
    assert!(
        failing.contains("--- the end of its stderr ---\ndisk full"),
        "the failure carries the output's tail: {failing}"
    );
    assert!(!out.stdout.contains('\u{1b}'), "plain text when stdout is not a terminal:\n{}", out.stdout);

    // --fail-on decides what a failed host means for the exit code, not what is reported.
    let run = |policy: &str| {
        ci(&["--inventory", inventory, "exec", "test", "--fail-on", policy, "--", "sh", "-c", &fails])
    };
    assert_eq!((run("any").code, run("all").code, run("none").code), (1, 0, 0));
    let all_fail = |policy: &str| {
        ci(&["--inventory", inventory, "exec", "test", "--fail-on", policy, "--", "false"]).code
    };
    assert_eq!((all_fail("any"), all_fail("all"), all_fail("none")), (1, 1, 0));

    // GitHub: the failed host as an annotation, after the summary, with workflow commands off around the
    // output.
    let out = ci(&["--inventory", inventory, "exec", "test", "--format", "github", "--", "sh", "-c", &fails]);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let token = lines[0].strip_prefix("::stop-commands::").unwrap_or_else(|| panic!("{}", out.stdout));
    let resumed =
        lines.iter().position(|line| *line == format!("::{token}::")).expect("commands turned back on");
    assert!(lines[..resumed].iter().any(|line| line.contains("Run summary:")), "{}", out.stdout);
    let annotations: Vec<&&str> =
        lines[resumed + 1..].iter().filter(|line| line.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 1, "{}", out.stdout);
    assert!(
        annotations[0].starts_with(&format!("::error title={} failed::", entries[1].replace(':', "%3A")))
            && annotations[0].ends_with("exited with status 3%0Adisk full"),
        "{}",
        annotations[0]
    );

    // A bad inventory is exit 2, naming the file and the line.
    let bad = hosts.dir().join("bad.toml");
    std::fs::write(&bad, "[groups.web]\nhosts = [\"a\"]\n\nport = \"22\"\n").unwrap();
    let out = ci(&[
        "--inventory",
        bad.to_str().unwrap(),
        "run",
        "listing",
        "web",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("{}:4:", bad.display())), "{}", out.stderr);
}

#[test]
fn shards_cover_the_group_exactly_once_and_merge_into_one_report() {
    let hosts = TestHosts::start(5);
    let entries = hosts.sandbox.host_entries();
    let dir = hosts.dir();
    // The same hosts listed the other way round: the shards must not change.
    let reversed: Vec<String> = entries.iter().rev().map(|e| format!("\"{e}\"")).collect();
    let backwards = hosts.write_inventory(&[("hosts", &format!("[{}]", reversed.join(", ")))]);
    let backwards =
        std::fs::rename(&backwards, dir.join("backwards.toml")).map(|()| dir.join("backwards.toml")).unwrap();
    let inventory = hosts.write_inventory(&[]);

    let mut seen: Vec<String> = Vec::new();
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let hosts_of = |inventory: &Path, junit: &str| {
            let junit = dir.join(junit);
            let out = ci(&[
                "--inventory",
                inventory.to_str().unwrap(),
                "--json",
                "eval",
                "uptime(test)",
                "--shard",
                &shard,
                "--junit",
                junit.to_str().unwrap(),
            ]);
            assert_eq!(out.code, 0, "{}", out.stderr);
            std::fs::write(dir.join(format!("shard-{index}.json")), &out.stdout).unwrap();
            let document = json(&out.stdout);
            assert_eq!(document["shard"], Value::from(shard.clone()));
            document["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["host"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let mut forward = hosts_of(&inventory, &format!("shard-{index}.xml"));
        let mut backward = hosts_of(&backwards, &format!("backwards-{index}.xml"));
        forward.sort();
        backward.sort();
        assert_eq!(forward, backward, "shard {shard} depends on the inventory's order");
        assert!(!forward.is_empty() && forward.len() <= 2, "shard {shard}: {forward:?}");
        seen.extend(forward);
    }
    seen.sort();
    let mut all = entries.clone();
    all.sort();
    assert_eq!(seen, all, "the three shards cover the group exactly once");

    // Merged: one suite with every host; JSON likewise; a missing shard fails the merge and is named.
    let shards: Vec<String> =
        (1..=3).map(|n| dir.join(format!("shard-{n}.xml")).display().to_string()).collect();
    let merged = dir.join("merged.xml");
    let mut args = vec!["merge-reports", "--junit", merged.to_str().unwrap()];
    args.extend(shards.iter().rev().map(String::as_str));
    let out = ci(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let xml = std::fs::read_to_string(&merged).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
    assert!(xml.contains("<testsuite name=\"uptime(test) on test\" tests=\"5\" failures=\"0\""), "{xml}");
    for host in &entries {
        assert_eq!(xml.matches(&format!("<testcase name=\"{host}\"")).count(), 1, "{xml}");
    }
    let documents: Vec<String> =
        (1..=3).map(|n| dir.join(format!("shard-{n}.json")).display().to_string()).collect();
    let out = ci(&["merge-reports", "--json", &documents[2], &documents[0], &documents[1]]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let document = json(&out.stdout);
    assert_eq!(document["results"].as_array().unwrap().len(), 5);
    assert_eq!((document["ok"].clone(), document["shards"].clone()), (Value::from(true), Value::from(3)));

    let out = ci(&["merge-reports", "--junit", merged.to_str().unwrap(), &shards[0], &shards[1]]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("shard 3/3 of `uptime(test) on test` has no report"), "{}", out.stderr);
    assert!(std::fs::read_to_string(&merged).unwrap().contains("<testcase name=\"shard 3/3\""));
    let out = ci(&["merge-reports", &shards[0], &shards[0]]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("shard 1/3 of `uptime(test) on test` is reported twice"), "{}", out.stderr);

    // More shards than hosts: the empty shard says so, succeeds, and still reports, so a merge is complete.
    let empty = dir.join("empty.xml");
    let out = ci(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "test",
        "--shard",
        "7/7",
        "--junit",
        empty.to_str().unwrap(),
        "--",
        "true",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("shard 7/7 of group `test` has no hosts"), "{}", out.stderr);
    assert!(std::fs::read_to_string(&empty).unwrap().contains("tests=\"0\""));
}

#[test]
fn a_deadline_ends_a_hanging_run_in_time_and_kills_its_commands() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("sleep 31{}", std::process::id() % 1000);
    let hang = format!(
        "case \"$SSH_CONNECTION \" in *\" {} \"*) echo quick;; *) echo started; {marker};; esac",
        hosts.server_end(0)
    );
    // Built (or found) first, so that the time measured is the run's alone.
    let binary = static_remote_bin();
    let started = Instant::now();
    let args = [
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "exec",
        "test",
        "--deadline",
        "6s",
        "--",
        "sh",
        "-c",
        &hang,
    ];
    let out = run_remote(binary, &args, &[]);
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Generous: the deadline itself, the kill (at most 10 s when a host does not confirm it), a loaded
    // machine.
    assert!(took < Duration::from_secs(6 + 15), "a 6 s deadline took {took:?}");
    let document = json(&out.stdout);
    let (quick, hung) = (&document["results"][0], &document["results"][1]);
    assert_eq!((quick["ok"].clone(), quick["stdout"].clone()), (Value::from(true), Value::from("quick\n")));
    assert_eq!(hung["stopped"], Value::from("deadline"), "{hung}");
    assert_eq!(hung["killed"], Value::from(true), "{hung}");
    assert_eq!(hung["stdout"], Value::from("started\n"));
    assert_eq!(hung["error"], Value::from("the run's deadline (6s) passed; the remote command was killed"));
    assert!(processes_with(&marker).is_empty(), "`{marker}` still runs on the host");

    // A pipeline whose time is up before a step reaches the hosts: they fail without anything run.
    let out = ci(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "eval",
        "uptime(test) | uptime",
        "--deadline",
        "1ms",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for result in json(&out.stdout)["results"].as_array().unwrap() {
        let error = result["error"].as_str().unwrap();
        assert!(error.starts_with("not started: the run's deadline (1ms) passed"), "{error}");
    }
}

#[test]
fn the_key_from_the_environment_is_used_and_never_shown_or_written() {
    let hosts = TestHosts::start(2);
    // The inventory's key does not exist on this "runner": the key comes from the environment only.
    let inventory = hosts.write_inventory(&[("key", "\"/nonexistent/ci_key\"")]);
    let inventory = inventory.to_str().unwrap();
    let key = std::fs::read_to_string(hosts.sandbox.client_key()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let junit = scratch.path().join("junit.xml");
    let run_with = |key: &str, args: &[&str]| {
        let env: [(&str, Option<&OsStr>); 4] = [
            ("REMOTE_KEY", Some(OsStr::new(key))),
            ("REMOTE_LOG", Some(OsStr::new("trace"))),
            ("TMPDIR", Some(scratch.path().as_os_str())),
            ("HOME", Some(scratch.path().as_os_str())),
        ];
        run_remote(static_remote_bin(), args, &env)
    };
    let mut outputs = Vec::new();

    let exec = [
        "--inventory",
        inventory,
        "exec",
        "test",
        "--junit",
        junit.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "env; echo ok",
    ];
    let out = run_with(&key, &exec);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    outputs.push(out);
    let out = run_with(&key, &["--inventory", inventory, "--json", "run", "listing", "test"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    outputs.push(out);
    let out = run_with(&key, &["--inventory", inventory, "hosts", "test"]);
    assert!(out.stdout.contains("the key in REMOTE_KEY (ED25519 SHA256:"), "{}", out.stdout);
    outputs.push(out);
    // The same key base64-encoded on one line (CI variables that must be one line to be masked).
    use base64::Engine as _;
    let one_line = base64::engine::general_purpose::STANDARD.encode(&key);
    let out = run_with(&one_line, &["--inventory", inventory, "exec", "test", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    outputs.push(out);

    // A key the hosts do not accept, and text that is no key: named by fingerprint, or refused, never echoed.
    let other = scratch.path().join("other_key");
    generate_key(&other);
    let out = run_with(
        &std::fs::read_to_string(&other).unwrap(),
        &["--inventory", inventory, "exec", "test", "--", "true"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("authentication failed for user")
            && out.stdout.contains("with the key in REMOTE_KEY"),
        "{}",
        out.stdout
    );
    outputs.push(out);
    let mangled = key.replace('A', "!");
    let out = run_with(&mangled, &["--inventory", inventory, "exec", "test", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("REMOTE_KEY does not hold a private key"), "{}", out.stderr);
    outputs.push(out);

    // No line of the key's body, in either form, in any output, report, or file left behind.
    let secrets: Vec<String> = key
        .lines()
        .chain(mangled.lines())
        .filter(|line| !line.starts_with("-----") && line.len() > 16)
        .map(str::to_string)
        .chain(std::iter::once(one_line[..40].to_string()))
        .collect();
    let mut texts: Vec<(String, String)> = outputs
        .iter()
        .flat_map(|out| {
            [("stdout".to_string(), out.stdout.clone()), ("stderr".to_string(), out.stderr.clone())]
        })
        .collect();
    for entry in walk(scratch.path()).into_iter().filter(|path| *path != other) {
        texts.push((
            entry.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()).into_owned(),
        ));
    }
    assert!(
        texts.iter().any(|(name, _)| name.ends_with("junit.xml")),
        "the JUnit report is among what is checked"
    );
    for (name, text) in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a line of the key is in {name}:\n{text}");
        }
    }

    // Nor in the environment a running `remote` shows in /proc, where removing the variable alone would leave
    // it. The host's `sleep` shows that `remote` has long started; its own arguments must not match the
    // marker. (/proc's command lines separate arguments with NULs, so the marker is the argument alone.)
    let tag = std::process::id() % 1000;
    let marker = format!("4.{tag}0917");
    let mut command = Command::new(static_remote_bin());
    command
        .args([
            "--inventory",
            inventory,
            "exec",
            "test",
            "--",
            "sh",
            "-c",
            &format!("sleep 4.$(({tag}))0917"),
        ])
        .env("REMOTE_KEY", &key)
        .env("REMOTE_KEY_PASSPHRASE", "passphrase-of-no-key-here");
    let environ = tests::environ_while_running(&mut command, &marker);
    assert!(environ.contains("PATH="), "the process's environment was read: {environ}");
    for secret in &secrets {
        assert!(!environ.contains(secret.as_str()), "a line of the key is in /proc/PID/environ");
    }
    assert!(!environ.contains("passphrase-of-no-key-here"), "the passphrase is in /proc/PID/environ");

    // A path is not a key (a GitLab variable of type "File" holds one): said, without the path's contents.
    let out = run_with(
        hosts.sandbox.client_key().to_str().unwrap(),
        &["--inventory", inventory, "exec", "test", "--", "true"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("REMOTE_KEY holds a file's path, not a key"), "{}", out.stderr);
}

/// Where `name` is on this machine's `PATH` (or the usual sbin folders, which a user's `PATH` may lack).
/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
