//! Creating, renaming and deleting machine groups and machines, and setting
//! a group's password.
//!
//! A machine registered on its own is a standalone machine: it gets a hidden
//! group of type Default, as Power Automate makes one, and deleting the
//! machine deletes that group too. A group that still holds machines is not
//! deleted (the Restrict cascade of `flowmachinegroup_flowmachine`).

use padconnect_core::AccessRights;
use uuid::Uuid;

use super::{
    Actor, GROUP_DESCRIPTION, GROUP_NAME, GROUP_PASSWORD_CHARS, MACHINE_DESCRIPTION, MACHINE_NAME,
    TextColumn, find_group, find_machine, group_record, machine_record, require_rights,
};
use padconnect_core::uiflow::MAX_PASSWORD_CHARS;

use crate::secrets::{hash_password, run_costly};
use crate::{Conflict, Error, Invalid, Reason, Record};
use padconnect_store::{
    GroupType, Machine, MachineGroup, RenameTable, RowVersion, Store, Timestamp,
};

/// A row of the fleet's two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Group(Uuid),
    Machine(Uuid),
}

impl Row {
    pub(super) fn record(self) -> Record {
        match self {
            Self::Group(id) => Record {
                entity: GROUP_NAME.entity,
                id,
            },
            Self::Machine(id) => Record {
                entity: MACHINE_NAME.entity,
                id,
            },
        }
    }
}

/// Creates a standard machine group owned by the actor.
pub async fn create_group(
    store: &Store,
    actor: Actor<'_>,
    name: &str,
    description: &str,
) -> Result<MachineGroup, Error> {
    actor.require_create(GROUP_NAME.entity)?;
    let columns = (
        GROUP_NAME.check(name)?,
        GROUP_DESCRIPTION.check(description)?,
    );
    let group = group_record(
        Uuid::new_v4(),
        actor.user.environment_id,
        actor.user.id,
        columns,
        GroupType::Standard,
        store.now(),
    );
    let mut tx = store.begin().await?;
    tx.upsert_machine_group(&group).await?;
    tx.commit().await?;
    Ok(group)
}

/// Registers a standalone machine owned by the actor, in a hidden group of
/// its own; its name must be free in the environment.
pub async fn register_machine(
    store: &Store,
    actor: Actor<'_>,
    name: &str,
    description: &str,
) -> Result<Machine, Error> {
    actor.require_create(MACHINE_NAME.entity)?;
    let name = MACHINE_NAME.check(name)?;
    let description = MACHINE_DESCRIPTION.check(description)?;
    let env = actor.user.environment_id;
    if let Some(existing) = store.machine_named(&env, &name).await? {
        return Err(Error::Conflict(Conflict::NameTaken {
            entity: MACHINE_NAME.entity,
            name: existing.name,
        }));
    }
    let now = store.now();
    let hidden = hidden_group(actor, actor.user.id, &name, now);
    let machine = machine_record(Uuid::new_v4(), &hidden, (name, description), now);
    let mut tx = store.begin().await?;
    tx.upsert_machine_group(&hidden).await?;
    tx.upsert_machine(&machine).await?;
    tx.commit().await?;
    Ok(machine)
}

/// The hidden Default group of a standalone machine named `machine`, owned
/// by `owner` and made by the actor.
pub fn hidden_group(actor: Actor<'_>, owner: Uuid, machine: &str, now: Timestamp) -> MachineGroup {
    let mut group = group_record(
        Uuid::new_v4(),
        actor.user.environment_id,
        actor.user.id,
        (machine.to_owned(), String::new()),
        GroupType::Default,
        now,
    );
    group.stamp.owner_id = owner;
    group
}

