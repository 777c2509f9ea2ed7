//! What running something on hosts produced, as plain data: per-host outcomes, the report of a fan-out, its
//! JSON form.
//!
//! Nothing here knows how hosts are reached; [`crate::run::Run`] pairs a [`Report`] with the host set it
//! belongs to.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::data::{Data, FromData};

/// What a command that ran produced. Output is kept byte for byte; text views are lossy UTF-8.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Exit status, or `None` when the process ended by a signal.
    pub exit: Option<u32>,
    /// Name of the signal that ended the process (e.g. `KILL`), if any.
    pub signal: Option<String>,
    /// Everything the command wrote to stdout (up to the capture limit).
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr (up to the capture limit).
    pub stderr: Vec<u8>,
    /// True when output went past the capture limit and the rest was discarded.
    pub truncated: bool,
    /// Set when the command was stopped before it ended (timeout, Ctrl-C); the output is what came before.
    pub stopped: Option<Stopped>,
    /// What the output means, for operations that read typed values (metrics, facts); see [`crate::data`].
    pub data: Option<Data>,
    /// For operations that change hosts: whether this host was changed (`false`: it was as asked already).
    pub changed: Option<bool>,
    /// Set by a step that judged this host failed on what it found (`fail("disk over 85%")`): why. The output
    /// is kept.
    pub failed: Option<String>,
    /// Tries this output took beyond the first (`--retries`): 0 when the first one gave it.
    pub retries: u32,
}

/// A command that had started and was stopped before it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Why it was stopped.
    pub reason: StopReason,
    /// Whether it is verified gone.
    pub kill: Kill,
}

/// Why a running command was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// It ran past its time limit.
    Timeout {
        /// The limit.
        after: Duration,
    },
    /// The run was cancelled, by the user or by the end of the process; the cause says which.
    Cancelled(CancelCause),
    /// The whole run's `--deadline` passed while it ran.
    Deadline {
        /// The deadline, counted from the start of the run.
        after: Duration,
    },
}

/// What cancelled a run: said in its results, so that a command stopped by `systemctl stop` never reads as
/// stopped by a Ctrl-C nobody pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelCause {
    /// Ctrl-C (SIGINT).
    CtrlC,
    /// SIGTERM: `kill`, `systemctl stop`, a shutdown.
    Terminate,
    /// SIGHUP: the terminal was closed.
    HangUp,
    /// Standard output was closed by its reader (`| head`), so nobody is left to read the results.
    StdoutClosed,
    /// `stop` or `quit` at the prompt halted the scheduled jobs.
    JobsHalted,
}

impl CancelCause {
    /// The exit code of a process that ends because of this cause without finishing its work, as shells
    /// report a process ended by the signal (128 + its number); `None` when the cause is no signal.
    pub fn exit_code(self) -> Option<i32> {
        match self {
            CancelCause::CtrlC => Some(130),
            CancelCause::Terminate => Some(143),
            CancelCause::HangUp => Some(129),
            CancelCause::StdoutClosed => Some(141),
            CancelCause::JobsHalted => None,
        }
    }
}

impl fmt::Display for CancelCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelCause::CtrlC => "Ctrl-C",
            CancelCause::Terminate => "SIGTERM",
            CancelCause::HangUp => "SIGHUP, the terminal was closed",
            CancelCause::StdoutClosed => "standard output was closed",
            CancelCause::JobsHalted => "the jobs were halted",
        })
    }
}

