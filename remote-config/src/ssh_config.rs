//! OpenSSH client configuration files (`~/.ssh/config`) read with OpenSSH 9.2's semantics.
//!
//! The rules follow OpenSSH 9.2: `process_config_line_depth`, `read_config_file_depth`, `match_cfg_line`, `parse_token`,
//! `parse_jump` and the `keywords[]` table in `readconf.c`; `strdelim`, `argv_split`, `tilde_expand`,
//! `vdollar_percent_expand`, `convtime`, `a2port`, `parse_uri` and `parse_user_host_port` in `misc.c`; `match_pattern`,
//! `match_pattern_list` and `match_hostname` in `match.c`; and the order in which `ssh.c` expands HostName, IdentityFile,
//! UserKnownHostsFile and IdentityAgent. The differential test at the bottom checks `resolve` against `ssh -G`.
//!
//! Loading reads every file once, follows `Include` and rejects what `ssh` rejects, naming file:line; resolving walks
//! the parsed lines for one host the way `ssh` walks the files, so the result does not depend on the order of calls.
//! Nothing here runs a command or touches the network: `Match exec` is never evaluated (its block is not applied and
//! a warning says so).

use std::ffi::{CStr, CString, OsStr};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use remote_core::Algorithms;

/// OpenSSH's `READCONF_MAX_DEPTH`: a file may include files nested this deep, and no deeper.
const MAX_INCLUDE_DEPTH: usize = 16;

/// OpenSSH's `SSH_MAX_HOSTS_FILES`: the most files one known-hosts option can name.
const MAX_HOSTS_FILES: usize = 32;

/// The characters `readconf.c` and `misc.c` treat as white space between words.
const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// A parsed configuration: the user's file, then the system's (each with the files it includes), as `ssh` reads them.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// One list of lines per top-level file, in the order `ssh` reads them; each starts with every block active.
    files: Vec<Vec<Entry>>,
    local: Local,
}

/// What `ssh` is told on its command line: the host as typed, `-l USER` and `-p PORT`.
///
/// OpenSSH sets the command line's user and port before it reads any file, so they win over `User` and `Port` lines,
/// `Match user` sees that user, and `%r`/`%p`/`%C` expand to them: `ssh -l deploy -p 2222 web` is resolved here as
/// `Query { host: "web", user: Some("deploy"), port: Some(2222), .. }`.
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
    /// Every IdentityFile that applies, in order and without duplicates, with `~` and tokens expanded; an entry
    /// `none` is kept as written: `ssh` loads no key for it but it still keeps the default keys away.
    pub identity_files: Vec<PathBuf>,
    /// IdentitiesOnly.
    pub identities_only: Option<bool>,
    /// IdentityAgent: `none`, `SSH_AUTH_SOCK`, `$VARIABLE` or a path with `~`, tokens and `${VARIABLE}` expanded.
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
    /// ProxyCommand, unless `none`: a command `remote` does not run, so such a host cannot be reached as ssh would.
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
    /// Settings that apply to this host and that `remote` cannot honour, each naming file:line: a host with any is
    /// refused rather than reached in a way `ssh` would not reach it.
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
    /// The user's own `~/.ssh/config` is writable by group or others, or owned by someone else: `ssh` refuses to
    /// run ("Bad owner or permissions"), since another user could have written its settings.
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

fn keyword_hint(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(known) => format!("did you mean `{known}`? An option for a newer ssh can be listed in IgnoreUnknown"),
        None => "fix the spelling, or list the keyword in IgnoreUnknown before this line".to_string(),
    }
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

/// Facts about the local account that `~`, `Include` and the percent tokens expand to.
#[derive(Clone, Debug)]
struct Local {
    /// The home directory from the password database: `ssh` expands `~` and `%d` to it.
    home: PathBuf,
    /// `$HOME`, falling back to `home`: `glob(3)` expands the `~` of an `Include` to it.
    include_home: PathBuf,
    uid: u32,
    /// `gethostname`, for `%l` and `%L`.
    hostname: String,
}

impl Local {
    fn current() -> Local {
        // SAFETY: getuid cannot fail and touches no memory of ours.
        let uid = unsafe { libc::getuid() };
        let env_home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let home = passwd_home(PasswdKey::Uid(uid)).or_else(|| env_home.clone()).unwrap_or_else(|| PathBuf::from("/"));
        let include_home = env_home.unwrap_or_else(|| home.clone());
        Local { home, include_home, uid, hostname: host_name() }
    }
}

enum PasswdKey<'a> {
    Uid(u32),
    Name(&'a str),
}

/// The home directory of a password-database entry, as `getpwuid`/`getpwnam` give it to `ssh`.
fn passwd_home(key: PasswdKey<'_>) -> Option<PathBuf> {
    let name = match &key {
        PasswdKey::Name(name) => Some(CString::new(*name).ok()?),
        PasswdKey::Uid(_) => None,
    };
    let mut buffer = vec![0 as libc::c_char; 1 << 16];
    // SAFETY: an all-zero passwd is a valid value (null pointers and zero ids); the call fills it in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and the buffer length is its real length; the strings the entry
    // points to live in `buffer`, which outlives the copy below.
    let status = unsafe {
        match (&key, &name) {
            (PasswdKey::Uid(uid), _) => libc::getpwuid_r(*uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found),
            (PasswdKey::Name(_), Some(name)) => {
                libc::getpwnam_r(name.as_ptr(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found)
            }
            (PasswdKey::Name(_), None) => return None,
        }
    };
    if status != 0 || found.is_null() || entry.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string inside `buffer`.
    let dir = unsafe { CStr::from_ptr(entry.pw_dir) };
    Some(PathBuf::from(OsStr::from_bytes(dir.to_bytes())))
}

fn host_name() -> String {
    let mut buffer = [0u8; 1025];
    // SAFETY: the buffer is writable for its whole length, which is what we pass.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return String::new();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// How `process_config_line_depth` checks a keyword's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Host,
    Match,
    Include,
    HostName,
    User,
    Port,
    IdentityFile,
    IdentitiesOnly,
    IdentityAgent,
    UserKnownHostsFile,
    GlobalKnownHostsFile,
    StrictHostKeyChecking,
    ConnectTimeout,
    ServerAliveInterval,
    ProxyJump,
    ProxyCommand,
    HostKeyAlias,
    IgnoreUnknown,
    CanonicalizeHostname,
    RevokedHostKeys,
    KnownHostsCommand,
    CheckHostIp,
    HashKnownHosts,
    RequiredRsaSize,
    Algorithms(AlgorithmList),
    /// `ForwardAgent`: yes/no or an agent socket path.
    ForwardAgent,
    /// yes, no, true or false.
    Flag,
    Choice(&'static [&'static str]),
    Time,
    Int,
    /// Exactly one non-empty word.
    Text,
    /// The rest of the line, unparsed.
    Command,
    /// Several words; `none` only alone.
    List,
    /// Between `min` and `max` words; OpenSSH checks more, which this module leaves to `ssh`.
    Words(usize, usize),
    /// Accepted and ignored: deprecated, unsupported, or added by Debian's patches.
    Ignored,
}

const FLAG: &[&str] = &["yes", "no", "true", "false"];
const YES_NO_ASK: &[&str] = &["yes", "no", "true", "false", "ask"];
const STRICT_HOST_KEY: &[&str] = &["yes", "no", "true", "false", "ask", "off", "accept-new"];
const PUBKEY_AUTH: &[&str] = &["yes", "no", "true", "false", "unbound", "host-bound"];
const CANONICALIZE: &[&str] = &["yes", "no", "true", "false", "always"];

