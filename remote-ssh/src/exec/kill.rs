//! Stops a command that ran out of time or was cancelled, then looks on its host whether any of it is left.

use std::fmt::Write as _;

use russh::client;
use russh::{Channel, ChannelMsg, Sig};
use tokio::sync::Semaphore;

use remote_core::Kill;

use super::{KILL_CONFIRM, KillRoute};
use crate::connection::Connection;

/// The `sh` script that stops a command and says what is left of it. Its one argument is the command's
/// process group G, which is also its session: sshd makes the session's shell a session and group leader.
///
/// What it tracks: every process in `/proc` whose process group or session is G, and their descendants by
/// parent pid, transitively; so also a child that made a session of its own (`setsid child &`) while its
/// parent still runs. Zombies are left out, and so are the script's own session and processes.
///
/// What it does: stops (SIGSTOP) everything tracked and looks again until nothing new turns up (a stopped
/// process can neither fork nor exit, so no child is orphaned and lost meanwhile), kills (SIGKILL) all of it,
/// then looks for about a second whether any of those processes (same pid, same start time) or any new
/// member of G is still there. Its last line is [`LEFT_MARK`] and the pids still there: none, when empty.
///
/// What it cannot track: a daemon whose intermediate parent exited before the kill, after making a new
/// session (a double fork); nothing on the host ties it to the command any more, and `ssh` does not track it
/// either. A process name with a newline in it is read only up to the newline. Where `/proc` is mounted with
/// `hidepid`, the login user sees only its own processes, so a root process the command started through sudo
/// is not seen. Without `/proc`, the group is sent SIGKILL and the script says it could not look.
///
/// It is POSIX `sh` for dash and busybox alike: only builtins in its loops (`read`, `kill`, `case`), `/proc`
/// and never `ps`. The name in `/proc/PID/stat` may contain spaces and `)`, so the fields are read after the
/// last `) `.
const SWEEP: &str = r#"IFS=" "
g=$1
case $g in ""|*[!0-9]*|0|1) echo "no process group to look for" >&2; exit 2;; esac
if ! read -r stat 2>/dev/null </proc/$$/stat; then
  kill -s KILL -- "-$g" 2>/dev/null
  echo "this host has no /proc to look in; its process group was sent kill -KILL" >&2; exit 3
fi
set -- ${stat##*) }
own=$4
if [ "$own" = "$g" ]; then echo "the look runs in the session it is to stop" >&2; exit 2; fi
# Sets found to " pid:start ... ": the tracked processes, each with its start time.
scan() {
  found=" " pairs=""
  for dir in /proc/[0-9]*; do
    read -r stat 2>/dev/null <"$dir/stat" || continue
    set -- ${stat##*) }
    case $1 in Z|X|x) continue;; esac
    [ "$4" = "$own" ] && continue
    if [ "$3" = "$g" ] || [ "$4" = "$g" ]; then
      found="$found${dir#/proc/}:${20} "
    else
      pairs="$pairs ${dir#/proc/}:$2:${20}"
    fi
  done
  more=1
  while [ -n "$more" ]; do
    more="" rest=""
    for pair in $pairs; do
      parent=${pair#*:}
      case $found in
      *" ${parent%%:*}:"*) found="$found${pair%%:*}:${pair##*:} " more=1;;
      *) rest="$rest $pair";;
      esac
    done
    pairs=$rest
  done
}
stopped=" " rounds=0
while [ "$rounds" -lt 50 ]; do
  scan
  new=""
  for entry in $found; do
    case $stopped in *" $entry "*) ;; *) new="$new $entry";; esac
  done
  [ -z "$new" ] && break
  for entry in $new; do
    kill -s STOP "${entry%%:*}" 2>/dev/null
    stopped="$stopped$entry "
  done
  rounds=$((rounds + 1))
