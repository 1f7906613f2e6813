//! The daemon's HTTP/1.1 connections, driven through hyper directly: `axum::serve` sets no
//! header-read timeout, no idle timeout and no limit on connections, so slow clients held
//! open could take every file descriptor the process has and starve its runs ("Too many open
//! files") and `/healthz` with them.
//!
//! Owns: accepting under `[http] max_connections` (a free place first, then `accept`, so the
//! connections past the limit wait in the kernel's queue and hold none of the process's file
//! descriptors); each connection's two clocks (hyper's header-read timeout, which also ends a
//! connection kept open between requests, and an idle timeout over bytes moved while no
//! request is being answered); the graceful stop; and the open-file budget: the soft
//! RLIMIT_NOFILE raised to the hard limit at start, and connections capped at half of it,
//! the other half kept for runs (database pool, fetches, spool files, SMTP).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use super::settings::HttpSettings;

/// The bounds on the daemon's connections: `[http]`'s, under the open-file budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Limits {
    /// `[http]`'s limits, with connections never more than half of `open_files` (the soft
    /// open-file limit, when known).
    pub fn new(s: &HttpSettings, open_files: Option<u64>) -> Limits {
        let budget = open_files
            .map(|n| usize::try_from(n / 2).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX);
        Limits {
            max_connections: s.max_connections.min(budget).max(1),
            header_read_timeout: Duration::from_secs(s.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
        }
    }
}

/// The soft open-file limit in force, if it can be read.
pub fn open_files_limit() -> Option<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    (rc == 0 && rl.rlim_cur != libc::RLIM_INFINITY).then_some(rl.rlim_cur)
}

/// Highest soft limit asked for when the hard one is unlimited (Linux's default nr_open).
const UNLIMITED_TARGET: u64 = 1 << 20;

/// Raise the soft open-file limit to the hard one (a process may, unprivileged), so that the
/// half kept for runs is as large as the system allows; log what is in force. Under the
/// systemd unit `LimitNOFILE=` sets both to the same number, so there is nothing to raise.
pub fn raise_open_files_limit() {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        tracing::warn!(error = %io::Error::last_os_error(), "Could not read the open-file limit.");
        return;
    }
    let target = if rl.rlim_max == libc::RLIM_INFINITY {
        UNLIMITED_TARGET
    } else {
        rl.rlim_max
    };
    if rl.rlim_cur != libc::RLIM_INFINITY && rl.rlim_cur < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit from the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            rl.rlim_cur = target;
        } else {
            tracing::warn!(
                soft = rl.rlim_cur,
                hard = rl.rlim_max,
                error = %io::Error::last_os_error(),
                "Could not raise the open-file limit to the hard limit; keeping the soft one."
            );
        }
    }
    tracing::info!(
        soft = rl.rlim_cur,
        hard = rl.rlim_max,
        "Open-file limit: at most half of it is given to HTTP connections."
    );
}

/// Serve `app` on `listener` until `stop` resolves, then let the open connections finish
/// their answers (those waiting for a request are closed) and return once all are closed.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping_tx, stopping) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        // A place first, then accept: past the limit, new connections wait in the kernel's
        // listen queue and hold none of this process's file descriptors.
        let place = tokio::select! {
            () = &mut stop => break,
            place = places.clone().acquire_owned() => match place {
                Ok(p) => p,
                Err(_closed) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer),
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(
            stream,
            peer,
            app.clone(),
            limits,
            place,
            stopping.clone(),
        ));
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    // Each connection holds its place until it ends: all places back means all closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = places.acquire_many(all).await;
    Ok(())
}

async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    // The client gave up before we took its connection: nothing to wait for.
    if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted) {
        return;
    }
    // Out of file descriptors or memory: pause rather than spin on the error.
    tracing::warn!(error = %e, "Could not accept an HTTP connection; pausing a second.");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One connection, until the client or a clock ends it. `_place` is given back on return.
async fn connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: Router,
    limits: Limits,
    _place: OwnedSemaphorePermit,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let tower = TowerToHyperService::new(app);
    let answering = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        // Who is asking, for the answer form's record and rate limit.
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let busy = Busy::start(&answering);
        let answer = hyper::service::Service::call(&tower, req);
        async move {
            let response = answer.await;
            drop(busy);
            response
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    // A header-read timeout, a client gone mid-request: the client's doing.
                    tracing::debug!(error = %e, "HTTP connection ended on an error.");
                }
                return;
            }
            _ = stopping.wait_for(|s| *s), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = activity.idle(limits.idle_timeout) => {
                tracing::debug!("HTTP connection closed: idle past http.idle_timeout_secs.");
                return;
            }
        }
    }
}

/// When a connection last moved a byte, and whether a request on it is being answered.
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last byte read or written, or answer finished.
    last_ms: AtomicU64,
    /// Requests being answered (a slow database is not the client's idleness).
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once the connection has been idle for `limit`.
    async fn idle(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let since = self.opened.elapsed().saturating_sub(last);
            let busy = self.busy.load(Ordering::Relaxed) > 0;
            match idle_wait(busy, since, limit) {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

/// `None` when a connection quiet for `since` is idle past `limit`; else how long to wait
/// before looking again. A connection answering a request is never idle.
fn idle_wait(busy: bool, since: Duration, limit: Duration) -> Option<Duration> {
    if busy {
        Some(limit)
    } else {
        limit.checked_sub(since).filter(|left| !left.is_zero())
    }
}

/// A request being answered; the idle clock starts again when it is done.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, noting every byte that moves.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_get_at_most_half_the_open_file_limit() {
        let s = HttpSettings {
            max_connections: 500,
            ..HttpSettings::default()
        };
        assert_eq!(Limits::new(&s, Some(8192)).max_connections, 500);
        assert_eq!(Limits::new(&s, Some(256)).max_connections, 128);
        assert_eq!(Limits::new(&s, None).max_connections, 500);
        assert_eq!(
            Limits::new(&s, Some(1)).max_connections,
            1,
            "one place at least"
        );
        let d = Limits::new(&HttpSettings::default(), Some(1024));
        assert_eq!(
            (d.max_connections, d.header_read_timeout, d.idle_timeout),
            (128, Duration::from_secs(10), Duration::from_secs(60))
        );
    }

    #[test]
    fn a_connection_is_idle_only_when_quiet_past_the_limit_and_not_answering() {
        let limit = Duration::from_secs(60);
        let s = Duration::from_secs;
        assert_eq!(idle_wait(false, s(0), limit), Some(s(60)));
        assert_eq!(idle_wait(false, s(45), limit), Some(s(15)));
        assert_eq!(idle_wait(false, s(60), limit), None);
        assert_eq!(idle_wait(false, s(600), limit), None);
        assert_eq!(
            idle_wait(true, s(600), limit),
            Some(limit),
            "a request being answered keeps it open"
        );
    }
}
