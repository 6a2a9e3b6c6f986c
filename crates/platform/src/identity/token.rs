//! `POST /{tenant}/oauth2/v2.0/token` and the v1 endpoint that older
//! scripts still call, `POST /{tenant}/oauth2/token`: parse the form, hand it
//! to the grant, answer in the endpoint's own shape.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use serde::Serialize;

use super::grant::{self, Endpoint, Issued, TokenRequest};
use super::{AadError, tenant};
use crate::auth::TOKEN_LIFETIME_SECS;
use crate::origin::{RequestOrigin, ServedAddr};
use crate::state::AppState;

/// The v2 answer: numbers as numbers.
#[derive(Serialize)]
struct V2Token {
    token_type: &'static str,
    expires_in: i64,
    ext_expires_in: i64,
    access_token: String,
}

/// The v1 answer. Entra writes its numbers as strings here, and names the
/// resource: `{"token_type":"Bearer","expires_in":"3599","ext_expires_in":
/// "3599","expires_on":"...","not_before":"...","resource":"...",
/// "access_token":"..."}` (Microsoft's "Service to service calls using client
/// credentials" v1 doc; MSAL Python's token_cache.py parses `expires_in` with
/// `int()` because "AADv1-like endpoint returns a string"; ADAL Python's
/// oauth2_client.py requires `token_type` and `access_token`).
#[derive(Serialize)]
struct V1Token {
    token_type: &'static str,
    expires_in: String,
    ext_expires_in: String,
    expires_on: String,
    not_before: String,
    resource: String,
    access_token: String,
}

/// `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token`:
/// the route names the endpoint; one grant, answered in the endpoint's shape.
pub async fn token(
    state: State<AppState>,
    tenant: Path<String>,
    origin: axum::Extension<RequestOrigin>,
    axum::Extension(endpoint): axum::Extension<Endpoint>,
    served: Option<axum::Extension<ServedAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AadError> {
    let served = served.map(|axum::Extension(ServedAddr(addr))| addr);
    let issued = issue(state, tenant, origin, served, headers, body, endpoint).await?;
    Ok(match endpoint {
        Endpoint::V2 => answer(V2Token {
            token_type: "Bearer",
            expires_in: TOKEN_LIFETIME_SECS,
            ext_expires_in: TOKEN_LIFETIME_SECS,
            access_token: issued.access_token,
        }),
        Endpoint::V1 => {
            let lifetime = (issued.expires_on - issued.not_before).to_string();
            answer(V1Token {
                token_type: "Bearer",
                expires_in: lifetime.clone(),
                ext_expires_in: lifetime,
                expires_on: issued.expires_on.to_string(),
                not_before: issued.not_before.to_string(),
                resource: issued.resource,
                access_token: issued.access_token,
            })
        }
    })
}

fn answer(body: impl Serialize) -> Response {
    let headers = [
        (header::CACHE_CONTROL, "no-store, no-cache"),
        (header::PRAGMA, "no-cache"),
    ];
    (headers, Json(body)).into_response()
}

async fn issue(
    State(state): State<AppState>,
    Path(tenant_segment): Path<String>,
    axum::Extension(origin): axum::Extension<RequestOrigin>,
    served: Option<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
    endpoint: Endpoint,
) -> Result<Issued, AadError> {
    let mut form: HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map_err(|_| AadError::missing("grant_type"))?
            .into_iter()
            .collect();
    if let Some((id, secret)) = basic_credentials(&headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let tenant = tenant::resolve_for_grant(&state, &tenant_segment, &form).await?;
    let request = TokenRequest {
        endpoint,
        form,
        tenant,
        tenant_segment,
        origin,
        served,
    };
    grant::issue(&state, &request).await
}

/// `Authorization: Basic` (RFC 6749 2.3.1): both parts form-encoded, then base64.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}
