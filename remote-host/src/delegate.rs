//! Inside a fleet repository (a workspace whose Cargo.toml names its host under
//! `[workspace.metadata.remote]`), `run`, `list`, `eval` and `live` are handed to that repository's own
//! `remote`, built there by cargo, so that they run the pipelines in `ops/src` as they are now, with a host
//! built from the same Cargo.lock, compiler and profile as the `ops` library `live` reloads. Only then can
//! the ABI stamps of host and library match.
//!
//! The process that is already that binary runs the command itself, unless `Cargo.lock` or `ops/` changed
//! after it was built, when it is built again first (`live` minds only the first: it rebuilds and reloads
//! `ops` itself). A `remote` installed with `cargo install` is never that binary inside a fleet repository,
//! so it always hands over; the hand-over is an `exec`, so signals, the terminal and the exit code are the
//! host's own. The static CI binary never hands over: it is built to run the `ops` inside it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::cli::Command;

/// Set on the host a `remote` hands over to, so that it does not hand over again.
pub const DELEGATED_ENV: &str = "REMOTE_DELEGATED";

/// The name of the host's binary in every fleet repository (and in this workspace).
pub const HOST_BINARY: &str = "remote";

/// A workspace that names its host.
#[derive(Debug, PartialEq, Eq)]
pub struct Fleet {
    /// The folder of its Cargo.toml.
    pub root: PathBuf,
    /// The package whose binary `remote` is the host.
    pub host: String,
}

/// Why a command could not be handed to the fleet's host.
#[derive(Debug, thiserror::Error)]
pub enum DelegateError {
    /// cargo did not start.
    #[error("cannot run cargo to build this repository's remote (package `{host}` in {root}): {source}")]
    Cargo { host: String, root: String, source: std::io::Error },
    /// cargo failed: the compiler's errors are above.
    #[error(
        "cargo could not build this repository's remote (package `{host}` in {root}); its errors are above: fix them (usually in ops/src) and run the command again"
    )]
    Build { host: String, root: String },
    /// cargo built it but named no binary.
    #[error(
        "cargo built package `{host}` but named no `{HOST_BINARY}` binary; its Cargo.toml needs [[bin]] name = \"{HOST_BINARY}\""
    )]
    NoBinary { host: String },
    /// The binary did not start.
    #[error("cannot start {binary}: {source}")]
    Exec { binary: String, source: std::io::Error },
    /// A signal ended the build: cargo and its compilers were stopped, and their exit seen.
    #[error(
        "{signal}: stopped cargo's build of this repository's remote; cargo and its compilers have exited"
    )]
    Stopped { signal: &'static str, number: i32 },
    /// A signal ended the build, but not every process of it could be seen to exit.
    #[error(
        "{signal}: stopping cargo's build of this repository's remote, but processes of it (group {group}) were still running after SIGKILL; see `ps -g {group}`"
    )]
    NotStopped { signal: &'static str, number: i32, group: u32 },
}

/// The commands that run `ops`.
fn runs_ops(command: &Command) -> bool {
    matches!(command, Command::Run(_) | Command::List | Command::Eval(_) | Command::Live(_))
}

/// Hands `command` to the fleet's host when it should: `None` to run it here, or how the hand-over failed
/// (a successful one never returns). `secrets` are the environment variables that hold secrets: cargo and its
/// build scripts never see them; the host gets them as this process got them. Called first thing in `main`,
/// before any thread exists (it may change the environment). With `json`, a failure is also the one JSON
/// document on stdout.
pub fn hand_over(command: &Command, json: bool, secrets: &[&str]) -> Option<ExitCode> {
    // The static CI binary (no hot reload) runs the `ops` compiled into it wherever it is.
    if !cfg!(feature = "hot") || !runs_ops(command) || std::env::var_os(DELEGATED_ENV).is_some() {
        return None;
    }
    let fleet = find(&std::env::current_dir().ok()?)?;
    let me = std::env::current_exe().ok().and_then(|exe| exe.canonicalize().ok());
    if let Some(me) = &me
        && is_host_of(me, &fleet)
        && !changed_since(&fleet.root.join("Cargo.lock"), me)
        && (matches!(command, Command::Live(_)) || !changed_since(&fleet.root.join("ops"), me))
    {
        // This process is the fleet's host, built after the last change to its dependencies and to ops
        // (`live` builds and reloads ops itself): nothing to hand over.
        return None;
    }
    // The secrets leave this process's environment block for the build, which may take minutes, and go to the
    // host as this process got them.
    let kept: Vec<(&str, zeroize::Zeroizing<Vec<u8>>)> = secrets
        .iter()
        .filter_map(|name| {
            let value = std::env::var_os(name)?;
            let value = zeroize::Zeroizing::new(std::os::unix::ffi::OsStringExt::into_vec(value));
            crate::scrub_env(name);
            Some((*name, value))
        })
        .collect();
    let err = match build(&fleet) {
        Ok(binary) => exec(&binary, &kept),
        Err(err) => err,
    };
    let message = crate::error_chain(&err);
    eprintln!("error: {}", remote_core::pretty::sanitize_lines(&message));
    // Ended by a signal: 128 + its number, as a shell reports it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
    let exit = match err {
        DelegateError::Stopped { number, .. } | DelegateError::NotStopped { number, .. } => {
            128 + number as u8
        }
        _ => crate::EXIT_USAGE,
    };
    crate::usage::json_failure(json, &message, crate::usage::At::default(), exit);
    Some(ExitCode::from(exit))
}

