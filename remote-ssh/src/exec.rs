//! Runs one command over one open connection: captures output up to a limit, and on timeout kills the remote
//! process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use russh::client;
use russh::{Channel, ChannelMsg, Sig};

use remote_core::{CancelCause, HostError, HostSpec, Kill, Output, StopReason, Stopped};

use crate::connection::{Caches, ConnectOptions, Connection};

#[cfg(test)]
mod fuzz;
mod kill;

/// The moment a whole run must be over, and the limit it came from (for messages).
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    /// When it passes.
    pub at: tokio::time::Instant,
    /// How long the run was given.
    pub after: Duration,
}

impl Deadline {
    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Self {
        Deadline { at: tokio::time::Instant::now() + after, after }
    }
}

/// Resolves once `deadline` has passed; never, when there is none.
pub(crate) async fn passed(deadline: Option<Deadline>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.at).await,
        None => std::future::pending::<()>().await,
    }
}

/// Bounds on one command.
#[derive(Clone, Debug)]
pub struct CommandLimits {
    /// Wall-clock limit from the moment the channel is open.
    pub timeout: Duration,
    /// Bytes kept per stream (stdout, stderr); the rest is read and discarded so the command can finish.
    pub max_output: usize,
    /// Bytes all the commands of one fan-out may still keep between them.
    pub budget: Arc<OutputBudget>,
    /// When the whole run must be over, if it has a deadline.
    pub deadline: Option<Deadline>,
    /// Where the command's output goes as it arrives (`--stream`), besides being kept.
    pub echo: Option<Echo>,
}

/// Which of a command's streams a piece of output came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Called with every piece of a command's output as it arrives: the host (as the inventory names it), the
/// stream, the bytes. Pieces are not split at lines; whole lines are the receiver's work.
pub type OnOutput = Arc<dyn Fn(&str, Stream, &[u8]) + Send + Sync>;

/// An [`OnOutput`] bound to one host.
#[derive(Clone)]
pub struct Echo {
    /// The host the output is from.
    pub host: Arc<str>,
    /// Where it goes.
    pub sink: OnOutput,
}

impl std::fmt::Debug for Echo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Echo({})", self.host)
    }
}

impl Echo {
    fn send(echo: &Option<Echo>, stream: Stream, data: &[u8]) {
        if let Some(echo) = echo
            && !data.is_empty()
        {
            (echo.sink)(&echo.host, stream, data);
        }
    }
}

/// What a whole fan-out may keep of its hosts' output: without it, a thousand hosts each printing up to the
/// per-host cap could take the controller's memory.
#[derive(Debug)]
pub struct OutputBudget {
    remaining: AtomicUsize,
}

impl OutputBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Arc<Self> {
        Arc::new(Self { remaining: AtomicUsize::new(bytes) })
    }

    /// Takes up to `wanted` bytes and says how many were granted.
    fn take(&self, wanted: usize) -> usize {
        let mut granted = 0;
        let _ = self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            granted = left.min(wanted);
            Some(left - granted)
        });
        granted
    }
}

/// Set to `Some(cause)` to stop every command that watches it (e.g. on Ctrl-C); they are killed like
/// timed-out ones, and their results say the cause.
pub type Cancel = tokio::sync::watch::Receiver<Option<CancelCause>>;

/// Resolves with the cause once `cancel` is set; never, when there is none or its sender is gone.
pub async fn cancelled(cancel: Option<&Cancel>) -> CancelCause {
    if let Some(cancel) = cancel {
        let mut cancel = cancel.clone();
        if let Ok(cause) = cancel.wait_for(Option::is_some).await
            && let Some(cause) = *cause
        {
            return cause;
        }
    }
    std::future::pending().await
}

/// How to reach the host again for a kill when its connection has no channel to spare (every session the
/// server allows, `MaxSessions`, may be held by the commands that are to be killed).
pub struct KillRoute<'a> {
    /// The host.
    pub spec: &'a HostSpec,
    /// Keys and known_hosts, as for the connection itself.
    pub caches: &'a Caches,
    /// Connect timeout and keepalive.
    pub options: &'a ConnectOptions,
}