/// Every keyword of OpenSSH 9.2's `keywords[]` (built with GSSAPI and PKCS#11, as Debian builds it) and the ones
/// Debian's patches add, spelled as `ssh_config(5)` spells them.
const KEYWORDS: &[(&str, Kind)] = &[
    // Deprecated and unsupported options: OpenSSH accepts them with at most a message.
    ("Protocol", Kind::Ignored),
    ("Cipher", Kind::Ignored),
    ("FallBackToRsh", Kind::Ignored),
    ("GlobalKnownHostsFile2", Kind::Ignored),
    ("RhostsAuthentication", Kind::Ignored),
    ("UserKnownHostsFile2", Kind::Ignored),
    ("UseRoaming", Kind::Ignored),
    ("UseRsh", Kind::Ignored),
    ("UsePrivilegedPort", Kind::Ignored),
    ("AFSTokenPassing", Kind::Ignored),
    ("KerberosAuthentication", Kind::Ignored),
    ("KerberosTGTPassing", Kind::Ignored),
    ("RSAAuthentication", Kind::Ignored),
    ("RhostsRSAAuthentication", Kind::Ignored),
    ("CompressionLevel", Kind::Ignored),
    // Debian's GSSAPI key exchange and keep-alive patches.
    ("GSSAPIKeyExchange", Kind::Ignored),
    ("GSSAPIClientIdentity", Kind::Ignored),
    ("GSSAPIServerIdentity", Kind::Ignored),
    ("GSSAPIRenewalForcesRekey", Kind::Ignored),
    ("GSSAPITrustDns", Kind::Ignored),
    ("GSSAPIKexAlgorithms", Kind::Ignored),
    ("ProtocolKeepAlives", Kind::Ignored),
    ("SetupTimeOut", Kind::Ignored),
    ("GSSAPIAuthentication", Kind::Flag),
    ("GSSAPIDelegateCredentials", Kind::Flag),
    ("PKCS11Provider", Kind::Text),
    ("SmartcardDevice", Kind::Text),
    ("ForwardAgent", Kind::ForwardAgent),
    ("ForwardX11", Kind::Flag),
    ("ForwardX11Trusted", Kind::Flag),
    ("ForwardX11Timeout", Kind::Time),
    ("ExitOnForwardFailure", Kind::Flag),
    ("XAuthLocation", Kind::Text),
    ("GatewayPorts", Kind::Flag),
    ("PasswordAuthentication", Kind::Flag),
    ("KbdInteractiveAuthentication", Kind::Flag),
    ("KbdInteractiveDevices", Kind::Text),
    ("ChallengeResponseAuthentication", Kind::Flag),
    ("SkeyAuthentication", Kind::Flag),
    ("TISAuthentication", Kind::Flag),
    ("PubkeyAuthentication", Kind::Choice(PUBKEY_AUTH)),
    ("DSAAuthentication", Kind::Choice(PUBKEY_AUTH)),
    ("HostbasedAuthentication", Kind::Flag),
    ("IdentityFile", Kind::IdentityFile),
    ("IdentityFile2", Kind::IdentityFile),
    ("IdentitiesOnly", Kind::IdentitiesOnly),
    ("CertificateFile", Kind::Text),
    ("AddKeysToAgent", Kind::Words(1, 2)),
    ("IdentityAgent", Kind::IdentityAgent),
    ("HostName", Kind::HostName),
    ("HostKeyAlias", Kind::HostKeyAlias),
    ("ProxyCommand", Kind::ProxyCommand),
    ("Port", Kind::Port),
    ("Ciphers", Kind::Algorithms(AlgorithmList::Ciphers)),
    ("MACs", Kind::Algorithms(AlgorithmList::Macs)),
    ("RemoteForward", Kind::Words(1, 2)),
    ("LocalForward", Kind::Words(2, 2)),
    ("PermitRemoteOpen", Kind::Words(1, usize::MAX)),
    ("User", Kind::User),
    ("Host", Kind::Host),
    ("Match", Kind::Match),
    ("EscapeChar", Kind::Text),
    ("GlobalKnownHostsFile", Kind::GlobalKnownHostsFile),
    ("UserKnownHostsFile", Kind::UserKnownHostsFile),
    ("ConnectionAttempts", Kind::Int),
    ("BatchMode", Kind::Flag),
    ("CheckHostIP", Kind::CheckHostIp),
    ("StrictHostKeyChecking", Kind::StrictHostKeyChecking),
    ("Compression", Kind::Choice(&["yes", "no"])),
    ("TCPKeepAlive", Kind::Flag),
    ("KeepAlive", Kind::Flag),
    ("NumberOfPasswordPrompts", Kind::Int),
    ("SyslogFacility", Kind::Text),
    ("LogLevel", Kind::Text),
    ("LogVerbose", Kind::List),
    ("DynamicForward", Kind::Text),
    ("PreferredAuthentications", Kind::Text),
    ("HostKeyAlgorithms", Kind::Algorithms(AlgorithmList::HostKey)),
    ("CASignatureAlgorithms", Kind::Text),
    ("BindAddress", Kind::Text),
    ("BindInterface", Kind::Text),
    ("ClearAllForwardings", Kind::Flag),
    ("EnableSSHKeysign", Kind::Flag),
    ("VerifyHostKeyDNS", Kind::Choice(YES_NO_ASK)),
    ("NoHostAuthenticationForLocalhost", Kind::Flag),
    ("RekeyLimit", Kind::Words(1, 2)),
    ("ConnectTimeout", Kind::ConnectTimeout),
    ("AddressFamily", Kind::Choice(&["inet", "inet6", "any"])),
    ("ServerAliveInterval", Kind::ServerAliveInterval),
    ("ServerAliveCountMax", Kind::Int),
    ("SendEnv", Kind::Words(0, usize::MAX)),
    ("SetEnv", Kind::Words(0, usize::MAX)),
    ("ControlPath", Kind::Text),
    ("ControlMaster", Kind::Choice(&["yes", "no", "true", "false", "auto", "ask", "autoask"])),
    ("ControlPersist", Kind::Text),
    ("HashKnownHosts", Kind::HashKnownHosts),
    ("Include", Kind::Include),
    ("Tunnel", Kind::Choice(&["ethernet", "point-to-point", "yes", "no", "true", "false"])),
    ("TunnelDevice", Kind::Text),
    ("LocalCommand", Kind::Command),
    ("PermitLocalCommand", Kind::Flag),
    ("RemoteCommand", Kind::Command),
    ("VisualHostKey", Kind::Flag),
    ("KexAlgorithms", Kind::Algorithms(AlgorithmList::Kex)),
    ("IPQoS", Kind::Words(1, 2)),
    ("RequestTTY", Kind::Choice(&["yes", "no", "true", "false", "force", "auto"])),
    ("SessionType", Kind::Choice(&["none", "subsystem", "default"])),
    ("StdinNull", Kind::Flag),
    ("ForkAfterAuthentication", Kind::Flag),
    ("ProxyUseFdpass", Kind::Flag),
    ("CanonicalDomains", Kind::List),
    ("CanonicalizeFallbackLocal", Kind::Flag),
    ("CanonicalizeHostname", Kind::CanonicalizeHostname),
    ("CanonicalizeMaxDots", Kind::Int),
    ("CanonicalizePermittedCNAMEs", Kind::List),
    ("StreamLocalBindMask", Kind::Text),
    ("StreamLocalBindUnlink", Kind::Flag),
    ("RevokedHostKeys", Kind::RevokedHostKeys),
    ("FingerprintHash", Kind::Text),
    ("UpdateHostKeys", Kind::Choice(YES_NO_ASK)),
    ("HostbasedAcceptedAlgorithms", Kind::Text),
    ("HostbasedKeyTypes", Kind::Text),
    ("PubkeyAcceptedAlgorithms", Kind::Text),
    ("PubkeyAcceptedKeyTypes", Kind::Text),
    ("IgnoreUnknown", Kind::IgnoreUnknown),
    ("ProxyJump", Kind::ProxyJump),
    ("SecurityKeyProvider", Kind::Text),
    ("KnownHostsCommand", Kind::KnownHostsCommand),
    ("RequiredRSASize", Kind::RequiredRsaSize),
    ("EnableEscapeCommandline", Kind::Flag),
];

fn lookup_keyword(lowercase: &str) -> Option<Kind> {
    KEYWORDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(lowercase)).map(|(_, kind)| *kind)
}

