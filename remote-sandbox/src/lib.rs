//! Starts real OpenSSH servers on loopback addresses: the `sandbox` group, the tests' hosts and the
//! benchmark's.
//!
//! Every server gets its own addresses (one, or up to 16 for big fleets), host key, config and log under one
//! state folder; one generated client key is authorised on all of them and their host keys go into the
//! folder's `known_hosts`, so the hosts are used with strict host-key checking like any real fleet.

pub mod workspace;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Everything that can go wrong while starting or stopping test servers.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// OpenSSH's server is not installed.
    #[error(
        "sshd not found (looked for /usr/sbin/sshd and `sshd` on PATH); install it with `sudo apt-get install -y openssh-server`"
    )]
    SshdMissing,
    /// `ssh-keygen` is not installed.
    #[error("ssh-keygen not found; install it with `sudo apt-get install -y openssh-client`")]
    KeygenMissing,
    /// A file or folder of the sandbox could not be written or read.
    #[error("sandbox file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `ssh-keygen` failed.
    #[error("ssh-keygen failed for {}: {stderr}", path.display())]
    Keygen { path: PathBuf, stderr: String },
    /// The address is taken by another program.
    #[error("{address} is already in use (another sandbox? run `remote sandbox down` where it was started)")]
    AddressInUse { address: SocketAddr },
    /// sshd did not come up; its log says why.
    #[error("sshd on {address} did not start: {why}\n--- sshd log ({}) ---\n{log}", log_path.display())]
    Start { address: SocketAddr, why: String, log_path: PathBuf, log: String },
    /// The login user could not read the authorised key.
    #[error("login user `{user}` cannot read {}: {why}; put the sandbox folder somewhere every user can traverse, e.g. under /tmp", path.display())]
    Unreadable { user: String, path: PathBuf, why: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io { path: path.to_path_buf(), source }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// State folder: keys, configs, pid files and logs.
    pub dir: PathBuf,
    /// The hosts' addresses; every address is one host of the inventory.
    pub addresses: Vec<SocketAddr>,
    /// How many of those addresses one sshd listens on (1 to 16, sshd's own limit). Above 1, hosts share a
    /// server and its host key: a 1,000-host fleet is then 63 servers instead of 1,000.
    pub addresses_per_server: usize,
    /// The account every server lets in with the client key.
    pub login_user: String,
    /// `false`: servers are children of this process and die with the [`Sandbox`];
    /// `true`: they detach and keep running until [`stop_daemons`].
    pub detach: bool,
}

/// A running set of servers.
pub struct Sandbox {
    dir: PathBuf,
    login_user: String,
    servers: Vec<Server>,
}

/// One sshd.
pub struct Server {
    /// The first address it listens on.
    pub address: SocketAddr,
    /// Every address it listens on, the first included.
    pub addresses: Vec<SocketAddr>,
    dir: PathBuf,
    detach: bool,
    child: Option<Child>,
}

/// The sshd binary, or a message saying how to install it.
pub fn find_sshd() -> Result<PathBuf, SandboxError> {
    find_program("sshd", &["/usr/sbin/sshd", "/usr/local/sbin/sshd"]).ok_or(SandboxError::SshdMissing)
}

fn find_program(name: &str, usual: &[&str]) -> Option<PathBuf> {
    usual.iter().map(PathBuf::from).find(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
    })
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `count` distinct addresses from `first` upwards (skipping .0 and .255), all on `port`.
pub fn loopback_addresses(count: usize, first: Ipv4Addr, port: u16) -> Vec<SocketAddr> {
    let mut next = u32::from(first);
    let mut addresses = Vec::with_capacity(count);
    while addresses.len() < count {
        let ip = Ipv4Addr::from(next);
        if !matches!(ip.octets()[3], 0 | 255) {
            addresses.push(SocketAddr::new(IpAddr::V4(ip), port));
        }
        next = next.wrapping_add(1);
    }
    addresses
}

/// True when nothing listens on `address`.
pub fn address_is_free(address: SocketAddr) -> bool {
    TcpListener::bind(address).is_ok()
}