/// What became of a stopped command on its host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kill {
    /// It was killed on the host, and a look there found nothing left of it: its process group and session,
    /// and what they had started.
    Killed,
    /// It ended by itself (its exit status came) before it could be killed.
    Ended,
    /// The kill could not be done, or not looked after, or something of the command was still there after
    /// it: the command may still be running.
    Unconfirmed {
        /// The remote process group, when the command had reported it.
        process_group: Option<u32>,
        /// Why the kill is not confirmed.
        why: String,
    },
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            StopReason::Timeout { after } => {
                write!(f, "timed out after {}", humantime::format_duration(after))?
            }
            StopReason::Cancelled(cause) => write!(f, "cancelled ({cause})")?,
            StopReason::Deadline { after } => {
                write!(f, "the run's deadline ({}) passed", humantime::format_duration(after))?
            }
        }
        match &self.kill {
            Kill::Killed => f.write_str("; the remote command was killed"),
            Kill::Ended => f.write_str("; the remote command ended by itself before it could be killed"),
            Kill::Unconfirmed { process_group: Some(group), why } => {
                write!(f, "; the remote command may still be running (process group {group}): {why}")
            }
            Kill::Unconfirmed { process_group: None, why } => {
                write!(f, "; the remote command may still be running: {why}")
            }
        }
    }
}

impl Output {
    /// The command exited with status 0, was not stopped, and no step judged the host failed.
    pub fn success(&self) -> bool {
        self.exit == Some(0) && self.stopped.is_none() && self.failed.is_none()
    }
}

