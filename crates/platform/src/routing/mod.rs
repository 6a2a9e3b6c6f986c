//! The router: probes, request ids and tracing around one dispatcher that
//! routes by `Host`, as the cloud does, with path-style routes for bare
//! addresses (docs/platform.md, "Hosts and routes").

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Request as HttpRequest};
use axum::http::{StatusCode, Uri, header};
use axum::response::Json;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use padconnect_core::host::is_org_name;
use padconnect_core::{EnvironmentId, Surface, classify_host};
use serde_json::json;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Span, info_span};

use crate::dataverse::DataverseError;
use crate::origin::{EnvironmentScope, OrgScope, RequestOrigin};
use crate::power_platform_error::ApiError;
use std::sync::Arc;
use std::time::Duration;

use axum::middleware;

use crate::state::AppState;
use crate::tls::LeafCertificates;
use crate::tunnel::{self, Tunnels};
use crate::{arm, bap, connectivity, dataverse, identity, portal};

mod refusals;
use refusals::{
    body_too_large, catching_panics, dataverse_url_refused, invalid_path, surface_error,
    undecodable_path,
};

/// The header carrying each request's id, as Microsoft's services name it.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");

/// The routers of the surfaces, and what dispatching needs.
#[derive(Clone)]
pub struct Surfaces {
    pub identity: Router,
    pub tenant_api: Router,
    pub environment_api: Router,
    pub dataverse: Router,
    pub portal: Router,
    pub arm: Router,
    pub bap: Router,
    pub scheme: &'static str,
    pub body_limit: usize,
    pub request_timeout: Duration,
}

/// The whole platform's router: CONNECT tunnels first, then as [`router`].
pub fn router_with_tunnels(
    state: AppState,
    scheme: &'static str,
    leaves: Arc<LeafCertificates>,
) -> Router {
    let tunnels = Tunnels {
        leaves,
        https: router(state.clone(), "https"),
        idle_timeout: Duration::from_secs(state.config.idle_timeout),
    };
    router(state, scheme).layer(middleware::from_fn_with_state(
        Arc::new(tunnels),
        tunnel::intercept,
    ))
}

/// Probes, then every surface by host or path.
pub fn router(state: AppState, scheme: &'static str) -> Router {
    let surfaces = Surfaces {
        identity: catching_panics(identity::router(state.clone()), Route::Identity),
        tenant_api: catching_panics(connectivity::tenant_router(state.clone()), Route::TenantApi),
        environment_api: catching_panics(
            connectivity::environment_router(state.clone()),
            Route::TenantApi,
        ),
        dataverse: catching_panics(
            dataverse::router(state.clone()),
            Route::Dataverse(String::new()),
        ),
        portal: catching_panics(portal::router(state.clone()), Route::Portal),
        arm: catching_panics(arm::router(state.clone()), Route::Arm),
        bap: catching_panics(bap::router(state.clone()), Route::Bap),
        scheme,
        body_limit: state.config.body_limit,
        request_timeout: Duration::from_secs(state.config.request_timeout),
    };
    let probes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .with_state(state.clone());
    probes
        .fallback_service(Router::new().fallback(dispatch).with_state(surfaces))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn_with_state(
            Arc::new(state.config.public_host()),
            refusals::checked_host,
        ))
        // The surfaces catch their own panics in their own format; this
        // catches one in the probes or the dispatcher, before a surface is
        // known, in the connections API's format.
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send + 'static>| {
                ApiError::unexpected().into_response()
            },
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // One line per request at info: status and latency.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn request_span<B>(request: &HttpRequest<B>) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // The path only: queries are logged by no one, in case one carries a value
    // a user did not mean to share.
    info_span!("request", request_id = %id, method = %request.method(), host = %host, path = %request.uri().path())
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The OpenAPI 3.1 document of the connections API and the Dataverse
/// subset, under the path-style routes of a bare address.
async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": state.store.backend_name() })),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": state.store.backend_name() })),
            )
        }
    }
}

/// Where a request goes, and the path-style prefix to strip on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Identity,
    TenantApi,
    EnvironmentApi(EnvironmentId),
    /// An environment-level path whose environment id is malformed.
    UnknownEnvironment(String),
    Dataverse(String),
    /// A path-style Dataverse path whose org is no org name.
    UnknownOrg(String),
    Arm,
    Bap,
    Portal,
}

/// Tenants as they appear first in identity paths: a GUID, a domain, or one
/// of Entra's aliases.
fn is_tenant_segment(segment: &str) -> bool {
    matches!(
        segment.to_ascii_lowercase().as_str(),
        "common" | "organizations" | "consumers"
    ) || uuid::Uuid::try_parse(segment).is_ok()
        || segment.contains('.')
}

