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
use crate::domain::Error;
use crate::domain::fleet::TextColumn;
use crate::store::{Credential, RecordRef, Store, SystemUser};

/// powerapps-docs `reference/entities/credential.md`: `name` String,
/// MaxLength 100, ApplicationRequired.
pub const CREDENTIAL_NAME: TextColumn = TextColumn {
    entity: "credential",
    field: "name",
    max: 100,
    required: true,
};

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
    if credential.owner_id == user.id {
        return Ok(credential);
    }
    let rights = store
        .share_rights(RecordRef::Credential(credential.id), user.id)
        .await?;
    if rights.contains(AccessRights::READ) {
        return Ok(credential);
    }
    Err(Refusal::CredentialNotShared {
        name: credential.name,
        id: credential.id,
    }
    .into())
}
