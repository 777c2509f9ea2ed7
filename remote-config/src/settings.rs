//! A host's connection settings: what the inventory says, over what `~/.ssh/config` says, over OpenSSH's
//! defaults.
//!
//! The inventory wins because it is the file written for `remote`; `~/.ssh/config` fills in what it leaves
//! out (aliases, users, ports, identity files, jump hosts), so a fleet already set up for `ssh` works as it
//! is.

use std::path::{Path, PathBuf};

use remote_core::{Agent, Auth, HostKeyPolicy, HostSpec};

use crate::local::expand_home;
use crate::ssh_config::{HostConfig, Jump, Query, SshConfig};

/// OpenSSH 9.2's default identity files, in the order it tries them, when no `IdentityFile` applies.
pub const DEFAULT_IDENTITIES: [&str; 7] = [
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

/// OpenSSH's default `UserKnownHostsFile`: the first is where new keys are recorded.
pub const DEFAULT_USER_KNOWN_HOSTS: [&str; 2] = ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"];

/// OpenSSH's default `GlobalKnownHostsFile`.
pub const DEFAULT_GLOBAL_KNOWN_HOSTS: [&str; 2] = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];

/// Jump hosts followed at most, so that a `ProxyJump` loop in `~/.ssh/config` ends with an error, not a hang.
pub const MAX_JUMPS: usize = 8;

/// What the inventory says about one host; `None` where it says nothing.
#[derive(Clone, Debug, Default)]
pub struct Explicit {
    /// The host as written in the inventory.
    pub name: String,
    /// The address part of the entry: an IP, a DNS name or an alias of `~/.ssh/config`.
    pub address: String,
    /// From the entry (`host:port`) or the group's `port`.
    pub port: Option<u16>,
    /// From the entry (`user@host`) or the group's `user`.
    pub user: Option<String>,
    /// The group's `key`.
    pub key: Option<PathBuf>,
    /// The group's `known_hosts`.
    pub known_hosts: Option<PathBuf>,
    /// The group's `global_known_hosts`.
    pub global_known_hosts: Option<Vec<PathBuf>>,
    /// The group's `host_key_checking`.
    pub host_key_checking: Option<HostKeyPolicy>,
    /// The group's `become`.
    pub become_root: bool,
}

/// Why a host's settings could not be worked out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// `StrictHostKeyChecking` holds a value OpenSSH does not know.
    #[error(
        "StrictHostKeyChecking {value:?} in the ssh_config for `{host}` is not known; use yes, accept-new or no"
    )]
    Policy { host: String, value: String },
    /// `~/.ssh/config` gives the host a `ProxyCommand`, which `remote` does not run: connecting directly
    /// instead would bypass the route the user set up.
    #[error(
        "ssh_config gives `{host}` ProxyCommand {command}, which remote does not run and will not bypass by connecting \
         directly; use ProxyJump instead, or set ssh_config = \"none\" for this group"
    )]
    ProxyCommand { host: String, command: String },
    /// The `ProxyJump` chain goes on too long (a loop between hosts' `ProxyJump` lines, most likely).
    #[error(
        "the ProxyJump chain of `{host}` is longer than {MAX_JUMPS} hops ({chain}); look for a loop in ssh_config"
    )]
    JumpLoop { host: String, chain: String },
    /// ssh_config sets something for the host that remote cannot honour; reaching the host anyway could go
    /// where, or trust what, `ssh` would not.
    #[error("ssh_config settings for `{host}` that remote cannot honour, so it refuses the host: {}", reasons.join("; "))]
    Unsupported { host: String, reasons: Vec<String> },
    /// `accept-new` with no file to record keys in: every key would be new every time, so any key would be
    /// trusted.
    #[error(
        "`{host}` is checked with accept-new but has no known_hosts file to record keys in (UserKnownHostsFile none), \
         so every key it presents would be trusted; name a file, or use host_key_checking = \"strict\""
    )]
    AcceptNewWithoutFile { host: String },
}

/// The settings of one host: explicit values first, then `config` (when there is one), then OpenSSH's
/// defaults.
///
/// The inventory's user and port are what `ssh -l USER -p PORT` would be given: `ssh_config` sees them before
/// any of its lines, in `Match user` and in `%r`, `%p` and `%C`.
pub fn resolve(
    explicit: &Explicit,
    config: Option<&SshConfig>,
    local_user: &str,
) -> Result<HostSpec, SettingsError> {
    let found = lookup(config, &explicit.address, explicit.user.as_deref(), explicit.port, local_user);
    found.warnings.iter().for_each(|warning| warn_once(warning));
    let mut spec = host(explicit, &found, local_user)?;
    spec.jump =
        jumps(&explicit.name, found.proxy_jump.as_deref().unwrap_or_default(), explicit, config, local_user)?;
    Ok(spec)
}

