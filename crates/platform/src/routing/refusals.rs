//! Each surface's own answer when a request is refused before a surface
//! sees it (too large, too slow, a path that cannot be routed, a Host
//! missing or twice) or when its
//! handler panics: the dispatcher knows the route, so the caller gets the
//! format of the service it called.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{StatusCode, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;

use super::Route;
use crate::arm::ArmError;
use crate::dataverse::{DataverseError, MAX_URL_CHARS};
use crate::identity::AadError;
use crate::portal::PortalError;
use crate::power_platform_error::ApiError;

/// A panic in a surface's handler answers that surface's 500, in its own
/// format, instead of resetting the connection; the process serves on. The
/// panic was logged once where it happened, by the panic hook (with the
/// request's span), so this says nothing more. Nothing the product does
/// panics by design (the workspace's lints deny unwrap, expect and panic).
pub(super) fn catching_panics(router: Router, route: Route) -> Router {
    router.layer(CatchPanicLayer::custom(
        move |_panic: Box<dyn std::any::Any + Send + 'static>| internal_error(&route),
    ))
}

/// Each surface's own answer to its own fault, without a second log line.
pub(super) fn internal_error(route: &Route) -> Response {
    match route {
        Route::Identity => AadError::unexpected().into_response(),
        Route::TenantApi | Route::EnvironmentApi(_) | Route::UnknownEnvironment(_) | Route::Bap => {
            ApiError::unexpected().into_response()
        }
        Route::Dataverse(_) | Route::UnknownOrg(_) => DataverseError::unexpected().into_response(),
        Route::Arm => ArmError::unexpected().into_response(),
        Route::Portal => PortalError::unexpected().into_response(),
    }
}

/// A path whose path-style prefix cannot be taken off: a prefix misjudged,
/// never a panic.
pub(super) fn invalid_path(route: &Route) -> Response {
    let message = "The request's path is not a valid URI path.".to_owned();
    surface_error(route, StatusCode::BAD_REQUEST, "InvalidRequestUri", message)
}

/// A path whose %-escapes do not decode to UTF-8: refused here, in the
/// surface's format, before any handler's path extractor would answer
/// axum's plain-text 400.
pub(super) fn undecodable_path(route: &Route) -> Response {
    let message =
        "The request's path is not UTF-8 once its %-escapes are decoded: escape each byte of a UTF-8 name."
            .to_owned();
    surface_error(route, StatusCode::BAD_REQUEST, "InvalidRequestUri", message)
}

/// A 413 in the surface's own format when the declared body is over the
/// limit. Bodies without a length are held to the same limit as they are read.
pub(super) fn body_too_large(
    request: &Request<Body>,
    limit: usize,
    route: &Route,
) -> Option<Response> {
    let length: usize = request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    if length <= limit {
        return None;
    }
    let message = format!("The request body is {length} bytes; the limit is {limit} bytes.");
    Some(surface_error(
        route,
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        message,
    ))
}

/// A refusal of the request as such (too large, too slow) in the surface's
/// own format. Guesses, written down: neither Entra nor Dataverse documents
/// its code for these; we use their generic malformed-request codes, and
/// `api_code` for the connections API and ARM.
pub(super) fn surface_error(
    route: &Route,
    status: StatusCode,
    api_code: &'static str,
    message: String,
) -> Response {
    match route {
        Route::Identity => {
            AadError::new(status, "invalid_request", 9002313, message).into_response()
        }
        Route::TenantApi | Route::EnvironmentApi(_) | Route::UnknownEnvironment(_) | Route::Bap => {
            ApiError::new(status, api_code, message).into_response()
        }
        Route::Dataverse(_) | Route::UnknownOrg(_) => {
            DataverseError::new(status, "0x80040203", message).into_response()
        }
        Route::Arm if status == StatusCode::PAYLOAD_TOO_LARGE => {
            ArmError::too_large(message).into_response()
        }
        Route::Arm => ArmError::new(status, api_code, message).into_response(),
        Route::Portal => PortalError { status, message }.into_response(),
    }
}

/// RFC 9112, section 3.2: "A server MUST respond with a 400 (Bad Request)
/// status code to any HTTP/1.1 request message that lacks a Host header
/// field and to any request message that contains more than one Host
/// header field line". Two Hosts let a proxy and this platform each route
/// by another; the answer is in the format of the surface the path names,
/// since no host can be trusted.
///
/// And only the names the platform answers to are served: IP addresses,
/// `localhost`, the cloud's own names and `--public-url`'s. A page whose
/// name an attacker points at 127.0.0.1 (DNS rebinding) sends its own name
/// and gets what HTTP.sys answers a name it is not bound to.
pub(super) async fn checked_host(
    State(public_host): State<Arc<Option<String>>>,
    request: Request,
    next: Next,
) -> Response {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (first, second) = (hosts.next(), hosts.next());
    let lacks = first.is_none()
        && request.version() == Version::HTTP_11
        && request.uri().authority().is_none();
    if second.is_some() || lacks {
        let (route, _) = super::path_style(request.uri().path());
        let message = match lacks {
            true => "The request has no Host header: HTTP/1.1 needs one.",
            false => "The request has more than one Host header: send one.",
        };
        return surface_error(
            &route,
            StatusCode::BAD_REQUEST,
            "InvalidHost",
            message.to_owned(),
        );
    }
    let host = first.and_then(|h| h.to_str().ok());
    if host.is_some_and(|host| !served(host, public_host.as_deref())) {
        return invalid_hostname();
    }
    next.run(request).await
}

