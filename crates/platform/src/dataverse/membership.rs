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
//! The rules are `domain::fleet`'s (join and leave). A wrong group password
//! is answered with 0x80040203 (InvalidArgument), a guess: the real tool
//! checks it on the machine, when it opens the group's key package.

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::entities::parse_segment;
use super::tables::Table;
use super::{DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::Membership;
use padconnect_domain::fleet;

/// JoinGroup or LeaveGroup on the machine `segment` names.
pub async fn post(
    state: &AppState,
    caller: &DataverseCaller,
    segment: &str,
    action: &str,
    body: &[u8],
) -> Result<StatusCode, DataverseError> {
    let machine = bound_machine(segment)?;
    let (store, actor) = (&state.store, caller.member.actor());
    match action {
        "JoinGroup" => {
            let (group, password) = join_request(body)?;
            fleet::join(store, actor, machine, group, password).await?
        }
        _ => fleet::leave(store, actor, machine).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The machine an action is bound to.
fn bound_machine(segment: &str) -> Result<Uuid, DataverseError> {
    match parse_segment(segment)? {
        (Table::Machines, Some(id)) => Ok(id),
        _ => Err(DataverseError::bad_request(format!(
            "JoinGroup and LeaveGroup are bound to a machine: call them on flowmachines(<id>), not on '{segment}'"
        ))),
    }
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

/// A refusal of `domain::fleet::{join, leave}` in the Web API's words.
impl From<Membership> for DataverseError {
    fn from(refusal: Membership) -> Self {
        let (status, code) = match &refusal {
            Membership::WrongPassword { .. } => (StatusCode::FORBIDDEN, "0x80040203"),
            Membership::PasswordClaimed { .. } => (StatusCode::CONFLICT, "0x80040203"),
            Membership::MovedMeanwhile { .. } => (StatusCode::CONFLICT, "0x80060882"),
            _ => (StatusCode::BAD_REQUEST, "0x80040203"),
        };
        let message = match refusal {
            Membership::AlreadyInGroup { machine, group } => format!(
                "Machine '{machine}' is in machine group '{group}' already: leave it first (LeaveGroup)."
            ),
            Membership::HiddenGroup { id, machine } => format!(
                "{id} is the hidden group of standalone machine '{machine}': machines can only join a machine group."
            ),
            Membership::NotInGroup { machine } => {
                format!("Machine '{machine}' is not in a machine group: there is nothing to leave.")
            }
            Membership::FirstPasswordTooShort { group, min } => format!(
                "This machine is the first to join '{group}', so its GroupPassword becomes the group's password: use at least {min} characters."
            ),
            Membership::PasswordTooLong { max } => {
                format!("GroupPassword is longer than {max} characters.")
            }
            Membership::WrongPassword { group } => format!(
                "GroupPassword is not the password of machine group '{group}'. The first machine that joined set it; ask the group's owner, who can rotate it in the portal."
            ),
            Membership::PasswordClaimed { group } => format!(
                "Another machine set the password of machine group '{group}' a moment ago: join again with that password."
            ),
            Membership::GroupFull { group, max } => format!(
                "Machine group '{group}' already holds {max} machines, the most a group can hold."
            ),
            Membership::MovedMeanwhile { machine } => format!(
                "Machine '{machine}' was moved or deleted by another request meanwhile: read it again."
            ),
        };
        Self::new(status, code, message)
    }
}
