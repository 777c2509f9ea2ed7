//! Reads `remote.toml` (defaults + groups) into ready-to-connect [`HostSpec`]s, with errors that name file,
//! line and fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use remote_core::{Agent, Algorithms, Auth, Group, HostKeyPolicy, HostSpec};
use remote_core::{did_you_mean, nodeset};

use crate::local::{current_user, expand_home};
use crate::settings::{self, Explicit};
use crate::ssh_config::{SshConfig, SshConfigError};

/// Environment variable that overrides the default inventory path.
pub const INVENTORY_ENV: &str = "REMOTE_INVENTORY";

/// The parsed inventory file.
#[derive(Clone, Debug)]
pub struct Inventory {
    path: PathBuf,
    groups: BTreeMap<String, Group>,
    notify: Option<Notify>,
    webhooks: BTreeMap<String, String>,
}

/// The `[notify]` table: where the `email` step sends the run's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The SMTP server, `host:port` (port 25 when left out).
    pub smtp: String,
    /// The sender's address.
    pub from: String,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// The login, when the server wants one; its password comes from `REMOTE_SMTP_PASSWORD`.
    pub user: Option<String>,
    /// Who gets the email when the step names no one (`notify`, or `email` with `""`).
    pub to: Vec<String>,
}

/// How the connection to the SMTP server is secured (`tls` in `[notify]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain, then `STARTTLS`, which the server must offer (the default, except on loopback).
    StartTls,
    /// TLS from the first byte (`smtps`, port 465).
    Tls,
    /// No TLS at all (the default on a loopback address: a local relay).
    None,
}

/// The line and column (from 1, in bytes) of byte `offset` of `bytes`.
fn position_of(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
    (before.iter().filter(|b| **b == b'\n').count() + 1, offset - line_start + 1)
}

/// Everything that can be wrong with an inventory, each naming the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file is missing.
    #[error(
        "inventory {} not found; create it (see README.md, \"Inventory\"), pass --inventory FILE, or run `remote sandbox up`",
        path.display()
    )]
    NotFound { path: PathBuf },
    /// The file exists but could not be read.
    #[error("cannot read inventory {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    /// A value is well-formed TOML but makes no sense as an inventory entry.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid { path: PathBuf, line: usize, column: usize, message: String },
    /// The `ssh_config` file a group reads could not be used.
    #[error("{}: {source}", inventory.display())]
    SshConfig {
        inventory: PathBuf,
        #[source]
        source: Box<SshConfigError>,
    },
    /// A group name that the inventory does not define.
    #[error("unknown group `{name}` in {}{}", path.display(), suggestion_text(suggestion.as_deref(), known))]
    UnknownGroup { name: String, path: PathBuf, known: Vec<String>, suggestion: Option<String> },
}

fn suggestion_text(suggestion: Option<&str>, known: &[String]) -> String {
    match (suggestion, known.is_empty()) {
        (Some(s), _) => format!("; did you mean `{s}`?"),
        (None, true) => "; it defines no groups yet".to_string(),
        (None, false) => format!("; known groups: {}", known.join(", ")),
    }
}

/// Settings shared by `[defaults]` and each group; every key is optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    user: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    known_hosts: Option<Spanned<String>>,
    global_known_hosts: Option<Spanned<Vec<String>>>,
    host_key_checking: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    ssh_config: Option<Spanned<String>>,
    /// The system-wide ssh_config, read after `ssh_config` as `ssh` reads `/etc/ssh/ssh_config` after the
    /// user's.
    system_ssh_config: Option<Spanned<String>>,
    /// `become` in the file: run commands through sudo.
    #[serde(rename = "become")]
    become_root: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    hosts: Spanned<Vec<Spanned<String>>>,
    user: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    known_hosts: Option<Spanned<String>>,
    global_known_hosts: Option<Spanned<Vec<String>>>,
    host_key_checking: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    ssh_config: Option<Spanned<String>>,
    system_ssh_config: Option<Spanned<String>>,
    #[serde(rename = "become")]
    become_root: Option<bool>,
}