/// The closest known keyword, when `word` is probably a typo of it.
fn closest_keyword(word: &str) -> Option<String> {
    KEYWORDS
        .iter()
        .map(|(name, _)| (strsim::damerau_levenshtein(word, &name.to_ascii_lowercase()), *name))
        .filter(|(distance, name)| *distance <= (name.len().max(word.len()) / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.to_string())
}

impl SshConfig {
    /// Reads `path` (a missing file is an empty configuration), following `Include` (globs, `~`, paths relative to
    /// `~/.ssh` for a user file as OpenSSH does; depth limit as OpenSSH). Unknown keywords are an error with
    /// file:line, as for `ssh` ("Bad configuration option"), except those listed in IgnoreUnknown.
    pub fn load(path: &Path) -> Result<SshConfig, SshConfigError> {
        Self::load_in(path, Local::current())
    }

    /// Parses `text` as if it were the file `path`; `Include` lines still read their files from disk.
    pub fn parse(text: &str, path: &Path) -> Result<SshConfig, SshConfigError> {
        Self::parse_in(text, path, Local::current())
    }

    /// Reads the user's file and then the system's (`/etc/ssh/ssh_config`), as `ssh` does when no `-F` is given;
    /// `None` skips one. A relative `Include` in the system file is relative to `/etc/ssh`, as for `ssh`. With
    /// `check_user`, the user's file is refused when others could have written it, as `ssh` refuses its default
    /// `~/.ssh/config` (a file named with `-F` is not checked).
    pub fn load_files(user: Option<&Path>, system: Option<&Path>, check_user: bool) -> Result<SshConfig, SshConfigError> {
        let local = Local::current();
        if let Some(path) = user.filter(|_| check_user)
            && fs::metadata(path).is_ok_and(|metadata| !permissions_ok(&metadata, local.uid))
        {
            return Err(SshConfigError::Permissions { path: path.to_path_buf() });
        }
        let mut files = Vec::new();
        for (path, origin) in [(user, Origin::User), (system, Origin::System)] {
            if let Some(path) = path {
                files.push(Self::read_file(path, &local, origin)?);
            }
        }
        Ok(SshConfig { files, local })
    }

    fn load_in(path: &Path, local: Local) -> Result<SshConfig, SshConfigError> {
        let entries = Self::read_file(path, &local, Origin::User)?;
        Ok(SshConfig { files: vec![entries], local })
    }

    fn read_file(path: &Path, local: &Local, origin: Origin) -> Result<Vec<Entry>, SshConfigError> {
        let text = match read_text(path) {
            Ok(text) => text.unwrap_or_default(),
            Err(source) => return Err(SshConfigError::Read { path: path.to_path_buf(), source }),
        };
        Loader { local, origin, ignore_unknown: Vec::new() }.file(path, &text, 0)
    }

    fn parse_in(text: &str, path: &Path, local: Local) -> Result<SshConfig, SshConfigError> {
        let mut loader = Loader { local: &local, origin: Origin::User, ignore_unknown: Vec::new() };
        let entries = loader.file(path, text, 0)?;
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
                Some((raw, at)) => expand_tokens(raw, &[('h', query.host)], false, at, "HostName", &mut state.warnings),
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

    /// One reading of every file, each from the top with its lines applying to every host until a Host or Match.
    fn walk_files(&self, context: &Context<'_>, state: &mut State) {
        for entries in &self.files {
            let mut active = true;
            self.walk(entries, &mut active, false, context, state);
        }
    }

    /// Applies `entries` as `read_config_file_depth` reads a file: `active` is shared with the including file, and
    /// `never` is OpenSSH's `SSHCONF_NEVERMATCH`, set for files included where no block applied.
    fn walk(&self, entries: &[Entry], active: &mut bool, never: bool, context: &Context<'_>, state: &mut State) {
        for entry in entries {
            match &entry.item {
                Item::Host(patterns) => {
                    let host = context.final_host.as_deref().unwrap_or(context.host_arg);
                    *active = !never && host_line_matches(patterns, host);
                }
                Item::Match(criteria) => *active = !never && self.match_applies(criteria, &entry.at, context, state),
                Item::Include(files) => {
                    let outer = *active;
                    for file in files {
                        self.walk(file, active, never || !outer, context, state);
                        // A Host or Match inside the included file must not change the including file's block.
                        *active = outer;
                    }
                }
                Item::Set(setting) if *active => state.apply(setting, &entry.at),
                Item::Set(_) => {}
                Item::Unknown(keyword) => {
                    let ignored =
                        state.ignore_unknown.as_ref().is_some_and(|(list, _)| match_pattern_list(keyword, list, true) == 1);
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

    /// `match_cfg_line`: every criterion must hold; criteria this module cannot evaluate make the block not apply.
    fn match_applies(&self, criteria: &[Criterion], at: &Loc, context: &Context<'_>, state: &mut State) -> bool {
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
                    // OpenSSH matches the HostName obtained so far with %h expanded, or the name as typed; on the
                    // final reading, the host that reading is for.
                    let host = match &state.hostname {
                        _ if let Some(host) = &context.final_host => host.clone(),
                        Some((raw, hostname_at)) => {
                            expand_tokens(raw, &[('h', context.host_arg)], false, hostname_at, "HostName", &mut state.warnings)
                        }
                        None => context.host_arg.to_string(),
                    };
                    match_pattern_list(&host.to_ascii_lowercase(), patterns, true) == 1
                }
                Test::OriginalHost(patterns) => match_pattern_list(&context.host_arg.to_ascii_lowercase(), patterns, true) == 1,
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

    /// What `ssh.c` does after reading the files: HostName gets %h, then the client options get `~` and tokens.
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
            connect_name(&expand_tokens(&raw, &[('h', context.host_arg)], false, &at, "HostName", &mut warnings))
        });
        let tokens = self.client_tokens(
            hostname.clone().unwrap_or_else(|| connect_name(context.host_arg)),
            port.unwrap_or(22),
            user.clone().unwrap_or_else(|| context.local_user.to_string()),
            host_key_alias.clone().map_or_else(|| context.host_arg.to_string(), |alias| alias.to_ascii_lowercase()),
            context,
        );
        let client_path = |raw: &str, at: &Loc, what: &str, warnings: &mut Vec<String>| -> String {
            self.client_path(raw, &tokens, at, what, warnings)
        };

        let identity_files = identity_files
            .into_iter()
            .map(|(raw, at)| {
                // ssh skips `none` before expanding anything; it is kept so that callers know the defaults are off.
                if raw.eq_ignore_ascii_case("none") {
                    PathBuf::from(raw)
                } else {
                    PathBuf::from(client_path(&raw, &at, "IdentityFile", &mut warnings))
                }
            })
            .collect();
        let identity_agent = identity_agent.map(|(raw, at)| client_path(&raw, &at, "IdentityAgent", &mut warnings));
        let user_known_hosts_files = match user_known_hosts {
            // `none` in any case is no file, as `ssh` reads it (and `ssh -G` prints it lowercased).
            Some((files, _)) if files.first().is_some_and(|f| f.eq_ignore_ascii_case("none")) => vec![PathBuf::from("none")],
            Some((files, at)) => {
                files.iter().map(|raw| PathBuf::from(client_path(raw, &at, "UserKnownHostsFile", &mut warnings))).collect()
            }
            None => Vec::new(),
        };
        let global_known_hosts_files = match global_known_hosts {
            Some((files, _)) if files.first().is_some_and(|f| f.eq_ignore_ascii_case("none")) => vec![PathBuf::from("none")],
            Some((files, at)) => files
                .iter()
                .map(|raw| PathBuf::from(self.tilde_expand(raw, &at, "GlobalKnownHostsFile", &mut warnings)))
                .collect(),
            None => Vec::new(),
        };
        let proxy_command = proxy_command
            .filter(|(command, _)| !command.eq_ignore_ascii_case("none"))
            .map(|(command, at)| format!("{command} ({at})"));
        if let Some((value, at)) = canonicalize_hostname.filter(|(value, _)| !matches!(value.as_str(), "no" | "false")) {
            refusals.push(format!(
                "{at}: CanonicalizeHostname {value} is not supported by remote yet: ssh would look the name up in DNS \
                 and read the files again for the name it finds"
            ));
        }
        if let Some((command, at)) = known_hosts_command.filter(|(command, _)| !command.eq_ignore_ascii_case("none")) {
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

    /// The values of `DEFAULT_CLIENT_PERCENT_EXPAND_ARGS` once the configuration is complete.
    fn client_tokens(
        &self,
        remote_host: String,
        port: u16,
        remote_user: String,
        key_alias: String,
        context: &Context<'_>,
    ) -> ClientTokens {
        let connection_hash = {
            use sha1::Digest;
            let digest = sha1::Sha1::new()
                .chain_update(&self.local.hostname)
                .chain_update(&remote_host)
                .chain_update(port.to_string())
                .chain_update(&remote_user)
                .finalize();
            digest.iter().map(|byte| format!("{byte:02x}")).collect()
        };
        ClientTokens {
            connection_hash,
            short_host: self.local.hostname.split('.').next().unwrap_or_default().to_string(),
            uid: self.local.uid.to_string(),
            key_alias,
            this_host: self.local.hostname.clone(),
            host_arg: context.host_arg.to_string(),
            port: port.to_string(),
            home: self.local.home.to_string_lossy().into_owned(),
            remote_host,
            remote_user,
            local_user: context.local_user.to_string(),
        }
    }

    /// What `ssh.c` does to IdentityFile, UserKnownHostsFile and IdentityAgent: `~`, then tokens and `${VARIABLE}`.
    fn client_path(&self, raw: &str, tokens: &ClientTokens, at: &Loc, what: &str, warnings: &mut Vec<String>) -> String {
        let tilde = self.tilde_expand(raw, at, what, warnings);
        expand_tokens(&tilde, &tokens.pairs(), true, at, what, warnings)
    }

    /// `tilde_expand`: `~` and `~/path` are the password-database home, `~user/path` that user's home.
    fn tilde_expand(&self, raw: &str, at: &Loc, what: &str, warnings: &mut Vec<String>) -> String {
        let Some(after) = raw.strip_prefix('~') else { return raw.to_string() };
        let (user, path) = match after.find('/') {
            Some(slash) => (&after[..slash], after[slash..].trim_start_matches('/')),
            None => (after, ""),
        };
        let home = if user.is_empty() { Some(self.local.home.clone()) } else { passwd_home(PasswdKey::Name(user)) };
        let Some(home) = home else {
            warnings.push(format!("{at}: {what} `{raw}` names an unknown user; ssh would refuse to connect"));
            return raw.to_string();
        };
        let home = home.to_string_lossy().into_owned();
        let slash = if home.ends_with('/') { "" } else { "/" };
        format!("{home}{slash}{path}")
    }
}

struct Context<'a> {
    host_arg: &'a str,
    local_user: &'a str,
    /// On the final reading (`Match final`): the host it is for, the HostName found on the first, lowercased.
    final_host: Option<String>,
}

/// The percent tokens of `ssh.c`'s `DEFAULT_CLIENT_PERCENT_EXPAND_ARGS`.
struct ClientTokens {
    /// `%C`: `ssh_connection_hash`, the SHA-1 of `%l%h%p%r` in hexadecimal.
    connection_hash: String,
    short_host: String,
    uid: String,
    key_alias: String,
    this_host: String,
    host_arg: String,
    port: String,
    home: String,
    remote_host: String,
    remote_user: String,
    local_user: String,
}

impl ClientTokens {
    fn pairs(&self) -> [(char, &str); 11] {
        [
            ('C', &self.connection_hash),
            ('L', &self.short_host),
            ('i', &self.uid),
            ('k', &self.key_alias),
            ('l', &self.this_host),
            ('n', &self.host_arg),
            ('p', &self.port),
            ('d', &self.home),
            ('h', &self.remote_host),
            ('r', &self.remote_user),
            ('u', &self.local_user),
        ]
    }
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
            Setting::UserKnownHostsFiles(v) => set_once(&mut self.user_known_hosts, || (v.clone(), at.clone())),
            Setting::GlobalKnownHostsFiles(v) => set_once(&mut self.global_known_hosts, || (v.clone(), at.clone())),
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
            Setting::KnownHostsCommand(v) => set_once(&mut self.known_hosts_command, || (v.clone(), at.clone())),
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

/// A `Host` line: some pattern matches the name as typed and no negated pattern does (`match_pattern` per word).
fn host_line_matches(patterns: &[String], host: &str) -> bool {
    let mut active = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        if match_pattern(host.as_bytes(), pattern.as_bytes()) {
            if negated {
                return false;
            }
            active = true;
        }
    }
    active
}

/// `vdollar_percent_expand`: `%%` and the given tokens, and `${VARIABLE}` when `dollar`. What ssh would refuse
/// is left as written, with a warning.
fn expand_tokens(text: &str, tokens: &[(char, &str)], dollar: bool, at: &Loc, what: &str, warnings: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if dollar && rest.starts_with("${") {
            let Some(end) = rest.find('}') else {
                warnings.push(format!("{at}: {what} `{text}` has `${{` without `}}`; ssh would refuse to connect"));
                out.push_str(rest);
                break;
            };
            let name = &rest[2..end];
            match std::env::var(name) {
                Ok(value) if !name.is_empty() => out.push_str(&value),
                _ => warnings
                    .push(format!("{at}: {what} `{text}` uses ${{{name}}}, which is not set here; ssh would refuse to connect")),
            }
            rest = &rest[end + 1..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(token) = rest.chars().next() else {
            warnings.push(format!("{at}: {what} `{text}` ends with a lone `%`; write `%%` for a percent sign"));
            out.push('%');
            break;
        };
        rest = &rest[token.len_utf8()..];
        if token == '%' {
            out.push('%');
        } else if let Some((_, value)) = tokens.iter().find(|(key, _)| *key == token) {
            out.push_str(value);
        } else {
            warnings.push(format!(
                "{at}: {what} `{text}`: %{token} is left as written; ssh does not know this token here and would refuse \
                 to connect"
            ));
            out.push('%');
            out.push(token);
        }
    }
    out
}

/// `kex_assemble_names` over what `remote` implements: the names, in the order to offer them, that a
/// `KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers` or `MACs` value asks for. `defaults` is what is offered when
/// nothing is set, `supported` everything that could be (the defaults among them). A plain list replaces the
/// defaults, in its own order, with what it matches of `supported` (wildcards allowed); `+list` adds what it
/// matches of `supported` after the defaults, `-list` removes what it matches from the defaults, and `^list`
/// puts what it matches of `supported` first, then the rest of the defaults. An algorithm is offered beyond the
/// defaults (such as `ssh-rsa`) only when a list names it, as in OpenSSH; an empty result means the host cannot
/// be reached as the user asked.
pub fn assemble_algorithms(value: &str, defaults: &[&str], supported: &[&str]) -> Vec<String> {
    let matches = |name: &str, list: &str| list.split(',').any(|pattern| match_pattern(name.as_bytes(), pattern.as_bytes()));
    let mut chosen: Vec<String> = Vec::new();
    let mut take = |names: &mut dyn Iterator<Item = &&str>| {
        for name in names {
            if !chosen.iter().any(|c| c == name) {
                chosen.push(name.to_string());
            }
        }
    };
    match value.split_at_checked(1) {
        Some(("+", list)) => {
            take(&mut defaults.iter());
            take(&mut supported.iter().filter(|name| matches(name, list)));
        }
        Some(("-", list)) => take(&mut defaults.iter().filter(|name| !matches(name, list))),
        Some(("^", list)) => {
            for pattern in list.split(',') {
                take(&mut supported.iter().filter(|name| matches(name, pattern)));
            }
            take(&mut defaults.iter());
        }
        _ => {
            for pattern in value.split(',') {
                take(&mut supported.iter().filter(|name| matches(name, pattern)));
            }
        }
    }
    chosen
}

/// `match_pattern`: `*` and `?` wildcards over bytes, as OpenSSH compares them.
fn match_pattern(s: &[u8], pattern: &[u8]) -> bool {
    let (mut s, mut pattern) = (s, pattern);
    loop {
        let Some((&p, pattern_rest)) = pattern.split_first() else { return s.is_empty() };
        if p == b'*' {
            let after = &pattern[pattern.iter().take_while(|&&c| c == b'*').count()..];
            let Some(&next) = after.first() else { return true };
            if next != b'?' {
                return (0..s.len()).any(|i| s[i] == next && match_pattern(&s[i + 1..], &after[1..]));
            }
            return (0..s.len()).any(|i| match_pattern(&s[i..], after));
        }
        let Some((&c, s_rest)) = s.split_first() else { return false };
        if p != b'?' && p != c {
            return false;
        }
        s = s_rest;
        pattern = pattern_rest;
    }
}

/// `match_pattern_list`: 1 if a sub-pattern of the comma-separated list matches, -1 if a negated one does, else 0.
fn match_pattern_list(string: &str, list: &str, lowercase: bool) -> i32 {
    let mut positive = 0;
    for sub in list.split(',') {
        let (negated, sub) = match sub.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, sub),
        };
        // OpenSSH copies each sub-pattern into a 1024-byte buffer and gives up on a longer one.
        if sub.len() >= 1023 {
            return 0;
        }
        let sub = if lowercase { sub.to_ascii_lowercase() } else { sub.to_string() };
        if match_pattern(string.as_bytes(), sub.as_bytes()) {
            if negated {
                return -1;
            }
            positive = 1;
        }
    }
    positive
}

/// `strdelim`: the next word, split at white space, a quote, or one `=`; `None` for an unclosed quote.
fn strdelim(s: Option<&str>) -> (Option<String>, Option<&str>) {
    let Some(s) = s else { return (None, None) };
    let Some(i) = s.find(|c: char| WHITESPACE.contains(&c) || c == '"' || c == '=') else {
        return (Some(s.to_string()), None);
    };
    if s[i..].starts_with('"') {
        let after = &s[i + 1..];
        let Some(j) = after.find('"') else { return (None, None) };
        return (Some(format!("{}{}", &s[..i], &after[..j])), Some(after[j + 1..].trim_start_matches(WHITESPACE)));
    }
    let was_equals = s[i..].starts_with('=');
    let mut rest = s[i + 1..].trim_start_matches(WHITESPACE);
    if !was_equals && let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start_matches(WHITESPACE);
    }
    (Some(s[..i].to_string()), Some(rest))
}

/// `argv_split` with `terminate_on_comment`: words split at blanks, `"` and `'` quotes, `\` escapes; `None` for an
/// unclosed quote.
fn argv_split(s: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut quote = None;
        let mut arg = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                match chars.get(i + 1) {
                    Some(&next) if next == '\'' || next == '"' || next == '\\' || (quote.is_none() && next == ' ') => {
                        arg.push(next);
                        i += 1;
                    }
                    _ => arg.push('\\'),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
    Some(args)
}

/// `convtime`: `90`, `90s`, `1h30m`, … in seconds, at most `INT_MAX`.
fn convtime(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let secs: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // The unit is one character, not one byte: `1é` is no time, and no panic.
        let multiplier = match rest.chars().next() {
            None => 1,
            Some(unit) => {
                rest = &rest[unit.len_utf8()..];
                match unit {
                    's' | 'S' => 1,
                    'm' | 'M' => 60,
                    'h' | 'H' => 3600,
                    'd' | 'D' => 86400,
                    'w' | 'W' => 604800,
                    _ => return None,
                }
            }
        };
        total = total.checked_add(secs.checked_mul(multiplier)?)?;
        if total > i64::from(i32::MAX) {
            return None;
        }
    }
    u32::try_from(total).ok()
}

/// `a2port`: a number from 1 to 65535, or a TCP service name (`ssh`, `https`) as `getservbyname` finds it.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return service_port(s, Path::new(SERVICES)).filter(|&p| p != 0);
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Where the C library's `files` source of `getservbyname` reads service names.
const SERVICES: &str = "/etc/services";

/// The TCP port a service name (or alias) has in `services`, read as the C library reads it: `name port/proto
/// aliases…`, `#` to the end of the line a comment. Read directly rather than through `getservbyname`, which a
/// static binary cannot call.
fn service_port(name: &str, services: &Path) -> Option<u16> {
    let text = fs::read_to_string(services).ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split('#').next().unwrap_or_default().split_whitespace();
        let official = words.next()?;
        let (port, protocol) = words.next()?.split_once('/')?;
        let named = official == name || words.any(|alias| alias == name);
        (named && protocol == "tcp").then(|| port.parse().ok()).flatten()
    })
}

