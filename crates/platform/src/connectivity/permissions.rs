//! `GET .../connections/{id}/permissions` and `POST .../modifyPermissions`.
//!
//! The run-owner document is specific: only `azureRelayRunOwner` connections
//! may be shared, and only with service principals; `azureRelay` ones never
//! (DESIGN.md 4.4).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use padconnect_core::ParameterSet;
use serde_json::{Value, json};
use uuid::Uuid;

use super::connections::{target, visible};
use super::context::ApiContext;
use super::service::Standing;
use super::{ApiError, service};
use crate::server::AppState;
use crate::store::{Connection, ConnectionPermission, PrincipalType};

fn permission(
    connection: &Connection,
    principal: uuid::Uuid,
    kind: PrincipalType,
    role: &str,
    tenant: uuid::Uuid,
) -> Value {
    json!({
        "name": principal,
        "id": format!("{}/permissions/{principal}", connection.id.resource_id(&connection.connector)),
        "type": "Microsoft.PowerApps/apis/connections/permissions",
        "properties": {
            "roleName": role,
            "principal": { "id": principal, "type": kind.as_str(), "tenantId": tenant },
            "notifyShareTargetOption": "NotSpecified",
            "inviteGuestToTenant": false,
        }
    })
}

pub async fn list(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    ctx: ApiContext,
) -> Result<Response, ApiError> {
    let id = target(&params)?;
    let connection = visible(&state, &ctx, &id).await?;
    let tenant = ctx.caller.tenant_id;
    let owner = &connection.created_by;
    let mut value = vec![permission(
        &connection,
        owner.id,
        owner.kind,
        "Owner",
        tenant,
    )];
    for shared in state
        .store
        .connection_permissions(&ctx.environment.id, &id)
        .await?
    {
        value.push(permission(
            &connection,
            shared.principal_id,
            shared.principal_type,
            &shared.role_name,
            tenant,
        ));
    }
    Ok(Json(json!({ "value": value })).into_response())
}

/// `POST .../modifyPermissions` with `{"put":[...],"delete":[...]}`: 200 and
/// an empty body, as the service answers. Every entry is checked before
/// anything is written, so a bad entry changes nothing.
pub async fn modify(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    ctx: ApiContext,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = target(&params)?;
    let request: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid_content(format!("The request body is not valid JSON: {e}."))
    })?;
    if !request["put"].is_array() && !request["delete"].is_array() {
        return Err(ApiError::invalid_content(
            "The body must have 'put' and/or 'delete' lists.",
        ));
    }
    let connection = visible(&state, &ctx, &id).await?;
    let standing = service::standing(&state, &ctx, &connection).await?;
    if standing < Some(Standing::Share) {
        return Err(ApiError::forbidden(format!(
            "Only the owner of connection '{id}', a principal it was shared with as CanViewWithShare or CanEdit, or an administrator may share it."
        )));
    }
    if ParameterSet::parse(&connection.parameter_set) != Some(ParameterSet::AzureRelayRunOwner) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ConnectionNotShareable",
            format!(
                "Connection '{id}' uses parameter set '{}', which cannot be shared: only azureRelayRunOwner connections can be shared, and only with service principals.",
                connection.parameter_set
            ),
        ));
    }
    let mut grants = Vec::new();
    for entry in request["put"].as_array().into_iter().flatten() {
        let grant = shared_principal(&state, &ctx, &connection, entry).await?;
        if grant.role_name == "CanEdit" && standing < Some(Standing::Edit) {
            return Err(ApiError::forbidden(
                "A principal with CanViewWithShare may share as CanView or CanViewWithShare, not CanEdit.",
            ));
        }
        grants.push(grant);
    }
    let revoked = request["delete"]
        .as_array()
        .into_iter()
        .flatten()
        .map(revoked_principal)
        .collect::<Result<Vec<_>, _>>()?;

    let env = ctx.environment.id;
    let mut tx = state.store.begin().await?;
    for grant in &grants {
        tx.set_connection_permission(&env, &id, grant).await?;
    }
    for principal in revoked {
        tx.delete_connection_permission(&env, &id, principal)
            .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::OK.into_response())
}

/// One `put` entry: `{"properties":{"roleName":"CanView","principal":{"id":"<object id>","type":"ServicePrincipal"}}}`.
async fn shared_principal(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
    entry: &Value,
) -> Result<ConnectionPermission, ApiError> {
    let properties = &entry["properties"];
    let role = properties["roleName"].as_str().unwrap_or_default();
    if Standing::parse_role(role).is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRoleName",
            format!("'{role}' is not a sharing role: use CanView, CanViewWithShare or CanEdit."),
        ));
    }
    let principal = &properties["principal"];
    let object_id = principal["id"]
        .as_str()
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidPrincipal",
                "Sharing requires the principal's id: properties.principal.id, the service principal's object id.",
            )
        })?;
    if principal["type"].as_str() != Some(PrincipalType::ServicePrincipal.as_str()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ConnectionNotShareable",
            "azureRelayRunOwner connections can be shared with service principals only: set properties.principal.type to ServicePrincipal.",
        ));
    }
    if object_id == connection.created_by.id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPrincipal",
            format!("{object_id} owns the connection: it holds every right already."),
        ));
    }
    state
        .store
        .app_by_object_id(object_id)
        .await?
        .filter(|app| app.tenant_id == ctx.caller.tenant_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PrincipalNotFound",
                format!(
                    "No service principal with object id {object_id} in this tenant: give the enterprise application's object id, not the app's client id."
                ),
            )
        })?;
    Ok(ConnectionPermission {
        principal_id: object_id,
        principal_type: PrincipalType::ServicePrincipal,
        role_name: role.to_owned(),
    })
}

/// One `delete` entry: `{"id":".../permissions/<object id>"}` or the bare id.
fn revoked_principal(entry: &Value) -> Result<Uuid, ApiError> {
    let id = entry["id"].as_str().unwrap_or_default();
    let principal = id.rsplit('/').next().unwrap_or_default();
    Uuid::try_parse(principal).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPrincipal",
            format!(
                "'{id}' is not a permission id: use the 'id' of an entry of GET .../permissions."
            ),
        )
    })
}
