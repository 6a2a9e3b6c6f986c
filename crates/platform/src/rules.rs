//! Permission rules that more than one surface enforces: the Dataverse Web
//! API, the connections API and the portal ask the same questions, so they
//! get the same answers from here.

use padconnect_core::AccessRights;
use uuid::Uuid;

use crate::store::{Connection, MachineGroup, RecordRef, Store, StoreError, SystemUser};

/// The rights a systemuser holds on a group: all as its owner or as a tenant
/// administrator (System Administrator), else what sharing gave. A group's
/// machines share its rights.
pub async fn group_rights(
    store: &Store,
    user: &SystemUser,
    admin: bool,
    group: &MachineGroup,
) -> Result<AccessRights, StoreError> {
    if group.owner_id == user.id || admin {
        return Ok(AccessRights::all());
    }
    store
        .share_rights(RecordRef::MachineGroup(group.id), user.id)
        .await
}

/// Whether a systemuser may create machines and groups: the Environment
/// Maker role, or an administrator.
pub fn may_create(user: &SystemUser, admin: bool) -> bool {
    user.maker || admin
}

/// A principal's standing on a connection: `None` when it may not see it,
/// `Some(true)` when it may also change or delete it (owner, administrator,
/// `CanEdit`), `Some(false)` when it may only see it (`CanView`).
pub async fn connection_standing(
    store: &Store,
    object_id: Uuid,
    admin: bool,
    connection: &Connection,
) -> Result<Option<bool>, StoreError> {
    if admin || connection.created_by.id == object_id {
        return Ok(Some(true));
    }
    let role = store
        .connection_role(&connection.environment_id, &connection.id, object_id)
        .await?;
    Ok(role.map(|role| role == "CanEdit"))
}
