//! OpenSSH client configuration files (`~/.ssh/config`) read with OpenSSH 9.2's semantics.
//!
//! This file holds the public types, the parsed lines and the resolve walk: how `read_config_file_depth` in
//! `readconf.c` applies a file's lines to one host (Host and Match blocks, `SSHCONF_NEVERMATCH` for a file
//! included where no block applies), `match_cfg_line`'s evaluation of the criteria (with `match_hostname` of
//! `match.c` for host names), the first value obtained winning, and the order in which `ssh.c` expands
//! HostName, IdentityFile, UserKnownHostsFile and IdentityAgent. The differential test at the bottom checks
//! `resolve` against `ssh -G`.
//!
//! The submodules, none of which uses another except `loader`:
//! - `loader` reads files into entries: `read_config_file_depth` and `process_config_line_depth` of
//!   `readconf.c`, with `parse_jump`, `match_cfg_line`'s parsing and `Include`;
//! - `keywords` is the `keywords[]` table of `readconf.c` and `parse_token`'s lookup in it;
//! - `misc` has the parsing helpers of `misc.c`: `strdelim`, `argv_split`, `convtime`, `a2port`, `parse_uri`
//!   and `parse_user_host_port`;
//! - `tokens` is the local account and the expansions of `misc.c`: `tilde_expand` and
//!   `vdollar_percent_expand`;
//! - `matching` is `match_pattern` and `match_pattern_list` of `match.c`, and `kex_assemble_names` of
//!   `kex.c` as [`assemble_algorithms`].
//!
//! Loading reads every file once, follows `Include` and rejects what `ssh` rejects, naming file:line;
//! resolving walks the parsed lines for one host the way `ssh` walks the files, so the result does not depend
//! on the order of calls. Nothing here runs a command or touches the network: `Match exec` is never evaluated
//! (its block is not applied and a warning says so).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use remote_core::Algorithms;

mod keywords;
mod loader;
mod matching;
mod misc;
mod tokens;

use keywords::keyword_hint;
use loader::{MAX_INCLUDE_DEPTH, Origin, permissions_ok};
use matching::{host_line_matches, match_pattern_list};
use tokens::{ClientTokens, Local, expand_tokens};

pub use matching::assemble_algorithms;

/// A parsed configuration: the user's file, then the system's (each with the files it includes), as `ssh`
/// reads them.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// One list of lines per top-level file, in the order `ssh` reads them; each starts with every block
    /// active.
    files: Vec<Vec<Entry>>,
    local: Local,
}

/// What `ssh` is told on its command line: the host as typed, `-l USER` and `-p PORT`.
///
/// OpenSSH sets the command line's user and port before it reads any file, so they win over `User` and `Port`
/// lines, `Match user` sees that user, and `%r`/`%p`/`%C` expand to them: `ssh -l deploy -p 2222 web` is
/// resolved here as `Query { host: "web", user: Some("deploy"), port: Some(2222), .. }`.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The host as typed: OpenSSH's "original host".
    pub host: &'a str,
    /// `-l USER` or `USER@` on the command line.
    pub user: Option<&'a str>,
    /// `-p PORT` on the command line.
    pub port: Option<u16>,
    /// The account running `remote`, for `%u` and `Match localuser`.
    pub local_user: &'a str,
}

impl<'a> Query<'a> {
    /// `ssh HOST` with nothing else on the command line.
    pub fn host(host: &'a str, local_user: &'a str) -> Self {
        Query { host, user: None, port: None, local_user }
    }
}

/// The settings that apply to one host, as `ssh` would use them; `None` and empty lists mean "not set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// HostName with `%h` expanded, lowercased unless it is an IP address (as `ssh` does before connecting).
    pub hostname: Option<String>,
    /// User, as written.
    pub user: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Every IdentityFile that applies, in order and without duplicates, with `~` and tokens expanded; an
    /// entry `none` is kept as written: `ssh` loads no key for it but it still keeps the default keys away.
    pub identity_files: Vec<PathBuf>,
    /// IdentitiesOnly.
    pub identities_only: Option<bool>,
    /// IdentityAgent: `none`, `SSH_AUTH_SOCK`, `$VARIABLE` or a path with `~`, tokens and `${VARIABLE}`
    /// expanded.
    pub identity_agent: Option<String>,
    /// The first UserKnownHostsFile line that applies, expanded; `[none]` when it says `none`.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// The first GlobalKnownHostsFile line that applies, with `~` expanded; `[none]` when it says `none`.
    pub global_known_hosts_files: Vec<PathBuf>,
    /// StrictHostKeyChecking as written: yes, no, ask, accept-new, off, true or false.
    pub strict_host_key_checking: Option<String>,
    /// ConnectTimeout; `none` leaves it unset, as in OpenSSH.
    pub connect_timeout: Option<Duration>,
    /// ServerAliveInterval; `none` leaves it unset, as in OpenSSH.
    pub server_alive_interval: Option<Duration>,
    /// ProxyJump hops in the order written; `Some(vec![])` is `ProxyJump none`.
    pub proxy_jump: Option<Vec<Jump>>,
    /// ProxyCommand, unless `none`: a command `remote` does not run, so such a host cannot be reached as ssh
    /// would.
    pub proxy_command: Option<String>,
    /// HostKeyAlias, lowercased: the name host keys are looked up and recorded under instead of the host's.
    pub host_key_alias: Option<String>,
    /// RevokedHostKeys, with `~` and tokens expanded.
    pub revoked_host_keys: Option<PathBuf>,
    /// KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs as written.
    pub algorithms: Algorithms,
    /// HashKnownHosts.
    pub hash_known_hosts: Option<bool>,
    /// What this module did not evaluate or expand as `ssh` would, each naming file:line.
    pub warnings: Vec<String>,
    /// Settings that apply to this host and that `remote` cannot honour, each naming file:line: a host with
    /// any is refused rather than reached in a way `ssh` would not reach it.
    pub refusals: Vec<String>,
}

/// One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jump {
    /// The login name on the jump host, if given.
    pub user: Option<String>,
    /// The jump host, without brackets around an IPv6 address.
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
}

/// Everything that stops a configuration from loading; `ssh` refuses to run with any of these.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    /// The file exists but could not be read.
    #[error("cannot read ssh config {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: io::Error,
    },
    /// A file that an `Include` line names exists but could not be read.
    #[error("{}:{line}: cannot read included file {}", path.display(), included.display())]
    IncludeRead {
        /// The file with the `Include` line.
        path: PathBuf,
        /// The line of the `Include`.
        line: usize,
        /// The file that could not be read.
        included: PathBuf,
        /// Why it could not be read.
        #[source]
        source: io::Error,
    },
    /// The user's own `~/.ssh/config` is writable by group or others, or owned by someone else: `ssh` refuses
    /// to run ("Bad owner or permissions"), since another user could have written its settings.
    #[error(
        "ssh refuses {} because it is writable by group or others or owned by another user (\"Bad owner or \
         permissions\"); run `chmod go-w` on it or change its owner",
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
    },
    /// An included file is writable by group or others, or owned by someone else, which `ssh` refuses.
    #[error(
        "{}:{line}: ssh refuses included file {} because it is writable by group or others or owned by another user; \
         run `chmod go-w` on it or change its owner",
        path.display(),
        included.display()
    )]
    IncludePermissions {
        /// The file with the `Include` line.
        path: PathBuf,
        /// The line of the `Include`.
        line: usize,
        /// The refused file.
        included: PathBuf,
    },
    /// Includes nest deeper than OpenSSH allows, usually because a file includes itself.
    #[error(
        "{}:{line}: includes nest deeper than {MAX_INCLUDE_DEPTH} files; look for a file that includes itself",
        path.display()
    )]
    IncludeDepth {
        /// The file with the `Include` line.
        path: PathBuf,
        /// The line of the `Include`.
        line: usize,
    },
    /// A keyword OpenSSH does not know ("Bad configuration option") and IgnoreUnknown does not cover.
    #[error(
        "{}:{line}: unknown keyword `{keyword}` (ssh: \"Bad configuration option\"); {}",
        path.display(),
        keyword_hint(suggestion.as_deref())
    )]
    UnknownKeyword {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The keyword, lowercased as OpenSSH reports it.
        keyword: String,
        /// A known keyword that is spelled almost the same.
        suggestion: Option<String>,
    },
    /// A keyword without the value it needs.
    #[error("{}:{line}: `{keyword}` needs a value; write it after the keyword", path.display())]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The keyword.
        keyword: String,
    },
    /// A quote that is never closed.
    #[error("{}:{line}: a quote is not closed; close it, or escape the quote character with a backslash", path.display())]
    UnclosedQuote {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
    },
    /// A value the keyword does not accept.
    #[error("{}:{line}: `{keyword}` does not accept `{value}`; {expected}", path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The keyword.
        keyword: String,
        /// The refused value.
        value: String,
        /// What to write instead.
        expected: String,
    },
    /// More values than the keyword takes.
    #[error(
        "{}:{line}: `{keyword}` has extra values at the end of the line; remove them, or quote a value that contains spaces",
        path.display()
    )]
    ExtraValues {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The keyword.
        keyword: String,
    },
    /// A `Match` line that OpenSSH cannot parse.
    #[error("{}:{line}: bad Match line: {message}", path.display())]
    BadMatch {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// Where a line is: the file and the 1-based line number.
#[derive(Clone, Debug)]
struct Loc {
    path: Arc<Path>,
    line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// One line that matters when resolving a host.
#[derive(Clone, Debug)]
struct Entry {
    at: Loc,
    item: Item,
}

#[derive(Clone, Debug)]
enum Item {
    Host(Vec<String>),
    Match(Vec<Criterion>),
    /// The files an `Include` line matched, in glob order, each already parsed.
    Include(Vec<Vec<Entry>>),
    Set(Setting),
    /// A keyword OpenSSH does not know, accepted because an IgnoreUnknown line came before it.
    Unknown(String),
}

/// The value of an option this module models, validated as OpenSSH validates it.
#[derive(Clone, Debug)]
enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    UserKnownHostsFiles(Vec<String>),
    GlobalKnownHostsFiles(Vec<String>),
    StrictHostKeyChecking(String),
    /// `None` is the value `none`, which leaves the option unset so that a later line can still set it.
    ConnectTimeout(Option<u32>),
    ServerAliveInterval(Option<u32>),
    /// `None` is `ProxyJump none`.
    ProxyJump(Option<Vec<Jump>>),
    ProxyCommand(String),
    HostKeyAlias(String),
    IgnoreUnknown(String),
    CanonicalizeHostname(String),
    RevokedHostKeys(String),
    KnownHostsCommand(String),
    CheckHostIp(bool),
    HashKnownHosts(bool),
    RequiredRsaSize(String),
    Algorithms(AlgorithmList, String),
}

/// Which algorithm list a `KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers` or `MACs` line sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AlgorithmList {
    Kex,
    HostKey,
    Ciphers,
    Macs,
}

