//! The HTTP server: the accept loop, with a timer, that bounds what one client may hold of
//! the hub, so that a slow or hostile client can neither exhaust its file descriptors nor
//! keep the PBX's webhooks waiting.
//!
//! - At most `limits.max_connections` connections are open, live streams included. One more
//!   is answered `503` with the reason and closed at once; new connections are served again
//!   as soon as others close.
//! - A request's headers must arrive within `limits.header_timeout_secs` (this also bounds
//!   the wait for the next request on a kept-alive connection), its body within
//!   `limits.body_timeout_secs` of its headers. A connection on which no byte moves for
//!   `limits.idle_timeout_secs` while none of its requests is being handled (a client that
//!   stops reading its answer) is closed.
//! - A connection upgraded to a live stream leaves these timers behind: it lives for hours,
//!   watched by the stream's heartbeat. It keeps its connection slot until it closes.
//! - TCP_NODELAY on every connection: stream events are small frames, which Nagle's
//!   algorithm and delayed ACKs would hold back by ~40 ms.
//! - Stopping ends accepting, closes idle connections at once and lets requests in flight
//!   finish.
//! - With `[tls]`, each connection begins with the TLS handshake, which must end within the
//!   header timeout; a connection beyond the cap is then closed without an answer (a `503`
//!   would need the handshake the cap is there to spare). A handshake for an ACME
//!   authority's check (`acme-tls/1`) is the whole connection: no HTTP follows.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ringside_core::api::{ErrorBody, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Limits;
use crate::tls::ACME_TLS_ALPN;

/// A connection's place among the `max_connections`; requests carry it in their extensions
/// so that a live stream keeps it after its connection was handed over by the upgrade.
#[derive(Debug, Clone)]
pub struct ConnectionSlot {
    _permit: Arc<OwnedSemaphorePermit>,
}

/// The times of [`Limits`], as durations.
#[derive(Debug, Clone, Copy)]
struct Timing {
    header: Duration,
    body: Duration,
    idle: Duration,
}

/// Serves `app` on `listener` (over TLS with `tls`) until `stop` fires (or its sender is
/// dropped), then waits for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    tls: Option<TlsAcceptor>,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let timing = Timing {
        header: Duration::from_secs(limits.header_timeout_secs),
        body: Duration::from_secs(limits.body_timeout_secs),
        idle: Duration::from_secs(limits.idle_timeout_secs),
    };
    let max_connections = limits.max_connections;
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stopping, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let tcp = match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(e) => {
                        // Out of descriptors or a connection reset before it was taken:
                        // wait a moment instead of spinning.
                        tracing::warn!("accepting a connection failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!("TCP_NODELAY not set: {e}");
                }
                match slots.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let slot = ConnectionSlot { _permit: Arc::new(permit) };
                        connections.spawn(connection(
                            tcp,
                            tls.clone(),
                            app.clone(),
                            timing,
                            slot,
                            stopped.clone(),
                        ));
                    }
                    Err(_) => refuse(&tcp, max_connections, tls.is_some()),
                }
            }
        }
    }
    drop(listener);
    stopping.send_replace(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Answers a connection beyond the cap with `503` and the reason (in plain HTTP only), and
/// closes it.
fn refuse(tcp: &TcpStream, max_connections: usize, tls: bool) {
    tracing::warn!("connection refused: {max_connections} connections are open already");
    if tls {
        return;
    }
    let body = serde_json::to_string(&ErrorBody::new(
        ErrorCode::Busy,
        format!(
            "the hub has {max_connections} connections open, the most it takes \
             (limits.max_connections); retry in a moment"
        ),
    ))
    .expect("an error body serializes");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    );
    // Never waits: a client that does not read gets the connection closed all the same.
    let _ = tcp.try_write(answer.as_bytes());
}

/// Serves one connection (after its TLS handshake, with `tls`) until it ends, is upgraded,
/// idles too long, or the hub stops.
async fn connection(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    app: Router,
    timing: Timing,
    slot: ConnectionSlot,
    stopped: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let watched = Watched {
        inner: tcp,
        activity: activity.clone(),
    };
    let Some(acceptor) = tls else {
        return http(watched, activity, app, timing, slot, stopped).await;
    };
    match tokio::time::timeout(timing.header, acceptor.accept(watched)).await {
        // An ACME authority's TLS-ALPN-01 check ends with the handshake.
        Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN) => {}
        Ok(Ok(stream)) => http(stream, activity, app, timing, slot, stopped).await,
        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
        Err(_) => tracing::debug!("no TLS handshake within {:?}", timing.header),
    }
}

/// Serves HTTP on one connection's `io`, whose bytes `activity` watches.
async fn http<Io>(
    io: Io,
    activity: Arc<Activity>,
    app: Router,
    timing: Timing,
    slot: ConnectionSlot,
    mut stopped: watch::Receiver<bool>,
) where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let handling = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let app = app.clone();
        let busy = Handling::start(handling.clone());
        request.extensions_mut().insert(slot.clone());
        let request = request.map(|body| Body::new(Deadline::new(body, timing.body)));
        async move {
            let response = app.oneshot(request).await;
            drop(busy);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timing.header)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut stopping = *stopped.borrow_and_update();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let check_idle = activity.next_check(timing.idle);
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(check_idle) => {
                if activity.idle_for(timing.idle) {
                    tracing::debug!("connection closed: idle for {:?}", timing.idle);
                    return;
                }
            }
        }
    }
}

/// When bytes last moved on a connection, and how many of its requests are being handled.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte read or written.
    last_ms: AtomicU64,
    handling: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            handling: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// Whether no byte moved for `idle` and no request is being handled.
    fn idle_for(&self, idle: Duration) -> bool {
        self.handling.load(Ordering::Relaxed) == 0 && self.last().elapsed() >= idle
    }

    /// When to look again whether the connection is idle.
    fn next_check(&self, idle: Duration) -> Instant {
        if self.handling.load(Ordering::Relaxed) > 0 {
            Instant::now() + idle
        } else {
            self.last() + idle
        }
    }
}

/// Counts a request as being handled while it lives.
struct Handling(Arc<Activity>);

impl Handling {
    fn start(activity: Arc<Activity>) -> Self {
        activity.handling.fetch_add(1, Ordering::Relaxed);
        Handling(activity)
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A TCP stream that notes in its [`Activity`] when bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
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

/// A request body that fails once it has not fully arrived `limit` after the headers.
struct Deadline {
    body: Incoming,
    expires: Pin<Box<Sleep>>,
    limit: Duration,
}

impl Deadline {
    fn new(body: Incoming, limit: Duration) -> Self {
        Deadline {
            body,
            expires: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.expires.as_mut().poll(cx).is_ready() {
            let message = format!(
                "the request body did not arrive within {} s (limits.body_timeout_secs)",
                this.limit.as_secs()
            );
            return Poll::Ready(Some(Err(message.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