impl Sandbox {
    /// Generates missing keys, writes configs and starts one sshd per address, waiting until each answers.
    pub fn start(config: &SandboxConfig) -> Result<Self, SandboxError> {
        let sshd = find_sshd()?;
        if find_program("ssh-keygen", &["/usr/bin/ssh-keygen"]).is_none() {
            return Err(SandboxError::KeygenMissing);
        }
        std::fs::create_dir_all(&config.dir).map_err(io_error(&config.dir))?;
        let dir = config.dir.canonicalize().map_err(io_error(&config.dir))?;
        if is_root() {
            // sshd's privilege separation needs this folder when started as root.
            std::fs::create_dir_all("/run/sshd").map_err(io_error(Path::new("/run/sshd")))?;
        }
        let client_key = dir.join("client_key");
        ensure_key(&client_key, "remote-sandbox-client")?;
        let authorized = dir.join("authorized_keys");
        let public = std::fs::read(client_key.with_extension("pub")).map_err(io_error(&client_key))?;
        write_file(&authorized, &public)?;
        check_readable(&dir, &authorized, &config.login_user)?;

        let per_server = config.addresses_per_server.clamp(1, 16);
        let mut servers = Vec::with_capacity(config.addresses.len().div_ceil(per_server));
        for (index, addresses) in config.addresses.chunks(per_server).enumerate() {
            let server_dir = dir.join("hosts").join(index.to_string());
            std::fs::create_dir_all(&server_dir).map_err(io_error(&server_dir))?;
            ensure_key(&server_dir.join("ssh_host_ed25519_key"), &format!("remote-sandbox-host-{index}"))?;
            write_file(
                &server_dir.join("sshd_config"),
                sshd_config(&server_dir, &authorized, addresses, &config.login_user).as_bytes(),
            )?;
            let (address, addresses) = (addresses[0], addresses.to_vec());
            servers.push(Server { address, addresses, dir: server_dir, detach: config.detach, child: None });
        }
        let mut sandbox = Self { dir, login_user: config.login_user.clone(), servers };
        sandbox.write_known_hosts()?;
        for server in &mut sandbox.servers {
            server.start_with(&sshd)?;
        }
        Ok(sandbox)
    }

    /// The state folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The servers, in address order.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// One server, to stop, restart or re-key it.
    pub fn server_mut(&mut self, index: usize) -> &mut Server {
        &mut self.servers[index]
    }

    /// The client's private key, authorised on every server.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_key")
    }

    /// A `known_hosts` file listing every server's current host key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    /// The account the servers let in.
    pub fn login_user(&self) -> &str {
        &self.login_user
    }

    /// Host entries for the inventory, every address of every server: `addr` on port 22, `addr:port`
    /// otherwise.
    pub fn host_entries(&self) -> Vec<String> {
        self.servers
            .iter()
            .flat_map(|server| server.addresses.iter().map(|address| entry(*address)))
            .collect()
    }

    /// A `[groups.NAME]` table for these hosts, as `remote.toml` text.
    pub fn group_toml(&self, name: &str) -> String {
        let mut document = toml_edit::DocumentMut::new();
        document["groups"] = toml_edit::table();
        document["groups"]["sandbox_placeholder"] = toml_edit::Item::Table(self.group_table());
        document.to_string().replace("sandbox_placeholder", name)
    }

    fn group_table(&self) -> toml_edit::Table {
        let mut table = toml_edit::Table::new();
        let hosts: toml_edit::Array = self.host_entries().iter().map(String::as_str).collect();
        table["hosts"] = toml_edit::value(hosts);
        table["user"] = toml_edit::value(self.login_user.as_str());
        table["key"] = toml_edit::value(self.client_key().display().to_string());
        table["known_hosts"] = toml_edit::value(self.known_hosts().display().to_string());
        table["host_key_checking"] = toml_edit::value("strict");
        // The sandbox's hosts are this machine's own test servers: no ssh_config of the user's or the
        // system's (a `ProxyJump` for every host, `Match final` blocks) may route or change them.
        table["ssh_config"] = toml_edit::value("none");
        table
    }

    /// Writes or replaces group `name` in the inventory at `path`, keeping everything else in it.
    pub fn write_group(&self, path: &Path, name: &str) -> Result<(), SandboxError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(SandboxError::Io { path: path.to_path_buf(), source: e }),
        };
        let mut document: toml_edit::DocumentMut =
            text.parse().map_err(|e: toml_edit::TomlError| SandboxError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            })?;
        if !document.contains_table("groups") {
            let mut groups = toml_edit::Table::new();
            groups.set_implicit(true);
            document["groups"] = toml_edit::Item::Table(groups);
        }
        document["groups"][name] = toml_edit::Item::Table(self.group_table());
        write_file(path, document.to_string().as_bytes())
    }

    /// Rewrites `known_hosts` from the servers' current host keys.
    pub fn write_known_hosts(&self) -> Result<(), SandboxError> {
        let mut lines = String::new();
        for server in &self.servers {
            let public = server.dir.join("ssh_host_ed25519_key.pub");
            let key = std::fs::read_to_string(&public).map_err(io_error(&public))?;
            let mut fields = key.split_whitespace();
            let (kind, blob) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
            for address in &server.addresses {
                lines.push_str(&format!("{} {kind} {blob}\n", known_hosts_name(*address)));
            }
        }
        write_file(&self.known_hosts(), lines.as_bytes())
    }
}