/// What `config` says about `host` for `ssh -l USER -p PORT HOST`; nothing without a config.
fn lookup(
    config: Option<&SshConfig>,
    host: &str,
    user: Option<&str>,
    port: Option<u16>,
    local_user: &str,
) -> HostConfig {
    config.map(|c| c.resolve(Query { host, user, port, local_user })).unwrap_or_default()
}

/// One host's own settings, without its jump hosts.
fn host(explicit: &Explicit, found: &HostConfig, local_user: &str) -> Result<HostSpec, SettingsError> {
    if let Some(command) = &found.proxy_command {
        return Err(SettingsError::ProxyCommand { host: explicit.name.clone(), command: command.clone() });
    }
    if !found.refusals.is_empty() {
        return Err(SettingsError::Unsupported {
            host: explicit.name.clone(),
            reasons: found.refusals.clone(),
        });
    }
    let auth = match &explicit.key {
        Some(key) => Auth::KeyFile(key.clone()),
        None => Auth::Keys {
            agent: match found.identity_agent.as_deref() {
                None | Some("SSH_AUTH_SOCK") => Agent::Env,
                Some("none") => Agent::Off,
                Some(path) => Agent::Socket(expand_home(path)),
            },
            // `IdentityFile none` turns the default files off too, as in OpenSSH.
            files: if found.identity_files.is_empty() {
                DEFAULT_IDENTITIES.iter().map(|path| expand_home(path)).collect()
            } else {
                found.identity_files.iter().filter(|file| !is_none(file)).cloned().collect()
            },
            identities_only: found.identities_only.unwrap_or(false),
        },
    };
    // The first user file is where accept-new records; the others are only read, like the global ones. A file
    // set to `none` (in any case, as `ssh` compares it) is no file: it reads as empty, and nothing can be
    // recorded in it, so accept-new is refused below.
    let no_file = |file: &PathBuf| if is_none(file) { PathBuf::from(NO_FILE) } else { file.clone() };
    let mut user_files: Vec<PathBuf> = match (&explicit.known_hosts, found.user_known_hosts_files.is_empty())
    {
        (Some(file), _) => vec![file.clone()],
        (None, false) => found.user_known_hosts_files.iter().map(no_file).collect(),
        (None, true) => DEFAULT_USER_KNOWN_HOSTS.iter().map(|path| expand_home(path)).collect(),
    };
    let known_hosts = user_files.remove(0);
    let globals = match (&explicit.global_known_hosts, found.global_known_hosts_files.is_empty()) {
        (Some(files), _) => files.clone(),
        (None, false) => {
            found.global_known_hosts_files.iter().filter(|file| !is_none(file)).cloned().collect()
        }
        (None, true) => DEFAULT_GLOBAL_KNOWN_HOSTS.iter().map(PathBuf::from).collect(),
    };
    let host_key_checking = match (explicit.host_key_checking, found.strict_host_key_checking.as_deref()) {
        (Some(policy), _) => policy,
        (None, None) => HostKeyPolicy::Strict,
        (None, Some(value)) => policy(value)
            .ok_or_else(|| SettingsError::Policy { host: explicit.name.clone(), value: value.to_string() })?,
    };
    if host_key_checking == HostKeyPolicy::AcceptNew && known_hosts == Path::new(NO_FILE) {
        return Err(SettingsError::AcceptNewWithoutFile { host: explicit.name.clone() });
    }
    Ok(HostSpec {
        name: explicit.name.clone(),
        address: found.hostname.clone().unwrap_or_else(|| explicit.address.clone()),
        port: explicit.port.or(found.port).unwrap_or(22),
        user: explicit.user.clone().or_else(|| found.user.clone()).unwrap_or_else(|| local_user.to_string()),
        auth,
        known_hosts,
        global_known_hosts: user_files.into_iter().chain(globals).collect(),
        host_key_checking,
        connect_timeout: found.connect_timeout,
        keepalive: found.server_alive_interval.filter(|interval| !interval.is_zero()),
        host_key_alias: found.host_key_alias.clone(),
        jump: None,
        become_root: explicit.become_root,
        revoked_host_keys: found.revoked_host_keys.clone(),
        algorithms: found.algorithms.clone(),
        hash_known_hosts: found.hash_known_hosts,
        refused: None,
    })
}