done
for entry in $stopped; do kill -s KILL "${entry%%:*}" 2>/dev/null; done
echo "remote-kill-killed:$stopped"
waited=0
while :; do
  left=""
  for entry in $stopped; do
    read -r stat 2>/dev/null </proc/${entry%%:*}/stat || continue
    set -- ${stat##*) }
    case $1 in Z|X|x) continue;; esac
    [ "${20}" = "${entry##*:}" ] && left="$left ${entry%%:*}"
  done
  scan
  for entry in $found; do
    kill -s KILL "${entry%%:*}" 2>/dev/null
    case "$left " in *" ${entry%%:*} "*) ;; *) left="$left ${entry%%:*}";; esac
  done
  if [ -z "$left" ] || [ "$waited" -ge 10 ]; then break; fi
  if sleep 0.1 2>/dev/null; then waited=$((waited + 1)); else sleep 1; waited=10; fi
done
echo "remote-kill-left:$left"
"#;

/// Start of the sweep's last line, followed by the pids still there after the kill.
const LEFT_MARK: &str = "remote-kill-left:";

/// Start of the sweep's line with the processes it stopped and killed, each as `pid:start`.
const KILLED_MARK: &str = "remote-kill-killed:";

/// The sweep for `group`, as the login user or as root through the system's sudo without a password
/// (`-n`), with sudo's messages in English.
fn sweep_command(group: u32, as_root: bool) -> String {
    let script = remote_core::quote::quote(SWEEP);
    if as_root {
        format!("LC_ALL=C command -p sudo -n -- sh -c {script} sh {group}")
    } else {
        format!("sh -c {script} sh {group}")
    }
}

/// Stops a command that ran out of time or was cancelled, and says only what its host confirms: the sweep
/// ([`SWEEP`]) on a second channel stops and kills what the command started, then looks whether any of it is
/// left. When the connection has no channel to spare, the sweep goes over a connection of its own.
///
/// A command run as root through sudo (`as_root`) has root's processes, which the login user cannot signal:
/// its sweep runs through `sudo -n`, which works where sudo needs no password. The sweep follows the command
/// through parent pids into the session sudo may make for it (`use_pty`), so nothing left means killed.
///
/// The SSH `signal` request comes after the sweep, and only when the sweep did not confirm the kill: sent
/// first, it would kill the command's shell before the sweep could follow it to a child in a session of its
/// own, and that child would run on unseen. Sent after, it still kills the group where the sweep cannot run.
pub(super) async fn kill(
    connection: &Connection,
    channel: Channel<client::Msg>,
    process_group: Option<u32>,
    route: &KillRoute<'_>,
    as_root: bool,
) -> Kill {
    let Some(group) = process_group else {
        let _ = channel.signal(Sig::KILL).await;
        let _ = channel.close().await;
        let why = "it had not yet reported its process group, so it could not be killed".to_string();
        return Kill::Unconfirmed { process_group: None, why };
    };
    // Why the kill is not confirmed, when the sweep did not run (`why` as it is) or did not get as far as
    // looking (`why` is what it said).
    let unconfirmed = |why: String, ran: bool| {
        let why = match (as_root, ran) {
            (true, _) => format!(
                "it ran as root through sudo, and the kill through `sudo -n` did not finish ({why}); the \
                 login user cannot signal root's processes, and sudo may have run the command in a group of \
                 its own (use_pty)"
            ),
            (false, true) => format!("the look for what is left did not finish: {why}"),
            (false, false) => why,
        };
        Kill::Unconfirmed { process_group: Some(group), why }
    };
    let kill = match sweep(connection, route, &sweep_command(group, as_root)).await {
        Ok(swept) => swept.verdict(group).unwrap_or_else(|why| unconfirmed(why, true)),
        Err(why) => unconfirmed(why, false),
    };
    if kill != Kill::Killed {
        let _ = channel.signal(Sig::KILL).await;
    }
    let _ = channel.close().await;
    kill
}

