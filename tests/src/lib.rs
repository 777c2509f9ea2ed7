//! Test harness: real sshd hosts on loopback for the integration tests, cleaned up even when a test panics.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use remote_config::Inventory;
use remote_config::local::current_user;
use remote_core::HostSpec;
use remote_sandbox::{Sandbox, SandboxConfig};

/// A set of sshd servers for one test, in a temporary folder that goes away with it.
pub struct TestHosts {
    /// The servers.
    pub sandbox: Sandbox,
    dir: tempfile::TempDir,
}

/// Hands out loopback addresses no other test in this run uses: 127.X.Y.Z with X from the process id.
fn next_addresses(count: usize) -> Vec<SocketAddr> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let first = NEXT.fetch_add(count, Ordering::SeqCst);
    let second = 100 + (std::process::id() % 100) as u8;
    (first..first + count)
        .map(|n| {
            let ip = IpAddr::V4(Ipv4Addr::new(127, second, 1 + (n / 250) as u8, 1 + (n % 250) as u8));
            // Each server has its own address, so any free port on it will do; the kernel picks one.
            let port =
                TcpListener::bind((ip, 0)).and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(2222);
            SocketAddr::new(ip, port)
        })
        .collect()
}

/// The first of `count` consecutive loopback addresses no other test in this run uses, for a sandbox that
/// counts up from it (`remote sandbox up --first`, `REMOTE_SANDBOX_FIRST`).
pub fn free_loopback_addresses(count: usize) -> Ipv4Addr {
    loop {
        let ips: Vec<Ipv4Addr> = next_addresses(count)
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V4(ip) => Some(ip),
                IpAddr::V6(_) => None,
            })
            .collect();
        // A block that crosses from 127.X.Y.250 to 127.X.Y+1.1 is not consecutive; the next one is.
        if ips.windows(2).all(|w| u32::from(w[1]) == u32::from(w[0]) + 1) {
            return ips[0];
        }
    }
}

impl TestHosts {
    /// Starts `count` servers that let the current user in with a generated key.
    pub fn start(count: usize) -> Self {
        Self::start_at(&next_addresses(count))
    }

    /// Starts one server on each of `addresses` (loopback only), letting the current user in.
    pub fn start_at(addresses: &[SocketAddr]) -> Self {
        Self::start_for(addresses, &current_user())
    }

    /// Starts `count` servers that let `user` in (another account than the current one; needs root), with a
    /// generated key. The test's folder is opened to other users, since sshd reads `authorized_keys` as
    /// `user`.
    pub fn start_as(count: usize, user: &str) -> Self {
        Self::start_for(&next_addresses(count), user)
    }

    fn start_for(addresses: &[SocketAddr], user: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        assert!(
            addresses.iter().all(|a| a.ip().is_loopback()),
            "test hosts listen on loopback only: {addresses:?}"
        );
        let dir = tempfile::Builder::new().prefix("remote-test-").tempdir().expect("temporary folder");
        if user != current_user() {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("open the test folder");
        }
        let config = SandboxConfig {
            dir: dir.path().join("sandbox"),
            addresses: addresses.to_vec(),
            addresses_per_server: 1,
            login_user: user.to_string(),
            detach: false,
        };
        let sandbox =
            Sandbox::start(&config).unwrap_or_else(|e| panic!("could not start test sshd servers: {e}"));
        Self { sandbox, dir }
    }

    /// A folder for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes an inventory with these hosts as group `test` and returns its path; `overrides` are
    /// `(key, TOML value)` pairs set in the group over what the sandbox wrote, e.g. `("key", "\"/x\"")`.
    pub fn write_inventory(&self, overrides: &[(&str, &str)]) -> PathBuf {
        let mut document: toml_edit::DocumentMut =
            self.sandbox.group_toml("test").parse().expect("sandbox TOML");
        for (key, value) in overrides {
            let value: toml_edit::Value =
                value.parse().unwrap_or_else(|e| panic!("override {key} = {value}: {e}"));
            document["groups"]["test"][key] = toml_edit::Item::Value(value);
        }
        let path = self.dir().join("remote.toml");
        std::fs::write(&path, document.to_string()).expect("write inventory");
        path
    }

    /// The hosts as the inventory resolves them, with `overrides` (see [`TestHosts::write_inventory`]).
    pub fn specs_with(&self, overrides: &[(&str, &str)]) -> Vec<HostSpec> {
        let path = self.write_inventory(overrides);
        let inventory = Inventory::load(&path).unwrap_or_else(|e| panic!("{e}"));
        inventory.group("test").expect("group test").hosts.clone()
    }

