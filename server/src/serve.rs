//! Serving connections: our own accept loop over hyper's HTTP/1 connection
//! (`axum::serve` offers no timeouts and no shutdown deadline).
//!
//! - **Header read timeout** (`HEARTH_HEADER_READ_TIMEOUT`, 10 s): a client
//!   must send a whole request head within it, counted from the moment the
//!   server waits for one, so it also closes idle keep-alive connections.
//! - **Body timeout** (`HEARTH_BODY_READ_TIMEOUT`, 30 s) and the request head
//!   limits (414, 431): [`crate::limits`], as a layer around the router.
//! - **Per-IP connection limit** (`HEARTH_MAX_CONNECTIONS_PER_IP`, 1,000;
//!   0 = off): a connection over it is closed as soon as it is accepted. A
//!   connection counts until its socket closes, WebSockets included (the
//!   count travels with the stream into the upgrade). IPv6 clients count
//!   per /64, which is what one subscriber usually gets. Off when the client
//!   address comes from a proxy's header (`HEARTH_CLIENT_IP_SOURCE`): every
//!   connection then comes from the proxy, which must do this itself.
//! - **Shutdown** ([`Shutdown`], `HEARTH_SHUTDOWN_TIMEOUT`, 10 s): when the
//!   shutdown future resolves the listener closes, idle connections close,
//!   requests in flight finish, and WebSockets send close 1012 (service
//!   restart) and end. What
//!   is still running at the deadline is dropped.
//!
//! HTTP/1.1 only, as before (axum's `http2` feature was never on). TCP_NODELAY
//! is set on every connection and every request carries
//! `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` did.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TrackedFuture;
use tower::ServiceExt;

use crate::limits;

/// How the server treats connections; from [`crate::config::Config`].
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    /// Concurrent connections per client address; 0 = no limit.
    pub max_connections_per_ip: usize,
    /// How long in-flight requests and WebSockets get once shutdown begins.
    pub shutdown_timeout: Duration,
}

/// Shutdown as the long-lived parts of the server see it: a cheap handle in
/// [`crate::state::AppState`], so a WebSocket can notice that shutdown has
/// begun (and say goodbye) and can ask the server to wait for it.
#[derive(Clone, Default)]
pub struct Shutdown {
    begun: CancellationToken,
    tasks: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves once shutdown has begun (at once if it already has). Owned,
    /// so a connection can pin it once and poll it in its loop.
    pub fn begun(&self) -> WaitForCancellationFutureOwned {
        self.begun.clone().cancelled_owned()
    }

    /// Makes the server's shutdown wait for `task` (up to the deadline).
    pub fn track<F: Future>(&self, task: F) -> TrackedFuture<F> {
        self.tasks.track_future(task)
    }
}

