//! Connections: what a principal may do with one, which groups it may
//! target, and whether it can reach its target now. The connections API
//! and the portal ask the same questions, so they get the same answers here.

pub mod credentials;
pub mod pfx_limits;
pub mod run_owner;
pub mod sharing;
pub mod vault;
mod write;

pub(crate) use write::windows_credentials;
pub use write::{ConnectionRequest, Refusal, Writer, Written, put};

use padconnect_core::{AccessRights, EnvironmentId, GroupType, ShareRole};
use uuid::Uuid;

use padconnect_store::{Connection, Page, Store, StoreError, TargetFacts};

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
    standing_with(store, object_id, async || Ok(admin), connection).await
}

/// [`standing`], asking whether the principal administers the tenant only
/// when it does not own the connection: for a surface that has not asked
/// yet, that question costs a query the owner's requests need not make.
pub async fn standing_with<E: From<StoreError>>(
    store: &Store,
    object_id: Uuid,
    admin: impl AsyncFnOnce() -> Result<bool, E>,
    connection: &Connection,
) -> Result<Option<Standing>, E> {
    if connection.created_by.id == object_id || admin().await? {
        return Ok(Some(Standing::Edit));
    }
    let role = store
        .connection_role(&connection.environment_id, &connection.id, object_id)
        .await?;
    Ok(role.as_deref().and_then(Standing::parse_role))
}

/// One page of the connections a principal may see in an environment, in
/// id order after `after`: all of them for an administrator, else those it
/// created and those it was given a role on (the standings of
/// [`standing_with`]).
pub async fn visible_page(
    store: &Store,
    environment: &EnvironmentId,
    object_id: Uuid,
    admin: bool,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<Connection>, StoreError> {
    let viewer = (!admin).then_some(object_id);
    store
        .visible_connections_page(environment, viewer, after, limit)
        .await
}

/// Why a principal may not delete a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// It may not see it: for the principal it does not exist.
    Unseen,
    /// It may see it but not delete it.
    NotEditor,
}

/// Whether a principal whose [`standing`] on a connection is `standing`
/// may delete it: only [`Standing::Edit`] may (its owner, an editor or an
/// administrator).
pub fn may_delete(standing: Option<Standing>) -> Result<(), DeleteRefusal> {
    match standing {
        None => Err(DeleteRefusal::Unseen),
        Some(Standing::Edit) => Ok(()),
        Some(_) => Err(DeleteRefusal::NotEditor),
    }
}

/// Deletes `connection` for a principal whose [`standing`] on it is
/// `standing`, as [`may_delete`] allows. Every surface that deletes a
/// connection comes here.
pub async fn delete(
    store: &Store,
    connection: &Connection,
    standing: Option<Standing>,
) -> Result<Result<(), DeleteRefusal>, StoreError> {
    if let Err(refusal) = may_delete(standing) {
        return Ok(Err(refusal));
    }
    // A delete that another one beat to it still ends with the connection
    // gone, which is what was asked: it succeeds, as it did before.
    let mut tx = store.begin().await?;
    tx.delete_connection(&connection.environment_id, &connection.id)
        .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Whether a systemuser may point a connection at a group: it owns it, or
/// it was given at least the `user` role (read and append-to).
fn may_target(owns: bool, rights: AccessRights) -> bool {
    owns || rights.contains(ShareRole::User.rights())
}

/// Whether the connection can reach its target now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connected,
    /// `code` is one of [`MACHINE_GROUP_NOT_FOUND`], [`MACHINE_GROUP_ACCESS_REVOKED`],
    /// [`MACHINE_JOINED_GROUP`].
    Error {
        code: &'static str,
        message: String,
    },
}

/// The target machine group was deleted.
pub const MACHINE_GROUP_NOT_FOUND: &str = "MachineGroupNotFound";
/// The connection's owner no longer has access to the target group.
pub const MACHINE_GROUP_ACCESS_REVOKED: &str = "MachineGroupAccessRevoked";
/// The account the connection signs in with has another password now.
/// Guess, written down: no public source names the service's code for it.
pub const MACHINE_CREDENTIALS_CHANGED: &str = "MachineCredentialsChanged";
/// No machine of the target group answers. Guess, written down: no public
/// source names the service's code for it.
pub const MACHINE_OFFLINE: &str = "MachineOffline";
/// The standalone machine the connection targeted joined a machine group.
pub const MACHINE_JOINED_GROUP: &str = "MachineJoinedGroup";

pub async fn status(store: &Store, connection: &Connection) -> Result<Status, StoreError> {
    let facts = store.target_facts(connection).await?;
    Ok(status_of(connection, facts.as_ref()))
}

/// The status of `connection`, from the facts of its target as the store
/// read them (`None`: it has none, or the group is gone).
pub fn status_of(connection: &Connection, facts: Option<&TargetFacts>) -> Status {
    let Some(group_id) = connection.target_group_id else {
        return Status::Connected;
    };
    let Some(facts) = facts else {
        return Status::Error {
            code: MACHINE_GROUP_NOT_FOUND,
            message: format!(
                "The machine group {group_id} this connection targets no longer exists."
            ),
        };
    };
    let allowed = facts.creator_is_member && may_target(facts.creator_owns, facts.creator_rights);
    if !allowed {
        return Status::Error {
            code: MACHINE_GROUP_ACCESS_REVOKED,
            message: format!(
                "The connection's owner no longer has access to machine group '{}': share the group with it again.",
                facts.group_name
            ),
        };
    }
    if facts.flowgrouptype == GroupType::Default && !facts.has_machines {
        return Status::Error {
            code: MACHINE_JOINED_GROUP,
            message: format!(
                "The machine '{}' this connection targeted joined a machine group: target the group instead.",
                facts.group_name
            ),
        };
    }
    if !facts.credentials_current {
        return Status::Error {
            code: MACHINE_CREDENTIALS_CHANGED,
            message: "The Windows account's password changed on the machine since this connection was written: update the connection with the new password (padconnect connection update ID).".to_owned(),
        };
    }
    if facts.has_machines && !facts.has_online_machines {
        return Status::Error {
            code: MACHINE_OFFLINE,
            message: format!(
                "No machine of '{}' is online: start the machine, or check that Power Automate's machine runtime can reach the cloud.",
                facts.group_name
            ),
        };
    }
    Status::Connected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_edit_may_delete_and_the_unseen_is_not_told_it_exists() {
        let cases = [
            (None, Err(DeleteRefusal::Unseen)),
            (Some(Standing::View), Err(DeleteRefusal::NotEditor)),
            (Some(Standing::Share), Err(DeleteRefusal::NotEditor)),
            (Some(Standing::Edit), Ok(())),
        ];
        for (standing, expected) in cases {
            assert_eq!(may_delete(standing), expected, "{standing:?}");
        }
    }

    #[test]
    fn a_group_is_targeted_by_its_owner_or_a_holder_of_the_user_role() {
        let user = ShareRole::User.rights();
        let cases = [
            (true, AccessRights::empty(), true),
            (false, AccessRights::empty(), false),
            (false, AccessRights::READ, false),
            (false, user, true),
            (false, ShareRole::CoOwner.rights(), true),
        ];
        for (owns, rights, expected) in cases {
            assert_eq!(may_target(owns, rights), expected, "{owns} {rights:?}");
        }
    }
}