/// `parse_jump`'s reading of one hop: `ssh://[user@]host[:port]` or `[user@]host[:port]`.
fn parse_jump_hop(hop: &str) -> Option<Jump> {
    match hop.strip_prefix("ssh://") {
        Some(uri) => parse_ssh_uri(uri),
        None => parse_user_host_port(hop),
    }
}

/// `hpdelim2`: the host (with its brackets) and, after `:` or `/`, the rest and the delimiter.
fn split_host(s: &str) -> Option<(&str, Option<(char, &str)>)> {
    let end = if s.starts_with('[') { s.find(']')? + 1 } else { s.find([':', '/']).unwrap_or(s.len()) };
    match s[end..].chars().next() {
        None => Some((s, None)),
        Some(c @ (':' | '/')) => Some((&s[..end], Some((c, &s[end + 1..])))),
        Some(_) => None,
    }
}

/// `cleanhostname`: the host without the brackets around an IPv6 address.
fn clean_host(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

fn parse_user_host_port(s: &str) -> Option<Jump> {
    let (user, rest) = match s.rfind('@') {
        Some(0) => return None,
        Some(at) => (Some(s[..at].to_string()), &s[at + 1..]),
        None => (None, s),
    };
    let (host, after) = split_host(rest)?;
    let port = match after {
        Some(('/', _)) => return None,
        Some((_, port)) if !port.is_empty() => Some(parse_port(port)?),
        _ => None,
    };
    if host.is_empty() {
        return None;
    }
    Some(Jump { user, host: clean_host(host).to_string(), port })
}

/// `parse_uri` for `ssh://`: the user may be URL-encoded and carry `;parameters`; a path is refused.
fn parse_ssh_uri(s: &str) -> Option<Jump> {
    let (user, rest) = match s.find('@') {
        Some(at) => {
            let user = s[..at].split(';').next().unwrap_or_default();
            if user.is_empty() {
                return None;
            }
            (Some(url_decode(user)?), &s[at + 1..])
        }
        None => (None, s),
    };
    let (host, after) = split_host(rest)?;
    if host.is_empty() {
        return None;
    }
    let host = valid_domain(clean_host(host))?;
    let mut port = None;
    let mut path = None;
    if let Some((delimiter, tail)) = after.filter(|(_, tail)| !tail.is_empty()) {
        if delimiter == ':' {
            let (port_text, remainder) = match tail.split_once('/') {
                Some((p, r)) => (p, Some(r)),
                None => (tail, None),
            };
            port = Some(parse_port(port_text)?);
            path = remainder;
        } else {
            path = Some(tail);
        }
    }
    if path.is_some_and(|p| !p.is_empty()) {
        return None;
    }
    Some(Jump { user, host, port })
}

/// `valid_domain`: letters, digits, `-`, `_` and single dots, starting with a letter or digit; a final dot is dropped.
fn valid_domain(name: &str) -> Option<String> {
    let first = name.bytes().next()?;
    if !first.is_ascii_alphanumeric() || name.contains("..") {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
        return None;
    }
    Some(name.strip_suffix('.').unwrap_or(name).to_string())
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Which of the two files `ssh` reads a file belongs to (`SSHCONF_USERCONF` or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// `~/.ssh/config` or the file `-F` names, and what they include: a relative `Include` is under `~/.ssh`.
    User,
    /// `/etc/ssh/ssh_config` and what it includes: a relative `Include` is under `/etc/ssh`.
    System,
}

/// Reads files and turns their lines into entries, checking each line as `process_config_line_depth` does.
struct Loader<'a> {
    local: &'a Local,
    /// Whose file is being read: it decides what a relative `Include` is relative to.
    origin: Origin,
    /// Every IgnoreUnknown value seen so far: a keyword they cover is accepted here and checked again per host.
    ignore_unknown: Vec<String>,
}

impl Loader<'_> {
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
            Kind::Include => return self.include(at, &keyword, &args, depth).map(|files| Some(Item::Include(files))),
            Kind::HostName => Some(Setting::HostName(self.one(at, &keyword, &args)?.to_string())),
            Kind::User => Some(Setting::User(self.one(at, &keyword, &args)?.to_string())),
            Kind::HostKeyAlias => Some(Setting::HostKeyAlias(self.one(at, &keyword, &args)?.to_string())),
            Kind::IdentityFile => Some(Setting::IdentityFile(self.one(at, &keyword, &args)?.to_string())),
            Kind::Port => {
                let value = self.one(at, &keyword, &args)?;
                let port =
                    parse_port(value).ok_or_else(|| self.bad(at, &keyword, value, "write a port number from 1 to 65535"))?;
                Some(Setting::Port(port))
            }
            Kind::IdentitiesOnly => Some(Setting::IdentitiesOnly(matches!(
                self.choice(at, &keyword, &args, FLAG)?.to_ascii_lowercase().as_str(),
                "yes" | "true"
            ))),
            Kind::StrictHostKeyChecking => {
                Some(Setting::StrictHostKeyChecking(self.choice(at, &keyword, &args, STRICT_HOST_KEY)?.to_string()))
            }
            Kind::CanonicalizeHostname => {
                Some(Setting::CanonicalizeHostname(self.choice(at, &keyword, &args, CANONICALIZE)?.to_string()))
            }
            Kind::Flag => self.choice(at, &keyword, &args, FLAG).map(|_| None)?,
            Kind::CheckHostIp => Some(Setting::CheckHostIp(matches!(
                self.choice(at, &keyword, &args, FLAG)?.to_ascii_lowercase().as_str(),
                "yes" | "true"
            ))),
            Kind::RevokedHostKeys => Some(Setting::RevokedHostKeys(self.one(at, &keyword, &args)?.to_string())),
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
            Kind::Algorithms(list) => Some(Setting::Algorithms(list, self.one(at, &keyword, &args)?.to_string())),
            Kind::KnownHostsCommand => {
                Some(Setting::KnownHostsCommand(rest.trim_start_matches([' ', '\t', '\r', '\n', '=']).to_string()))
            }
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
            Kind::ProxyCommand => Some(Setting::ProxyCommand(rest.trim_start_matches([' ', '\t', '\r', '\n', '=']).to_string())),
            Kind::ProxyJump => Some(Setting::ProxyJump(self.proxy_jump(at, &keyword, rest)?)),
        };
        Ok(setting.map(Item::Set))
    }

    fn missing(&self, at: &Loc, keyword: &str) -> SshConfigError {
        SshConfigError::MissingValue { path: at.path.to_path_buf(), line: at.line, keyword: keyword.to_string() }
    }

    fn extra(&self, at: &Loc, keyword: &str) -> SshConfigError {
        SshConfigError::ExtraValues { path: at.path.to_path_buf(), line: at.line, keyword: keyword.to_string() }
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
    fn choice<'a>(&self, at: &Loc, keyword: &str, args: &'a [String], values: &[&str]) -> Result<&'a str, SshConfigError> {
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
        convtime(value).map(Some).ok_or_else(|| self.bad(at, keyword, value, "write seconds, or a time such as 30s, 5m or 1h30m"))
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
            return Err(self.bad(at, keyword, &args[MAX_HOSTS_FILES], &format!("name at most {MAX_HOSTS_FILES} files")));
        }
        Ok((!args.is_empty()).then(|| args.to_vec()))
    }

    /// The checks of `parse_agent_path`: `${VARIABLE}` must be closed and set, and `$NAME` must be a valid name.
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
            return Err(self.bad(at, keyword, value, "write $NAME with letters, digits and underscores only"));
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
                self.bad(at, keyword, raw, "write [user@]host[:port] or ssh://[user@]host[:port], separated by commas, or none")
            })?;
            hops.push(jump);
        }
        Ok(Some(hops))
    }

    /// `match_cfg_line`'s parsing: criteria read with `strdelim`, each but `all`, `canonical` and `final` with an argument.
    fn match_line(&self, at: &Loc, rest: &str) -> Result<Vec<Criterion>, SshConfigError> {
        let bad = |message: String| SshConfigError::BadMatch { path: at.path.to_path_buf(), line: at.line, message };
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
                if attributes > 1 || argument.as_deref().is_some_and(|a| !a.is_empty() && !a.starts_with('#')) {
                    return Err(bad(format!("`{word}` cannot be combined with other criteria; write `Match all` alone")));
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
                // Newer OpenSSH criteria: 9.2 rejects them, but a configuration shared with newer clients has them.
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

    /// The `Include` case: each word is a glob, relative to `~/.ssh` (`/etc/ssh` in the system file); every match is
    /// read and parsed now.
    fn include(&mut self, at: &Loc, keyword: &str, args: &[String], depth: usize) -> Result<Vec<Vec<Entry>>, SshConfigError> {
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
                        return Err(SshConfigError::IncludePermissions { path: at.path.to_path_buf(), line: at.line, included });
                    }
                    Err(ReadFailure::Io(source)) => {
                        return Err(SshConfigError::IncludeRead { path: at.path.to_path_buf(), line: at.line, included, source });
                    }
                };
                files.push(self.file(&included, &text, depth + 1)?);
            }
        }
        Ok(files)
    }
}

