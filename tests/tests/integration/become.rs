//! `become` and `sudo` against real sshd and a real sudo: test accounts log in with the sandbox's key, one
//! whose sudoers rule needs no password, one whose rule needs one, one with no rule. The password never
//! reaches the command, the output, the JSON or an error; every refusal says what to do.

use std::ffi::OsStr;
use std::process::Command;

use serde_json::Value;
use tests::{CliOutput, TestHosts, processes_with, remote_bin, run_remote};

const NO_PASSWORD: &str = "remote-become-nopw";
const WITH_PASSWORD: &str = "remote-become-pw";
const NO_RULE: &str = "remote-become-none";
const PASSWORD: &str = "Tr0ub4dor-&-3 remote";
const SUDOERS: &str = "/etc/sudoers.d/remote-become-test";

/// Makes the three accounts and their sudoers rules, and takes them away at the end whatever happens.
struct Accounts;

impl Accounts {
    fn make() -> Self {
        for user in [NO_PASSWORD, WITH_PASSWORD, NO_RULE] {
            let _ = Command::new("userdel").args(["-r", user]).output();
            let out = Command::new("useradd").args(["-m", "-s", "/bin/sh", user]).output().unwrap();
            assert!(out.status.success(), "useradd {user}: {}", String::from_utf8_lossy(&out.stderr));
        }
        // Accounts made by useradd are locked, and sshd without PAM turns locked accounts away: give each a
        // password.
        let mut chpasswd = Command::new("chpasswd").stdin(std::process::Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        let lines = format!(
            "{WITH_PASSWORD}:{PASSWORD}\n{NO_PASSWORD}:unused-{PASSWORD}\n{NO_RULE}:unused-{PASSWORD}\n"
        );
        chpasswd.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
        assert!(chpasswd.wait().unwrap().success());
        // No lecture, and no cached login between tests' sessions: each command asks sudo afresh.
        let rules = format!(
            "Defaults:{WITH_PASSWORD} lecture=never, timestamp_timeout=0\n\
             {NO_PASSWORD} ALL=(ALL:ALL) NOPASSWD: ALL\n{WITH_PASSWORD} ALL=(ALL:ALL) ALL\n"
        );
        std::fs::write(SUDOERS, rules).unwrap();
        std::fs::set_permissions(SUDOERS, std::os::unix::fs::PermissionsExt::from_mode(0o440)).unwrap();
        let check = Command::new("visudo").args(["-c", "-f", SUDOERS]).output().unwrap();
        assert!(check.status.success(), "visudo: {}", String::from_utf8_lossy(&check.stdout));
        Accounts
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(SUDOERS);
        for user in [NO_PASSWORD, WITH_PASSWORD, NO_RULE] {
            let _ = Command::new("pkill").args(["-KILL", "-u", user]).output();
            let _ = Command::new("userdel").args(["-r", user]).output();
        }
    }
}

/// Kills `pids` (what a test left behind) and returns them, so that a failure does not leave them running.
fn kill_all(pids: Vec<u32>) -> Vec<u32> {
    for pid in &pids {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
    pids
}

/// `remote --json … eval EXPRESSION` with `password` in REMOTE_BECOME_PASSWORD (or none).
fn eval(inventory: &str, expression: &str, password: Option<&str>, extra: &[&str]) -> (CliOutput, Value) {
    let mut args = vec!["--inventory", inventory, "--json", "eval", expression];
    args.extend_from_slice(extra);
    let out = run_remote(remote_bin(), &args, &[("REMOTE_BECOME_PASSWORD", password.map(OsStr::new))]);
    let document: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    let result = document["results"][0].clone();
    (out, result)
}

fn stdout(result: &Value) -> &str {
    result["stdout"].as_str().unwrap_or_default()
}

#[test]
fn become_runs_commands_as_root_through_sudo_and_says_why_when_it_cannot() {
    if unsafe { libc::geteuid() } != 0 || Command::new("sudo").arg("-V").output().is_err() {
        // Test accounts and sudoers rules need root and sudo (`.ci/run` runs as root and installs sudo).
        eprintln!("become: skipped, as it needs root and sudo");
        return;
    }
    let _accounts = Accounts::make();

    // No password needed: the `sudo` step, and `become = true` for a group, from `remote eval` and `remote
    // exec`.
    let hosts = TestHosts::start_as(1, NO_PASSWORD);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (_, result) = eval(inventory, "exec(test, \"id -un\")", None, &[]);
    assert_eq!(stdout(&result), format!("{NO_PASSWORD}\n"), "{result}");
    let (_, result) = eval(inventory, "sudo(test) | exec(\"id -un\")", None, &[]);
    assert_eq!(stdout(&result), "root\n", "{result}");
    let become_group = hosts.write_inventory(&[("become", "true")]);
    let become_group = become_group.to_str().unwrap();
    let (_, result) = eval(become_group, "exec(test, \"id -un\")", None, &[]);
    assert_eq!(stdout(&result), "root\n", "{result}");
    let out =
        run_remote(remote_bin(), &["--inventory", become_group, "exec", "test", "--", "id", "-un"], &[]);
    assert!(out.stdout.contains("root"), "{}{}", out.stdout, out.stderr);
    // At the prompt, one connection serves every line: a group's `become` is not a change of its hosts'
    // settings.
    let logins = |hosts: &TestHosts| hosts.sshd_log(0).matches("Accepted publickey").count();
    let before = logins(&hosts);
    let script = hosts.dir().join("script");
    std::fs::write(
        &script,
        "exec(test, \"id -un\")\nexec(test, \"id -un\")\nhosts test\nexec(test, \"id -un\")\n",
    )
    .unwrap();
    let out = run_remote(
        remote_bin(),
        &["--inventory", become_group, "live", "--no-hub", "--script", script.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.matches("root").count(), 3, "{}", out.stdout);
    assert_eq!(logins(&hosts) - before, 1, "the prompt logged in again between lines");
    // Metrics and facts read through sudo as well.
    let (_, result) = eval(become_group, "os_info(test)", None, &[]);
    assert_eq!(result["ok"], Value::from(true), "{result}");

    // A command stopped by its timeout runs as root: the kill runs as root through `sudo -n` too, follows the
    // command through parent pids (also into a session of its own, should sudo make one: use_pty), and says
    // killed because nothing of it is left.
    let marker = format!("41.5{}", std::process::id());
    let expression = format!("sudo(test) | exec(\"sleep {marker}\")");
    let (out, result) = eval(inventory, &expression, None, &["--timeout", "1s"]);
    let left = kill_all(processes_with(&marker));
    assert_eq!(out.code, 1);
    assert_eq!(result["killed"], Value::from(true), "{result}");
    assert_eq!(result["error"], "timed out after 1s; the remote command was killed", "{result}");
    assert_eq!(left, Vec::<u32>::new(), "said killed, yet still there");
    // A command that starts root's processes itself (sudo, without `become`): the login user cannot kill
    // them, and the result names them instead of saying killed. (The inventory file was rewritten with
    // `become` above: it is written afresh without.)
    let plain = hosts.write_inventory(&[]);
    let marker = format!("42.5{}", std::process::id());
    let expression = format!("exec(test, \"sudo -n sleep {marker}\")");
    let (out, result) = eval(plain.to_str().unwrap(), &expression, None, &["--timeout", "1s"]);
    let left = kill_all(processes_with(&marker));
    assert_eq!(out.code, 1);
    assert_eq!(result["killed"], Value::from(false), "{result}");
    let error = result["error"].as_str().unwrap_or_default();
    let stopped = "timed out after 1s; the remote command may still be running (process group ";
    assert!(error.starts_with(stopped), "{error}");
    assert!(error.ends_with(" still there after kill -KILL"), "{error}");
    assert!(!left.is_empty(), "nothing was left, yet {error}");
    for pid in left {
        assert!(error.contains(&pid.to_string()), "{error} does not name {pid}, which was still there");
    }

    // A password needed: none given, a wrong one, the right one.
    let hosts = TestHosts::start_as(1, WITH_PASSWORD);
    let inventory = hosts.write_inventory(&[("become", "true")]);
    let inventory = inventory.to_str().unwrap();
    let (out, result) = eval(inventory, "exec(test, \"id -un\")", None, &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        result["error"],
        "sudo needs a password on this host and none was given; set REMOTE_BECOME_PASSWORD, or pass \
         --ask-become-pass to be asked once",
        "{result}"
    );
    let (_, result) = eval(inventory, "exec(test, \"id -un\")", Some("not the password"), &[]);
    assert_eq!(
        result["error"],
        "sudo refused the password given (REMOTE_BECOME_PASSWORD or --ask-become-pass); it is not offered to other \
         hosts again"
    );
    // Not to a host whose key is not checked: anyone in between would get it.
    let unchecked = hosts.write_inventory(&[("become", "true"), ("host_key_checking", "\"off\"")]);
    let (_, result) = eval(unchecked.to_str().unwrap(), "exec(test, \"id -un\")", Some(PASSWORD), &[]);
    assert!(
        result["error"].as_str().unwrap().contains("is not offered to a host whose key is not checked"),
        "{result}"
    );
    // Nor to a host whose key was first recorded on this very connection (accept-new): nothing vouched for it
    // yet. The next connection is checked against that record, and is offered it.
    let fresh = format!("{:?}", hosts.dir().join("fresh_known_hosts").display().to_string());
    let first_seen = hosts.write_inventory(&[
        ("become", "true"),
        ("host_key_checking", "\"accept-new\""),
        ("known_hosts", &fresh),
    ]);
    let (_, result) = eval(first_seen.to_str().unwrap(), "exec(test, \"id -un\")", Some(PASSWORD), &[]);
    assert!(
        result["error"].as_str().unwrap_or_default().contains("first recorded on this connection"),
        "{result}"
    );
    let (out, result) = eval(first_seen.to_str().unwrap(), "exec(test, \"id -un\")", Some(PASSWORD), &[]);
    assert_eq!((out.code, stdout(&result)), (0, "root\n"), "{result}");
    let inventory = hosts.write_inventory(&[("become", "true")]);
    let inventory = inventory.to_str().unwrap();
    let (out, result) = eval(inventory, "exec(test, \"id -un\")", Some(PASSWORD), &[]);
    assert_eq!((out.code, stdout(&result)), (0, "root\n"), "{result}");
    // The command reads nothing of what sudo was given, and the password is nowhere in what remote printed.
    let (out, result) = eval(inventory, "exec(test, \"cat; echo done\")", Some(PASSWORD), &[]);
    assert_eq!(stdout(&result), "done\n", "{result}");
    assert!(
        !out.stdout.contains("Tr0ub4dor") && !out.stderr.contains("Tr0ub4dor"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let out = run_remote(
        remote_bin(),
        &["--inventory", inventory, "eval", "exec(test, \"id -un\") | pretty"],
        &[("REMOTE_BECOME_PASSWORD", Some(OsStr::new(PASSWORD))), ("REMOTE_LOG", Some(OsStr::new("trace")))],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stdout.contains("Tr0ub4dor") && !out.stderr.contains("Tr0ub4dor"),
        "the password was logged"
    );

    // Without a terminal, --ask-become-pass cannot ask, and says what to do instead.
    let out = run_remote(
        remote_bin(),
        &["--inventory", inventory, "eval", "exec(test, \"id\")", "--ask-become-pass"],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--ask-become-pass needs a terminal to ask on"), "{}", out.stderr);

    // No sudoers rule at all.
    let hosts = TestHosts::start_as(1, NO_RULE);
    let inventory = hosts.write_inventory(&[("become", "true")]);
    let own_password = format!("unused-{PASSWORD}");
    let (_, result) = eval(inventory.to_str().unwrap(), "exec(test, \"id -un\")", Some(&own_password), &[]);
    assert_eq!(
        result["error"],
        "sudo: the login user may not run commands as root here; become needs a sudoers rule that lets it run \
         `/bin/sh` (ALL) as root",
        "{result}"
    );
}
