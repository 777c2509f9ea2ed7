//! `remote hosts [GROUP]` and `hosts [GROUP]` at the prompt: the groups, or one group's hosts as they resolve
//! from the inventory and `~/.ssh/config` (user, address, port, key, jump chain), so what `remote` will do is
//! visible.

use remote_config::inventory::{Agent, Auth, HostSpec, Inventory, InventoryError};
use remote_core::pretty::{json_text, sanitize};
use serde_json::{Value, json};

/// Prints the groups (without `group`) or the hosts of `group`, as text or as one JSON document.
pub fn print(inventory: &Inventory, group: Option<&str>, json: bool) -> Result<(), InventoryError> {
    let Some(name) = group else {
        if json {
            let groups: Vec<Value> = inventory
                .groups()
                .map(|group| json!({"group": group.name, "hosts": group.hosts.iter().map(|h| &h.name).collect::<Vec<_>>()}))
                .collect();
            outln!("{}", json_text(&json!({ "groups": groups })));
        }
        for group in inventory.groups().filter(|_| !json) {
            let names: Vec<&str> = group.hosts.iter().map(|h| h.name.as_str()).collect();
            // Names come from the inventory, which anyone who can write it may fill with escape sequences.
            outln!("{}", sanitize(&format!("{}  ({} hosts) {}", group.name, names.len(), names.join(" "))));
        }
        return Ok(());
    };
    let group = inventory.group(name)?;
    if json {
        outln!(
            "{}",
            json_text(
                &json!({"group": group.name, "hosts": group.hosts.iter().map(host_json).collect::<Vec<_>>()})
            )
        );
    } else {
        for host in &group.hosts {
            outln!("{}", sanitize(&host_line(host)));
        }
    }
    Ok(())
}

/// `NAME  USER@ADDRESS:PORT  KEYS  [via HOP → HOP]`, or `NAME  refused: WHY`.
fn host_line(host: &HostSpec) -> String {
    if let Some(why) = &host.refused {
        return format!("{}  refused: {why}", host.name);
    }
    let keys = match env_key() {
        Some(identity) => identity.describe(),
        None => keys(&host.auth),
    };
    let mut line = format!("{}  {}  {keys}", host.name, target(host));
    let chain = host.jump_chain();
    if !chain.is_empty() {
        line.push_str(&format!(
            "  via {}",
            chain.iter().map(|hop| target(hop)).collect::<Vec<_>>().join(" → ")
        ));
    }
    line
}

fn target(host: &HostSpec) -> String {
    let address =
        if host.address.contains(':') { format!("[{}]", host.address) } else { host.address.clone() };
    format!("{}@{address}:{}", host.user, host.port)
}

fn keys(auth: &Auth) -> String {
    match auth {
        Auth::KeyFile(path) => format!("key {}", path.display()),
        Auth::Keys { agent, files, identities_only } => {
            let agent = match agent {
                Agent::Env => "ssh-agent ($SSH_AUTH_SOCK)".to_string(),
                Agent::Socket(path) => format!("ssh-agent at {}", path.display()),
                Agent::Off => "no agent".to_string(),
            };
            let existing: Vec<String> =
                files.iter().filter(|f| f.exists()).map(|f| f.display().to_string()).collect();
            let files =
                if existing.is_empty() { "no identity file".to_string() } else { existing.join(", ") };
            let only = if *identities_only { " (IdentitiesOnly)" } else { "" };
            format!("{agent}, then {files}{only}")
        }
    }
}

/// The key from `REMOTE_KEY`, which replaces every host's own keys when it is set.
fn env_key() -> Option<&'static remote_ssh::auth::Identity> {
    crate::IDENTITY.get().and_then(Option::as_ref)
}

fn host_json(host: &HostSpec) -> Value {
    let auth = match &host.auth {
        _ if let Some(identity) = env_key() => {
            json!({"env": remote_ssh::auth::KEY_ENV, "key": identity.describe()})
        }
        Auth::KeyFile(path) => json!({"key": path}),
        Auth::Keys { agent, files, identities_only } => json!({
            "agent": match agent { Agent::Env => json!("SSH_AUTH_SOCK"), Agent::Socket(path) => json!(path), Agent::Off => Value::Null },
            "files": files,
            "identities_only": identities_only,
        }),
    };
    let jumps: Vec<Value> = host
        .jump_chain()
        .iter()
        .map(|hop| json!({"host": hop.name, "user": hop.user, "address": hop.address, "port": hop.port}))
        .collect();
    json!({
        "host": host.name,
        "user": host.user,
        "address": host.address,
        "port": host.port,
        "auth": auth,
        "known_hosts": host.known_hosts,
        "host_key_checking": host.host_key_checking.to_string(),
        "jumps": jumps,
        "refused": host.refused,
    })
}