/// Runs `command` (a complete `sh` command line) in `channel`, a fresh session channel of `connection`.
///
/// A command stopped by its timeout or by `cancel` still gives an `Output`: what it printed until then, and
/// in `stopped` whether the kill of its process group was confirmed on the host.
pub async fn run_command(
    connection: &Connection,
    mut channel: Channel<client::Msg>,
    command: &str,
    limits: CommandLimits,
    cancel: Option<&Cancel>,
    route: KillRoute<'_>,
    elevation: Option<Elevation<'_>>,
) -> Result<Output, HostError> {
    let disconnected = |e: russh::Error| HostError::Disconnected { cause: e.to_string() };
    // A prompt no command could print by chance: the password is written when, and only when, it appears.
    let prompt =
        elevation.as_ref().and_then(|e| e.password).map(|_| format!("[remote-sudo-{:016x}] ", nonce()));
    let token = nonce();
    let line = match &elevation {
        None => supervised(command, token),
        Some(_) => supervised_as_root(command, prompt.as_deref(), token),
    };
    // Nothing has run until the server accepts the request, so a deadline passing before that is a host not
    // started, not a command to kill.
    tokio::select! {
        sent = channel.exec(true, line) => sent.map_err(disconnected)?,
        () = passed(limits.deadline) => {
            return Err(HostError::DeadlinePassed { after: limits.deadline.map(|d| d.after).unwrap_or_default() });
        }
    }
    let mut password = elevation.as_ref().and_then(|e| e.password);

    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut capture = Capture { output: Output::default(), stdout: StdoutReader::new(token), limits };
    let stop = loop {
        tokio::select! {
            message = channel.wait() => match message {
                Some(ChannelMsg::Failure) => {
                    return Err(HostError::ChannelRefused { cause: "the exec request was denied".into() });
                }
                // sudo's prompt: taken out of stderr, and answered once; a second prompt (a wrong password)
                // gets the end of input, and sudo gives up.
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) if prompt.is_some() => {
                    let (rest, prompted) = take_prompt(&data, prompt.as_deref().unwrap_or_default());
                    if prompted && let Some(secret) = password.take() {
                        let mut line = zeroize::Zeroizing::new(Vec::with_capacity(secret.expose().len() + 1));
                        line.extend_from_slice(secret.expose());
                        line.push(b'\n');
                        channel.data(&line[..]).await.map_err(disconnected)?;
                        channel.eof().await.map_err(disconnected)?;
                    }
                    capture.absorb(ChannelMsg::ExtendedData { data: rest.into(), ext: 1 });
                }
                Some(message) => capture.absorb(message),
                None => break None,
            },
            () = tokio::time::sleep_until(deadline) => break Some(StopReason::Timeout { after: capture.limits.timeout }),
            cause = cancelled(cancel) => break Some(StopReason::Cancelled(cause)),
            () = passed(capture.limits.deadline) => {
                break Some(StopReason::Deadline { after: capture.limits.deadline.map(|d| d.after).unwrap_or_default() })
            }
        }
    };
    if let Some(reason) = stop {
        let kill = match await_process_group(&mut channel, &mut capture).await {
            None if capture.ended() => Kill::Ended,
            group => kill::kill(connection, channel, group, &route, elevation.is_some()).await,
        };
        let mut output = capture.finish();
        output.stopped = Some(Stopped { reason, kill });
        return Ok(output);
    }
    if !capture.ended() {
        return Err(if connection.is_closed() {
            HostError::Disconnected { cause: "the connection closed while the command ran".into() }
        } else {
            HostError::NoExitStatus
        });
    }
    // The process-group line is the first thing the command line does: without it, the command never started.
    let started = !capture.stdout.pending();
    let output = capture.finish();
    if !started {
        let said =
            String::from_utf8_lossy(if output.stdout.is_empty() { &output.stderr } else { &output.stdout });
        let said: String = said.trim().chars().take(200).collect();
        return Err(HostError::NotRun { status: output.exit, said });
    }
    let Some(elevation) = elevation else { return Ok(output) };
    match sudo_refusal(&output) {
        Some(refusal) => {
            if refusal == SudoRefusal::WrongPassword
                && let Some(secret) = elevation.password
            {
                secret.refuse();
            }
            Err(HostError::Become { cause: refusal.message(elevation.withheld) })
        }
        None => Ok(output),
    }
}