impl Server {
    /// The host as it goes into the inventory (its first address).
    pub fn host_entry(&self) -> String {
        entry(self.address)
    }

    /// Starts (or restarts) this server and waits until it answers with an SSH banner.
    pub fn start(&mut self) -> Result<(), SandboxError> {
        let sshd = find_sshd()?;
        self.start_with(&sshd)
    }

    fn start_with(&mut self, sshd: &Path) -> Result<(), SandboxError> {
        self.stop();
        if let Some(address) = self.addresses.iter().find(|address| !address_is_free(**address)) {
            return Err(SandboxError::AddressInUse { address: *address });
        }
        let log_path = self.log_path();
        let _ = std::fs::remove_file(&log_path);
        let mut command = Command::new(sshd);
        command.arg("-f").arg(self.dir.join("sshd_config")).arg("-E").arg(&log_path);
        if !self.detach {
            command.arg("-D");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_error(sshd))?;
        if self.detach {
            // The daemon forks and its first process exits: a non-zero status means it never listened.
            let status = child.wait().map_err(io_error(sshd))?;
            if !status.success() {
                return Err(self.start_error(format!("sshd exited with {status}"), &mut child));
            }
        } else {
            self.child = Some(child);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if banner_answers(self.address) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut child = self.child.take().expect("child is present");
                return Err(self.start_error(format!("sshd exited with {status}"), &mut child));
            }
            if Instant::now() > deadline {
                let mut child = self.child.take();
                let why = "no SSH banner within 15s".to_string();
                if let Some(c) = child.as_mut() {
                    let _ = c.kill();
                }
                return Err(SandboxError::Start {
                    address: self.address,
                    why,
                    log_path: self.log_path(),
                    log: self.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn start_error(&self, why: String, child: &mut Child) -> SandboxError {
        let mut stderr = String::new();
        if let Some(pipe) = child.stderr.as_mut() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        SandboxError::Start {
            address: self.address,
            why,
            log_path: self.log_path(),
            log: format!("{stderr}{}", self.log()),
        }
    }

    /// Stops this server (its open connections keep running until they end).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(child.id());
            let _ = child.wait();
        } else if let Some(pid) = self.pid() {
            terminate(pid);
            wait_gone(pid);
        }
        let _ = std::fs::remove_file(self.dir.join("sshd.pid"));
    }

    /// The pid of the listening sshd, from its pid file, when that process is still this server: a stale
    /// pid file may name a pid the system has since given to some other program, which must not be signalled.
    pub fn pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir.join("sshd.pid")).ok()?.trim().parse().ok()?;
        (process_alive(pid) && runs_config(pid, &self.dir.join("sshd_config"))).then_some(pid)
    }

    /// Kills the per-connection sshd processes, dropping every open connection while the server keeps
    /// listening.
    pub fn kill_connections(&self) -> usize {
        let Some(listener) = self.child.as_ref().map(Child::id).or_else(|| self.pid()) else { return 0 };
        let children = child_processes(listener);
        for pid in &children {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
        }
        children.len()
    }

    /// Sets `line` (e.g. `MaxSessions 2`) in this server's sshd_config, replacing a line with the same
    /// keyword (sshd takes the first value it reads), and restarts it, to test against servers configured
    /// otherwise.
    pub fn configure(&mut self, line: &str) -> Result<(), SandboxError> {
        let config = self.dir.join("sshd_config");
        let keyword = line.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        let text = std::fs::read_to_string(&config).map_err(io_error(&config))?;
        let mut text: String = text
            .lines()
            .filter(|l| l.split_whitespace().next().is_none_or(|word| word.to_ascii_lowercase() != keyword))
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(line);
        text.push('\n');
        write_file(&config, text.as_bytes())?;
        self.start()
    }

    /// Gives this server a new host key and restarts it, as a reinstalled (or impersonated) host would look.
    pub fn change_host_key(&mut self) -> Result<(), SandboxError> {
        let key = self.dir.join("ssh_host_ed25519_key");
        for path in [key.clone(), key.with_extension("pub")] {
            let _ = std::fs::remove_file(path);
        }
        ensure_key(&key, "remote-sandbox-rekeyed")?;
        self.start()
    }

