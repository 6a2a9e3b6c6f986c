//! `GET /subscriptions` and `GET /tenants`, for a token with an ARM audience.
//! Shapes as azure-rest-api-specs' `Microsoft.Resources/stable/2022-12-01`
//! examples (`GetSubscriptions.json`, `GetTenants.json`); the Azure CLI reads
//! `id` (the subscription id is its last segment), `displayName`, `state`,
//! `tenantId` and `managedByTenants` (azure-cli-core `_profile.py`).
//!
//! The world declares a tenant's subscriptions; every principal of the
//! tenant sees them (the platform has no Azure role assignments).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::ArmError;
use super::query::ApiVersion;
use crate::auth::{Audience, Caller, verify_bearer};
use crate::state::{AppState, Verifier};
use axum::extract::FromRef;

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ArmError> {
    verify_bearer(&Verifier::from_ref(state), headers, Audience::Arm)
        .await
        .map_err(|failure| ArmError::unauthorized(&failure))
}

/// ARM's list shape: `{"value": [...]}`, one page (no `nextLink`).
fn list(value: impl IntoIterator<Item = Value>) -> Json<Value> {
    Json(json!({ "value": value.into_iter().collect::<Vec<_>>() }))
}

pub async fn subscriptions(
    State(state): State<AppState>,
    _version: ApiVersion,
    headers: HeaderMap,
) -> Result<Json<Value>, ArmError> {
    let caller = caller(&state, &headers).await?;
    let subscriptions = state.store.subscriptions(caller.tenant_id).await?;
    Ok(list(subscriptions.into_iter().map(|s| {
        json!({
            "id": format!("/subscriptions/{}", s.id),
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": s.id,
            "tenantId": s.tenant_id,
            "displayName": s.display_name,
            "state": s.state,
        })
    })))
}

pub async fn tenants(
    State(state): State<AppState>,
    _version: ApiVersion,
    headers: HeaderMap,
) -> Result<Json<Value>, ArmError> {
    let caller = caller(&state, &headers).await?;
    let tenant = state.store.tenant(caller.tenant_id).await?;
    Ok(list(tenant.into_iter().map(|t| {
        json!({
            "id": format!("/tenants/{}", t.id),
            "tenantId": t.id,
            "tenantCategory": "Home",
            "displayName": t.domain,
            "domains": [t.domain],
            "defaultDomain": t.domain,
            "tenantType": "AAD",
        })
    })))
}
