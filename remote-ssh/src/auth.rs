//! Client authentication in OpenSSH's order: the agent's keys, then identity files. A key that cannot be used
//! (missing, encrypted without a passphrase, readable by others) is skipped with its reason, so the next one
//! is still tried; only the inventory's own `key` must work, since it is the one key the group was given.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use russh::client::Handle;
use russh::keys::agent::client::AgentClient;
use russh::keys::{self, PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use remote_core::{Agent, Auth, HostError, HostSpec};

use crate::host_key::Verifier;

/// Environment variable holding the passphrase of encrypted identity files. It is read when a key needs it
/// and is never logged, shown or kept in an error.
pub const PASSPHRASE_ENV: &str = "REMOTE_KEY_PASSPHRASE";

/// Environment variable holding a private key itself (for CI, where keys are secrets, not files). When set,
/// it is the one key offered to every host and jump host; it is read into memory only, never written
/// anywhere.
pub const KEY_ENV: &str = "REMOTE_KEY";

/// A secret held in memory only (the sudo password), wiped when the last copy is dropped; its `Debug` shows
/// nothing of it.
#[derive(Clone)]
pub struct Secret(Arc<zeroize::Zeroizing<Vec<u8>>>, Arc<std::sync::atomic::AtomicBool>);

impl Secret {
    /// Keeps `bytes`, which the caller should wipe on its side.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Arc::new(zeroize::Zeroizing::new(bytes)), Arc::default())
    }

    /// Marks the secret as refused (a wrong sudo password), for every copy: it is not offered again, so that
    /// one mistyped password does not lock the account out across a fleet.
    pub fn refuse(&self) {
        self.1.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether [`Secret::refuse`] was called.
    pub fn refused(&self) -> bool {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The bytes, for the places that send them (sudo's standard input, the SMTP login).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

/// The passphrase for key files, taken out of the environment at start by the host (see [`keep_passphrase`]).
static PASSPHRASE: std::sync::OnceLock<Option<Secret>> = std::sync::OnceLock::new();

/// Keeps the passphrase for encrypted key files in memory, so that `REMOTE_KEY_PASSPHRASE` can be wiped from
/// the environment (and so from `/proc/PID/environ` and every child process) at start. Until this is called,
/// the environment variable is read as it is, for library callers.
pub fn keep_passphrase(passphrase: Option<Secret>) {
    let _ = PASSPHRASE.set(passphrase);
}

/// The passphrase for key files: the one kept at start, else the environment's.
fn passphrase() -> Option<zeroize::Zeroizing<String>> {
    match PASSPHRASE.get() {
        Some(kept) => kept
            .as_ref()
            .map(|secret| zeroize::Zeroizing::new(String::from_utf8_lossy(secret.expose()).into_owned())),
        None => std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(zeroize::Zeroizing::new),
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

/// A private key given as text in [`KEY_ENV`], held in memory only. Its `Debug` shows the fingerprint alone.
#[derive(Clone)]
pub struct Identity {
    key: Arc<PrivateKey>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", self.describe())
    }
}

/// Why the key in [`KEY_ENV`] cannot be used. No variant holds or repeats any of the key's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The text is not a private key in any form russh reads.
    #[error(
        "{KEY_ENV} does not hold a private key: give the key file's whole text (-----BEGIN OPENSSH PRIVATE KEY----- \
         and every line to its END line), or that text base64-encoded on one line"
    )]
    NotAKey,
    /// It names a file instead of holding a key (as a GitLab variable of type "File" does).
    #[error(
        "{KEY_ENV} holds a file's path, not a key: put the key's text in it (in GitLab, a variable of type \
         \"Variable\", not \"File\"), or name the file as the inventory's `key`"
    )]
    Path,
    /// The key is encrypted and no passphrase was given.
    #[error("the key in {KEY_ENV} is encrypted; set {PASSPHRASE_ENV} to its passphrase")]
    Encrypted,
    /// The passphrase given does not open it.
    #[error("the passphrase in {PASSPHRASE_ENV} does not open the key in {KEY_ENV}")]
    WrongPassphrase,
}

