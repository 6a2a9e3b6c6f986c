//! Sharing a user-owned record (a machine group, and so its machines; a
//! credential) with a systemuser, as Dataverse's GrantAccess, ModifyAccess
//! and RevokeAccess do it and the portal's Share panel does through them.

use padconnect_core::AccessRights;

use super::{Actor, UserOwned, may_grant, record_rights};
use crate::{Error, Forbidden, Record};
use padconnect_store::{MachineGroup, Share, Store, SystemUser};

/// What a share does to the rights the principal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// GrantAccess: add these rights to those held.
    Grant(AccessRights),
    /// ModifyAccess: hold exactly these.
    Modify(AccessRights),
    /// RevokeAccess: hold no shared right.
    Revoke,
}

impl Change {
    fn given(self) -> AccessRights {
        match self {
            Self::Grant(rights) | Self::Modify(rights) => rights,
            Self::Revoke => AccessRights::empty(),
        }
    }
}

/// Why the portal's Share panel does not offer `user` on `group`; `None`
/// when it does. Its picker lists only those it offers, and its Save
/// refuses the others with this reason, which a stale or hand-made form can
/// still post.
///
/// It offers the environment's enabled users and application users other
/// than the group's owner, who holds every right already. Dataverse's
/// GrantAccess and ModifyAccess are not held to this: Microsoft documents
/// neither refusal. powerapps-docs `security-sharing-assigning.md` names
/// none; of a grant the grantee's role does not back, it says only that it
/// gives nothing ("the user is unable to see that account"). No error code
/// for either was found in its Web service error codes or in reports. So
/// [`share_record`] takes any systemuser of the environment (its callers
/// find the grantee there with `find_user`).
pub fn not_offered(user: &SystemUser, group: &MachineGroup) -> Option<&'static str> {
    if user.isdisabled {
        Some("This user is disabled: share with an enabled user or application user.")
    } else if user.id == group.stamp.owner_id {
        Some("The owner already holds every right on the group.")
    } else {
        None
    }
}

/// Dataverse's record-based sharing of any user-owned row with `grantee`,
/// a systemuser of the actor's environment: the actor needs ShareAccess and
/// gives only rights it holds itself.
pub async fn share_record(
    store: &Store,
    actor: Actor<'_>,
    owned: &(impl UserOwned + ?Sized),
    grantee: &SystemUser,
    change: Change,
) -> Result<(), Error> {
    let held = record_rights(store, actor, owned).await?;
    let record = owned.record();
    let name = owned.name().to_owned();
    let described = Record {
        entity: record.logical_name(),
        id: record.id(),
    };
    let given = change.given();
    let refusal = if !held.contains(AccessRights::SHARE) {
        Some(Forbidden::Rights {
            user: actor.user.id,
            missing: AccessRights::SHARE,
            record: described,
            group: name,
        })
    } else if !may_grant(held, given) {
        Some(Forbidden::Escalation {
            user: actor.user.id,
            missing: given - held,
            record: described,
            group: name,
        })
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Err(Error::Forbidden(refusal));
    }
    let share = Share {
        record,
        principal_id: grantee.id,
        rights: given,
    };
    let mut tx = store.begin().await?;
    match change {
        // Adds to what the grantee holds, in the store, not read first.
        Change::Grant(_) => tx.grant_share(&share).await?,
        Change::Modify(_) | Change::Revoke => tx.set_share(&share).await?,
    }
    tx.commit().await?;
    Ok(())
}
