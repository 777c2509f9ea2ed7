//! Reading configuration files into entries, as `read_config_file_depth` and `process_config_line_depth` of
//! `readconf.c` read them: each line checked as `ssh` checks it (with `parse_jump` for ProxyJump and
//! `match_cfg_line`'s parsing for Match), and `Include` followed through `glob(3)` with `SSHCONF_CHECKPERM`'s
//! check. Whatever `ssh` refuses while reading is refused here, naming file:line, so that resolving a host
//! cannot fail.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::keywords::{CANONICALIZE, FLAG, Kind, STRICT_HOST_KEY, closest_keyword, lookup_keyword};
use super::matching::match_pattern_list;
use super::misc::{WHITESPACE, argv_split, convtime, parse_jump_hop, parse_port, strdelim};
use super::tokens::{Local, PasswdKey, passwd_home};
use super::{Criterion, Entry, Item, Jump, Loc, Setting, SshConfigError, Test};

/// OpenSSH's `READCONF_MAX_DEPTH`: a file may include files nested this deep, and no deeper.
pub(super) const MAX_INCLUDE_DEPTH: usize = 16;

/// OpenSSH's `SSH_MAX_HOSTS_FILES`: the most files one known-hosts option can name.
const MAX_HOSTS_FILES: usize = 32;

/// Which of the two files `ssh` reads a file belongs to (`SSHCONF_USERCONF` or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// `~/.ssh/config` or the file `-F` names, and what they include: a relative `Include` is under `~/.ssh`.
    User,
    /// `/etc/ssh/ssh_config` and what it includes: a relative `Include` is under `/etc/ssh`.
    System,
}

/// Reads the top-level file `path` (a missing file is empty) and what it includes into entries.
pub(super) fn read_file(path: &Path, local: &Local, origin: Origin) -> Result<Vec<Entry>, SshConfigError> {
    let text = match read_text(path) {
        Ok(text) => text.unwrap_or_default(),
        Err(source) => return Err(SshConfigError::Read { path: path.to_path_buf(), source }),
    };
    parse_file(path, &text, local, origin)
}

/// Parses `text` as the top-level file `path`; its `Include` lines still read their files from disk.
pub(super) fn parse_file(
    path: &Path,
    text: &str,
    local: &Local,
    origin: Origin,
) -> Result<Vec<Entry>, SshConfigError> {
    Loader { local, origin, ignore_unknown: Vec::new() }.file(path, text, 0)
}

/// Reads files and turns their lines into entries, checking each line as `process_config_line_depth` does.
struct Loader<'a> {
    local: &'a Local,
    /// Whose file is being read: it decides what a relative `Include` is relative to.
    origin: Origin,
    /// Every IgnoreUnknown value seen so far: a keyword they cover is accepted here and checked again per
    /// host.
    ignore_unknown: Vec<String>,
}