impl Identity {
    /// The key in [`KEY_ENV`], when it is set and not empty.
    pub fn from_env() -> Result<Option<Self>, IdentityError> {
        match std::env::var(KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                // Every copy of the key's text is wiped when it is dropped (the decoded key wipes itself).
                let text = zeroize::Zeroizing::new(text);
                let passphrase =
                    std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(zeroize::Zeroizing::new);
                Self::parse(&text, passphrase.as_deref().map(String::as_str)).map(Some)
            }
            // Not valid UTF-8 cannot be a key's text either.
            Err(std::env::VarError::NotUnicode(_)) => Err(IdentityError::NotAKey),
            _ => Ok(None),
        }
    }

    /// Reads a key from its text, or from that text base64-encoded on one line (CI systems that mask a
    /// variable only when it is one line, as GitLab does).
    pub fn parse(text: &str, passphrase: Option<&str>) -> Result<Self, IdentityError> {
        use base64::Engine as _;
        use zeroize::Zeroizing;
        let text = Zeroizing::new(text.replace("\r\n", "\n"));
        let decoded: Zeroizing<String>;
        let text = if text.contains("-----BEGIN") || text.trim_start().starts_with("PuTTY-User-Key-File-") {
            text.as_str()
        } else {
            let compact = Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect::<String>());
            let bytes = match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => Zeroizing::new(bytes),
                Err(_) if text.trim().starts_with('/') && Path::new(text.trim()).is_file() => {
                    return Err(IdentityError::Path);
                }
                Err(_) => return Err(IdentityError::NotAKey),
            };
            decoded = Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(|_| IdentityError::NotAKey)?);
            decoded.as_str()
        };
        let encrypted = russh::keys::ssh_key::PrivateKey::from_openssh(text.as_bytes())
            .is_ok_and(|key| key.is_encrypted());
        match keys::decode_secret_key(text, passphrase) {
            Ok(key) => Ok(Identity { key: Arc::new(key) }),
            Err(keys::Error::KeyIsEncrypted) => Err(IdentityError::Encrypted),
            Err(_) if encrypted && passphrase.is_none() => Err(IdentityError::Encrypted),
            Err(_) if encrypted => Err(IdentityError::WrongPassphrase),
            // The decoder's own message may quote what it could not read; it is not passed on.
            Err(_) => Err(IdentityError::NotAKey),
        }
    }

    /// `the key in REMOTE_KEY (ED25519 SHA256:…)`: what was offered, by its public fingerprint only.
    pub fn describe(&self) -> String {
        let public = self.key.public_key();
        format!(
            "the key in {KEY_ENV} ({} {})",
            public.algorithm().as_str().to_uppercase().trim_start_matches("SSH-"),
            public.fingerprint(russh::keys::HashAlg::Sha256)
        )
    }
}

/// Why one private key file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// There is no such file.
    #[error("no such file")]
    Missing,
    /// Others may read it, which OpenSSH refuses ("UNPROTECTED PRIVATE KEY FILE").
    #[error("permissions {mode:04o} are too open: a private key must be readable by its owner only; run `chmod 600 {}`", path.display())]
    TooOpen { path: PathBuf, mode: u32 },
    /// It is encrypted and no passphrase was given.
    #[error("it is encrypted; set {PASSPHRASE_ENV} to its passphrase or add it to ssh-agent (`ssh-add`)")]
    Encrypted,
    /// The passphrase given does not open it.
    #[error("the passphrase in {PASSPHRASE_ENV} does not open it")]
    WrongPassphrase,
    /// It cannot be read or is not a private key.
    #[error("{0}")]
    Unreadable(String),
}

/// What tells one version of a key file from another: its modification time, length and mode.
type Stamp = (SystemTime, u64, u32);

/// A `.pub` file as last read: its stamp (`None`: no file), and the key in it.
type CachedPublic = (Option<Stamp>, Option<PublicKey>);

/// A key file as last read: its stamp, and the key or why it cannot be used.
type Cached = (Stamp, Result<Arc<PrivateKey>, KeyProblem>);

