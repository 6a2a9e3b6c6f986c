//! A machine joining and leaving a machine group, as silent registration's
//! `-joinmachinegroup -groupid <id> -grouppassword` does after `-register`.
//!
//! The registration tool's own calls are not documented. The platform offers
//! them as actions bound to the machine, named after the message list of
//! the `flowmachine` table (which has `LeaveGroup`); the join's name and body
//! are our guess:
//!
//! ```text
//! POST flowmachines(<id>)/Microsoft.Dynamics.CRM.JoinGroup   {"GroupId":"<guid>","GroupPassword":"..."}
//! POST flowmachines(<id>)/Microsoft.Dynamics.CRM.LeaveGroup
//! ```
//!
//! Rules, from the silent-registration and machine-group docs: the first
//! machine to join a group sets its password and later ones must give the
//! same; a group holds at most 50 machines; joining breaks the connections
//! that targeted the machine alone (its hidden Default group is kept, empty,
//! so their status says why); the Default group of a standalone machine can't
//! be joined. Adding or removing machines takes Write access on the group
//! (its owner or a Co-owner). A wrong group password is answered with
//! 0x80040203 (InvalidArgument), also a guess: the real tool checks it on
//! the machine, when it opens the group's key package.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use padconnect_core::AccessRights;
use serde_json::Value;
use uuid::Uuid;

use super::access::function_call;
use super::entities::parse_segment;
use super::tables::{Table, group_in, machine_in, require_right};
use super::writes::{MAX_MACHINES_PER_GROUP, new_group};
use super::{DataverseCaller, DataverseError};
use crate::rules::GROUP_PASSWORD_CHARS;
use crate::secrets;
use crate::state::AppState;
use crate::store::{Machine, MachineGroup, Timestamp, flowgrouptype};

/// `POST {segment}/{operation}`: the actions bound to a row.
pub async fn post_operation(
    State(state): State<AppState>,
    Path((segment, operation)): Path<(String, String)>,
    // An unknown action is a 404 whoever asks, as for unknown segments.
    caller: Result<DataverseCaller, DataverseError>,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    let action = function_call(&operation)
        .map(|(name, _)| name)
        .unwrap_or_else(|| operation.trim_start_matches("Microsoft.Dynamics.CRM."));
    if !matches!(action, "JoinGroup" | "LeaveGroup") {
        return Err(DataverseError::unknown_segment(&operation));
    }
    let caller = caller?;
    let (machine, current) = bound_machine(&state, &caller, &segment).await?;
    match action {
        "JoinGroup" => join(&state, &caller, machine, current, &body).await,
        _ => leave(&state, &caller, machine, current).await,
    }
}

/// The machine an action is bound to, with its current group.
async fn bound_machine(
    state: &AppState,
    caller: &DataverseCaller,
    segment: &str,
) -> Result<(Machine, MachineGroup), DataverseError> {
    let id = match parse_segment(segment)? {
        (Table::Machines, Some(id)) => id,
        _ => {
            return Err(DataverseError::bad_request(format!(
                "JoinGroup and LeaveGroup are bound to a machine: call them on flowmachines(<id>), not on '{segment}'"
            )));
        }
    };
    machine_in(state, caller, id).await
}