    /// `ADDRESS PORT` of server `index` as it sees itself in `$SSH_CONNECTION`, so that a command can tell
    /// which host it runs on: `case "$SSH_CONNECTION " in *" ADDRESS PORT "*) …`.
    pub fn server_end(&self, index: usize) -> String {
        let address = self.sandbox.servers()[index].address;
        format!("{} {}", address.ip(), address.port())
    }

    /// What server `index`'s sshd has logged so far (e.g. to count logins).
    pub fn sshd_log(&self, index: usize) -> String {
        self.sandbox.servers()[index].log()
    }

    /// The hosts with the sandbox's own settings (strict checking, generated key).
    pub fn specs(&self) -> Vec<HostSpec> {
        self.specs_with(&[])
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for server in self.sandbox.servers() {
                eprintln!("--- sshd log of {} ---\n{}", server.address, server.log());
            }
        }
    }
}

/// A runtime for tests that drive the async pool.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// The `remote` binary, built once per test run by asking cargo where it put it.
pub fn remote_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| remote_sandbox::workspace::built_remote(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

/// A folder outside this workspace, where `remote live` uses the `ops` linked into it (hot reload is off):
/// the tests of hot reload work in a copy of the workspace of their own.
pub fn outside_workspace() -> PathBuf {
    std::env::temp_dir()
}

/// How every `remote` the harness starts runs: outside the workspace, colours off, no inherited inventory or
/// key, and not as if in GitHub Actions (which adds workflow commands to the output) even when the tests run
/// there.
fn harness_environment(command: &mut Command) {
    command
        .current_dir(outside_workspace())
        .env_remove("REMOTE_INVENTORY")
        .env_remove("REMOTE_KEY")
        .env_remove("REMOTE_BECOME_PASSWORD")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
}

/// What one run of the `remote` binary did.
pub struct CliOutput {
    /// Exit code.
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

/// Runs the `remote` binary with `args`, with colours off and no inherited inventory.
pub fn remote(args: &[&str]) -> CliOutput {
    remote_with_env(args, &[])
}

/// Like [`remote`], with extra environment variables; a `None` value removes the variable.
pub fn remote_with_env(args: &[&str], env: &[(&str, Option<&Path>)]) -> CliOutput {
    let env: Vec<(&str, Option<&std::ffi::OsStr>)> =
        env.iter().map(|(name, value)| (*name, value.map(Path::as_os_str))).collect();
    run_remote(remote_bin(), args, &env)
}

/// Runs `binary` (a build of `remote`) with `args` like [`remote`], with extra environment variables; a
/// `None` value removes the variable.
pub fn run_remote(binary: &Path, args: &[&str], env: &[(&str, Option<&std::ffi::OsStr>)]) -> CliOutput {
    let mut command = Command::new(binary);
    harness_environment(command.args(args));
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    CliOutput::from(command.output().expect("run remote"))
}

impl From<std::process::Output> for CliOutput {
    fn from(output: std::process::Output) -> Self {
        CliOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The static CI binary: `$REMOTE_STATIC_BIN` when `.ci/run` has built it, else built here once with
/// `scripts/build-static` (a release build, minutes the first time), exactly as CI users build it.
pub fn static_remote_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("REMOTE_STATIC_BIN").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace holds the tests crate");
        let output = Command::new("bash")
            .arg(root.join("scripts/build-static"))
            .current_dir(root)
            .output()
            .expect("run scripts/build-static");
        assert!(
            output.status.success(),
            "scripts/build-static failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        PathBuf::from(
            stdout.lines().last().expect("scripts/build-static prints the binary's path last").trim(),
        )
    })
}

/// Runs the `remote` binary with `args` under `sh` after `setup` (e.g. `ulimit -n 100`), like [`remote`], and
/// returns its output with its peak resident memory in KiB: the high-water mark of its own memory (`VmHWM`),
/// read from /proc while it runs.
///
/// Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark across `exec`, so a process forked from this
/// test binary (which holds test data, and other tests' too) starts with the test binary's size as its peak.
pub fn remote_measured(setup: &str, args: &[&str]) -> (CliOutput, u64) {
    let mut script = format!("{setup}; exec \"$0\"");
    for index in 1..=args.len() {
        script.push_str(&format!(" \"${{{index}}}\""));
    }
    let mut command = Command::new("sh");
    harness_environment(command.arg("-c").arg(script).arg(remote_bin()).args(args));
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start remote");
    // Both pipes are drained while the child runs, so that neither side waits on a full pipe.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            text
        })
    };
    let read_out = drain(Box::new(child.stdout.take().expect("stdout")));
    let read_err = drain(Box::new(child.stderr.take().expect("stderr")));
    // The mark only grows, so the last reading before the process ends is its peak but for its final moments.
    let status_file = format!("/proc/{}/status", child.id());
    let peak_kib = |status: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().as_deref().and_then(peak_kib) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait for remote") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let output = CliOutput {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&read_out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&read_err.join().unwrap_or_default()).into_owned(),
    };
    (output, peak)
}

