//! `GrantAccess`, `ModifyAccess` and `RevokeAccess`: sharing machine groups
//! (and machines, which share through their group) with systemusers.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use padconnect_core::AccessRights;
use serde_json::Value;
use uuid::Uuid;

use super::tables::{Table, group_in, machine_in};
use super::{DataverseCaller, DataverseError};
use crate::domain::fleet::{self, Row};
use crate::state::AppState;
use crate::store::MachineGroup;

/// Which of the three actions was called.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    /// GrantAccess: add rights to those held.
    Grant,
    /// ModifyAccess: replace the rights held.
    Modify,
    /// RevokeAccess: remove every shared right.
    Revoke,
}

pub async fn grant(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, Change::Grant).await
}

pub async fn modify(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, Change::Modify).await
}

pub async fn revoke(
    state: State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    share(state, caller, body, Change::Revoke).await
}

async fn share(
    State(state): State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
    change: Change,
) -> Result<StatusCode, DataverseError> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        DataverseError::bad_request(format!("The request body is not valid JSON: {e}"))
    })?;
    let row = target_row(&body["Target"])?;
    let (principal, change) = match change {
        Change::Revoke => (principal_id(&body["Revokee"])?, fleet::Change::Revoke),
        _ => {
            let access = &body["PrincipalAccess"];
            let mask = access["AccessMask"].as_str().ok_or_else(|| {
                DataverseError::bad_request(
                    "PrincipalAccess.AccessMask is required: \"ReadAccess, AppendToAccess\"",
                )
            })?;
            let rights: AccessRights = mask.parse().map_err(|e: padconnect_core::ParseError| {
                DataverseError::bad_request(e.to_string())
            })?;
            let change = match change {
                Change::Grant => fleet::Change::Grant(rights),
                _ => fleet::Change::Modify(rights),
            };
            (principal_id(&access["Principal"])?, change)
        }
    };
    fleet::share(&state.store, caller.actor(), row, principal, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The row a `Target` names: a flowmachinegroup, or a flowmachine (which
/// shares through its group).
fn target_row(target: &Value) -> Result<Row, DataverseError> {
    let kind = target["@odata.type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('#');
    let table = match kind {
        "Microsoft.Dynamics.CRM.flowmachinegroup" => Table::MachineGroups,
        "Microsoft.Dynamics.CRM.flowmachine" => Table::Machines,
        other => {
            return Err(DataverseError::bad_request(format!(
                "Target.@odata.type '{other}' cannot be shared here: use Microsoft.Dynamics.CRM.flowmachinegroup or Microsoft.Dynamics.CRM.flowmachine"
            )));
        }
    };
    let id = guid(&target[table.key()], &format!("Target.{}", table.key()))?;
    Ok(match table {
        Table::Machines => Row::Machine(id),
        _ => Row::Group(id),
    })
}

/// The group that holds a row's rights: the group itself, or a machine's group.
pub(super) async fn group_of(
    state: &AppState,
    caller: &DataverseCaller,
    table: Table,
    id: Uuid,
) -> Result<MachineGroup, DataverseError> {
    match table {
        Table::Machines => Ok(machine_in(state, caller, id).await?.1),
        _ => group_in(state, caller, id).await,
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
