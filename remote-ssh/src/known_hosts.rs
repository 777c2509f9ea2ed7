//! OpenSSH `known_hosts` semantics: parsing, host matching, the host-key verdict and the line that accept-new
//! appends.
//!
//! The rules follow OpenSSH 9.2: `hostkeys_foreach_file`, `check_markers`, `match_maybe_hashed`, `host_hash`
//! and `check_hostkeys_by_key_or_type` in `hostfile.c`; `match_pattern` and `match_pattern_list` in
//! `match.c`; `check_host_key` and `order_hostkeyalgs` in `sshconnect.c` and `sshconnect2.c`; `put_host_port`
//! in `misc.c`. `tests/tests/integration/host_keys_openssh.rs` checks the verdicts against the real `ssh`
//! client on the same files. Everything here is pure except `load` and `append`, which touch one file each
//! and nothing else.

use std::borrow::Borrow;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::{self, Algorithm, PublicKey};
use sha1::Sha1;

/// The prefix of a hashed host name `|1|salt|hash` (OpenSSH's `HASH_MAGIC`).
const HASH_MAGIC: &str = "|1|";

/// Bytes in the salt and in the digest of a hashed name: HMAC-SHA1 uses a salt as long as its output.
const SALT_LEN: usize = 20;

/// OpenSSH's `extract_salt` refuses an encoded salt longer than this, which makes the whole line invalid.
const MAX_SALT_TEXT: usize = 1024;

/// OpenSSH refuses RSA moduli below this size (`SSH_RSA_MINIMUM_MODULUS_SIZE`), so such lines are invalid for
/// it.
const RSA_MIN_BITS: u32 = 1024;

/// OpenSSH reads no bignum above this size (`SSHBUF_MAX_BIGNUM` bytes), so larger RSA keys are invalid for it
/// too.
const RSA_MAX_BITS: u32 = 16384;

/// `match_pattern_list` copies each pattern into a 1024-byte buffer; a pattern this long makes the whole list
/// fail.
const MAX_PATTERN: usize = 1023;

/// The characters OpenSSH's `check_host_key` refuses to write into a `known_hosts` name.
const UNRECORDABLE: &[char] = &['@', '?', '*', '#', '[', ']', '|', '\'', '"', '\\'];

/// A marker in front of a line's host patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `@cert-authority`: the key is a CA that signs host certificates for the matching hosts.
    CertAuthority,
    /// `@revoked`: the key must never be accepted for the matching hosts.
    Revoked,
}

/// The host field of a line: a pattern list or one hashed name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hosts {
    /// A comma-separated list of patterns with `*`, `?` and `!negation`, as written in the file.
    Patterns(String),
    /// A hashed name `|1|salt|hash`: the field as written and its decoded salt.
    Hashed {
        /// The whole field, which a candidate name's hash must reproduce exactly.
        field: String,
        /// The HMAC-SHA1 key decoded from the field.
        salt: [u8; SALT_LEN],
    },
}

impl Hosts {
    /// Whether this is a hashed `|1|` name.
    pub fn is_hashed(&self) -> bool {
        matches!(self, Self::Hashed { .. })
    }
}

/// One parsed line: its 1-based line number (comment and blank lines count), marker, host patterns and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The line number, counting every line of the file from 1.
    pub line: usize,
    /// The `@cert-authority` or `@revoked` marker, if any.
    pub marker: Option<Marker>,
    /// The host patterns or hashed name.
    pub hosts: Hosts,
    /// The recorded key; its comment is empty because only the key data takes part in any comparison.
    pub key: PublicKey,
}

/// Why a line that is neither blank nor a comment was skipped, as OpenSSH would skip it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The line starts with `@` but not with exactly one known marker followed by a blank.
    #[error("invalid marker `{0}`")]
    Marker(String),
    /// Nothing but a comment follows the host field.
    #[error("no key after the host names")]
    NoKey,
    /// The host field starts with `|` but is not `|1|` with a base64 20-byte salt.
    #[error("invalid hashed host name `{0}`")]
    Hash(String),
    /// The key type is not followed by key data.
    #[error("no key data after `{0}`")]
    NoKeyData(String),
    /// The key data is not base64 or not an SSH public key.
    #[error("cannot decode the `{stated}` key data: {cause}")]
    KeyData {
        /// The key type written on the line.
        stated: String,
        /// What the decoder reported.
        cause: String,
    },
    /// The key type written on the line differs from the type inside the key data.
    #[error("the line says `{stated}` but the key data is `{actual}`")]
    TypeMismatch {
        /// The key type written on the line.
        stated: String,
        /// The key type inside the key data.
        actual: String,
    },
    /// The key data holds a key type OpenSSH 9.2 does not know.
    #[error("unknown key type `{0}`")]
    UnknownType(String),
    /// The RSA modulus is outside the sizes OpenSSH reads.
    #[error("RSA key of {0} bits; OpenSSH accepts {RSA_MIN_BITS} to {RSA_MAX_BITS}")]
    RsaSize(u32),
}

/// A skipped line and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The line number, counting from 1.
    pub line: usize,
    /// Why OpenSSH would skip the line.
    pub problem: Malformed,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// The usable entries of one file and the lines skipped as malformed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Malformed lines in file order; OpenSSH skips them and says so only at debug level.
    pub warnings: Vec<Warning>,
}

/// What the recorded keys say about a presented host key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The key is recorded for the host; the first such line is given.
    Known {
        /// The file holding the line.
        file: PathBuf,
        /// The line number.
        line: usize,
    },
    /// The key is marked `@revoked` for the host (or, on a port other than 22, for the plain host name),
    /// which outranks every other line: refuse under every policy.
    Revoked {
        /// The file holding the `@revoked` line.
        file: PathBuf,
        /// The line number.
        line: usize,
    },
    /// A key of the same type is recorded for the host but differs: refuse under every policy.
    Changed {
        /// The file holding the last differing line of that type, the one to remove if the host was
        /// reinstalled.
        file: PathBuf,
        /// The line number.
        line: usize,
        /// The recorded key.
        recorded: PublicKey,
    },
    /// Only keys of other types are recorded for the host. OpenSSH 9.2 treats this exactly as a changed key
    /// (`HOST_CHANGED`): it refuses under `yes` and `accept-new` and records nothing. Refuse.
    OtherTypes {
        /// The file holding the last recorded line for the host, the one OpenSSH names as "Offending".
        file: PathBuf,
        /// The line number.
        line: usize,
        /// The recorded key.
        recorded: PublicKey,
    },
    /// Only `@cert-authority` lines match the host. We do not negotiate host certificates, so the caller
    /// refuses and says so; OpenSSH would ask the server for a certificate instead, and treats a plain key as
    /// unknown (so under accept-new it records it).
    CertAuthorityOnly {
        /// The file holding the first matching `@cert-authority` line.
        file: PathBuf,
        /// The line number.
        line: usize,
    },
    /// Nothing is recorded for the host: refuse under `yes`, record the key under `accept-new`.
    Unknown,
}

/// What can go wrong reading or writing a `known_hosts` file or forming a line for it.
#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file cannot be created or appended to.
    #[error("cannot append to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The host name would not survive a round trip through the file.
    #[error(
        "cannot record the host name {0:?}: it is empty or contains a blank, a comma or a control character"
    )]
    Name(String),
    /// The presented key cannot be encoded.
    #[error("cannot encode the {algorithm} key: {source}")]
    Encode {
        /// The key's type.
        algorithm: String,
        /// The encoder's error.
        source: ssh_key::Error,
    },
    /// No random salt could be drawn for a hashed name.
    #[error("cannot draw a random salt for a hashed host name: {0}")]
    Random(getrandom::Error),
}

