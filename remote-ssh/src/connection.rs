//! Opens one SSH connection to one host: TCP, host-key verification against `known_hosts`, authentication.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{self, Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use remote_core::inventory::{Auth, HostKeyPolicy, HostSpec};
use remote_core::report::HostError;

use crate::known_hosts::{self, KnownHostsError, Parsed, Recorded, Verdict};

/// Settings for opening connections.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Limit for TCP connect + key exchange + authentication.
    pub timeout: Duration,
    /// Interval of SSH keepalives on idle connections, so dead peers are noticed.
    pub keepalive: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), keepalive: Duration::from_secs(15) }
    }
}

/// Private keys already read from disk, shared by every connection that uses them.
#[derive(Default)]
pub struct KeyCache {
    // Why a std Mutex: held only for a map lookup or insert, never across an await.
    keys: Mutex<HashMap<PathBuf, Arc<PrivateKey>>>,
}

impl KeyCache {
    fn load(&self, path: &Path) -> Result<Arc<PrivateKey>, HostError> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get(path) {
            return Ok(key.clone());
        }
        let key = keys::load_secret_key(path, None).map_err(|err| HostError::KeyFile {
            path: path.to_path_buf(),
            cause: match err {
                keys::Error::KeyIsEncrypted => {
                    "the key is encrypted; add it to ssh-agent (`ssh-add`) and remove `key` from the inventory".into()
                }
                keys::Error::IO(io) => io.to_string(),
                other => other.to_string(),
            },
        })?;
        let key = Arc::new(key);
        keys.insert(path.to_path_buf(), key.clone());
        Ok(key)
    }
}

/// Parsed `known_hosts` files, read again only when a file changes (its length or modification time), so that a
/// fan-out to a thousand hosts parses each file once instead of once per host.
#[derive(Default)]
pub struct KnownHostsCache {
    // Why a std Mutex: held only for a map lookup or insert, never across an await or a file read.
    files: Mutex<HashMap<PathBuf, (FileStamp, Arc<Parsed>)>>,
}

/// What tells one version of a file from another.
type FileStamp = Option<(std::time::SystemTime, u64)>;

impl KnownHostsCache {
    /// The parsed file; a missing file is empty. A file that exists but cannot be read is an error, never "empty":
    /// under accept-new an empty file would let any key in.
    fn load(&self, path: &Path) -> Result<Arc<Parsed>, KnownHostsError> {
        let stamp = match std::fs::metadata(path) {
            Ok(meta) => Some((meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(KnownHostsError::Read { path: path.to_path_buf(), source }),
        };
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, parsed)) = files.get(path)
            && *cached == stamp
        {
            return Ok(parsed.clone());
        }
        drop(files);
        let parsed = Arc::new(known_hosts::load(path)?);
        self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), (stamp, parsed.clone()));
        Ok(parsed)
    }
}

/// What a connection reads from disk, shared by every connection of a pool.
#[derive(Default)]
pub struct Caches {
    /// Private keys.
    pub keys: KeyCache,
    /// `known_hosts` files.
    pub known_hosts: KnownHostsCache,
}

/// Checks the server's host key during the handshake, by the host's policy.
struct Verifier {
    address: String,
    port: u16,
    known_hosts: PathBuf,
    policy: HostKeyPolicy,
    /// The user's file first, then the global ones, as read when the connection started.
    files: Vec<(PathBuf, Arc<Parsed>)>,
}

/// What can end a handshake: our verdict on the host key, or the SSH library's own error.
#[derive(Debug)]
enum HandshakeError {
    Verify(HostError),
    Ssh(russh::Error),
}

impl From<russh::Error> for HandshakeError {
    fn from(err: russh::Error) -> Self {
        Self::Ssh(err)
    }
}

impl Verifier {
    /// Reads the known_hosts files a host is checked against; any file that cannot be read refuses the host.
    fn new(spec: &HostSpec, cache: &KnownHostsCache) -> Result<Self, HostError> {
        let mut verifier = Verifier {
            address: spec.address.clone(),
            port: spec.port,
            known_hosts: spec.known_hosts.clone(),
            policy: spec.host_key_checking,
            files: Vec::new(),
        };
        if verifier.policy == HostKeyPolicy::Off {
            return Ok(verifier);
        }
        for path in std::iter::once(&spec.known_hosts).chain(&spec.global_known_hosts) {
            let parsed = cache.load(path).map_err(|err| known_hosts_error(path, err))?;
            verifier.files.push((path.clone(), parsed));
        }
        Ok(verifier)
    }

