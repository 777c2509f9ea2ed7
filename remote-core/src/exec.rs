//! Runs one command over one open connection: captures output up to a limit, and on timeout kills the remote process.

use std::time::Duration;

use russh::client;
use russh::{Channel, ChannelMsg, Sig};

use crate::run::{HostError, Output};
use crate::ssh::Connection;

/// Bounds on one command.
#[derive(Clone, Copy, Debug)]
pub struct CommandLimits {
    /// Wall-clock limit from the moment the channel is open.
    pub timeout: Duration,
    /// Bytes kept per stream (stdout, stderr); the rest is read and discarded so the command can finish.
    pub max_output: usize,
}

/// Runs `command` (a complete `sh` command line) in `channel`, a fresh session channel of `connection`.
pub async fn run_command(
    connection: &Connection,
    mut channel: Channel<client::Msg>,
    command: &str,
    limits: CommandLimits,
) -> Result<Output, HostError> {
    let disconnected = |e: russh::Error| HostError::Disconnected { cause: e.to_string() };
    channel.exec(true, supervised(command)).await.map_err(disconnected)?;

    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut output = Output::default();
    loop {
        tokio::select! {
            message = channel.wait() => match message {
                Some(ChannelMsg::Data { data }) => keep(&mut output.stdout, &data, limits.max_output, &mut output.truncated),
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
                kill(&mut channel).await;
                return Err(HostError::CommandTimeout { after: limits.timeout });
            }
        }
    }
    if output.exit.is_none() && output.signal.is_none() {
        return Err(if connection.is_closed() {
            HostError::Disconnected { cause: "the connection closed while the command ran".into() }
        } else {
            HostError::NoExitStatus
        });
    }
    Ok(output)
}

/// Wraps `command` so that closing the channel's stdin kills it and everything it started.
///
/// Dropping the channel alone would leave the process running and holding one of the server's
/// `MaxSessions` slots, and the SSH `signal` request is refused by sshd for root logins and for
/// servers without privilege separation. So a watchdog in the command's process group (sshd makes the
/// session's shell a group leader) waits on stdin and kills the group when stdin closes. The command
/// itself reads `/dev/null`, so commands that read stdin finish instead of hanging. The EXIT trap
/// retires the watchdog however the command ends, so what it left running on purpose (`nohup …&`)
/// survives a normal exit. The exit status is the command's own. It costs the server one fork.
pub fn supervised(command: &str) -> String {
    format!(
        "exec 3<&0 </dev/null\n\
         {{ read -r _ <&3; kill -KILL 0; }} >/dev/null 2>&1 &\n\
         remote_watchdog=$!\n\
         exec 3<&-\n\
         trap 'kill $remote_watchdog 2>/dev/null' EXIT\n\
         {command}\n"
    )
}

/// Stops a command that ran out of time: EOF wakes the watchdog (see [`supervised`]), the signal covers
/// servers that honour it, and a short wait for the exit report confirms the process group is gone.
async fn kill(channel: &mut Channel<client::Msg>) {
    let _ = channel.eof().await;
    let _ = channel.signal(Sig::KILL).await;
    let _ = tokio::time::timeout(KILL_CONFIRM, async {
        while let Some(message) = channel.wait().await {
            if matches!(message, ChannelMsg::ExitStatus { .. } | ChannelMsg::ExitSignal { .. } | ChannelMsg::Close) {
                break;
            }
        }
    })
    .await;
    let _ = channel.close().await;
}

/// How long a timed-out command's kill is waited for before the channel is closed regardless.
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