#[derive(Clone, Debug)]
struct Criterion {
    negate: bool,
    test: Test,
}

#[derive(Clone, Debug)]
enum Test {
    All,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    /// `canonical`: true only when `ssh` reads the files again, after canonicalising the name (which `remote`
    /// refuses) or for `Match final`.
    Canonical,
    /// `final`: asks for a final reading of the files, and is true only on it.
    Final,
    /// A criterion this module does not evaluate (`exec`, `localnetwork`, `tagged`).
    Unsupported(String),
}

impl SshConfig {
    /// Reads `path` (a missing file is an empty configuration), following `Include` (globs, `~`, paths
    /// relative to `~/.ssh` for a user file as OpenSSH does; depth limit as OpenSSH). Unknown keywords are an
    /// error with file:line, as for `ssh` ("Bad configuration option"), except those listed in IgnoreUnknown.
    pub fn load(path: &Path) -> Result<SshConfig, SshConfigError> {
        Self::load_in(path, Local::current())
    }

    /// Parses `text` as if it were the file `path`; `Include` lines still read their files from disk.
    pub fn parse(text: &str, path: &Path) -> Result<SshConfig, SshConfigError> {
        Self::parse_in(text, path, Local::current())
    }

    /// Reads the user's file and then the system's (`/etc/ssh/ssh_config`), as `ssh` does when no `-F` is
    /// given; `None` skips one. A relative `Include` in the system file is relative to `/etc/ssh`, as for
    /// `ssh`. With `check_user`, the user's file is refused when others could have written it, as `ssh`
    /// refuses its default `~/.ssh/config` (a file named with `-F` is not checked).
    pub fn load_files(
        user: Option<&Path>,
        system: Option<&Path>,
        check_user: bool,
    ) -> Result<SshConfig, SshConfigError> {
        let local = Local::current();
        if let Some(path) = user.filter(|_| check_user)
            && fs::metadata(path).is_ok_and(|metadata| !permissions_ok(&metadata, local.uid))
        {
            return Err(SshConfigError::Permissions { path: path.to_path_buf() });
        }
        let mut files = Vec::new();
        for (path, origin) in [(user, Origin::User), (system, Origin::System)] {
            if let Some(path) = path {
                files.push(loader::read_file(path, &local, origin)?);
            }
        }
        Ok(SshConfig { files, local })
    }

    fn load_in(path: &Path, local: Local) -> Result<SshConfig, SshConfigError> {
        let entries = loader::read_file(path, &local, Origin::User)?;
        Ok(SshConfig { files: vec![entries], local })
    }

    fn parse_in(text: &str, path: &Path, local: Local) -> Result<SshConfig, SshConfigError> {
        let entries = loader::parse_file(path, text, &local, Origin::User)?;
        Ok(SshConfig { files: vec![entries], local })
    }

    /// The settings for one connection, as `ssh -l USER -p PORT HOST` would work them out from these files.
    pub fn resolve(&self, query: Query<'_>) -> HostConfig {
        // The command line's values are set before any file is read, so the first value obtained is theirs.
        let mut state = State { user: query.user.map(str::to_string), port: query.port, ..State::default() };
        let mut context = Context { host_arg: query.host, local_user: query.local_user, final_host: None };
        self.walk_files(&context, &mut state);
        if state.want_final {
            // `Match final` anywhere asks `ssh` to read every file again, with the HostName worked out so far
            // (lowercased) as the host that `Host` lines and `Match host` see; values obtained stay first.
            let host = match &state.hostname {
                Some((raw, at)) => {
                    expand_tokens(raw, &[('h', query.host)], false, at, "HostName", &mut state.warnings)
                }
                None => query.host.to_string(),
            };
            let host = host.to_ascii_lowercase();
            // The final reading's HostName is that host: a HostName line read again changes nothing.
            let at = Loc { path: Arc::from(Path::new("(the final reading)")), line: 0 };
            state.hostname = Some((host.replace('%', "%%"), at));
            context.final_host = Some(host);
            self.walk_files(&context, &mut state);
        }
        self.finish(state, &context)
    }

    /// One reading of every file, each from the top with its lines applying to every host until a Host or
    /// Match.
    fn walk_files(&self, context: &Context<'_>, state: &mut State) {
        for entries in &self.files {
            let mut active = true;
            self.walk(entries, &mut active, false, context, state);
        }
    }

    /// Applies `entries` as `read_config_file_depth` reads a file: `active` is shared with the including
    /// file, and `never` is OpenSSH's `SSHCONF_NEVERMATCH`, set for files included where no block applied.
    fn walk(
        &self,
        entries: &[Entry],
        active: &mut bool,
        never: bool,
        context: &Context<'_>,
        state: &mut State,
    ) {
        for entry in entries {
            match &entry.item {
                Item::Host(patterns) => {
                    let host = context.final_host.as_deref().unwrap_or(context.host_arg);
                    *active = !never && host_line_matches(patterns, host);
                }
                Item::Match(criteria) => {
                    *active = !never && self.match_applies(criteria, &entry.at, context, state)
                }
                Item::Include(files) => {
                    let outer = *active;
                    for file in files {
                        self.walk(file, active, never || !outer, context, state);
                        // A Host or Match inside the included file must not change the including file's
                        // block.
                        *active = outer;
                    }
                }
                Item::Set(setting) if *active => state.apply(setting, &entry.at),
                Item::Set(_) => {}
                Item::Unknown(keyword) => {
                    let ignored = state
                        .ignore_unknown
                        .as_ref()
                        .is_some_and(|(list, _)| match_pattern_list(keyword, list, true) == 1);
                    if !ignored {
                        state.warnings.push(format!(
                            "{}: unknown keyword `{keyword}` is not covered by the IgnoreUnknown that applies to this host; \
                             ssh would refuse the configuration",
                            entry.at
                        ));
                    }
                }
            }
        }
    }

