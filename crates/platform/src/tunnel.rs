//! Transparent mode (docs/transparent-mode.md): the listener also answers `CONNECT
//! host:443` for the names the platform serves, so a tool given only
//! `HTTPS_PROXY` and trust of the local CA reaches the platform under the
//! cloud's own host names. The tunnel's TLS ends here, with a certificate for
//! exactly the host the client named, and each request inside is served by
//! the same router as a direct one, as HTTPS under that `Host`.
//!
//! It is never an open proxy: any other host, or another port, gets 403 and
//! nothing is dialled; the platform works offline. HTTP/1.1 with keep-alive
//! runs inside a tunnel (ALPN offers no h2). A client that stays silent (no
//! TLS handshake, no next request) is closed after the idle timeout.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use padconnect_core::host::strip_port;
use padconnect_core::{Surface, classify_host};
use tokio_rustls::LazyConfigAcceptor;
use tower::ServiceExt;

use crate::tls::LeafCertificates;

/// What a tunnel needs: certificates, the HTTPS router, the idle limit.
pub struct Tunnels {
    pub leaves: Arc<LeafCertificates>,
    /// The platform's router as HTTPS, without this layer (no nesting).
    pub https: Router,
    pub idle_timeout: Duration,
}

/// The outermost layer: a `CONNECT` opens a tunnel, anything else goes on.
pub async fn intercept(
    State(tunnels): State<Arc<Tunnels>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::CONNECT {
        return next.run(request).await;
    }
    match served_host(&request) {
        Ok(host) => open(tunnels, host, request),
        Err((status, reason)) => {
            tracing::warn!(target = %request.uri(), %reason, "CONNECT refused");
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{reason}\n"),
            )
                .into_response()
        }
    }
}

/// The host a CONNECT names, if the platform serves it on port 443.
fn served_host(request: &Request) -> Result<String, (StatusCode, String)> {
    let authority = request.uri().authority().ok_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            format!("CONNECT needs host:443, not '{}'", request.uri()),
        )
    })?;
    // HTTP/1.1 asks every request for a Host (RFC 9112 3.2). For CONNECT it
    // should repeat the target, but Node's http module sends the proxy's own
    // address there, so only a missing one is refused; an HTTP/1.0 CONNECT
    // (Python's http.client sends one, with no Host) needs none.
    let needs_host = request.version() >= axum::http::Version::HTTP_11;
    if needs_host && !request.headers().contains_key(header::HOST) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("CONNECT {authority} needs the header 'Host: {authority}'"),
        ));
    }
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if authority.port_u16() != Some(443) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("padconnect tunnels HTTPS on port 443 only, not '{authority}'"),
        ));
    }
    match classify_host(&host) {
        Some(Surface::PathStyle) | None => Err((
            StatusCode::FORBIDDEN,
            format!(
                "padconnect serves only the Microsoft cloud names it stands in for; '{host}' is not one of them, and it never connects anywhere else"
            ),
        )),
        Some(_) => Ok(host),
    }
}

/// Answers 200 and, once hyper hands over the connection, serves the tunnel.
fn open(tunnels: Arc<Tunnels>, host: String, request: Request) -> Response {
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => upgraded,
            Err(error) => return tracing::debug!(%error, "CONNECT tunnel not upgraded"),
        };
        if let Err(reason) = serve(&tunnels, &host, TokioIo::new(upgraded)).await {
            tracing::warn!(%host, %reason, "CONNECT tunnel closed");
        }
    });
    StatusCode::OK.into_response()
}

async fn serve(
    tunnels: &Tunnels,
    host: &str,
    io: TokioIo<hyper::upgrade::Upgraded>,
) -> Result<(), String> {
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io);
    let start = tokio::time::timeout(tunnels.idle_timeout, acceptor)
        .await
        .map_err(|_| "no TLS handshake within the idle timeout".to_owned())?
        .map_err(|e| format!("not a TLS ClientHello: {e}"))?;
    match start.client_hello().server_name() {
        None => return Err("the TLS ClientHello names no server (SNI); send the host name".into()),
        Some(sni) if !sni.eq_ignore_ascii_case(host) => {
            return Err(format!(
                "the TLS ClientHello names '{sni}', the CONNECT named '{host}'"
            ));
        }
        Some(_) => {}
    }
    let config = tunnels.leaves.config_for(host)?;
    let tls = tokio::time::timeout(tunnels.idle_timeout, start.into_stream(config))
        .await
        .map_err(|_| "the TLS handshake did not finish within the idle timeout".to_owned())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let router = tunnels.https.clone();
    let host = host.to_owned();
    let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
        let (router, host) = (router.clone(), host.clone());
        async move {
            Ok::<_, std::convert::Infallible>(inside(router, &host, request.map(Body::new)).await)
        }
    });
    crate::listener::http1_builder(tunnels.idle_timeout)
        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
        .await
        .map_err(|e| e.to_string())
}

/// One request inside a tunnel: under the tunnel's host, whatever port its
/// `Host` names (Node's https module writes `:80` with a custom connection);
/// a `Host` naming another site is misdirected (RFC 9110 15.5.20).
async fn inside(router: Router, host: &str, mut request: Request) -> Response {
    let named = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            strip_port(h)
                .unwrap_or(h)
                .trim_end_matches('.')
                .to_ascii_lowercase()
        });
    match named {
        Some(named) if named != host => {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                format!("this tunnel is for {host}, not {named}\n"),
            )
                .into_response();
        }
        Some(_) => {}
        None => {
            // A served host is a DNS name, so always a valid header value.
            if let Ok(value) = HeaderValue::from_str(host) {
                request.headers_mut().insert(header::HOST, value);
            }
        }
    }
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
