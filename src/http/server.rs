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

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
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

/// One accepted connection and how it is served.
struct Connection<E> {
    endpoint: Arc<E>,
    local: SocketAddr,
    remote: SocketAddr,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl<E> Connection<E>
where
    E: Endpoint + 'static,
{
    async fn serve(self, stream: TcpStream, mut stopped: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        // hyper reads the first bytes to tell HTTP/1 from HTTP/2 before its header timer runs:
        // a connection that sends nothing at all gets the same time as one that sends part.
        let mut first = [0_u8; 1];
        match tokio::time::timeout(self.header_read_timeout, stream.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let (endpoint, local, remote) = (self.endpoint, self.local, self.remote);
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let endpoint = endpoint.clone();
            async move {
                let req: Request = (
                    req,
                    LocalAddr(Addr::SocketAddr(local)),
                    RemoteAddr(Addr::SocketAddr(remote)),
                    Scheme::HTTP,
                )
                    .into();
                let response: hyper::Response<BoxBody<Bytes, std::io::Error>> =
                    endpoint.get_response(req).await.into();
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_headers(MAX_HEADERS * 2);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(MAX_HEADER_BYTES * 2).unwrap_or(u32::MAX));
        let connection = builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => break,
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    tracing::debug!(remote = %self.remote, "closing an idle connection");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = stopped.wait_for(|stop| *stop), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
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

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