/// How a command runs as root through sudo.
#[derive(Clone, Copy)]
pub struct Elevation<'a> {
    /// The password sudo asks for, when one was given (`REMOTE_BECOME_PASSWORD`, `--ask-become-pass`):
    /// written only when sudo prompts for it, so a host that needs none never receives it.
    pub password: Option<&'a crate::auth::Secret>,
    /// Why a password given is not offered to this host, when it is not.
    pub withheld: Option<&'static str>,
}

/// `command` run as root through sudo, reporting the login shell's process group first as [`supervised`]
/// does.
///
/// sudo is the system's (`command -p`: the default PATH, no shell function), its messages in English
/// (`LC_ALL=C`, which the root shell takes off again) so that [`sudo_refusal`] can read them. With a
/// password, sudo reads it from standard input after printing `prompt`; without, `-n` fails at once where one
/// is needed. The command itself always reads /dev/null.
pub fn supervised_as_root(command: &str, prompt: Option<&str>, token: u64) -> String {
    let inner = remote_core::quote::quote(&format!("unset LC_ALL; exec </dev/null; {command}")).into_owned();
    let present = "command -p -v sudo >/dev/null 2>&1 || { echo 'remote: sudo is not installed on this host' >&2; exit 127; }";
    match prompt {
        Some(prompt) => format!(
            "printf 'remote-pgid-{token:016x}:%s\\n' \"$$\"; {present}; LC_ALL=C command -p sudo -S -p {} -- sh -c {inner}",
            remote_core::quote::quote(prompt)
        ),
        None => {
            format!(
                "printf 'remote-pgid-{token:016x}:%s\\n' \"$$\"; exec </dev/null; {present}; LC_ALL=C command -p sudo -n -- sh -c {inner}"
            )
        }
    }
}

/// Why sudo would not run a command as root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SudoRefusal {
    /// It needs a password and none was given (or it was withheld).
    NoPassword,
    /// It refused the password given.
    WrongPassword,
    /// The login user has no sudoers rule that allows it.
    NoRule,
    /// There is no sudo on the host.
    NotInstalled,
    /// sudo insists on a terminal.
    Terminal,
}

impl SudoRefusal {
    /// What to tell the user, and how to go on.
    pub fn message(self, withheld: Option<&str>) -> String {
        match (self, withheld) {
            (SudoRefusal::NoPassword, Some(why)) => format!("sudo needs a password on this host, and {why}"),
            (SudoRefusal::NoPassword, None) => "sudo needs a password on this host and none was given; set \
                                                REMOTE_BECOME_PASSWORD, or pass --ask-become-pass to be asked once"
                .into(),
            (SudoRefusal::WrongPassword, _) => "sudo refused the password given (REMOTE_BECOME_PASSWORD or \
                                                --ask-become-pass); it is not offered to other hosts again"
                .into(),
            (SudoRefusal::NoRule, _) => "sudo: the login user may not run commands as root here; become needs a sudoers \
                                         rule that lets it run `/bin/sh` (ALL) as root"
                .into(),
            (SudoRefusal::NotInstalled, _) => "sudo is not installed on this host; install it, or log in as root".into(),
            (SudoRefusal::Terminal, _) => "sudo on this host insists on a terminal (`Defaults requiretty`); allow this \
                                           user without one"
                .into(),
        }
    }
}

