//! Key Vault and CyberArk credentials (Dataverse's `credential` table) that
//! a connection may name in `properties.credentialId`
//! (set-runowner-desktopflowconnection.md: "If you use a credential, it
//! needs to be shared with the service principal identity before creating
//! the connection"). The username and password of such a connection are
//! `@environmentVariables(...)` references (or `none`), resolved on the
//! machine, so only the credential's existence and sharing are checked.

use padconnect_core::AccessRights;
use uuid::Uuid;

use super::Refusal;
use crate::fleet::{Actor, TextColumn, UserOwned, record_rights, require_rights};
use crate::{Error, Record};
use padconnect_store::{Credential, RecordRef, Store, SystemUser};

/// powerapps-docs `reference/entities/credential.md`: `name` String,
/// MaxLength 100, ApplicationRequired.
pub const CREDENTIAL_NAME: TextColumn = TextColumn::required("credential", "name", 100);

/// The credential `id` of the writer's environment, if `user` may use it:
/// it owns it, or it was shared with at least the read right that the
/// portal's "User (can view only)" gives ("only gives permission to use the
/// credential", create-AzureKeyVault-credential.md).
pub async fn usable(store: &Store, user: &SystemUser, id: Uuid) -> Result<Credential, Error> {
    let credential = store
        .credential(id)
        .await?
        .filter(|c| c.environment_id == user.environment_id)
        .ok_or_else(|| Refusal::UnknownCredential {
            id: id.to_string(),
            environment: user.environment_id,
        })?;
    // Its owner's or a sharee's rights: a writer's administration of the
    // tenant is not asked (the writer's own standing, as `put` reads it).
    let writer = Actor::new(user, false);
    if record_rights(store, writer, &credential)
        .await?
        .contains(AccessRights::READ)
    {
        return Ok(credential);
    }
    Err(Refusal::CredentialNotShared { id: credential.id }.into())
}

impl UserOwned for Credential {
    fn record(&self) -> RecordRef {
        RecordRef::Credential(self.id)
    }

    fn owner(&self) -> Uuid {
        self.owner_id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// A credential of the actor's environment, whatever the actor may do with it.
pub async fn find(store: &Store, actor: Actor<'_>, id: Uuid) -> Result<Credential, Error> {
    store
        .credential(id)
        .await?
        .filter(|c| c.environment_id == actor.user.environment_id)
        .ok_or(Error::NotFound(Record {
            entity: "credential",
            id,
        }))
}

/// A credential the actor may read, or why not.
pub async fn read(store: &Store, actor: Actor<'_>, id: Uuid) -> Result<Credential, Error> {
    let credential = find(store, actor, id).await?;
    let record = Record {
        entity: "credential",
        id,
    };
    require_rights(store, actor, &credential, AccessRights::READ, record).await?;
    Ok(credential)
}

/// The credentials of the actor's environment that it may read.
pub async fn readable(store: &Store, actor: Actor<'_>) -> Result<Vec<Credential>, Error> {
    let mut out = Vec::new();
    for credential in store.credentials(&actor.user.environment_id).await? {
        if record_rights(store, actor, &credential)
            .await?
            .contains(AccessRights::READ)
        {
            out.push(credential);
        }
    }
    Ok(out)
}