/// Private keys already read from disk, shared by every connection of a pool. A key is read again when its
/// file changes, so fixing a key's permissions or passphrase takes effect in a running `remote live`.
#[derive(Default)]
pub struct KeyCache {
    // Why a std Mutex: held only for a map lookup or insert, never across an await or a file read.
    keys: Mutex<HashMap<PathBuf, Cached>>,
    /// The public halves of identity files (`PATH.pub`), read once per change like the keys: every connection
    /// with `IdentitiesOnly` or an agent compares them. Why a std Mutex: as above.
    publics: Mutex<HashMap<PathBuf, CachedPublic>>,
    /// The key from [`KEY_ENV`]: when there is one, it is the only key offered, to every host.
    identity: Option<Identity>,
}

impl KeyCache {
    /// A cache whose every host is offered `identity` and nothing else.
    pub fn with_identity(identity: Option<Identity>) -> Self {
        KeyCache { identity, ..KeyCache::default() }
    }

    /// The key in `path`, or why it cannot be used.
    pub(crate) fn load(&self, path: &Path) -> Result<Arc<PrivateKey>, KeyProblem> {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(KeyProblem::Missing),
            Err(err) => return Err(KeyProblem::Unreadable(err.to_string())),
        };
        let stamp = (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), meta.mode());
        if let Some((cached, outcome)) = self.keys.lock().unwrap_or_else(|e| e.into_inner()).get(path)
            && *cached == stamp
        {
            return outcome.clone();
        }
        let outcome = read_key(path, &meta).map(Arc::new);
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), (stamp, outcome.clone()));
        outcome
    }

    /// The public half of the identity file `path`, from `PATH.pub`; `None` when there is no such file.
    pub(crate) fn public(&self, path: &Path) -> Option<PublicKey> {
        let mut public = path.as_os_str().to_owned();
        public.push(".pub");
        let public = PathBuf::from(public);
        let stamp = std::fs::metadata(&public)
            .ok()
            .map(|meta| (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), meta.mode()));
        if let Some((cached, key)) = self.publics.lock().unwrap_or_else(|e| e.into_inner()).get(&public)
            && *cached == stamp
        {
            return key.clone();
        }
        let key = stamp.and_then(|_| keys::load_public_key(&public).ok());
        self.publics.lock().unwrap_or_else(|e| e.into_inner()).insert(public, (stamp, key.clone()));
        key
    }
}

/// Reads one private key as OpenSSH would: refused when group or others may read it (for the owner's own
/// keys, as `sshkey_perm_ok` checks), decrypted with the passphrase from the environment when it is
/// encrypted.
fn read_key(path: &Path, meta: &std::fs::Metadata) -> Result<PrivateKey, KeyProblem> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let own = meta.uid() == unsafe { libc::geteuid() };
    if own && meta.mode() & 0o077 != 0 {
        return Err(KeyProblem::TooOpen { path: path.to_path_buf(), mode: meta.mode() & 0o7777 });
    }
    let passphrase = passphrase();
    keys::load_secret_key(path, passphrase.as_deref().map(String::as_str)).map_err(|err| match err {
        keys::Error::KeyIsEncrypted => KeyProblem::Encrypted,
        // The underlying decryption error says nothing useful and must not echo anything secret.
        _ if passphrase.is_some() && is_encrypted(path) => KeyProblem::WrongPassphrase,
        keys::Error::IO(io) => KeyProblem::Unreadable(io.to_string()),
        other => KeyProblem::Unreadable(other.to_string()),
    })
}

/// Whether an OpenSSH private key file is encrypted (its cipher is not `none`).
fn is_encrypted(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| russh::keys::ssh_key::PrivateKey::from_openssh(text.as_bytes()).ok())
        .is_some_and(|key| key.is_encrypted())
}