/// What sudo itself said when it would not run the command; `None` when the command ran (whatever its own
/// exit status). sudo's words are English (`LC_ALL=C`), and sudo exits 1 when it refuses.
pub fn sudo_refusal(output: &Output) -> Option<SudoRefusal> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.exit == Some(127)
        && stderr.lines().any(|line| line == "remote: sudo is not installed on this host")
    {
        return Some(SudoRefusal::NotInstalled);
    }
    if output.exit != Some(1) {
        return None;
    }
    let said = |needle: &str| stderr.lines().any(|line| line.starts_with("sudo") && line.contains(needle));
    // These lines start with the user's name, not with `sudo:`.
    let anywhere = |needle: &str| stderr.lines().any(|line| line.contains(needle));
    if said("a password is required") {
        Some(SudoRefusal::NoPassword)
    } else if said("incorrect password")
        || said("no password was provided")
        || stderr.lines().any(|l| l.trim() == "Sorry, try again.")
    {
        Some(SudoRefusal::WrongPassword)
    } else if anywhere("not in the sudoers file")
        || anywhere("is not allowed to execute")
        || anywhere("may not run sudo")
    {
        Some(SudoRefusal::NoRule)
    } else if said("must have a tty") {
        Some(SudoRefusal::Terminal)
    } else {
        None
    }
}

/// What a command has sent so far, kept within its limits.
struct Capture {
    output: Output,
    stdout: StdoutReader,
    limits: CommandLimits,
}

impl Capture {
    /// Takes in one message of the command's channel: output, exit status or signal.
    fn absorb(&mut self, message: ChannelMsg) {
        let output = &mut self.output;
        match message {
            ChannelMsg::Data { data } => {
                let data = self.stdout.strip_preamble(&data);
                Echo::send(&self.limits.echo, Stream::Stdout, &data);
                keep(&mut output.stdout, &data, &self.limits, &mut output.truncated);
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                Echo::send(&self.limits.echo, Stream::Stderr, &data);
                keep(&mut output.stderr, &data, &self.limits, &mut output.truncated);
            }
            ChannelMsg::ExitStatus { exit_status } => output.exit = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => output.signal = Some(signal_text(&signal_name)),
            _ => {}
        }
    }

    /// The command reported how it ended (an exit status or a signal).
    fn ended(&self) -> bool {
        self.output.exit.is_some() || self.output.signal.is_some()
    }

    /// The output, with a preamble still pending at the end counted as ordinary output after all.
    fn finish(mut self) -> Output {
        let rest = self.stdout.finish();
        Echo::send(&self.limits.echo, Stream::Stdout, &rest);
        keep(&mut self.output.stdout, &rest, &self.limits, &mut self.output.truncated);
        self.output
    }
}

/// The command's process group, reading on for it when the command was stopped before it reported it (a login
/// shell may spend a while in its rc files first); `None` when the channel ends or nothing comes in time.
async fn await_process_group(channel: &mut Channel<client::Msg>, capture: &mut Capture) -> Option<u32> {
    let deadline = tokio::time::Instant::now() + KILL_CONFIRM;
    while capture.stdout.process_group.is_none() && capture.stdout.pending() {
        let message = tokio::time::timeout_at(deadline, channel.wait()).await.ok()??;
        capture.absorb(message);
    }
    capture.stdout.process_group
}

/// The line every command prints first: `remote-pgid-TOKEN:GROUP`, the remote shell's process group, with a
/// token of the command's own so that nothing a login prints (a banner, an rc file's echo) can pass for it.
fn pgid_mark(token: u64) -> Vec<u8> {
    format!("remote-pgid-{token:016x}:").into_bytes()
}

/// Digits a process group id can have (Linux pids stop at 2^22; 10 digits cover any 32-bit id).
const MAX_PGID_DIGITS: usize = 10;

/// How much of stdout is searched for the process-group line: a login shell's rc files may print before it,
/// but not without bound (past this, the command's output is taken as it is, and the group as not reported).
const PREAMBLE_SEARCH: usize = 64 << 10;

/// Prefixes `command` so the remote shell first reports its process group (after the `token` of
/// `pgid_mark`), then runs the command with stdin on `/dev/null` (commands that read stdin finish instead
/// of hanging).
///
/// sshd makes the session's shell a session and process-group leader, so `$$` names the group and the
/// session of everything the command starts. On timeout a second channel stops and kills what is in them
/// and looks whether anything is left (`kill::SWEEP`): the SSH `signal` request alone is refused by sshd
/// for root logins (no privilege separation after login) and cannot say what is left, and merely closing
/// the channel would leave the process running and holding one of the server's `MaxSessions`.
/// Both added words are shell builtins: the server forks nothing extra.
pub fn supervised(command: &str, token: u64) -> String {
    format!("printf 'remote-pgid-{token:016x}:%s\\n' \"$$\"; exec </dev/null; {command}")
}

