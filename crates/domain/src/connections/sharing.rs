//! Sharing a connection: the rules of `modifyPermissions`, which the API
//! and the portal both apply.
//!
//! The run-owner document is specific: only `azureRelayRunOwner` connections
//! may be shared, and only with service principals; `azureRelay` ones never
//! (docs/platform.md, "How the APIs behave"). Owners, administrators and CanEdit holders share with
//! any role; CanViewWithShare holders as CanView or CanViewWithShare.

use uuid::Uuid;

use super::Standing;
use crate::Error;
use padconnect_store::{Connection, ConnectionPermission, PrincipalType, Store};

/// A principal to give a role, as the request named it.
pub struct Grant {
    pub principal_id: Option<Uuid>,
    /// `ServicePrincipal`, `User`, `Group`...
    pub principal_type: String,
    pub role: String,
}

/// Why a change to a connection's sharing was refused; each surface picks
/// its status and code, the sentence is the same everywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "Only the owner of connection '{0}', a principal it was shared with as CanViewWithShare or CanEdit, or an administrator may share it."
    )]
    MayNotShare(String),
    #[error(
        "Connection '{id}' uses parameter set '{parameter_set}', which cannot be shared: only azureRelayRunOwner connections can be shared, and only with service principals."
    )]
    NotShareable { id: String, parameter_set: String },
    #[error("'{0}' is not a sharing role: use CanView, CanViewWithShare or CanEdit.")]
    UnknownRole(String),
    #[error(
        "Sharing requires the principal's id: properties.principal.id, the service principal's object id."
    )]
    NoPrincipal,
    #[error(
        "azureRelayRunOwner connections can be shared with service principals only: set properties.principal.type to ServicePrincipal."
    )]
    NotAServicePrincipal,
    #[error("{0} owns the connection: it holds every right already.")]
    Owner(Uuid),
    #[error(
        "No service principal with object id {0} in this tenant: give the enterprise application's object id, not the app's client id."
    )]
    UnknownPrincipal(Uuid),
    #[error(
        "A principal with CanViewWithShare may share as CanView or CanViewWithShare, not CanEdit."
    )]
    AboveOwnStanding,
    #[error(
        "A principal with CanViewWithShare cannot change or remove the access of one with CanEdit."
    )]
    ChangesSomeoneAbove,
}

impl Refusal {
    /// Whether it is about the sharer's rights (a 403), not the request.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            Self::MayNotShare(_) | Self::AboveOwnStanding | Self::ChangesSomeoneAbove
        )
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Self::Sharing(refusal)
    }
}

/// Whether a caller of `standing` may change who `connection` is shared
/// with at all: it needs CanViewWithShare or more, and the connection a
/// parameter set that can be shared. The portal asks it before it offers
/// the form; [`change`] before it changes anything.
pub fn may_share(standing: Option<Standing>, connection: &Connection) -> Result<(), Refusal> {
    if standing < Some(Standing::Share) {
        return Err(Refusal::MayNotShare(connection.id.to_string()));
    }
    if !connection.parameter_set.shareable() {
        return Err(Refusal::NotShareable {
            id: connection.id.to_string(),
            parameter_set: connection.parameter_set.to_string(),
        });
    }
    Ok(())
}

/// Checks every grant and revocation, then writes them all in one
/// transaction: a bad entry changes nothing.
pub async fn change(
    store: &Store,
    tenant_id: Uuid,
    standing: Option<Standing>,
    connection: &Connection,
    grants: Vec<Grant>,
    revoked: Vec<Uuid>,
) -> Result<(), Error> {
    let id = connection.id;
    may_share(standing, connection)?;
    let mut permissions = Vec::new();
    for grant in grants {
        let permission = checked(store, tenant_id, connection, grant).await?;
        if Standing::parse_role(&permission.role_name) > standing {
            return Err(Refusal::AboveOwnStanding.into());
        }
        permissions.push(permission);
    }
    let env = connection.environment_id;
    // Every change of the connection's sharing takes it first, so another
    // cannot slip in between this one's check and its writes.
    let mut tx = store.begin().await?;
    tx.lock_connection(&env, &id).await?;
    // Below CanEdit, a sharer changes no one who stands above it.
    if standing < Some(Standing::Edit) {
        let current = tx.connection_permissions(&env, &id).await?;
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
            return Err(Refusal::ChangesSomeoneAbove.into());
        }
    }
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
    store: &Store,
    tenant_id: Uuid,
    connection: &Connection,
    grant: Grant,
) -> Result<ConnectionPermission, Error> {
    if Standing::parse_role(&grant.role).is_none() {
        return Err(Refusal::UnknownRole(grant.role).into());
    }
    let object_id = grant.principal_id.ok_or(Refusal::NoPrincipal)?;
    if grant.principal_type != PrincipalType::ServicePrincipal.as_str() {
        return Err(Refusal::NotAServicePrincipal.into());
    }
    if object_id == connection.created_by.id {
        return Err(Refusal::Owner(object_id).into());
    }
    store
        .app_by_object_id(object_id)
        .await?
        .filter(|app| app.tenant_id == tenant_id)
        .ok_or(Refusal::UnknownPrincipal(object_id))?;
    Ok(ConnectionPermission {
        principal_id: object_id,
        principal_type: PrincipalType::ServicePrincipal,
        role_name: grant.role,
    })
}