/// A host that is not to be reached, and why: its own values from the inventory, nothing looked up.
pub fn refused(explicit: &Explicit, local_user: &str, why: String) -> HostSpec {
    HostSpec {
        name: explicit.name.clone(),
        address: explicit.address.clone(),
        port: explicit.port.unwrap_or(22),
        user: explicit.user.clone().unwrap_or_else(|| local_user.to_string()),
        auth: Auth::Keys { agent: Agent::Off, files: Vec::new(), identities_only: true },
        known_hosts: PathBuf::from(NO_FILE),
        global_known_hosts: Vec::new(),
        host_key_checking: HostKeyPolicy::Strict,
        connect_timeout: None,
        keepalive: None,
        host_key_alias: None,
        jump: None,
        become_root: explicit.become_root,
        revoked_host_keys: None,
        algorithms: Default::default(),
        hash_known_hosts: None,
        refused: Some(why),
    }
}

/// What a known-hosts file of `none` reads as: a file that is always empty and keeps nothing written to it.
pub const NO_FILE: &str = "/dev/null";

/// Logs a warning about `~/.ssh/config` the first time it comes up: the inventory is read again for every
/// line at the prompt, and a thousand hosts would otherwise repeat the same warning a thousand times.
fn warn_once(warning: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.iter().any(|w| w == warning) {
        tracing::warn!("ssh_config: {warning}");
        seen.push(warning.to_string());
    }
}

fn is_none(file: &Path) -> bool {
    file.to_str().is_some_and(|name| name.eq_ignore_ascii_case("none"))
}

/// `StrictHostKeyChecking` as a policy, with the words `ssh` accepts for it. `ask` has nobody to ask here,
/// which OpenSSH's batch mode treats as `yes`.
fn policy(value: &str) -> Option<HostKeyPolicy> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "ask" => Some(HostKeyPolicy::Strict),
        "accept-new" => Some(HostKeyPolicy::AcceptNew),
        "no" | "false" | "off" => Some(HostKeyPolicy::Off),
        _ => None,
    }
}

