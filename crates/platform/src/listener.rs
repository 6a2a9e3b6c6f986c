//! Serving connections on the platform's listener, plain or TLS, with the
//! limits a caller must not be able to outlast: a connection whose TLS
//! handshake or request headers do not arrive within the idle timeout (a
//! half-sent request, or a kept-alive connection gone silent) is closed, so
//! held-open sockets cannot pile up until the process runs out of file
//! handles; so is one whose client stops reading its answers
//! ([`WriteDeadline`]). CONNECT upgrades (transparent mode) are served on both.
//!
//! HTTP/1.1 only, as inside tunnels: TLS offers `http/1.1` alone in ALPN
//! (`tls::ServerIdentity::server_config`), so no HTTP/2 code is built.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::origin::ServedAddr;
use crate::write_deadline::WriteDeadline;

/// How long requests in flight may take to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Accepts until `shutdown` resolves, then asks every connection to finish
/// its request in flight and close, waiting at most [`DRAIN`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    idle: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    // Each connection holds a receiver: `closed()` resolves once all are gone.
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file handles, say: wait a little rather than spin
                // or stop serving everyone.
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = Connection {
            router: router.clone(),
            idle,
            stopping: stopping.clone(),
        };
        tokio::spawn(connection.run(stream, acceptor.clone()));
    }
    drop((listener, stopping));
    let _ = stop.send(());
    if tokio::time::timeout(DRAIN, stop.closed()).await.is_err() {
        tracing::warn!(
            "requests still in flight after {} s: stopping anyway",
            DRAIN.as_secs()
        );
    }
    Ok(())
}

/// HTTP/1.1 with keep-alive, closed when a request's headers do not arrive
/// within `idle`: on the listener and inside tunnels alike.
pub(crate) fn http1_builder(idle: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .keep_alive(true);
    builder
}

/// One accepted connection and what serving it needs.
struct Connection {
    router: Router,
    idle: Duration,
    stopping: watch::Receiver<()>,
}

impl Connection {
    async fn run(self, stream: TcpStream, acceptor: Option<TlsAcceptor>) {
        let served = stream.local_addr().ok().map(ServedAddr);
        let Some(acceptor) = acceptor else {
            return self.http(TokioIo::new(stream), served).await;
        };
        match tokio::time::timeout(self.idle, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => self.http(TokioIo::new(tls), served).await,
            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
            Err(_) => tracing::debug!("no TLS handshake within the idle timeout"),
        }
    }

    /// HTTP/1.1 with keep-alive and upgrades; on shutdown the request in
    /// flight finishes and the connection closes. Each request carries the
    /// connection's local address ([`ServedAddr`]).
    async fn http<I>(mut self, io: I, served: Option<ServedAddr>)
    where
        I: Read + Write + Unpin + Send + 'static,
    {
        let io = WriteDeadline::new(io, self.idle);
        let router = self.router.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            if let Some(served) = served {
                request.extensions_mut().insert(served);
            }
            router.clone().oneshot(request)
        });
        let connection = http1_builder(self.idle)
            .serve_connection(io, TowerToHyperService::new(service))
            .with_upgrades();
        tokio::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            _ = self.stopping.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "connection ended");
        }
    }
}