/// Takes the process-group line out of stdout, wherever what the login printed first puts it.
struct StdoutReader {
    /// The line's start, token included.
    mark: Vec<u8>,
    /// Bytes that may still hold the line (or its start); `None` once the line is found or given up on.
    held: Option<Vec<u8>>,
    /// Bytes searched so far.
    searched: usize,
    /// The remote shell's process group, once reported.
    process_group: Option<u32>,
}

impl StdoutReader {
    fn new(token: u64) -> Self {
        StdoutReader { mark: pgid_mark(token), held: Some(Vec::new()), searched: 0, process_group: None }
    }

    /// The part of `data` that is output (the command's, or what its login printed before it).
    fn strip_preamble(&mut self, data: &[u8]) -> Vec<u8> {
        let Some(held) = self.held.as_mut() else { return data.to_vec() };
        held.extend_from_slice(data);
        self.searched += data.len();
        if let Some(at) = held.windows(self.mark.len()).position(|window| window == self.mark) {
            let digits = &held[at + self.mark.len()..];
            match digits.iter().position(|b| *b == b'\n') {
                Some(newline) if newline <= MAX_PGID_DIGITS => {
                    // Groups 0 and 1 would make `kill -- -N` mean "our own group" or "every process we may
                    // signal".
                    self.process_group = std::str::from_utf8(&digits[..newline])
                        .ok()
                        .and_then(|p| p.parse().ok())
                        .filter(|group| *group > 1);
                    let rest = digits[newline + 1..].to_vec();
                    let mut out = held[..at].to_vec();
                    out.extend_from_slice(&rest);
                    self.held = None;
                    return out;
                }
                // Longer than a process group number could make it: not our line after all.
                Some(_) => return self.held.take().unwrap_or_default(),
                None if digits.len() > MAX_PGID_DIGITS => return self.held.take().unwrap_or_default(),
                None => return Vec::new(),
            }
        }
        if self.searched > PREAMBLE_SEARCH {
            return self.held.take().unwrap_or_default();
        }
        // What cannot be the start of the line is output now, so that a login's banner streams as it comes.
        let keep = held.len().min(self.mark.len() - 1);
        let out = held[..held.len() - keep].to_vec();
        held.drain(..held.len() - keep);
        out
    }

    /// True while the process-group line may still come.
    fn pending(&self) -> bool {
        self.held.is_some()
    }

    fn finish(&mut self) -> Vec<u8> {
        self.held.take().unwrap_or_default()
    }
}

/// `data` without the first `prompt` in it, and whether there was one.
fn take_prompt(data: &[u8], prompt: &str) -> (Vec<u8>, bool) {
    let prompt = prompt.as_bytes();
    match data.windows(prompt.len().max(1)).position(|window| window == prompt) {
        Some(at) => ([&data[..at], &data[at + prompt.len()..]].concat(), true),
        None => (data.to_vec(), false),
    }
}

/// 64 bits no command can guess, for sudo's prompt.
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    hasher.finish()
}

/// How long the kill of a stopped command is waited for before it is reported as unconfirmed.
const KILL_CONFIRM: Duration = Duration::from_secs(5);

/// Appends what the per-stream cap (`limits.max_output`) and the fan-out's budget leave room for; whatever
/// does not fit is dropped (the channel is still read to the end, so the command can finish) and `truncated`
/// set.
fn keep(buffer: &mut Vec<u8>, data: &[u8], limits: &CommandLimits, truncated: &mut bool) {
    let room = limits.max_output.saturating_sub(buffer.len()).min(data.len());
    let granted = if room == 0 { 0 } else { limits.budget.take(room) };
    if granted < data.len() {
        *truncated = true;
    }
    buffer.extend_from_slice(&data[..granted]);
}