/// Authenticates as `spec.user`, trying keys in OpenSSH's order; the error lists what was tried and why each
/// failed.
pub(crate) async fn authenticate(
    handle: &mut Handle<Verifier>,
    spec: &HostSpec,
    keys: &KeyCache,
) -> Result<(), HostError> {
    let handshake = |e: russh::Error| HostError::Handshake { cause: e.to_string() };
    let rsa_hash = handle.best_supported_rsa_hash().await.map_err(handshake)?.flatten();
    let denied =
        |tried: Vec<String>| HostError::Auth { user: spec.user.clone(), method: tried.join("; then ") };
    if let Some(identity) = &keys.identity {
        // The CI's key replaces the inventory's files and the agent: on a runner they are not there, and one
        // key for every host is what the variable promises.
        let offer = PrivateKeyWithHashAlg::new(identity.key.clone(), rsa_hash);
        let accepted = handle.authenticate_publickey(&spec.user, offer).await.map_err(handshake)?;
        return if accepted.success() { Ok(()) } else { Err(denied(vec![identity.describe()])) };
    }
    match &spec.auth {
        Auth::KeyFile(path) => {
            let key = keys
                .load(path)
                .map_err(|problem| HostError::KeyFile { path: path.clone(), cause: problem.to_string() })?;
            let offer = PrivateKeyWithHashAlg::new(key, rsa_hash);
            let accepted = handle.authenticate_publickey(&spec.user, offer).await.map_err(handshake)?;
            if accepted.success() { Ok(()) } else { Err(denied(vec![format!("key {}", path.display())])) }
        }
        Auth::Keys { agent, files, identities_only } => {
            let mut tried = Vec::new();
            // The public halves of the identity files, for `IdentitiesOnly` and to skip files the agent
            // already offered.
            let file_keys: Vec<(PathBuf, Option<PublicKey>)> =
                files.iter().map(|path| (path.clone(), keys.public(path))).collect();
            let mut offered: Vec<PublicKey> = Vec::new();
            if let Some(mut client) = connect_agent(agent, &mut tried).await {
                let identities = client.request_identities().await.unwrap_or_default();
                let mut count = 0;
                for identity in identities {
                    let public = identity.public_key().into_owned();
                    if *identities_only
                        && !file_keys
                            .iter()
                            .any(|(_, key)| key.as_ref().is_some_and(|k| same_key(k, &public)))
                    {
                        continue;
                    }
                    count += 1;
                    let accepted = handle
                        .authenticate_publickey_with(&spec.user, public.clone(), rsa_hash, &mut client)
                        .await;
                    if accepted.is_ok_and(|a| a.success()) {
                        return Ok(());
                    }
                    offered.push(public);
                }
                tried.push(format!("the {count} key(s) in ssh-agent"));
            }
            for (path, public) in &file_keys {
                if public.as_ref().is_some_and(|public| offered.iter().any(|o| same_key(o, public))) {
                    continue;
                }
                let key = match keys.load(path) {
                    Ok(key) => key,
                    Err(KeyProblem::Missing) => continue,
                    Err(problem) => {
                        tracing::debug!(key = %path.display(), %problem, "identity file skipped");
                        tried.push(format!("key {} (skipped: {problem})", path.display()));
                        continue;
                    }
                };
                let offer = PrivateKeyWithHashAlg::new(key, rsa_hash);
                if handle.authenticate_publickey(&spec.user, offer).await.map_err(handshake)?.success() {
                    return Ok(());
                }
                tried.push(format!("key {}", path.display()));
            }
            if tried.is_empty() {
                tried.push(format!(
                    "no key at all: no ssh-agent and none of {} exists; set `key` in the inventory",
                    files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
                ));
            }
            Err(denied(tried))
        }
    }
}

/// The agent to ask, if there is one; why not is added to `tried` when that is worth saying.
async fn connect_agent(
    agent: &Agent,
    tried: &mut Vec<String>,
) -> Option<AgentClient<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static>> {
    let socket = match agent {
        Agent::Off => return None,
        Agent::Env => PathBuf::from(std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty())?),
        Agent::Socket(path) => path.clone(),
    };
    match AgentClient::connect_uds(&socket).await {
        Ok(client) => Some(client),
        Err(err) => {
            tried.push(format!("no ssh-agent at {} ({err})", socket.display()));
            None
        }
    }
}

fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    a.key_data() == b.key_data()
}