    /// `match_cfg_line`: every criterion must hold; criteria this module cannot evaluate make the block not
    /// apply.
    fn match_applies(
        &self,
        criteria: &[Criterion],
        at: &Loc,
        context: &Context<'_>,
        state: &mut State,
    ) -> bool {
        let mut result = true;
        let mut unsupported = Vec::new();
        for criterion in criteria {
            let matched = match &criterion.test {
                Test::All => {
                    if result {
                        result = !criterion.negate;
                    }
                    break;
                }
                Test::Unsupported(name) => {
                    unsupported.push(name.as_str());
                    continue;
                }
                Test::Host(patterns) => {
                    // OpenSSH matches the HostName obtained so far with %h expanded, or the name as typed; on
                    // the final reading, the host that reading is for.
                    let host = match &state.hostname {
                        _ if let Some(host) = &context.final_host => host.clone(),
                        Some((raw, hostname_at)) => expand_tokens(
                            raw,
                            &[('h', context.host_arg)],
                            false,
                            hostname_at,
                            "HostName",
                            &mut state.warnings,
                        ),
                        None => context.host_arg.to_string(),
                    };
                    match_pattern_list(&host.to_ascii_lowercase(), patterns, true) == 1
                }
                Test::OriginalHost(patterns) => {
                    match_pattern_list(&context.host_arg.to_ascii_lowercase(), patterns, true) == 1
                }
                Test::User(patterns) => {
                    let user = state.user.as_deref().unwrap_or(context.local_user);
                    match_pattern_list(user, patterns, false) == 1
                }
                Test::LocalUser(patterns) => match_pattern_list(context.local_user, patterns, false) == 1,
                // True only on the final reading; `final` anywhere on a Match line asks for that reading.
                Test::Canonical => context.final_host.is_some(),
                Test::Final => {
                    state.want_final = true;
                    context.final_host.is_some()
                }
            };
            if matched == criterion.negate {
                result = false;
            }
        }
        if result && !unsupported.is_empty() {
            // Whether the block applies is unknown, so whatever remote did could differ from what ssh does.
            state.refusals.push(format!(
                "{at}: Match {} cannot be evaluated by remote (it never runs commands or reads network \
                 interfaces), so whether this block applies to the host is unknown",
                unsupported.join(", ")
            ));
            return false;
        }
        result
    }

    /// What `ssh.c` does after reading the files: HostName gets %h, then the client options get `~` and
    /// tokens.
    fn finish(&self, state: State, context: &Context<'_>) -> HostConfig {
        let State {
            hostname,
            user,
            port,
            identity_files,
            identities_only,
            identity_agent,
            user_known_hosts,
            global_known_hosts,
            strict_host_key_checking,
            connect_timeout,
            server_alive_interval,
            proxy_jump,
            proxy_command,
            host_key_alias,
            canonicalize_hostname,
            revoked_host_keys,
            known_hosts_command,
            check_host_ip,
            algorithms,
            hash_known_hosts,
            required_rsa_size,
            mut warnings,
            mut refusals,
            ..
        } = state;
        let hostname = hostname.map(|(raw, at)| {
            connect_name(&expand_tokens(
                &raw,
                &[('h', context.host_arg)],
                false,
                &at,
                "HostName",
                &mut warnings,
            ))
        });
        let tokens = ClientTokens::new(
            &self.local,
            hostname.clone().unwrap_or_else(|| connect_name(context.host_arg)),
            port.unwrap_or(22),
            user.clone().unwrap_or_else(|| context.local_user.to_string()),
            host_key_alias
                .clone()
                .map_or_else(|| context.host_arg.to_string(), |alias| alias.to_ascii_lowercase()),
            context.host_arg,
            context.local_user,
        );
        let client_path = |raw: &str, at: &Loc, what: &str, warnings: &mut Vec<String>| -> String {
            self.local.client_path(raw, &tokens, at, what, warnings)
        };

        let identity_files = identity_files
            .into_iter()
            .map(|(raw, at)| {
                // ssh skips `none` before expanding anything; it is kept so that callers know the defaults
                // are off.
                if raw.eq_ignore_ascii_case("none") {
                    PathBuf::from(raw)
                } else {
                    PathBuf::from(client_path(&raw, &at, "IdentityFile", &mut warnings))
                }
            })
            .collect();
        let identity_agent =
            identity_agent.map(|(raw, at)| client_path(&raw, &at, "IdentityAgent", &mut warnings));
        let user_known_hosts_files = match user_known_hosts {
            // `none` in any case is no file, as `ssh` reads it (and `ssh -G` prints it lowercased).
            Some((files, _)) if files.first().is_some_and(|f| f.eq_ignore_ascii_case("none")) => {
                vec![PathBuf::from("none")]
            }
            Some((files, at)) => files
                .iter()
                .map(|raw| PathBuf::from(client_path(raw, &at, "UserKnownHostsFile", &mut warnings)))
                .collect(),
            None => Vec::new(),
        };
        let global_known_hosts_files = match global_known_hosts {
            Some((files, _)) if files.first().is_some_and(|f| f.eq_ignore_ascii_case("none")) => {
                vec![PathBuf::from("none")]
            }
            Some((files, at)) => files
                .iter()
                .map(|raw| {
                    PathBuf::from(self.local.tilde_expand(raw, &at, "GlobalKnownHostsFile", &mut warnings))
                })
                .collect(),
            None => Vec::new(),
        };
        let proxy_command = proxy_command
            .filter(|(command, _)| !command.eq_ignore_ascii_case("none"))
            .map(|(command, at)| format!("{command} ({at})"));
        if let Some((value, at)) =
            canonicalize_hostname.filter(|(value, _)| !matches!(value.as_str(), "no" | "false"))
        {
            refusals.push(format!(
                "{at}: CanonicalizeHostname {value} is not supported by remote yet: ssh would look the name up in DNS \
                 and read the files again for the name it finds"
            ));
        }
        if let Some((command, at)) =
            known_hosts_command.filter(|(command, _)| !command.eq_ignore_ascii_case("none"))
        {
            refusals.push(format!(
                "{at}: KnownHostsCommand {command} is not supported by remote yet (it runs no local commands), and \
                 checking host keys without the keys it prints could accept a key ssh refuses"
            ));
        }
        if let Some((size, at)) = required_rsa_size.filter(|(size, _)| size.parse::<u32>() != Ok(1024)) {
            refusals.push(format!(
                "{at}: RequiredRSASize {size} is not supported by remote yet: it accepts RSA keys of 1024 bits and \
                 more, as ssh does by default; remove the line or set it to 1024 for this host"
            ));
        }
        if let Some((true, at)) = check_host_ip {
            refusals.push(format!(
                "{at}: CheckHostIP yes is not supported by remote yet: ssh would also check the key recorded for the \
                 host's address; remove it, or set it to no for this host"
            ));
        }
        // `none`, in any case, is no file, as `ssh` reads it.
        let revoked_host_keys = revoked_host_keys
            .filter(|(raw, _)| !raw.eq_ignore_ascii_case("none"))
            .map(|(raw, at)| PathBuf::from(client_path(&raw, &at, "RevokedHostKeys", &mut warnings)));
        let mut seen = std::collections::HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        let mut seen = std::collections::HashSet::new();
        refusals.retain(|r| seen.insert(r.clone()));
        HostConfig {
            hostname,
            user,
            port,
            identity_files,
            identities_only,
            identity_agent,
            user_known_hosts_files,
            global_known_hosts_files,
            strict_host_key_checking,
            connect_timeout: connect_timeout.map(|s| Duration::from_secs(s.into())),
            server_alive_interval: server_alive_interval.map(|s| Duration::from_secs(s.into())),
            proxy_jump: proxy_jump.map(Option::unwrap_or_default),
            proxy_command,
            host_key_alias: host_key_alias.map(|alias| alias.to_ascii_lowercase()),
            revoked_host_keys,
            algorithms,
            hash_known_hosts,
            warnings,
            refusals,
        }
    }
}

/// What one resolution is for: the command line's host and the local account, and the host of a final
/// reading.
struct Context<'a> {
    host_arg: &'a str,
    local_user: &'a str,
    /// On the final reading (`Match final`): the host it is for, the HostName found on the first, lowercased.
    final_host: Option<String>,
}
/// The options obtained so far; the first value obtained wins, as in OpenSSH.
#[derive(Default)]
struct State {
    hostname: Option<(String, Loc)>,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<(String, Loc)>,
    identities_only: Option<bool>,
    identity_agent: Option<(String, Loc)>,
    user_known_hosts: Option<(Vec<String>, Loc)>,
    global_known_hosts: Option<(Vec<String>, Loc)>,
    strict_host_key_checking: Option<String>,
    connect_timeout: Option<u32>,
    server_alive_interval: Option<u32>,
    /// `Some(None)` is `ProxyJump none`.
    proxy_jump: Option<Option<Vec<Jump>>>,
    proxy_command: Option<(String, Loc)>,
    host_key_alias: Option<String>,
    ignore_unknown: Option<(String, Loc)>,
    canonicalize_hostname: Option<(String, Loc)>,
    revoked_host_keys: Option<(String, Loc)>,
    known_hosts_command: Option<(String, Loc)>,
    check_host_ip: Option<(bool, Loc)>,
    algorithms: Algorithms,
    hash_known_hosts: Option<bool>,
    required_rsa_size: Option<(String, Loc)>,
    /// A `Match final` was read: the files are read once more.
    want_final: bool,
    warnings: Vec<String>,
    refusals: Vec<String>,
}

fn set_once<T>(slot: &mut Option<T>, value: impl FnOnce() -> T) {
    if slot.is_none() {
        *slot = Some(value());
    }
}