    fn known_hosts_name(&self) -> String {
        known_hosts::lookup_name(&self.address, self.port)
    }

    async fn verdict(&self, key: &PublicKey) -> Result<bool, HostError> {
        if self.policy == HostKeyPolicy::Off {
            return Ok(true);
        }
        match known_hosts::check(&self.files, &self.address, self.port, key) {
            Verdict::Known { .. } => Ok(true),
            Verdict::Unknown if self.policy == HostKeyPolicy::AcceptNew && known_hosts::is_recordable(&self.address) => {
                self.record(key).await
            }
            other => Err(self.refusal(other, key)),
        }
    }

    /// accept-new: records the key unless, looked up again under the file's lock, the host is known by now.
    async fn record(&self, key: &PublicKey) -> Result<bool, HostError> {
        let (path, globals, address, port, presented) =
            (self.known_hosts.clone(), self.files[1..].to_vec(), self.address.clone(), self.port, key.clone());
        let recorded = tokio::task::spawn_blocking(move || known_hosts::record(&path, &globals, &address, port, &presented))
            .await
            .map_err(|e| HostError::Internal { cause: format!("recording a host key: {e}") })?
            .map_err(|err| known_hosts_error(&self.known_hosts, err))?;
        match recorded {
            Recorded::Added { line } => {
                let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
                tracing::info!(host = %self.known_hosts_name(), %fingerprint, file = %self.known_hosts.display(), line, "recorded new host key");
                Ok(true)
            }
            Recorded::Already(Verdict::Known { .. }) => Ok(true),
            Recorded::Already(other) => Err(self.refusal(other, key)),
        }
    }

    /// The refusal for a verdict that does not let the host in, in OpenSSH's terms.
    fn refusal(&self, verdict: Verdict, key: &PublicKey) -> HostError {
        let algorithm = key.algorithm().to_string();
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let known_hosts_name = self.known_hosts_name();
        match verdict {
            Verdict::Changed { file, line, recorded } | Verdict::OtherTypes { file, line, recorded } => {
                HostError::HostKeyMismatch {
                    algorithm,
                    fingerprint,
                    known_hosts: file,
                    line,
                    known_hosts_name,
                    recorded_algorithm: recorded.algorithm().to_string(),
                    recorded_fingerprint: recorded.fingerprint(HashAlg::Sha256).to_string(),
                }
            }
            Verdict::Revoked { file, line } => {
                HostError::HostKeyRevoked { algorithm, fingerprint, known_hosts: file, line, known_hosts_name }
            }
            Verdict::CertAuthorityOnly { file, line } => {
                HostError::HostKeyCertificate { algorithm, fingerprint, known_hosts: file, line, known_hosts_name }
            }
            Verdict::Unknown | Verdict::Known { .. } => {
                HostError::HostKeyUnknown { algorithm, fingerprint, known_hosts: self.known_hosts.clone(), known_hosts_name }
            }
        }
    }

    /// Host-key algorithms already recorded for this host, so the handshake asks for those first (as OpenSSH's
    /// `order_hostkeyalgs` does) and a host known by its RSA key is not met with its Ed25519 key, which would be
    /// refused as a changed key.
    fn known_algorithms(&self) -> Vec<Algorithm> {
        let mut names = vec![self.known_hosts_name()];
        if self.port != 22 {
            // OpenSSH's lookup falls back to the plain name on other ports, so its keys count too.
            names.push(known_hosts::lookup_name(&self.address, 22));
        }
        let mut algorithms = Vec::new();
        for name in names {
            for algorithm in known_hosts::recorded_algorithms(&self.files, &name) {
                let algorithm = match algorithm {
                    // An RSA key signs with SHA-2 on any current server.
                    Algorithm::Rsa { .. } => Algorithm::Rsa { hash: Some(keys::HashAlg::Sha512) },
                    other => other,
                };
                if !algorithms.contains(&algorithm) {
                    algorithms.push(algorithm);
                }
            }
        }
        algorithms
    }
}

