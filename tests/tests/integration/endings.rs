//! How `remote` ends when told to or when it cannot go on: SIGTERM and SIGHUP kill what runs on the hosts, a
//! reader that leaves ends it quietly, a line that is not text is refused alone, and a real terminal is left
//! as it was.

use std::ffi::OsStr;
use std::io::{BufRead, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{TestHosts, processes_with};

/// The signals that end `remote` with its commands killed: the signal, the cause its results name, and the
/// exit code of a live prompt it ends (128 + the signal's number, as shells report a process a signal ended).
const ENDING_SIGNALS: [(libc::c_int, &str, i32); 2] =
    [(libc::SIGTERM, "SIGTERM", 143), (libc::SIGHUP, "SIGHUP, the terminal was closed", 129)];

/// How long a test waits for what takes a second or two when all is well, so that a regression fails, not
/// hangs.
const PATIENCE: Duration = Duration::from_secs(20);

/// How long killed commands may take to leave /proc: sshd reaps them once their session has ended.
const REAPING: Duration = Duration::from_secs(5);

/// Checks `done` every 50 ms until it holds or `limit` has passed; whether it held.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The parent of process `pid`, from /proc.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces; after it come the state, then the parent.
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// How many commands holding `marker` the hosts run: the processes sshd started for them. `remote`'s own
/// arguments may hold the marker too, and a command's shell may fork copies of itself; neither is counted.
fn on_hosts(marker: &str) -> usize {
    let started_by_sshd = |pid: &u32| {
        parent_of(*pid)
            .and_then(|parent| std::fs::read(format!("/proc/{parent}/cmdline")).ok())
            .is_some_and(|cmdline| cmdline.starts_with(b"sshd"))
    };
    processes_with(marker).iter().filter(|pid| started_by_sshd(pid)).count()
}

/// Waits until every host of `count` runs the command holding `marker`; fails the test when they do not.
fn wait_started(marker: &str, count: usize) {
    assert!(
        wait_until(PATIENCE, || on_hosts(marker) >= count),
        "{count} hosts did not start the command {marker}"
    );
}

/// Whether nothing holding `marker` is left once `remote` has ended (its own arguments are gone with it).
fn all_gone(marker: &str) -> bool {
    wait_until(REAPING, || processes_with(marker).is_empty())
}

/// Sends `signal` to `pid`, a child of the test that has not been waited for, so the pid is still its own.
fn send(pid: u32, signal: libc::c_int) {
    // SAFETY: kill takes plain integers; the pid is a child this test has not reaped.
    let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(sent, 0, "could not signal {pid}: {}", std::io::Error::last_os_error());
}

/// `remote ARGS` as the harness starts it: outside the workspace, colours off, no inventory or key inherited.
fn remote_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(tests::remote_bin());
    command
        .args(args)
        .current_dir(tests::outside_workspace())
        .env_remove("REMOTE_INVENTORY")
        .env_remove("REMOTE_KEY")
        .env_remove("REMOTE_BECOME_PASSWORD")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
    command
}

/// Waits for `child` until `limit`; `None` when it is still running then.
fn wait_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for remote") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `pipe` to its end on a thread of its own, so that `remote` never waits on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What a `remote` started with piped output did.
struct Ended {
    /// Its exit code (`None` if a signal killed it).
    code: Option<i32>,
    /// Its stdout, unless the test read it itself.
    stdout: String,
    /// Its stderr.
    stderr: String,
}