impl RawGroup {
    /// The group's own settings, each falling back to `[defaults]`.
    fn settings_over(&self, defaults: &RawSettings) -> RawSettings {
        let pick = |own: &Option<Spanned<String>>, default: &Option<Spanned<String>>| {
            own.clone().or_else(|| default.clone())
        };
        RawSettings {
            user: pick(&self.user, &defaults.user),
            key: pick(&self.key, &defaults.key),
            known_hosts: pick(&self.known_hosts, &defaults.known_hosts),
            global_known_hosts: self
                .global_known_hosts
                .clone()
                .or_else(|| defaults.global_known_hosts.clone()),
            host_key_checking: pick(&self.host_key_checking, &defaults.host_key_checking),
            port: self.port.clone().or_else(|| defaults.port.clone()),
            ssh_config: pick(&self.ssh_config, &defaults.ssh_config),
            system_ssh_config: pick(&self.system_ssh_config, &defaults.system_ssh_config),
            become_root: self.become_root.or(defaults.become_root),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawSettings,
    #[serde(default)]
    groups: BTreeMap<String, RawGroup>,
    notify: Option<RawNotify>,
    /// Webhook URLs by name: hooks carry their secret in the URL, which a pipeline's text would spread
    /// (history, reports, `ps`).
    #[serde(default)]
    webhooks: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    smtp: Spanned<String>,
    from: Spanned<String>,
    tls: Option<Spanned<String>>,
    user: Option<String>,
    to: Option<Spanned<Vec<String>>>,
}

impl Inventory {
    /// The inventory path to use when none is given: `$REMOTE_INVENTORY`, else `./remote.toml`.
    pub fn default_path() -> PathBuf {
        std::env::var_os(INVENTORY_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("remote.toml"))
    }

    /// Reads and validates the inventory at `path`.
    pub fn load(path: &Path) -> Result<Self, InventoryError> {
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                InventoryError::NotFound { path: path.to_path_buf() }
            } else {
                InventoryError::Read { path: path.to_path_buf(), source }
            }
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let (line, column) = position_of(&bytes, e.valid_up_to());
            let message = "a byte that is not UTF-8, which TOML must be: save the file as UTF-8".to_string();
            InventoryError::Syntax { path: path.to_path_buf(), line, column, message }
        })?;
        Self::parse(text, path)
    }

    /// Parses inventory text; `path` names the file in errors and anchors relative key paths. Hosts are
    /// looked up in `~/.ssh/config` and then `/etc/ssh/ssh_config`, as `ssh` looks them up, unless their
    /// group names other files (`ssh_config`, `system_ssh_config`) or `"none"`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, InventoryError> {
        Self::parse_with_ssh_config(text, path, Some(&expand_home("~/.ssh/config")))
    }

    /// As [`Inventory::parse`], with `default_ssh_config` read for groups that name none (`None`: read none,
    /// and no system-wide file either unless a group names one).
    pub fn parse_with_ssh_config(
        text: &str,
        path: &Path,
        default_ssh_config: Option<&Path>,
    ) -> Result<Self, InventoryError> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            let (line, column) = err.span().map(|s| line_column(text, s.start)).unwrap_or((1, 1));
            InventoryError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message: err.message().trim().to_string(),
            }
        })?;
        let resolver = Resolver {
            text,
            path,
            base: path.parent().unwrap_or(Path::new(".")),
            default_ssh_config: default_ssh_config.map(Path::to_path_buf),
            default_system_ssh_config: default_ssh_config.map(|_| PathBuf::from(SYSTEM_SSH_CONFIG)),
            ssh_configs: Default::default(),
        };
        let mut groups = BTreeMap::new();
        for (name, group) in &raw.groups {
            let settings = group.settings_over(&raw.defaults);
            let hosts = resolver.hosts(group, &settings)?;
            groups.insert(name.clone(), Group { name: name.clone(), hosts });
        }
        let notify = match &raw.notify {
            Some(table) => Some(resolver.notify(table)?),
            None => None,
        };
        let mut webhooks = BTreeMap::new();
        for (name, url) in &raw.webhooks {
            if !(url.get_ref().starts_with("https://") || url.get_ref().starts_with("http://")) {
                return resolver
                    .invalid(url.span(), format!("webhook `{name}` is not an http:// or https:// URL"));
            }
            webhooks.insert(name.clone(), url.get_ref().clone());
        }
        Ok(Self { path: path.to_path_buf(), groups, notify, webhooks })
    }

    /// The URL of the webhook called `name` in the `[webhooks]` table, or an error that suggests a known
    /// name.
    pub fn webhook(&self, name: &str) -> Result<&str, String> {
        self.webhooks.get(name).map(String::as_str).ok_or_else(|| {
            let hint = match did_you_mean(name, self.webhooks.keys().map(String::as_str)) {
                Some(known) => format!("; did you mean `{known}`?"),
                None => String::new(),
            };
            format!(
                "the inventory {} has no webhook `{name}`{hint}; add it to its [webhooks] table, e.g. {name} = \"https://…\"",
                self.path.display()
            )
        })
    }

    /// The `[notify]` table, when there is one.
    pub fn notify(&self) -> Option<&Notify> {
        self.notify.as_ref()
    }

    /// The file this inventory was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The group called `name`, or an error that suggests the closest known name.
    pub fn group(&self, name: &str) -> Result<&Group, InventoryError> {
        self.groups.get(name).ok_or_else(|| InventoryError::UnknownGroup {
            name: name.to_string(),
            path: self.path.clone(),
            known: self.groups.keys().cloned().collect(),
            suggestion: did_you_mean(name, self.groups.keys().map(String::as_str)),
        })
    }

    /// All groups, sorted by name.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Adds or replaces a group made elsewhere (the prompt's `failed` and `ok`).
    pub(crate) fn insert_group(&mut self, group: Group) {
        self.groups.insert(group.name.clone(), group);
    }

    /// The groups, to be cut down (see [`crate::shard`]).
    pub(crate) fn groups_mut(&mut self) -> impl Iterator<Item = &mut Group> {
        self.groups.values_mut()
    }
}

