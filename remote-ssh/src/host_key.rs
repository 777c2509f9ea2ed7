//! Host-key verification during the handshake: the `known_hosts` files a host is checked against, read once
//! per change, and the verdict by the host's policy, refused in OpenSSH's terms.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{self, Algorithm, HashAlg, PublicKey};

use remote_core::{HostError, HostKeyPolicy, HostSpec};

use crate::known_hosts::{self, KnownHostsError, Parsed, Recorded, Verdict};

/// Parsed `known_hosts` files, read again only when a file changes (its length or modification time), so that
/// a fan-out to a thousand hosts parses each file once instead of once per host.
#[derive(Default)]
pub struct KnownHostsCache {
    // Why a std Mutex: held only for a map lookup or insert, never across an await or a file read.
    files: Mutex<HashMap<PathBuf, (FileStamp, Arc<Parsed>)>>,
}

/// What tells one version of a file from another.
type FileStamp = Option<(std::time::SystemTime, u64)>;

impl KnownHostsCache {
    /// The parsed file; a missing file is empty. A file that exists but cannot be read is an error, never
    /// "empty": under accept-new an empty file would let any key in.
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
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), (stamp, parsed.clone()));
        Ok(parsed)
    }
}

/// Checks the server's host key during the handshake, by the host's policy.
pub(crate) struct Verifier {
    address: String,
    port: u16,
    known_hosts: PathBuf,
    policy: HostKeyPolicy,
    /// The user's file first, then the global ones, as read when the connection started.
    files: Vec<(PathBuf, Arc<Parsed>)>,
    /// `RevokedHostKeys`: keys refused whatever the policy, as `ssh` refuses them before anything else.
    revoked_host_keys: Option<PathBuf>,
    /// `HashKnownHosts`: whether accept-new records the host's name hashed; unset, as the file already is.
    hash_known_hosts: Option<bool>,
    /// Set once the host's key matched a line of a known_hosts file: the host is who the files say it is. Not
    /// set for a key accepted by `off` or first recorded by `accept-new`, which nothing vouched for.
    vouched: Arc<AtomicBool>,
}

/// What can end a handshake: our verdict on the host key, or the SSH library's own error.
#[derive(Debug)]
pub(crate) enum HandshakeError {
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
    pub(crate) fn new(spec: &HostSpec, cache: &KnownHostsCache) -> Result<Self, HostError> {
        let mut verifier = Verifier {
            address: spec.known_hosts_host().0.to_string(),
            port: spec.known_hosts_host().1,
            known_hosts: spec.known_hosts.clone(),
            policy: spec.host_key_checking,
            files: Vec::new(),
            revoked_host_keys: spec.revoked_host_keys.clone(),
            hash_known_hosts: spec.hash_known_hosts,
            vouched: Arc::default(),
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

    /// Whether the key was checked against a record (see `vouched`), shared with the connection.
    pub(crate) fn vouched(&self) -> Arc<AtomicBool> {
        self.vouched.clone()
    }

    async fn verdict(&self, key: &PublicKey) -> Result<bool, HostError> {
        if let Some(path) = &self.revoked_host_keys {
            self.revoked(path, key)?;
        }
        if self.policy == HostKeyPolicy::Off {
            return Ok(true);
        }
        match known_hosts::check(&self.files, &self.address, self.port, key) {
            Verdict::Known { .. } => {
                self.vouched.store(true, Ordering::Release);
                Ok(true)
            }
            Verdict::Unknown
                if self.policy == HostKeyPolicy::AcceptNew && known_hosts::is_recordable(&self.address) =>
            {
                self.record(key).await
            }
            other => Err(self.refusal(other, key)),
        }
    }

    /// `RevokedHostKeys`: a listed key, or a file that cannot be checked, refuses the host.
    fn revoked(&self, path: &Path, key: &PublicKey) -> Result<(), HostError> {
        match known_hosts::revoked_line(path, key) {
            Ok(None) => Ok(()),
            Ok(Some(line)) => Err(HostError::HostKeyListedRevoked {
                algorithm: key.algorithm().to_string(),
                fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
                file: path.to_path_buf(),
                line,
                known_hosts_name: self.known_hosts_name(),
            }),
            Err(err) => {
                Err(HostError::RevokedHostKeysFile { file: path.to_path_buf(), cause: err.to_string() })
            }
        }
    }

    /// accept-new: records the key unless, looked up again under the file's lock, the host is known by now.
    async fn record(&self, key: &PublicKey) -> Result<bool, HostError> {
        let (path, globals, address, port, presented) = (
            self.known_hosts.clone(),
            self.files[1..].to_vec(),
            self.address.clone(),
            self.port,
            key.clone(),
        );
        let hash = self.hash_known_hosts;
        let recorded = tokio::task::spawn_blocking(move || {
            known_hosts::record(&path, &globals, &address, port, &presented, hash)
        })
        .await
        .map_err(|e| HostError::Internal { cause: format!("recording a host key: {e}") })?
        .map_err(|err| known_hosts_error(&self.known_hosts, err))?;
        match recorded {
            Recorded::Added { line } => {
                let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
                tracing::info!(host = %self.known_hosts_name(), %fingerprint, file = %self.known_hosts.display(), line, "recorded new host key");
                Ok(true)
            }
            Recorded::Already(Verdict::Known { .. }) => {
                self.vouched.store(true, Ordering::Release);
                Ok(true)
            }
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
            Verdict::Revoked { file, line } => HostError::HostKeyRevoked {
                algorithm,
                fingerprint,
                known_hosts: file,
                line,
                known_hosts_name,
            },
            Verdict::CertAuthorityOnly { file, line } => HostError::HostKeyCertificate {
                algorithm,
                fingerprint,
                known_hosts: file,
                line,
                known_hosts_name,
            },
            Verdict::Unknown | Verdict::Known { .. } => HostError::HostKeyUnknown {
                algorithm,
                fingerprint,
                known_hosts: self.known_hosts.clone(),
                known_hosts_name,
            },
        }
    }

    /// Host-key algorithms already recorded for this host, so the handshake asks for those first (as
    /// OpenSSH's `order_hostkeyalgs` does) and a host known by its RSA key is not met with its Ed25519 key,
    /// which would be refused as a changed key.
    pub(crate) fn known_algorithms(&self) -> Vec<Algorithm> {
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
            format!(
                "it cannot be read ({source}); fix its permissions or point `known_hosts` elsewhere; nothing was trusted"
            )
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
