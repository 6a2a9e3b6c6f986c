//! A machine joining and leaving a machine group.
//!
//! Rules, from the silent-registration and machine-group docs
//! (learn.microsoft.com, "Silent registration for machines" and "Manage
//! machine groups"): the first machine to join a group sets its password and
//! later ones must give the same; a group holds at most 50 machines; joining
//! breaks the connections that targeted the machine alone (its hidden
//! Default group is kept, empty, so their status says why); the Default
//! group of a standalone machine can't be joined. Adding or removing
//! machines takes Write access on the group (its owner or a Co-owner).

use padconnect_core::AccessRights;
use uuid::Uuid;

use super::{
    Actor, GROUP_PASSWORD_CHARS, MAX_MACHINES_PER_GROUP, Row, find_group, find_machine,
    hidden_group, require_rights,
};
use crate::secrets;
use crate::{Error, Membership};
use padconnect_store::{GroupType, MachineGroup, Store};

/// Moves a standalone machine into `group`, proving it knows the group's
/// password (or setting it, as the group's first machine). Joining the
/// group the machine is in already changes nothing.
pub async fn join(
    store: &Store,
    actor: Actor<'_>,
    machine: Uuid,
    group: Uuid,
    password: String,
) -> Result<(), Error> {
    let (machine, current) = find_machine(store, actor, machine).await?;
    if current.id == group {
        return Ok(());
    }
    let refuse = |why| Err(Error::Membership(why));
    if current.flowgrouptype != GroupType::Default {
        return refuse(Membership::AlreadyInGroup {
            machine: machine.name,
            group: current.name,
        });
    }
    require_rights(
        store,
        actor,
        &current,
        AccessRights::WRITE,
        Row::Machine(machine.id).record(),
    )
    .await?;
    let target = find_group(store, actor, group).await?;
    if target.flowgrouptype == GroupType::Default {
        return refuse(Membership::HiddenGroup {
            id: target.id,
            machine: target.name,
        });
    }
    require_rights(
        store,
        actor,
        &target,
        AccessRights::WRITE,
        Row::Group(target.id).record(),
    )
    .await?;
    let claimed_hash = check_password(&target, password).await?;

    let mut tx = store.begin().await?;
    if let Some(hash) = &claimed_hash
        && !tx.claim_group_password(target.id, hash).await?
    {
        return refuse(Membership::PasswordClaimed { group: target.name });
    }
    let (by, now) = (actor.user.id, store.now());
    let max = MAX_MACHINES_PER_GROUP;
    if !tx
        .move_machine(machine.id, current.id, target.id, max, by, now)
        .await?
    {
        drop(tx);
        let now_in = store.machine(machine.id).await?.map(|m| m.group_id);
        if now_in != Some(current.id) {
            return refuse(Membership::MovedMeanwhile {
                machine: machine.name,
            });
        }
        return refuse(Membership::GroupFull {
            group: target.name,
            max,
        });
    }
    tx.commit().await?;
    Ok(())
}

/// Checks the password against the group's, or, when the group has none
/// yet, returns the hash that will become its password.
async fn check_password(group: &MachineGroup, password: String) -> Result<Option<String>, Error> {
    let stored = group.password_hash.clone();
    let (min, max) = GROUP_PASSWORD_CHARS.into_inner();
    let refuse = |why| Err(Error::Membership(why));
    if password.chars().count() > max {
        return refuse(Membership::PasswordTooLong { max });
    }
    if stored.is_none() && password.chars().count() < min {
        let group = group.name.clone();
        return refuse(Membership::FirstPasswordTooShort { group, min });
    }
    let outcome = secrets::run_costly(move || match stored {
        None => Ok(Some(secrets::hash_password(&password))),
        Some(hash) if secrets::password_matches(&password, &hash) => Ok(None),
        Some(_) => Err(()),
    })
    .await
    .ok_or(Error::Internal("checking the group password"))?;
    outcome.or_else(|()| {
        refuse(Membership::WrongPassword {
            group: group.name.clone(),
        })
    })
}

/// Back to standalone: the machine gets a new hidden Default group, owned by
/// the machine's owner. Connections that targeted the group stay on it.
pub async fn leave(store: &Store, actor: Actor<'_>, machine: Uuid) -> Result<(), Error> {
    let (machine, current) = find_machine(store, actor, machine).await?;
    if current.flowgrouptype == GroupType::Default {
        return Err(Error::Membership(Membership::NotInGroup {
            machine: machine.name,
        }));
    }
    require_rights(
        store,
        actor,
        &current,
        AccessRights::WRITE,
        Row::Group(current.id).record(),
    )
    .await?;
    let now = store.now();
    let hidden = hidden_group(actor, machine.stamp.owner_id, &machine.name, now);
    let mut tx = store.begin().await?;
    tx.upsert_machine_group(&hidden).await?;
    // Dropping the transaction rolls the new group back too.
    if !tx
        .move_machine(machine.id, current.id, hidden.id, 1, actor.user.id, now)
        .await?
    {
        return Err(Error::Membership(Membership::MovedMeanwhile {
            machine: machine.name,
        }));
    }
    tx.commit().await?;
    Ok(())
}
