//! Runs one command over one open connection: captures output up to a limit, and on timeout kills the remote process.

use std::time::Duration;

use russh::client;
use russh::{Channel, ChannelMsg, Sig};

use crate::connection::Connection;
use remote_core::report::{HostError, Output};

/// Bounds on one command.
#[derive(Clone, Copy, Debug)]
pub struct CommandLimits {
    /// Wall-clock limit from the moment the channel is open.
    pub timeout: Duration,
    /// Bytes kept per stream (stdout, stderr); the rest is read and discarded so the command can finish.
    pub max_output: usize,
}

/// Set to `true` to stop every command that watches it (e.g. on Ctrl-C); they are killed like timed-out ones.
pub type Cancel = tokio::sync::watch::Receiver<bool>;

/// Resolves once `cancel` is set; never, when there is none or its sender is gone.
pub async fn cancelled(cancel: Option<&Cancel>) {
    if let Some(cancel) = cancel {
        let mut cancel = cancel.clone();
        if cancel.wait_for(|set| *set).await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Runs `command` (a complete `sh` command line) in `channel`, a fresh session channel of `connection`.
pub async fn run_command(
    connection: &Connection,
    mut channel: Channel<client::Msg>,
    command: &str,
    limits: CommandLimits,
    cancel: Option<&Cancel>,
) -> Result<Output, HostError> {
    let disconnected = |e: russh::Error| HostError::Disconnected { cause: e.to_string() };
    channel.exec(true, supervised(command)).await.map_err(disconnected)?;

    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut output = Output::default();
    let mut stdout = StdoutReader::default();
    loop {
        tokio::select! {
            message = channel.wait() => match message {
                Some(ChannelMsg::Data { data }) => {
                    let data = stdout.strip_preamble(&data);
                    keep(&mut output.stdout, &data, limits.max_output, &mut output.truncated)
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    keep(&mut output.stderr, &data, limits.max_output, &mut output.truncated)
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => output.exit = Some(exit_status),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => output.signal = Some(signal_text(&signal_name)),
                Some(ChannelMsg::Failure) => {
                    return Err(HostError::ChannelRefused { cause: "the exec request was denied".into() });
                }
                Some(_) => {}
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                kill(connection, channel, stdout.process_group).await;
                return Err(HostError::CommandTimeout { after: limits.timeout });
            }
            () = cancelled(cancel) => {
                kill(connection, channel, stdout.process_group).await;
                return Err(HostError::Cancelled);
            }
        }
    }
    // A preamble still pending at the end was ordinary output after all.
    let rest = stdout.finish();
    keep(&mut output.stdout, &rest, limits.max_output, &mut output.truncated);
    if output.exit.is_none() && output.signal.is_none() {
        return Err(if connection.is_closed() {
            HostError::Disconnected { cause: "the connection closed while the command ran".into() }
        } else {
            HostError::NoExitStatus
        });
    }
    Ok(output)
}

/// Start of the first stdout line of every command: the remote shell's process group id.
const PGID_MARK: &[u8] = b"remote-pgid:";

/// Prefixes `command` so the remote shell first reports its process group, then runs the command with
/// stdin on `/dev/null` (commands that read stdin finish instead of hanging).
///
/// sshd makes the session's shell a process-group leader, so `$$` names the group of everything the
/// command starts. On timeout we kill that group over a second channel: the SSH `signal` request
/// alone is refused by sshd for root logins and on servers without privilege separation, and merely
/// closing the channel would leave the process running and holding one of the server's `MaxSessions`.
/// Both added words are shell builtins: the server forks nothing extra.
pub fn supervised(command: &str) -> String {
    format!("printf 'remote-pgid:%s\\n' \"$$\"; exec </dev/null; {command}")
}

/// Takes the process-group line off the front of stdout.
#[derive(Default)]
struct StdoutReader {
    /// Bytes of the first line while it is incomplete; `None` once the preamble is dealt with.
    head: Option<Vec<u8>>,
    started: bool,
    /// The remote shell's process group, once reported.
    process_group: Option<u32>,
}

impl StdoutReader {
    /// The part of `data` that is the command's own output.
    fn strip_preamble(&mut self, data: &[u8]) -> Vec<u8> {
        if !self.started {
            self.started = true;
            self.head = Some(Vec::new());
        }
        let Some(head) = self.head.as_mut() else { return data.to_vec() };
        head.extend_from_slice(data);
        let prefix_len = head.len().min(PGID_MARK.len());
        if head[..prefix_len] != PGID_MARK[..prefix_len] {
            // Not our line (an unusual login shell): everything is output.
            return self.head.take().unwrap_or_default();
        }
        let Some(newline) = head.iter().position(|b| *b == b'\n') else { return Vec::new() };
        let rest = head.split_off(newline + 1);
        self.process_group = std::str::from_utf8(&head[PGID_MARK.len()..newline]).ok().and_then(|p| p.parse().ok());
        self.head = None;
        rest
    }

    fn finish(&mut self) -> Vec<u8> {
        self.head.take().unwrap_or_default()
    }
}

/// Stops a command that ran out of time or was cancelled: the `signal` request for servers that honour it, then a
/// `kill` of its process group over a second channel, confirmed before the first channel is closed.
async fn kill(connection: &Connection, channel: Channel<client::Msg>, process_group: Option<u32>) {
    let _ = channel.signal(Sig::KILL).await;
    if let Some(group) = process_group {
        let killed = async {
            let mut killer = connection.open_session().await.ok()?;
            killer.exec(true, format!("kill -s KILL -- -{group}")).await.ok()?;
            while let Some(message) = killer.wait().await {
                if matches!(message, ChannelMsg::ExitStatus { .. } | ChannelMsg::Close) {
                    break;
                }
            }
            Some(())
        };
        let _ = tokio::time::timeout(KILL_CONFIRM, killed).await;
    }
    let _ = channel.close().await;
}

/// How long the kill of a timed-out command is waited for before giving up on it.
const KILL_CONFIRM: Duration = Duration::from_secs(2);

fn keep(buffer: &mut Vec<u8>, data: &[u8], max: usize, truncated: &mut bool) {
    let room = max.saturating_sub(buffer.len());
    if data.len() > room {
        *truncated = true;
    }
    buffer.extend_from_slice(&data[..data.len().min(room)]);
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

    fn strip(chunks: &[&[u8]]) -> (Vec<u8>, Option<u32>) {
        let mut reader = StdoutReader::default();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(reader.strip_preamble(chunk));
        }
        out.extend(reader.finish());
        (out, reader.process_group)
    }

    #[test]
    fn the_process_group_line_is_taken_off_stdout() {
        assert_eq!(strip(&[b"remote-pgid:42\nhello\n"]), (b"hello\n".to_vec(), Some(42)));
        assert_eq!(strip(&[b"remote-", b"pgid:7", b"\nhi", b" there"]), (b"hi there".to_vec(), Some(7)));
        assert_eq!(strip(&[b"something else\n"]), (b"something else\n".to_vec(), None));
        assert_eq!(strip(&[b"remote-pg"]), (b"remote-pg".to_vec(), None));
        assert_eq!(strip(&[]), (Vec::new(), None));
    }
}