/// The fleet repository around `dir`: the nearest Cargo.toml above it that has `[workspace.metadata.remote]`
/// with a `host`.
pub fn find(dir: &Path) -> Option<Fleet> {
    dir.ancestors().find_map(|folder| {
        let text = std::fs::read_to_string(folder.join("Cargo.toml")).ok()?;
        let manifest: toml::Table = text.parse().ok()?;
        let host = manifest.get("workspace")?.get("metadata")?.get("remote")?.get("host")?.as_str()?;
        Some(Fleet { root: folder.to_path_buf(), host: host.to_string() })
    })
}

/// Whether `exe` is the fleet's host as cargo builds it: `TARGET/PROFILE/remote` where TARGET is the
/// fleet's target dir (`CARGO_TARGET_DIR`, else its `target/`).
fn is_host_of(exe: &Path, fleet: &Fleet) -> bool {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| fleet.root.join("target"));
    let Ok(target) = target.canonicalize() else { return false };
    exe.file_name().is_some_and(|name| name == HOST_BINARY)
        && exe
            .parent()
            .and_then(Path::parent)
            .is_some_and(|dir| dir == target || dir.parent() == Some(&target))
}

/// Whether `path` (a file, or any file under a folder) changed after `exe` was built.
fn changed_since(path: &Path, exe: &Path) -> bool {
    let Ok(built) = std::fs::metadata(exe).and_then(|m| m.modified()) else { return true };
    let changed =
        if path.is_dir() { newest(path) } else { std::fs::metadata(path).and_then(|m| m.modified()).ok() };
    changed.is_some_and(|changed| changed > built)
}

/// The newest modification time of the files under `dir`, `target/` aside.
fn newest(dir: &Path) -> Option<SystemTime> {
    let mut latest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            if entry.file_name() == "target" {
                continue;
            }
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        latest = latest.max(time);
    }
    latest
}

