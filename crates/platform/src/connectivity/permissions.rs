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

use super::connections::{target, visible};
use super::context::ApiContext;
use super::{ApiError, service};
use crate::server::AppState;
use crate::store::{Connection, PrincipalType};

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
    if !service::may_edit(&state, &ctx, &connection).await? {
        return Err(ApiError::forbidden(format!(
            "Only the owner of connection '{id}' or an administrator may share it."
        )));
    }
    match ParameterSet::parse(&connection.parameter_set) {
        Some(ParameterSet::AzureRelayRunOwner) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ParameterSetNotSupported",
            "Sharing azureRelayRunOwner connections is not supported by this platform yet.",
        )),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ConnectionNotShareable",
            format!(
                "Connection '{id}' uses parameter set '{}', which cannot be shared: only azureRelayRunOwner connections can be shared, and only with service principals.",
                connection.parameter_set
            ),
        )),
    }
}