/// The interpreter looks groups up through this, so that the model needs no inventory parser.
impl remote_core::Groups for Inventory {
    fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    fn names(&self) -> Vec<&str> {
        self.groups.keys().map(String::as_str).collect()
    }

    fn origin(&self) -> &Path {
        &self.path
    }
}

/// Turns raw values into resolved ones, reporting positions in the source text.
struct Resolver<'a> {
    text: &'a str,
    path: &'a Path,
    base: &'a Path,
    /// Read when a group does not name its own `ssh_config`.
    default_ssh_config: Option<PathBuf>,
    /// Read after the user's file when a group does not name its own `system_ssh_config`.
    default_system_ssh_config: Option<PathBuf>,
    /// Each pair of user and system files read once per inventory.
    ssh_configs: std::cell::RefCell<std::collections::HashMap<SshConfigFiles, std::rc::Rc<SshConfig>>>,
}

/// The user's and the system's ssh_config a group reads, `None` for one it does not read.
type SshConfigFiles = (Option<PathBuf>, Option<PathBuf>);

/// OpenSSH's system-wide client configuration, read after the user's.
pub const SYSTEM_SSH_CONFIG: &str = "/etc/ssh/ssh_config";

impl Resolver<'_> {
    fn invalid<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, InventoryError> {
        let (line, column) = line_column(self.text, span.start);
        Err(InventoryError::Invalid { path: self.path.to_path_buf(), line, column, message })
    }

    fn notify(&self, table: &RawNotify) -> Result<Notify, InventoryError> {
        let smtp = table.smtp.get_ref().trim();
        if smtp.is_empty() || smtp.contains(char::is_whitespace) {
            return self.invalid(
                table.smtp.span(),
                "`smtp` is not a server; write it as host:port, e.g. \"mail.example.org:587\"".into(),
            );
        }
        let from = table.from.get_ref().trim();
        if !from.contains('@') || from.contains(char::is_whitespace) {
            return self.invalid(table.from.span(), format!("`from` = \"{from}\" is not an email address"));
        }
        let host = smtp.rsplit_once(':').map_or(smtp, |(host, _)| host).trim_matches(['[', ']']);
        let loopback =
            host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let tls = match table.tls.as_ref().map(|t| (t.get_ref().as_str(), t.span())) {
            None if loopback => SmtpTls::None,
            None | Some(("starttls", _)) => SmtpTls::StartTls,
            Some(("tls", _)) => SmtpTls::Tls,
            Some(("none", _)) => SmtpTls::None,
            Some((other, span)) => {
                return self.invalid(
                    span,
                    format!("tls = \"{other}\" is not known; use \"starttls\", \"tls\" or \"none\""),
                );
            }
        };
        if table.user.is_some() && tls == SmtpTls::None && !loopback {
            let at = table.tls.as_ref().map_or(table.smtp.span(), |t| t.span());
            return self.invalid(
                at,
                "a login (`user`) over tls = \"none\" would send the password in the clear; use \"starttls\" or \"tls\"".into(),
            );
        }
        let to = table.to.as_ref().map(|to| to.get_ref().clone()).unwrap_or_default();
        if let Some(bad) = to.iter().find(|address| !address.contains('@')) {
            let span = table.to.as_ref().map(|to| to.span()).unwrap_or_default();
            return self.invalid(span, format!("`to` has \"{bad}\", which is not an email address"));
        }
        Ok(Notify { smtp: smtp.to_string(), from: from.to_string(), tls, user: table.user.clone(), to })
    }

    fn hosts(&self, group: &RawGroup, settings: &RawSettings) -> Result<Vec<HostSpec>, InventoryError> {
        if group.hosts.get_ref().is_empty() {
            return self.invalid(
                group.hosts.span(),
                "`hosts` is empty; list at least one host, e.g. hosts = [\"10.0.0.5\"]".into(),
            );
        }
        let port = match &settings.port {
            None => None,
            Some(p) => match u16::try_from(*p.get_ref()) {
                Ok(port) if port > 0 => Some(port),
                _ => {
                    return self
                        .invalid(p.span(), format!("port {} is out of range; use 1 to 65535", p.get_ref()));
                }
            },
        };
        let user = match &settings.user {
            Some(u) if u.get_ref().trim().is_empty() => {
                return self.invalid(u.span(), "`user` is empty".into());
            }
            Some(u) => Some(u.get_ref().clone()),
            None => None,
        };
        let host_key_checking = match &settings.host_key_checking {
            None => None,
            Some(p) => match HostKeyPolicy::parse(p.get_ref()) {
                Some(policy) => Some(policy),
                None => {
                    return self.invalid(
                        p.span(),
                        format!(
                            "host_key_checking = \"{}\" is not known; use \"strict\", \"accept-new\" or \"off\"",
                            p.get_ref()
                        ),
                    );
                }
            },
        };
        let config = self.ssh_config(settings)?;
        let local_user = current_user();
        // Each host's name and the entry that first gave it, so that a repeat names both.
        let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        let mut hosts = Vec::with_capacity(group.hosts.get_ref().len());
        for (entry, name) in self.entries(group)? {
            let parsed = match parse_host_entry(&name) {
                Ok(parsed) => parsed,
                Err(why) => {
                    return self.invalid(entry.span(), format!("host \"{name}\": {why}"));
                }
            };
            if let Some(first) = seen.insert(name.clone(), entry.get_ref()) {
                let by = match (first == name, entry.get_ref() == &name) {
                    (true, true) => String::new(),
                    _ => format!(" (by \"{first}\" and \"{}\")", entry.get_ref()),
                };
                return self
                    .invalid(entry.span(), format!("host \"{name}\" is listed twice in this group{by}"));
            }
            let explicit = Explicit {
                name,
                address: parsed.address,
                port: parsed.port.or(port),
                user: parsed.user.or_else(|| user.clone()),
                key: settings.key.as_ref().map(|k| self.file_path(k.get_ref())),
                known_hosts: settings.known_hosts.as_ref().map(|k| self.file_path(k.get_ref())),
                global_known_hosts: settings
                    .global_known_hosts
                    .as_ref()
                    .map(|files| files.get_ref().iter().map(|f| self.file_path(f)).collect()),
                host_key_checking,
                become_root: settings.become_root.unwrap_or(false),
            };
            // A host whose ssh_config remote cannot honour is refused on its own, so one such host never
            // stops a command on the others (or on other groups).
            let spec = settings::resolve(&explicit, config.as_deref(), &local_user)
                .unwrap_or_else(|err| settings::refused(&explicit, &local_user, err.to_string()));
            hosts.push(spec);
        }
        Ok(hosts)
    }

    /// The group's host entries with node-set ranges expanded (`web-[01-40]` is forty hosts), each name with
    /// the entry it came from, in written order.
    fn entries<'g>(&self, group: &'g RawGroup) -> Result<Vec<(&'g Spanned<String>, String)>, InventoryError> {
        let mut names = Vec::with_capacity(group.hosts.get_ref().len());
        for entry in group.hosts.get_ref() {
            if !nodeset::is_pattern(entry.get_ref()) {
                names.push((entry, entry.get_ref().clone()));
                continue;
            }
            match nodeset::expand(entry.get_ref()) {
                Ok(expanded) if names.len() + expanded.len() <= nodeset::MAX_NAMES => {
                    names.extend(expanded.into_iter().map(|name| (entry, name)));
                }
                Ok(_) => {
                    return self.invalid(
                        entry.span(),
                        format!("the group names more than {} hosts; split it", nodeset::MAX_NAMES),
                    );
                }
                Err(err) => return self.invalid(entry.span(), err.to_string()),
            }
        }
        Ok(names)
    }

    /// The `~/.ssh/config` (or the file `ssh_config` names) and then `/etc/ssh/ssh_config` (or the file
    /// `system_ssh_config` names) the group's hosts are looked up in. `ssh_config = "none"` reads neither, as
    /// `ssh -F none` does; `system_ssh_config = "none"` skips the system file only.
    fn ssh_config(&self, settings: &RawSettings) -> Result<Option<std::rc::Rc<SshConfig>>, InventoryError> {
        let named = |setting: &Option<Spanned<String>>, default: &Option<PathBuf>| match setting {
            Some(value) if value.get_ref() == "none" => None,
            Some(value) => Some(self.file_path(value.get_ref())),
            None => default.clone(),
        };
        if settings.ssh_config.as_ref().is_some_and(|value| value.get_ref() == "none") {
            return Ok(None);
        }
        let files = (
            named(&settings.ssh_config, &self.default_ssh_config),
            named(&settings.system_ssh_config, &self.default_system_ssh_config),
        );
        if files == (None, None) {
            return Ok(None);
        }
        let mut loaded = self.ssh_configs.borrow_mut();
        if let Some(config) = loaded.get(&files) {
            return Ok(Some(config.clone()));
        }
        let config = std::rc::Rc::new(
            // Like `ssh` without `-F`, the default `~/.ssh/config` is refused when others could have written
            // it.
            SshConfig::load_files(files.0.as_deref(), files.1.as_deref(), settings.ssh_config.is_none())
                .map_err(|source| InventoryError::SshConfig {
                    inventory: self.path.to_path_buf(),
                    source: Box::new(source),
                })?,
        );
        loaded.insert(files, config.clone());
        Ok(Some(config))
    }

    /// `~` is the home directory; relative paths are relative to the inventory's folder.
    fn file_path(&self, text: &str) -> PathBuf {
        let expanded = expand_home(text);
        if expanded.is_absolute() { expanded } else { self.base.join(expanded) }
    }
}

