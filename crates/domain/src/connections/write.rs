//! Writing a connection: who may create one to which machine group, with
//! which Windows account, and who may change it afterwards. The connections
//! API parses the PUT and calls [`put`]; the rules are here.

use padconnect_core::{AccessRights, ConnectionId, ConnectorName, EnvironmentId, ParameterSet};
use serde_json::json;
use uuid::Uuid;

use super::run_owner::{self, RunOwner};
use super::{Standing, Status, credentials, may_target, standing, status, status_of, vault};
use crate::Error;
use crate::keyring::KeyRing;
use padconnect_store::{
    Connection, Principal, Store, StoreError, SystemUser, TargetFacts, Timestamp, WriterTarget,
};

/// What a PUT asks for, once its body checked out.
pub struct ConnectionRequest {
    pub display_name: Option<String>,
    pub set: ParameterSet,
    pub username: String,
    pub password: String,
    pub target: Uuid,
    /// `properties.credentialId`: a Key Vault or CyberArk credential.
    pub credential: Option<Uuid>,
    /// For `azureRelayRunOwner`: the app that runs the flows, and its PFX.
    pub run_owner: Option<RunOwner>,
}

/// Who writes: its systemuser in the environment (`None`: it has none) and
/// how the connection will name it as its creator.
pub struct Writer<'a> {
    pub tenant_id: Uuid,
    pub environment: EnvironmentId,
    pub user: Option<&'a SystemUser>,
    pub principal: Principal,
}

/// Why a write was refused; each surface picks its status and code, the
/// sentence is the same everywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "The caller has no user in environment '{0}': a service principal needs an application user there (Power Platform admin center > Environment > Settings > Application users)."
    )]
    NoUser(EnvironmentId),
    #[error(
        "The targetId '{target}' is not a machine group of environment '{environment}': use the group id from Monitor > Machines, or the flowmachinegroupid of a machine's group."
    )]
    UnknownTarget {
        target: String,
        environment: EnvironmentId,
    },
    /// Named by the id the caller sent, never by its name: a caller
    /// without access must not learn what the group is called.
    #[error(
        "The caller has no access to machine group '{id}': share it with the caller as User (Machines > Share) first."
    )]
    TargetNotShared { id: Uuid },
    #[error(
        "The credentialId '{id}' is not a credential of environment '{environment}': use the id from the Credential column of Data > Tables > Credential."
    )]
    UnknownCredential {
        id: String,
        environment: EnvironmentId,
    },
    /// Named by the id the caller sent, as [`Refusal::TargetNotShared`].
    #[error(
        "The caller has no access to credential '{id}': a credential must be shared with the service principal before a connection uses it (Credentials > Share)."
    )]
    CredentialNotShared { id: Uuid },
    #[error(
        "Connection '{0}' exists and belongs to another principal: choose a new connection id."
    )]
    OwnedByAnother(ConnectionId),
    /// The run-owner document: "the run owner cannot be removed". Nor is a
    /// plain connection turned into a run-owner one in place: both would
    /// change who the flows run as under the feet of those it was shared with.
    #[error(
        "Connection '{id}' uses parameter set '{stored}'; an update cannot change it to '{given}' (a run owner cannot be removed): create a new connection instead."
    )]
    ParameterSetChange {
        id: ConnectionId,
        stored: ParameterSet,
        given: ParameterSet,
    },
    #[error(
        "Connection '{0}' was deleted while it was being updated: send the PUT again to create it."
    )]
    DeletedDuringUpdate(ConnectionId),
    /// A run-owner value that cannot be what the service needs.
    #[error("The value of '{parameter}' is invalid: {why}")]
    RunOwner {
        parameter: &'static str,
        why: String,
    },
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Self::Connection(refusal)
    }
}

/// A connection as a PUT left it.
pub struct Written {
    pub connection: Connection,
    /// It was created, not updated.
    pub created: bool,
    /// Its status as the answer shows it.
    pub status: Status,
}