enum ReadFailure {
    Permissions,
    Io(io::Error),
}

/// Reads an included file with `SSHCONF_CHECKPERM`'s check; `None` for a file that vanished, as OpenSSH skips it.
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
fn permissions_ok(metadata: &fs::Metadata, uid: u32) -> bool {
    (metadata.uid() == 0 || metadata.uid() == uid) && metadata.mode() & 0o022 == 0
}

/// A configuration file's text; `None` when it is missing. A directory reads as empty, as `fopen` and
/// `getline` make it for OpenSSH. A pipe, socket or device other than `/dev/null` is refused: reading one could
/// block every resolution (every prompt line) for good, or never end.
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
            let home = if user.is_empty() { Some(local.include_home.clone()) } else { passwd_home(PasswdKey::Name(user)) };
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
                let Ok(dir) = fs::read_dir(if prefix.is_empty() { "." } else { prefix.as_str() }) else { continue };
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
    let mut found: Vec<String> = candidates.into_iter().filter(|p| !p.is_empty() && fs::symlink_metadata(p).is_ok()).collect();
    found.sort();
    found.into_iter().map(PathBuf::from).collect()
}

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

fn unescape_glob(component: &str) -> String {
    let mut out = String::new();
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

/// One path component against one glob component: `*`, `?`, `[...]` with `!` or `^`, `\` escapes; a leading dot
/// must be matched by a dot.
fn glob_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    glob_match_from(&pattern, &name)
}