/// The start of a key revocation list (KRL), OpenSSH's binary format for `RevokedHostKeys`.
const KRL_MAGIC: &[u8] = b"SSHKRL\n\0";

/// Why a `RevokedHostKeys` file could not be checked; the host is refused either way, as `ssh` refuses it.
#[derive(Debug, thiserror::Error)]
pub enum RevokedError {
    /// The file is missing or cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file is a binary key revocation list, which `remote` does not read yet.
    #[error("{} is a key revocation list (KRL), which remote does not read yet; list the revoked keys one per line instead", path.display())]
    Krl {
        /// The file.
        path: PathBuf,
    },
}

/// `sshkey_check_revoked` for a `RevokedHostKeys` file of public keys, one per line (`keytype base64
/// [comment]`, `#` comments and lines that do not parse skipped, as `sshkey_in_file` skips them): the line
/// listing `key`.
pub fn revoked_line(path: &Path, key: &PublicKey) -> Result<Option<usize>, RevokedError> {
    let bytes = fs::read(path).map_err(|source| RevokedError::Read { path: path.to_path_buf(), source })?;
    if bytes.starts_with(KRL_MAGIC) {
        return Err(RevokedError::Krl { path: path.to_path_buf() });
    }
    let text = String::from_utf8_lossy(&bytes);
    let found = text.split('\n').enumerate().find(|(_, line)| {
        let line = skip_blanks(line);
        !line.starts_with('#') && parse_key(line).is_ok_and(|listed| listed.key_data() == key.key_data())
    });
    Ok(found.map(|(index, _)| index + 1))
}

/// Parses a whole file's text; blank, comment and malformed lines yield no entry, malformed ones a warning.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    // OpenSSH cuts lines at '\n' only, so a '\r' before it stays in the line (and is ignored inside base64).
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        // OpenSSH handles each line as a C string, so it ends at the first NUL byte.
        let raw = raw.split('\0').next().unwrap_or_default();
        match parse_line(raw) {
            Ok(Some((marker, hosts, key))) => parsed.entries.push(Entry { line, marker, hosts, key }),
            Ok(None) => {}
            Err(problem) => parsed.warnings.push(Warning { line, problem }),
        }
    }
    parsed
}

/// Reads and parses one file. A missing file is empty, as for OpenSSH.
///
/// OpenSSH also treats a file it cannot open (`EACCES`) or read (`EISDIR`) as empty, logging only at debug
/// level, so under accept-new it would take any key as new; returning the error lets the caller refuse
/// instead.
pub fn load(path: &Path) -> Result<Parsed, KnownHostsError> {
    match fs::read(path) {
        // Only comments can hold non-UTF-8 text that matters to nobody; a lossy conversion keeps every other
        // line.
        Ok(bytes) => Ok(parse(&String::from_utf8_lossy(&bytes))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Parsed::default()),
        Err(source) => Err(KnownHostsError::Read { path: path.to_path_buf(), source }),
    }
}

/// The name a host is looked up under: `host` on port 22, `[host]:port` otherwise, lowercased as `ssh` does.
pub fn lookup_name(host: &str, port: u16) -> String {
    // `put_host_port` also treats port 0 as "no port"; `ssh_login` lowercases the host before any lookup.
    let host = host.to_ascii_lowercase();
    if port == 0 || port == 22 { host } else { format!("[{host}]:{port}") }
}

/// Whether `name` matches a line's hosts: OpenSSH's pattern list match, where a matching `!negation` wins and
/// comparison ignores ASCII case, or for a hashed name an HMAC-SHA1 of the lowercased name under the line's
/// salt.
pub fn matches(hosts: &Hosts, name: &str) -> bool {
    matches_lowercase(hosts, &name.to_ascii_lowercase())
}

/// `matches` for a name already lowercased, so that a scan over many lines lowercases it once.
fn matches_lowercase(hosts: &Hosts, name: &str) -> bool {
    match hosts {
        Hosts::Patterns(list) => match_list(name.as_bytes(), list.as_bytes()),
        Hosts::Hashed { field, salt } => hash_name(salt, name).is_some_and(|hashed| hashed == *field),
    }
}

/// The verdict for `key` presented by `host` on `port`, over several files in order (user files, then
/// global).
///
/// On a port other than 22, when the bracketed name knows nothing, OpenSSH retries the plain host name and
/// accepts the key if it is recorded there. A different key under the plain name leaves the host unknown, as
/// in OpenSSH's quiet retry in `check_host_key`. A key revoked under the plain name is refused here, where
/// OpenSSH 9.2 prints its revocation warning and then, under accept-new, records and uses the key anyway.
pub fn check<P: Borrow<Parsed>>(files: &[(PathBuf, P)], host: &str, port: u16, key: &PublicKey) -> Verdict {
    let verdict = check_name(files, &lookup_name(host, port), key);
    if port != 0 && port != 22 && matches!(verdict, Verdict::Unknown | Verdict::CertAuthorityOnly { .. }) {
        let plain = check_name(files, &lookup_name(host, 22), key);
        if matches!(plain, Verdict::Known { .. } | Verdict::Revoked { .. }) {
            return plain;
        }
    }
    verdict
}

/// The verdict for `key` under one lookup name, without the plain-name retry that `check` adds for other
/// ports.
pub fn check_name<P: Borrow<Parsed>>(files: &[(PathBuf, P)], name: &str, key: &PublicKey) -> Verdict {
    let name = name.to_ascii_lowercase();
    let presented = key.key_data();
    let presented_type = type_name(presented);
    let mut known = None;
    let mut revoked = None;
    let mut same_type = None;
    let mut other_type = None;
    let mut authority = None;
    for (file, parsed) in files {
        for entry in parsed.borrow().entries.iter().filter(|entry| matches_lowercase(&entry.hosts, &name)) {
            let place = (file, entry);
            match entry.marker {
                // A revoked key is refused even if another line records it, as in `check_key_not_revoked`,
                // which compares public parts only, so revoking a certificate revokes its plain key too.
                Some(Marker::Revoked) => {
                    if revoked.is_none() && plain_part(entry.key.key_data()) == plain_part(presented) {
                        revoked = Some(place);
                    }
                }
                Some(Marker::CertAuthority) => {
                    authority.get_or_insert(place);
                }
                None if entry.key.key_data() == presented => {
                    known.get_or_insert(place);
                }
                // OpenSSH reports the last differing line; the same-type one is kept apart to name the right
                // line.
                None if type_name(entry.key.key_data()) == presented_type => same_type = Some(place),
                None => other_type = Some(place),
            }
        }
    }
    let at = |(file, entry): (&PathBuf, &Entry)| (file.clone(), entry.line);
    if let Some((file, line)) = revoked.map(at) {
        Verdict::Revoked { file, line }
    } else if let Some((file, line)) = known.map(at) {
        Verdict::Known { file, line }
    } else if let Some((file, entry)) = same_type {
        Verdict::Changed { file: file.clone(), line: entry.line, recorded: entry.key.clone() }
    } else if let Some((file, entry)) = other_type {
        Verdict::OtherTypes { file: file.clone(), line: entry.line, recorded: entry.key.clone() }
    } else if let Some((file, line)) = authority.map(at) {
        Verdict::CertAuthorityOnly { file, line }
    } else {
        Verdict::Unknown
    }
}

