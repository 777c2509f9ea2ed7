//! Opens one SSH connection to one host: TCP, host-key verification against `known_hosts`, authentication.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use remote_core::{HostError, HostSpec};

use crate::auth::{KeyCache, authenticate};
use crate::host_key::{HandshakeError, KnownHostsCache, Verifier};

/// Settings for opening connections.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Limit for each step of connecting (resolving, the TCP connect to each address, the wait for the
    /// server's first bytes, key exchange with authentication), unless the host's `ConnectTimeout` says
    /// otherwise.
    pub timeout: Duration,
    /// `timeout` was asked for on the command line, so it wins over `ConnectTimeout` in `~/.ssh/config`.
    pub timeout_is_explicit: bool,
    /// Interval of SSH keepalives on idle connections, so dead peers are noticed (unless
    /// `ServerAliveInterval`).
    pub keepalive: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            timeout_is_explicit: false,
            keepalive: Duration::from_secs(15),
        }
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

/// An open, authenticated connection to one host.
pub struct Connection {
    handle: Handle<Verifier>,
    /// The jump host's connection this one is tunnelled through; kept alive as long as this one is.
    via: Option<Arc<Connection>>,
    /// Whether the host's key matched a known_hosts record (set by the verifier during the handshake).
    vouched: Arc<std::sync::atomic::AtomicBool>,
}

impl Connection {
    /// Connects, verifies the host key and authenticates: directly, or through `via`, the open connection to
    /// the host's jump host (a `direct-tcpip` channel, as `ssh -J` does, with no `ssh` process). The connect
    /// timeout bounds the TCP connect to each address, the wait for the server's first bytes, and the
    /// handshake.
    ///
    /// Cheap waiting and CPU-bound work are kept apart: TCP connects and the wait for the server to speak
    /// happen before a permit of `handshakes` is taken, so hosts that are unreachable or hang after accepting
    /// never hold one of the few handshake slots that reachable hosts need.
    pub async fn open(
        spec: &HostSpec,
        caches: &Caches,
        options: &ConnectOptions,
        handshakes: &Semaphore,
        via: Option<Arc<Connection>>,
    ) -> Result<Self, HostError> {
        if let Some(why) = &spec.refused {
            return Err(HostError::Settings { cause: why.clone() });
        }
        let verifier = Verifier::new(spec, &caches.known_hosts)?;
        let vouched = verifier.vouched();
        let timeout = if options.timeout_is_explicit {
            options.timeout
        } else {
            spec.connect_timeout.unwrap_or(options.timeout)
        };
        let timed_out = |_| HostError::ConnectTimeout { after: timeout };
        let handle = match &via {
            None => {
                let addresses = tokio::time::timeout(timeout, resolve(&spec.address, spec.port))
                    .await
                    .map_err(timed_out)??;
                let stream = connect_any(&addresses, spec.port, timeout).await?;
                tokio::time::timeout(timeout, stream.readable())
                    .await
                    .map_err(timed_out)?
                    .map_err(|e| HostError::Connect { cause: e.to_string() })?;
                let _permit = handshake_permit(handshakes).await?;
                tokio::time::timeout(timeout, Self::handshake(stream, verifier, spec, caches, options))
                    .await
                    .map_err(timed_out)??
            }
            Some(jump) => {
                let tunnel = tokio::time::timeout(
                    timeout,
                    jump.handle.channel_open_direct_tcpip(&spec.address, spec.port.into(), "127.0.0.1", 0),
                )
                .await
                .map_err(timed_out)?
                .map_err(|err| HostError::Connect {
                    cause: format!("the jump host could not reach {}:{}: {err}", spec.address, spec.port),
                })?;
                let _permit = handshake_permit(handshakes).await?;
                let stream = tunnel.into_stream();
                tokio::time::timeout(timeout, Self::handshake(stream, verifier, spec, caches, options))
                    .await
                    .map_err(timed_out)??
            }
        };
        Ok(Self { handle, via, vouched })
    }

    async fn handshake<S>(
        stream: S,
        verifier: Verifier,
        spec: &HostSpec,
        caches: &Caches,
        options: &ConnectOptions,
    ) -> Result<Handle<Verifier>, HostError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let mut config = client::Config {
            // Without TCP_NODELAY every small SSH packet waits for Nagle: 45 ms per exec instead of 2.5 ms.
            nodelay: true,
            keepalive_interval: Some(spec.keepalive.unwrap_or(options.keepalive)),
            keepalive_max: 3,
            ..client::Config::default()
        };
        let known = verifier.known_algorithms();
        // As OpenSSH's `order_hostkeyalgs`, only when ssh_config sets no HostKeyAlgorithms of its own.
        if !known.is_empty() && spec.algorithms.host_key.is_none() {
            let mut order = known;
            order.extend(
                config.preferred.key.iter().filter(|a| !order.contains(a)).cloned().collect::<Vec<_>>(),
            );
            config.preferred.key = order.into();
        }
        crate::algorithms::narrow(&mut config.preferred, &spec.algorithms)
            .map_err(|cause| HostError::Handshake { cause })?;
        let mut handle =
            client::connect_stream(Arc::new(config), stream, verifier).await.map_err(|err| match err {
                HandshakeError::Verify(host_error) => host_error,
                HandshakeError::Ssh(russh::Error::IO(io)) => HostError::Connect { cause: io.to_string() },
                HandshakeError::Ssh(other) => HostError::Handshake { cause: other.to_string() },
            })?;
        authenticate(&mut handle, spec, &caches.keys).await?;
        Ok(handle)
    }

    /// Whether the host proved to be the one a known_hosts file records: false when its key was not checked
    /// (`off`) or was first recorded on this connection (`accept-new`). Secrets go only to vouched hosts.
    pub fn host_key_vouched(&self) -> bool {
        self.vouched.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The jump host's connection this one goes through, if any.
    pub fn via(&self) -> Option<&Arc<Connection>> {
        self.via.as_ref()
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

async fn handshake_permit(handshakes: &Semaphore) -> Result<tokio::sync::SemaphorePermit<'_>, HostError> {
    handshakes.acquire().await.map_err(|e| HostError::Internal { cause: format!("handshake gate: {e}") })
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
pub async fn connect_any(
    addresses: &[SocketAddr],
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, HostError> {
    let mut failure = HostError::Resolve { cause: "no address to connect to".into() };
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                // Without TCP_NODELAY every small SSH packet waits for Nagle: 45 ms per exec instead of 2.5
                // ms.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                failure = HostError::ConnectRefused { port }
            }
            Ok(Err(err)) => failure = HostError::Connect { cause: format!("{address}: {err}") },
            Err(_) => failure = HostError::ConnectTimeout { after: timeout },
        }
        tracing::debug!(%address, error = %failure, "address failed; trying the next");
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As OpenSSH does, a name's addresses are tried in turn: one that refuses does not fail the host.
    #[tokio::test]
    async fn every_address_is_tried_in_turn() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
        let good = listener.local_addr().expect("address");
        let refusing =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port");
        let timeout = Duration::from_secs(5);
        let stream =
            connect_any(&[refusing, good], good.port(), timeout).await.expect("the second address answers");
        assert_eq!(stream.peer_addr().ok(), Some(good));
        let failure =
            connect_any(&[refusing], refusing.port(), timeout).await.expect_err("nothing listens there");
        assert_eq!(failure, HostError::ConnectRefused { port: refusing.port() });
    }
}
