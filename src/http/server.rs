//! Serving connections: hyper, set up for careless and hostile clients. (poem's `Server` cannot
//! time out a request's headers: it keeps hyper's HTTP/1 settings to itself.)
//!
//! - A connection must send a request's headers within `HEADER_READ_TIMEOUT` of being ready
//!   for one (hyper's header read timeout, which runs while a keep-alive connection waits for
//!   its next request too): an incomplete header section, a silent connection and an idle
//!   keep-alive connection are closed.
//! - A connection on which nothing is read or written for `IDLE_TIMEOUT` is closed gracefully:
//!   a request in flight finishes first.
//! - hyper refuses, without a body, what it cannot parse at all: header sections beyond twice
//!   the limits [`crate::http::strict`] answers with a problem, and malformed request lines.
//! - On shutdown, no new connection is accepted; connections finish their requests in flight
//!   within `SHUTDOWN_GRACE`, then are dropped.
//!
//! What a connection costs is kept small, since event streams hold connections open by the ten
//! thousand: an HTTP/1 connection (which does not start with HTTP/2's preface) is served by
//! hyper's HTTP/1 connection directly, so its task does not carry room for an HTTP/2 one (only
//! a connection that may be HTTP/2 goes through hyper-util's `auto`, boxed); a request's future
//! is boxed, so that the connection holds room for it only while a request is in flight; the
//! builders are made once; and writes are vectored, so that a response body is written from
//! its own buffers instead of being copied into the connection's, which would keep that
//! buffer's size for the life of the connection.

use std::convert::Infallible;
use std::future::Future;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, Request};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::http::HttpSettings;
use crate::http::settings::{MAX_HEADER_BYTES, MAX_HEADERS};

/// Serves `endpoint` on `listener` until `shutdown` resolves, then lets the connections finish
/// their requests within `settings.shutdown_grace`.
pub(crate) async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    settings: &HttpSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    E: Endpoint + 'static,
{
    let endpoint = Arc::new(endpoint);
    let builders = Arc::new(Builders::new(settings));
    let local = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let connection = Connection {
                        endpoint: endpoint.clone(),
                        builders: builders.clone(),
                        local,
                        remote,
                        header_read_timeout: settings.header_read_timeout,
                        idle_timeout: settings.idle_timeout,
                    };
                    connections.spawn(connection.serve(stream, stopped.clone()));
                }
                // Out of file descriptors, a connection reset before it was accepted: the
                // listener itself is fine. Pause briefly so a persistent error does not spin.
                Err(err) => {
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "requests still running after SHUTDOWN_GRACE: dropping their connections"
        );
        connections.abort_all();
    }
    Ok(())
}

/// How connections are served: hyper's settings, made once.
struct Builders {
    /// For HTTP/1 connections (nearly all).
    http1: http1::Builder,
    /// For a connection that may be HTTP/2 (prior knowledge): it tells the two apart.
    auto: auto::Builder<TokioExecutor>,
}

impl Builders {
    fn new(settings: &HttpSettings) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_headers(MAX_HEADERS * 2);
        let mut auto = auto::Builder::new(TokioExecutor::new());
        auto.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_headers(MAX_HEADERS * 2);
        auto.http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(MAX_HEADER_BYTES * 2).unwrap_or(u32::MAX));
        Self { http1, auto }
    }
}

/// The first bytes of an HTTP/2 connection with prior knowledge (and of no HTTP/1 request).
const HTTP2_PREFACE_START: &[u8] = b"PRI";

/// One accepted connection and how it is served.
struct Connection<E> {
    endpoint: Arc<E>,
    builders: Arc<Builders>,
    local: SocketAddr,
    remote: SocketAddr,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

type HyperResponse = hyper::Response<BoxBody<Bytes, std::io::Error>>;

impl<E> Connection<E>
where
    E: Endpoint + 'static,
{
    async fn serve(self, stream: TcpStream, stopped: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        // The first bytes tell HTTP/1 from HTTP/2; they are peeked, not read, so that hyper
        // reads the request whole into one buffer. A connection that sends nothing at all gets
        // the header-read time too (hyper-util's `auto` reads before hyper's timer runs).
        let mut first = [0_u8; HTTP2_PREFACE_START.len()];
        let peeked =
            match tokio::time::timeout(self.header_read_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return,
            };
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let service = self.service();
        let (idle_timeout, remote) = (self.idle_timeout, self.remote);
        if HTTP2_PREFACE_START.starts_with(&first[..peeked]) {
            // HTTP/2, or too few bytes yet to tell: hyper-util's `auto` reads on and decides.
            let connection = self
                .builders
                .auto
                .serve_connection_with_upgrades(io, service);
            Box::pin(drive(
                connection,
                |connection| connection.graceful_shutdown(),
                &activity,
                idle_timeout,
                stopped,
                remote,
            ))
            .await;
        } else {
            let connection = self
                .builders
                .http1
                .serve_connection(io, service)
                .with_upgrades();
            drive(
                connection,
                |connection| connection.graceful_shutdown(),
                &activity,
                idle_timeout,
                stopped,
                remote,
            )
            .await;
        }
    }

    /// Hands each request to poem. The request's future is boxed: hyper keeps room for the
    /// service's future for the life of the connection, and poem's is large.
    fn service(
        &self,
    ) -> impl hyper::service::Service<
        hyper::Request<Incoming>,
        Response = HyperResponse,
        Error = Infallible,
        Future = BoxFuture<'static, Result<HyperResponse, Infallible>>,
    > + Clone
    + Send
    + use<E> {
        let (endpoint, local, remote) = (self.endpoint.clone(), self.local, self.remote);
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let endpoint = endpoint.clone();
            let response: BoxFuture<'static, Result<HyperResponse, Infallible>> =
                Box::pin(async move {
                    let req: Request = (
                        req,
                        LocalAddr(Addr::SocketAddr(local)),
                        RemoteAddr(Addr::SocketAddr(remote)),
                        Scheme::HTTP,
                    )
                        .into();
                    let response: HyperResponse = endpoint.get_response(req).await.into();
                    Ok::<_, Infallible>(response)
                });
            response
        })
    }
}

/// Runs `connection` until it ends, closing it gracefully (`shut_down`) once it has been idle
/// for `idle_timeout` or the server stops.
async fn drive<C>(
    connection: C,
    shut_down: impl Fn(Pin<&mut C>),
    activity: &Activity,
    idle_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
    remote: SocketAddr,
) where
    C: Future,
{
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            () = activity.idle_for(idle_timeout), if !closing => {
                tracing::debug!(%remote, "closing an idle connection");
                shut_down(connection.as_mut());
                closing = true;
            }
            _ = stopped.wait_for(|stop| *stop), if !closing => {
                shut_down(connection.as_mut());
                closing = true;
            }
        }
    }
}

/// When a connection last read or wrote a byte.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last read or write.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Resolves once nothing has been read or written for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = self.started + Duration::from_millis(self.last.load(Ordering::Relaxed));
            let quiet = last.elapsed();
            if quiet >= limit {
                return;
            }
            tokio::time::sleep(limit - quiet).await;
        }
    }
}

/// A stream that records its activity.
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