/// What follows the tenant in Entra's endpoints.
fn is_identity_path(rest: &str) -> bool {
    ["oauth2/", "v2.0/", "discovery/", ".well-known/"]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// Whether `{environment}/...` continues with the environment-level API.
fn is_api_path(after_environments: Option<&str>) -> bool {
    let mut segments = after_environments.unwrap_or_default().split('/');
    segments.next();
    segments.next() == Some("connectivity")
}

/// The route of a path-style request and the length of its prefix.
fn path_style(path: &str) -> (Route, usize) {
    let trimmed = path.trim_start_matches('/');
    // `//arm/x` routes as `/arm/x` does: the prefix covers every leading
    // slash, so what is left still starts with one (found by fuzzing).
    let (route, prefix) = path_style_trimmed(trimmed);
    let extra_slashes = (path.len() - trimmed.len()).saturating_sub(1);
    match prefix {
        0 => (route, 0),
        prefix => (route, prefix + extra_slashes),
    }
}

/// [`path_style`] of a path without its leading slashes; prefix lengths
/// count one slash.
fn path_style_trimmed(trimmed: &str) -> (Route, usize) {
    let (first, after_first) = trimmed
        .split_once('/')
        .map_or((trimmed, None), |(f, r)| (f, Some(r)));
    let second = after_first.map(|r| r.split('/').next().unwrap_or_default());
    match (first, second) {
        ("connectivity", _) => (Route::TenantApi, 0),
        // `/environments/{id}/connectivity/...` is the API; the portal's
        // pages live under `/environments/{id}/...` too, as on
        // make.powerautomate.com.
        ("environments", Some(env)) if is_api_path(after_first) => {
            let prefix = "/environments/".len() + env.len();
            match env.parse() {
                Ok(id) => (Route::EnvironmentApi(id), prefix),
                Err(_) => (Route::UnknownEnvironment(env.to_owned()), prefix),
            }
        }
        ("arm", _) => (Route::Arm, "/arm".len()),
        ("bap", _) => (Route::Bap, "/bap".len()),
        ("orgs", Some(org)) if is_org_name(org) => (
            Route::Dataverse(org.to_ascii_lowercase()),
            "/orgs/".len() + org.len(),
        ),
        ("orgs", Some(org)) => (
            Route::UnknownOrg(org.to_owned()),
            "/orgs/".len() + org.len(),
        ),
        (tenant, _) if is_tenant_segment(tenant) => (Route::Identity, 0),
        // A malformed tenant on an identity path still gets Entra's answer.
        _ if after_first.is_some_and(is_identity_path) => (Route::Identity, 0),
        _ => (Route::Portal, 0),
    }
}

/// The host the client addressed: `Host`, or an absolute-form URI's authority.
fn request_host(request: &Request) -> String {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

pub async fn dispatch(State(surfaces): State<Surfaces>, request: Request) -> Response {
    let host = request_host(&request);
    let (route, prefix_len) = match classify_host(&host) {
        Some(Surface::Identity) => (Route::Identity, 0),
        Some(Surface::TenantApi) => (Route::TenantApi, 0),
        Some(Surface::EnvironmentApi(env)) => (Route::EnvironmentApi(env), 0),
        Some(Surface::Dataverse(org)) => (Route::Dataverse(org), 0),
        Some(Surface::Portal) => (Route::Portal, 0),
        Some(Surface::Arm) => (Route::Arm, 0),
        Some(Surface::Bap) => (Route::Bap, 0),
        // A bare address, or a name that is none of the cloud's (a reverse
        // proxy's): path-style.
        Some(Surface::PathStyle) | None => path_style(request.uri().path()),
    };
    let Some(prefix) = request.uri().path().get(..prefix_len).map(str::to_owned) else {
        return invalid_path(&route);
    };
    let path = percent_encoding::percent_decode_str(request.uri().path());
    if path.decode_utf8().is_err() {
        return undecodable_path(&route);
    }
    let origin = RequestOrigin {
        scheme: surfaces.scheme,
        authority: host,
        prefix: prefix.clone(),
    };

    if let Some(rejection) = body_too_large(&request, surfaces.body_limit, &route) {
        return rejection;
    }
    // One deadline for reading the body and answering: hyper's header
    // timeout stops at the headers, and a body trickled forever must not
    // hold on.
    let deadline = tokio::time::Instant::now() + surfaces.request_timeout;
    let timed_out = |route: &Route| {
        let secs = surfaces.request_timeout.as_secs();
        tracing::warn!(secs, "request timed out");
        surface_error(
            route,
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            format!(
                "The request did not complete within {secs} s: send the whole body at once, then wait for the answer."
            ),
        )
    };
    // The whole body is read before any surface answers: an early answer (a
    // 400 for the query, a 401) to a client still sending a large body
    // would otherwise close the connection under it, and it would see a
    // reset instead of the answer (found by schemathesis over TLS).
    let mut request =
        match tokio::time::timeout_at(deadline, read_whole(request, surfaces.body_limit)).await {
            Ok(Ok(request)) => request,
            Ok(Err((status, code, message))) => {
                return surface_error(&route, status, code, message);
            }
            Err(_) => return timed_out(&route),
        };
    if prefix_len > 0 {
        match strip_prefix(request.uri(), prefix_len) {
            Some(uri) => *request.uri_mut() = uri,
            None => return invalid_path(&route),
        }
    }
    if let Some(refusal) = dataverse_url_refused(&route, request.uri()) {
        return refusal;
    }
    request.extensions_mut().insert(origin);
    let router = match &route {
        Route::Identity => surfaces.identity,
        Route::TenantApi => surfaces.tenant_api,
        Route::EnvironmentApi(env) => {
            request.extensions_mut().insert(EnvironmentScope(*env));
            surfaces.environment_api
        }
        Route::UnknownEnvironment(env) => {
            return ApiError::environment_not_found(env).into_response();
        }
        Route::Dataverse(org) => {
            request.extensions_mut().insert(OrgScope(org.clone()));
            surfaces.dataverse
        }
        Route::UnknownOrg(org) => {
            return DataverseError::unknown_org(org).into_response();
        }
        Route::Arm => surfaces.arm,
        Route::Bap => surfaces.bap,
        Route::Portal => surfaces.portal,
    };
    match tokio::time::timeout_at(deadline, router.oneshot(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => timed_out(&route),
    }
}

/// The request with its body read whole, up to `limit` bytes; or why not
/// (status, connections-API code, message).
async fn read_whole(
    request: Request,
    limit: usize,
) -> Result<Request, (StatusCode, &'static str, String)> {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(error) if is_too_large(&error) => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request body is over the limit of {limit} bytes."),
        )),
        Err(_) => Err((
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request body could not be read: send it whole, with a length that matches it."
                .to_owned(),
        )),
    }
}

