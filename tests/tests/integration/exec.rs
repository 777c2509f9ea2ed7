//! Running commands: many hosts, failures, output of any size and bytes, quoting, timeouts that kill.

use std::time::{Duration, Instant};

use remote_core::{CancelCause, HostError, Kill, Report, StopReason, Stopped, quote};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};
use tests::{TestHosts, processes_with, runtime};

fn exec(hosts: &TestHosts, argv: &[&str], options: &ExecOptions) -> Report {
    let command = quote::command_line(argv).expect("quotable");
    let pool = SessionPool::new(PoolConfig::default());
    let started = Instant::now();
    let results = runtime().block_on(pool.exec(&hosts.specs(), &command, options));
    Report { label: command, group: "test".into(), results, elapsed: started.elapsed() }
}

#[test]
fn many_hosts_at_once_in_inventory_order() {
    let hosts = TestHosts::start(12);
    let run = exec(&hosts, &["sh", "-c", "echo $SSH_CONNECTION"], &ExecOptions::default());
    assert!(run.all_ok(), "{run:#?}");
    let names: Vec<_> = run.results.iter().map(|r| r.host.clone()).collect();
    assert_eq!(names, hosts.sandbox.host_entries());
    for (result, server) in run.results.iter().zip(hosts.sandbox.servers()) {
        // SSH_CONNECTION is "client_ip client_port server_ip server_port": each answer comes from its own
        // server.
        let text = String::from_utf8_lossy(&result.output().unwrap().stdout).to_string();
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            fields[2..],
            [server.address.ip().to_string(), server.address.port().to_string()],
            "{text}"
        );
    }
}

#[test]
fn one_host_down_does_not_stop_the_others() {
    let mut hosts = TestHosts::start(3);
    hosts.sandbox.server_mut(1).stop();
    let run = exec(&hosts, &["true"], &ExecOptions::default());
    let verdicts: Vec<bool> = run.results.iter().map(|r| r.ok()).collect();
    assert_eq!(verdicts, [true, false, true]);
    assert!(matches!(run.results[1].outcome, Err(HostError::ConnectRefused { .. })), "{:?}", run.results[1]);
    assert!(run.results[1].error_text().unwrap().starts_with("connection refused"));
}

#[test]
fn exit_codes_and_stderr_are_kept_apart() {
    let hosts = TestHosts::start(1);
    let run = exec(&hosts, &["sh", "-c", "echo to-out; echo to-err >&2; exit 7"], &ExecOptions::default());
    let result = &run.results[0];
    let output = result.output().expect("the command ran");
    assert_eq!(
        (output.exit, output.stdout.as_slice(), output.stderr.as_slice()),
        (Some(7), &b"to-out\n"[..], &b"to-err\n"[..])
    );
    assert!(!result.ok());
    assert_eq!(result.error_text().as_deref(), Some("exited with status 7"));
}

#[test]
fn two_mebibytes_of_output_arrive_whole() {
    let hosts = TestHosts::start(1);
    let run = exec(
        &hosts,
        &["sh", "-c", "head -c 2097152 /dev/urandom | od -An -v -tx1 | head -c 2097152"],
        &ExecOptions::default(),
    );
    let output = run.results[0].output().expect("the command ran");
    assert_eq!(output.stdout.len(), 2 * 1024 * 1024);
    assert!(!output.truncated);
}

#[test]
fn output_past_the_limit_is_cut_and_flagged() {
    let hosts = TestHosts::start(1);
    let options = ExecOptions { max_output: 1000, ..ExecOptions::default() };
    let run = exec(&hosts, &["sh", "-c", "head -c 100000 /dev/zero"], &options);
    let output = run.results[0].output().expect("the command ran");
    assert_eq!((output.stdout.len(), output.truncated, output.exit), (1000, true, Some(0)));
}

#[test]
fn non_utf8_output_is_kept_byte_for_byte() {
    let hosts = TestHosts::start(1);
    let run = exec(&hosts, &["printf", "\\377\\376\\000abc\\200"], &ExecOptions::default());
    assert_eq!(run.results[0].output().unwrap().stdout, b"\xff\xfe\x00abc\x80");
}

#[test]
fn shell_metacharacters_arrive_unchanged() {
    let hosts = TestHosts::start(1);
    let marker = hosts.dir().join("pwned");
    let injection = format!("$(touch {0}); `touch {0}`; touch {0} && echo", marker.display());
    let words = [
        "a b",
        "it's",
        "\"",
        "\\",
        "$HOME",
        &injection,
        "*",
        "~",
        "#x",
        "line\nbreak",
        "|",
        "&",
        ">",
        "<",
        "é ✔",
        "",
    ];
    let mut argv = vec!["printf", "%s\\0"];
    argv.extend(words.iter().copied());
    let run = exec(&hosts, &argv, &ExecOptions::default());
    let stdout = &run.results[0].output().expect("the command ran").stdout;
    let received: Vec<String> =
        stdout.split(|b| *b == 0).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
    let mut expected: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    expected.push(String::new());
    assert_eq!(received, expected);
    assert!(!marker.exists(), "an argument was run as shell code");
}

