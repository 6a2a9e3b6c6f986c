//! Sharing a connection: the rules of `modifyPermissions`, which the API
//! and the portal both apply.
//!
//! The run-owner document is specific: only `azureRelayRunOwner` connections
//! may be shared, and only with service principals; `azureRelay` ones never
//! (DESIGN.md 4.4). Owners, administrators and CanEdit holders share with
//! any role; CanViewWithShare holders as CanView or CanViewWithShare.

use axum::http::StatusCode;
use uuid::Uuid;

use super::ApiError;
use super::service::Standing;
use crate::state::AppState;
use crate::store::{Connection, ConnectionPermission, PrincipalType};

/// A principal to give a role, as the request named it.
pub struct Grant {
    pub principal_id: Option<Uuid>,
    /// `ServicePrincipal`, `User`, `Group`...
    pub principal_type: String,
    pub role: String,
}

/// Checks every grant and revocation, then writes them all in one
/// transaction: a bad entry changes nothing.
pub async fn change(
    state: &AppState,
    tenant_id: Uuid,
    standing: Option<Standing>,
    connection: &Connection,
    grants: Vec<Grant>,
    revoked: Vec<Uuid>,
) -> Result<(), ApiError> {
    let id = connection.id;
    if standing < Some(Standing::Share) {
        return Err(ApiError::forbidden(format!(
            "Only the owner of connection '{id}', a principal it was shared with as CanViewWithShare or CanEdit, or an administrator may share it."
        )));
    }
    if !connection.parameter_set.shareable() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ConnectionNotShareable",
            format!(
                "Connection '{id}' uses parameter set '{}', which cannot be shared: only azureRelayRunOwner connections can be shared, and only with service principals.",
                connection.parameter_set
            ),
        ));
    }
    let mut permissions = Vec::new();
    for grant in grants {
        let permission = checked(state, tenant_id, connection, grant).await?;
        if Standing::parse_role(&permission.role_name) > standing {
            return Err(ApiError::forbidden(
                "A principal with CanViewWithShare may share as CanView or CanViewWithShare, not CanEdit.",
            ));
        }
        permissions.push(permission);
    }
    let env = connection.environment_id;
    // Below CanEdit, a sharer changes no one who stands above it.
    if standing < Some(Standing::Edit) {
        let current = state.store.connection_permissions(&env, &id).await?;
        let above = |principal: Uuid| {
            current.iter().any(|p| {
                p.principal_id == principal && Standing::parse_role(&p.role_name) > standing
            })
        };
        if permissions
            .iter()
            .map(|p| p.principal_id)
            .chain(revoked.iter().copied())
            .any(above)
        {
            return Err(ApiError::forbidden(
                "A principal with CanViewWithShare cannot change or remove the access of one with CanEdit.",
            ));
        }
    }
    let mut tx = state.store.begin().await?;
    for permission in &permissions {
        tx.set_connection_permission(&env, &id, permission).await?;
    }
    for principal in revoked {
        tx.delete_connection_permission(&env, &id, principal)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn checked(
    state: &AppState,
    tenant_id: Uuid,
    connection: &Connection,
    grant: Grant,
) -> Result<ConnectionPermission, ApiError> {
    let bad = |code, message: String| ApiError::new(StatusCode::BAD_REQUEST, code, message);
    if Standing::parse_role(&grant.role).is_none() {
        return Err(bad(
            "InvalidRoleName",
            format!(
                "'{}' is not a sharing role: use CanView, CanViewWithShare or CanEdit.",
                grant.role
            ),
        ));
    }
    let object_id = grant.principal_id.ok_or_else(|| {
        bad(
            "InvalidPrincipal",
            "Sharing requires the principal's id: properties.principal.id, the service principal's object id.".into(),
        )
    })?;
    if grant.principal_type != PrincipalType::ServicePrincipal.as_str() {
        return Err(bad(
            "ConnectionNotShareable",
            "azureRelayRunOwner connections can be shared with service principals only: set properties.principal.type to ServicePrincipal.".into(),
        ));
    }
    if object_id == connection.created_by.id {
        return Err(bad(
            "InvalidPrincipal",
            format!("{object_id} owns the connection: it holds every right already."),
        ));
    }
    state
        .store
        .app_by_object_id(object_id)
        .await?
        .filter(|app| app.tenant_id == tenant_id)
        .ok_or_else(|| {
            bad(
                "PrincipalNotFound",
                format!(
                    "No service principal with object id {object_id} in this tenant: give the enterprise application's object id, not the app's client id."
                ),
            )
        })?;
    Ok(ConnectionPermission {
        principal_id: object_id,
        principal_type: PrincipalType::ServicePrincipal,
        role_name: grant.role,
    })
}
