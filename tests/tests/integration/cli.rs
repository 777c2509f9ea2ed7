//! The `remote` binary's contracts (DESIGN.md section 3): exit codes, `--json`, error messages, sandbox.

use serde_json::Value;
use tests::{TestHosts, remote};

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

#[test]
fn exec_succeeds_with_exit_code_0_and_the_json_contract() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    // Global options are accepted after the subcommand too, before `--`.
    let out = remote(&[
        "exec",
        "test",
        "--json",
        "--inventory",
        inventory.to_str().unwrap(),
        "--",
        "echo",
        "hi there",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let document = json(&out.stdout);
    let results = document["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (result, host) in results.iter().zip(hosts.sandbox.host_entries()) {
        assert_eq!(result["host"], Value::from(host));
        assert_eq!(result["ok"], Value::from(true));
        assert_eq!(result["exit"], Value::from(0));
        assert_eq!(result["stdout"], Value::from("hi there\n"));
        assert_eq!(result["stderr"], Value::from(""));
        assert_eq!(result["error"], Value::Null);
        assert!(result["elapsed_ms"].is_u64());
    }
}

#[test]
fn a_failed_host_gives_exit_code_1_and_a_summary_line() {
    let mut hosts = TestHosts::start(2);
    hosts.sandbox.server_mut(0).stop();
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "test",
        "--",
        "sh",
        "-c",
        "echo oops >&2; exit 3",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let entries = hosts.sandbox.host_entries();
    assert!(out.stdout.contains("Run summary:"), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("✖ {}  connection refused", entries[0])), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("✖ {}  exited with status 3\n      oops", entries[1])),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('\u{1b}'), "colours must be off when stdout is not a terminal");

    let out = remote(&["--json", "--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"]);
    assert_eq!(out.code, 1);
    let document = json(&out.stdout);
    assert_eq!(document["results"][0]["ok"], Value::from(false));
    assert_eq!(document["results"][0]["exit"], Value::Null);
    assert!(document["results"][0]["error"].as_str().unwrap().starts_with("connection refused"));
    assert_eq!(document["results"][1]["ok"], Value::from(true));
}

#[test]
fn non_utf8_output_is_exact_in_json() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&[
        "--json",
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "test",
        "--",
        "printf",
        "\\377ok",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["results"][0]["stdout_base64"], Value::from("/29r"));
}

#[test]
fn usage_and_inventory_errors_give_exit_code_2() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let path = inventory.to_str().unwrap();

    let out = remote(&["--inventory", path, "exec", "tset", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown group `tset`") && out.stderr.contains("did you mean `test`?"),
        "{}",
        out.stderr
    );

    let out = remote(&["--inventory", path, "exec", "test"]);
    assert_eq!(out.code, 2, "a missing command is a usage error");

    let bad = hosts.dir().join("bad.toml");
    std::fs::write(&bad, "[groups.web]\nhosts = [\"a\"]\nhost_key_checking = \"yes\"\n").unwrap();
    let out = remote(&["--inventory", bad.to_str().unwrap(), "exec", "web", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml:3:21: host_key_checking = \"yes\" is not known"), "{}", out.stderr);

    let missing = hosts.dir().join("missing.toml");
    let out = remote(&["--inventory", missing.to_str().unwrap(), "exec", "web", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("missing.toml not found"), "{}", out.stderr);
}

#[test]
fn timeout_option_kills_and_reports() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "test",
        "--timeout",
        "300ms",
        "--",
        "sleep",
        "30",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("timed out after 300ms"), "{}", out.stdout);
}

