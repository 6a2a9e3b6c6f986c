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

/// A machine group's password: set by its first machine or in the portal.
pub const GROUP_PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=256;

/// Whether a principal holding `held` on a record may give `granted` to
/// someone: it needs ShareAccess, and gives only rights it holds itself
/// (owners and administrators hold them all), so sharing never raises
/// anyone, the sharer included, above the sharer.
pub fn may_grant(held: AccessRights, granted: AccessRights) -> bool {
    held.contains(AccessRights::SHARE) && held.contains(granted)
}

/// Whether a systemuser may create machines and groups: the Environment
/// Maker role, or an administrator.
pub fn may_create(user: &SystemUser, admin: bool) -> bool {
    user.maker || admin
}

/// What a principal may do with a connection, from least to most. The
/// owner and the tenant's administrators hold [`Standing::Edit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// CanView: see and use it.
    View,
    /// CanViewWithShare: also share it on, as CanView or CanViewWithShare.
    Share,
    /// CanEdit: also change, share and delete it.
    Edit,
}

impl Standing {
    /// A sharing role's name as the API writes it.
    pub fn parse_role(role: &str) -> Option<Self> {
        match role {
            "CanView" => Some(Self::View),
            "CanViewWithShare" => Some(Self::Share),
            "CanEdit" => Some(Self::Edit),
            _ => None,
        }
    }
}

/// A principal's standing on a connection; `None` when it may not see it.
pub async fn connection_standing(
    store: &Store,
    object_id: Uuid,
    admin: bool,
    connection: &Connection,
) -> Result<Option<Standing>, StoreError> {
    if admin || connection.created_by.id == object_id {
        return Ok(Some(Standing::Edit));
    }
    let role = store
        .connection_role(&connection.environment_id, &connection.id, object_id)
        .await?;
    Ok(role.as_deref().and_then(Standing::parse_role))
}
