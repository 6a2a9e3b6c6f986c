//! Machines and machine groups: who may do what with them, and every change
//! to them. The Dataverse Web API, the portal and the world loader call
//! these functions; each surface only parses, calls and words the answer.
//!
//! Rights follow Dataverse's record-based security: a group's owner and the
//! tenant's administrators (System Administrator) hold every right, others
//! what sharing gave them, and a machine has its group's rights. Creating
//! takes the Environment Maker role (powerapps-docs, "Manage machine
//! groups" and "Share machines and machine groups").

mod columns;
mod groups;
mod membership;
mod sharing;

use std::ops::RangeInclusive;

use padconnect_core::{AccessRights, EnvironmentId, GroupType};
use uuid::Uuid;

pub use self::columns::{
    GROUP_DESCRIPTION, GROUP_NAME, MACHINE_DESCRIPTION, MACHINE_NAME, TextColumn,
};
pub use self::groups::{
    Row, create_group, delete, hidden_group, register_machine, rename, set_account_password,
    set_password,
};
pub use self::membership::{join, leave};
pub use self::sharing::{Change, not_offered, share_record};
use super::{Error, Forbidden, Privilege, Record, Scope};
use padconnect_store::{
    Environment, Machine, MachineGroup, RecordRef, RecordStamp, Store, StoreError, SystemUser,
    Timestamp,
};

/// A group holds at most this many machines ("Manage machine groups":
/// "You can add up to 50 machines to a group").
pub const MAX_MACHINES_PER_GROUP: usize = 50;

/// A machine group's password: set by its first machine or in the portal.
pub const GROUP_PASSWORD_CHARS: RangeInclusive<usize> = 8..=256;

/// Who acts: a systemuser of the environment the change is made in, and
/// whether it is a Power Platform administrator of the tenant.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a SystemUser,
    pub admin: bool,
}

impl<'a> Actor<'a> {
    /// `user`, with every right when `admin` (a tenant administrator).
    pub fn new(user: &'a SystemUser, admin: bool) -> Self {
        Self { user, admin }
    }

    /// The actor at work in `environment` (its own) on `store`.
    pub fn scope(self, store: &'a Store, environment: &'a Environment) -> Scope<'a> {
        Scope {
            store,
            actor: self,
            environment,
        }
    }

    /// Whether it may create machines and groups: the Environment Maker
    /// role, or an administrator.
    pub fn may_create(&self) -> bool {
        self.user.maker || self.admin
    }

    fn require_create(&self, entity: &'static str) -> Result<(), Error> {
        match self.may_create() {
            true => Ok(()),
            false => Err(Error::Forbidden(Forbidden::Privilege {
                user: self.user.id,
                privilege: Privilege::Create(entity),
            })),
        }
    }
}

/// A user-owned Dataverse record (a machine group, a credential): the
/// rights on it are its owner's, the administrators' and what sharing gave
/// ([`record_rights`]), and it is shared alike ([`share_record`]).
pub trait UserOwned: Sync {
    /// What its shares are kept under.
    fn record(&self) -> RecordRef;
    /// Its owner's systemuser.
    fn owner(&self) -> Uuid;
    /// Its primary name, for a refusal.
    fn name(&self) -> &str;
}

impl UserOwned for MachineGroup {
    fn record(&self) -> RecordRef {
        RecordRef::MachineGroup(self.id)
    }

