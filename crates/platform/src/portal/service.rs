//! The portal's rules, with the same answers the APIs give: what a user sees
//! of machines, groups and connections, and what they may change. Handlers
//! call these and render; nothing here knows about HTML.

use padconnect_core::{AccessRights, ConnectionId, ShareRole};
use uuid::Uuid;

use super::PortalError;
use super::context::Actor;
use crate::state::AppState;
use padconnect_domain::connections::{self, DeleteRefusal, Standing, Status, sharing};
use padconnect_domain::fleet;
use padconnect_domain::{Error, Forbidden};
use padconnect_store::{
    Connection, GroupType, Machine, MachineGroup, RecordRef, SystemUser, Timestamp,
};

/// A machine that has not called in for this long shows as disconnected.
const HEARTBEAT_WINDOW_SECS: i64 = 10 * 60;

/// A group the actor may read, with the rights they hold on it.
pub struct VisibleGroup {
    pub group: MachineGroup,
    pub rights: AccessRights,
    pub machines: Vec<Machine>,
}

/// Every group of the environment the actor may read
/// ([`fleet::readable_groups`]), hidden standalone groups included, each
/// with its machines.
pub async fn visible_groups(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<VisibleGroup>, PortalError> {
    let mut visible = Vec::new();
    for (group, rights) in fleet::readable_groups(&state.store, actor.member.actor()).await? {
        visible.push(with_machines(state, group, rights).await?);
    }
    Ok(visible)
}

/// One group of this environment that the actor may read
/// ([`fleet::read_group`]); one it may not read does not exist for it, as
/// lists leave it out.
pub async fn group(state: &AppState, actor: &Actor, id: Uuid) -> Result<VisibleGroup, PortalError> {
    let (group, rights) = fleet::read_group(&state.store, actor.member.actor(), id)
        .await
        .map_err(unseen_as_missing)?;
    with_machines(state, group, rights).await
}

/// A machine of this environment the actor may read (through its group).
pub async fn machine(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Machine, VisibleGroup), PortalError> {
    let (machine, group, rights) = fleet::read_machine(&state.store, actor.member.actor(), id)
        .await
        .map_err(unseen_as_missing)?;
    Ok((machine, with_machines(state, group, rights).await?))
}

/// A record the actor may not read, worded as one that is not there.
fn unseen_as_missing(error: Error) -> Error {
    match error {
        Error::Forbidden(Forbidden::Rights { record, .. }) => Error::NotFound(record),
        other => other,
    }
}

async fn with_machines(
    state: &AppState,
    group: MachineGroup,
    rights: AccessRights,
) -> Result<VisibleGroup, PortalError> {
    let machines = state.store.machines_in_group(group.id).await?;
    Ok(VisibleGroup {
        group,
        rights,
        machines,
    })
}

/// Creates a standard machine group owned by the actor (Environment Maker
/// role or administrator, as for Dataverse's POST). The rule's refusal is
/// kept as it is, so the form can show it beside the field it names.
pub async fn create_group(
    state: &AppState,
    actor: &Actor,
    name: &str,
    description: &str,
) -> Result<MachineGroup, Error> {
    fleet::create_group(&state.store, actor.member.actor(), name, description).await
}

/// Who holds what on a group: the owner first, then each share.
pub struct Access {
    pub user: SystemUser,
    pub owner: bool,
    /// The role the shared rights amount to (`None` for the owner, or for
    /// rights given through the API that match no role).
    pub role: Option<ShareRole>,
    pub rights: AccessRights,
}

pub async fn access_list(
    state: &AppState,
    group: &MachineGroup,
) -> Result<Vec<Access>, PortalError> {
    let mut list = Vec::new();
    if let Some(owner) = state.store.system_user(group.stamp.owner_id).await? {
        list.push(Access {
            user: owner,
            owner: true,
            role: None,
            rights: AccessRights::all(),
        });
    }
    for share in state
        .store
        .shares_of(RecordRef::MachineGroup(group.id))
        .await?
    {
        if let Some(user) = state.store.system_user(share.principal_id).await? {
            list.push(Access {
                user,
                owner: false,
                role: ShareRole::from_rights(share.rights),
                rights: share.rights,
            });
        }
    }
    Ok(list)
}

/// The users and application users the Share panel offers on `group`
/// (`fleet::not_offered`) whose name, UPN or application id contains
/// `query` (any case); all of them for an empty query.
pub async fn offered_principals(
    state: &AppState,
    actor: &Actor,
    group: &MachineGroup,
    query: &str,
) -> Result<Vec<SystemUser>, PortalError> {
    let needle = query.trim().to_lowercase();
    let users = state
        .store
        .system_users(&actor.member.environment.id)
        .await?;
    Ok(users
        .into_iter()
        .filter(|u| fleet::not_offered(u, group).is_none())
        .filter(|u| {
            let application = match u.kind {
                padconnect_store::SystemUserKind::Application { client_id } => {
                    client_id.to_string()
                }
                padconnect_store::SystemUserKind::Person { .. } => String::new(),
            };
            needle.is_empty()
                || u.fullname.to_lowercase().contains(&needle)
                || u.domainname.to_lowercase().contains(&needle)
                || application.contains(&needle)
        })
        .take(50)
        .collect())
}

/// Gives `principal` exactly `role` on the group, as the Share panel's Save
/// does (Dataverse ModifyAccess), if the panel offers it (`fleet::not_offered`).
pub async fn share(
    state: &AppState,
    actor: &Actor,
    visible: &VisibleGroup,
    principal: Uuid,
    role: ShareRole,
) -> Result<SystemUser, PortalError> {
    let store = &state.store;
    let grantee = fleet::find_user(store, actor.member.actor(), principal).await?;
    if let Some(why) = fleet::not_offered(&grantee, &visible.group) {
        return Err(PortalError::bad_request(why));
    }
    let change = fleet::Change::Modify(role.rights());
    fleet::share_record(
        store,
        actor.member.actor(),
        &visible.group,
        &grantee,
        change,
    )
    .await?;
    Ok(grantee)
}

/// Takes every shared right on the group from `principal` (RevokeAccess).
/// A disabled user's access can be removed too (its row stays listed).
pub async fn unshare(
    state: &AppState,
    actor: &Actor,
    visible: &VisibleGroup,
    principal: Uuid,
) -> Result<(), PortalError> {
    let store = &state.store;
    let revokee = fleet::find_user(store, actor.member.actor(), principal).await?;
    fleet::share_record(
        store,
        actor.member.actor(),
        &visible.group,
        &revokee,
        fleet::Change::Revoke,
    )
    .await?;
    Ok(())
}

/// What the machines list shows as a machine's status.
pub fn machine_status(machine: &Machine, now: Timestamp) -> &'static str {
    match machine.lastheartbeatdate {
        None => "Never connected",
        Some(at) if at.plus_seconds(HEARTBEAT_WINDOW_SECS) >= now => "Connected",
        Some(_) => "Disconnected",
    }
}