/// Builds the fleet's host with cargo and returns its binary. cargo's own lines reach the terminal only when
/// it compiles something, so an up-to-date host starts without a word.
fn build(fleet: &Fleet) -> Result<PathBuf, DelegateError> {
    let root = fleet.root.display().to_string();
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Process::new(program);
    command
        .current_dir(&fleet.root)
        .args([
            "build",
            "--package",
            &fleet.host,
            "--bin",
            HOST_BINARY,
            "--message-format",
            "json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The host this process hands over to is not a child of cargo's.
    command.env_remove(DELEGATED_ENV);
    // cargo and the compilers it starts are a process group of their own, so that a signal this process gets
    // reaches all of them (a terminal's Ctrl-C reaches the foreground group; SIGTERM or SIGHUP from a
    // supervisor reach only this process, and are passed on).
    command.process_group(0);
    let cargo_error = |source| DelegateError::Cargo { host: fleet.host.clone(), root: root.clone(), source };
    // Held from before cargo starts (and before the threads below, which inherit the mask) until the end of
    // the build; cargo itself starts with none held, as std resets the mask of a child.
    let held = HeldSignals::hold();
    let mut child = command.spawn().map_err(cargo_error)?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let relay = std::thread::spawn(move || relay_progress(stderr));
    let stdout = child.stdout.take().expect("stdout is piped");
    let reader =
        std::thread::spawn(move || executable_in(BufReader::new(stdout).lines().map_while(Result::ok)));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(cargo_error)? {
            break status;
        }
        if let Some(signal) = held.next(Duration::from_millis(20)) {
            return Err(stop_build(&mut child, signal));
        }
    };
    drop(held);
    let binary = reader.join().unwrap_or(None);
    let _ = relay.join();
    if !status.success() {
        return Err(DelegateError::Build { host: fleet.host.clone(), root });
    }
    binary.ok_or_else(|| DelegateError::NoBinary { host: fleet.host.clone() })
}

/// Passes `signal` on to cargo's process group, waits for cargo, and checks that every process of the group
/// has gone (SIGKILL for what is left after 10 s).
fn stop_build(child: &mut std::process::Child, signal: i32) -> DelegateError {
    let name = signal_name(signal);
    let group = child.id();
    let gone = || {
        // SAFETY: kill with signal 0 only checks whether the group has a process left; it sends nothing.
        let answer = unsafe { libc::kill(-(group as i32), 0) };
        answer == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    };
    // SAFETY: kill takes plain integers; the group is cargo's own (process_group(0) above).
    unsafe { libc::kill(-(group as i32), signal) };
    eprintln!("remote: {name}: stopping cargo's build of this repository's remote");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let _ = child.try_wait();
        if gone() {
            let _ = child.wait();
            return DelegateError::Stopped { signal: name, number: signal };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe { libc::kill(-(group as i32), libc::SIGKILL) };
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if gone() {
        DelegateError::Stopped { signal: name, number: signal }
    } else {
        DelegateError::NotStopped { signal: name, number: signal, group }
    }
}

/// How people call the signals that end a run.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "Ctrl-C",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// Ctrl-C, SIGTERM and SIGHUP, held (blocked) in this thread and the threads it starts while cargo builds,
/// and taken one at a time with [`HeldSignals::next`]; let go when dropped. Only ever set up before
/// `remote` starts any thread of its own, so no other thread takes them meanwhile.
struct HeldSignals {
    set: libc::sigset_t,
    old: libc::sigset_t,
}

impl HeldSignals {
    fn hold() -> HeldSignals {
        // SAFETY: the sets are plain values initialised by sigemptyset before use; pthread_sigmask only
        // changes this thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, signal);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            HeldSignals { set, old }
        }
    }

    /// The next held signal that arrives within `timeout`.
    fn next(&self, timeout: Duration) -> Option<i32> {
        let timeout = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: the set was initialised in `hold`; no siginfo is asked for.
        let signal = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &timeout) };
        (signal > 0).then_some(signal)
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `hold`, so the host this process becomes (exec keeps the mask)
        // gets its signals.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
    }
}

/// The host binary cargo's JSON messages (`--message-format json…`) say it wrote.
pub fn executable_in(lines: impl Iterator<Item = String>) -> Option<PathBuf> {
    let mut binary = None;
    for line in lines {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == HOST_BINARY
            && let Some(path) = message["executable"].as_str()
        {
            binary = Some(PathBuf::from(path));
        }
    }
    binary
}

/// Passes cargo's stderr on from its first `Compiling` line; before that, holds it back (an up-to-date build
/// says only `Finished`).
fn relay_progress(stderr: impl std::io::Read) {
    let mut compiling = false;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let trimmed = line.trim_start();
        if !compiling && (trimmed.starts_with("Compiling") || trimmed.starts_with("error")) {
            compiling = true;
            eprintln!(
                "remote: building this repository's remote with cargo (the pipelines in ops/src, as saved)"
            );
        }
        if compiling {
            eprintln!("{line}");
        }
    }
}

/// Replaces this process with `binary`, same arguments and the secrets `kept`, marked as handed over to;
/// returns only on failure.
fn exec(binary: &Path, kept: &[(&str, zeroize::Zeroizing<Vec<u8>>)]) -> DelegateError {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = Process::new(binary);
    command.args(args).env(DELEGATED_ENV, "1");
    for (name, value) in kept {
        command.env(name, std::ffi::OsStr::from_bytes(value));
    }
    let source = command.exec();
    DelegateError::Exec { binary: binary.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(manifest: &str, expected: Option<&str>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        let inner = dir.path().join("ops/src");
        std::fs::create_dir_all(&inner).unwrap();
        let found = find(&inner);
        assert_eq!(found.as_ref().map(|f| f.host.as_str()), expected, "{manifest}");
        if let Some(fleet) = found {
            assert_eq!(fleet.root, dir.path());
        }
    }

    #[test]
    fn a_fleet_is_the_workspace_that_names_its_host() {
        check(
            "[workspace]\nmembers = [\"ops\", \"host\"]\n\n[workspace.metadata.remote]\nhost = \"host\"\n",
            Some("host"),
        );
        check("[workspace]\nmembers = [\"ops\"]\n", None);
        check("[workspace.metadata.remote]\nhost = 3\n", None);
        check("not toml [", None);
    }
}