    /// The server's current public host key file.
    pub fn host_key_public(&self) -> PathBuf {
        self.dir.join("ssh_host_ed25519_key.pub")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }

    /// What sshd has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Detached servers outlive us on purpose; children must not.
        if self.child.is_some() {
            self.stop();
        }
    }
}

/// An address as an inventory host entry: `addr` on port 22, `addr:port` otherwise.
fn entry(address: SocketAddr) -> String {
    if address.port() == 22 { address.ip().to_string() } else { address.to_string() }
}

/// An address as OpenSSH names it in `known_hosts`: `addr` on port 22, `[addr]:port` otherwise.
fn known_hosts_name(address: SocketAddr) -> String {
    if address.port() == 22 {
        address.ip().to_string()
    } else {
        format!("[{}]:{}", address.ip(), address.port())
    }
}

/// Stops every detached server recorded under `dir`; returns how many were running.
pub fn stop_daemons(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir.join("hosts")) else { return 0 };
    let mut stopped = 0;
    for entry in entries.flatten() {
        let address = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut server =
            Server { address, addresses: vec![address], dir: entry.path(), detach: true, child: None };
        if server.pid().is_some() {
            server.stop();
            stopped += 1;
        }
    }
    stopped
}

fn sshd_config(dir: &Path, authorized: &Path, addresses: &[SocketAddr], user: &str) -> String {
    let listen: String = addresses.iter().map(|address| format!("ListenAddress {address}\n")).collect();
    format!(
        "# Written by `remote`'s sandbox; regenerated on every start.\n\
         {listen}\
         HostKey {dir}/ssh_host_ed25519_key\n\
         PidFile {dir}/sshd.pid\n\
         AuthorizedKeysFile {authorized}\n\
         AllowUsers {user}\n\
         StrictModes no\n\
         UsePAM no\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         UseDNS no\n\
         PrintMotd no\n\
         MaxStartups 200:30:400\n\
         Subsystem sftp internal-sftp\n\
         LogLevel INFO\n",
        dir = dir.display(),
        authorized = authorized.display(),
    )
}

fn ensure_key(path: &Path, comment: &str) -> Result<(), SandboxError> {
    if path.exists() && path.with_extension("pub").exists() {
        return Ok(());
    }
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|_| SandboxError::KeygenMissing)?;
    if !output.status.success() {
        return Err(SandboxError::Keygen {
            path: path.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    std::fs::write(path, bytes).map_err(io_error(path))
}

/// sshd reads `authorized_keys` as the login user: when that is someone else, the file and every folder
/// above it must be open to them.
fn check_readable(dir: &Path, authorized: &Path, user: &str) -> Result<(), SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    if user == remote_config::local::current_user() {
        return Ok(());
    }
    for (path, mode) in [(dir, 0o755), (authorized, 0o644)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_error(path))?;
    }
    for ancestor in dir.ancestors().skip(1) {
        let mode = std::fs::metadata(ancestor).map_err(io_error(ancestor))?.permissions().mode();
        if mode & 0o001 == 0 {
            return Err(SandboxError::Unreadable {
                user: user.to_string(),
                path: authorized.to_path_buf(),
                why: format!("{} is not searchable by other users", ancestor.display()),
            });
        }
    }
    Ok(())
}

fn banner_answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut banner = [0u8; 4];
    stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-"
}

fn terminate(pid: u32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
}

fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

/// True when process `pid` is an sshd started with `-f config`. A listening sshd rewrites its command line
/// into one string (`sshd: /usr/sbin/sshd -f CONFIG … [listener] …`), so words are compared after NULs become
/// spaces.
fn runs_config(pid: u32, config: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let text: String = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let program = text.split(' ').next().unwrap_or_default();
    let is_sshd = program == "sshd:" || program.ends_with("/sshd") || program == "sshd";
    // The path it was started with may be written differently from ours (relative, through a link).
    let same = |given: &str| {
        let given = Path::new(given);
        given == config
            || std::fs::canonicalize(given)
                .ok()
                .zip(std::fs::canonicalize(config).ok())
                .is_some_and(|(a, b)| a == b)
    };
    let words: Vec<&str> = text.split(' ').collect();
    is_sshd && words.windows(2).any(|pair| pair[0] == "-f" && same(pair[1]))
}

fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Direct children of `parent`, read from /proc.
fn child_processes(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|stat| {
                // Fields after the command name: state, ppid, …
                let (_, rest) = stat.rsplit_once(") ")?;
                rest.split(' ').nth(1)?.parse::<u32>().ok()
            }) == Some(parent)
        })
        .collect()
}