impl State {
    fn apply(&mut self, setting: &Setting, at: &Loc) {
        match setting {
            Setting::HostName(v) => set_once(&mut self.hostname, || (v.clone(), at.clone())),
            Setting::User(v) => set_once(&mut self.user, || v.clone()),
            Setting::Port(v) => set_once(&mut self.port, || *v),
            Setting::IdentityFile(v) => {
                // add_identity_file drops a path that is already listed, comparing the text before expansion.
                if !self.identity_files.iter().any(|(known, _)| known == v) {
                    self.identity_files.push((v.clone(), at.clone()));
                }
            }
            Setting::IdentitiesOnly(v) => set_once(&mut self.identities_only, || *v),
            Setting::IdentityAgent(v) => set_once(&mut self.identity_agent, || (v.clone(), at.clone())),
            Setting::UserKnownHostsFiles(v) => {
                set_once(&mut self.user_known_hosts, || (v.clone(), at.clone()))
            }
            Setting::GlobalKnownHostsFiles(v) => {
                set_once(&mut self.global_known_hosts, || (v.clone(), at.clone()))
            }
            Setting::StrictHostKeyChecking(v) => set_once(&mut self.strict_host_key_checking, || v.clone()),
            Setting::ConnectTimeout(Some(v)) => set_once(&mut self.connect_timeout, || *v),
            Setting::ServerAliveInterval(Some(v)) => set_once(&mut self.server_alive_interval, || *v),
            Setting::ConnectTimeout(None) | Setting::ServerAliveInterval(None) => {}
            Setting::ProxyJump(v) => {
                // parse_jump applies only while neither ProxyCommand nor ProxyJump has been obtained.
                if self.proxy_command.is_none() && self.proxy_jump.is_none() {
                    self.proxy_jump = Some(v.clone());
                }
            }
            Setting::ProxyCommand(v) => {
                if self.proxy_jump.is_none() {
                    set_once(&mut self.proxy_command, || (v.clone(), at.clone()));
                }
            }
            Setting::HostKeyAlias(v) => set_once(&mut self.host_key_alias, || v.clone()),
            Setting::IgnoreUnknown(v) => set_once(&mut self.ignore_unknown, || (v.clone(), at.clone())),
            Setting::CanonicalizeHostname(v) => {
                set_once(&mut self.canonicalize_hostname, || (v.to_ascii_lowercase(), at.clone()))
            }
            Setting::RevokedHostKeys(v) => set_once(&mut self.revoked_host_keys, || (v.clone(), at.clone())),
            Setting::KnownHostsCommand(v) => {
                set_once(&mut self.known_hosts_command, || (v.clone(), at.clone()))
            }
            Setting::CheckHostIp(v) => set_once(&mut self.check_host_ip, || (*v, at.clone())),
            Setting::HashKnownHosts(v) => set_once(&mut self.hash_known_hosts, || *v),
            Setting::RequiredRsaSize(v) => set_once(&mut self.required_rsa_size, || (v.clone(), at.clone())),
            Setting::Algorithms(list, v) => {
                let slot = match list {
                    AlgorithmList::Kex => &mut self.algorithms.kex,
                    AlgorithmList::HostKey => &mut self.algorithms.host_key,
                    AlgorithmList::Ciphers => &mut self.algorithms.ciphers,
                    AlgorithmList::Macs => &mut self.algorithms.macs,
                };
                set_once(slot, || v.clone());
            }
        }
    }
}

