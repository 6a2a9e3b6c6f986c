//! `GrantAccess`, `ModifyAccess` and `RevokeAccess`: sharing machine groups
//! (and machines, which share through their group) with systemusers.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use padconnect_core::AccessRights;
use serde_json::Value;
use uuid::Uuid;

use super::tables::{Table, group_in, machine_in, rights_on};
use super::{DataverseCaller, DataverseError};
use crate::state::AppState;
use crate::store::{MachineGroup, RecordRef, Share};

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
    let group = target_group(&state, &caller, &body["Target"]).await?;
    let (principal, rights) = match change {
        Change::Revoke => (principal_id(&body["Revokee"])?, AccessRights::empty()),
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
            (principal_id(&access["Principal"])?, rights)
        }
    };
    let grantee = state
        .store
        .system_user(principal)
        .await?
        .filter(|u| u.environment_id == caller.environment.id);
    let grantee = grantee.ok_or_else(|| DataverseError::does_not_exist("systemuser", principal))?;
    let held = rights_on(&state, &caller, &group).await?;
    if !held.contains(AccessRights::SHARE) {
        return Err(DataverseError::missing_right(
            caller.user.id,
            "ShareAccess",
            group.id,
            "flowmachinegroup",
        ));
    }
    if !crate::rules::may_grant(held, rights) {
        return Err(DataverseError::missing_right(
            caller.user.id,
            &(rights - held).to_string(),
            group.id,
            "flowmachinegroup",
        ));
    }
    let record = RecordRef::MachineGroup(group.id);
    let held = state.store.share_rights(record, grantee.id).await?;
    let rights = match change {
        Change::Grant => held | rights,
        Change::Modify | Change::Revoke => rights,
    };
    let mut tx = state.store.begin().await?;
    tx.set_share(&Share {
        record,
        principal_id: grantee.id,
        rights,
    })
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The group a `Target` names: a flowmachinegroup, or a flowmachine's group.
async fn target_group(
    state: &AppState,
    caller: &DataverseCaller,
    target: &Value,
) -> Result<MachineGroup, DataverseError> {
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
    group_of(state, caller, table, id).await
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