fn known_hosts_error(path: &Path, err: KnownHostsError) -> HostError {
    let cause = match err {
        KnownHostsError::Read { source, .. } => {
            format!("it cannot be read ({source}); fix its permissions or point `known_hosts` elsewhere; nothing was trusted")
        }
        KnownHostsError::Write { source, .. } => {
            format!("the new host key could not be recorded ({source}); nothing was trusted")
        }
        other => other.to_string(),
    };
    HostError::KnownHosts { known_hosts: path.to_path_buf(), cause }
}

impl client::Handler for Verifier {
    type Error = HandshakeError;

    async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
        self.verdict(key).await.map_err(HandshakeError::Verify)
    }
}

/// An open, authenticated connection to one host.
pub struct Connection {
    handle: Handle<Verifier>,
}

impl Connection {
    /// Connects, verifies the host key and authenticates. `options.timeout` bounds the TCP connect to each
    /// address, the wait for the server's first bytes, and the handshake with authentication.
    ///
    /// Cheap waiting and CPU-bound work are kept apart: TCP connects and the wait for the server to speak happen
    /// before a permit of `handshakes` is taken, so hosts that are unreachable or hang after accepting never hold
    /// one of the few handshake slots that reachable hosts need.
    pub async fn open(
        spec: &HostSpec,
        caches: &Caches,
        options: &ConnectOptions,
        handshakes: &Semaphore,
    ) -> Result<Self, HostError> {
        let verifier = Verifier::new(spec, &caches.known_hosts)?;
        let timed_out = |_| HostError::ConnectTimeout { after: options.timeout };
        let addresses = tokio::time::timeout(options.timeout, resolve(&spec.address, spec.port)).await.map_err(timed_out)??;
        let stream = connect_any(&addresses, spec.port, options.timeout).await?;
        tokio::time::timeout(options.timeout, stream.readable())
            .await
            .map_err(timed_out)?
            .map_err(|e| HostError::Connect { cause: e.to_string() })?;
        let _permit = handshakes.acquire().await.map_err(|e| HostError::Internal { cause: format!("handshake gate: {e}") })?;
        tokio::time::timeout(options.timeout, Self::handshake(stream, verifier, spec, caches, options))
            .await
            .map_err(timed_out)?
    }

    async fn handshake(
        stream: TcpStream,
        verifier: Verifier,
        spec: &HostSpec,
        caches: &Caches,
        options: &ConnectOptions,
    ) -> Result<Self, HostError> {
        let mut config = client::Config {
            // Without TCP_NODELAY every small SSH packet waits for Nagle: 45 ms per exec instead of 2.5 ms.
            nodelay: true,
            keepalive_interval: Some(options.keepalive),
            keepalive_max: 3,
            ..client::Config::default()
        };
        let known = verifier.known_algorithms();
        if !known.is_empty() {
            let mut order = known;
            order.extend(config.preferred.key.iter().filter(|a| !order.contains(a)).cloned().collect::<Vec<_>>());
            config.preferred.key = order.into();
        }
        let mut handle = client::connect_stream(Arc::new(config), stream, verifier).await.map_err(|err| match err {
            HandshakeError::Verify(host_error) => host_error,
            HandshakeError::Ssh(russh::Error::IO(io)) => HostError::Connect { cause: io.to_string() },
            HandshakeError::Ssh(other) => HostError::Handshake { cause: other.to_string() },
        })?;
        authenticate(&mut handle, spec, &caches.keys).await?;
        Ok(Self { handle })
    }

    /// The connection has been closed (by us, the server, or a failed keepalive).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Opens a session channel for one command.
    pub async fn open_session(&self) -> Result<russh::Channel<client::Msg>, russh::Error> {
        self.handle.channel_open_session().await
    }