/// The key types recorded for `name` (plain lines only, in file order, without repeats), which the handshake
/// should offer first so that a host known by one key type is not met with another, as OpenSSH's
/// `order_hostkeyalgs` does.
pub fn recorded_algorithms<P: Borrow<Parsed>>(files: &[(PathBuf, P)], name: &str) -> Vec<Algorithm> {
    let name = name.to_ascii_lowercase();
    let mut algorithms = Vec::new();
    let plain_entries =
        files.iter().flat_map(|(_, parsed)| &parsed.borrow().entries).filter(|entry| entry.marker.is_none());
    for entry in plain_entries
        .filter(|entry| !entry.key.key_data().is_certificate() && matches_lowercase(&entry.hosts, &name))
    {
        let algorithm = entry.key.algorithm();
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    algorithms
}

/// Whether new lines for this file should be hashed: it has plain (unmarked) entries and all of them are
/// hashed.
///
/// OpenSSH itself decides by its `HashKnownHosts` option alone (off upstream, on in Debian's
/// `/etc/ssh/ssh_config`); following the file keeps a hashed file from gaining readable names and a readable
/// one from gaining opaque lines.
pub fn is_hashed(parsed: &Parsed) -> bool {
    let mut plain = parsed.entries.iter().filter(|entry| entry.marker.is_none()).peekable();
    plain.peek().is_some() && plain.all(|entry| entry.hosts.is_hashed())
}

/// Whether OpenSSH would record a key under this host name (before any `[host]:port` bracketing).
///
/// `check_host_key` never writes a name containing any of `@?*#[]|'"\`, since it would read back as a
/// pattern; under accept-new such a host stays unknown and is refused. Names that `entry_line` refuses are
/// excluded too.
pub fn is_recordable(host: &str) -> bool {
    !host.contains(UNRECORDABLE) && valid_name(host) && !host.starts_with('!')
}

/// The line to append under accept-new, without its newline: `name keytype base64`, or with `hashed` the name
/// as `|1|salt|hash` under a fresh random 20-byte salt. The name is lowercased first, as OpenSSH's
/// `write_host_entry` does.
pub fn entry_line(name: &str, key: &PublicKey, hashed: bool) -> Result<String, KnownHostsError> {
    if !valid_name(name) {
        return Err(KnownHostsError::Name(name.to_owned()));
    }
    let name = name.to_ascii_lowercase();
    let algorithm = type_name(key.key_data());
    let blob =
        key.to_bytes().map_err(|source| KnownHostsError::Encode { algorithm: algorithm.clone(), source })?;
    let host = if hashed {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(KnownHostsError::Random)?;
        // HMAC takes keys of any length, so this never fails for a 20-byte salt; the fallback keeps it
        // panic-free.
        hash_name(&salt, &name).ok_or(KnownHostsError::Name(name.clone()))?
    } else {
        name
    };
    Ok(format!("{host} {algorithm} {}", STANDARD.encode(blob)))
}

/// What [`record`] found once it held the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The host was still unknown; its key is now the file's line `line`.
    Added {
        /// The line number of the new entry.
        line: usize,
    },
    /// Meanwhile the host became known (another process or connection recorded it): nothing was written.
    Already(Verdict),
}

/// Accept-new's write: under an exclusive lock on the user's file, reads it again and checks `key` against it
/// and `others` (the global files); only when the host is still unknown is the key appended, hashed as `hash`
/// says (ssh_config's `HashKnownHosts`), else when the file's entries are. Doing the lookup inside the lock
/// means that concurrent connections (or `ssh` itself, which does not lock) never record one host twice, and
/// a key recorded meanwhile by someone else is compared, not overwritten.
pub fn record<P: Borrow<Parsed>>(
    user_file: &Path,
    others: &[(PathBuf, P)],
    host: &str,
    port: u16,
    key: &PublicKey,
    hash: Option<bool>,
) -> Result<Recorded, KnownHostsError> {
    let mut file = open_for_append(user_file)?;
    let read_error = |source| KnownHostsError::Read { path: user_file.to_path_buf(), source };
    // SAFETY: flock on a descriptor we own; the lock is released when `file` is closed at the end of this
    // call.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) } != 0 {
        return Err(KnownHostsError::Write {
            path: user_file.to_path_buf(),
            source: io::Error::last_os_error(),
        });
    }
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    file.read_to_end(&mut bytes).map_err(read_error)?;
    let current = parse(&String::from_utf8_lossy(&bytes));
    let hashed = hash.unwrap_or_else(|| is_hashed(&current));
    let mut files: Vec<(PathBuf, &Parsed)> = vec![(user_file.to_path_buf(), &current)];
    files.extend(others.iter().map(|(path, parsed)| (path.clone(), parsed.borrow())));
    let verdict = check(&files, host, port, key);
    if verdict != Verdict::Unknown {
        return Ok(Recorded::Already(verdict));
    }
    let line = entry_line(&lookup_name(host, port), key, hashed)?;
    append_to(&mut file, user_file, &line)?;
    let glued = !bytes.is_empty() && !bytes.ends_with(b"\n");
    Ok(Recorded::Added { line: bytes.iter().filter(|b| **b == b'\n').count() + 1 + usize::from(glued) })
}

/// Opens `path` for reading and appending, creating it, and its parent directory with mode 0700, when
/// missing.
fn open_for_append(path: &Path) -> Result<fs::File, KnownHostsError> {
    let write_error = |source| KnownHostsError::Write { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty() && !parent.exists()) {
        // Recursive, so that connections racing to create a missing ~/.ssh do not fail each other.
        fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(write_error)?;
    }
    OpenOptions::new().read(true).append(true).create(true).open(path).map_err(write_error)
}