/// Changes a row's name or description, or both (Write access); `expected`
/// is the version the caller read, if it says.
pub async fn rename(
    store: &Store,
    actor: Actor<'_>,
    row: Row,
    expected: Option<i64>,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(), Error> {
    let (group, version, current, columns) = match row {
        Row::Group(id) => {
            let group = find_group(store, actor, id).await?;
            let current = (group.name.clone(), group.description.clone());
            let version = (RenameTable::MachineGroups, group.stamp.versionnumber);
            (group, version, current, (GROUP_NAME, GROUP_DESCRIPTION))
        }
        Row::Machine(id) => {
            let (machine, group) = find_machine(store, actor, id).await?;
            let version = (RenameTable::Machines, machine.stamp.versionnumber);
            let current = (machine.name, machine.description);
            (group, version, current, (MACHINE_NAME, MACHINE_DESCRIPTION))
        }
    };
    require_rights(store, actor, &group, AccessRights::WRITE, row.record()).await?;
    let (table, version) = version;
    crate::require_version(expected, version)?;
    let checked = |column: TextColumn, value: Option<&str>, current: String| match value {
        Some(value) => column.check(value),
        None => Ok(current),
    };
    let name = checked(columns.0, name, current.0)?;
    let description = checked(columns.1, description, current.1)?;
    let record = row.record();
    let mut tx = store.begin().await?;
    let read = RowVersion {
        table,
        id: record.id,
        version,
    };
    if !tx
        .rename(read, &name, &description, actor.user.id, store.now())
        .await?
    {
        return Err(Error::Conflict(Conflict::ChangedMeanwhile(record)));
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a group that holds no machines, or a machine (a standalone
/// machine takes its hidden group along); Delete access.
pub async fn delete(store: &Store, actor: Actor<'_>, row: Row) -> Result<(), Error> {
    let (group, machine) = match row {
        Row::Group(id) => (find_group(store, actor, id).await?, None),
        Row::Machine(id) => {
            let (machine, group) = find_machine(store, actor, id).await?;
            (group, Some(machine))
        }
    };
    require_rights(store, actor, &group, AccessRights::DELETE, row.record()).await?;
    let mut tx = store.begin().await?;
    match machine {
        Some(machine) => {
            tx.delete_machine(machine.id).await?;
            if group.flowgrouptype == GroupType::Default {
                tx.delete_machine_group(group.id).await?;
            }
        }
        None if !tx.delete_machine_group(group.id).await? => {
            return Err(Error::Conflict(Conflict::NotEmpty { group: group.name }));
        }
        None => {}
    }
    tx.commit().await?;
    Ok(())
}

/// Sets or rotates a group's password (Write access). Only its Argon2 hash
/// is kept; machines joining the group prove they know it.
pub async fn set_password(
    store: &Store,
    actor: Actor<'_>,
    group: Uuid,
    password: String,
) -> Result<(), Error> {
    let group = find_group(store, actor, group).await?;
    let record = Row::Group(group.id).record();
    require_rights(store, actor, &group, AccessRights::WRITE, record).await?;
    let refuse = |reason| {
        Err(Error::Invalid(Invalid {
            entity: record.entity,
            field: "password",
            reason,
        }))
    };
    if group.flowgrouptype == GroupType::Default {
        return refuse(Reason::NotApplicable(
            "A standalone machine's own group has no password.",
        ));
    }
    if !GROUP_PASSWORD_CHARS.contains(&password.chars().count()) {
        let (min, max) = GROUP_PASSWORD_CHARS.into_inner();
        return refuse(Reason::Length { min, max });
    }
    let hash = run_costly(move || hash_password(&password))
        .await
        .ok_or(Error::Internal("hashing the group password"))?;
    let mut tx = store.begin().await?;
    tx.set_machine_group_password(group.id, &hash, actor.user.id, store.now())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives one of a machine's Windows accounts a new password (Write access on
/// its group), as an administrator does on the machine itself; connections
/// written with the old one then show that it changed.
pub async fn set_account_password(
    store: &Store,
    actor: Actor<'_>,
    machine: Uuid,
    username: &str,
    password: String,
) -> Result<(), Error> {
    let (machine, group) = find_machine(store, actor, machine).await?;
    let record = Row::Machine(machine.id).record();
    require_rights(store, actor, &group, AccessRights::WRITE, record).await?;
    let refuse = |field, reason| {
        Err(Error::Invalid(Invalid {
            entity: record.entity,
            field,
            reason,
        }))
    };
    if !(1..=MAX_PASSWORD_CHARS).contains(&password.chars().count()) {
        return refuse(
            "password",
            Reason::Length {
                min: 1,
                max: MAX_PASSWORD_CHARS,
            },
        );
    }
    let hash = run_costly(move || hash_password(&password))
        .await
        .ok_or(Error::Internal("hashing the account password"))?;
    let mut tx = store.begin().await?;
    if !tx.set_account_password(machine.id, username, &hash).await? {
        return refuse(
            "username",
            Reason::NotApplicable("The machine declares no such Windows account."),
        );
    }
    tx.commit().await?;
    Ok(())
}