#[test]
fn a_command_past_its_timeout_is_killed_on_the_host() {
    let hosts = TestHosts::start(1);
    let marker = format!("remote-timeout-marker-{}", std::process::id());
    let script = format!("echo before; echo to-stderr >&2; sleep 300; echo {marker}; sleep 301 # {marker}");
    let options = ExecOptions { timeout: Duration::from_millis(800), ..ExecOptions::default() };
    let started = Instant::now();
    let run = exec(&hosts, &["sh", "-c", &script], &options);
    assert!(started.elapsed() < Duration::from_secs(10), "the timeout did not return in time");
    let output = run.results[0].output().expect("a stopped command keeps what it printed");
    let expected =
        Stopped { reason: StopReason::Timeout { after: Duration::from_millis(800) }, kill: Kill::Killed };
    assert_eq!(output.stopped, Some(expected), "{:?}", run.results[0]);
    assert_eq!((output.stdout.as_slice(), output.stderr.as_slice()), (&b"before\n"[..], &b"to-stderr\n"[..]));
    assert_eq!(run.results[0].error_text().unwrap(), "timed out after 800ms; the remote command was killed");
    // The test hosts are this machine, so the remote processes can be looked for directly.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with(&marker), Vec::<u32>::new(), "the remote command outlived its timeout");
}

/// A login that prints a banner on stdout before the command (an rc file's `echo`, a ForceCommand wrapper):
/// the banner stays the host's output, the internal process-group line never reaches it, and a timeout still
/// kills the command's group, which was found after the banner.
#[test]
fn a_login_banner_on_stdout_hides_neither_the_output_nor_the_process_group() {
    let mut hosts = TestHosts::start(1);
    let wrapper = "ForceCommand /bin/sh -c 'echo WELCOME-to-the-host; echo remote-pgid:1; eval \"$SSH_ORIGINAL_COMMAND\"'";
    hosts.sandbox.server_mut(0).configure(wrapper).expect("a server whose logins print a banner");
    let options = ExecOptions { timeout: Duration::from_secs(20), ..ExecOptions::default() };
    let run = exec(&hosts, &["echo", "hi"], &options);
    assert!(run.all_ok(), "{:?}", run.results[0]);
    let stdout = String::from_utf8_lossy(&run.results[0].output().unwrap().stdout).into_owned();
    // A line that looks like the old, token-less marker is the banner's, and stays.
    assert_eq!(stdout, "WELCOME-to-the-host\nremote-pgid:1\nhi\n");

    let marker = format!("remote-banner-marker-{}", std::process::id());
    let options = ExecOptions { timeout: Duration::from_millis(800), ..ExecOptions::default() };
    let run = exec(&hosts, &["sh", "-c", &format!("sleep 300; echo {marker}")], &options);
    assert_eq!(
        run.results[0].error_text().unwrap(),
        "timed out after 800ms; the remote command was killed",
        "{:?}",
        run.results[0]
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with(&marker), Vec::<u32>::new(), "the command outlived its timeout");
}

/// A script from `ops` (not quoted by `command_line`) or a copy's path holding a NUL is refused before it
/// reaches the host; sent, it broke the connection the host's other commands share. The next command runs on
/// it.
#[test]
fn a_nul_in_a_command_or_a_path_is_refused_and_the_connection_lives_on() {
    let hosts = TestHosts::start(1);
    let pool = SessionPool::new(PoolConfig::default());
    let options = ExecOptions::default();
    let runtime = runtime();
    let first = runtime.block_on(pool.exec(&hosts.specs(), "echo before", &options));
    assert!(first[0].ok(), "{:?}", first[0]);
    let refused = runtime.block_on(pool.exec(&hosts.specs(), "echo a\0b", &options));
    assert_eq!(
        refused[0].error_text().unwrap(),
        "bad argument, nothing was run: the command holds a NUL byte, which no remote shell can receive"
    );
    let upload = remote_core::Transfer::Upload { local: hosts.dir().join("x"), remote: "/tmp/a\0b".into() };
    let refused = runtime.block_on(pool.transfer(&hosts.specs(), &upload, &options));
    assert_eq!(
        refused[0].error_text().unwrap(),
        "bad argument, nothing was run: the path on the host holds a NUL byte, which SFTP cannot carry"
    );
    let after = runtime.block_on(pool.exec(&hosts.specs(), "echo after", &options));
    assert_eq!(after[0].output().map(|o| o.stdout.as_slice()), Some(&b"after\n"[..]), "{:?}", after[0]);
    assert_eq!(pool.open_connections(), 1, "the first connection served all three");
}