    fn owner(&self) -> Uuid {
        self.stamp.owner_id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The rights a systemuser holds on a user-owned record: all of them for
/// its owner and the tenant's administrators (System Administrator), else
/// what sharing gave. A machine has its group's.
pub async fn record_rights(
    store: &Store,
    actor: Actor<'_>,
    owned: &(impl UserOwned + ?Sized),
) -> Result<AccessRights, StoreError> {
    if owned.owner() == actor.user.id || actor.admin {
        return Ok(AccessRights::all());
    }
    store.share_rights(owned.record(), actor.user.id).await
}

/// Whether a principal holding `held` on a record may give `granted` to
/// someone: it needs ShareAccess, and gives only rights it holds itself
/// (owners and administrators hold them all), so sharing never raises
/// anyone, the sharer included, above the sharer.
pub fn may_grant(held: AccessRights, granted: AccessRights) -> bool {
    held.contains(AccessRights::SHARE) && held.contains(granted)
}

/// A group of the actor's environment, whatever the actor may do with it.
pub async fn find_group(store: &Store, actor: Actor<'_>, id: Uuid) -> Result<MachineGroup, Error> {
    let found = store.machine_group(id).await?;
    in_environment(actor, found, |g| g.environment_id, "flowmachinegroup", id)
}

/// `found` if it belongs to the actor's environment, else `NotFound`.
fn in_environment<T>(
    actor: Actor<'_>,
    found: Option<T>,
    environment_of: impl Fn(&T) -> EnvironmentId,
    entity: &'static str,
    id: Uuid,
) -> Result<T, Error> {
    found
        .filter(|row| environment_of(row) == actor.user.environment_id)
        .ok_or(Error::NotFound(Record { entity, id }))
}

/// A systemuser of the actor's environment.
pub async fn find_user(store: &Store, actor: Actor<'_>, id: Uuid) -> Result<SystemUser, Error> {
    let found = store.system_user(id).await?;
    in_environment(actor, found, |u| u.environment_id, "systemuser", id)
}

/// A machine of the actor's environment and the group that holds its rights.
pub async fn find_machine(
    store: &Store,
    actor: Actor<'_>,
    id: Uuid,
) -> Result<(Machine, MachineGroup), Error> {
    let found = store.machine(id).await?;
    let machine = in_environment(actor, found, |m| m.environment_id, "flowmachine", id)?;
    let group = store.machine_group(machine.group_id).await?;
    // A machine whose group is gone (or elsewhere) is not found either.
    let group = in_environment(actor, group, |g| g.environment_id, "flowmachine", id)?;
    Ok((machine, group))
}

/// The groups of the actor's environment it may read, each with the rights
/// it holds: every list of groups or machines shows only these, as a
/// Dataverse RetrieveMultiple returns only the rows the caller may read
/// ("Security concepts in Dataverse", record-level access).
pub async fn readable_groups(
    store: &Store,
    actor: Actor<'_>,
) -> Result<Vec<(MachineGroup, AccessRights)>, StoreError> {
    let mut readable = Vec::new();
    for group in store.machine_groups(&actor.user.environment_id).await? {
        let rights = record_rights(store, actor, &group).await?;
        if rights.contains(AccessRights::READ) {
            readable.push((group, rights));
        }
    }
    Ok(readable)
}

/// A group of the actor's environment that it may read, with the rights it
/// holds: `NotFound` elsewhere, `Forbidden` (ReadAccess) when it may not
/// read it. A surface that hides what may not be read words both alike.
pub async fn read_group(
    store: &Store,
    actor: Actor<'_>,
    id: Uuid,
) -> Result<(MachineGroup, AccessRights), Error> {
    let group = find_group(store, actor, id).await?;
    let rights = require_read(store, actor, &group, "flowmachinegroup", id).await?;
    Ok((group, rights))
}

/// A machine the actor may read (through its group), its group and the
/// rights held there, as [`read_group`] answers for a group.
pub async fn read_machine(
    store: &Store,
    actor: Actor<'_>,
    id: Uuid,
) -> Result<(Machine, MachineGroup, AccessRights), Error> {
    let (machine, group) = find_machine(store, actor, id).await?;
    let rights = require_read(store, actor, &group, "flowmachine", id).await?;
    Ok((machine, group, rights))
}

/// [`require_rights`] for ReadAccess on `group`, asked for as record `id`
/// of `entity` (the group, or one of its machines).
async fn require_read(
    store: &Store,
    actor: Actor<'_>,
    group: &MachineGroup,
    entity: &'static str,
    id: Uuid,
) -> Result<AccessRights, Error> {
    let record = Record { entity, id };
    require_rights(store, actor, group, AccessRights::READ, record).await
}

/// Refuses unless the actor holds `needed` on `owned`; `record` is what was
/// asked for (the group, one of its machines, or a credential).
pub async fn require_rights(
    store: &Store,
    actor: Actor<'_>,
    owned: &(impl UserOwned + ?Sized),
    needed: AccessRights,
    record: Record,
) -> Result<AccessRights, Error> {
    let held = record_rights(store, actor, owned).await?;
    if held.contains(needed) {
        return Ok(held);
    }
    Err(Error::Forbidden(Forbidden::Rights {
        user: actor.user.id,
        missing: needed - held,
        record,
        group: owned.name().to_owned(),
    }))
}

/// A new group's row, version 1, owned and made by `owner`.
pub fn group_record(
    id: Uuid,
    environment_id: EnvironmentId,
    owner: Uuid,
    (name, description): (String, String),
    flowgrouptype: GroupType,
    now: Timestamp,
) -> MachineGroup {
    MachineGroup {
        id,
        environment_id,
        name,
        description,
        flowgrouptype,
        statecode: 0,
        statuscode: 1,
        password_hash: None,
        stamp: RecordStamp::new(owner, now),
    }
}

/// A new machine's row in `group`, version 1, owned by the group's owner.
pub fn machine_record(
    id: Uuid,
    group: &MachineGroup,
    (name, description): (String, String),
    now: Timestamp,
) -> Machine {
    Machine {
        id,
        environment_id: group.environment_id,
        group_id: group.id,
        name,
        description,
        agentversion: None,
        lastheartbeatdate: None,
        statecode: 0,
        statuscode: 1,
        stamp: RecordStamp::new(group.stamp.owner_id, now),
    }
}