/// Waits at most `limit` for `child` and collects what it printed; when it runs longer it is killed and the
/// test fails with what it had printed, so that a regression fails rather than hangs.
fn finish(mut child: Child, limit: Duration) -> Ended {
    drop(child.stdin.take());
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let status = wait_within(&mut child, limit);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text =
        |reader: Option<JoinHandle<String>>| reader.map(|r| r.join().unwrap_or_default()).unwrap_or_default();
    let (stdout, stderr) = (text(stdout), text(stderr));
    let Some(status) = status else {
        panic!("remote did not end within {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    };
    Ended { code: status.code(), stdout, stderr }
}

/// What `exec --json` must have said when `cause` ended it while its command ran on two hosts: one document,
/// every result cancelled by that cause with the command killed, exit code 1, and nothing left running on the
/// hosts.
fn check_exec_ended(out: &Ended, cause: &str, marker: &str) {
    assert_eq!(out.code, Some(1), "{cause}: {}", out.stderr);
    let document: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{cause}: not one JSON document ({e}):\n{}", out.stdout));
    let results = document["results"].as_array().unwrap_or_else(|| panic!("{cause}: no results: {document}"));
    assert_eq!(results.len(), 2, "{cause}: {document}");
    let expected = Value::from(format!("cancelled ({cause}); the remote command was killed"));
    for result in results {
        assert_eq!(result["error"], expected, "{cause}: {document}");
    }
    assert!(all_gone(marker), "{cause}: the cancelled command still runs on a host");
}

#[test]
fn sigterm_and_sighup_kill_what_exec_started_and_say_which_signal_it_was() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    for (signal, cause, _) in ENDING_SIGNALS {
        let marker = format!("remote-exec-ended-{signal}-{}", std::process::id());
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
        wait_started(&marker, 2);
        send(exec.id(), signal);
        check_exec_ended(&finish(exec, PATIENCE), cause, &marker);
    }
}

#[test]
fn sigterm_and_sighup_end_a_live_script_as_quit_would_with_its_commands_killed() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    for (signal, cause, code) in ENDING_SIGNALS {
        let marker = format!("remote-live-ended-{signal}-{}", std::process::id());
        let script = hosts.dir().join(format!("ended-{signal}.remote"));
        std::fs::write(&script, format!("exec(test, \"sleep 60; echo {marker}\") | pretty\nhosts\n"))
            .unwrap();
        let live = tests::spawn_remote(&[
            "--inventory",
            inventory.to_str().unwrap(),
            "live",
            "--no-hub",
            "--no-build",
            "--script",
            script.to_str().unwrap(),
        ]);
        wait_started(&marker, 2);
        send(live.id(), signal);
        let out = finish(live, PATIENCE);
        assert_eq!(out.code, Some(code), "{cause}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("ended ({cause}) as `quit` would")), "{cause}: {}", out.stderr);
        let cancelled = format!("cancelled ({cause}); the remote command was killed");
        // Both hosts were cancelled alike: one group of two says so once.
        assert_eq!(out.stdout.matches(&cancelled).count(), 1, "{cause}: {}", out.stdout);
        assert!(
            out.stdout.lines().any(|l| l.contains("(2)") && l.contains(&cancelled)),
            "{cause}: {}",
            out.stdout
        );
        // No line starts once the prompt is ending: the script's `hosts` would have listed the group.
        assert!(
            !out.stdout.contains("test  (2 hosts)"),
            "{cause}: a line after the signal ran: {}",
            out.stdout
        );
        assert!(all_gone(&marker), "{cause}: the cancelled command still runs on a host");
    }
}

/// A SIGTERM after a Ctrl-C cancelled a line is a first SIGTERM: the prompt ends as `quit` does, not at once
/// as a second signal would.
#[test]
fn sigterm_after_a_ctrl_c_still_ends_the_prompt_as_quit_would() {
    use std::io::Write as _;
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-int-then-term-{}", std::process::id());
    let mut live =
        tests::spawn_remote(&["--inventory", inventory.to_str().unwrap(), "live", "--no-hub", "--no-build"]);
    let mut stdin = live.stdin.take().unwrap();
    writeln!(stdin, "exec(test, \"sleep 60; echo {marker}\") | pretty").unwrap();
    wait_started(&marker, 1);
    send(live.id(), libc::SIGINT);
    assert!(all_gone(&marker), "Ctrl-C killed the command");
    // The prompt is idle again; the line's cancel has not been cleared yet (the next line would).
    std::thread::sleep(Duration::from_millis(500));
    send(live.id(), libc::SIGTERM);
    // Standard input stays open until the end: closed now, it would race the signal, and its end of input
    // would make the prompt leave as Ctrl-D does (exit 0) before the SIGTERM is handled.
    let out = finish(live, PATIENCE);
    drop(stdin);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    assert!(out.stderr.contains("ended (SIGTERM) as `quit` would"), "{}", out.stderr);
    assert!(!out.stderr.contains("SIGTERM again"), "{}", out.stderr);
}

#[test]
fn sigterm_halts_a_live_job_and_kills_the_command_it_runs() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-job-ended-{}", std::process::id());
    let script = hosts.dir().join("job.remote");
    // The job's first tick starts the long command; the script then waits, as a script that lets jobs run
    // does.
    std::fs::write(&script, format!("watch j every 1s exec(test, \"sleep 60; echo {marker}\")\nwait 30s\n"))
        .unwrap();
    let live = tests::spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--no-hub",
        "--no-build",
        "--script",
        script.to_str().unwrap(),
    ]);
    wait_started(&marker, 2);
    send(live.id(), libc::SIGTERM);
    let out = finish(live, PATIENCE);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    assert!(out.stderr.contains("halted 1 job"), "{}", out.stderr);
    assert!(out.stderr.contains("ended (SIGTERM) as `quit` would"), "{}", out.stderr);
    assert!(all_gone(&marker), "the job's command still runs on a host");
}

