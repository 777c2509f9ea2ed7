//! How the hub takes connections: at most so many open at once, and each dropped when its client is slow to
//! send a request's headers, so idle connections cannot exhaust the host's file descriptors or memory.

use std::io::ErrorKind::{ConnectionAborted, ConnectionReset};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Connections open at once, viewers' included. Each holds a file descriptor and buffers, so a flood of idle
/// connections must not be able to take them all; the viewers (at most 32) and scrapes fit well within it.
const CONNECTIONS: usize = 64;
/// How long a client may take to send a request's headers, on a new connection or between requests on a kept
/// one. Browsers, `viewer` and Prometheus send theirs at once; a client that sends nothing holds a
/// connection, one of the few allowed, only this long.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the hub's connections may take: how many are open at once and how long a request's headers may take.
#[derive(Clone, Copy, Debug)]
pub(super) struct ConnectionLimits {
    /// Connections open at once; the next is answered 503 and closed.
    pub(super) open: usize,
    /// How long a client may take to send a request's headers before its connection is closed.
    pub(super) header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { open: CONNECTIONS, header_timeout: HEADER_TIMEOUT }
    }
}

/// Accepts connections on `listener` and serves `app` on each, within `limits`, until the process ends.
pub(super) async fn accept(listener: TcpListener, app: Router, limits: ConnectionLimits) {
    let open = Arc::new(Semaphore::new(limits.open));
    // `axum::serve` sets no timer, and hyper then has no header timeout: the hub runs hyper itself.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // The client gave up before it was accepted: nothing to serve.
            Err(err) if matches!(err.kind(), ConnectionAborted | ConnectionReset) => continue,
            // Out of file descriptors, say: trying again at once would spin, and the condition may pass.
            Err(err) => {
                tracing::warn!("the stock hub cannot accept a connection: {err}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            refuse(stream, limits);
            continue;
        };
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("a stock hub connection ended: {err}");
            }
            // The connection is closed by now: its place is free only once its descriptor is.
            drop(permit);
        });
    }
}

/// Answers a connection past the cap 503 with the reason and closes it, at once and without a task of its
/// own, so that refusing costs nothing a flood could pile up.
fn refuse(stream: TcpStream, limits: ConnectionLimits) {
    // Out of tokio, reads and writes go straight to the socket (tokio's would wait for the reactor to report
    // it ready); a fresh socket's buffer takes the short answer whole.
    let Ok(mut stream) = stream.into_std() else { return };
    let reason = format!(
        "the hub already has {} connections open, its most at once; try again shortly (a connection that \
         sends no request is closed after {:?})\n",
        limits.open, limits.header_timeout
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{reason}",
        reason.len()
    );
    // Closing with the request unread would reset the connection, and the client could lose the answer; what
    // has arrived is read first (what comes later may still be reset, but after the answer).
    let _ = stream.read(&mut [0; 4096]);
    let _ = stream.write(answer.as_bytes());
}