/// The chain `hops` (first hop first) as nested specs: the target's `jump` is the last hop, whose own `jump`
/// is the hop before it. As with OpenSSH's `ssh -J`, each hop takes its settings from `~/.ssh/config` under
/// its own name, and only the first hop's own `ProxyJump` is followed further. Host keys are checked as the
/// target's are: same files, same policy, unless the inventory says nothing and the hop's config does.
fn jumps(
    target: &str,
    hops: &[Jump],
    explicit: &Explicit,
    config: Option<&SshConfig>,
    local_user: &str,
) -> Result<Option<Box<HostSpec>>, SettingsError> {
    let mut chain: Vec<Jump> = hops.to_vec();
    // The first hop may itself be reached through its own ProxyJump; those hops go in front.
    while let Some(first) = chain.first() {
        let before = lookup(config, &first.host, first.user.as_deref(), first.port, local_user)
            .proxy_jump
            .unwrap_or_default();
        if before.is_empty() {
            break;
        }
        chain.splice(0..0, before);
        if chain.len() > MAX_JUMPS {
            let names: Vec<&str> = chain.iter().map(|hop| hop.host.as_str()).collect();
            return Err(SettingsError::JumpLoop { host: target.to_string(), chain: names.join(" → ") });
        }
    }
    let mut previous: Option<Box<HostSpec>> = None;
    for hop in chain {
        let hop_explicit = Explicit {
            name: hop.host.clone(),
            address: hop.host.clone(),
            port: hop.port,
            user: hop.user.clone(),
            key: None,
            known_hosts: explicit.known_hosts.clone(),
            global_known_hosts: explicit.global_known_hosts.clone(),
            host_key_checking: explicit.host_key_checking,
            // A jump host only forwards the connection; nothing runs on it.
            become_root: false,
        };
        let found = lookup(config, &hop.host, hop.user.as_deref(), hop.port, local_user);
        let mut spec = host(&hop_explicit, &found, local_user)?;
        spec.jump = previous.take();
        previous = Some(Box::new(spec));
    }
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Resolves `name` (with the inventory's `explicit` values) against the ssh_config `config`, and shows
    /// the result as `user@address:port policy [via hop, hop]`.
    fn check(config: &str, explicit: Explicit, expected: &str) {
        let parsed = SshConfig::parse(config, Path::new("/home/u/.ssh/config")).expect("config parses");
        let spec = resolve(&explicit, Some(&parsed), "local").expect("settings resolve");
        let hops: Vec<String> =
            spec.jump_chain().iter().map(|h| format!("{}@{}:{}", h.user, h.address, h.port)).collect();
        let via = if hops.is_empty() { String::new() } else { format!(" via {}", hops.join(", ")) };
        let shown = format!("{}@{}:{} {}{via}", spec.user, spec.address, spec.port, spec.host_key_checking);
        assert_eq!(shown, expected, "{config}");
    }

    fn named(name: &str) -> Explicit {
        Explicit { name: name.into(), address: name.into(), ..Explicit::default() }
    }

    #[test]
    fn the_inventory_wins_then_ssh_config_then_defaults() {
        let config =
            "Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2200\n  StrictHostKeyChecking accept-new\n";
        check(config, named("web"), "deploy@10.0.0.5:2200 accept-new");
        check(config, named("db"), "local@db:22 strict");
        let explicit = Explicit {
            user: Some("admin".into()),
            port: Some(22),
            host_key_checking: Some(HostKeyPolicy::Strict),
            ..named("web")
        };
        check(config, explicit, "admin@10.0.0.5:22 strict");
        check("Host *\n  StrictHostKeyChecking no\n", named("any"), "local@any:22 off");
        check("Host *\n  StrictHostKeyChecking ask\n", named("any"), "local@any:22 strict");
    }

    #[test]
    fn jump_chains_follow_proxy_jump_and_the_first_hops_own() {
        let config = "Host target\n  ProxyJump ops@inner:2222,last\n\nHost inner\n  ProxyJump outer\n  HostName 10.1.1.1\n\n\
                      Host outer\n  User gate\n";
        check(
            config,
            named("target"),
            "local@target:22 strict via gate@outer:22, ops@10.1.1.1:2222, local@last:22",
        );
        check("Host a\n  ProxyJump none\n", named("a"), "local@a:22 strict");
    }

    #[test]
    fn host_key_alias_names_the_known_hosts_entry_and_proxy_command_is_refused() {
        let parsed =
            SshConfig::parse("Host db\n  HostKeyAlias DB-Primary\n  Port 2222\n", Path::new("/c")).unwrap();
        let spec = resolve(&named("db"), Some(&parsed), "local").unwrap();
        assert_eq!(spec.known_hosts_name(), "db-primary");
        let parsed =
            SshConfig::parse("Host legacy\n  ProxyCommand nc -X 5 %h %p\n", Path::new("/c")).unwrap();
        let err = resolve(&named("legacy"), Some(&parsed), "local").unwrap_err();
        assert!(
            err.to_string().starts_with("ssh_config gives `legacy` ProxyCommand nc -X 5 %h %p (/c:2)"),
            "{err}"
        );
    }

    #[test]
    fn a_proxy_jump_loop_is_an_error() {
        let config = "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n";
        let parsed = SshConfig::parse(config, Path::new("/home/u/.ssh/config")).unwrap();
        let err = resolve(&named("a"), Some(&parsed), "local").unwrap_err();
        assert!(matches!(err, SettingsError::JumpLoop { .. }), "{err}");
    }

    #[test]
    fn identity_files_come_from_ssh_config_or_openssh_defaults() {
        let files = |config: &str, explicit: Explicit| {
            let parsed = SshConfig::parse(config, Path::new("/home/u/.ssh/config")).unwrap();
            match resolve(&explicit, Some(&parsed), "local").unwrap().auth {
                Auth::KeyFile(path) => vec![format!("only {}", path.display())],
                Auth::Keys { files, .. } => {
                    files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect()
                }
            }
        };
        assert_eq!(
            files("Host h\n  IdentityFile /k/one\n  IdentityFile /k/two\n", named("h")),
            ["one", "two"]
        );
        assert_eq!(files("Host h\n  IdentityFile none\n", named("h")), Vec::<String>::new());
        assert_eq!(files("", named("h"))[..2], ["id_rsa", "id_ecdsa"]);
        let keyed = Explicit { key: Some("/inv/key".into()), ..named("h") };
        assert_eq!(files("Host h\n  IdentityFile /k/one\n", keyed), ["only /inv/key"]);
    }
}