/// Whether a body error is the limit's (axum wraps http-body-util's).
fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// The path after a path-style prefix of `prefix_len` bytes (a suffix of
/// a valid path is one too, so `None` means a prefix that was misjudged).
fn strip_prefix(uri: &Uri, prefix_len: usize) -> Option<Uri> {
    let rest = uri.path().get(prefix_len..)?;
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Uri::builder().path_and_query(path_and_query).build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_routes() {
        let env: EnvironmentId = "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap();
        let cases = [
            (
                "/8a235459-3d2c-415d-8c1e-e2fe133509ad/oauth2/v2.0/token",
                Route::Identity,
                0,
            ),
            (
                "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                Route::Identity,
                0,
            ),
            ("/common/discovery/instance", Route::Identity, 0),
            (
                "/connectivity/environments/x/connections",
                Route::TenantApi,
                0,
            ),
            (
                "/environments/37520647-dbdf-49fa-ba01-6134c14680c4/connectivity/connections",
                Route::EnvironmentApi(env),
                50,
            ),
            (
                "/environments/nope/connectivity",
                Route::UnknownEnvironment("nope".into()),
                18,
            ),
            (
                "/orgs/Contoso/api/data/v9.2/WhoAmI",
                Route::Dataverse("contoso".into()),
                13,
            ),
            // Found by schemathesis: a Dataverse path whose org is no org
            // name answered the portal's HTML 404.
            (
                "/orgs/no%20org/api/data/v9.2/WhoAmI",
                Route::UnknownOrg("no%20org".into()),
                14,
            ),
            ("/", Route::Portal, 0),
            (
                "/environments/37520647-dbdf-49fa-ba01-6134c14680c4/machines",
                Route::Portal,
                0,
            ),
            ("/environments/nope/machines", Route::Portal, 0),
            ("/environments", Route::Portal, 0),
            ("/machines", Route::Portal, 0),
            ("/not%20a%20tenant/oauth2/v2.0/token", Route::Identity, 0),
            ("/machines/oauth2", Route::Portal, 0),
            ("/arm/subscriptions", Route::Arm, 4),
            ("/arm", Route::Arm, 4),
            (
                "/bap/providers/Microsoft.BusinessAppPlatform",
                Route::Bap,
                4,
            ),
            // Extra leading slashes belong to the prefix (found by fuzzing).
            ("//arm", Route::Arm, 5),
            (
                "///orgs/contoso/api/data/v9.2",
                Route::Dataverse("contoso".into()),
                15,
            ),
        ];
        for (path, route, prefix) in cases {
            assert_eq!(path_style(path), (route, prefix), "{path}");
        }
    }

    #[test]
    fn prefix_is_stripped_and_query_kept() {
        let uri: Uri = "/orgs/contoso/api/data/v9.2/flowmachines?$top=1"
            .parse()
            .unwrap();
        assert_eq!(
            strip_prefix(&uri, 13).unwrap().to_string(),
            "/api/data/v9.2/flowmachines?$top=1"
        );
        let bare: Uri = "/orgs/contoso".parse().unwrap();
        assert_eq!(strip_prefix(&bare, 13).unwrap().to_string(), "/");
    }
}