/// Runs `command` (a sweep) on a channel of its own, over a connection of its own when `connection` has
/// none to spare, within [`KILL_CONFIRM`]; the error says why it did not run.
async fn sweep(connection: &Connection, route: &KillRoute<'_>, command: &str) -> Result<Swept, String> {
    let host = &route.spec.name;
    let attempt = async {
        match run_sweep(connection, command).await {
            Err(SweepError::NoChannel(reason)) => {
                tracing::debug!(%host, %reason, "no channel for the kill; using a connection of its own");
                // A kill must not queue behind other hosts' handshakes: it gets a gate of its own.
                let via = connection.via().cloned();
                let (spec, caches, options) = (route.spec, route.caches, route.options);
                let opened = Connection::open(spec, caches, options, &Semaphore::new(1), via).await;
                let no_channel = format!("no channel was free ({reason})");
                let side = opened.map_err(|e| format!("{no_channel} and a second connection failed: {e}"))?;
                let outcome = run_sweep(&side, command).await.map_err(|e| e.to_string());
                side.close().await;
                outcome
            }
            other => other.map_err(|e| e.to_string()),
        }
    };
    let Ok(swept) = tokio::time::timeout(KILL_CONFIRM, attempt).await else {
        return Err(format!("the kill did not answer within {}", humantime::format_duration(KILL_CONFIRM)));
    };
    let swept = swept?;
    tracing::debug!(%host, killed = swept.killed(), status = ?swept.status, "the kill looked on the host");
    Ok(swept)
}

/// Why a sweep did not run.
#[derive(Debug, thiserror::Error)]
enum SweepError {
    /// The server would not open another channel on this connection.
    #[error("{0}")]
    NoChannel(String),
    /// The channel broke.
    #[error("the kill's channel failed: {0}")]
    Channel(String),
}

/// Bytes kept of a sweep's stdout and of its stderr: its answer is one line of pids, and a host must not
/// make the controller keep more than that.
const SWEPT_MAX: usize = 256 * 1024;