impl Loader<'_> {
    /// The entries of one file: its lines, each checked, with `Include` lines' files read and parsed in turn.
    fn file(&mut self, path: &Path, text: &str, depth: usize) -> Result<Vec<Entry>, SshConfigError> {
        let path: Arc<Path> = Arc::from(path);
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let at = Loc { path: Arc::clone(&path), line: index + 1 };
            if let Some(item) = self.line(&at, line, depth)? {
                entries.push(Entry { at, item });
            }
        }
        Ok(entries)
    }

    /// One line as `process_config_line_depth` reads it: `None` for a blank or comment line, or a keyword
    /// whose value nothing here uses once checked.
    fn line(&mut self, at: &Loc, line: &str, depth: usize) -> Result<Option<Item>, SshConfigError> {
        let line = line.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
        let (mut keyword, mut rest) = strdelim(Some(line));
        if keyword.as_deref() == Some("") {
            (keyword, rest) = strdelim(rest);
        }
        let Some(keyword) = keyword.filter(|k| !k.is_empty() && !k.starts_with('#')) else { return Ok(None) };
        let keyword = keyword.to_ascii_lowercase();
        let Some(rest) = rest.map(|r| r.trim_start_matches(WHITESPACE)).filter(|r| !r.is_empty()) else {
            return Err(self.missing(at, &keyword));
        };
        let kind = match lookup_keyword(&keyword) {
            Some(kind) => kind,
            None if self.ignore_unknown.iter().any(|list| match_pattern_list(&keyword, list, true) == 1) => {
                if argv_split(rest).is_none() {
                    return Err(SshConfigError::UnclosedQuote { path: at.path.to_path_buf(), line: at.line });
                }
                return Ok(Some(Item::Unknown(keyword)));
            }
            None => {
                return Err(SshConfigError::UnknownKeyword {
                    path: at.path.to_path_buf(),
                    line: at.line,
                    suggestion: closest_keyword(&keyword),
                    keyword,
                });
            }
        };
        let Some(args) = argv_split(rest) else {
            return Err(SshConfigError::UnclosedQuote { path: at.path.to_path_buf(), line: at.line });
        };
        let setting = match kind {
            Kind::Ignored | Kind::Command => None,
            Kind::Host => {
                if args.iter().any(String::is_empty) {
                    return Err(self.bad(at, &keyword, "", "write a host name pattern"));
                }
                return Ok(Some(Item::Host(args)));
            }
            Kind::Match => return self.match_line(at, rest).map(|criteria| Some(Item::Match(criteria))),
            Kind::Include => {
                return self.include(at, &keyword, &args, depth).map(|files| Some(Item::Include(files)));
            }
            Kind::HostName => Some(Setting::HostName(self.one(at, &keyword, &args)?.to_string())),
            Kind::User => Some(Setting::User(self.one(at, &keyword, &args)?.to_string())),
            Kind::HostKeyAlias => Some(Setting::HostKeyAlias(self.one(at, &keyword, &args)?.to_string())),
            Kind::IdentityFile => Some(Setting::IdentityFile(self.one(at, &keyword, &args)?.to_string())),
            Kind::Port => {
                let value = self.one(at, &keyword, &args)?;
                let port = parse_port(value)
                    .ok_or_else(|| self.bad(at, &keyword, value, "write a port number from 1 to 65535"))?;
                Some(Setting::Port(port))
            }
            Kind::IdentitiesOnly => Some(Setting::IdentitiesOnly(matches!(
                self.choice(at, &keyword, &args, FLAG)?.to_ascii_lowercase().as_str(),
                "yes" | "true"
            ))),
            Kind::StrictHostKeyChecking => Some(Setting::StrictHostKeyChecking(
                self.choice(at, &keyword, &args, STRICT_HOST_KEY)?.to_string(),
            )),
            Kind::CanonicalizeHostname => Some(Setting::CanonicalizeHostname(
                self.choice(at, &keyword, &args, CANONICALIZE)?.to_string(),
            )),
            Kind::Flag => self.choice(at, &keyword, &args, FLAG).map(|_| None)?,
            Kind::CheckHostIp => Some(Setting::CheckHostIp(matches!(
                self.choice(at, &keyword, &args, FLAG)?.to_ascii_lowercase().as_str(),
                "yes" | "true"
            ))),
            Kind::RevokedHostKeys => {
                Some(Setting::RevokedHostKeys(self.one(at, &keyword, &args)?.to_string()))
            }
            Kind::HashKnownHosts => Some(Setting::HashKnownHosts(matches!(
                self.choice(at, &keyword, &args, FLAG)?.to_ascii_lowercase().as_str(),
                "yes" | "true"
            ))),
            Kind::RequiredRsaSize => {
                let value = self.one(at, &keyword, &args)?;
                if !value.bytes().all(|b| b.is_ascii_digit()) || value.parse::<i32>().is_err() {
                    return Err(self.bad(at, &keyword, value, "write a whole number"));
                }
                Some(Setting::RequiredRsaSize(value.to_string()))
            }
            Kind::Algorithms(list) => {
                Some(Setting::Algorithms(list, self.one(at, &keyword, &args)?.to_string()))
            }
            Kind::KnownHostsCommand => Some(Setting::KnownHostsCommand(
                rest.trim_start_matches([' ', '\t', '\r', '\n', '=']).to_string(),
            )),
            Kind::Choice(values) => self.choice(at, &keyword, &args, values).map(|_| None)?,
            Kind::ConnectTimeout => Some(Setting::ConnectTimeout(self.time(at, &keyword, &args)?)),
            Kind::ServerAliveInterval => Some(Setting::ServerAliveInterval(self.time(at, &keyword, &args)?)),
            Kind::Time => self.time(at, &keyword, &args).map(|_| None)?,
            Kind::Int => {
                let value = self.one(at, &keyword, &args)?;
                if !value.bytes().all(|b| b.is_ascii_digit()) || value.parse::<i32>().is_err() {
                    return Err(self.bad(at, &keyword, value, "write a whole number"));
                }
                None
            }
            Kind::Text => self.one(at, &keyword, &args).map(|_| None)?,
            Kind::IgnoreUnknown => {
                let value = self.one(at, &keyword, &args)?.to_string();
                self.ignore_unknown.push(value.clone());
                Some(Setting::IgnoreUnknown(value))
            }
            Kind::ForwardAgent => {
                let value = self.one(at, &keyword, &args)?;
                if !FLAG.iter().any(|f| f.eq_ignore_ascii_case(value)) {
                    self.agent_path(at, &keyword, value)?;
                }
                None
            }
            Kind::IdentityAgent => {
                let value = self.one(at, &keyword, &args)?;
                self.agent_path(at, &keyword, value)?;
                Some(Setting::IdentityAgent(value.to_string()))
            }
            Kind::UserKnownHostsFile => self.list(at, &keyword, &args)?.map(Setting::UserKnownHostsFiles),
            Kind::GlobalKnownHostsFile => self.list(at, &keyword, &args)?.map(Setting::GlobalKnownHostsFiles),
            Kind::List => self.list(at, &keyword, &args).map(|_| None)?,
            Kind::Words(min, max) => {
                if args.len() < min || (min > 0 && args[0].is_empty()) {
                    return Err(self.missing(at, &keyword));
                }
                if args.len() > max {
                    return Err(self.extra(at, &keyword));
                }
                None
            }
            Kind::ProxyCommand => {
                Some(Setting::ProxyCommand(rest.trim_start_matches([' ', '\t', '\r', '\n', '=']).to_string()))
            }
            Kind::ProxyJump => Some(Setting::ProxyJump(self.proxy_jump(at, &keyword, rest)?)),
        };
        Ok(setting.map(Item::Set))
    }

    fn missing(&self, at: &Loc, keyword: &str) -> SshConfigError {
        SshConfigError::MissingValue {
            path: at.path.to_path_buf(),
            line: at.line,
            keyword: keyword.to_string(),
        }
    }

    fn extra(&self, at: &Loc, keyword: &str) -> SshConfigError {
        SshConfigError::ExtraValues {
            path: at.path.to_path_buf(),
            line: at.line,
            keyword: keyword.to_string(),
        }
    }

    fn bad(&self, at: &Loc, keyword: &str, value: &str, expected: &str) -> SshConfigError {
        SshConfigError::BadValue {
            path: at.path.to_path_buf(),
            line: at.line,
            keyword: keyword.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    /// The single non-empty word that `parse_string` and friends take.
    fn one<'a>(&self, at: &Loc, keyword: &str, args: &'a [String]) -> Result<&'a str, SshConfigError> {
        match args {
            [] => Err(self.missing(at, keyword)),
            [value, ..] if value.is_empty() => Err(self.missing(at, keyword)),
            [value] => Ok(value),
            _ => Err(self.extra(at, keyword)),
        }
    }

    /// `parse_multistate_value`: one of `values`, compared without regard to case.
    fn choice<'a>(
        &self,
        at: &Loc,
        keyword: &str,
        args: &'a [String],
        values: &[&str],
    ) -> Result<&'a str, SshConfigError> {
        let value = self.one(at, keyword, args)?;
        if values.iter().any(|v| v.eq_ignore_ascii_case(value)) {
            Ok(value)
        } else {
            Err(self.bad(at, keyword, value, &format!("write one of {}", values.join(", "))))
        }
    }

    /// `parse_time`: a `convtime` duration, or `none` (which sets nothing).
    fn time(&self, at: &Loc, keyword: &str, args: &[String]) -> Result<Option<u32>, SshConfigError> {
        let value = self.one(at, keyword, args)?;
        if value == "none" {
            return Ok(None);
        }
        convtime(value)
            .map(Some)
            .ok_or_else(|| self.bad(at, keyword, value, "write seconds, or a time such as 30s, 5m or 1h30m"))
    }

    /// `parse_char_array`: non-empty words, `none` only alone; no words (a comment) sets nothing.
    fn list(&self, at: &Loc, keyword: &str, args: &[String]) -> Result<Option<Vec<String>>, SshConfigError> {
        if args.iter().any(String::is_empty) {
            return Err(self.bad(at, keyword, "", "remove the empty value"));
        }
        if args.len() > 1 && args.iter().any(|a| a.eq_ignore_ascii_case("none")) {
            return Err(self.bad(at, keyword, "none", "write `none` alone or leave it out"));
        }
        if args.len() > MAX_HOSTS_FILES {
            return Err(self.bad(
                at,
                keyword,
                &args[MAX_HOSTS_FILES],
                &format!("name at most {MAX_HOSTS_FILES} files"),
            ));
        }
        Ok((!args.is_empty()).then(|| args.to_vec()))
    }

    /// The checks of `parse_agent_path`: `${VARIABLE}` must be closed and set, and `$NAME` must be a valid
    /// name.
    fn agent_path(&self, at: &Loc, keyword: &str, value: &str) -> Result<(), SshConfigError> {
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(self.bad(at, keyword, value, "close `${` with `}`"));
            };
            let name = &after[..end];
            if name.is_empty() || std::env::var_os(name).is_none() {
                return Err(self.bad(
                    at,
                    keyword,
                    value,
                    "name an environment variable that is set (ssh checks it when reading)",
                ));
            }
            rest = &after[end + 1..];
        }
        if let Some(name) = value.strip_prefix('$').filter(|n| !n.starts_with('{'))
            && (name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(self.bad(
                at,
                keyword,
                value,
                "write $NAME with letters, digits and underscores only",
            ));
        }
        Ok(())
    }

    /// `parse_jump`: the rest of the line up to `#`, hops separated by commas, each checked; `none` alone.
    fn proxy_jump(&self, at: &Loc, keyword: &str, rest: &str) -> Result<Option<Vec<Jump>>, SshConfigError> {
        let raw = rest.trim_start_matches([' ', '\t', '\r', '\n', '=']);
        // OpenSSH compares the uncut text with `none`, so `none # comment` is a host named `none`.
        if raw.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let text = raw.split('#').next().unwrap_or_default().trim_end();
        let mut hops = Vec::new();
        for hop in text.split(',') {
            let jump = parse_jump_hop(hop).ok_or_else(|| {
                self.bad(
                    at,
                    keyword,
                    raw,
                    "write [user@]host[:port] or ssh://[user@]host[:port], separated by commas, or none",
                )
            })?;
            hops.push(jump);
        }
        Ok(Some(hops))
    }

    /// `match_cfg_line`'s parsing: criteria read with `strdelim`, each but `all`, `canonical` and `final`
    /// with an argument.
    fn match_line(&self, at: &Loc, rest: &str) -> Result<Vec<Criterion>, SshConfigError> {
        let bad = |message: String| SshConfigError::BadMatch {
            path: at.path.to_path_buf(),
            line: at.line,
            message,
        };
        let mut criteria = Vec::new();
        let mut attributes = 0;
        let mut cursor = Some(rest);
        let mut saw_all = false;
        loop {
            let (word, next) = strdelim(cursor);
            cursor = next;
            let Some(word) = word.filter(|w| !w.is_empty()) else { break };
            if word.starts_with('#') {
                cursor = None;
                break;
            }
            let (negate, name) = match word.strip_prefix('!') {
                Some(name) => (true, name.to_string()),
                None => (false, word.clone()),
            };
            let lower = name.to_ascii_lowercase();
            if lower == "all" {
                let (argument, next) = strdelim(cursor);
                cursor = next;
                if attributes > 1 || argument.as_deref().is_some_and(|a| !a.is_empty() && !a.starts_with('#'))
                {
                    return Err(bad(format!(
                        "`{word}` cannot be combined with other criteria; write `Match all` alone"
                    )));
                }
                if argument.as_deref().is_some_and(|a| a.starts_with('#')) {
                    cursor = None;
                }
                criteria.push(Criterion { negate, test: Test::All });
                saw_all = true;
                break;
            }
            attributes += 1;
            if lower == "canonical" {
                criteria.push(Criterion { negate, test: Test::Canonical });
                continue;
            }
            if lower == "final" {
                criteria.push(Criterion { negate, test: Test::Final });
                continue;
            }
            let (argument, next) = strdelim(cursor);
            cursor = next;
            let Some(argument) = argument.filter(|a| !a.is_empty() && !a.starts_with('#')) else {
                return Err(bad(format!("`{word}` needs a pattern after it")));
            };
            let test = match lower.as_str() {
                "host" => Test::Host(argument),
                "originalhost" => Test::OriginalHost(argument),
                "user" => Test::User(argument),
                "localuser" => Test::LocalUser(argument),
                // Newer OpenSSH criteria: 9.2 rejects them, but a configuration shared with newer clients has
                // them.
                "exec" | "localnetwork" | "tagged" => Test::Unsupported(format!("{word} {argument}")),
                _ => {
                    return Err(bad(format!(
                        "unknown criterion `{name}`; use all, host, originalhost, user, localuser, exec, canonical or final"
                    )));
                }
            };
            criteria.push(Criterion { negate, test });
        }
        if !saw_all && attributes == 0 {
            return Err(bad("write at least one criterion, such as `host NAME` or `all`".to_string()));
        }
        if cursor.is_some_and(|c| !c.is_empty()) {
            return Err(self.extra(at, "match"));
        }
        Ok(criteria)
    }

    /// The `Include` case: each word is a glob, relative to `~/.ssh` (`/etc/ssh` in the system file); every
    /// match is read and parsed now.
    fn include(
        &mut self,
        at: &Loc,
        keyword: &str,
        args: &[String],
        depth: usize,
    ) -> Result<Vec<Vec<Entry>>, SshConfigError> {
        let mut files = Vec::new();
        for arg in args {
            if arg.is_empty() {
                return Err(self.bad(at, keyword, "", "remove the empty value"));
            }
            let pattern = match self.origin {
                _ if arg.starts_with('/') || arg.starts_with('~') => arg.clone(),
                Origin::User => format!("~/.ssh/{arg}"),
                Origin::System => format!("/etc/ssh/{arg}"),
            };
            for included in glob(&pattern, self.local) {
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    return Err(SshConfigError::IncludeDepth { path: at.path.to_path_buf(), line: at.line });
                }
                let text = match read_checked(&included, self.local.uid) {
                    Ok(Some(text)) => text,
                    Ok(None) => continue,
                    Err(ReadFailure::Permissions) => {
                        return Err(SshConfigError::IncludePermissions {
                            path: at.path.to_path_buf(),
                            line: at.line,
                            included,
                        });
                    }
                    Err(ReadFailure::Io(source)) => {
                        return Err(SshConfigError::IncludeRead {
                            path: at.path.to_path_buf(),
                            line: at.line,
                            included,
                            source,
                        });
                    }
                };
                files.push(self.file(&included, &text, depth + 1)?);
            }
        }
        Ok(files)
    }
}