/// Why a host has no (successful) output; one variant per step that can fail, each with its cause.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The name did not resolve to an address.
    #[error("cannot resolve address: {cause}")]
    Resolve { cause: String },
    /// Nothing listens on the port.
    #[error("connection refused (is sshd running on port {port}?)")]
    ConnectRefused { port: u16 },
    /// TCP connect, key exchange or authentication took too long.
    #[error("connect timed out after {}", humantime::format_duration(*after))]
    ConnectTimeout { after: Duration },
    /// Any other failure to reach the server.
    #[error("cannot connect: {cause}")]
    Connect { cause: String },
    /// The jump host (`ProxyJump`) this host is reached through could not be used.
    #[error("via jump host {jump}: {cause}")]
    Jump { jump: String, cause: String },
    /// The server's key is not in `known_hosts` and the policy is strict.
    #[error(
        "host key unknown: {known_hosts_name} presented {algorithm} key {fingerprint}, which neither {} nor the global \
         known_hosts files list; compare that fingerprint with the host's own (`ssh-keygen -lf \
         /etc/ssh/ssh_host_ed25519_key.pub` on it), then add the key to {} or set host_key_checking = \"accept-new\" \
         for this group",
        known_hosts.display(), known_hosts.display()
    )]
    HostKeyUnknown { algorithm: String, fingerprint: String, known_hosts: PathBuf, known_hosts_name: String },
    /// The server's key differs from the one recorded (or only keys of another type are recorded, which
    /// OpenSSH treats the same way): possibly a man-in-the-middle, possibly a reinstall.
    #[error(
        "host key mismatch: {known_hosts_name} presented {algorithm} key {fingerprint}, but {}:{line} records \
         {recorded_algorithm} key {recorded_fingerprint} for it. Someone may be intercepting the connection, or the \
         host was reinstalled: check the new fingerprint with the host's administrator, and only if it is right \
         remove the old entry with `ssh-keygen -R '{known_hosts_name}' -f {}` and connect again",
        known_hosts.display(), known_hosts.display()
    )]
    HostKeyMismatch {
        algorithm: String,
        fingerprint: String,
        known_hosts: PathBuf,
        line: usize,
        known_hosts_name: String,
        recorded_algorithm: String,
        recorded_fingerprint: String,
    },
    /// The server's key is marked `@revoked` in a `known_hosts` file.
    #[error(
        "host key revoked: {known_hosts_name} presented {algorithm} key {fingerprint}, which {}:{line} marks as \
         @revoked; do not connect until the host has a new key",
        known_hosts.display()
    )]
    HostKeyRevoked {
        algorithm: String,
        fingerprint: String,
        known_hosts: PathBuf,
        line: usize,
        known_hosts_name: String,
    },
    /// The host's settings say what remote cannot honour (ssh_config's `ProxyCommand`, `Match exec`, …), so
    /// it is not reached at all; the message names the setting, its file and line.
    #[error("{cause}")]
    Settings { cause: String },
    /// The `RevokedHostKeys` file ssh_config names could not be checked; `ssh` refuses the host then too.
    #[error("host key not checked against RevokedHostKeys {}: {cause}; nothing was trusted", file.display())]
    RevokedHostKeysFile { file: PathBuf, cause: String },
    /// The server's key is listed in the `RevokedHostKeys` file ssh_config names; checked whatever the
    /// policy.
    #[error(
        "host key revoked: {known_hosts_name} presented {algorithm} key {fingerprint}, which {}:{line} (RevokedHostKeys) \
         lists as revoked; do not connect until the host has a new key",
        file.display()
    )]
    HostKeyListedRevoked {
        algorithm: String,
        fingerprint: String,
        file: PathBuf,
        line: usize,
        known_hosts_name: String,
    },
    /// Only a `@cert-authority` line vouches for the host, and host certificates are not supported.
    #[error(
        "host key not verified: {}:{line} trusts a certificate authority for {known_hosts_name}, but remote does not \
         support host certificates yet; the server presented {algorithm} key {fingerprint}: if that is its key, add it \
         to {} as a plain line",
        known_hosts.display(), known_hosts.display()
    )]
    HostKeyCertificate {
        algorithm: String,
        fingerprint: String,
        known_hosts: PathBuf,
        line: usize,
        known_hosts_name: String,
    },
    /// `known_hosts` could not be read or (under accept-new) written.
    #[error("cannot use known_hosts file {}: {cause}", known_hosts.display())]
    KnownHosts { known_hosts: PathBuf, cause: String },
    /// The private key file could not be loaded.
    #[error("cannot load key {}: {cause}", path.display())]
    KeyFile { path: PathBuf, cause: String },
    /// The server refused every key we offered.
    #[error(
        "authentication failed for user `{user}` with {method}; check that its public key is in the server's authorized_keys"
    )]
    Auth { user: String, method: String },
    /// The SSH protocol failed after TCP connected (key exchange, algorithms).
    #[error("ssh handshake failed: {cause}")]
    Handshake { cause: String },
    /// The connection dropped while the command ran.
    #[error("disconnected: {cause}")]
    Disconnected { cause: String },
    /// The server would not open a session channel or run the command.
    #[error("the server refused to run the command: {cause}")]
    ChannelRefused { cause: String },
    /// The run was cancelled (Ctrl-C, a signal) while this host waited for its connection or a channel.
    #[error("not started: cancelled ({cause}) before the command could start; nothing ran on this host")]
    NotStarted { cause: CancelCause },
    /// Every try of `--retries` failed; the last one's error.
    #[error("{last} (gave up after {tries} tries)")]
    GaveUp { tries: u32, last: Box<HostError> },
    /// A rolling run (`--batch`) spent its failure budget (`--max-fail`) before this host's batch.
    #[error("not started: failure budget spent ({failed} of {hosts} failed)")]
    BudgetSpent { failed: usize, hosts: usize },
    /// The login ended before the command started: its process-group line never came. The account's shell is
    /// `/bin/false` or `nologin`, or sshd forces another command.
    #[error(
        "the host's login did not run the command: it ended {} before the command started{}; check the account's login \
         shell (/bin/false and nologin run nothing) and sshd's ForceCommand",
        match status { Some(status) => format!("with status {status}"), None => "without an exit status".to_string() },
        if said.is_empty() { String::new() } else { format!(", saying \"{said}\"") }
    )]
    NotRun { status: Option<u32>, said: String },
    /// The whole run's `--deadline` passed while this host waited for its connection or a channel, or before
    /// this step of the pipeline came to it.
    #[error(
        "not started: the run's deadline ({}) passed before the command could start; nothing ran on this host",
        humantime::format_duration(*after)
    )]
    DeadlinePassed { after: Duration },
    /// The channel closed without an exit status or signal.
    #[error("the command ended without reporting an exit status")]
    NoExitStatus,
    /// sudo would not run the command as root (`become`): no password given, a wrong one, no sudoers rule.
    #[error("{cause}")]
    Become { cause: String },
    /// An argument cannot be passed to a remote command (e.g. it holds a NUL byte); nothing was run.
    #[error("bad argument, nothing was run: {cause}")]
    BadArgument { cause: String },
    /// An operation's output could not be read as the values it promises: the host's file looks different
    /// from what `remote` knows. `line` is 1-based, 0 when no line is to blame.
    #[error("`{operation}` cannot read {file}{}: {cause}{}", line_suffix(*line), text_suffix(text))]
    Unreadable { operation: String, file: String, line: usize, text: String, cause: String },
    /// The host has nothing of what the operation reads (e.g. no temperature sensors in a VM).
    #[error("`{operation}`: {cause}")]
    Unavailable { operation: String, cause: String },
    /// A pipeline or step from `ops` failed as a whole (it panicked, or is not exported); nothing more was
    /// run.
    #[error("ops failed: {cause}")]
    Library { cause: String },
    /// A file on this machine could not be read or written (`upload`, `download`).
    #[error("local file {}: {cause}", path.display())]
    LocalFile { path: PathBuf, cause: String },
    /// The host's SFTP server could not be started or refused a request.
    #[error("sftp: {cause}")]
    Sftp { cause: String },
    /// A file on the host could not be read or written over SFTP.
    #[error("{path} on the host: {cause}")]
    RemoteFile { path: String, cause: String },
    /// Something inside `remote` failed that should not (a task panicked, a semaphore closed): a bug to
    /// report, not a problem with the host.
    #[error("internal error in remote: {cause}; please report it")]
    Internal { cause: String },
}

