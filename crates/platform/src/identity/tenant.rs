//! The tenant a request's path names: a GUID, or a verified domain; for a
//! user's sign-in on `common` or `organizations`, the user's own tenant.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::AadError;
use crate::state::AppState;
use padconnect_store::Tenant;

/// Resolves `/{tenant}/...`. Entra's aliases (`common`, `organizations`,
/// `consumers`) name no single tenant, and the flows served here need one,
/// so they are answered as a tenant that does not exist.
pub async fn resolve(state: &AppState, segment: &str) -> Result<Tenant, AadError> {
    let id = match Uuid::try_parse(segment) {
        Ok(id) => Some(id),
        Err(_) if is_domain(segment) => None,
        Err(_) => return Err(malformed(segment)),
    };
    let found = state.directory.tenant(&state.store, segment, id).await?;
    found.ok_or_else(|| not_found(segment))
}

fn is_domain(segment: &str) -> bool {
    padconnect_core::host::is_domain(segment)
        || matches!(segment, "common" | "organizations" | "consumers")
}

pub fn not_found(segment: &str) -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        format!(
            "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

fn malformed(segment: &str) -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900023,
        format!(
            "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
        ),
    )
}

/// Entra's aliases that name no tenant but let a user's sign-in find one.
fn is_multi_tenant_alias(segment: &str) -> bool {
    segment.eq_ignore_ascii_case("common") || segment.eq_ignore_ascii_case("organizations")
}

/// The tenant a token request is for. On `common` or `organizations`, a
/// password grant belongs to the tenant of the user's UPN domain (an unknown
/// domain fails as a wrong password does, revealing nothing); an app's own
/// sign-in names no user, so Entra refuses it with AADSTS50059.
pub async fn resolve_for_grant(
    state: &AppState,
    segment: &str,
    form: &HashMap<String, String>,
) -> Result<Tenant, AadError> {
    if !is_multi_tenant_alias(segment) {
        return resolve(state, segment).await;
    }
    let domain = match form.get("grant_type").map(String::as_str) {
        Some("password") => form.get("username").and_then(|u| u.rsplit_once('@')),
        _ => None,
    };
    let Some((_, domain)) = domain else {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50059,
            format!(
                "No tenant-identifying information found in either the request or implied by any provided credentials. Call /{{tenant id or domain}}/oauth2/... instead of /{segment}/."
            ),
        ));
    };
    let found = match is_domain(domain) {
        true => state.directory.tenant(&state.store, domain, None).await?,
        false => None,
    };
    found.ok_or_else(|| {
        AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        )
    })
}

/// `GET /common/UserRealm/{user}?api-version=1.0`, which ADAL asks before a
/// password grant (adal/user_realm.py reads `account_type`: Managed means a
/// password grant follows, Federated a WS-Trust exchange). Decided by the
/// domain alone, as Entra's is, so it says nothing about the account.
pub async fn user_realm(
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<Value>, AadError> {
    let domain = user.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let tenant = match is_domain(domain) && !is_multi_tenant_alias(domain) {
        true => state.directory.tenant(&state.store, domain, None).await?,
        false => None,
    };
    Ok(Json(match tenant {
        Some(tenant) => json!({
            "ver": "1.0",
            "account_type": "Managed",
            "domain_name": tenant.domain,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_audience_urn": "urn:federation:MicrosoftOnline",
        }),
        None => json!({
            "ver": "1.0",
            "account_type": "Unknown",
            "cloud_instance_name": "microsoftonline.com",
        }),
    }))
}
