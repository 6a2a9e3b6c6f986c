//! `POST /{tenant}/oauth2/v2.0/token`: parse the form, hand it to the grant.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::grant::{self, TokenRequest};
use super::{AadError, tenant};
use crate::origin::RequestOrigin;
use crate::server::AppState;

pub async fn token(
    State(state): State<AppState>,
    Path(tenant_segment): Path<String>,
    axum::Extension(origin): axum::Extension<RequestOrigin>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AadError> {
    let tenant = tenant::resolve(&state, &tenant_segment).await?;
    let mut form: HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map_err(|_| AadError::missing("grant_type"))?
            .into_iter()
            .collect();
    if let Some((id, secret)) = basic_credentials(&headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let request = TokenRequest {
        form,
        tenant,
        tenant_segment,
        origin,
    };
    let issued = grant::issue(&state, &request).await?;
    let headers = [
        (header::CACHE_CONTROL, "no-store, no-cache"),
        (header::PRAGMA, "no-cache"),
    ];
    Ok((headers, Json(issued)).into_response())
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