#[test]
fn hosts_ends_quietly_when_its_reader_has_left() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    // The reading end is closed before `remote` starts, so its first write surely finds nobody: `remote hosts
    // | true`.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = remote_command(&["--inventory", inventory.to_str().unwrap(), "hosts", "test"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start remote");
    let out = finish(child, PATIENCE);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn a_live_script_whose_reader_leaves_ends_before_its_next_line() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-live-unread-{}", std::process::id());
    let script = hosts.dir().join("unread.remote");
    // The first line prints little (each host's last line), which the pipe takes whole: the reader's leaving
    // is seen without a failed write, and the quiet second line must not run on regardless.
    std::fs::write(
        &script,
        format!("exec(test, \"seq 1 200000\") | pretty\nexec(test, \"sleep 60; echo {marker}\") | pretty\n"),
    )
    .unwrap();
    let mut live = tests::spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--no-hub",
        "--no-build",
        "--script",
        script.to_str().unwrap(),
    ]);
    // As `remote live --script FILE | head -c 5`: a few bytes are read, then the pipe is closed.
    let mut stdout = live.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut first = [0u8; 5];
        stdout.read_exact(&mut first).is_ok()
    });
    let out = finish(live, PATIENCE);
    assert!(reading.join().unwrap(), "remote printed nothing: {}", out.stderr);
    assert_eq!(out.code, Some(141), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stderr.contains("ended (standard output was closed) as `quit` would"), "{}", out.stderr);
    assert!(all_gone(&marker), "the line after the reader left runs on a host");
}

#[test]
fn exec_stream_whose_reader_leaves_kills_the_commands() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-stream-unread-{}", std::process::id());
    let script = format!("for i in $(seq 1 300); do echo {marker} $i; sleep 0.1; done");
    let mut exec = tests::spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "--stream",
        "test",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    // As `remote exec --stream … | head -1`: one line is read, then the pipe is closed while the hosts go on.
    let stdout = exec.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        first
    });
    let out = finish(exec, Duration::from_secs(15));
    let first = reading.join().unwrap();
    assert!(first.contains(&marker), "the first line is not the command's: {first:?}\n{}", out.stderr);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(all_gone(&marker), "the command still runs on a host after its reader left");
}