#[test]
fn commands_reading_stdin_do_not_hang() {
    let hosts = TestHosts::start(1);
    let options = ExecOptions { timeout: Duration::from_secs(20), ..ExecOptions::default() };
    let run = exec(&hosts, &["sh", "-c", "cat; echo after-cat"], &options);
    assert!(run.all_ok(), "{:?}", run.results[0]);
    assert_eq!(run.results[0].output().unwrap().stdout, b"after-cat\n");
}

/// A server that allows fewer sessions per connection than the pool would use: the extra command waits for a
/// channel instead of failing, and every timed-out command is killed and shown as killed, even while the
/// commands to kill hold every session the server allows (the kill then goes over a connection of its own).
#[test]
fn timeouts_on_a_server_with_max_sessions_2_are_all_killed() {
    let mut hosts = TestHosts::start(1);
    hosts.sandbox.server_mut(0).configure("MaxSessions 2").expect("restart sshd with MaxSessions 2");
    let spec = hosts.specs().remove(0);
    let marker = format!("remote-maxsessions-marker-{}", std::process::id());
    let pool = SessionPool::new(PoolConfig::default());
    let options = ExecOptions { timeout: Duration::from_millis(1500), ..ExecOptions::default() };
    let runtime = runtime();
    let results = runtime.block_on(async {
        let runs = (0..3).map(|i| {
            let (pool, spec, options) = (pool.clone(), spec.clone(), options.clone());
            let script = format!("echo started-{i}; sleep 300 # {marker}");
            let command = quote::command_line(&["sh", "-c", &script]).expect("quotable");
            tokio::spawn(async move { pool.exec_on(&spec, &command, &options).await })
        });
        let mut results = Vec::new();
        for run in runs.collect::<Vec<_>>() {
            results.push(run.await.expect("task"));
        }
        results
    });
    // Only two sessions at a time: one command waited for a channel instead of failing, so it ended a timeout
    // later.
    let longest = results.iter().map(|r| r.elapsed).max().unwrap_or_default();
    assert!(longest >= Duration::from_millis(3000), "no command waited for a free session: {longest:?}");
    for (i, result) in results.iter().enumerate() {
        let output = result.output().unwrap_or_else(|| panic!("command {i} did not run: {result:?}"));
        assert_eq!(output.stopped.as_ref().map(|s| &s.kill), Some(&Kill::Killed), "command {i}: {result:?}");
        assert_eq!(output.stdout, format!("started-{i}\n").into_bytes(), "command {i}");
    }
    // SIGKILL was delivered (kill said so); the kernel may take a moment to take the process away on a busy
    // machine.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(processes_with(&marker), Vec::<u32>::new(), "a timed-out command still runs on the host");
}

/// Ctrl-C stops what runs and what waits, and says which was which: a started command is "cancelled" with its
/// kill confirmed, one still waiting for a channel is "not started".
#[test]
fn cancel_tells_started_commands_from_waiting_ones() {
    let hosts = TestHosts::start(1);
    let spec = hosts.specs().remove(0);
    let pool = SessionPool::new(PoolConfig { channels_per_host: 1, ..PoolConfig::default() });
    let (cancel, watch) = tokio::sync::watch::channel(None);
    let options = ExecOptions { cancel: Some(watch), ..ExecOptions::default() };
    let runtime = runtime();
    let (first, second) = runtime.block_on(async {
        let start = |script: &str| {
            let (pool, spec, options) = (pool.clone(), spec.clone(), options.clone());
            let command = quote::command_line(&["sh", "-c", script]).expect("quotable");
            tokio::spawn(async move { pool.exec_on(&spec, &command, &options).await })
        };
        let first = start("echo running; sleep 300");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = start("echo never");
        tokio::time::sleep(Duration::from_millis(700)).await;
        cancel.send_replace(Some(CancelCause::CtrlC));
        (first.await.expect("task"), second.await.expect("task"))
    });
    let output = first.output().expect("the first command ran");
    assert_eq!(
        output.stopped,
        Some(Stopped { reason: StopReason::Cancelled(CancelCause::CtrlC), kill: Kill::Killed }),
        "{first:?}"
    );
    assert_eq!(output.stdout, b"running\n");
    assert_eq!(second.outcome, Err(HostError::NotStarted { cause: CancelCause::CtrlC }), "{second:?}");
    assert!(second.error_text().unwrap().starts_with("not started"), "{second:?}");
}