/// Whether the platform answers to `host`.
fn served(host: &str, public_host: Option<&str>) -> bool {
    let lower = host.to_ascii_lowercase();
    if padconnect_core::host::classify_host(&lower).is_some() {
        return true;
    }
    let name = lower
        .rsplit_once(':')
        .map_or(lower.as_str(), |(name, _)| name);
    public_host.is_some_and(|public| name.trim_end_matches('.') == public)
}

/// HTTP.sys's answer to a Host it has no binding for, as Microsoft's
/// front ends give it.
fn invalid_hostname() -> Response {
    const PAGE: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Bad Request - Invalid Hostname</h2>\r\n<hr><p>HTTP Error 400. The request hostname is invalid.</p>\r\n</BODY></HTML>\r\n";
    http_sys_page(StatusCode::BAD_REQUEST, PAGE)
}

/// The longest segment of a Dataverse path: "The maximum length of any
/// individual segment in an odata request cannot be longer than 260
/// characters ... 400 Bad Request - Invalid URL" (Compose HTTP requests and
/// handle errors). HTTP.sys, in front of Dataverse, answers it and the
/// URL's length ([`MAX_URL_CHARS`]) before Dataverse sees the request.
const DATAVERSE_MAX_SEGMENT_CHARS: usize = 260;

/// HTTP.sys's page for a URL over Dataverse's length, as Dataverse
/// answered it to a client (microsoft/vscode-copilotstudio#122), or for a
/// path segment over its length; `None` when the URL is within both.
/// `target` is the cloud's path and query (a path-style prefix taken off,
/// and not counted). A target over 65,534 bytes never gets here: the HTTP
/// parser answers it 414 without a body.
pub(super) fn dataverse_url_refused(route: &Route, target: &Uri) -> Option<Response> {
    if !matches!(route, Route::Dataverse(_) | Route::UnknownOrg(_)) {
        return None;
    }
    let target = target.path_and_query().map_or("/", |p| p.as_str());
    // Characters are counted only where the bytes could be too many.
    if target.len() > MAX_URL_CHARS && target.chars().count() > MAX_URL_CHARS {
        const PAGE: &str = "<HTML><HEAD><TITLE>Request URL Too Long</TITLE></HEAD>\r\n<BODY><h2>Request URL Too Long</h2>\r\n<hr><p>HTTP Error 414. The request URL is too long.</p>\r\n</BODY></HTML>\r\n";
        return Some(http_sys_page(StatusCode::URI_TOO_LONG, PAGE));
    }
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    // A segment decodes to no more characters than it has bytes.
    let too_long = |segment: &str| {
        segment.len() > DATAVERSE_MAX_SEGMENT_CHARS
            && percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .chars()
                .count()
                > DATAVERSE_MAX_SEGMENT_CHARS
    };
    if path.split('/').any(too_long) {
        const PAGE: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Bad Request - Invalid URL</h2>\r\n<hr><p>HTTP Error 400. The request URL is invalid.</p>\r\n</BODY></HTML>\r\n";
        return Some(http_sys_page(StatusCode::BAD_REQUEST, PAGE));
    }
    None
}

fn http_sys_page(status: StatusCode, page: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=us-ascii")],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::Request as HttpRequest;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A handler that panics gets its surface's 500 in that surface's
    /// format; the router goes on serving.
    #[tokio::test]
    async fn a_panic_answers_the_surfaces_500() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let cases = [
            (Route::Dataverse(String::new()), "0x80040216"),
            (Route::TenantApi, "InternalServerError"),
            (Route::Arm, "InternalServerError"),
        ];
        for (route, code) in cases {
            let router = catching_panics(Router::new().route("/", get(boom)), route.clone());
            for _ in 0..2 {
                let request = HttpRequest::get("/").body(Body::empty()).unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                assert_eq!(
                    response.status(),
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{route:?}"
                );
                let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                    .await
                    .unwrap();
                let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(body["error"]["code"], code, "{route:?}: {body}");
            }
        }
        let router = catching_panics(Router::new().route("/", get(boom)), Route::Identity);
        let request = HttpRequest::get("/").body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        assert_eq!(body["error_codes"][0], 90033);
    }
}