    /// Says goodbye to the server; errors are irrelevant at this point.
    pub async fn close(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

/// Every address `address` resolves to, in the resolver's order.
async fn resolve(address: &str, port: u16) -> Result<Vec<SocketAddr>, HostError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((address, port))
        .await
        .map_err(|e| HostError::Resolve { cause: format!("{address}: {e}") })?
        .collect();
    if addresses.is_empty() {
        return Err(HostError::Resolve { cause: format!("{address} has no address") });
    }
    Ok(addresses)
}

/// TCP to the first of `addresses` that accepts, trying each in turn with its own `timeout`, as OpenSSH's
/// `ssh_connect_direct` does; the error is the last address's.
pub async fn connect_any(addresses: &[SocketAddr], port: u16, timeout: Duration) -> Result<TcpStream, HostError> {
    let mut failure = HostError::Resolve { cause: "no address to connect to".into() };
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                // Without TCP_NODELAY every small SSH packet waits for Nagle: 45 ms per exec instead of 2.5 ms.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => failure = HostError::ConnectRefused { port },
            Ok(Err(err)) => failure = HostError::Connect { cause: format!("{address}: {err}") },
            Err(_) => failure = HostError::ConnectTimeout { after: timeout },
        }
        tracing::debug!(%address, error = %failure, "address failed; trying the next");
    }
    Err(failure)
}

async fn authenticate(handle: &mut Handle<Verifier>, spec: &HostSpec, keys: &KeyCache) -> Result<(), HostError> {
    let handshake = |e: russh::Error| HostError::Handshake { cause: e.to_string() };
    let rsa_hash = handle.best_supported_rsa_hash().await.map_err(handshake)?.flatten();
    let denied = |method: String| HostError::Auth { user: spec.user.clone(), method };
    match &spec.auth {
        Auth::KeyFile(path) => {
            let key = keys.load(path)?;
            let accepted =
                handle.authenticate_publickey(&spec.user, PrivateKeyWithHashAlg::new(key, rsa_hash)).await.map_err(handshake)?;
            if accepted.success() { Ok(()) } else { Err(denied(format!("key {}", path.display()))) }
        }
        Auth::Agent => {
            // As ssh does: the agent's keys first, then the default identity files that exist.
            let mut tried = Vec::new();
            if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                match keys::agent::client::AgentClient::connect_env().await {
                    Ok(mut agent) => {
                        let identities = agent.request_identities().await.unwrap_or_default();
                        for identity in &identities {
                            let accepted = handle
                                .authenticate_publickey_with(&spec.user, identity.public_key().into_owned(), rsa_hash, &mut agent)
                                .await;
                            if accepted.is_ok_and(|a| a.success()) {
                                return Ok(());
                            }
                        }
                        tried.push(format!("the {} key(s) in ssh-agent", identities.len()));
                    }
                    Err(e) => tried.push(format!("no ssh-agent at $SSH_AUTH_SOCK ({e})")),
                }
            }
            let home = remote_core::inventory::expand_home("~/.ssh");
            for path in ["id_ed25519", "id_ecdsa", "id_rsa"].iter().map(|n| home.join(n)).filter(|p| p.exists()) {
                let key = keys.load(&path)?;
                let accepted = handle
                    .authenticate_publickey(&spec.user, PrivateKeyWithHashAlg::new(key, rsa_hash))
                    .await
                    .map_err(handshake)?;
                if accepted.success() {
                    return Ok(());
                }
                tried.push(format!("key {}", path.display()));
            }
            Err(denied(if tried.is_empty() {
                "no key: SSH_AUTH_SOCK is unset and ~/.ssh has no id_ed25519, id_ecdsa or id_rsa; set `key` in the inventory"
                    .into()
            } else {
                tried.join(", then ")
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As OpenSSH does, a name's addresses are tried in turn: one that refuses does not fail the host.
    #[tokio::test]
    async fn every_address_is_tried_in_turn() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
        let good = listener.local_addr().expect("address");
        let refusing = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port");
        let timeout = Duration::from_secs(5);
        let stream = connect_any(&[refusing, good], good.port(), timeout).await.expect("the second address answers");
        assert_eq!(stream.peer_addr().ok(), Some(good));
        let failure = connect_any(&[refusing], refusing.port(), timeout).await.expect_err("nothing listens there");
        assert_eq!(failure, HostError::ConnectRefused { port: refusing.port() });
    }
}