/// Serves `router` on `listener` until `signal` resolves, then shuts down
/// within `settings.shutdown_timeout`, dropping what is left included.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServeSettings,
    shutdown: Shutdown,
    signal: impl Future<Output = ()>,
) -> io::Result<()> {
    tracing::info!(
        header_read_timeout_secs = settings.header_read_timeout.as_secs(),
        body_read_timeout_secs = settings.body_read_timeout.as_secs(),
        max_connections_per_ip = settings.max_connections_per_ip,
        shutdown_timeout_secs = settings.shutdown_timeout.as_secs(),
        "connection limits"
    );
    let per_ip = Arc::new(PerIp::new(settings.max_connections_per_ip));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true)
        // Above our own head limits, so that those answer (in JSON).
        .max_headers(limits::HYPER_MAX_HEADERS)
        .max_buf_size(limits::HYPER_MAX_BUF);
    // Dropped at the deadline: every connection still open then ends.
    let stop = CancellationToken::new();

    tokio::pin!(signal);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) if is_connection_error(&err) => continue,
            Err(err) => {
                // Out of descriptors (EMFILE), most likely: wait for some to
                // free up rather than spin.
                tracing::error!(error = %err, "accept failed");
                tokio::select! {
                    () = &mut signal => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let Some(slot) = per_ip.enter(peer.ip()) else {
            tracing::debug!(%peer, limit = per_ip.limit, "connection refused: too many from this address");
            hearth::metrics::connection_refused();
            continue;
        };
        // Chat frames are small and must not wait for the peer's delayed ACK
        // behind Nagle's algorithm; writes are already batched per wake-up.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let io = TokioIo::new(Counted { stream, _slot: slot });
        let connection = builder.serve_connection(io, service).with_upgrades();
        shutdown.tasks.spawn(drive(connection, shutdown.begun.clone(), stop.clone()));
    }

    drop(listener);
    let open = shutdown.tasks.len();
    tracing::info!(
        open,
        deadline_secs = settings.shutdown_timeout.as_secs_f64(),
        "stopped accepting; finishing open connections"
    );
    shutdown.begun.cancel();
    shutdown.tasks.close();
    // Dropping what is left takes a moment too, and that moment is inside
    // the deadline, not after it: an orchestrator's kill follows it.
    let dropping = (settings.shutdown_timeout / 4).min(Duration::from_millis(500));
    if tokio::time::timeout(settings.shutdown_timeout - dropping, shutdown.tasks.wait()).await.is_err() {
        tracing::warn!(left = shutdown.tasks.len(), "shutdown deadline passed: dropping the remaining connections");
        stop.cancel();
        // Dropping a connection takes one poll; WebSockets stuck in a write
        // are not waited for.
        let _ = tokio::time::timeout(dropping, shutdown.tasks.wait()).await;
    }
    Ok(())
}

/// Runs one connection: to its end, or once shutdown begins, to the end of
/// its request in flight (idle keep-alive connections close at once), or
/// until the deadline.
async fn drive<C>(connection: C, begun: CancellationToken, stop: CancellationToken)
where
    C: Future<Output = hyper::Result<()>> + GracefulShutdown,
{
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = begun.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = stop.cancelled() => return,
            }
        }
    };
    if let Err(err) = result {
        // Header timeouts, resets, malformed requests: the client's doing.
        tracing::debug!(error = %err, "connection ended");
    }
}

/// hyper's connection types share `graceful_shutdown` but no trait for it.
trait GracefulShutdown {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulShutdown for http1::UpgradeableConnection<I, S>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        http1::UpgradeableConnection::graceful_shutdown(self);
    }
}

/// Errors that concern one connection only (axum's `serve` skips them too).
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Open connections per client address.
struct PerIp {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerIp {
    fn new(limit: usize) -> Self {
        Self { limit, open: Mutex::new(HashMap::new()) }
    }

    /// A place for one more connection from `ip`, or `None` over the limit.
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        if self.limit == 0 {
            return Some(Slot(None));
        }
        let key = client_key(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot(Some((self.clone(), key))))
    }

    fn leave(&self, key: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

/// IPv4 (also when mapped into IPv6) by address, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// One connection's place in [`PerIp`], given back when dropped.
struct Slot(Option<(Arc<PerIp>, IpAddr)>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((table, key)) = self.0.take() {
            table.leave(key);
        }
    }
}

/// A TCP stream holding its [`Slot`]: the slot lives exactly as long as the
/// socket, through an HTTP upgrade too (hyper hands the stream itself to the
/// WebSocket).
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("a valid test address");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("a valid test address");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("a valid test address");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("a valid test address");
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().expect("a valid test address"));
    }

    #[test]
    fn a_slot_is_given_back_when_its_connection_ends() {
        let table = Arc::new(PerIp::new(2));
        let ip: IpAddr = "192.0.2.1".parse().expect("a valid test address");
        let first = table.enter(ip).expect("first");
        let _second = table.enter(ip).expect("second");
        assert!(table.enter(ip).is_none(), "a third is over the limit");
        assert!(
            table.enter("192.0.2.2".parse().expect("a valid test address")).is_some(),
            "another address has its own count"
        );
        drop(first);
        assert!(table.enter(ip).is_some(), "the first one's place is free again");
    }
}