struct HostEntry {
    user: Option<String>,
    address: String,
    port: Option<u16>,
}

/// Parses `[user@]host[:port]`, with IPv6 literals as `[::1]:22` or bare `::1`.
fn parse_host_entry(entry: &str) -> Result<HostEntry, String> {
    if entry.trim() != entry || entry.is_empty() || entry.chars().any(char::is_whitespace) {
        return Err("a host may not be empty or contain spaces".into());
    }
    let (user, rest) = match entry.rsplit_once('@') {
        Some((user, rest)) if !user.is_empty() => (Some(user.to_string()), rest),
        Some(_) => return Err("nothing before `@`; write user@host or leave the user out".into()),
        None => (None, entry),
    };
    let parse_port = |p: &str| match p.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("port `{p}` is not a number from 1 to 65535")),
    };
    let (address, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or("`[` without a closing `]`")?;
        match after.strip_prefix(':') {
            Some(p) => (address, Some(parse_port(p)?)),
            None if after.is_empty() => (address, None),
            None => return Err(format!("unexpected `{after}` after `]`; write [address]:port")),
        }
    } else if rest.matches(':').count() == 1 {
        let (address, p) = rest.split_once(':').unwrap_or((rest, ""));
        (address, Some(parse_port(p)?))
    } else if rest.contains(':') && rest.parse::<std::net::Ipv6Addr>().is_err() {
        // Several colons are only an IPv6 address; anything else (`h:22:33`) is a typo, not a host name.
        return Err(
            "this is neither host:port nor an IPv6 address; write host:port, or [IPv6-address]:port".into()
        );
    } else {
        (rest, None)
    };
    if address.is_empty() {
        return Err("the address is empty".into());
    }
    Ok(HostEntry { user, address: address.to_string(), port })
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inventory, String> {
        Inventory::parse_with_ssh_config(text, Path::new("/etc/remote/remote.toml"), None)
            .map_err(|e| e.to_string())
    }

    fn check_error(text: &str, expected: &str) {
        let err = parse(text).expect_err("inventory should be rejected");
        assert_eq!(err, expected);
    }

    #[test]
    fn a_byte_that_is_not_utf8_is_named_by_line_and_column() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let check = |bytes: &[u8], expected: &str| {
            let path = dir.path().join("remote.toml");
            std::fs::write(&path, bytes).expect("written");
            let err = Inventory::load(&path).expect_err("refused").to_string();
            assert_eq!(
                err,
                format!(
                    "{}:{expected}: a byte that is not UTF-8, which TOML must be: save the file as UTF-8",
                    path.display()
                )
            );
        };
        check(b"\xff", "1:1");
        check(b"[groups.t]\nhosts = [\"a\"]\n# caf\xe9\n", "3:6");
        check(b"[groups.t]\r\nhosts = [\"\xc3\"]", "2:11");
    }

    #[test]
    fn groups_take_defaults_and_override_them() {
        let inventory = parse(
            r#"
[defaults]
user = "deploy"
key = "keys/id"
port = 2200

[groups.web]
hosts = ["10.0.0.1", "10.0.0.2:22", "admin@[::1]:2222", "::1"]
host_key_checking = "accept-new"
known_hosts = "/tmp/kh"
"#,
        )
        .unwrap();
        let web = inventory.group("web").unwrap();
        let summary: Vec<_> =
            web.hosts.iter().map(|h| (h.address.as_str(), h.port, h.user.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("10.0.0.1", 2200, "deploy"),
                ("10.0.0.2", 22, "deploy"),
                ("::1", 2222, "admin"),
                ("::1", 2200, "deploy")
            ]
        );
        assert_eq!(web.hosts[0].auth, Auth::KeyFile(PathBuf::from("/etc/remote/keys/id")));
        assert_eq!(web.hosts[0].host_key_checking, HostKeyPolicy::AcceptNew);
        assert_eq!(web.hosts[0].known_hosts, PathBuf::from("/tmp/kh"));
        assert_eq!(web.hosts[0].known_hosts_name(), "[10.0.0.1]:2200");
        assert_eq!(web.hosts[1].known_hosts_name(), "10.0.0.2");
    }

    #[test]
    fn host_ranges_expand_in_written_order_and_each_keeps_the_entry_settings() {
        let check = |hosts: &str, expected: &[&str]| {
            let inventory = parse(&format!("[groups.web]\nhosts = [{hosts}]\n")).unwrap();
            let names: Vec<String> =
                inventory.group("web").unwrap().hosts.iter().map(|h| h.name.clone()).collect();
            assert_eq!(names, expected, "hosts = [{hosts}]");
        };
        check(r#""web-[01-03]""#, &["web-01", "web-02", "web-03"]);
        check(r#""10.0.0.[1-2]", "db-[1,3]""#, &["10.0.0.1", "10.0.0.2", "db-1", "db-3"]);
        check(
            r#""deploy@web-[8-10]:2222""#,
            &["deploy@web-8:2222", "deploy@web-9:2222", "deploy@web-10:2222"],
        );
        check(r#""admin@[::1]:2222""#, &["admin@[::1]:2222"]);
        let web = parse("[groups.web]\nhosts = [\"deploy@web-[1-2]:2222\"]\n").unwrap();
        let specs: Vec<_> = web
            .group("web")
            .unwrap()
            .hosts
            .iter()
            .map(|h| (h.address.as_str(), h.port, h.user.as_str()))
            .collect();
        assert_eq!(specs, [("web-1", 2222, "deploy"), ("web-2", 2222, "deploy")]);
    }

    #[test]
    fn bad_host_ranges_are_named_by_line_and_column() {
        check_error(
            "[groups.web]\nhosts = [\"web-[3-1]\"]\n",
            "/etc/remote/remote.toml:2:10: `web-[3-1]`: `3-1` is not a range (it runs backwards); write N, A-B or A-B/STEP with A ≤ B, e.g. [01-40,42]",
        );
        check_error(
            "[groups.web]\nhosts = [\"web-[1-3]\", \"web-2\"]\n",
            "/etc/remote/remote.toml:2:23: host \"web-2\" is listed twice in this group (by \"web-[1-3]\" and \"web-2\")",
        );
        check_error(
            "[groups.web]\nhosts = [\"web-2\", \"web-[1-3]\"]\n",
            "/etc/remote/remote.toml:2:19: host \"web-2\" is listed twice in this group (by \"web-2\" and \"web-[1-3]\")",
        );
        check_error(
            "[groups.web]\nhosts = [\"web-[1-999999999]\"]\n",
            "/etc/remote/remote.toml:2:10: `web-[1-999999999]` names more than 100000 hosts; narrow its ranges",
        );
    }

    #[test]
    fn become_comes_from_defaults_unless_the_group_says() {
        let inventory = parse(
            "[defaults]\nbecome = true\n[groups.a]\nhosts = [\"h\"]\n[groups.b]\nhosts = [\"h\"]\nbecome = false\n\
             [groups.c]\nhosts = [\"h\"]\nssh_config = \"none\"\n",
        )
        .unwrap();
        let become_root = |group: &str| inventory.group(group).unwrap().hosts[0].become_root;
        assert_eq!((become_root("a"), become_root("b"), become_root("c")), (true, false, true));
        assert!(!parse("[groups.g]\nhosts = [\"h\"]\n").unwrap().group("g").unwrap().hosts[0].become_root);
        let err = parse("[groups.g]\nhosts = [\"h\"]\nbecome = \"yes\"\n").unwrap_err().to_string();
        assert!(err.ends_with("remote.toml:3:10: invalid type: string \"yes\", expected a boolean"), "{err}");
    }

    #[test]
    fn the_notify_table() {
        let notify = |table: &str| {
            parse(&format!("[groups.g]\nhosts = [\"h\"]\n[notify]\n{table}")).map(|i| i.notify().cloned())
        };
        let local =
            notify("smtp = \"127.0.0.1:2525\"\nfrom = \"remote@example.org\"\nto = [\"ops@example.org\"]\n")
                .unwrap()
                .unwrap();
        assert_eq!(
            (local.tls, local.to.as_slice(), local.user),
            (SmtpTls::None, &["ops@example.org".to_string()][..], None)
        );
        let remote = notify("smtp = \"mail.example.org:587\"\nfrom = \"r@example.org\"\nuser = \"r\"\n")
            .unwrap()
            .unwrap();
        assert_eq!((remote.tls, remote.user.as_deref()), (SmtpTls::StartTls, Some("r")));
        let smtps = notify("smtp = \"mail.example.org:465\"\nfrom = \"r@example.org\"\ntls = \"tls\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(smtps.tls, SmtpTls::Tls);
        assert!(parse("[groups.g]\nhosts = [\"h\"]\n").unwrap().notify().is_none());
        let error = |table: &str| notify(table).unwrap_err().to_string();
        assert!(
            error("smtp = \"x\"\nfrom = \"nobody\"\n")
                .ends_with(":5:8: `from` = \"nobody\" is not an email address")
        );
        assert!(
            error("smtp = \"x\"\nfrom = \"a@b\"\ntls = \"ssl\"\n")
                .contains("tls = \"ssl\" is not known; use \"starttls\", \"tls\" or \"none\"")
        );
        assert!(error("smtp = \"x\"\nfrom = \"a@b\"\nport = 25\n").contains("unknown field `port`"));
        assert!(
            error("smtp = \"x\"\nfrom = \"a@b\"\nto = [\"ops\"]\n")
                .contains("`to` has \"ops\", which is not an email address")
        );
    }

    #[test]
    fn absent_key_means_agent_then_default_files_and_strict_checking() {
        let inventory = parse("[groups.g]\nhosts = [\"h\"]\n").unwrap();
        let host = &inventory.group("g").unwrap().hosts[0];
        let Auth::Keys { agent, files, identities_only } = &host.auth else { panic!("{:?}", host.auth) };
        assert_eq!((agent, *identities_only), (&Agent::Env, false));
        let names: Vec<_> =
            files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa"]
        );
        assert_eq!(host.host_key_checking, HostKeyPolicy::Strict);
        assert_eq!(host.port, 22);
    }

    #[test]
    fn bad_lines_are_named() {
        check_error(
            "[groups.g]\nhosts = [\"a\", \"b:99999\"]\n",
            "/etc/remote/remote.toml:2:15: host \"b:99999\": port `99999` is not a number from 1 to 65535",
        );
        check_error(
            "[groups.g]\nhosts = [\"a\", \"h:22:33\"]\n",
            "/etc/remote/remote.toml:2:15: host \"h:22:33\": this is neither host:port nor an IPv6 address; \
             write host:port, or [IPv6-address]:port",
        );
        check_error(
            "[groups.g]\nhosts = [\"a\"]\nhost_key_checking = \"yes\"\n",
            "/etc/remote/remote.toml:3:21: host_key_checking = \"yes\" is not known; use \"strict\", \"accept-new\" or \"off\"",
        );
        check_error(
            "[groups.g]\nhosts = []\n",
            "/etc/remote/remote.toml:2:9: `hosts` is empty; list at least one host, e.g. hosts = [\"10.0.0.5\"]",
        );
        check_error(
            "[groups.g]\nhosts = [\"a\", \"a\"]\n",
            "/etc/remote/remote.toml:2:15: host \"a\" is listed twice in this group",
        );
        check_error(
            "[defaults]\nport = 0\n[groups.g]\nhosts = [\"a\"]\n",
            "/etc/remote/remote.toml:2:8: port 0 is out of range; use 1 to 65535",
        );
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_syntax_errors() {
        let err = parse("[groups.g]\nhosts = [\"a\"]\nusr = \"x\"\n").unwrap_err();
        assert!(err.starts_with("/etc/remote/remote.toml:3:1: unknown field `usr`"), "{err}");
        let err = parse("[groups.g\nhosts = 1\n").unwrap_err();
        assert!(err.starts_with("/etc/remote/remote.toml:1:"), "{err}");
    }

    #[test]
    fn unknown_group_suggests_the_closest() {
        let inventory = parse("[groups.sandbox]\nhosts = [\"a\"]\n[groups.web]\nhosts = [\"b\"]\n").unwrap();
        assert_eq!(
            inventory.group("sandbx").unwrap_err().to_string(),
            "unknown group `sandbx` in /etc/remote/remote.toml; did you mean `sandbox`?"
        );
        assert_eq!(
            inventory.group("zzzzzz").unwrap_err().to_string(),
            "unknown group `zzzzzz` in /etc/remote/remote.toml; known groups: sandbox, web"
        );
    }
}