/// Creates or updates connection `id`. The
/// checks run in this order, so a request wrong twice gets the first:
/// the writer's user, the target, its access to it, the credential it
/// names, the run owner, the Windows credentials, then (for an existing id)
/// its right to edit.
/// `admin` tells whether the writer administers the tenant; it is asked
/// only when another principal's connection is to be changed.
pub async fn put(
    store: &Store,
    keyring: &KeyRing,
    writer: Writer<'_>,
    admin: impl AsyncFnOnce() -> Result<bool, StoreError>,
    id: ConnectionId,
    request: ConnectionRequest,
) -> Result<Written, Error> {
    let env = writer.environment;
    let user = writer.user.ok_or(Refusal::NoUser(env))?;
    let target = store
        .target_for_writer(request.target, user.id)
        .await?
        .filter(|t| t.group.environment_id == env)
        .ok_or_else(|| Refusal::UnknownTarget {
            target: request.target.to_string(),
            environment: env,
        })?;
    let group = &target.group;
    let owns = group.stamp.owner_id == user.id;
    // An owner holds every right by owning, none by sharing.
    let rights = match owns {
        true => AccessRights::empty(),
        false => target.shared_rights,
    };
    if !may_target(owns, rights) {
        return Err(Refusal::TargetNotShared { id: group.id }.into());
    }
    if let Some(credential) = request.credential {
        vault::usable(store, user, credential).await?;
    }
    if let Some(owner) = &request.run_owner {
        run_owner::verify(store, writer.tenant_id, owner).await?;
    }
    let verified = credentials::check(store, &target, &request.username, &request.password).await?;

    let connection = new_connection(keyring, &writer, id, group.id, request, store.now());
    if store.insert_connection(&connection).await? {
        // The account it matched, for its status to follow. Should the
        // process stop before this write, the connection shows Connected
        // as one whose credentials were not checked, never a wrong Error.
        if verified.is_some() {
            let mut tx = store.begin().await?;
            tx.set_connection_credentials(&env, &id, verified.as_ref())
                .await?;
            tx.commit().await?;
        }
        let facts = facts_of_new(&target, owns, rights);
        return Ok(Written {
            status: status_of(&connection, Some(&facts)),
            connection,
            created: true,
        });
    }
    // The id is taken: an update, by its owner (or an editor or administrator).
    let existing = store
        .connection(&env, &id)
        .await?
        .ok_or(Error::Internal("reading a connection during its update"))?;
    let admin = existing.created_by.id != writer.principal.id && admin().await?;
    let may_edit = standing(store, writer.principal.id, admin, &existing).await?;
    if may_edit != Some(Standing::Edit) {
        return Err(Refusal::OwnedByAnother(id).into());
    }
    if existing.parameter_set != connection.parameter_set {
        return Err(Refusal::ParameterSetChange {
            id,
            stored: existing.parameter_set,
            given: connection.parameter_set,
        }
        .into());
    }
    let updated = Connection {
        created_by: existing.created_by,
        created_at: existing.created_at,
        ..connection
    };
    let mut tx = store.begin().await?;
    if !tx.update_connection(&updated).await? {
        return Err(Refusal::DeletedDuringUpdate(id).into());
    }
    tx.set_connection_credentials(&env, &id, verified.as_ref())
        .await?;
    tx.commit().await?;
    Ok(Written {
        status: status(store, &updated).await?,
        connection: updated,
        created: false,
    })
}

/// The facts a new connection's status rests on, as
/// [`Store::target_facts`] would read them right after its creation: the
/// checks of [`put`] established them, reading its target once
/// ([`Store::target_for_writer`]). Its creator is the writer, an enabled
/// member of the environment that may target the group; the credentials
/// are the ones just verified (or none were checked). Sparing every PUT
/// the join a GET makes.
fn facts_of_new(
    target: &WriterTarget,
    creator_owns: bool,
    creator_rights: AccessRights,
) -> TargetFacts {
    TargetFacts {
        group_name: target.group.name.clone(),
        flowgrouptype: target.group.flowgrouptype,
        has_machines: target.has_machines,
        has_online_machines: target.has_online_machines,
        credentials_current: true,
        creator_is_member: true,
        creator_owns,
        creator_rights,
    }
}

/// The row a request makes: the password and the run owner's PFX sealed,
/// the rest in the clear.
fn new_connection(
    keyring: &KeyRing,
    writer: &Writer<'_>,
    id: ConnectionId,
    group: Uuid,
    request: ConnectionRequest,
    now: Timestamp,
) -> Connection {
    let env = writer.environment;
    let mut secrets = json!({ "password": request.password });
    let mut values =
        json!({ "username": request.username, "targetId": request.target.to_string() });
    if let Some(owner) = &request.run_owner {
        secrets["pfx"] = json!(owner.pfx_base64);
        secrets["pfxPassword"] = json!(owner.pfx_password);
        values[run_owner::CLIENT_ID] = json!(owner.client_id);
    }
    Connection {
        environment_id: env,
        id,
        connector: ConnectorName::uiflow(),
        display_name: request.display_name.unwrap_or(request.username),
        parameter_set: request.set,
        parameter_values: values,
        sealed_secrets: keyring.seal(&sealing_context(&env, &id), secrets.to_string().as_bytes()),
        target_group_id: Some(group),
        credential_id: request.credential,
        created_by: writer.principal.clone(),
        created_at: now,
        modified_at: now,
    }
}

/// The Windows username and password a connection signs in with, its
/// password opened from the seal (a run signs in with them).
pub(crate) fn windows_credentials(
    keyring: &KeyRing,
    connection: &Connection,
) -> Result<(String, String), Error> {
    let opened = keyring
        .open(
            &sealing_context(&connection.environment_id, &connection.id),
            &connection.sealed_secrets,
        )
        .map_err(|_| Error::Internal("opening a connection's sealed password"))?;
    let secrets: serde_json::Value = serde_json::from_slice(&opened)
        .map_err(|_| Error::Internal("reading a connection's sealed password"))?;
    let field =
        |value: &serde_json::Value, name: &str| value[name].as_str().unwrap_or_default().to_owned();
    Ok((
        field(&connection.parameter_values, "username"),
        field(&secrets, "password"),
    ))
}

/// The context a connection's secrets are sealed under: they open only there.
fn sealing_context(env: &EnvironmentId, id: &ConnectionId) -> Vec<u8> {
    format!("connection:{env}:{id}").into_bytes()
}
