//! Connections: what a principal may do with one. The connections API and
//! the portal ask the same question, so they get the same answer here.

use uuid::Uuid;

use crate::store::{Connection, Store, StoreError};

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
pub async fn standing(
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
