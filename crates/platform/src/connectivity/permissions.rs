//! `GET .../connections/{id}/permissions` and `POST .../modifyPermissions`
//! (whose rules are in `sharing`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::connections::{target, visible};
use super::context::ApiContext;
use super::{ApiError, service};
use crate::state::AppState;
use padconnect_domain::connections::sharing::{self, Grant};
use padconnect_store::{Connection, PrincipalType};

/// A principal as a permission names it. The Terraform provider's fixtures
/// (`get_connection_shares.json`) carry `displayName` and, for people,
/// `email`; its `GetConnectionShare` treats an empty `displayName` as "not
/// found", so every principal gets one.
struct Named {
    id: Uuid,
    kind: PrincipalType,
    display_name: String,
    email: Option<String>,
}

async fn named(state: &AppState, id: Uuid, kind: PrincipalType) -> Result<Named, ApiError> {
    let (display_name, email) = match kind {
        PrincipalType::ServicePrincipal => {
            let app = state.store.app_by_object_id(id).await?;
            (app.map(|a| a.display_name), None)
        }
        PrincipalType::User => {
            let user = state.store.user_by_object_id(id).await?;
            let email = user.as_ref().map(|u| u.upn.clone());
            (user.map(|u| u.display_name), email)
        }
    };
    Ok(Named {
        id,
        kind,
        // A principal the world no longer names is shown by its id.
        display_name: display_name.unwrap_or_else(|| id.to_string()),
        email,
    })
}

fn permission(connection: &Connection, principal: &Named, role: &str, tenant: Uuid) -> Value {
    let id = principal.id;
    let mut named = json!({
        "id": id,
        "type": principal.kind.as_str(),
        "tenantId": tenant,
        "displayName": principal.display_name,
    });
    if let Some(email) = &principal.email {
        named["email"] = json!(email);
    }
    json!({
        "name": id,
        "id": format!("{}/permissions/{id}", connection.id.resource_id(&connection.connector)),
        "type": "Microsoft.PowerApps/apis/connections/permissions",
        "properties": {
            "roleName": role,
            "principal": named,
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
    let owner = named(&state, owner.id, owner.kind).await?;
    let mut value = vec![permission(&connection, &owner, "Owner", tenant)];
    for shared in state
        .store
        .connection_permissions(&ctx.environment.id, &id)
        .await?
    {
        let principal = named(&state, shared.principal_id, shared.principal_type).await?;
        value.push(permission(
            &connection,
            &principal,
            &shared.role_name,
            tenant,
        ));
    }
    Ok(Json(json!({ "value": value })).into_response())
}

/// `POST .../modifyPermissions` with `{"put":[...],"delete":[...]}`: 200 and
/// an empty body, as the service answers.
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
    let grants = request["put"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let properties = &entry["properties"];
            let principal = &properties["principal"];
            Grant {
                principal_id: principal["id"]
                    .as_str()
                    .and_then(|id| Uuid::try_parse(id).ok()),
                principal_type: principal["type"].as_str().unwrap_or_default().to_owned(),
                role: properties["roleName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect();
    let revoked = request["delete"]
        .as_array()
        .into_iter()
        .flatten()
        .map(revoked_principal)
        .collect::<Result<Vec<_>, _>>()?;
    let connection = visible(&state, &ctx, &id).await?;
    let standing = service::standing(&state, &ctx, &connection).await?;
    sharing::change(
        &state.store,
        ctx.caller.tenant_id,
        standing,
        &connection,
        grants,
        revoked,
    )
    .await?;
    Ok(StatusCode::OK.into_response())
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