fn glob_match_from(pattern: &[char], name: &[char]) -> bool {
    let Some((&p, rest)) = pattern.split_first() else { return name.is_empty() };
    match p {
        '*' => (0..=name.len()).any(|i| glob_match_from(rest, &name[i..])),
        '?' => !name.is_empty() && glob_match_from(rest, &name[1..]),
        '[' => match (name.first(), class_end(rest)) {
            (Some(&c), Some(end)) => class_matches(&rest[..end], c) && glob_match_from(&rest[end + 1..], &name[1..]),
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

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
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
                HostConfig { hostname: Some("a.example.com".into()), user: Some("bob".into()), port: Some(2222), ..none() },
            ),
            ("Host a\n  User bob\n", "b", none()),
            // Keywords ignore case, `=` may separate the value, and one `=` may stand between blanks.
            (
                "hOsTnAmE=x\nUSER = bob\nport=\t22\n",
                "a",
                HostConfig { hostname: Some("x".into()), user: Some("bob".into()), port: Some(22), ..none() },
            ),
            // The first value obtained wins for single-valued options.
            ("User first\nUser second\nHost a\n  User third\n", "a", HostConfig { user: Some("first".into()), ..none() }),
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
            ("Host *\n  HostName %h.Internal\n", "Db", HostConfig { hostname: Some("db.internal".into()), ..none() }),
            ("HostName 100%%\n", "a", HostConfig { hostname: Some("100%".into()), ..none() }),
            ("HostName FE80::1\n", "a", HostConfig { hostname: Some("FE80::1".into()), ..none() }),
            // IdentityFile accumulates over blocks, drops repeats, and expands ~ and the tokens.
            (
                "Host a\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile ~/.ssh/a\n  \
                 IdentityFile /k/%h-%r-%u-%p-%n-%d-%i-%l-%L-%%\n",
                "a",
                HostConfig {
                    identity_files: paths(&["/home/me/.ssh/a", "/k/a-me-me-22-a-/home/me-1000-box.example.org-box-%"]),
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
            ("IdentityFile /my\\ keys/id # a comment\n", "a", HostConfig { identity_files: paths(&["/my keys/id"]), ..none() }),
            // Known-hosts files: the first line wins with all its files; GlobalKnownHostsFile gets only ~.
            (
                "UserKnownHostsFile ~/kh /x/%h\nUserKnownHostsFile /other\n",
                "h",
                HostConfig { user_known_hosts_files: paths(&["/home/me/kh", "/x/h"]), ..none() },
            ),
            ("UserKnownHostsFile none\n", "h", HostConfig { user_known_hosts_files: paths(&["none"]), ..none() }),
            (
                "GlobalKnownHostsFile ~/g /etc/%h\n",
                "h",
                HostConfig { global_known_hosts_files: paths(&["/home/me/g", "/etc/%h"]), ..none() },
            ),
            ("IdentityAgent SSH_AUTH_SOCK\n", "h", HostConfig { identity_agent: Some("SSH_AUTH_SOCK".into()), ..none() }),
            ("IdentityAgent ~/agent.%h\n", "h", HostConfig { identity_agent: Some("/home/me/agent.h".into()), ..none() }),
            ("IdentityAgent none\nIdentityAgent /x\n", "h", HostConfig { identity_agent: Some("none".into()), ..none() }),
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
            ("ProxyJump ssh://a%40b@j\n", "h", HostConfig { proxy_jump: Some(vec![jump(Some("a@b"), "j", None)]), ..none() }),
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
            ("User bob\nMatch user bob\n  Port 2\n", "h", HostConfig { user: Some("bob".into()), port: Some(2), ..none() }),
            ("Match localuser me host h\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match localuser other\n  Port 2\n", "h", none()),
            ("Host x\n  Port 1\nMatch all\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match host=h\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            ("Match host \"h\" # comment\n  Port 2\n", "h", HostConfig { port: Some(2), ..none() }),
            // Unknown keywords listed in IgnoreUnknown, and deprecated or unsupported ones, are accepted and ignored.
            ("IgnoreUnknown Foo*,Bar\nFooBaz 1\nbar x y\nPort 3\n", "h", HostConfig { port: Some(3), ..none() }),
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
        let warnings =
            |text: &str, host: &str| parse(text).map(|c| c.resolve(Query::host(host, ME)).warnings).unwrap_or_default();
        // ProxyCommand is no warning but a value: the inventory refuses such a host rather than connect around it.
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
            let matched = refusals.len() == expected.len() && refusals.iter().zip(expected).all(|(r, e)| r.starts_with(e));
            assert!(matched, "config:\n{text}\nhost: {host}\nexpected {expected:?}\nfound {refusals:?}");
        };
        let cannot = " cannot be evaluated by remote (it never runs commands";
        check("Match exec \"test -f /x\"\n  Port 2\n", "h", &[&format!("/cfg:1: Match exec test -f /x{cannot}")]);
        // A block whose other criteria already fail, before or after, cannot apply whatever the command says.
        check("Match host other exec true\n  Port 2\n", "h", &[]);
        check("Match exec true host other\n  Port 2\n", "h", &[]);
        check("Match localnetwork 10.0.0.0/8\n  Port 2\n", "h", &[&format!("/cfg:1: Match localnetwork 10.0.0.0/8{cannot}")]);
        check("Match final exec true\n  ProxyJump gate\n", "h", &[&format!("/cfg:1: Match exec true{cannot}")]);
        check("Match final\n  ProxyJump gate\n", "h", &[]);
        // `canonical` holds only on a second reading after canonicalisation, which never happens here: as ssh's first.
        check("Match canonical\n  Port 2\n", "h", &[]);
        check("Match !canonical\n  Port 2\n", "h", &[]);
        check("CanonicalizeHostname yes\n", "h", &["/cfg:1: CanonicalizeHostname yes is not supported by remote yet: ssh would"]);
        check("CanonicalizeHostname no\n", "h", &[]);
        check("KnownHostsCommand /bin/echo %H\n", "h", &["/cfg:1: KnownHostsCommand /bin/echo %H is not supported by remote"]);
        check("KnownHostsCommand none\n", "h", &[]);
        check("Host other\n  KnownHostsCommand /bin/echo\n", "h", &[]);
        check("CheckHostIP yes\n", "h", &["/cfg:1: CheckHostIP yes is not supported by remote yet: ssh would also check"]);
        check("CheckHostIP no\nCheckHostIP yes\n", "h", &[]);
        check("RequiredRSASize 2048\n", "h", &["/cfg:1: RequiredRSASize 2048 is not supported by remote yet"]);
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
        assert_eq!(found.user_known_hosts_files, [PathBuf::from("/kh/deploy-2200-948e0ca41ce616ee9dbe2cd721968a97074793ec")]);
        assert_eq!(found.identity_files, [PathBuf::from("/k/id_deploy")]);
        let found = resolve(text, None, Some(2022));
        assert_eq!((found.user.as_deref(), found.port, found.proxy_jump.as_ref()), (Some("other"), Some(2022), None));
        assert!(found.user_known_hosts_files[0].to_string_lossy().starts_with("/kh/other-2022-"), "{found:?}");
    }

    #[test]
    fn algorithm_lists_narrow_what_is_offered() {
        let defaults = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
        let check = |value: &str, expected: &[&str]| {
            assert_eq!(assemble_algorithms(value, &defaults, &supported), expected, "{value}");
        };
        // Beyond the defaults only when named: `ssh-rsa` (SHA-1) never comes back through `-` or a wildcard `^`.
        check("+ssh-rsa", &supported);
        check("+ssh-ed25519", &defaults);
        check("-ecdsa*", &["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]);
        check("-rsa-sha2-512,ssh-ed25519", &["ecdsa-sha2-nistp256", "rsa-sha2-256"]);
        check("^rsa-sha2-256", &["rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"]);
        check("^ssh-rsa", &["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]);
        check("rsa-sha2-256,ssh-ed25519", &["rsa-sha2-256", "ssh-ed25519"]);
        check("*rsa*", &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
        check("ssh-rsa", &["ssh-rsa"]);
        check("sk-ssh-ed25519@openssh.com", &[]);
        check("-*", &[]);
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
        assert!(std::error::Error::source(&err).is_some_and(|e| e.to_string().contains("not a regular file")), "{err:?}");
        let empty = SshConfig::load(Path::new("/dev/null")).expect("/dev/null reads as empty");
        assert_eq!(empty.resolve(Query::host("h", ME)), HostConfig::default());
    }

    #[test]
    fn ports_may_be_service_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = dir.path().join("services");
        fs::write(&services, "# comment\nssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\nntp 123/udp\nalt 2222/tcp two # x\n")
            .expect("write");
        let cases = [("ssh", Some(22)), ("alt", Some(2222)), ("two", Some(2222)), ("ntp", None), ("x", None), ("tcp", None)];
        for (name, expected) in cases {
            assert_eq!(service_port(name, &services), expected, "{name}");
        }
        // The machine's own /etc/services, as `ssh` reads it for `Port ssh`.
        if Path::new(SERVICES).exists() {
            check("Port ssh\n", "h", HostConfig { port: Some(22), ..HostConfig::default() });
        }
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
        check_error("Host x\n  Port 65536\n", "/cfg:2: `port` does not accept `65536`; write a port number from 1 to 65535");
        check_error("Port\n", "/cfg:1: `port` needs a value; write it after the keyword");
        check_error(
            "User a b\n",
            "/cfg:1: `user` has extra values at the end of the line; remove them, or quote a value that contains spaces",
        );
        check_error("User \"a\n", "/cfg:1: a quote is not closed; close it, or escape the quote character with a backslash");
        check_error("BatchMode maybe\n", "/cfg:1: `batchmode` does not accept `maybe`; write one of yes, no, true, false");
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
        assert_eq!(load("Include ~/.ssh/common\n").expect("loads").resolve(Query::host("x", ME)).user.as_deref(), Some("common"));
        assert_eq!(load("Include missing*.conf nothing\n").expect("loads").resolve(Query::host("x", ME)), HostConfig::default());

        // An Include inside a Host block applies only when the block does; a Match inside it does not leak out.
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
            format!("{}:1: includes nest deeper than 16 files; look for a file that includes itself", ssh.join("self").display())
        );
        write("bad", "\nPort 0\n");
        let err = load("Include bad\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with(&format!("{}:2: `port`", ssh.join("bad").display())), "{err}");
        write("open", "Port 1\n");
        fs::set_permissions(ssh.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o666)).expect("chmod");
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
        assert!(glob_match("*.conf", "a.conf") && !glob_match("*.conf", ".a.conf") && glob_match("[!b]?", "ax"));
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
        Case { config: "Host a\n  HostName a.example.com\n  User bob\n  Port 2222\n", files: &[], hosts: &["a", "b"] },
        Case {
            config: "Host x web-* db? !db9\n  User w\n  Port 2\nHost *\n  User fallback\n",
            files: &[],
            hosts: &["web-1", "db1", "db9", "db12", "x"],
        },
        Case { config: "Host !bad *.example.com\n  User w\n", files: &[], hosts: &["bad", "ok.example.com", "bad.example.com"] },
        Case { config: "hOsTnAmE=x.example\nUSER = bob\nport=\t2022\nIdentitiesOnly=yes\n", files: &[], hosts: &["a"] },
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
        Case { config: "UserKnownHostsFile /x${PATH}/%%{PATH}\nIdentityAgent /agent/${PATH}\n", files: &[], hosts: &["a"] },
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
            files: &[("inc/block.conf", "Port 7\nMatch all\n  IdentityFile ~/from-match\nHost b\n  Port 9\nHost x\n  Port 8\n")],
            hosts: &["a", "b"],
        },
        Case {
            config: "IgnoreUnknown Foo*,Bar\nFooBaz 1\nbar x y\nCipher blowfish\nUseRSH yes\nProtocol 2\nRSAAuthentication no\n\
                     GSSAPIAuthentication no\nPort 3\n",
            files: &[],
            hosts: &["h"],
        },
        Case { config: "# comment\n\n\tPort 4 # trailing\n  User\t\"spaced user\"\n", files: &[], hosts: &["h"] },
        Case { config: "Host a\n  Hostnme x\n", files: &[], hosts: &["a"] },
        Case { config: "Host a\n  Port 0\n", files: &[], hosts: &["b"] },
        Case { config: "Host a\n  Port 70000\n", files: &[], hosts: &["a"] },
        Case { config: "Include bad.conf\n", files: &[(".ssh/bad.conf", "# fine\nNoSuchOption yes\n")], hosts: &["a"] },
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
        Case { config: "Match canonical\n  Port 2\nMatch !canonical\n  User notcanon\n", files: &[], hosts: &["a"] },
        // `final` anywhere, even on a line whose other criteria fail, makes ssh read every file once more, with
        // `canonical` and `final` true and the HostName found so far as the host.
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

    /// The command lines every host of every case is resolved for: `ssh HOST`, `-l deploy`, `-p 2222` and both.
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

    /// The ssh line number in an error such as `FILE line 2: Bad configuration option` or `FILE: line 2: ...`.
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
            // ssh expands `~` and %d from the password database but an Include's `~` from $HOME, and so do we.
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
                let output = ssh.arg(host).env("HOME", &home).stdin(Stdio::null()).output().expect("run ssh -G");
                let context = format!("case {index}, host {host}, -l {query_user:?} -p {query_port:?}, config:\n{}", case.config);
                let stderr = String::from_utf8_lossy(&output.stderr);
                let ours = match (&ours, output.status.success()) {
                    (Err(err), false) => {
                        let (file, line) = ssh_error_location(&stderr).unwrap_or_else(|| panic!("{context}\nssh said: {stderr}"));
                        assert!(
                            err.to_string().starts_with(&format!("{file}:{line}: ")),
                            "{context}\nours: {err}\nssh: {stderr}"
                        );
                        compared += 1;
                        continue;
                    }
                    (Err(err), true) => panic!("{context}\nssh accepts it but we refuse: {err}"),
                    (Ok(_), false) => panic!("{context}\nssh refuses it but we accept it: {stderr}"),
                    (Ok(config), true) => config.resolve(Query { host, user: query_user, port: query_port, local_user: &me }),
                };
                let ssh = ssh_view(&String::from_utf8_lossy(&output.stdout));
                let one = |key: &str| ssh.get(key).and_then(|v| v.first()).cloned().unwrap_or_default();
                let home_text = ours_local.home.to_string_lossy().into_owned();
                let ssh_tilde = |raw: &str| match raw.strip_prefix("~/") {
                    Some(rest) => format!("{home_text}/{rest}"),
                    None => raw.to_string(),
                };
                let show = |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");

                assert_eq!(one("hostname"), ours.hostname.clone().unwrap_or_else(|| connect_name(host)), "hostname: {context}");
                assert_eq!(one("user"), ours.user.clone().unwrap_or_else(|| me.clone()), "user: {context}");
                assert_eq!(one("port"), ours.port.unwrap_or(22).to_string(), "port: {context}");
                // ssh -G prints IdentityFile before expansion; the tokens it would use are compared via UserKnownHostsFile.
                let ssh_ids = ssh.get("identityfile").cloned().unwrap_or_default();
                if ours.identity_files.is_empty() {
                    let defaults = ["id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa"];
                    let defaults: Vec<String> = defaults.iter().map(|k| format!("~/.ssh/{k}")).collect();
                    assert_eq!(ssh_ids, defaults, "identityfile defaults: {context}");
                } else {
                    let ours_ids: Vec<String> = ours.identity_files.iter().map(|p| p.display().to_string()).collect();
                    let config = SshConfig { files: Vec::new(), local: ours_local.clone() };
                    let tokens = config.client_tokens(
                        ours.hostname.clone().unwrap_or_else(|| connect_name(host)),
                        ours.port.unwrap_or(22),
                        ours.user.clone().unwrap_or_else(|| me.clone()),
                        host.to_string(),
                        &Context { host_arg: host, local_user: &me, final_host: None },
                    );
                    let at = Loc { path: Arc::from(Path::new("ssh -G")), line: 0 };
                    let expanded: Vec<String> =
                        ssh_ids
                            .iter()
                            .map(|raw| {
                                if raw == "none" {
                                    raw.clone()
                                } else {
                                    config.client_path(raw, &tokens, &at, "", &mut Vec::new())
                                }
                            })
                            .collect();
                    assert_eq!(ours_ids, expanded, "identityfile: {context}");
                }
                assert_eq!(one("identitiesonly"), if ours.identities_only == Some(true) { "yes" } else { "no" }, "{context}");
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
                let ssh_gkh = one("globalknownhostsfile").split(' ').map(ssh_tilde).collect::<Vec<_>>().join(" ");
                assert_eq!(ssh_gkh, gkh, "globalknownhostsfile: {context}");
                let strict = match ours.strict_host_key_checking.as_deref().map(str::to_ascii_lowercase).as_deref() {
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
                assert_eq!(ssh_jump, ours.proxy_jump.clone().filter(|hops| !hops.is_empty()), "proxyjump: {context}");
                assert!(ours.warnings.is_empty(), "unexpected warnings {:?}: {context}", ours.warnings);
                assert!(ours.refusals.is_empty(), "unexpected refusals {:?}: {context}", ours.refusals);
                compared += 1;
            }
        }
        println!("{compared} resolutions agree with ssh -G in {:?}", started.elapsed());
    }
}
