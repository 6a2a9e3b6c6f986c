//! Serving connections on the platform's listener, plain or TLS, with the
//! limits a caller must not be able to outlast: a connection whose request
//! headers do not arrive within the idle timeout (a half-sent request, or a
//! kept-alive connection gone silent) is closed, so held-open sockets cannot
//! pile up until the process runs out of file handles. CONNECT upgrades
//! (transparent mode) are served on both.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long requests in flight may take to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// HTTP/1.1 (the platform offers no h2) with the idle limit on headers.
fn configure(builder: &mut Builder<TokioExecutor>, idle: Duration) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .keep_alive(true);
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<RustlsConfig>,
    idle: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => serve_plain(listener, router, idle, shutdown).await,
        Some(tls) => serve_tls(listener, router, tls, idle, shutdown).await,
    }
}

async fn serve_plain(
    listener: TcpListener,
    router: Router,
    idle: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    configure(&mut builder, idle);
    let graceful = GracefulShutdown::new();
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
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s: stopping anyway",
            DRAIN.as_secs()
        );
    }
    Ok(())
}

async fn serve_tls(
    listener: TcpListener,
    router: Router,
    tls: RustlsConfig,
    idle: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(DRAIN));
    });
    let mut server = axum_server::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle);
    configure(server.http_builder(), idle);
    server.serve(router.into_make_service()).await
}