#[test]
fn sandbox_up_writes_a_working_group_and_down_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("remote.toml");
    std::fs::write(&inventory, "# my fleet\n[groups.web]\nhosts = [\"10.0.0.1\"]\n").unwrap();
    let path = inventory.to_str().unwrap();
    let first = format!("127.{}.9.1", 200 + std::process::id() % 50);

    let out = remote(&["--inventory", path, "sandbox", "up", "2", "--first", &first]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&inventory).unwrap();
    assert!(text.starts_with("# my fleet\n[groups.web]"), "other groups must be kept:\n{text}");

    let out = remote(&["--inventory", path, "--json", "exec", "sandbox", "--", "true"]);
    let stopped = remote(&["--inventory", path, "sandbox", "down"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(json(&out.stdout)["results"].as_array().unwrap().len(), 2);
    assert_eq!(stopped.code, 0);
    assert!(stopped.stdout.contains("stopped 2"), "{}", stopped.stdout);

    let out = remote(&["--inventory", path, "--json", "exec", "sandbox", "--", "true"]);
    assert_eq!(out.code, 1, "hosts must be down after `sandbox down`");
}

/// Inventory for `hosts` with no `key`, so authentication falls to ssh-agent or the default key files.
fn keyless_inventory(hosts: &TestHosts) -> std::path::PathBuf {
    let path = hosts.write_inventory(&[]);
    let text = std::fs::read_to_string(&path).unwrap();
    let text: String = text.lines().filter(|l| !l.starts_with("key =")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn without_a_key_the_ssh_agent_authenticates() {
    let hosts = TestHosts::start(1);
    let inventory = keyless_inventory(&hosts);
    let socket = hosts.dir().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .spawn()
        .expect("start ssh-agent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !socket.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(hosts.sandbox.client_key())
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let empty_home = hosts.dir().join("home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let env = [("SSH_AUTH_SOCK", Some(socket.as_path())), ("HOME", Some(empty_home.as_path()))];
    let out = tests::remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"],
        &env,
    );
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn without_key_or_agent_the_default_key_files_are_tried() {
    let hosts = TestHosts::start(1);
    let inventory = keyless_inventory(&hosts);
    let home = hosts.dir().join("home");
    let out = tests::remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"],
        &[("SSH_AUTH_SOCK", None), ("HOME", Some(home.as_path()))],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("no key at all: no ssh-agent and none of"), "{}", out.stdout);
    assert!(
        out.stdout.contains(".ssh/id_rsa, ") && out.stdout.contains(".ssh/id_ed25519, "),
        "{}",
        out.stdout
    );

    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(hosts.sandbox.client_key(), home.join(".ssh/id_ed25519")).unwrap();
    let out = tests::remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"],
        &[("SSH_AUTH_SOCK", None), ("HOME", Some(home.as_path()))],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn ctrl_c_kills_what_exec_started_and_reports_it() {
    use std::process::Command;
    use std::time::{Duration, Instant};

    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-exec-cancel-{}", std::process::id());
    let script = format!("sleep 60; echo {marker}");
    let exec = tests::spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "exec",
        "test",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    // The marker is in `remote`'s own arguments too; the hosts' processes are the `sh -c` ones.
    let on_hosts = || {
        let cmdline = |pid: &u32| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        tests::processes_with(&marker).iter().filter(|pid| cmdline(pid).starts_with(b"sh\0-c\0")).count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while on_hosts() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(on_hosts(), 2, "both hosts started the command");
    assert!(Command::new("kill").args(["-INT", &exec.id().to_string()]).status().unwrap().success());
    let out = exec.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let document = json(&String::from_utf8_lossy(&out.stdout));
    for result in document["results"].as_array().unwrap() {
        assert_eq!(result["error"], Value::from("cancelled (Ctrl-C); the remote command was killed"));
    }
    // Killed processes leave /proc once sshd has reaped them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_hosts() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(on_hosts(), 0, "the cancelled command still runs on a host");
}

#[test]
fn a_reader_that_leaves_early_ends_remote_list_quietly() {
    let mut child = tests::spawn_remote(&["list"]);
    // The reading end is gone before `remote` writes: as with `remote list | head -0`.
    drop(child.stdout.take());
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// With `--json`, stdout is one JSON document even when the command cannot start (exit 2): an error object
/// with the message and, for a mistake in a file or a line, where it is.
#[test]
fn json_errors_are_one_document_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[groups.t]\nhosts = [\"a\"]\nhost_key_checking = \"bogus\"\n").unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[groups.t]\nhosts = [\"127.0.0.1\"]\n").unwrap();
    let missing = dir.path().join("missing.toml");
    let (bad, good, missing) = (bad.to_str().unwrap(), good.to_str().unwrap(), missing.to_str().unwrap());
    let cases: &[(&[&str], &str, Value, Value)] = &[
        (
            &["--inventory", bad, "--json", "exec", "t", "--", "true"],
            "is not known; use",
            Value::from(3),
            Value::from(21),
        ),
        (&["--inventory", missing, "hosts", "t", "--json"], "not found; create it", Value::Null, Value::Null),
        (
            &["--json", "exec"],
            "the following required arguments were not provided: <GROUP> <CMD>",
            Value::Null,
            Value::Null,
        ),
        (
            &["--inventory", good, "--json", "eval", "lss(t)"],
            "unknown operation, step or pipeline `lss`",
            Value::from(1),
            Value::from(1),
        ),
        (
            &["--inventory", good, "--json", "exec", "nogroup", "--", "true"],
            "unknown group `nogroup`",
            Value::Null,
            Value::Null,
        ),
        (
            &["--inventory", good, "--json", "run", "no_such_pipeline", "t"],
            "unknown pipeline `no_such_pipeline`",
            Value::Null,
            Value::Null,
        ),
        (
            &["--inventory", good, "--json", "--check", "hosts"],
            "--check (a dry run) applies to",
            Value::Null,
            Value::Null,
        ),
        // A timeout of no time would stop every command before it answered, then say it may still be running.
        (
            &["--inventory", good, "--json", "exec", "t", "--timeout", "0s", "--", "echo"],
            "above zero",
            Value::Null,
            Value::Null,
        ),
    ];
    for (args, says, line, column) in cases {
        let out = remote(args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        let document: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {:?}", out.stdout));
        assert_eq!((&document["ok"], &document["exit"]), (&Value::from(false), &Value::from(2)), "{args:?}");
        assert!(document["error"].as_str().unwrap().contains(says), "{args:?}: {document}");
        assert_eq!((&document["line"], &document["column"]), (line, column), "{args:?}: {document}");
        assert!(out.stderr.contains("error"), "{args:?}: the message is on stderr too: {}", out.stderr);
    }
}

#[test]
fn completion_scripts_and_the_manual_page_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = remote(&["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for command in ["exec", "run", "live", "sandbox", "new", "build-static"] {
            assert!(out.stdout.contains(command), "{shell} completion lacks {command}:\n{}", out.stdout);
        }
    }
    // The bash script is one bash accepts.
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), remote(&["completions", "bash"]).stdout).unwrap();
    let checked = std::process::Command::new("bash").arg("-n").arg(script.path()).output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let man = remote(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH remote"), "{}", man.stdout);
    assert!(man.stdout.contains("build\\-static"), "{}", man.stdout);
}
