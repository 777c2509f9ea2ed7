//! A scratch copy of the workspace and a driver for `remote live` running in it: what the hot-reload tests
//! and the edit → live benchmark edit, build and talk to, without touching the workspace under test.
//!
//! The copy puts every member but `ops` in a folder named `scratch-MEMBER`, so that cargo gives the copy's
//! builds of `remote-syntax`, `remote-macros`, `remote-core` (and so `ops`) hashes of their own: cargo hashes
//! workspace members by their path inside the workspace, and under the same paths the copy's builds would
//! overwrite the original's artifacts (a rebuilt `remote-syntax` with another crate hash then makes the
//! original's `remote-core` unloadable: E0463). It also renames `ops`' library to `ops_scratch`: a `cdylib`
//! gets no hash in its file name (`deps/libops.so`, `libops.so`), so under its own name the copy's builds
//! would replace the library a `remote live` in the original workspace has loaded. Edits in the copy never
//! touch the artifacts of the workspace it came from, while every other crate (syn, russh, …) is shared in
//! one target dir.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The dev-profile `remote` binary of the workspace `crate_dir` belongs to, built if needed, where cargo says
/// it put it.
pub fn built_remote(crate_dir: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--quiet", "-p", "remote", "--bin", "remote", "--message-format=json"])
        .current_dir(crate_dir)
        .output()
        .expect("run cargo build -p remote");
    assert!(
        output.status.success(),
        "cargo build -p remote failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The artifact message of the `remote` binary names it; cargo writes JSON paths without escapes on Linux.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| {
            line.contains("\"reason\":\"compiler-artifact\"") && line.contains("\"name\":\"remote\"")
        })
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = line[start..].find('"')? + start;
            Some(PathBuf::from(&line[start..end]))
        })
        .expect("cargo reported the remote executable")
}

/// What a member's folder is called in a copy.
const PREFIX: &str = "scratch-";

/// The name of `ops`' library in a copy.
pub const LIBRARY: &str = "ops_scratch";

/// A copy of a workspace under its target dir.
pub struct ScratchWorkspace {
    /// The copy.
    pub root: PathBuf,
    /// The shared target dir.
    pub target: PathBuf,
    original: PathBuf,
    /// The members that live under `scratch-NAME` in the copy.
    moved: Vec<String>,
}

impl ScratchWorkspace {
    /// The copy of `original` named `name` under `target`, brought back to `original`'s sources: files that
    /// differ are written again, so an edit left by an earlier run is undone and unchanged crates stay built.
    pub fn prepare(original: &Path, target: &Path, name: &str) -> Self {
        let root = target.join(name);
        let manifest = std::fs::read_to_string(original.join("Cargo.toml")).expect("workspace Cargo.toml");
        let moved = moved_members(&manifest);
        sync(original, &root, original, &moved);
        let mut manifest = manifest;
        for member in &moved {
            manifest = manifest.replace(&format!("\"{member}\""), &format!("\"{PREFIX}{member}\""));
        }
        write_if_changed(&root.join("Cargo.toml"), manifest.as_bytes());
        let ops = std::fs::read_to_string(original.join("ops").join("Cargo.toml")).expect("ops/Cargo.toml");
        assert!(ops.contains("\n[lib]\n"), "ops/Cargo.toml has no [lib] section to rename the library in");
        let ops = ops.replacen("\n[lib]\n", &format!("\n[lib]\nname = \"{LIBRARY}\"\n"), 1);
        write_if_changed(&root.join("ops").join("Cargo.toml"), ops.as_bytes());
        ScratchWorkspace { root, target: target.to_path_buf(), original: original.to_path_buf(), moved }
    }

    /// A file of the copy, named as in the original workspace.
    pub fn path(&self, relative: &str) -> PathBuf {
        match relative.split_once('/') {
            Some((member, rest)) if self.moved.iter().any(|m| m == member) => {
                self.root.join(format!("{PREFIX}{member}")).join(rest)
            }
            _ => self.root.join(relative),
        }
    }

    /// Replaces `from` by `to` in a file of the copy (the edit must apply).
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.path(file);
        let text = std::fs::read_to_string(&path).expect("read the file to edit");
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("save the edit");
    }

    /// Appends `text` to a file of the copy.
    pub fn append(&self, file: &str, text: &str) {
        let path = self.path(file);
        let mut all = std::fs::read_to_string(&path).expect("read the file to edit");
        all.push_str(text);
        std::fs::write(&path, all).expect("save the edit");
    }

    /// Puts a file back as it is in the original (a fresh write, so cargo rebuilds from it).
    pub fn restore(&self, file: &str) {
        std::fs::write(self.path(file), std::fs::read(self.original.join(file)).expect("original file"))
            .expect("restore");
    }

    /// Builds `ops` in the copy as `cargo watch -x 'rustc -p ops --lib --crate-type cdylib'` would.
    pub fn cargo_build_ops(&self) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["rustc", "--quiet", "-p", "ops", "--lib", "--crate-type", "cdylib"])
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
            .status()
            .expect("run cargo");
        assert!(status.success(), "cargo rustc -p ops failed in {}", self.root.display());
    }

    /// Every `libops_scratch-hot-*` copy of the library in the dev profile's folder.
    pub fn copies(&self) -> Vec<String> {
        std::fs::read_dir(self.target.join("debug"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(&format!("lib{LIBRARY}-hot-")))
            .collect()
    }

    /// Starts `remote` (the binary at `bin`) as `remote --inventory INVENTORY live EXTRA…` in the copy, with
    /// `env` added, and waits for its first line.
    pub fn live(&self, bin: &Path, inventory: &Path, extra: &[&str], env: &[(&str, &str)]) -> LivePrompt {
        let mut command = Command::new(bin);
        command
            .arg("--inventory")
            .arg(inventory)
            .arg("live")
            .args(extra)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
            // The binary under test is this copy's host, whatever the files' times say: the copy's Cargo.lock
            // is written after it was built, which would make `remote` hand `live` over to a fresh build of
            // the copy's own host (remote-host/src/delegate.rs), and the copy's manifest names its members
            // `scratch-…`, which no package is called.
            .env("REMOTE_DELEGATED", "1")
            .envs(env.iter().copied());
        LivePrompt::start(&mut command)
    }
}