/// Appends `line` and a newline. Unlike OpenSSH, which appends blindly, a newline is written first when the
/// file does not end with one, so the new entry is never glued onto a hand-edited last line. The line goes
/// out in one `write` on an `O_APPEND` file, so concurrent writers may interleave whole lines but never parts
/// of them.
fn append_to(file: &mut fs::File, path: &Path, line: &str) -> Result<(), KnownHostsError> {
    let write_error = |source| KnownHostsError::Write { path: path.to_path_buf(), source };
    let mut text = String::with_capacity(line.len() + 2);
    if !ends_with_newline(file).map_err(write_error)? {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(write_error)?;
    // A recorded key that a crash could lose would be asked for again; one that is half written would be
    // worse. Only regular files can be synced: `/dev/null` (`UserKnownHostsFile none`) cannot, and needs no
    // sync.
    if file.metadata().map_err(write_error)?.is_file() {
        file.sync_data().map_err(write_error)?;
    }
    Ok(())
}

/// Whether the file is empty or ends with a newline.
fn ends_with_newline(file: &mut fs::File) -> io::Result<bool> {
    if file.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// A name that cannot break the line it is written on.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c == ',' || c.is_whitespace() || c.is_control())
}

/// One line's marker, hosts and key; `None` for blank and comment lines.
type Line = Option<(Option<Marker>, Hosts, PublicKey)>;

/// Parses one line the way `hostkeys_foreach_file` does when it also parses the key.
fn parse_line(raw: &str) -> Result<Line, Malformed> {
    let rest = skip_blanks(raw);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (marker, rest) = parse_marker(rest)?;
    let (field, rest) = split_field(rest);
    let hosts = parse_hosts(field)?;
    let rest = skip_blanks(rest);
    if rest.is_empty() || rest.starts_with('#') {
        return Err(Malformed::NoKey);
    }
    Ok(Some((marker, hosts, parse_key(rest)?)))
}

/// Reads an optional marker as `check_markers` does: at most one, and only the two known ones.
fn parse_marker(mut rest: &str) -> Result<(Option<Marker>, &str), Malformed> {
    let mut marker = None;
    while rest.starts_with('@') {
        let invalid = || Malformed::Marker(split_field(rest).0.to_owned());
        if marker.is_some() {
            return Err(invalid());
        }
        // OpenSSH ends the marker at the line's first space, and at its first tab only when the line has no
        // space, so `@revoked<TAB>host key` is invalid whenever a space follows later on the line.
        let end = rest.find(' ').or_else(|| rest.find('\t')).ok_or_else(invalid)?;
        marker = Some(match &rest[..end] {
            "@cert-authority" => Marker::CertAuthority,
            "@revoked" => Marker::Revoked,
            _ => return Err(invalid()),
        });
        rest = skip_blanks(&rest[end..]);
    }
    Ok((marker, rest))
}

/// Reads the host field: a hashed name if it starts with `|`, else a pattern list kept as written.
fn parse_hosts(field: &str) -> Result<Hosts, Malformed> {
    if !field.starts_with('|') {
        return Ok(Hosts::Patterns(field.to_owned()));
    }
    // As in `extract_salt`, a bad hashed name makes the line invalid rather than merely unmatched.
    let invalid = || Malformed::Hash(field.to_owned());
    let encoded = field.strip_prefix(HASH_MAGIC).and_then(|rest| rest.split_once('|')).ok_or_else(invalid)?.0;
    if encoded.is_empty() || encoded.len() > MAX_SALT_TEXT {
        return Err(invalid());
    }
    let salt = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|salt| <[u8; SALT_LEN]>::try_from(salt).ok())
        .ok_or_else(invalid)?;
    Ok(Hosts::Hashed { field: field.to_owned(), salt })
}

/// Reads `keytype base64 [comment]` as `sshkey_read` does, including its checks on the decoded key.
fn parse_key(text: &str) -> Result<PublicKey, Malformed> {
    let (stated, rest) = split_field(text);
    let rest = skip_blanks(rest);
    if rest.is_empty() {
        return Err(Malformed::NoKeyData(stated.to_owned()));
    }
    let decode_error = |cause: String| Malformed::KeyData { stated: stated.to_owned(), cause };
    // OpenSSH's base64 decoder skips white space, so a '\r' left by a CRLF file is harmless.
    let encoded: String =
        split_field(rest).0.chars().filter(|c| !matches!(c, '\r' | '\n' | '\x0b' | '\x0c')).collect();
    let blob = STANDARD.decode(encoded).map_err(|err| decode_error(err.to_string()))?;
    let key = PublicKey::from_bytes(&blob).map_err(|err| decode_error(err.to_string()))?;
    // Types unknown to OpenSSH 9.2 (XMSS is not built into Debian's) make the line invalid there.
    if let KeyData::Other(other) = key.key_data() {
        return Err(Malformed::UnknownType(other.algorithm().as_str().to_owned()));
    }
    if !stated_type_fits(stated, key.key_data()) {
        return Err(Malformed::TypeMismatch { stated: stated.to_owned(), actual: type_name(key.key_data()) });
    }
    if let KeyData::Rsa(rsa) = plain_part(key.key_data()) {
        let bits = rsa.key_size();
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(Malformed::RsaSize(bits));
        }
    }
    Ok(key)
}

/// Whether the key type written on a line names the key in the data, with the aliases OpenSSH accepts.
fn stated_type_fits(stated: &str, key: &KeyData) -> bool {
    match key {
        // The other names OpenSSH knows are signature algorithms that `sshkey_read` maps onto the same key
        // type.
        KeyData::Rsa(_) => matches!(stated, "ssh-rsa" | "rsa-sha2-256" | "rsa-sha2-512"),
        KeyData::SkEcdsaSha2NistP256(_) => {
            matches!(
                stated,
                "sk-ecdsa-sha2-nistp256@openssh.com" | "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
            )
        }
        KeyData::Certificate(cert) if matches!(cert.algorithm(), Algorithm::Rsa { .. }) => matches!(
            stated,
            "ssh-rsa-cert-v01@openssh.com"
                | "rsa-sha2-256-cert-v01@openssh.com"
                | "rsa-sha2-512-cert-v01@openssh.com"
        ),
        other => stated == type_name(other),
    }
}

/// The key type name as written in `known_hosts`: `ssh-rsa` for every RSA key, the certificate type for
/// certificates.
fn type_name(key: &KeyData) -> String {
    match key {
        KeyData::Certificate(cert) => cert.algorithm().to_certificate_type(),
        other => other.algorithm().as_str().to_owned(),
    }
}

/// The plain public key inside a certificate, or the key itself.
fn plain_part(key: &KeyData) -> &KeyData {
    match key {
        KeyData::Certificate(cert) => cert.public_key(),
        other => other,
    }
}

/// `|1|salt|hash` for a name, as OpenSSH's `host_hash` writes it.
fn hash_name(salt: &[u8; SALT_LEN], name: &str) -> Option<String> {
    let mut mac = Hmac::<Sha1>::new_from_slice(salt).ok()?;
    mac.update(name.as_bytes());
    let digest = mac.finalize().into_bytes();
    Some(format!("{HASH_MAGIC}{}|{}", STANDARD.encode(salt), STANDARD.encode(digest)))
}