/// Why an included file could not be read: `ssh` refuses it for its owner or mode, or reading it failed.
enum ReadFailure {
    Permissions,
    Io(io::Error),
}

/// Reads an included file with `SSHCONF_CHECKPERM`'s check; `None` for a file that vanished, as OpenSSH skips
/// it.
fn read_checked(path: &Path, uid: u32) -> Result<Option<String>, ReadFailure> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(ReadFailure::Io(err)),
    };
    if !permissions_ok(&metadata, uid) {
        return Err(ReadFailure::Permissions);
    }
    read_text(path).map_err(ReadFailure::Io)
}

/// `SSHCONF_CHECKPERM`: owned by root or the user, and writable by nobody else.
pub(super) fn permissions_ok(metadata: &fs::Metadata, uid: u32) -> bool {
    (metadata.uid() == 0 || metadata.uid() == uid) && metadata.mode() & 0o022 == 0
}

/// A configuration file's text; `None` when it is missing. A directory reads as empty, as `fopen` and
/// `getline` make it for OpenSSH. A pipe, socket or device other than `/dev/null` is refused: reading one
/// could block every resolution (every prompt line) for good, or never end.
fn read_text(path: &Path) -> io::Result<Option<String>> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    if metadata.is_dir() {
        return Ok(Some(String::new()));
    }
    let null = fs::canonicalize(path).is_ok_and(|real| real == Path::new("/dev/null"));
    if !metadata.is_file() && !null {
        let why = "it is not a regular file (a pipe, socket or device), which could block or never end; name a file";
        return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// `glob(3)` with `GLOB_TILDE`, as `Include` calls it: existing paths only, sorted byte-wise.
fn glob(pattern: &str, local: &Local) -> Vec<PathBuf> {
    let pattern = match pattern.strip_prefix('~') {
        Some(after) => {
            let (user, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
            let home = if user.is_empty() {
                Some(local.include_home.clone())
            } else {
                passwd_home(PasswdKey::Name(user))
            };
            match home {
                Some(home) => format!("{}{rest}", home.to_string_lossy()),
                None => pattern.to_string(),
            }
        }
        None => pattern.to_string(),
    };
    let mut candidates = vec![if pattern.starts_with('/') { "/".to_string() } else { String::new() }];
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        let join = |prefix: &str, name: &str| match prefix {
            "" => name.to_string(),
            p if p.ends_with('/') => format!("{p}{name}"),
            p => format!("{p}/{name}"),
        };
        let mut next = Vec::new();
        if has_glob_magic(component) {
            for prefix in &candidates {
                let Ok(dir) = fs::read_dir(if prefix.is_empty() { "." } else { prefix.as_str() }) else {
                    continue;
                };
                let mut names: Vec<String> = dir
                    .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
                    .filter(|n| glob_match(component, n))
                    .collect();
                names.sort();
                next.extend(names.iter().map(|name| join(prefix, name)));
            }
        } else {
            let literal = unescape_glob(component);
            next.extend(candidates.iter().map(|prefix| join(prefix, &literal)));
        }
        candidates = next;
    }
    let mut found: Vec<String> =
        candidates.into_iter().filter(|p| !p.is_empty() && fs::symlink_metadata(p).is_ok()).collect();
    found.sort();
    found.into_iter().map(PathBuf::from).collect()
}

/// Whether a path component has a wildcard that is not escaped, and so must be matched against a directory.
fn has_glob_magic(component: &str) -> bool {
    let mut escaped = false;
    for c in component.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// A path component without wildcards, with its backslash escapes removed.
fn unescape_glob(component: &str) -> String {
    let mut out = String::new();
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

/// One path component against one glob component: `*`, `?`, `[...]` with `!` or `^`, `\` escapes; a leading
/// dot must be matched by a dot.
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    glob_match_from(&pattern, &name)
}

/// `glob_match` over characters, from the start of both.
fn glob_match_from(pattern: &[char], name: &[char]) -> bool {
    let Some((&p, rest)) = pattern.split_first() else { return name.is_empty() };
    match p {
        '*' => (0..=name.len()).any(|i| glob_match_from(rest, &name[i..])),
        '?' => !name.is_empty() && glob_match_from(rest, &name[1..]),
        '[' => match (name.first(), class_end(rest)) {
            (Some(&c), Some(end)) => {
                class_matches(&rest[..end], c) && glob_match_from(&rest[end + 1..], &name[1..])
            }
            (Some(&c), None) => c == '[' && glob_match_from(rest, &name[1..]),
            (None, _) => false,
        },
        '\\' if !rest.is_empty() => name.first() == Some(&rest[0]) && glob_match_from(&rest[1..], &name[1..]),
        _ => name.first() == Some(&p) && glob_match_from(rest, &name[1..]),
    }
}

/// The index of the `]` that closes a class starting at `class[0]`; a `]` first in the class is a member.
fn class_end(class: &[char]) -> Option<usize> {
    let start = usize::from(matches!(class.first(), Some('!' | '^')));
    let start = if class.get(start) == Some(&']') { start + 1 } else { start };
    class[start..].iter().position(|&c| c == ']').map(|i| i + start)
}

/// Whether `c` is in the bracket class `class` (without its brackets): single characters and `a-z` ranges,
/// negated by a leading `!` or `^`.
fn class_matches(class: &[char], c: char) -> bool {
    let (negated, class) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut i = 0;
    let mut found = false;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            found |= class[i] <= c && c <= class[i + 2];
            i += 3;
        } else {
            found |= class[i] == c;
            i += 1;
        }
    }
    found != negated
}