async fn join(
    state: &AppState,
    caller: &DataverseCaller,
    machine: Machine,
    current: MachineGroup,
    body: &[u8],
) -> Result<StatusCode, DataverseError> {
    let (group_id, password) = join_request(body)?;
    if current.id == group_id {
        return Ok(StatusCode::NO_CONTENT);
    }
    if current.flowgrouptype != flowgrouptype::DEFAULT {
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!(
                "Machine '{}' is in machine group '{}' already: leave it first (LeaveGroup).",
                machine.name, current.name
            ),
        ));
    }
    require_right(
        state,
        caller,
        &current,
        AccessRights::WRITE,
        machine.id,
        Table::Machines,
    )
    .await?;
    let target = group_in(state, caller, group_id).await?;
    if target.flowgrouptype == flowgrouptype::DEFAULT {
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!(
                "{group_id} is the hidden group of standalone machine '{}': machines can only join a machine group.",
                target.name
            ),
        ));
    }
    require_right(
        state,
        caller,
        &target,
        AccessRights::WRITE,
        target.id,
        Table::MachineGroups,
    )
    .await?;
    let claimed_hash = check_group_password(&target, password).await?;

    let mut tx = state.store.begin().await?;
    if let Some(hash) = &claimed_hash
        && !tx.claim_group_password(target.id, hash).await?
    {
        return Err(DataverseError::new(
            StatusCode::CONFLICT,
            "0x80040203",
            format!(
                "Another machine set the password of machine group '{}' a moment ago: join again with that password.",
                target.name
            ),
        ));
    }
    let moved = tx
        .move_machine(
            machine.id,
            current.id,
            target.id,
            MAX_MACHINES_PER_GROUP,
            caller.user.id,
            Timestamp::now(),
        )
        .await?;
    if !moved {
        drop(tx);
        let now_in = state.store.machine(machine.id).await?.map(|m| m.group_id);
        if now_in != Some(current.id) {
            return Err(moved_meanwhile(&machine));
        }
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!(
                "Machine group '{}' already holds {MAX_MACHINES_PER_GROUP} machines, the most a group can hold.",
                target.name
            ),
        ));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"GroupId": "<guid>", "GroupPassword": "..."}`.
fn join_request(body: &[u8]) -> Result<(Uuid, String), DataverseError> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        DataverseError::bad_request(format!("The request body is not valid JSON: {e}"))
    })?;
    let group_id = body["GroupId"]
        .as_str()
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or_else(|| DataverseError::bad_request("GroupId must be the machine group's GUID"))?;
    let password = body["GroupPassword"]
        .as_str()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            DataverseError::bad_request(
                "GroupPassword is required: the password of the machine group (the first machine to join sets it)",
            )
        })?;
    Ok((group_id, password.to_owned()))
}

/// Checks the password against the group's, or, when the group has none
/// yet, returns the hash that will become its password.
async fn check_group_password(
    group: &MachineGroup,
    password: String,
) -> Result<Option<String>, DataverseError> {
    let stored = group.password_hash.clone();
    let (min, max) = GROUP_PASSWORD_CHARS.into_inner();
    if password.chars().count() > max {
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!("GroupPassword is longer than {max} characters."),
        ));
    }
    if stored.is_none() && password.chars().count() < min {
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!(
                "This machine is the first to join '{}', so its GroupPassword becomes the group's password: use at least {min} characters.",
                group.name
            ),
        ));
    }
    let outcome = secrets::run_costly(move || match stored {
        None => Ok(Some(secrets::hash_password(&password))),
        Some(hash) if secrets::password_matches(&password, &hash) => Ok(None),
        Some(_) => Err(()),
    })
    .await
    .ok_or_else(|| DataverseError::internal("checking the group password failed".into()))?;
    outcome.map_err(|()| {
        DataverseError::new(
            StatusCode::FORBIDDEN,
            "0x80040203",
            format!(
                "GroupPassword is not the password of machine group '{}'. The first machine that joined set it; ask the group's owner, who can rotate it in the portal.",
                group.name
            ),
        )
    })
}

/// Back to standalone: the machine gets a new hidden Default group, owned by
/// the machine's owner. Connections that targeted the group stay on it.
async fn leave(
    state: &AppState,
    caller: &DataverseCaller,
    machine: Machine,
    current: MachineGroup,
) -> Result<StatusCode, DataverseError> {
    if current.flowgrouptype == flowgrouptype::DEFAULT {
        return Err(DataverseError::bad_request_code(
            "0x80040203",
            format!(
                "Machine '{}' is not in a machine group: there is nothing to leave.",
                machine.name
            ),
        ));
    }
    require_right(
        state,
        caller,
        &current,
        AccessRights::WRITE,
        current.id,
        Table::MachineGroups,
    )
    .await?;
    let now = Timestamp::now();
    let hidden = MachineGroup {
        owner_id: machine.owner_id,
        created_by: caller.user.id,
        modified_by: caller.user.id,
        ..new_group(
            caller,
            machine.name.clone(),
            None,
            flowgrouptype::DEFAULT,
            now,
        )
    };
    let mut tx = state.store.begin().await?;
    tx.upsert_machine_group(&hidden).await?;
    // Dropping the transaction rolls the new group back too.
    if !tx
        .move_machine(machine.id, current.id, hidden.id, 1, caller.user.id, now)
        .await?
    {
        return Err(moved_meanwhile(&machine));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 409: another request moved or deleted the machine since it was read.
fn moved_meanwhile(machine: &Machine) -> DataverseError {
    DataverseError::new(
        StatusCode::CONFLICT,
        "0x80060882",
        format!(
            "Machine '{}' was moved or deleted by another request meanwhile: read it again.",
            machine.name
        ),
    )
}
