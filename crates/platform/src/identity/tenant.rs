//! The tenant a request's path names: a GUID, or a verified domain.

use axum::http::StatusCode;
use uuid::Uuid;

use super::AadError;
use crate::server::AppState;
use crate::store::Tenant;

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
