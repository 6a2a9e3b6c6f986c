//! `GrantAccess`, `ModifyAccess` and `RevokeAccess`: sharing machine groups
//! (and machines, which share through their group) and credentials with
//! systemusers.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use padconnect_core::AccessRights;
use serde_json::Value;
use uuid::Uuid;

use super::error::json_object;
use super::tables::{Table, group_in, machine_in};
use super::{DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::connections::vault;
use padconnect_domain::fleet::{self, UserOwned};
use padconnect_store::{Credential, MachineGroup};

pub async fn grant(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, Some(fleet::Change::Grant)).await
}

pub async fn modify(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, Some(fleet::Change::Modify)).await
}

pub async fn revoke(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, None).await
}

/// `giving` makes the domain's change from the rights the body names
/// (`fleet::Change::Grant` or `Modify`); `None` is RevokeAccess, which
/// names a revokee and no rights.
async fn share(
    State(state): State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
    giving: Option<fn(AccessRights) -> fleet::Change>,
) -> Result<StatusCode, DataverseError> {
    let body = Value::Object(json_object(&body)?);
    let (table, id) = target_row(&body["Target"])?;
    let (principal, change) = match giving {
        None => (principal_id(&body["Revokee"])?, fleet::Change::Revoke),
        Some(giving) => {
            let access = &body["PrincipalAccess"];
            let mask = access["AccessMask"].as_str().ok_or_else(|| {
                DataverseError::bad_request(
                    "PrincipalAccess.AccessMask is required: \"ReadAccess, AppendToAccess\"",
                )
            })?;
            let rights: AccessRights = mask.parse().map_err(|e: padconnect_core::ParseError| {
                DataverseError::bad_request(e.to_string())
            })?;
            (principal_id(&access["Principal"])?, giving(rights))
        }
    };
    let row = SharedRow::find(&state, &caller, table, id).await?;
    let grantee = fleet::find_user(&state.store, caller.member.actor(), principal).await?;
    fleet::share_record(
        &state.store,
        caller.member.actor(),
        row.owned(),
        &grantee,
        change,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The row a `Target` names: a flowmachinegroup, a flowmachine (which
/// shares through its group) or a credential.
fn target_row(target: &Value) -> Result<(Table, Uuid), DataverseError> {
    let kind = target["@odata.type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('#');
    let table = match kind {
        "Microsoft.Dynamics.CRM.flowmachinegroup" => Table::MachineGroups,
        "Microsoft.Dynamics.CRM.flowmachine" => Table::Machines,
        "Microsoft.Dynamics.CRM.credential" => Table::Credentials,
        other => {
            return Err(DataverseError::bad_request(format!(
                "Target.@odata.type '{other}' cannot be shared here: use Microsoft.Dynamics.CRM.flowmachinegroup, Microsoft.Dynamics.CRM.flowmachine or Microsoft.Dynamics.CRM.credential"
            )));
        }
    };
    let id = guid(&target[table.key()], &format!("Target.{}", table.key()))?;
    Ok((table, id))
}

/// A shared row, as far as its sharing goes: a machine group (a machine's
/// rights are its group's) or a credential.
pub(super) enum SharedRow {
    Group(MachineGroup),
    Credential(Credential),
}

impl SharedRow {
    /// The row of `table` with key `id` in the caller's environment.
    pub(super) async fn find(
        state: &AppState,
        caller: &DataverseCaller,
        table: Table,
        id: Uuid,
    ) -> Result<Self, DataverseError> {
        Ok(match table {
            Table::Credentials => {
                Self::Credential(vault::find(&state.store, caller.member.actor(), id).await?)
            }
            Table::Machines => Self::Group(machine_in(state, caller, id).await?.1),
            _ => Self::Group(group_in(state, caller, id).await?),
        })
    }

    /// The row as the domain's sharing rules take it.
    pub(super) fn owned(&self) -> &dyn UserOwned {
        match self {
            Self::Group(group) => group,
            Self::Credential(credential) => credential,
        }
    }
}

/// A systemuser by `systemuserid` or, as some clients write it, `ownerid`.
fn principal_id(principal: &Value) -> Result<Uuid, DataverseError> {
    let value = if principal["systemuserid"].is_null() {
        &principal["ownerid"]
    } else {
        &principal["systemuserid"]
    };
    guid(value, "Principal.systemuserid")
}

fn guid(value: &Value, field: &str) -> Result<Uuid, DataverseError> {
    value
        .as_str()
        .and_then(|v| Uuid::try_parse(v).ok())
        .ok_or_else(|| DataverseError::bad_request(format!("{field} must be a GUID")))
}