/// Kills `pids` (what a failed test left behind) and returns them, so that a failure leaves nothing running.
fn kill_all(pids: Vec<u32>) -> Vec<u32> {
    for pid in &pids {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
    pids
}

/// A command stopped on five hosts at once, by its timeout, by Ctrl-C and by the run's deadline, is said to
/// be killed every time, and nothing of it is left then: the verdict comes from looking on the host, not from
/// a race with sshd. sshd honours the SSH `signal` request only for logins other than root (a root session
/// has no privilege separation), and there it had often killed the group already, so that the `kill` which
/// followed found nothing and the result said the command may still be running; hence a second login, as
/// an account of its own, when the test runs as root.
#[test]
fn commands_stopped_on_five_hosts_are_said_killed_and_are_gone() {
    stop_on_five_hosts(&TestHosts::start(5), "own");
    match Account::make("remote-kill-test") {
        Some(account) => stop_on_five_hosts(&TestHosts::start_as(5, account.name), "account"),
        None => eprintln!("the login as an account other than root needs root to make it; skipped"),
    }
}

fn stop_on_five_hosts(hosts: &TestHosts, login: &str) {
    let specs = hosts.specs();
    let pool = SessionPool::new(PoolConfig::default());
    let runtime = runtime();
    let second = Duration::from_secs(1);
    for round in 0..5 {
        // The duration is the marker: no other process sleeps for exactly this long.
        let marker = format!("30.{}{}{round}", std::process::id(), login.len());
        let command = format!("sleep {marker}");
        let (cancel, watch) = tokio::sync::watch::channel(None);
        let (options, reason) = match round {
            3 => (
                ExecOptions { cancel: Some(watch), ..ExecOptions::default() },
                StopReason::Cancelled(CancelCause::Terminate),
            ),
            4 => {
                let deadline = Some(remote_ssh::exec::Deadline::after(second));
                (ExecOptions { deadline, ..ExecOptions::default() }, StopReason::Deadline { after: second })
            }
            _ => {
                let options = ExecOptions { timeout: second, ..ExecOptions::default() };
                (options, StopReason::Timeout { after: second })
            }
        };
        let results = runtime.block_on(async {
            let ctrl_c = async {
                tokio::time::sleep(second).await;
                cancel.send_replace(Some(CancelCause::Terminate));
            };
            tokio::join!(pool.exec(&specs, &command, &options), ctrl_c).0
        });
        let left = kill_all(processes_with(&marker));
        for result in &results {
            let context = format!("{login} login, round {round}: {result:?}");
            let output = result.output().unwrap_or_else(|| panic!("{context}"));
            let expected = Stopped { reason, kill: Kill::Killed };
            assert_eq!(output.stopped.as_ref(), Some(&expected), "{context}");
        }
        assert_eq!(left, Vec::<u32>::new(), "{login} login, round {round}: said killed, yet still there");
    }
}

/// A login account other than root for one test, removed at the end whatever happens.
struct Account {
    name: &'static str,
}

impl Account {
    /// Makes the account `name`, when the test runs as root; `None` otherwise.
    fn make(name: &'static str) -> Option<Account> {
        use std::process::Command;
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let _ = Command::new("userdel").args(["-r", "-f", name]).output();
        let out = Command::new("useradd").args(["-m", "-s", "/bin/sh", name]).output().expect("run useradd");
        assert!(out.status.success(), "useradd {name}: {}", String::from_utf8_lossy(&out.stderr));
        let account = Account { name };
        // Accounts made by useradd are locked, and sshd without PAM turns locked accounts away: unlock it
        // with a password nobody uses (the login is by key).
        let mut chpasswd = Command::new("chpasswd");
        let mut chpasswd = chpasswd.stdin(std::process::Stdio::piped()).spawn().expect("run chpasswd");
        use std::io::Write;
        let line = format!("{name}:unused-{}\n", std::process::id());
        chpasswd.stdin.take().expect("stdin").write_all(line.as_bytes()).expect("write to chpasswd");
        assert!(chpasswd.wait().expect("chpasswd").success());
        Some(account)
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel").args(["-r", "-f", self.name]).output();
    }
}

/// A child that made a session of its own (`setsid`) while its parent ran is followed and killed with it: the
/// whole command is gone when the result says killed.
#[test]
fn a_child_in_a_session_of_its_own_is_killed_too() {
    let hosts = TestHosts::start(1);
    let id = std::process::id();
    let (detached, attached) = (format!("305.{id}1"), format!("100.{id}2"));
    let options = ExecOptions { timeout: Duration::from_secs(1), ..ExecOptions::default() };
    let run = exec(&hosts, &["sh", "-c", &format!("setsid sleep {detached} & sleep {attached}")], &options);
    let left = kill_all([processes_with(&detached), processes_with(&attached)].concat());
    let output = run.results[0].output().expect("the command ran");
    let reason = StopReason::Timeout { after: Duration::from_secs(1) };
    assert_eq!(output.stopped, Some(Stopped { reason, kill: Kill::Killed }), "{:?}", run.results[0]);
    assert_eq!(left, Vec::<u32>::new(), "said killed, yet still there");
}