/// The name `ssh` connects to: lowercased unless it is an IP address.
fn connect_name(name: &str) -> String {
    if name.parse::<std::net::IpAddr>().is_ok() { name.to_string() } else { name.to_ascii_lowercase() }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::loader::glob_match;
    use super::misc::{argv_split, convtime, parse_jump_hop, strdelim};
    use super::*;
    use std::collections::BTreeMap;
    use std::process::{Command, Stdio};

    const ME: &str = "me";

    fn local(include_home: &Path) -> Local {
        Local {
            home: PathBuf::from("/home/me"),
            include_home: include_home.to_path_buf(),
            uid: 1000,
            hostname: "box.example.org".into(),
        }
    }

    fn parse(text: &str) -> Result<SshConfig, SshConfigError> {
        SshConfig::parse_in(text, Path::new("/cfg"), local(Path::new("/nonexistent-home")))
    }

    fn check(text: &str, host: &str, expected: HostConfig) {
        let config = parse(text).unwrap_or_else(|e| panic!("config should load: {e}\n{text}"));
        assert_eq!(config.resolve(Query::host(host, ME)), expected, "config:\n{text}\nhost: {host}");
    }

    fn check_error(text: &str, expected: &str) {
        match parse(text) {
            Ok(_) => panic!("config should be refused:\n{text}"),
            Err(err) => assert_eq!(err.to_string(), expected, "config:\n{text}"),
        }
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    fn jump(user: Option<&str>, host: &str, port: Option<u16>) -> Jump {
        Jump { user: user.map(str::to_string), host: host.to_string(), port }
    }

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn resolves_as_openssh() {
        let none = HostConfig::default;
        let cases: Vec<(&str, &str, HostConfig)> = vec![
            ("", "a", none()),
            ("# only a comment\n\n   \n", "a", none()),
            (
                "Host a\n  HostName A.Example.COM\n  User bob\n  Port 2222\n",
                "a",
                HostConfig {
                    hostname: Some("a.example.com".into()),
                    user: Some("bob".into()),
                    port: Some(2222),
                    ..none()
                },
            ),
            ("Host a\n  User bob\n", "b", none()),
            // Keywords ignore case, `=` may separate the value, and one `=` may stand between blanks.
            (
                "hOsTnAmE=x\nUSER = bob\nport=\t22\n",
                "a",
                HostConfig { hostname: Some("x".into()), user: Some("bob".into()), port: Some(22), ..none() },
            ),
            // The first value obtained wins for single-valued options.
            (
                "User first\nUser second\nHost a\n  User third\n",
                "a",
                HostConfig { user: Some("first".into()), ..none() },
            ),
            (
                "Host a\n  Port 1\nHost *\n  Port 2\n  User u\n",
                "a",
                HostConfig { port: Some(1), user: Some("u".into()), ..none() },
            ),
            // Host patterns: several per line, wildcards, and a negated match cancels the block.
            ("Host x web-* db?\n  User w\n", "web-1", HostConfig { user: Some("w".into()), ..none() }),
            ("Host x web-* db?\n  User w\n", "db1", HostConfig { user: Some("w".into()), ..none() }),
            ("Host x web-* db?\n  User w\n", "db12", none()),
            ("Host *.example.com !bad.example.com\n  User w\n", "bad.example.com", none()),
            (
                "Host !bad.example.com *.example.com\n  User w\n",
                "ok.example.com",
                HostConfig { user: Some("w".into()), ..none() },
            ),
            ("Host !bad\n  User w\n", "good", none()),
            // Host matching is case-sensitive on the name as typed, and a comma is part of the pattern.
            ("Host web\n  User w\n", "WEB", none()),
            ("Host a,b\n  User w\n", "a", none()),
            // HostName gets %h and %%, and is lowercased unless it is an address.
            (
                "Host *\n  HostName %h.Internal\n",
                "Db",
                HostConfig { hostname: Some("db.internal".into()), ..none() },
            ),
            ("HostName 100%%\n", "a", HostConfig { hostname: Some("100%".into()), ..none() }),
            ("HostName FE80::1\n", "a", HostConfig { hostname: Some("FE80::1".into()), ..none() }),
            // IdentityFile accumulates over blocks, drops repeats, and expands ~ and the tokens.
            (
                "Host a\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile ~/.ssh/a\n  \
                 IdentityFile /k/%h-%r-%u-%p-%n-%d-%i-%l-%L-%%\n",
                "a",
                HostConfig {
                    identity_files: paths(&[
                        "/home/me/.ssh/a",
                        "/k/a-me-me-22-a-/home/me-1000-box.example.org-box-%",
                    ]),
                    ..none()
                },
            ),
            (
                "Host a\n  HostName Real\n  User root\n  Port 2\n  IdentityFile %h_%r_%p_%n\n",
                "a",
                HostConfig {
                    hostname: Some("real".into()),
                    user: Some("root".into()),
                    port: Some(2),
                    identity_files: paths(&["real_root_2_a"]),
                    ..none()
                },
            ),
            ("IdentityFile none\n", "a", HostConfig { identity_files: paths(&["none"]), ..none() }),
            // Quotes and escapes.
            (
                "IdentityFile \"/my keys/id\"\nUser 'o''k'\n",
                "a",
                HostConfig { identity_files: paths(&["/my keys/id"]), user: Some("ok".into()), ..none() },
            ),
            (
                "IdentityFile /my\\ keys/id # a comment\n",
                "a",
                HostConfig { identity_files: paths(&["/my keys/id"]), ..none() },
            ),
            // Known-hosts files: the first line wins with all its files; GlobalKnownHostsFile gets only ~.
            (
                "UserKnownHostsFile ~/kh /x/%h\nUserKnownHostsFile /other\n",
                "h",
                HostConfig { user_known_hosts_files: paths(&["/home/me/kh", "/x/h"]), ..none() },
            ),
            (
                "UserKnownHostsFile none\n",
                "h",
                HostConfig { user_known_hosts_files: paths(&["none"]), ..none() },
            ),
            (
                "GlobalKnownHostsFile ~/g /etc/%h\n",
                "h",
                HostConfig { global_known_hosts_files: paths(&["/home/me/g", "/etc/%h"]), ..none() },
            ),
            (
                "IdentityAgent SSH_AUTH_SOCK\n",
                "h",
                HostConfig { identity_agent: Some("SSH_AUTH_SOCK".into()), ..none() },
            ),
            (
                "IdentityAgent ~/agent.%h\n",
                "h",
                HostConfig { identity_agent: Some("/home/me/agent.h".into()), ..none() },
            ),
            (
                "IdentityAgent none\nIdentityAgent /x\n",
                "h",
                HostConfig { identity_agent: Some("none".into()), ..none() },
            ),
            ("IdentitiesOnly YES\n", "h", HostConfig { identities_only: Some(true), ..none() }),
            (
                "StrictHostKeyChecking accept-new\n",
                "h",
                HostConfig { strict_host_key_checking: Some("accept-new".into()), ..none() },
            ),
            // `none` leaves a time unset, so a later line can still set it.
            (
                "ConnectTimeout none\nConnectTimeout 1m30s\nServerAliveInterval 15\n",
                "h",
                HostConfig { connect_timeout: secs(90), server_alive_interval: secs(15), ..none() },
            ),
            // ProxyJump: hops in order, both syntaxes, none, and the first of ProxyCommand/ProxyJump wins.
            (
                "ProxyJump u@j1:2200,ssh://v@j2:23,[::1]:24\n",
                "h",
                HostConfig {
                    proxy_jump: Some(vec![
                        jump(Some("u"), "j1", Some(2200)),
                        jump(Some("v"), "j2", Some(23)),
                        jump(None, "::1", Some(24)),
                    ]),
                    ..none()
                },
            ),
            ("ProxyJump none\nProxyJump j\n", "h", HostConfig { proxy_jump: Some(vec![]), ..none() }),
            ("ProxyCommand none\nProxyJump j\n", "h", none()),
            (
                "ProxyJump ssh://a%40b@j\n",
                "h",
                HostConfig { proxy_jump: Some(vec![jump(Some("a@b"), "j", None)]), ..none() },
            ),
            // Match: host sees HostName obtained so far, originalhost the name as typed.
            (
                "Host a\n  HostName real.example\nMatch host real.*\n  User r\n",
                "a",
                HostConfig { hostname: Some("real.example".into()), user: Some("r".into()), ..none() },
            ),
            (
                "Host a\n  HostName real.example\nMatch originalhost real.*\n  User r\n",
                "a",
                HostConfig { hostname: Some("real.example".into()), ..none() },
            ),
            ("Match originalhost A\n  User r\n", "a", HostConfig { user: Some("r".into()), ..none() }),
            ("Match host a,!b*\n  User r\n", "bee", none()),
            ("Match host a,!b*\n  User r\n", "a", HostConfig { user: Some("r".into()), ..none() }),
            ("Match !host a\n  User r\n", "b", HostConfig { user: Some("r".into()), ..none() }),
            ("Match user me\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            (
                "User bob\nMatch user bob\n  Port 2\n",
                "h",
                HostConfig { user: Some("bob".into()), port: Some(2), ..none() },
            ),
            ("Match localuser me host h\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match localuser other\n  Port 2\n", "h", none()),
            ("Host x\n  Port 1\nMatch all\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match host=h\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match host \"h\" # comment\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            // Unknown keywords listed in IgnoreUnknown, and deprecated or unsupported ones, are accepted and
            // ignored.
            (
                "IgnoreUnknown Foo*,Bar\nFooBaz 1\nbar x y\nPort 3\n",
                "h",
                HostConfig { port: Some(3), ..none() },
            ),
            (
                "Cipher blowfish\nUseRSH yes\nRSAAuthentication yes\nProtocol 2\nGSSAPIKeyExchange yes\nPort 3\n",
                "h",
                HostConfig { port: Some(3), ..none() },
            ),
        ];
        for (text, host, expected) in cases {
            check(text, host, expected);
        }
    }

    #[test]
    fn warns_about_what_it_does_not_expand() {
        let warnings = |text: &str, host: &str| {
            parse(text).map(|c| c.resolve(Query::host(host, ME)).warnings).unwrap_or_default()
        };
        // ProxyCommand is no warning but a value: the inventory refuses such a host rather than connect
        // around it.
        let parsed = SshConfig::parse("ProxyCommand nc %h %p\n", Path::new("/cfg")).unwrap();
        assert_eq!(parsed.resolve(Query::host("h", "u")).proxy_command.as_deref(), Some("nc %h %p (/cfg:1)"));
        assert!(warnings("HostName %p\n", "h")[0].contains("%p"));
        assert!(warnings("IdentityFile /k/${REMOTE_SSH_CONFIG_TEST_UNSET}\n", "h")[0].contains("not set"));
        // IgnoreUnknown inside a block covers the keyword only for the hosts of that block.
        assert!(warnings("Host a\n  IgnoreUnknown Foo\nHost *\nFoo 1\n", "a").is_empty());
        assert!(warnings("Host a\n  IgnoreUnknown Foo\nHost *\nFoo 1\n", "b")[0].contains("`foo`"));
    }

    /// What a host is refused for: the start of each reason, or nothing.
    #[test]
    fn refuses_what_it_cannot_honour() {
        let check = |text: &str, host: &str, expected: &[&str]| {
            let config = parse(text).unwrap_or_else(|e| panic!("config should load: {e}\n{text}"));
            let refusals = config.resolve(Query::host(host, ME)).refusals;
            let matched = refusals.len() == expected.len()
                && refusals.iter().zip(expected).all(|(r, e)| r.starts_with(e));
            assert!(matched, "config:\n{text}\nhost: {host}\nexpected {expected:?}\nfound {refusals:?}");
        };
        let cannot = " cannot be evaluated by remote (it never runs commands";
        check(
            "Match exec \"test -f /x\"\n  Port 2\n",
            "h",
            &[&format!("/cfg:1: Match exec test -f /x{cannot}")],
        );
        // A block whose other criteria already fail, before or after, cannot apply whatever the command says.
        check("Match host other exec true\n  Port 2\n", "h", &[]);
        check("Match exec true host other\n  Port 2\n", "h", &[]);
        check(
            "Match localnetwork 10.0.0.0/8\n  Port 2\n",
            "h",
            &[&format!("/cfg:1: Match localnetwork 10.0.0.0/8{cannot}")],
        );
        check(
            "Match final exec true\n  ProxyJump gate\n",
            "h",
            &[&format!("/cfg:1: Match exec true{cannot}")],
        );
        check("Match final\n  ProxyJump gate\n", "h", &[]);
        // `canonical` holds only on a second reading after canonicalisation, which never happens here: as
        // ssh's first.
        check("Match canonical\n  Port 2\n", "h", &[]);
        check("Match !canonical\n  Port 2\n", "h", &[]);
        check(
            "CanonicalizeHostname yes\n",
            "h",
            &["/cfg:1: CanonicalizeHostname yes is not supported by remote yet: ssh would"],
        );
        check("CanonicalizeHostname no\n", "h", &[]);
        check(
            "KnownHostsCommand /bin/echo %H\n",
            "h",
            &["/cfg:1: KnownHostsCommand /bin/echo %H is not supported by remote"],
        );
        check("KnownHostsCommand none\n", "h", &[]);
        check("Host other\n  KnownHostsCommand /bin/echo\n", "h", &[]);
        check(
            "CheckHostIP yes\n",
            "h",
            &["/cfg:1: CheckHostIP yes is not supported by remote yet: ssh would also check"],
        );
        check("CheckHostIP no\nCheckHostIP yes\n", "h", &[]);
        check(
            "RequiredRSASize 2048\n",
            "h",
            &["/cfg:1: RequiredRSASize 2048 is not supported by remote yet"],
        );
        check("RequiredRSASize 1024\n", "h", &[]);
    }

    #[test]
    fn the_command_line_user_and_port_come_first() {
        let resolve = |text: &str, user: Option<&str>, port: Option<u16>| {
            let config = parse(text).unwrap_or_else(|e| panic!("config should load: {e}\n{text}"));
            config.resolve(Query { host: "web", user, port, local_user: ME })
        };
        let text = "Match user deploy\n  Port 2200\n  ProxyJump gate\n  StrictHostKeyChecking no\nHost *\n  User other\n  \
                    Port 2222\n  UserKnownHostsFile /kh/%r-%p-%C\n  IdentityFile /k/id_%r\n";
        let found = resolve(text, Some("deploy"), None);
        assert_eq!((found.user.as_deref(), found.port), (Some("deploy"), Some(2200)));
        assert_eq!(found.strict_host_key_checking.as_deref(), Some("no"));
        assert_eq!(found.proxy_jump.map(|hops| hops.len()), Some(1));
        // %C is the SHA-1 of "box.example.org" "web" "2200" "deploy" (`printf %s … | sha1sum`).
        assert_eq!(
            found.user_known_hosts_files,
            [PathBuf::from("/kh/deploy-2200-948e0ca41ce616ee9dbe2cd721968a97074793ec")]
        );
        assert_eq!(found.identity_files, [PathBuf::from("/k/id_deploy")]);
        let found = resolve(text, None, Some(2022));
        assert_eq!(
            (found.user.as_deref(), found.port, found.proxy_jump.as_ref()),
            (Some("other"), Some(2022), None)
        );
        assert!(
            found.user_known_hosts_files[0].to_string_lossy().starts_with("/kh/other-2022-"),
            "{found:?}"
        );
    }

    /// A pipe (or socket, or device) as a configuration file is refused, not read: reading a pipe that nobody
    /// writes would block every resolution for good. `/dev/null` (`ssh -F /dev/null`) stays an empty file.
    #[test]
    fn pipes_are_refused_and_dev_null_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("fifo");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
        assert!(made.success());
        let config = dir.path().join("config");
        fs::write(&config, format!("Include {}\n", fifo.display())).expect("write");
        let err = SshConfig::load(&config).expect_err("an included pipe is refused");
        assert!(err.to_string().contains("cannot read included file"), "{err}");
        let err = SshConfig::load(&fifo).expect_err("a pipe as the file itself is refused");
        assert!(err.to_string().starts_with("cannot read ssh config"), "{err}");
        assert!(
            std::error::Error::source(&err).is_some_and(|e| e.to_string().contains("not a regular file")),
            "{err:?}"
        );
        let empty = SshConfig::load(Path::new("/dev/null")).expect("/dev/null reads as empty");
        assert_eq!(empty.resolve(Query::host("h", ME)), HostConfig::default());
    }

    #[test]
    fn refuses_what_ssh_refuses() {
        check_error(
            "Host a\n  Hostnme x\n",
            "/cfg:2: unknown keyword `hostnme` (ssh: \"Bad configuration option\"); did you mean `HostName`? An option for \
             a newer ssh can be listed in IgnoreUnknown",
        );
        check_error(
            "Frobnicate yes\n",
            "/cfg:1: unknown keyword `frobnicate` (ssh: \"Bad configuration option\"); fix the spelling, or list the keyword \
             in IgnoreUnknown before this line",
        );
        check_error("Port 0\n", "/cfg:1: `port` does not accept `0`; write a port number from 1 to 65535");
        check_error(
            "Host x\n  Port 65536\n",
            "/cfg:2: `port` does not accept `65536`; write a port number from 1 to 65535",
        );
        check_error("Port\n", "/cfg:1: `port` needs a value; write it after the keyword");
        check_error(
            "User a b\n",
            "/cfg:1: `user` has extra values at the end of the line; remove them, or quote a value that contains spaces",
        );
        check_error(
            "User \"a\n",
            "/cfg:1: a quote is not closed; close it, or escape the quote character with a backslash",
        );
        check_error(
            "BatchMode maybe\n",
            "/cfg:1: `batchmode` does not accept `maybe`; write one of yes, no, true, false",
        );
        check_error(
            "ConnectTimeout 5x\n",
            "/cfg:1: `connecttimeout` does not accept `5x`; write seconds, or a time such as 30s, 5m or 1h30m",
        );
        check_error(
            "UserKnownHostsFile /a none\n",
            "/cfg:1: `userknownhostsfile` does not accept `none`; write `none` alone or leave it out",
        );
        check_error(
            "ProxyJump a,,b\n",
            "/cfg:1: `proxyjump` does not accept `a,,b`; write [user@]host[:port] or ssh://[user@]host[:port], separated by \
             commas, or none",
        );
        check_error(
            "ProxyJump ssh://h/path\n",
            &parse("ProxyJump ssh://h/path\n").err().map(|e| e.to_string()).unwrap_or_default(),
        );
        check_error(
            "Match all host x\n",
            "/cfg:1: bad Match line: `all` cannot be combined with other criteria; write `Match all` alone",
        );
        check_error("Match host\n", "/cfg:1: bad Match line: `host` needs a pattern after it");
        check_error(
            "Match color red\n",
            "/cfg:1: bad Match line: unknown criterion `color`; use all, host, originalhost, user, localuser, exec, canonical \
             or final",
        );
        // A bad line in a block that never applies is still an error, as in ssh.
        check_error(
            "Host nothing-matches\n  Port 99999\n",
            "/cfg:2: `port` does not accept `99999`; write a port number from 1 to 65535",
        );
        // IgnoreUnknown covers only the lines after it.
        assert!(parse("Foo 1\nIgnoreUnknown Foo\n").is_err());
    }

    #[test]
    fn follows_includes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path();
        let ssh = home.join(".ssh");
        fs::create_dir_all(ssh.join("conf.d")).expect("mkdir");
        let write = |name: &str, text: &str| fs::write(ssh.join(name), text).expect("write");
        write("common", "User common\nIdentityFile ~/common_key\n");
        write("conf.d/20-b.conf", "Host b\n  Port 20\n");
        write("conf.d/10-a.conf", "Host b\n  Port 10\nHost a\n  Port 11\n");
        write("conf.d/.hidden.conf", "Port 99\n");
        write("in-block", "Port 7\nMatch all\n  IdentityFile /from-match\n");
        write("self", "Include self\n");
        let load = |text: &str| SshConfig::parse_in(text, Path::new("/cfg"), local(home));

        let config = load("Include common conf.d/*.conf\nHost a b\n  Port 1\n").expect("loads");
        assert_eq!(config.resolve(Query::host("b", ME)).port, Some(10));
        assert_eq!(config.resolve(Query::host("a", ME)).port, Some(11));
        assert_eq!(config.resolve(Query::host("c", ME)).user.as_deref(), Some("common"));
        let absolute = format!("Include {}/conf.d/2*\n", ssh.display());
        assert_eq!(load(&absolute).expect("loads").resolve(Query::host("b", ME)).port, Some(20));
        assert_eq!(
            load("Include ~/.ssh/common\n").expect("loads").resolve(Query::host("x", ME)).user.as_deref(),
            Some("common")
        );
        assert_eq!(
            load("Include missing*.conf nothing\n").expect("loads").resolve(Query::host("x", ME)),
            HostConfig::default()
        );

        // An Include inside a Host block applies only when the block does; a Match inside it does not leak
        // out.
        let config = load("Host a\n  Include in-block\n  User a\n").expect("loads");
        assert_eq!(
            config.resolve(Query::host("a", ME)),
            HostConfig {
                port: Some(7),
                user: Some("a".into()),
                identity_files: paths(&["/from-match"]),
                ..HostConfig::default()
            }
        );
        assert_eq!(config.resolve(Query::host("b", ME)), HostConfig::default());

        let err = load("Include self\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err,
            format!(
                "{}:1: includes nest deeper than 16 files; look for a file that includes itself",
                ssh.join("self").display()
            )
        );
        write("bad", "\nPort 0\n");
        let err = load("Include bad\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with(&format!("{}:2: `port`", ssh.join("bad").display())), "{err}");
        write("open", "Port 1\n");
        fs::set_permissions(ssh.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .expect("chmod");
        let err = load("\nInclude open\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("/cfg:2: ssh refuses included file"), "{err}");
    }

    #[test]
    fn load_treats_a_missing_file_as_empty() {
        let config = SshConfig::load(Path::new("/nonexistent/ssh_config")).expect("a missing file is empty");
        assert_eq!(config.resolve(Query::host("h", ME)), HostConfig::default());
    }

    #[test]
    fn splits_words_as_openssh() {
        assert_eq!(
            argv_split(r#"a "b c" d\ e 'f"g' h\\i # x"#),
            Some(vec!["a".into(), "b c".into(), "d e".into(), "f\"g".into(), "h\\i".into()])
        );
        assert_eq!(argv_split("a 'b"), None);
        assert_eq!(strdelim(Some("Port=22")), (Some("Port".into()), Some("22")));
        assert_eq!(strdelim(Some("Port = 22")), (Some("Port".into()), Some("22")));
        assert_eq!(strdelim(Some("\"Host\" x")), (Some("Host".into()), Some("x")));
        assert_eq!(convtime("1h30m"), Some(5400));
        assert_eq!(convtime("1w"), Some(604800));
        assert_eq!(convtime("-1"), None);
        assert_eq!(convtime("99999999999"), None);
        // A unit of more than one byte is refused, not cut in half (found by the property tests).
        assert_eq!(convtime("1é"), None);
        assert_eq!(convtime("5m1€"), None);
        assert!(
            glob_match("*.conf", "a.conf") && !glob_match("*.conf", ".a.conf") && glob_match("[!b]?", "ax")
        );
        assert_eq!(match_pattern_list("abc", "x,!a*", false), -1);
        assert_eq!(match_pattern_list("abc", "x,A*", true), 1);
    }

    /// One differential case: a configuration, files under `$HOME` it may include, and the hosts to resolve.
    struct Case {
        config: &'static str,
        files: &'static [(&'static str, &'static str)],
        hosts: &'static [&'static str],
    }

    const CASES: &[Case] = &[
        Case { config: "", files: &[], hosts: &["plain", "UPPER.Example"] },
        Case {
            config: "Host a\n  HostName a.example.com\n  User bob\n  Port 2222\n",
            files: &[],
            hosts: &["a", "b"],
        },
        Case {
            config: "Host x web-* db? !db9\n  User w\n  Port 2\nHost *\n  User fallback\n",
            files: &[],
            hosts: &["web-1", "db1", "db9", "db12", "x"],
        },
        Case {
            config: "Host !bad *.example.com\n  User w\n",
            files: &[],
            hosts: &["bad", "ok.example.com", "bad.example.com"],
        },
        Case {
            config: "hOsTnAmE=x.example\nUSER = bob\nport=\t2022\nIdentitiesOnly=yes\n",
            files: &[],
            hosts: &["a"],
        },
        Case {
            config: "IdentityFile \"~/my keys/id\"\nUser 'o''k'\nUserKnownHostsFile /kh\\ 1 \"/kh 2\" # comment\n",
            files: &[],
            hosts: &["a"],
        },
        Case {
            config: "Host a\n  IdentityFile ~/.ssh/a\n  User first\nHost *\n  IdentityFile ~/.ssh/a\n  \
                     IdentityFile ~/.ssh/%h_%r\n  User second\n  IdentityFile none\n",
            files: &[],
            hosts: &["a", "b"],
        },
        Case {
            config: "Host *\n  HostName %h.Internal.Example\n  UserKnownHostsFile ~/kh_%h_%p_%r_%u_%n_%d_%i_%l_%L_%k_%%\n",
            files: &[],
            hosts: &["Db", "web"],
        },
        Case {
            config: "Host a\n  HostKeyAlias Alias.Example\n  Port 2200\n  User deploy\nHost *\n  \
                     UserKnownHostsFile /k/%k-%p-%r-%u\n",
            files: &[],
            hosts: &["a", "b"],
        },
        Case { config: "HostName 10.0.0.1\n", files: &[], hosts: &["a"] },
        Case {
            config: "UserKnownHostsFile /x${PATH}/%%{PATH}\nIdentityAgent /agent/${PATH}\n",
            files: &[],
            hosts: &["a"],
        },
        Case { config: "HostName FE80::AB\n", files: &[], hosts: &["a"] },
        Case {
            config: "Host a\n  IdentityAgent none\nHost b\n  IdentityAgent SSH_AUTH_SOCK\nHost *\n  \
                     IdentityAgent ~/agent.%h.%p\n",
            files: &[],
            hosts: &["a", "b", "c"],
        },
        Case {
            config: "Host a\n  UserKnownHostsFile none\n  GlobalKnownHostsFile none\nHost *\n  \
                     GlobalKnownHostsFile ~/g1 /etc/g2\n  UserKnownHostsFile ~/u1\n",
            files: &[],
            hosts: &["a", "b"],
        },
        Case {
            config: "Host a\n  StrictHostKeyChecking accept-new\nHost b\n  StrictHostKeyChecking no\nHost c\n  \
                     StrictHostKeyChecking off\nHost *\n  StrictHostKeyChecking yes\n",
            files: &[],
            hosts: &["a", "b", "c", "d"],
        },
        Case {
            config: "Host a\n  ConnectTimeout none\nHost *\n  ConnectTimeout 1m30s\n  ServerAliveInterval 1h\nHost b\n  \
                     ServerAliveInterval 5\n",
            files: &[],
            hosts: &["a", "b"],
        },
        Case {
            config: "Host a\n  ProxyJump u@j1:2200,ssh://v@j2:23,j3\nHost b\n  ProxyJump none\nHost c\n  ProxyCommand none\n\
                     Host d\n  ProxyJump [10.0.0.1]:2\nHost *\n  ProxyJump j@last\n",
            files: &[],
            hosts: &["a", "b", "c", "d", "e"],
        },
        Case {
            config: "Host a\n  HostName real.example\nMatch host real.*\n  User by-host\nMatch originalhost a\n  Port 2\n\
                     Match !originalhost a\n  Port 3\n",
            files: &[],
            hosts: &["a", "real.example", "b"],
        },
        Case {
            config: "Match host a,!b*\n  User r\nMatch user r\n  Port 2\nMatch localuser nobody-here\n  Port 3\n\
                     Match all\n  IdentityFile ~/all\n",
            files: &[],
            hosts: &["a", "bee", "c"],
        },
        Case {
            config: "Include common conf.d/*.conf\nHost a b\n  Port 1\n",
            files: &[
                (".ssh/common", "User common\nIdentityFile ~/common_key\n"),
                (".ssh/conf.d/20-b.conf", "Host b\n  Port 20\n"),
                (".ssh/conf.d/10-a.conf", "Host b\n  Port 10\n  User ten\nHost a\n  Port 11\n"),
                (".ssh/conf.d/.hidden.conf", "Port 99\n"),
            ],
            hosts: &["a", "b", "c"],
        },
        Case {
            config: "Host a\n  Include ~/inc/block.conf\n  User after\nHost *\n  User star\n",
            files: &[(
                "inc/block.conf",
                "Port 7\nMatch all\n  IdentityFile ~/from-match\nHost b\n  Port 9\nHost x\n  Port 8\n",
            )],
            hosts: &["a", "b"],
        },
        Case {
            config: "IgnoreUnknown Foo*,Bar\nFooBaz 1\nbar x y\nCipher blowfish\nUseRSH yes\nProtocol 2\nRSAAuthentication no\n\
                     GSSAPIAuthentication no\nPort 3\n",
            files: &[],
            hosts: &["h"],
        },
        Case {
            config: "# comment\n\n\tPort 4 # trailing\n  User\t\"spaced user\"\n",
            files: &[],
            hosts: &["h"],
        },
        Case { config: "Host a\n  Hostnme x\n", files: &[], hosts: &["a"] },
        Case { config: "Host a\n  Port 0\n", files: &[], hosts: &["b"] },
        Case { config: "Host a\n  Port 70000\n", files: &[], hosts: &["a"] },
        Case {
            config: "Include bad.conf\n",
            files: &[(".ssh/bad.conf", "# fine\nNoSuchOption yes\n")],
            hosts: &["a"],
        },
        Case { config: "User \"unclosed\n", files: &[], hosts: &["a"] },
        Case { config: "Match all host x\n  Port 2\n", files: &[], hosts: &["a"] },
        Case { config: "Match host\n", files: &[], hosts: &["a"] },
        Case { config: "StrictHostKeyChecking maybe\n", files: &[], hosts: &["a"] },
        Case { config: "ProxyJump a,,b\n", files: &[], hosts: &["a"] },
        // What reads the command line's user and port (`ssh -l`, `ssh -p`, run for every case below).
        Case {
            config: "Match user deploy\n  Port 2200\n  ProxyJump gate\n  StrictHostKeyChecking no\n  IdentityFile ~/id_m\n\
                     Match !user deploy\n  HostName other.example\nHost *\n  UserKnownHostsFile /kh/%r-%p-%C-%h\n  \
                     IdentityFile ~/id_%r_%p\n",
            files: &[],
            hosts: &["web", "10.0.0.7"],
        },
        Case {
            config: "Host web\n  User fromconfig\n  Port 2022\n  IdentityAgent /a/%r.%p\nHost *\n  \
                     UserKnownHostsFile ~/kh_%C ~/kh_%r\n",
            files: &[],
            hosts: &["web", "db"],
        },
        // Service names for ports, and the other words `ssh` takes for StrictHostKeyChecking and `none`.
        Case { config: "Port ssh\n", files: &[], hosts: &["a"] },
        Case { config: "Host a\n  Port https\nHost *\n  ProxyJump j:ssh\n", files: &[], hosts: &["a", "b"] },
        Case { config: "StrictHostKeyChecking FALSE\n", files: &[], hosts: &["a"] },
        Case { config: "StrictHostKeyChecking true\n", files: &[], hosts: &["a"] },
        Case { config: "UserKnownHostsFile NONE\nGlobalKnownHostsFile None\n", files: &[], hosts: &["a"] },
        Case {
            config: "Match canonical\n  Port 2\nMatch !canonical\n  User notcanon\n",
            files: &[],
            hosts: &["a"],
        },
        // `final` anywhere, even on a line whose other criteria fail, makes ssh read every file once more,
        // with `canonical` and `final` true and the HostName found so far as the host.
        Case {
            config: "Match host other final\n  Port 9\nMatch canonical\n  ProxyJump gate\n",
            files: &[],
            hosts: &["web", "other"],
        },
        Case {
            config: "Match host gate.example final\n  ProxyJump bastion\nHost web\n  HostName Gate.Example\n\
                     Host gate.example\n  User byfinalname\n  HostName ignored.example\nMatch !final\n  Port 7\n",
            files: &[],
            hosts: &["web", "db"],
        },
        Case {
            config: "Host a\n  HostName %h.internal\nMatch final host *.internal\n  IdentityFile ~/final_%h_%n\n",
            files: &[],
            hosts: &["a", "b"],
        },
    ];

    /// The command lines every host of every case is resolved for: `ssh HOST`, `-l deploy`, `-p 2222` and
    /// both.
    const QUERIES: [(Option<&str>, Option<u16>); 4] =
        [(None, None), (Some("deploy"), None), (None, Some(2222)), (Some("deploy"), Some(2222))];

    /// `ssh -G`'s view of one resolution: `key value` lines, several values for a repeated key.
    type View = BTreeMap<String, Vec<String>>;

    fn ssh_view(stdout: &str) -> View {
        let mut view = View::new();
        for line in stdout.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            view.entry(key.to_string()).or_default().push(value.to_string());
        }
        view
    }

    /// The ssh line number in an error such as `FILE line 2: Bad configuration option` or `FILE: line 2:
    /// ...`.
    fn ssh_error_location(stderr: &str) -> Option<(String, usize)> {
        stderr.lines().find_map(|l| {
            let (file, rest) = l.split_once(" line ")?;
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((file.trim_end_matches(':').to_string(), number.parse().ok()?))
        })
    }

    #[test]
    fn agrees_with_ssh_g() {
        if Command::new("ssh").arg("-V").stderr(Stdio::null()).status().is_err() {
            println!("ssh is not installed; skipping the differential test against ssh -G");
            return;
        }
        let me = Command::new("id").arg("-un").output().expect("id -un");
        let me = String::from_utf8_lossy(&me.stdout).trim().to_string();
        let started = std::time::Instant::now();
        let mut compared = 0;
        for (index, case) in CASES.iter().enumerate() {
            let dir = tempfile::tempdir().expect("temp dir");
            let home = dir.path().join("home");
            for (name, text) in case.files {
                let path = home.join(name);
                fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                fs::write(&path, text).expect("write");
            }
            fs::create_dir_all(home.join(".ssh")).expect("mkdir");
            let config_path = dir.path().join("config");
            fs::write(&config_path, case.config).expect("write");
            // ssh expands `~` and %d from the password database but an Include's `~` from $HOME, and so do
            // we.
            let mut ours_local = Local::current();
            ours_local.include_home = home.clone();
            let ours = SshConfig::load_in(&config_path, ours_local.clone());
            for (host, (query_user, query_port)) in
                case.hosts.iter().flat_map(|host| QUERIES.iter().map(move |query| (host, *query)))
            {
                let mut ssh = Command::new("ssh");
                ssh.arg("-G").arg("-F").arg(&config_path);
                if let Some(user) = query_user {
                    ssh.arg("-l").arg(user);
                }
                if let Some(port) = query_port {
                    ssh.arg("-p").arg(port.to_string());
                }
                let output =
                    ssh.arg(host).env("HOME", &home).stdin(Stdio::null()).output().expect("run ssh -G");
                let context = format!(
                    "case {index}, host {host}, -l {query_user:?} -p {query_port:?}, config:\n{}",
                    case.config
                );
                let stderr = String::from_utf8_lossy(&output.stderr);
                let ours = match (&ours, output.status.success()) {
                    (Err(err), false) => {
                        let (file, line) = ssh_error_location(&stderr)
                            .unwrap_or_else(|| panic!("{context}\nssh said: {stderr}"));
                        assert!(
                            err.to_string().starts_with(&format!("{file}:{line}: ")),
                            "{context}\nours: {err}\nssh: {stderr}"
                        );
                        compared += 1;
                        continue;
                    }
                    (Err(err), true) => panic!("{context}\nssh accepts it but we refuse: {err}"),
                    (Ok(_), false) => panic!("{context}\nssh refuses it but we accept it: {stderr}"),
                    (Ok(config), true) => {
                        config.resolve(Query { host, user: query_user, port: query_port, local_user: &me })
                    }
                };
                let ssh = ssh_view(&String::from_utf8_lossy(&output.stdout));
                let one = |key: &str| ssh.get(key).and_then(|v| v.first()).cloned().unwrap_or_default();
                let home_text = ours_local.home.to_string_lossy().into_owned();
                let ssh_tilde = |raw: &str| match raw.strip_prefix("~/") {
                    Some(rest) => format!("{home_text}/{rest}"),
                    None => raw.to_string(),
                };
                let show = |paths: &[PathBuf]| {
                    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")
                };

                assert_eq!(
                    one("hostname"),
                    ours.hostname.clone().unwrap_or_else(|| connect_name(host)),
                    "hostname: {context}"
                );
                assert_eq!(one("user"), ours.user.clone().unwrap_or_else(|| me.clone()), "user: {context}");
                assert_eq!(one("port"), ours.port.unwrap_or(22).to_string(), "port: {context}");
                // ssh -G prints IdentityFile before expansion; the tokens it would use are compared via
                // UserKnownHostsFile.
                let ssh_ids = ssh.get("identityfile").cloned().unwrap_or_default();
                if ours.identity_files.is_empty() {
                    let defaults = [
                        "id_rsa",
                        "id_ecdsa",
                        "id_ecdsa_sk",
                        "id_ed25519",
                        "id_ed25519_sk",
                        "id_xmss",
                        "id_dsa",
                    ];
                    let defaults: Vec<String> = defaults.iter().map(|k| format!("~/.ssh/{k}")).collect();
                    assert_eq!(ssh_ids, defaults, "identityfile defaults: {context}");
                } else {
                    let ours_ids: Vec<String> =
                        ours.identity_files.iter().map(|p| p.display().to_string()).collect();
                    let tokens = ClientTokens::new(
                        &ours_local,
                        ours.hostname.clone().unwrap_or_else(|| connect_name(host)),
                        ours.port.unwrap_or(22),
                        ours.user.clone().unwrap_or_else(|| me.clone()),
                        host.to_string(),
                        host,
                        &me,
                    );
                    let at = Loc { path: Arc::from(Path::new("ssh -G")), line: 0 };
                    let expanded: Vec<String> = ssh_ids
                        .iter()
                        .map(|raw| {
                            if raw == "none" {
                                raw.clone()
                            } else {
                                ours_local.client_path(raw, &tokens, &at, "", &mut Vec::new())
                            }
                        })
                        .collect();
                    assert_eq!(ours_ids, expanded, "identityfile: {context}");
                }
                assert_eq!(
                    one("identitiesonly"),
                    if ours.identities_only == Some(true) { "yes" } else { "no" },
                    "{context}"
                );
                assert_eq!(
                    ssh.get("identityagent").and_then(|v| v.first()).cloned(),
                    ours.identity_agent,
                    "identityagent: {context}"
                );
                let ukh = if ours.user_known_hosts_files.is_empty() {
                    format!("{home_text}/.ssh/known_hosts {home_text}/.ssh/known_hosts2")
                } else {
                    show(&ours.user_known_hosts_files)
                };
                assert_eq!(one("userknownhostsfile"), ukh, "userknownhostsfile: {context}");
                let gkh = if ours.global_known_hosts_files.is_empty() {
                    "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2".to_string()
                } else {
                    show(&ours.global_known_hosts_files)
                };
                let ssh_gkh =
                    one("globalknownhostsfile").split(' ').map(ssh_tilde).collect::<Vec<_>>().join(" ");
                assert_eq!(ssh_gkh, gkh, "globalknownhostsfile: {context}");
                let strict =
                    match ours.strict_host_key_checking.as_deref().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("ask") => "ask",
                        Some("yes" | "true") => "true",
                        Some("no" | "off" | "false") => "false",
                        Some(_) => "accept-new",
                    };
                assert_eq!(one("stricthostkeychecking"), strict, "stricthostkeychecking: {context}");
                let timeout = ours.connect_timeout.map_or("none".to_string(), |d| d.as_secs().to_string());
                assert_eq!(one("connecttimeout"), timeout, "connecttimeout: {context}");
                let alive = ours.server_alive_interval.map_or(0, |d| d.as_secs()).to_string();
                assert_eq!(one("serveraliveinterval"), alive, "serveraliveinterval: {context}");
                let ssh_jump = ssh.get("proxyjump").and_then(|v| v.first()).map(|text| {
                    text.split(',')
                        .map(|hop| parse_jump_hop(hop).unwrap_or_else(|| panic!("ssh printed {text}")))
                        .collect::<Vec<_>>()
                });
                assert_eq!(
                    ssh_jump,
                    ours.proxy_jump.clone().filter(|hops| !hops.is_empty()),
                    "proxyjump: {context}"
                );
                assert!(ours.warnings.is_empty(), "unexpected warnings {:?}: {context}", ours.warnings);
                assert!(ours.refusals.is_empty(), "unexpected refusals {:?}: {context}", ours.refusals);
                compared += 1;
            }
        }
        println!("{compared} resolutions agree with ssh -G in {:?}", started.elapsed());
    }
}
