//! OpenID discovery, the signing keys and MSAL's instance discovery, every
//! URL built from the request's own origin so clients come back here.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::grant::Endpoint;
use super::{AadError, tenant};
use crate::origin::RequestOrigin;
use crate::state::AppState;

const CACHE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "max-age=86400, private"),
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
];

/// `/{tenant}/v2.0/.well-known/openid-configuration` and the v1 document,
/// `/{tenant}/.well-known/openid-configuration` (the route names which).
/// Their endpoints differ by v2's `/v2.0` in the path; the keys that differ
/// otherwise are each version's own.
pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    axum::Extension(origin): axum::Extension<RequestOrigin>,
    axum::Extension(endpoint): axum::Extension<Endpoint>,
) -> Result<Response, AadError> {
    let tenant = tenant::resolve(&state, &segment).await?;
    let tid = tenant.id;
    let base = origin.url(&format!("/{tid}"));
    let v = match endpoint {
        Endpoint::V2 => "/v2.0",
        Endpoint::V1 => "",
    };
    let mut document = json!({
        "token_endpoint": format!("{base}/oauth2{v}/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": origin.url(&format!("/{tid}/discovery{v}/keys")),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_endpoint": format!("{base}/oauth2{v}/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2{v}/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2{v}/logout"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    let own = match endpoint {
        Endpoint::V2 => json!({
            "issuer": format!("https://login.microsoftonline.com/{tid}/v2.0"),
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        }),
        Endpoint::V1 => json!({
            "issuer": crate::auth::issuer(tid),
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
            "microsoft_multi_refresh_token": true,
            "check_session_iframe": format!("{base}/oauth2/checksession"),
            "userinfo_endpoint": format!("{base}/openid/userinfo"),
        }),
    };
    if let (Value::Object(document), Value::Object(own)) = (&mut document, own) {
        document.extend(own);
    }
    Ok((CACHE, Json(document)).into_response())
}

/// The JWKS: every published key. The keys are the platform's, not a
/// tenant's, so any tenant segment (and `common`) serves them.
pub async fn keys(State(state): State<AppState>) -> Response {
    let keys: Vec<Value> = state
        .signing
        .published()
        .iter()
        .map(|k| {
            json!({
                "kty": "RSA", "use": "sig", "kid": k.kid, "x5t": k.kid, "n": k.n, "e": k.e, "x5c": [k.x5c],
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            })
        })
        .collect();
    (CACHE, Json(json!({ "keys": keys }))).into_response()
}

/// MSAL's instance discovery: this host is its own and only alias.
pub async fn instance(axum::Extension(origin): axum::Extension<RequestOrigin>) -> Response {
    let host = origin.authority.clone();
    let document = json!({
        "tenant_discovery_endpoint": origin.url("/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }],
    });
    (CACHE, Json(document)).into_response()
}