fn line_suffix(line: usize) -> String {
    if line == 0 { String::new() } else { format!(" line {line}") }
}

fn text_suffix(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(" (the line reads `{text}`)") }
}

/// One host's outcome.
#[derive(Clone, Debug)]
pub struct HostResult {
    /// The host as written in the inventory.
    pub host: String,
    /// Output of the command, or why there is none.
    pub outcome: Result<Output, HostError>,
    /// Wall time spent on this host, connect included.
    pub elapsed: Duration,
}

impl HostResult {
    /// The command ran and exited 0.
    pub fn ok(&self) -> bool {
        matches!(&self.outcome, Ok(output) if output.success())
    }

    /// The output, when the command ran at all.
    pub fn output(&self) -> Option<&Output> {
        self.outcome.as_ref().ok()
    }

    /// How many tries this host took (`--retries`): 1 unless it was tried again.
    pub fn tries(&self) -> u32 {
        match &self.outcome {
            Ok(output) => output.retries + 1,
            Err(HostError::GaveUp { tries, .. }) => *tries,
            Err(_) => 1,
        }
    }

    /// The typed value the operation read on this host, when it is a `T`: `result.data::<Cpu>()`.
    pub fn data<T: FromData>(&self) -> Option<&T> {
        self.output().and_then(|o| o.data.as_ref()).and_then(T::from_data)
    }

    /// The typed value the operation read on this host, whatever its type.
    pub fn any_data(&self) -> Option<&Data> {
        self.output().and_then(|o| o.data.as_ref())
    }

    /// Why this host failed, in words; `None` when it succeeded.
    pub fn error_text(&self) -> Option<String> {
        match &self.outcome {
            Err(err) => Some(err.to_string()),
            Ok(Output { stopped: Some(stopped), .. }) => Some(stopped.to_string()),
            Ok(Output { failed: Some(reason), .. }) => Some(reason.clone()),
            Ok(output) => match (output.exit, &output.signal) {
                (Some(0), _) => None,
                (Some(code), _) => Some(format!("exited with status {code}")),
                (None, Some(signal)) => Some(format!("killed by signal {signal}")),
                (None, None) => Some(HostError::NoExitStatus.to_string()),
            },
        }
    }

