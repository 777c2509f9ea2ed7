//! Host specs: one target as the configuration resolved it (where, as whom, how to trust it), and named
//! groups of them.
//!
//! These are plain data that cross the hot-reload boundary inside [`crate::Hosts`]; reading them from the
//! inventory and `~/.ssh/config` is remote-config's work, not the model's.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a server's host key is checked against `known_hosts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum HostKeyPolicy {
    /// Unknown and changed keys are refused (the default, as OpenSSH's `StrictHostKeyChecking yes`).
    #[default]
    Strict,
    /// Unknown keys are recorded in `known_hosts`; changed keys are refused.
    AcceptNew,
    /// No check at all; only when asked for explicitly.
    Off,
}

impl HostKeyPolicy {
    /// The policy an inventory's `host_key_checking` names: `strict`, `accept-new` or `off`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "strict" => Some(Self::Strict),
            "accept-new" => Some(Self::AcceptNew),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

impl fmt::Display for HostKeyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Strict => "strict",
            Self::AcceptNew => "accept-new",
            Self::Off => "off",
        })
    }
}

/// How the client proves who it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Auth {
    /// The inventory's `key`: this private key file and nothing else.
    KeyFile(PathBuf),
    /// OpenSSH's order: the agent's keys, then the identity files that exist (`IdentityFile` from
    /// `~/.ssh/config`, else OpenSSH's defaults). With `identities_only`, only agent keys that match a file.
    Keys {
        /// Where the agent is.
        agent: Agent,
        /// Private key files, in the order they are tried.
        files: Vec<PathBuf>,
        /// `IdentitiesOnly yes`.
        identities_only: bool,
    },
}

/// Where ssh-agent is reached (`IdentityAgent`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Agent {
    /// `$SSH_AUTH_SOCK`, when set.
    Env,
    /// A socket path.
    Socket(PathBuf),
    /// No agent (`IdentityAgent none`).
    Off,
}

/// One target: where to connect, as whom, and how to trust it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSpec {
    /// The host as written in the inventory; results and messages use this name.
    pub name: String,
    /// DNS name or IP address to connect to.
    pub address: String,
    /// TCP port of the SSH server.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Client authentication.
    pub auth: Auth,
    /// The user's `known_hosts` file: host keys are checked against it, and accept-new records new ones in
    /// it.
    pub known_hosts: PathBuf,
    /// Files only read, after the user's: further `UserKnownHostsFile`s, then `GlobalKnownHostsFile`.
    pub global_known_hosts: Vec<PathBuf>,
    /// What to do with unknown or changed host keys.
    pub host_key_checking: HostKeyPolicy,
    /// `ConnectTimeout` from `~/.ssh/config`, when it sets one.
    pub connect_timeout: Option<Duration>,
    /// `ServerAliveInterval` from `~/.ssh/config`, when it sets one.
    pub keepalive: Option<Duration>,
    /// `HostKeyAlias` from `~/.ssh/config`: the name host keys are looked up and recorded under, without a
    /// port.
    pub host_key_alias: Option<String>,
    /// The host this one is reached through (`ProxyJump`): the last hop, whose own `jump` is the hop before
    /// it.
    pub jump: Option<Box<HostSpec>>,
    /// Commands run as root through `sudo` (`become = true`, or the `sudo` step); file copies stay the login
    /// user's.
    pub become_root: bool,
    /// `RevokedHostKeys` from `ssh_config`: a file of public keys no host may present.
    pub revoked_host_keys: Option<PathBuf>,
    /// The algorithm lists `ssh_config` sets for this host, which the handshake keeps to.
    pub algorithms: Algorithms,
    /// `HashKnownHosts` from `ssh_config`: whether accept-new records names hashed (unset: as the file is).
    pub hash_known_hosts: Option<bool>,
    /// Why this host is not reached at all: its ssh_config sets what remote cannot honour. Such a host fails
    /// on its own when a command would connect to it; the other hosts go on.
    pub refused: Option<String>,
}

/// `KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers` and `MACs` as `ssh_config` writes them: a list replacing
/// the defaults, or one that adds to them (`+`), removes from them (`-`, wildcards allowed) or puts first
/// (`^`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Algorithms {
    /// `KexAlgorithms`.
    pub kex: Option<String>,
    /// `HostKeyAlgorithms`.
    pub host_key: Option<String>,
    /// `Ciphers`.
    pub ciphers: Option<String>,
    /// `MACs`.
    pub macs: Option<String>,
}

impl HostSpec {
    /// The jump hosts in the order they are passed through: first hop first.
    pub fn jump_chain(&self) -> Vec<&HostSpec> {
        let mut chain = Vec::new();
        let mut hop = self.jump.as_deref();
        while let Some(spec) = hop {
            chain.push(spec);
            hop = spec.jump.as_deref();
        }
        chain.reverse();
        chain
    }

    /// What this host's keys are looked up and recorded under in `known_hosts`: its `HostKeyAlias` alone
    /// (OpenSSH adds no port to an alias), else its address and port.
    pub fn known_hosts_host(&self) -> (&str, u16) {
        match &self.host_key_alias {
            Some(alias) => (alias, 22),
            None => (&self.address, self.port),
        }
    }

    /// The name OpenSSH uses for this host in `known_hosts`: the alias or `addr` on port 22, `[addr]:port`
    /// otherwise.
    pub fn known_hosts_name(&self) -> String {
        match self.known_hosts_host() {
            (host, 22) => host.to_string(),
            (host, port) => format!("[{host}]:{port}"),
        }
    }
}

/// A named set of hosts from the inventory, in the order they were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's name (`[groups.NAME]`).
    pub name: String,
    /// Its hosts, in inventory order.
    pub hosts: Vec<HostSpec>,
}

/// Where the prompt's interpreter looks group names up: the inventory, which remote-config reads.
pub trait Groups {
    /// The group called `name`.
    fn group(&self, name: &str) -> Option<&Group>;
    /// Every group's name, in order.
    fn names(&self) -> Vec<&str>;
    /// The file the groups were read from, for messages.
    fn origin(&self) -> &Path;
}
