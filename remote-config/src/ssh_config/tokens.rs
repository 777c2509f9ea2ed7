//! The local account and the expansions `ssh` applies to paths and names: `~` (`tilde_expand` of `misc.c`),
//! the percent tokens and `${VARIABLE}` (`vdollar_percent_expand` of `misc.c`) with the values of `ssh.c`'s
//! `DEFAULT_CLIENT_PERCENT_EXPAND_ARGS`. The password database and `gethostname` are read here through libc,
//! so the `unsafe` code of the ssh_config reader is all in this file.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::Loc;

/// Facts about the local account that `~`, `Include` and the percent tokens expand to.
#[derive(Clone, Debug)]
pub(super) struct Local {
    /// The home directory from the password database: `ssh` expands `~` and `%d` to it.
    pub(super) home: PathBuf,
    /// `$HOME`, falling back to `home`: `glob(3)` expands the `~` of an `Include` to it.
    pub(super) include_home: PathBuf,
    /// The real user id, for `%i` and for who may own the files read.
    pub(super) uid: u32,
    /// `gethostname`, for `%l` and `%L`.
    pub(super) hostname: String,
}

impl Local {
    /// The account running `remote`, from the password database, `$HOME` and `gethostname`.
    pub(super) fn current() -> Local {
        // SAFETY: getuid cannot fail and touches no memory of ours.
        let uid = unsafe { libc::getuid() };
        let env_home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let home = passwd_home(PasswdKey::Uid(uid))
            .or_else(|| env_home.clone())
            .unwrap_or_else(|| PathBuf::from("/"));
        let include_home = env_home.unwrap_or_else(|| home.clone());
        Local { home, include_home, uid, hostname: host_name() }
    }

    /// What `ssh.c` does to IdentityFile, UserKnownHostsFile and IdentityAgent: `~`, then tokens and
    /// `${VARIABLE}`.
    pub(super) fn client_path(
        &self,
        raw: &str,
        tokens: &ClientTokens,
        at: &Loc,
        what: &str,
        warnings: &mut Vec<String>,
    ) -> String {
        let tilde = self.tilde_expand(raw, at, what, warnings);
        expand_tokens(&tilde, &tokens.pairs(), true, at, what, warnings)
    }

    /// `tilde_expand`: `~` and `~/path` are the password-database home, `~user/path` that user's home.
    pub(super) fn tilde_expand(&self, raw: &str, at: &Loc, what: &str, warnings: &mut Vec<String>) -> String {
        let Some(after) = raw.strip_prefix('~') else { return raw.to_string() };
        let (user, path) = match after.find('/') {
            Some(slash) => (&after[..slash], after[slash..].trim_start_matches('/')),
            None => (after, ""),
        };
        let home = if user.is_empty() { Some(self.home.clone()) } else { passwd_home(PasswdKey::Name(user)) };
        let Some(home) = home else {
            warnings.push(format!("{at}: {what} `{raw}` names an unknown user; ssh would refuse to connect"));
            return raw.to_string();
        };
        let home = home.to_string_lossy().into_owned();
        let slash = if home.ends_with('/') { "" } else { "/" };
        format!("{home}{slash}{path}")
    }
}

/// The percent tokens of `ssh.c`'s `DEFAULT_CLIENT_PERCENT_EXPAND_ARGS`.
pub(super) struct ClientTokens {
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
    /// The values of `DEFAULT_CLIENT_PERCENT_EXPAND_ARGS` once the configuration is complete.
    pub(super) fn new(
        local: &Local,
        remote_host: String,
        port: u16,
        remote_user: String,
        key_alias: String,
        host_arg: &str,
        local_user: &str,
    ) -> ClientTokens {
        let connection_hash = {
            use sha1::Digest;
            let digest = sha1::Sha1::new()
                .chain_update(&local.hostname)
                .chain_update(&remote_host)
                .chain_update(port.to_string())
                .chain_update(&remote_user)
                .finalize();
            digest.iter().map(|byte| format!("{byte:02x}")).collect()
        };
        ClientTokens {
            connection_hash,
            short_host: local.hostname.split('.').next().unwrap_or_default().to_string(),
            uid: local.uid.to_string(),
            key_alias,
            this_host: local.hostname.clone(),
            host_arg: host_arg.to_string(),
            port: port.to_string(),
            home: local.home.to_string_lossy().into_owned(),
            remote_host,
            remote_user,
            local_user: local_user.to_string(),
        }
    }

    /// Each token letter with its value, as `expand_tokens` takes them.
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

/// `vdollar_percent_expand`: `%%` and the given tokens, and `${VARIABLE}` when `dollar`. What ssh would
/// refuse is left as written, with a warning.
pub(super) fn expand_tokens(
    text: &str,
    tokens: &[(char, &str)],
    dollar: bool,
    at: &Loc,
    what: &str,
    warnings: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if dollar && rest.starts_with("${") {
            let Some(end) = rest.find('}') else {
                warnings.push(format!(
                    "{at}: {what} `{text}` has `${{` without `}}`; ssh would refuse to connect"
                ));
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
            warnings
                .push(format!("{at}: {what} `{text}` ends with a lone `%`; write `%%` for a percent sign"));
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

/// Which password-database entry to look up: by user id (`getpwuid`) or by name (`getpwnam`).
pub(super) enum PasswdKey<'a> {
    Uid(u32),
    Name(&'a str),
}

/// The home directory of a password-database entry, as `getpwuid`/`getpwnam` give it to `ssh`.
pub(super) fn passwd_home(key: PasswdKey<'_>) -> Option<PathBuf> {
    let name = match &key {
        PasswdKey::Name(name) => Some(CString::new(*name).ok()?),
        PasswdKey::Uid(_) => None,
    };
    let mut buffer = vec![0 as libc::c_char; 1 << 16];
    // SAFETY: an all-zero passwd is a valid value (null pointers and zero ids); the call fills it in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and the buffer length is its real length; the strings the
    // entry points to live in `buffer`, which outlives the copy below.
    let status = unsafe {
        match (&key, &name) {
            (PasswdKey::Uid(uid), _) => {
                libc::getpwuid_r(*uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found)
            }
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

/// This machine's name as `gethostname` gives it, or empty when it cannot.
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