    /// This host's object in the `--json` document.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Written field by field, borrowing the output bytes, so that a large run goes out as JSON without a second
/// copy of every host's output in memory. Output that is not valid UTF-8 is the exception: its lossy text and
/// its base64 twin are both made, about 2.3 times that host's output while it is written.
impl Serialize for HostResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let output = self.output();
        let stopped = output.and_then(|o| o.stopped.as_ref());
        let binary = |bytes: &[u8]| std::str::from_utf8(bytes).is_err();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("host", &self.host)?;
        map.serialize_entry("ok", &self.ok())?;
        map.serialize_entry("exit", &output.and_then(|o| o.exit))?;
        map.serialize_entry("signal", &output.and_then(|o| o.signal.as_deref()))?;
        map.serialize_entry(
            "stdout",
            &output.map_or(Cow::Borrowed(""), |o| String::from_utf8_lossy(&o.stdout)),
        )?;
        map.serialize_entry(
            "stderr",
            &output.map_or(Cow::Borrowed(""), |o| String::from_utf8_lossy(&o.stderr)),
        )?;
        map.serialize_entry("truncated", &output.is_some_and(|o| o.truncated))?;
        map.serialize_entry("error", &self.error_text())?;
        map.serialize_entry("elapsed_ms", &(self.elapsed.as_millis() as u64))?;
        if self.tries() > 1 {
            map.serialize_entry("tries", &self.tries())?;
        }
        if let Some(stopped) = stopped {
            let reason = match stopped.reason {
                StopReason::Timeout { .. } => "timeout",
                StopReason::Cancelled(_) => "cancelled",
                StopReason::Deadline { .. } => "deadline",
            };
            map.serialize_entry("stopped", reason)?;
            map.serialize_entry("killed", &(stopped.kill == Kill::Killed))?;
        }
        if let Some(data) = output.and_then(|o| o.data.as_ref()) {
            map.serialize_entry("data", data)?;
        }
        if let Some(changed) = output.and_then(|o| o.changed) {
            map.serialize_entry("changed", &changed)?;
        }
        // Text fields are lossy; bytes that are not UTF-8 travel exactly in a base64 twin.
        if let Some(output) = output {
            for (field, bytes) in [("stdout_base64", &output.stdout), ("stderr_base64", &output.stderr)] {
                if binary(bytes) {
                    map.serialize_entry(field, &base64::engine::general_purpose::STANDARD.encode(bytes))?;
                }
            }
        }
        map.end()
    }
}

/// Everything one fan-out produced: plain data, with no way back to the hosts (see [`crate::run::Run`]).
#[derive(Clone, Debug)]
pub struct Report {
    /// What ran, for people (e.g. the command line).
    pub label: String,
    /// The group it ran on.
    pub group: String,
    /// One result per host.
    pub results: Vec<HostResult>,
    /// Wall time of the whole fan-out.
    pub elapsed: Duration,
}