#[test]
fn a_piped_line_that_is_not_utf8_is_refused_and_the_next_runs() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let mut live =
        tests::spawn_remote(&["--inventory", inventory.to_str().unwrap(), "live", "--no-hub", "--no-build"]);
    live.stdin.take().unwrap().write_all(b"hosts\n\xff bad\nhosts test\n").unwrap();
    let out = finish(live, PATIENCE);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("stdin line 2: the line is not valid UTF-8 (a bad byte at column 1); it was not run"),
        "{}",
        out.stderr
    );
    let entries = hosts.sandbox.host_entries();
    let listing = out.stdout.find(&format!("test  (2 hosts) {} {}", entries[0], entries[1]));
    assert!(listing.is_some(), "the first `hosts` did not run: {}", out.stdout);
    for entry in &entries {
        let line = out.stdout.find(&format!("{entry}  {}@", hosts.sandbox.login_user()));
        assert!(line > listing, "`hosts test` after the bad line did not list {entry}: {}", out.stdout);
    }
}

#[test]
fn a_script_line_that_is_not_utf8_stops_the_script_there() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let script = hosts.dir().join("bad-bytes.remote");
    std::fs::write(&script, b"hosts\nhosts \xfftest\nhosts test\n").unwrap();
    let out = tests::remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--no-hub",
        "--no-build",
        "--script",
        script.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{}:2: the line is not valid UTF-8", script.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&format!("stopped at {}:2", script.display())), "{}", out.stderr);
    assert!(out.stdout.contains("test  (2 hosts)"), "the first line did not run: {}", out.stdout);
    for entry in hosts.sandbox.host_entries() {
        assert!(
            !out.stdout.contains(&format!("{entry}  {}@", hosts.sandbox.login_user())),
            "line 3 ran: {}",
            out.stdout
        );
    }
}

/// `remote` on a terminal of its own, as a person runs it: a pseudo-terminal whose slave end is the process's
/// stdin, stdout, stderr and controlling terminal. The test keeps a slave descriptor too, to read the
/// terminal's settings.
struct OnTerminal {
    child: Child,
    /// The master end, where the test types.
    master: std::fs::File,
    slave: OwnedFd,
    /// Everything `remote` has written to the terminal so far.
    output: Arc<Mutex<Vec<u8>>>,
}

impl OnTerminal {
    fn spawn(args: &[&str]) -> Self {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize { ws_row: 24, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: openpty writes the two descriptors it opens; a null name and null settings are allowed (the
        // kernel's defaults: echo and line editing on).
        let opened =
            unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty has just opened both, and nothing else owns them.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        for fd in [&master, &slave] {
            // Only the copies made for stdin, stdout and stderr reach `remote`: a master it held would keep
            // the terminal open after the test is done with it.
            // SAFETY: fcntl on a descriptor this test owns.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let mut command = remote_command(args);
        let end = || Stdio::from(slave.try_clone().expect("copy the terminal's descriptor"));
        // A terminal the line editor knows, whatever the one running the tests is (or none).
        command.env("TERM", "xterm").stdin(end()).stdout(end()).stderr(end());
        // SAFETY: between fork and exec only async-signal-safe calls: a new session, then the terminal on
        // stdin made its controlling terminal, as a terminal emulator starts a shell.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start remote on a terminal");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = std::fs::File::from(master.try_clone().expect("copy the master"));
        let sink = output.clone();
        // Read all along, as a terminal does, so that `remote` never waits to write; reading ends (EIO) once
        // no slave end is open, the test's own being the last.
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        });
        Self { child, master: std::fs::File::from(master), slave, output }
    }

    /// What the terminal has shown so far.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal shows `what`; whether it did.
    fn shows(&self, what: &str) -> bool {
        wait_until(PATIENCE, || self.text().contains(what))
    }

    /// Types `keys`, all in one write, as a paste or a fast typist delivers them.
    fn type_keys(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("type on the terminal");
    }

    /// The terminal's settings now.
    fn settings(&self) -> libc::termios {
        // SAFETY: tcgetattr fills the zeroed struct it is given; it is used only when that succeeded.
        unsafe {
            let mut termios: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(self.slave.as_raw_fd(), &mut termios), 0, "tcgetattr");
            termios
        }
    }