/// Starts the `remote` binary with `args` and piped standard streams, colours off and no inherited
/// inventory, for tests that talk to it or signal it while it runs.
pub fn spawn_remote<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Child {
    let mut command = Command::new(remote_bin());
    harness_environment(command.args(args));
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start remote")
}

/// Runs the `remote` binary with `args`, typing `input` on its standard input (then end of input).
pub fn remote_with_stdin(args: &[&str], input: &str) -> CliOutput {
    use std::io::Write;
    let mut child = spawn_remote(args);
    // Typed from a thread while the output is read, so neither side can fill a pipe and wait on the other;
    // a program that leaves before reading everything is not an error of the typing.
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let typing = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("run remote");
    let _ = typing.join();
    CliOutput {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Pids of local processes whose command line contains `marker` (the test hosts run on this machine).
pub fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
        })
        .filter(|pid| *pid != std::process::id())
        .collect()
}

/// SHA256 fingerprint of a public key file, as `ssh-keygen -l` prints it.
pub fn fingerprint(public_key: &Path) -> String {
    let output = Command::new("ssh-keygen").arg("-lf").arg(public_key).output().expect("run ssh-keygen -l");
    String::from_utf8_lossy(&output.stdout).split_whitespace().nth(1).unwrap_or_default().to_string()
}

/// Generates a fresh ed25519 key pair at `path`.
pub fn generate_key(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("run ssh-keygen");
    assert!(status.success());
}

/// The environment of a running `remote` as `/proc/PID/environ` shows it: `command` (a `remote … exec` whose
/// remote command line holds `marker`, e.g. `sleep 4.N0917`) is started, read once the marker shows on the
/// host (so `remote` has long started), and waited for; it must succeed. Empty when it cannot be read.
pub fn environ_while_running(command: &mut Command, marker: &str) -> String {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start remote");
    let waited = Instant::now();
    while processes_with(marker).is_empty() && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap_or_default();
    assert!(child.wait().expect("remote ends").success(), "remote failed");
    String::from_utf8_lossy(&environ).into_owned()
}

/// A folder holding nothing but a `remote` binary (as `/remote`) and what a CI job brings for the first host
/// of `hosts`: `/remote.toml` with that host as `ci-host` in group `ci`, `/key`, `/known_hosts` and the name
/// in `/etc/hosts`. No libc, no /dev (so no /dev/urandom), no /proc, no /etc/passwd, and no environment at
/// all when it runs: what a static binary must cope with.
pub struct EmptyChroot {
    root: tempfile::TempDir,
}

impl EmptyChroot {
    /// The folder, with `binary` copied in.
    pub fn new(binary: &Path, hosts: &TestHosts) -> Self {
        let server = &hosts.sandbox.servers()[0];
        let root = tempfile::tempdir().expect("temporary folder");
        let put = |name: &str, text: &str| {
            let path = root.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a file in the folder")).expect("make folder");
            std::fs::write(&path, text).expect("write file");
            path
        };
        std::fs::copy(binary, root.path().join("remote")).expect("copy the binary");
        let key = put("key", &std::fs::read_to_string(hosts.sandbox.client_key()).expect("client key"));
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod key");
        put("etc/hosts", &format!("{} ci-host\n", server.address.ip()));
        let public = std::fs::read_to_string(server.host_key_public()).expect("host key");
        put("known_hosts", &format!("[ci-host]:{} {}\n", server.address.port(), public.trim()));
        let user = hosts.sandbox.login_user().to_string();
        let port = server.address.port();
        put(
            "remote.toml",
            &format!(
                "[groups.ci]\nhosts = [\"ci-host:{port}\"]\nuser = \"{user}\"\nkey = \"/key\"\nknown_hosts = \"/known_hosts\"\n"
            ),
        );
        Self { root }
    }

    /// Runs `/remote ARGS` chrooted into the folder (under a user namespace when not root): exit code,
    /// stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        // Found before the environment is cleared for the binary's sake.
        let mut command = if remote_sandbox::is_root() {
            Command::new(program("chroot"))
        } else {
            let mut unshare = Command::new(program("unshare"));
            unshare.args(["--map-root-user".into(), program("chroot")]);
            unshare
        };
        let output =
            command.arg(self.root.path()).arg("/remote").args(args).env_clear().output().expect("run chroot");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// Where program `name` is installed: on PATH, or in the system's sbin folders.
pub fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(Into::into))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed"))
}