fn signal_text(signal: &Sig) -> String {
    match signal {
        Sig::Custom(name) => name.clone(),
        known => format!("{known:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token of the tests' process-group lines.
    const TOKEN: u64 = 0xfeed;

    fn strip(chunks: &[&[u8]]) -> (Vec<u8>, Option<u32>) {
        let mut reader = StdoutReader::new(TOKEN);
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(reader.strip_preamble(chunk));
        }
        out.extend(reader.finish());
        (out, reader.process_group)
    }

    #[test]
    fn sudo_refusals_in_words() {
        use SudoRefusal::*;
        let check = |exit: u32, stderr: &str, expected: Option<SudoRefusal>| {
            let output = Output { exit: Some(exit), stderr: stderr.as_bytes().to_vec(), ..Output::default() };
            assert_eq!(sudo_refusal(&output), expected, "{stderr}");
        };
        check(1, "sudo: a password is required\n", Some(NoPassword));
        check(1, "Sorry, try again.\nsudo: 1 incorrect password attempt\n", Some(WrongPassword));
        check(1, "sudo: no password was provided\nsudo: 1 incorrect password attempt\n", Some(WrongPassword));
        check(1, "deploy is not in the sudoers file.\n", Some(NoRule));
        check(
            1,
            "Sorry, user deploy is not allowed to execute '/bin/sh -c x' as root on web-1.\n",
            Some(NoRule),
        );
        check(1, "sudo: sorry, you must have a tty to run sudo\n", Some(Terminal));
        check(127, "remote: sudo is not installed on this host\n", Some(NotInstalled));
        // The command's own failures are its own, `visudo` included.
        check(127, "sh: 1: visudo: not found\n", None);
        check(1, "grep: x: No such file or directory\n", None);
        check(2, "sudo: a password is required\n", None);
        check(0, "", None);
        assert_eq!(take_prompt(b"x[p] y", "[p] "), (b"xy".to_vec(), true));
        assert_eq!(take_prompt(b"Sorry, try again.\n", "[p] "), (b"Sorry, try again.\n".to_vec(), false));
    }

    #[test]
    fn the_process_group_line_is_taken_off_stdout_wherever_the_login_put_it() {
        let mark = "remote-pgid-000000000000feed:";
        let line = |group: &str| format!("{mark}{group}\n");
        let check = |chunks: &[&str], expected: &str, group: Option<u32>| {
            let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
            assert_eq!(strip(&chunks), (expected.as_bytes().to_vec(), group), "{chunks:?}");
        };
        check(&[&format!("{}hello\n", line("42"))], "hello\n", Some(42));
        check(&["remote-", "pgid-000000000000feed:7", "\nhi", " there"], "hi there", Some(7));
        check(&["something else\n"], "something else\n", None);
        check(&["remote-pg"], "remote-pg", None);
        check(&[&format!("{}x", line("1"))], "x", None);
        // A banner or an rc file's echo before the line stays output; the line never is.
        check(&[&format!("WELCOME\n{}hi\n", line("17639"))], "WELCOME\nhi\n", Some(17639));
        check(
            &["WELCOME to ", "the host\nremote-pgid-0000", "00000000feed:99", "\nhi\n"],
            "WELCOME to the host\nhi\n",
            Some(99),
        );
        // Another token (an old command's, or one a banner prints) is not ours.
        check(&["remote-pgid-00000000000beef0:5\nhi\n"], "remote-pgid-00000000000beef0:5\nhi\n", None);
        let endless = format!("{mark}{}", "9".repeat(40));
        check(&[&endless, "\n"], &format!("{endless}\n"), None);
        check(&[], "", None);
    }

    #[test]
    fn a_login_that_prints_without_end_is_not_searched_without_end() {
        let mut reader = StdoutReader::new(TOKEN);
        let chunk = vec![b'x'; 16 << 10];
        let mut out = 0;
        for _ in 0..8 {
            out += reader.strip_preamble(&chunk).len();
        }
        assert!(!reader.pending(), "given up after {PREAMBLE_SEARCH} bytes");
        assert_eq!(out + reader.finish().len(), 8 * chunk.len());
        assert_eq!(reader.strip_preamble(&pgid_mark(TOKEN)), pgid_mark(TOKEN), "later output is output");
    }
}