/// OpenSSH's `match_pattern_list` on an already lowercased name: true only for a positive match with no
/// negated one.
fn match_list(name: &[u8], list: &[u8]) -> bool {
    let mut positive = false;
    let mut i = 0;
    while i < list.len() {
        let negated = list[i] == b'!';
        if negated {
            i += 1;
        }
        let start = i;
        while i < list.len() && list[i] != b',' {
            i += 1;
        }
        let pattern = list[start..i].to_ascii_lowercase();
        if pattern.len() >= MAX_PATTERN {
            return false;
        }
        // Skipping the comma here means a trailing comma adds no empty pattern, as in OpenSSH.
        if i < list.len() {
            i += 1;
        }
        if glob(name, &pattern) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// OpenSSH's `match_pattern`: `*` matches any run of bytes, `?` any one byte, and there is no escape
/// character.
fn glob(text: &[u8], pattern: &[u8]) -> bool {
    // Greedy matching that backtracks to the last `*` gives OpenSSH's answers in linear space and no
    // recursion.
    let (mut t, mut p) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                resume = Some((p, t));
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match resume {
                Some((after_star, from)) => {
                    p = after_star;
                    t = from + 1;
                    resume = Some((after_star, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The text after leading spaces and tabs, the only blanks OpenSSH skips between fields.
fn skip_blanks(text: &str) -> &str {
    text.trim_start_matches([' ', '\t'])
}

/// The text up to the first space or tab, and the text after that one character.
fn split_field(text: &str) -> (&str, &str) {
    match text.find([' ', '\t']) {
        Some(end) => (&text[..end], &text[end + 1..]),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test keys by label: `{label}` in test data expands to `type base64`, `{label.b64}` to the base64
    /// alone.
    const KEYS: &[(&str, &str)] = &[
        ("ed1", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG3b5uZ+288mJD1qxtAkV4bsPuCO48BkEN/sxFjiKAl2"),
        ("ed2", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnntmrM8qxdt/M3Jv3NxrDFCPhwcuDvnHzQ737+wpI5"),
        ("ca", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3STyJ+Gme/B5FK2H7bbeWeuX/9jY80dg+5GosN5nss"),
        (
            "p256",
            concat!(
                "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKUUCNkPyW50G8ahEnTJgd+DSR3wW16K",
                "aR3P//Vws2bZUjBEbaY94dJExgMVDXRk2w+LxlYprC/AHyANEK2zRsQ=",
            ),
        ),
        (
            "p384",
            concat!(
                "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIgRCD3HdafCcNjRZiXphl0MKS0PX8WB",
                "2S3/vJeCkPMADfmoc4O0Q4U7sQsFt7CKopuQUI5kppcRgPfBFQsyN5b/XPNVJL8iSy94pVFt9I6RYhjX+olrLgee54mg/75rbw==",
            ),
        ),
        (
            "rsa1",
            concat!(
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMhq/9ceY1o+pera3VUxFbanp7dmO+RtxHDCGYM2w1GgMwHBRrFwJXyX9dY3v7/Ecl9NaR",
                "q1bqlyl/TmaNZNgSKohzN+jXcXsD4UmY68HSy9e41AwDmvpU74wk4J1w10uLumoFMqMET0SUJBuL1jDcmYRtMHohsz+VkZeQm6iaVQ==",
            ),
        ),
        (
            "rsa2",
            concat!(
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCiNP4IzYDavhUSTGj70CM9G/0/h9KliunIsxVE+MPg4Rbx4mWYlQjCivZ3ZYf/YOkjAnLF",
                "BsvxGTrYIZRWOUd+LlFOrgw71fS8dIVAPEW5g+kY5KTJlDtO7EqlvhVfTWh5ls/QcR1ouN0xpC9M24ZAnHdgt9HFRjP4zwr1OgmWOQ==",
            ),
        ),
        // A 768-bit modulus, below what OpenSSH reads.
        (
            "rsa768",
            concat!(
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAYQCNEW7OFzj32T2cFyQR4guPaw1Um28DZ1oWAKNaCZlQ2Db2dcyB50716OJdlA7ZBHWVMZhd",
                "XZ3J+BgY6BGJL5Ar0j8IJBKLLzMMXH/QpqOkUGUTJw4mng038qdN5FLmtDk=",
            ),
        ),
        // A host certificate for ed1, signed by ca.
        (
            "cert",
            concat!(
                "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIJ/NOwQ0no3dbHmvn2LXBLx6",
                "5sqp0+mVGTzrWkS6fpflAAAAIG3b5uZ+288mJD1qxtAkV4bsPuCO48BkEN/sxFjiKAl2AAAAAAAAAAAAAAACAAAABmVkY2VydAAAABAAAAAM",
                "aG9zdC5leGFtcGxlAAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgfdJPIn4aZ78HkUrYfttt5Z65",
                "f/2NjzR2D7kaiw3meywAAABTAAAAC3NzaC1lZDI1NTE5AAAAQKpK4Q7afVAmmnSYNXyUak2nPM8/0/Pb2zLl6GY197zd38w56ynWazck9wZ1",
                "9u+YKisqN6bYSUnYdituxsafRw4=",
            ),
        ),
        // A well-formed blob of a type OpenSSH does not know.
        ("foo", "foo@example.com AAAAD2Zvb0BleGFtcGxlLmNvbQAAAAF4"),
    ];

    /// Hashed names written by `ssh-keygen -H` (OpenSSH 9.2).
    const HASHED: &[(&str, &str)] = &[
        ("{h1}", "|1|/LykXRZGlSZIQwvUolkaakwbtFw=|3fpycj33gPT8UH+nuTq9I/UHpJQ="), // 127.0.5.1
        ("{h2}", "|1|0fWxvVGKIj6VuhOiGsAT7dAtDmA=|0igzu8PLvjG1gVcSfXk/cklHwwM="), // [127.0.5.1]:2222
        ("{h3}", "|1|xMM2rHKUBNaAfkDkvCRocQMjto4=|Nwb5ahmE9782+ughmt4dNDb612c="), // host.example
    ];

    fn expand(text: &str) -> String {
        let mut text = text.to_owned();
        for (label, key) in KEYS {
            let b64 = key.split_once(' ').map(|(_, b64)| b64).unwrap_or_default();
            text = text.replace(&format!("{{{label}.b64}}"), b64).replace(&format!("{{{label}}}"), key);
        }
        for (placeholder, hashed) in HASHED {
            text = text.replace(placeholder, hashed);
        }
        text
    }

    /// A presented key, with a comment unlike any recorded one to show that comments never matter.
    fn key(label: &str) -> PublicKey {
        let text =
            KEYS.iter().find(|(name, _)| *name == label).map(|(_, text)| *text).expect("test key label");
        let mut key = parse_key(text).expect("test key parses");
        key.set_comment("presented@elsewhere");
        key
    }

    fn label(key: &PublicKey) -> &'static str {
        KEYS.iter()
            .find(|(_, text)| parse_key(text).is_ok_and(|k| k.key_data() == key.key_data()))
            .map_or("?", |(label, _)| label)
    }

    fn problem(problem: &Malformed) -> &'static str {
        match problem {
            Malformed::Marker(_) => "marker",
            Malformed::NoKey => "no-key",
            Malformed::Hash(_) => "hash",
            Malformed::NoKeyData(_) => "no-key-data",
            Malformed::KeyData { .. } => "key-data",
            Malformed::TypeMismatch { .. } => "type-mismatch",
            Malformed::UnknownType(_) => "unknown-type",
            Malformed::RsaSize(_) => "rsa-size",
        }
    }

    fn render_entry(entry: &Entry) -> String {
        let marker = match entry.marker {
            Some(Marker::CertAuthority) => "@cert-authority ",
            Some(Marker::Revoked) => "@revoked ",
            None => "",
        };
        let hosts = match &entry.hosts {
            Hosts::Patterns(list) => list.as_str(),
            Hosts::Hashed { .. } => "hashed",
        };
        format!("{} {marker}{hosts} {}", entry.line, label(&entry.key))
    }

    /// Parses `input` (with key placeholders) and compares entries, then warnings, rendered one per line.
    fn check_parse(input: &str, expected: &[&str]) {
        let parsed = parse(&expand(input));
        let mut got: Vec<String> = parsed.entries.iter().map(render_entry).collect();
        got.extend(parsed.warnings.iter().map(|w| format!("{}: {}", w.line, problem(&w.problem))));
        assert_eq!(got, expected, "input: {input:?}");
    }

    #[test]
    fn parse_lines() {
        check_parse("", &[]);
        check_parse("host {ed1}", &["1 host ed1"]);
        check_parse("host {ed1}\n", &["1 host ed1"]);
        check_parse("# comment\n\nhost {ed1}", &["3 host ed1"]);
        check_parse(" \t# indented comment\n   \nhost {ed1}", &["3 host ed1"]);
        check_parse("  \thost {ed1}", &["1 host ed1"]);
        check_parse("host\t\t{ed1}", &["1 host ed1"]);
        check_parse("host    ssh-ed25519 \t  {ed1.b64}", &["1 host ed1"]);
        check_parse("host {ed1} a comment with words", &["1 host ed1"]);
        check_parse("host {ed1}\t# comment", &["1 host ed1"]);
        check_parse("host {ed1}\r\nother {ed2}\r\n", &["1 host ed1", "2 other ed2"]);
        check_parse("host {ed1}\0garbage after a NUL", &["1 host ed1"]);
        check_parse("a,b,[c]:2222,*.d,!e {ed1}", &["1 a,b,[c]:2222,*.d,!e ed1"]);
        check_parse(
            "h {ed1}\nh {rsa1}\nh {p256}\nh {p384}",
            &["1 h ed1", "2 h rsa1", "3 h p256", "4 h p384"],
        );
        check_parse("h {cert}", &["1 h cert"]);
    }

    #[test]
    fn parse_key_type_names() {
        check_parse("h rsa-sha2-256 {rsa1.b64}\nh rsa-sha2-512 {rsa1.b64}", &["1 h rsa1", "2 h rsa1"]);
        check_parse("h ssh-rsa {ed1.b64}", &["1: type-mismatch"]);
        check_parse("h ecdsa-sha2-nistp384 {p256.b64}", &["1: type-mismatch"]);
        check_parse("h RSA {rsa1.b64}", &["1: type-mismatch"]);
        check_parse("h {foo}", &["1: unknown-type"]);
        check_parse("h {rsa768}", &["1: rsa-size"]);
    }

    #[test]
    fn parse_malformed() {
        check_parse("host", &["1: no-key"]);
        check_parse("host   ", &["1: no-key"]);
        check_parse("host # comment", &["1: no-key"]);
        check_parse("host ssh-ed25519", &["1: no-key-data"]);
        check_parse("host ssh-ed25519  \t", &["1: no-key-data"]);
        check_parse("host ssh-ed25519 AAAA!!", &["1: key-data"]);
        check_parse("host ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", &["1: key-data"]);
        check_parse("host 1024 35 12345", &["1: key-data"]);
        check_parse("# c\nbad\nhost {ed1}\n\nbad ssh-ed25519 x", &["3 host ed1", "2: no-key", "5: key-data"]);
    }

    #[test]
    fn parse_markers() {
        check_parse("@revoked host {ed1}", &["1 @revoked host ed1"]);
        check_parse("@cert-authority *.example {ca}", &["1 @cert-authority *.example ca"]);
        check_parse("  @revoked \t host {ed1}", &["1 @revoked host ed1"]);
        check_parse("@revoked\thost\tssh-ed25519\t{ed1.b64}", &["1 @revoked host ed1"]);
        // OpenSSH ends a marker at the line's first space, so a tab after the marker fails when a space
        // follows.
        check_parse("@revoked\thost {ed1}", &["1: marker"]);
        check_parse("@revoked @revoked host {ed1}", &["1: marker"]);
        check_parse("@revoked @cert-authority host {ed1}", &["1: marker"]);
        check_parse("@bogus host {ed1}", &["1: marker"]);
        check_parse("@host {ed1}", &["1: marker"]);
        check_parse("@revoked", &["1: marker"]);
        check_parse("@revoked ", &["1: no-key"]);
        check_parse("@REVOKED host {ed1}", &["1: marker"]);
    }

    #[test]
    fn parse_hashed() {
        check_parse("{h1} {ed1}", &["1 hashed ed1"]);
        check_parse("|1|bad|x {ed1}", &["1: hash"]);
        check_parse("|2|/LykXRZGlSZIQwvUolkaakwbtFw=|x {ed1}", &["1: hash"]);
        check_parse("|1|/LykXRZGlSZIQwvUolkaakwbtFw= {ed1}", &["1: hash"]);
        check_parse("|1||x {ed1}", &["1: hash"]);
        check_parse("|1|AAAAAAAAAAAAAAAAAAAAAA==|x {ed1}", &["1: hash"]);
        // A well-formed salt with a wrong hash is a valid line that never matches.
        check_parse("|1|/LykXRZGlSZIQwvUolkaakwbtFw=|nonsense {ed1}", &["1 hashed ed1"]);
    }

    /// Matches `name` against a host field as written in a file.
    fn check_match(field: &str, name: &str, expected: bool) {
        let hosts = parse_hosts(&expand(field)).expect("valid host field");
        assert_eq!(matches(&hosts, name), expected, "{field:?} against {name:?}");
    }

    #[test]
    fn match_patterns() {
        check_match("host.example", "host.example", true);
        check_match("host.example", "host.example.org", false);
        check_match("host.example", "host", false);
        check_match("HOST.Example", "host.example", true);
        check_match("host.example", "HOST.EXAMPLE", true);
        check_match("a,b,c", "b", true);
        check_match("a,b,c", "d", false);
        check_match("a,b,", "b", true);
        check_match("*", "anything", true);
        check_match("*.example", "a.example", true);
        check_match("*.example", "a.b.example", true);
        check_match("*.example", "example", false);
        check_match("h?st", "host", true);
        check_match("h?st", "hst", false);
        check_match("h?st", "hoost", false);
        check_match("*a*b", "xaxxb", true);
        check_match("*a*b", "xaxxbc", false);
        check_match("a*", "a", true);
        check_match("a**b", "ab", true);
        check_match("*?", "", false);
        check_match("10.0.0.?", "10.0.0.1", true);
        check_match("10.0.0.?", "10.0.0.10", false);
    }

    #[test]
    fn match_negation() {
        check_match("*.example,!bad.example", "bad.example", false);
        check_match("!bad.example,*.example", "bad.example", false);
        check_match("*.example,!bad.example", "good.example", true);
        check_match("!bad.example", "good.example", false);
        check_match("!bad.example", "bad.example", false);
        check_match("*,!BAD", "bad", false);
        check_match("*,!*.example", "a.example", false);
        check_match("*,!*.example", "a.org", true);
    }

    #[test]
    fn match_ports() {
        check_match("[127.0.5.1]:2222", "[127.0.5.1]:2222", true);
        check_match("127.0.5.1", "[127.0.5.1]:2222", false);
        check_match("[127.0.5.1]:2222", "127.0.5.1", false);
        check_match("[127.0.5.1]:2222", "[127.0.5.1]:22", false);
        check_match("[127.0.5.1]:*", "[127.0.5.1]:2222", true);
        check_match("127.0.5.*", "127.0.5.1", true);
        check_match("127.0.5.*", "[127.0.5.1]:2222", false);
        check_match("[127.0.5.1]:2222,127.0.5.1", "127.0.5.1", true);
    }

    #[test]
    fn match_hashed() {
        check_match("{h1}", "127.0.5.1", true);
        check_match("{h1}", "127.0.5.2", false);
        check_match("{h1}", "[127.0.5.1]:2222", false);
        check_match("{h2}", "[127.0.5.1]:2222", true);
        check_match("{h3}", "host.example", true);
        check_match("{h3}", "HOST.example", true);
    }

    #[test]
    fn match_long_pattern_fails_the_list() {
        // OpenSSH gives up on the whole list when one pattern fills its 1024-byte buffer.
        check_match(&format!("host,{}", "x".repeat(1022)), "host", true);
        check_match(&format!("host,{}", "x".repeat(1023)), "host", false);
    }

    fn render_verdict(verdict: &Verdict, names: &[(PathBuf, Parsed)]) -> String {
        let file =
            |path: &PathBuf| names.iter().position(|(p, _)| p == path).map_or("?", |i| ["a", "b", "c"][i]);
        match verdict {
            Verdict::Known { file: f, line } => format!("known {}:{line}", file(f)),
            Verdict::Revoked { file: f, line } => format!("revoked {}:{line}", file(f)),
            Verdict::Changed { file: f, line, recorded } => {
                format!("changed {}:{line} {}", file(f), label(recorded))
            }
            Verdict::OtherTypes { file: f, line, recorded } => {
                format!("other-types {}:{line} {}", file(f), label(recorded))
            }
            Verdict::CertAuthorityOnly { file: f, line } => format!("ca-only {}:{line}", file(f)),
            Verdict::Unknown => "unknown".to_owned(),
        }
    }

    /// Checks `key` presented by `host:port` against files `a`, `b`, … holding `texts`.
    fn check_verdict(texts: &[&str], host: &str, port: u16, key_label: &str, expected: &str) {
        let files: Vec<(PathBuf, Parsed)> = texts
            .iter()
            .zip(["a", "b", "c"])
            .map(|(text, name)| (PathBuf::from(name), parse(&expand(text))))
            .collect();
        let verdict = check(&files, host, port, &key(key_label));
        assert_eq!(render_verdict(&verdict, &files), expected, "{texts:?} {host}:{port} {key_label}");
    }

    #[test]
    fn verdict_basic() {
        check_verdict(&[""], "h", 22, "ed1", "unknown");
        check_verdict(&["h {ed1}"], "h", 22, "ed1", "known a:1");
        check_verdict(&["# c\n\nh {ed1} old comment"], "h", 22, "ed1", "known a:3");
        check_verdict(&["other {ed2}"], "h", 22, "ed1", "unknown");
        check_verdict(&["h {ed2}"], "h", 22, "ed1", "changed a:1 ed2");
        check_verdict(&["h {rsa1}"], "h", 22, "rsa2", "changed a:1 rsa1");
        check_verdict(&["h {rsa1}"], "h", 22, "ed1", "other-types a:1 rsa1");
        check_verdict(&["h {p384}"], "h", 22, "p256", "other-types a:1 p384");
        check_verdict(&["h {cert}"], "h", 22, "ed1", "other-types a:1 cert");
    }

    #[test]
    fn verdict_several_keys() {
        check_verdict(&["h {rsa1}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["h {rsa1}\nh {ed1}"], "h", 22, "rsa1", "known a:1");
        check_verdict(&["h {ed2}\nh {ed1}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["h {ed2}\nh {rsa1}"], "h", 22, "ed1", "changed a:1 ed2");
        check_verdict(&["h {rsa1}\nh {p256}"], "h", 22, "ed1", "other-types a:2 p256");
        check_verdict(&["h {ed2}\nx {ed1}\nh {ed2}"], "h", 22, "ed1", "changed a:3 ed2");
        check_verdict(&["h rsa-sha2-512 {rsa1.b64}"], "h", 22, "rsa1", "known a:1");
    }

    #[test]
    fn verdict_files_in_order() {
        check_verdict(&["h {ed1}", "h {ed1}"], "h", 22, "ed1", "known a:1");
        check_verdict(&["", "h {ed1}"], "h", 22, "ed1", "known b:1");
        check_verdict(&["h {ed2}", "h {ed1}"], "h", 22, "ed1", "known b:1");
        check_verdict(&["", "h {ed2}"], "h", 22, "ed1", "changed b:1 ed2");
        check_verdict(&["h {ed2}", "h {ed2}"], "h", 22, "ed1", "changed b:1 ed2");
    }

    #[test]
    fn verdict_revoked() {
        check_verdict(&["@revoked h {ed1}"], "h", 22, "ed1", "revoked a:1");
        check_verdict(&["@revoked h {ed1}\nh {ed1}"], "h", 22, "ed1", "revoked a:1");
        check_verdict(&["h {ed1}\n@revoked * {ed1}"], "h", 22, "ed1", "revoked a:2");
        check_verdict(&["h {ed1}", "@revoked * {ed1}"], "h", 22, "ed1", "revoked b:1");
        check_verdict(&["@revoked h {ed2}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["@revoked h {cert}"], "h", 22, "ed1", "revoked a:1");
        // As in OpenSSH, a revocation applies to the hosts its line names.
        check_verdict(&["@revoked other {ed1}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["@revoked other {ed1}"], "h", 22, "ed1", "unknown");
    }

    #[test]
    fn verdict_cert_authority() {
        check_verdict(&["@cert-authority h {ca}"], "h", 22, "ed1", "ca-only a:1");
        check_verdict(&["@cert-authority * {ca}\n@cert-authority h {ed2}"], "h", 22, "ed1", "ca-only a:1");
        check_verdict(&["@cert-authority h {ca}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["@cert-authority h {ca}\nh {ed2}"], "h", 22, "ed1", "changed a:2 ed2");
        check_verdict(&["@cert-authority h {ed1}"], "h", 22, "ed1", "ca-only a:1");
        check_verdict(&["@cert-authority other {ca}"], "h", 22, "ed1", "unknown");
    }

    #[test]
    fn verdict_patterns() {
        check_verdict(&["*.example {ed1}"], "a.example", 22, "ed1", "known a:1");
        check_verdict(&["*,!h {ed1}"], "h", 22, "ed1", "unknown");
        check_verdict(&["*,!h {ed2}"], "h", 22, "ed1", "unknown");
        check_verdict(&["*,!other {ed2}"], "h", 22, "ed1", "changed a:1 ed2");
        check_verdict(&["HOST {ed1}"], "Host", 22, "ed1", "known a:1");
        check_verdict(&["a,h,b {ed1}"], "h", 22, "ed1", "known a:1");
    }

    #[test]
    fn verdict_hashed() {
        check_verdict(&["{h1} {ed1}"], "127.0.5.1", 22, "ed1", "known a:1");
        check_verdict(&["{h1} {ed2}"], "127.0.5.1", 22, "ed1", "changed a:1 ed2");
        check_verdict(&["{h2} {ed1}"], "127.0.5.1", 2222, "ed1", "known a:1");
        check_verdict(&["{h3} {ed1}"], "HOST.example", 22, "ed1", "known a:1");
        check_verdict(&["{h1} {ed1}"], "127.0.5.2", 22, "ed1", "unknown");
    }

    #[test]
    fn verdict_ports() {
        check_verdict(&["[h]:2222 {ed1}"], "h", 2222, "ed1", "known a:1");
        check_verdict(&["[h]:2222 {ed1}"], "h", 22, "ed1", "unknown");
        check_verdict(&["[h]:2222 {ed1}"], "h", 2200, "ed1", "unknown");
        check_verdict(&["h {ed1}"], "h", 0, "ed1", "known a:1");
        // OpenSSH retries the plain name when the bracketed one knows nothing, and accepts only a recorded
        // key there.
        check_verdict(&["h {ed1}"], "h", 2222, "ed1", "known a:1");
        check_verdict(&["h {ed2}"], "h", 2222, "ed1", "unknown");
        check_verdict(&["h {rsa1}"], "h", 2222, "ed1", "unknown");
        // OpenSSH 9.2 warns about the revocation in its retry and then accepts the key; we refuse it.
        check_verdict(&["@revoked h {ed1}"], "h", 2222, "ed1", "revoked a:1");
        check_verdict(&["@revoked h {ed1}\n[h]:2222 {ed1}"], "h", 2222, "ed1", "known a:2");
        check_verdict(&["@cert-authority [h]:2222 {ca}\nh {ed1}"], "h", 2222, "ed1", "known a:2");
        check_verdict(&["@cert-authority [h]:2222 {ca}"], "h", 2222, "ed1", "ca-only a:1");
        check_verdict(&["[h]:2222 {ed2}\nh {ed1}"], "h", 2222, "ed1", "changed a:1 ed2");
        check_verdict(&["[h]:2222 {rsa1}\nh {ed1}"], "h", 2222, "ed1", "other-types a:1 rsa1");
        check_verdict(&["[::1]:2222 {ed1}"], "::1", 2222, "ed1", "known a:1");
    }

    #[test]
    fn verdict_skips_malformed() {
        check_verdict(&["h ssh-ed25519 AAAA\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["h ssh-rsa {ed1.b64}"], "h", 22, "ed1", "unknown");
        check_verdict(&["@revoked\th {ed1}\nh {ed1}"], "h", 22, "ed1", "known a:2");
        check_verdict(&["h {rsa768}"], "h", 22, "ed1", "unknown");
    }

    fn check_lookup_name(host: &str, port: u16, expected: &str) {
        assert_eq!(lookup_name(host, port), expected);
    }

    #[test]
    fn lookup_names() {
        check_lookup_name("host", 22, "host");
        check_lookup_name("Host.Example", 22, "host.example");
        check_lookup_name("h", 2222, "[h]:2222");
        check_lookup_name("h", 0, "h");
        check_lookup_name("10.0.0.1", 2200, "[10.0.0.1]:2200");
        check_lookup_name("::1", 2222, "[::1]:2222");
    }

    fn check_recordable(host: &str, expected: bool) {
        assert_eq!(is_recordable(host), expected, "{host:?}");
    }

    #[test]
    fn recordable_names() {
        check_recordable("host.example", true);
        check_recordable("::1", true);
        check_recordable("10.0.0.1", true);
        check_recordable("", false);
        check_recordable("h*", false);
        check_recordable("h?", false);
        check_recordable("[h]", false);
        check_recordable("user@h", false);
        check_recordable("|1|x", false);
        check_recordable("h#", false);
        check_recordable("a b", false);
        check_recordable("a,b", false);
        check_recordable("!h", false);
        check_recordable("h\n", false);
    }

    fn check_is_hashed(input: &str, expected: bool) {
        assert_eq!(is_hashed(&parse(&expand(input))), expected, "{input:?}");
    }

    #[test]
    fn hashed_files() {
        check_is_hashed("", false);
        check_is_hashed("# only a comment", false);
        check_is_hashed("{h1} {ed1}", true);
        check_is_hashed("{h1} {ed1}\n{h2} {ed1}", true);
        check_is_hashed("{h1} {ed1}\nh {ed2}", false);
        check_is_hashed("{h1} {ed1}\n@cert-authority *.example {ca}", true);
        check_is_hashed("@revoked {h1} {ed1}", false);
        check_is_hashed("{h1} {ed1}\nbroken line", true);
    }

    fn check_recorded_algorithms(input: &str, name: &str, expected: &[&str]) {
        let files = [(PathBuf::from("a"), parse(&expand(input)))];
        let got: Vec<String> =
            recorded_algorithms(&files, name).iter().map(|a| a.as_str().to_owned()).collect();
        assert_eq!(got, expected, "{input:?}");
    }

    #[test]
    fn recorded_algorithm_order() {
        check_recorded_algorithms("", "h", &[]);
        check_recorded_algorithms("h {rsa1}\nh {ed1}\nh {rsa2}", "h", &["ssh-rsa", "ssh-ed25519"]);
        check_recorded_algorithms("x {rsa1}\nh {p256}", "h", &["ecdsa-sha2-nistp256"]);
        check_recorded_algorithms("@cert-authority h {ca}\n@revoked h {ed1}\nh {cert}", "h", &[]);
        check_recorded_algorithms("[h]:2222 {ed1}", "[h]:2222", &["ssh-ed25519"]);
    }

    fn check_entry_line(name: &str, key_label: &str, expected: &str) {
        let line = entry_line(name, &key(key_label), false).expect("line");
        assert_eq!(line, expand(expected));
    }

    #[test]
    fn entry_lines() {
        check_entry_line("host.example", "ed1", "host.example {ed1}");
        check_entry_line("Host.Example", "ed1", "host.example {ed1}");
        check_entry_line("[h]:2222", "rsa1", "[h]:2222 {rsa1}");
        check_entry_line("h", "p384", "h {p384}");
    }

    #[test]
    fn entry_line_refuses_names_that_break_the_line() {
        for name in ["", "a b", "a\tb", "a,b", "a\nb"] {
            assert!(
                matches!(entry_line(name, &key("ed1"), false), Err(KnownHostsError::Name(_))),
                "{name:?}"
            );
        }
    }

    #[test]
    fn hashed_entry_lines_round_trip() {
        let first = entry_line("[H]:2222", &key("ed1"), true).expect("line");
        let second = entry_line("[H]:2222", &key("ed1"), true).expect("line");
        assert_ne!(first, second, "each hashed line has a fresh salt");
        for line in [first, second] {
            let parsed = parse(&line);
            assert_eq!(parsed.warnings, []);
            assert!(parsed.entries[0].hosts.is_hashed(), "{line}");
            let files = [(PathBuf::from("a"), parsed)];
            assert_eq!(render_verdict(&check(&files, "h", 2222, &key("ed1")), &files), "known a:1");
            assert_eq!(render_verdict(&check(&files, "h", 22, &key("ed1")), &files), "unknown");
        }
    }

    #[test]
    fn load_missing_file_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(&dir.path().join("absent")).expect("missing file is empty"), Parsed::default());
    }

    #[test]
    fn load_reports_unreadable_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory in place of the file fails with EISDIR for every user, root included.
        assert!(matches!(load(dir.path()), Err(KnownHostsError::Read { .. })));
        let path = dir.path().join("known_hosts");
        fs::write(&path, expand("h {ed1}\n")).expect("write");
        assert_eq!(load(&path).expect("readable").entries.len(), 1);
        // Root reads a mode-000 file anyway, so that case is only checked for other users.
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod");
            assert!(matches!(load(&path), Err(KnownHostsError::Read { .. })));
        }
    }

    /// What `record` does once it decided to write: open (creating file and folder), then append.
    fn append(path: &Path, line: &str) -> Result<(), KnownHostsError> {
        let mut file = open_for_append(path)?;
        append_to(&mut file, path, line)
    }

    #[test]
    fn append_creates_and_separates_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".ssh").join("known_hosts");
        append(&path, "a ssh-ed25519 AAAA").expect("append to a new file");
        append(&path, "b ssh-ed25519 BBBB").expect("append");
        assert_eq!(fs::read_to_string(&path).expect("read"), "a ssh-ed25519 AAAA\nb ssh-ed25519 BBBB\n");
        fs::write(&path, "hand edited, no newline").expect("write");
        append(&path, "c ssh-ed25519 CCCC").expect("append");
        assert_eq!(fs::read_to_string(&path).expect("read"), "hand edited, no newline\nc ssh-ed25519 CCCC\n");
        assert!(matches!(append(dir.path(), "x"), Err(KnownHostsError::Write { .. })));
    }
}
