//! `remote live`: lines run over connections kept open, `--script` stops at the first refused line.

use tests::{TestHosts, processes_with, remote, remote_with_stdin};

#[test]
fn a_script_runs_its_lines_over_one_connection_per_host() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let script = hosts.dir().join("ops.remote");
    let lines = [
        "\u{feff}# a comment (after the byte-order mark some editors write), then a blank line",
        "",
        "listing test",
        "uptime(test) | pretty",
        "exec(test, \"echo failing >&2; exit 3\")",
        "hosts",
        "hosts test",
        // Nothing runs in the last step of either line, so the two runs look alike; each is still shown.
        "exec(test, \"exit 1\") | uptime | pretty",
        "exec(test, \"exit 2\") | uptime",
    ];
    std::fs::write(&script, lines.join("\n")).unwrap();
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()]);
    // A host failing inside a pipeline is reported; it is not an error of the script.
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("Run summary:").count(), 5, "{}", out.stdout);
    assert!(
        out.stdout.contains("exited with status 1") && out.stdout.contains("exited with status 2"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Run summary: ls -la / on test (2 hosts: 2 ok"), "{}", out.stdout);
    assert!(out.stdout.contains("exited with status 3\n      failing"), "{}", out.stdout);
    let entries = hosts.sandbox.host_entries();
    assert!(out.stdout.contains(&format!("test  (2 hosts) {} {}", entries[0], entries[1])), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("{}  {}@", entries[1], hosts.sandbox.login_user())),
        "{}",
        out.stdout
    );
    // Five pipelines, one login per host: the session stayed open from line to line.
    for server in hosts.sandbox.servers() {
        assert_eq!(server.log().matches("Accepted publickey").count(), 1, "{}", server.log());
    }
}

#[test]
fn a_script_stops_at_the_first_line_it_cannot_accept() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let marker = hosts.dir().join("ran");
    let script = hosts.dir().join("ops.remote");
    std::fs::write(
        &script,
        format!("uptime(test)\nlss(test, \"/\")\nexec(test, \"touch {}\")\n", marker.display()),
    )
    .unwrap();
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("help: did you mean `ls`?"), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("stopped at {}:2", script.display())), "{}", out.stderr);
    assert!(!marker.exists(), "a line after the refused one ran");

    std::fs::write(&script, "uptime test\n").unwrap();
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`uptime` is an operation, not a pipeline of ops; write `uptime(test, …)`"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_prompt_reads_lines_until_quit_and_reports_mistakes_without_leaving() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let input = "lsting test\nlisting test\nhelp\nquit\nuptime(test)\n";
    let out = remote_with_stdin(&["--inventory", inventory.to_str().unwrap(), "live"], input);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("unknown pipeline `lsting`; did you mean `listing`?"), "{}", out.stderr);
    assert!(out.stdout.contains("Run summary: ls -la / on test (1 host: 1 ok"), "{}", out.stdout);
    assert!(out.stdout.contains("PIPELINE GROUP"), "help is printed: {}", out.stdout);
    assert!(!out.stdout.contains("Run summary: uptime"), "a line after `quit` ran: {}", out.stdout);
}

#[test]
fn outside_a_workspace_the_linked_ops_serves_and_reload_says_why_it_cannot() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let out = remote_with_stdin(
        &["--inventory", inventory.to_str().unwrap(), "live"],
        "reload\nlisting test\nquit\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("remote live: hot reload is off (no workspace with ops/ around the current folder); using the ops built into this binary"), "{}", out.stderr);
    assert!(out.stderr.contains("error: hot reload is off"), "{}", out.stderr);
    assert!(out.stdout.contains("Run summary: ls -la / on test (1 host: 1 ok"), "{}", out.stdout);
}

#[test]
fn ctrl_c_kills_the_running_commands_and_the_prompt_goes_on() {
    use std::io::Write;
    use std::process::Command;
    use std::time::{Duration, Instant};

    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-cancel-{}", std::process::id());
    let mut live = tests::spawn_remote(&["--inventory", inventory.to_str().unwrap(), "live"]);
    let mut stdin = live.stdin.take().unwrap();
    writeln!(stdin, "exec(test, \"sleep 60; echo {marker}\")").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Exactly two, once settled: a login shell's start-up files may fork copies of it (same command line) for
    // a moment while the command starts.
    while processes_with(&marker).len() != 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with(&marker).len(), 2, "both hosts started the command");

    let interrupted = Command::new("kill").args(["-INT", &live.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    // The prompt is still there for the next line, over the same connections.
    writeln!(stdin, "uptime(test)\nquit").unwrap();
    drop(stdin);
    let out = live.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Both hosts were cancelled alike: one group of two says so once.
    assert_eq!(stdout.matches("cancelled (Ctrl-C); the remote command was killed").count(), 1, "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("(2)") && l.contains("cancelled (Ctrl-C)")), "{stdout}");
    assert!(stdout.contains("Run summary: uptime on test (2 hosts: 2 ok"), "{stdout}");
    // Killed processes leave /proc once sshd has reaped them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(processes_with(&marker).is_empty(), "the cancelled command still runs on a host");
    for server in hosts.sandbox.servers() {
        assert_eq!(server.log().matches("Accepted publickey").count(), 1, "{}", server.log());
    }
}

/// A host's inventory entry changes while `remote live` runs (here its key file): the connection opened under
/// the old entry is closed before the next command, which logs in anew with the new settings.
#[test]
fn connections_opened_under_an_older_inventory_entry_are_replaced() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let key = hosts.sandbox.client_key();
    std::fs::copy(&key, key.with_file_name("client_key2")).unwrap();
    let edit = format!("sed -i 's|client_key\"|client_key2\"|' {}", inventory.display());
    let script = hosts.dir().join("edit.remote");
    std::fs::write(&script, format!("exec(test, \"true\")\nexec(test, {edit:?})\nexec(test, \"true\")\n"))
        .unwrap();
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        std::fs::read_to_string(&inventory).unwrap().contains("client_key2\""),
        "the edit did not happen"
    );
    let log = hosts.sandbox.servers()[0].log();
    let logins: Vec<usize> = log.match_indices("Accepted publickey").map(|(at, _)| at).collect();
    assert_eq!(logins.len(), 2, "{log}");
    let first_closed = log.find("Received disconnect").unwrap_or(usize::MAX);
    assert!(
        logins[0] < first_closed && first_closed < logins[1],
        "the old connection was not closed first:\n{log}"
    );
}