impl Report {
    /// Every host succeeded.
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(HostResult::ok)
    }

    /// How many hosts failed.
    pub fn failed_count(&self) -> usize {
        self.results.iter().filter(|r| !r.ok()).count()
    }

    /// The `--json` document (DESIGN.md section 3) as a value; [`Report::write_json`] writes it without one.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Writes the `--json` document and a newline to `out`, streaming: the output bytes are not copied first.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("label", &self.label)?;
        map.serialize_entry("group", &self.group)?;
        map.serialize_entry("ok", &self.all_ok())?;
        map.serialize_entry("elapsed_ms", &(self.elapsed.as_millis() as u64))?;
        map.serialize_entry("results", &self.results)?;
        // Hosts with identical outcomes, as the summary groups them; every host's full output stays in
        // `results`.
        let groups: Vec<_> = self
            .groups()
            .into_iter()
            .map(|group| {
                let hosts: Vec<&str> = group.members.iter().map(|&m| self.results[m].host.as_str()).collect();
                serde_json::json!({"hosts": hosts, "ok": group.ok, "digest": group.digest_hex()})
            })
            .collect();
        map.serialize_entry("groups", &groups)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn result(outcome: Result<Output, HostError>) -> HostResult {
        HostResult { host: "127.0.0.1".into(), outcome, elapsed: Duration::from_millis(3) }
    }

    #[test]
    fn json_has_the_contract_fields() {
        let ok = result(Ok(Output { exit: Some(0), stdout: b"hi\n".to_vec(), ..Output::default() }));
        assert_eq!(
            ok.to_json(),
            json!({"host": "127.0.0.1", "ok": true, "exit": 0, "signal": null, "stdout": "hi\n", "stderr": "",
                   "truncated": false, "error": null, "elapsed_ms": 3})
        );
        let refused = result(Err(HostError::ConnectRefused { port: 22 }));
        let json = refused.to_json();
        assert_eq!((json["ok"].clone(), json["exit"].clone()), (json!(false), json!(null)));
        assert!(json["error"].as_str().unwrap().starts_with("connection refused"));
    }

    #[test]
    fn a_stopped_command_says_whether_it_is_gone() {
        let check = |reason: StopReason, kill: Kill, expected: &str| {
            let stopped = Some(Stopped { reason, kill });
            let result = result(Ok(Output {
                exit: None,
                stdout: b"partial\n".to_vec(),
                stopped,
                ..Output::default()
            }));
            assert_eq!(result.error_text().as_deref(), Some(expected));
            assert!(!result.ok());
            assert_eq!(result.to_json()["stdout"], json!("partial\n"));
        };
        let after = Duration::from_secs(5);
        check(
            StopReason::Timeout { after },
            Kill::Killed,
            "timed out after 5s; the remote command was killed",
        );
        check(
            StopReason::Cancelled(CancelCause::CtrlC),
            Kill::Killed,
            "cancelled (Ctrl-C); the remote command was killed",
        );
        check(
            StopReason::Cancelled(CancelCause::Terminate),
            Kill::Killed,
            "cancelled (SIGTERM); the remote command was killed",
        );
        check(
            StopReason::Cancelled(CancelCause::HangUp),
            Kill::Ended,
            "cancelled (SIGHUP, the terminal was closed); the remote command ended by itself before it could be killed",
        );
        check(
            StopReason::Cancelled(CancelCause::JobsHalted),
            Kill::Killed,
            "cancelled (the jobs were halted); the remote command was killed",
        );
        check(
            StopReason::Deadline { after: Duration::from_secs(90) },
            Kill::Killed,
            "the run's deadline (1m 30s) passed; the remote command was killed",
        );
        let why = "pids 4243, 4250 are still there after kill -KILL".to_string();
        check(
            StopReason::Timeout { after },
            Kill::Unconfirmed { process_group: Some(4242), why },
            "timed out after 5s; the remote command may still be running (process group 4242): \
             pids 4243, 4250 are still there after kill -KILL",
        );
        check(
            StopReason::Cancelled(CancelCause::CtrlC),
            Kill::Unconfirmed {
                process_group: None,
                why: "it had not yet reported its process group".into(),
            },
            "cancelled (Ctrl-C); the remote command may still be running: it had not yet reported its process group",
        );
    }

    #[test]
    fn non_utf8_output_travels_in_base64() {
        let raw = result(Ok(Output { exit: Some(3), stdout: vec![0xff, 0xfe, b'a'], ..Output::default() }))
            .to_json();
        assert_eq!(raw["stdout"], json!("\u{fffd}\u{fffd}a"));
        assert_eq!(raw["stdout_base64"], json!("//5h"));
        assert_eq!(raw["error"], json!("exited with status 3"));
    }
}