/// The group type as the portal names it.
pub fn group_type_name(kind: GroupType) -> &'static str {
    match kind {
        GroupType::Default => "Default (standalone machine)",
        other => other.label(),
    }
}

/// A connection the actor may see, with what the list shows of it.
pub struct VisibleConnection {
    pub connection: Connection,
    pub status: Status,
    pub target: Option<MachineGroup>,
    /// What the actor may do with it; `None`: they may not see it.
    pub standing: Option<Standing>,
    /// Whether the actor may delete it.
    pub editable: bool,
    /// Whether the actor may share it: only run-owner connections can be
    /// shared (with service principals), by those who may share them.
    pub shareable: bool,
}

/// The environment's connections the actor may see: their own, those shared
/// with them, or all of them for an administrator (as the API lists them).
pub async fn visible_connections(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<VisibleConnection>, PortalError> {
    let (env, viewer) = (&actor.member.environment.id, actor.object_id);
    let mut after: Option<String> = None;
    let mut shown = Vec::new();
    loop {
        let page = connections::visible_page(
            &state.store,
            env,
            viewer,
            actor.member.admin,
            after.as_deref(),
            200,
        )
        .await?;
        for connection in page.items {
            shown.push(describe(state, actor, connection).await?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(shown),
        }
    }
}

async fn describe(
    state: &AppState,
    actor: &Actor,
    connection: Connection,
) -> Result<VisibleConnection, PortalError> {
    let status = connections::status(&state.store, &connection).await?;
    let target = match connection.target_group_id {
        Some(id) => state.store.machine_group(id).await?,
        None => None,
    };
    let standing = connections::standing(
        &state.store,
        actor.object_id,
        actor.member.admin,
        &connection,
    )
    .await?;
    Ok(VisibleConnection {
        editable: standing == Some(Standing::Edit),
        shareable: sharing::may_share(standing, &connection).is_ok(),
        standing,
        connection,
        status,
        target,
    })
}

/// A connection the actor may delete ([`connections::may_delete`]); one
/// the actor cannot see does not exist for them.
pub async fn deletable_connection(
    state: &AppState,
    actor: &Actor,
    id: &ConnectionId,
) -> Result<VisibleConnection, PortalError> {
    let connection = state
        .store
        .connection(&actor.member.environment.id, id)
        .await?
        .ok_or_else(|| deletion_refused(id, DeleteRefusal::Unseen))?;
    let visible = describe(state, actor, connection).await?;
    connections::may_delete(visible.standing).map_err(|refusal| deletion_refused(id, refusal))?;
    Ok(visible)
}

/// Deletes a connection [`deletable_connection`] allows.
pub async fn delete_connection(
    state: &AppState,
    actor: &Actor,
    id: &ConnectionId,
) -> Result<Connection, PortalError> {
    let visible = deletable_connection(state, actor, id).await?;
    connections::delete(&state.store, &visible.connection, visible.standing)
        .await?
        .map_err(|refusal| deletion_refused(id, refusal))?;
    Ok(visible.connection)
}

/// The portal's words for [`DeleteRefusal`].
fn deletion_refused(id: &ConnectionId, refusal: DeleteRefusal) -> PortalError {
    match refusal {
        DeleteRefusal::Unseen => {
            PortalError::not_found(format!("There is no connection {id} that you can see."))
        }
        DeleteRefusal::NotEditor => PortalError::forbidden(
            "Only the connection's owner, an editor or an administrator may delete it.",
        ),
    }
}