    /// Waits at most `limit` for `remote` to end, and returns its exit code; fails the test with what the
    /// terminal showed when it runs longer.
    fn finish(&mut self, limit: Duration) -> Option<i32> {
        match wait_within(&mut self.child, limit) {
            Some(status) => status.code(),
            None => panic!("remote did not end within {limit:?}; the terminal showed:\n{}", self.text()),
        }
    }
}

impl Drop for OnTerminal {
    /// A test that fails halfway does not leave its `remote` behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether the terminal echoes and edits lines itself, as a shell expects to find it.
fn cooked(settings: &libc::termios) -> bool {
    settings.c_lflag & libc::ECHO != 0 && settings.c_lflag & libc::ICANON != 0
}

#[test]
fn lines_typed_ahead_at_the_prompt_all_run() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let mut terminal =
        OnTerminal::spawn(&["--inventory", inventory.to_str().unwrap(), "live", "--no-hub", "--no-build"]);
    assert!(terminal.shows("remote> "), "no prompt: {}", terminal.text());
    // Both lines arrive in one read, as when typed before the prompt came back or pasted.
    terminal.type_keys(b"hosts\rhosts test\r");
    let entries = hosts.sandbox.host_entries();
    let listing = format!("test  (2 hosts) {} {}", entries[0], entries[1]);
    let host_lines: Vec<String> =
        entries.iter().map(|entry| format!("{entry}  {}@", hosts.sandbox.login_user())).collect();
    let both_ran = wait_until(PATIENCE, || {
        let text = terminal.text();
        text.contains(&listing) && host_lines.iter().all(|line| text.contains(line))
    });
    assert!(both_ran, "a line typed ahead was lost: {}", terminal.text());
    terminal.type_keys(b"quit\r");
    assert_eq!(terminal.finish(PATIENCE), Some(0), "{}", terminal.text());
}

#[test]
fn sighup_at_the_prompt_kills_the_running_commands_and_ends_it() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let marker = format!("remote-terminal-hangup-{}", std::process::id());
    let mut terminal =
        OnTerminal::spawn(&["--inventory", inventory.to_str().unwrap(), "live", "--no-hub", "--no-build"]);
    assert!(terminal.shows("remote> "), "no prompt: {}", terminal.text());
    terminal.type_keys(format!("exec(test, \"sleep 60; echo {marker}\") | pretty\r").as_bytes());
    wait_started(&marker, 2);
    // What the kernel sends when the terminal's window is closed.
    send(terminal.child.id(), libc::SIGHUP);
    assert_eq!(terminal.finish(PATIENCE), Some(129), "{}", terminal.text());
    let cancelled = "cancelled (SIGHUP, the terminal was closed); the remote command was killed";
    assert!(terminal.shows(cancelled), "{}", terminal.text());
    assert!(all_gone(&marker), "the cancelled command still runs on a host");
}

#[test]
fn sigterm_at_an_idle_prompt_gives_the_terminal_back_as_it_was() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let mut terminal =
        OnTerminal::spawn(&["--inventory", inventory.to_str().unwrap(), "live", "--no-hub", "--no-build"]);
    assert!(terminal.shows("remote> "), "no prompt: {}", terminal.text());
    // The line editor reads key by key with its own echo: the terminal's echo and line editing are off while
    // the prompt waits, so the test checks something that had changed.
    assert!(!cooked(&terminal.settings()), "the prompt did not put the terminal in raw mode");
    send(terminal.child.id(), libc::SIGTERM);
    assert_eq!(terminal.finish(PATIENCE), Some(143), "{}", terminal.text());
    assert!(
        cooked(&terminal.settings()),
        "the terminal was left without echo or line editing: {}",
        terminal.text()
    );
}