/// The workspace members of `manifest` (its `members = [...]`), but `ops`, which stays where `remote live`
/// looks.
fn moved_members(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("members = [") else { return Vec::new() };
    let list = &manifest[start + "members = [".len()..];
    let list = &list[..list.find(']').unwrap_or(list.len())];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty() && m != "ops")
        .collect()
}

/// Copies the workspace's sources (not `target/`, `.git` or other hidden folders, nor `remote.toml`) into
/// `to`, the `moved` members' folders under their scratch names.
fn sync(dir: &Path, to: &Path, root: &Path, moved: &[String]) {
    for entry in std::fs::read_dir(dir).expect("read the workspace").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name == "target"
            || name == "remote.toml"
            || path == root.join("ops").join("Cargo.toml")
        {
            continue;
        }
        let mut relative = path.strip_prefix(root).expect("inside the workspace").to_path_buf();
        if let Some(member) = moved.iter().find(|m| relative.starts_with(m.as_str())) {
            let rest = relative.strip_prefix(member.as_str()).expect("starts with the member").to_path_buf();
            relative = Path::new(&format!("{PREFIX}{member}")).join(rest);
        }
        if path.is_dir() {
            sync(&path, to, root, moved);
        } else if name == "Cargo.toml" && relative.components().count() == 2 {
            // A member's manifest may name another member by path (a dev-dependency that is not published);
            // in the copy that member is under its `scratch-` folder.
            let mut manifest = std::fs::read_to_string(&path).expect("read a member's Cargo.toml");
            for member in moved {
                manifest = manifest.replace(&format!("\"../{member}\""), &format!("\"../{PREFIX}{member}\""));
            }
            write_if_changed(&to.join(relative), manifest.as_bytes());
        } else {
            write_if_changed(&to.join(relative), &std::fs::read(&path).expect("read a workspace file"));
        }
    }
}

/// Writes `bytes` unless the file has them already.
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create the folder");
    std::fs::write(path, bytes).expect("write the copy");
}

/// A running `remote live` and everything it printed (stdout and stderr, line by line, with the time each
/// arrived).
pub struct LivePrompt {
    /// The process.
    pub child: Child,
    /// Its standard input, while the prompt has it.
    pub stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl LivePrompt {
    /// Starts `command` (a `remote … live`), colours off and no inventory from the environment, and waits for
    /// the prompt's greeting, which comes once `ops` is built and loaded (or hot reload is off).
    pub fn start(command: &mut Command) -> LivePrompt {
        let mut child = command
            .env("NO_COLOR", "1")
            .env_remove("REMOTE_INVENTORY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start remote live");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), line));
                }
            });
        }
        let stdin = child.stdin.take();
        let live = LivePrompt { child, stdin, lines };
        live.wait_for("`help` for commands", Duration::from_secs(180));
        live
    }

    /// Types `line`.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("type a line");
        stdin.flush().expect("type a line");
    }

    /// Everything printed so far.
    pub fn transcript(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Line `index` and when it arrived.
    pub fn line(&self, index: usize) -> (Instant, String) {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())[index].clone()
    }

    /// How many lines there are so far.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing was printed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the first line from `after` on that contains `text`; panics with the transcript after
    /// `timeout`.
    pub fn wait_for_from(&self, after: usize, text: &str, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self
                .lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .skip(after)
                .position(|(_, l)| l.contains(text))
            {
                return after + at;
            }
            assert!(
                Instant::now() < deadline,
                "no line with {text:?} within {timeout:?}:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// [`Self::wait_for_from`] the first line.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> usize {
        self.wait_for_from(0, text, timeout)
    }

    /// Types `line` and waits for a line containing `text` printed after it.
    pub fn call(&mut self, line: &str, text: &str) -> usize {
        let from = self.len();
        self.send(line);
        self.wait_for_from(from, text, Duration::from_secs(60))
    }

    /// Types `quit` and returns the exit code and the transcript.
    pub fn quit(mut self) -> (i32, String) {
        self.send("quit");
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for remote live");
        // The reader threads take the last lines once the pipes close.
        std::thread::sleep(Duration::from_millis(100));
        (status.code().unwrap_or(-1), self.transcript())
    }

    /// Its resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for LivePrompt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