/// What a sweep said on the host.
#[derive(Debug, Default)]
struct Swept {
    status: Option<u32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `command` on its own channel of `connection` and keeps what it says.
async fn run_sweep(connection: &Connection, command: &str) -> Result<Swept, SweepError> {
    let mut sweeper = connection.open_session().await.map_err(|e| match e {
        russh::Error::ChannelOpenFailure(reason) => SweepError::NoChannel(format!("{reason:?}")),
        other => SweepError::NoChannel(other.to_string()),
    })?;
    sweeper.exec(true, command).await.map_err(|e| SweepError::Channel(e.to_string()))?;
    let mut swept = Swept::default();
    let keep = |buffer: &mut Vec<u8>, data: &[u8]| {
        let room = SWEPT_MAX.saturating_sub(buffer.len()).min(data.len());
        buffer.extend_from_slice(&data[..room]);
    };
    while let Some(message) = sweeper.wait().await {
        match message {
            ChannelMsg::Data { data } => keep(&mut swept.stdout, &data),
            ChannelMsg::ExtendedData { data, ext: 1 } => keep(&mut swept.stderr, &data),
            ChannelMsg::ExitStatus { exit_status } => swept.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(swept)
}

/// Pids named in a "still there" message; the rest are counted.
const PIDS_SHOWN: usize = 8;

impl Swept {
    /// `Killed` when the sweep looked and found nothing left, `Unconfirmed` naming what it found; the error
    /// says why the sweep did not get as far as looking.
    fn verdict(&self, group: u32) -> Result<Kill, String> {
        let Some(left) = self.left() else { return Err(self.failure()) };
        let (noun, verb) = match left.len() {
            0 => return Ok(Kill::Killed),
            1 => ("pid", "is"),
            _ => ("pids", "are"),
        };
        let shown: Vec<String> = left.iter().take(PIDS_SHOWN).map(u32::to_string).collect();
        let mut why = format!("{noun} {}", shown.join(", "));
        if left.len() > PIDS_SHOWN {
            let _ = write!(why, " and {} more", left.len() - PIDS_SHOWN);
        }
        let _ = write!(why, " {verb} still there after kill -KILL");
        Ok(Kill::Unconfirmed { process_group: Some(group), why })
    }

    /// The pids the sweep found still there, from its last line; `None` when that line is missing or
    /// unreadable (the sweep did not run to its end).
    fn left(&self) -> Option<Vec<u32>> {
        let text = std::str::from_utf8(&self.stdout).ok()?;
        // Only a whole line counts: one cut off by the cap or a broken channel could lack pids.
        let (complete, _) = text.rsplit_once('\n')?;
        let line = complete.lines().rev().find_map(|line| line.strip_prefix(LEFT_MARK))?;
        line.split_whitespace().map(|pid| pid.parse().ok()).collect()
    }

    /// How many processes the sweep stopped and killed, for the log.
    fn killed(&self) -> usize {
        let text = String::from_utf8_lossy(&self.stdout);
        let line = text.lines().find_map(|line| line.strip_prefix(KILLED_MARK));
        line.map_or(0, |entries| entries.split_whitespace().count())
    }

    /// Why the sweep did not finish: its own last words (or sudo's, or the shell's) when it has any.
    fn failure(&self) -> String {
        let stderr = String::from_utf8_lossy(&self.stderr);
        let said = stderr.lines().map(str::trim).rfind(|line| !line.is_empty());
        match (said, self.status) {
            (Some(said), _) => said.chars().take(200).collect(),
            (None, Some(status)) => format!("it exited with status {status} and said nothing"),
            (None, None) => "it ended without an exit status".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swept(status: Option<u32>, stdout: &str, stderr: &str) -> Swept {
        Swept { status, stdout: stdout.as_bytes().to_vec(), stderr: stderr.as_bytes().to_vec() }
    }

    #[test]
    fn the_verdict_is_what_the_sweep_found() {
        let check = |stdout: &str, expected: Result<&str, &str>| {
            let swept = swept(Some(0), stdout, "");
            let expected = expected
                .map(|why| match why {
                    "" => Kill::Killed,
                    why => Kill::Unconfirmed { process_group: Some(4242), why: why.into() },
                })
                .map_err(str::to_string);
            assert_eq!(swept.verdict(4242), expected, "{stdout:?}");
        };
        check("remote-kill-killed: 1:5 2:6 \nremote-kill-left:\n", Ok(""));
        check("remote-kill-killed: \nremote-kill-left:\n", Ok(""));
        // A login shell's own chatter before the answer changes nothing.
        check("Welcome!\nremote-kill-killed: \nremote-kill-left:\n", Ok(""));
        check("remote-kill-killed: 9:1 \nremote-kill-left: 9\n", Ok("pid 9 is still there after kill -KILL"));
        check("remote-kill-left: 123 456\n", Ok("pids 123, 456 are still there after kill -KILL"));
        check(
            "remote-kill-left: 1 2 3 4 5 6 7 8 9 10 11\n",
            Ok("pids 1, 2, 3, 4, 5, 6, 7, 8 and 3 more are still there after kill -KILL"),
        );
        // No whole answer: the sweep did not get as far as looking, so nothing is claimed.
        check("remote-kill-left: 123", Err("it exited with status 0 and said nothing"));
        check("remote-kill-left: 12x\n", Err("it exited with status 0 and said nothing"));
        check("", Err("it exited with status 0 and said nothing"));
        let failure = |status: Option<u32>, stderr: &str| swept(status, "", stderr).verdict(4242);
        let said = "sudo: a password is required";
        assert_eq!(failure(Some(1), "sudo: a password is required\n"), Err(said.into()));
        let said = "this host has no /proc to look in; its process group was sent kill -KILL";
        assert_eq!(failure(Some(3), &format!("\n{said}\n\n")), Err(said.into()));
        assert_eq!(failure(None, ""), Err("it ended without an exit status".into()));
        assert_eq!(swept(Some(0), "remote-kill-killed: 1:5 2:6 \nremote-kill-left:\n", "").killed(), 2);
    }

    /// Processes started on this machine in a session of their own, as sshd starts a command, and killed at
    /// the end whatever happens. Each runs a copy of `sleep` whose name holds a marker, so that the test can
    /// tell them from everything else, and `) `, which the sweep must read past.
    struct Tree {
        group: u32,
        marker: String,
        _dir: tempfile::TempDir,
    }

    impl Tree {
        /// Starts `script`, in which `"$SLEEP"` is the marked `sleep`, under `setsid sh -c`, and waits until
        /// `expected` marked processes run.
        fn start(script: &str, expected: usize) -> Tree {
            use std::io::BufRead;
            static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let count = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let marker = format!("remote-sweep-{}-{count}", std::process::id());
            let dir = tempfile::tempdir().expect("temporary folder");
            let sleep = dir.path().join(format!("s) x) {marker}"));
            std::fs::copy("/bin/sleep", &sleep).expect("copy sleep");
            let mut child = std::process::Command::new("setsid")
                .args(["sh", "-c", &format!("echo $$; {script}"), "sh"])
                .env("SLEEP", &sleep)
                .stdout(std::process::Stdio::piped())
                .stdin(std::process::Stdio::null())
                .spawn()
                .expect("setsid sh");
            let mut line = String::new();
            let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
            stdout.read_line(&mut line).expect("the group");
            let group = line.trim().parse().expect("a pid");
            // The child is reaped by a thread of its own, so that a killed shell leaves no zombie behind.
            std::thread::spawn(move || child.wait());
            let tree = Tree { group, marker, _dir: dir };
            // The commands after `echo` need a moment to start; everything counted must be running.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while tree.running().len() < expected && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert_eq!(tree.running().len(), expected, "not everything started: {script}");
            tree
        }

        /// Pids of live (not zombie) processes whose command line has the marker.
        fn running(&self) -> Vec<u32> {
            let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| {
                    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                    let zombie = stat.rsplit_once(") ").is_none_or(|(_, rest)| rest.starts_with('Z'));
                    !zombie && String::from_utf8_lossy(&cmdline).contains(&self.marker)
                })
                .collect()
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            for pid in self.running() {
                // SAFETY: kill(2) takes plain integers and touches no memory of ours.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }

    /// Runs the sweep with `shell` for `group`, and what it said.
    fn run(shell: &[&str], group: u32) -> Swept {
        let output = std::process::Command::new(shell[0])
            .args(&shell[1..])
            .args(["-c", SWEEP, "sh", &group.to_string()])
            .output()
            .expect("run the sweep");
        let status = output.status.code().map(|code| code as u32);
        Swept { status, stdout: output.stdout, stderr: output.stderr }
    }

    /// The real sweep under each shell it is written for (dash, busybox, bash), against real processes:
    /// a child that made a session of its own is found through its parent, and names with `) ` are read.
    #[test]
    fn the_sweep_kills_what_the_command_started_and_finds_nothing_left() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("the sweep needs /proc; skipped");
            return;
        }
        let shells: [&[&str]; 3] = [&["dash"], &["busybox", "sh"], &["bash", "--posix"]];
        let mut ran = 0;
        for shell in shells {
            let mut installed = std::process::Command::new(shell[0]);
            installed.args(&shell[1..]).args(["-c", "true"]);
            if !installed.output().is_ok_and(|out| out.status.success()) {
                eprintln!("{} is not installed; skipped", shell.join(" "));
                continue;
            }
            ran += 1;
            // A child in a session of its own (found through its parent), a grandchild, and children.
            let script = "setsid \"$SLEEP\" 305 & \"$SLEEP\" 306 & \
                          sh -c '\"$SLEEP\" 307; :' & \"$SLEEP\" 308";
            let tree = Tree::start(script, 4);
            let swept = run(shell, tree.group);
            assert_eq!(swept.verdict(tree.group), Ok(Kill::Killed), "{}: {swept:?}", shell.join(" "));
            assert_eq!(tree.running(), Vec::<u32>::new(), "{}: {swept:?}", shell.join(" "));
            assert!(swept.killed() >= 5, "{}: {swept:?}", shell.join(" "));
        }
        assert!(ran > 0, "no shell to run the sweep with");
    }

    /// A process the sweep may not signal (another user's) is named as still there, not claimed killed.
    #[test]
    fn what_cannot_be_killed_is_named() {
        if unsafe { libc::geteuid() } != 0 || !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("needs root, to run the sweep as another user, and /proc; skipped");
            return;
        }
        let tree = Tree::start("\"$SLEEP\" 309 & \"$SLEEP\" 310", 2);
        let survivors = tree.running();
        assert_eq!(survivors.len(), 2);
        // As nobody, the sweep sees root's processes in /proc but may not signal them.
        let swept = run(&["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh"], tree.group);
        let Ok(Kill::Unconfirmed { process_group, why }) = swept.verdict(tree.group) else {
            panic!("expected survivors: {swept:?}");
        };
        assert_eq!(process_group, Some(tree.group));
        assert!(why.ends_with("are still there after kill -KILL"), "{why}");
        for pid in survivors {
            assert!(why.contains(&pid.to_string()), "{why} does not name {pid}");
        }
    }
}
