//! Creating, updating and deleting machine groups and machines through the
//! Web API: `POST {set}`, `PATCH {set}({id})`, `DELETE {set}({id})`.
//!
//! A `POST flowmachines` without a group is the silent registration of a
//! standalone machine: it gets its hidden Default group, as Power Automate
//! makes one. Guesses, written down: Dataverse's code for a delete that the
//! Restrict cascade forbids is taken to be 0x80040227 ("associated with
//! another object"), and that for a stale `If-Match` 0x80060882
//! (ConcurrencyVersionMismatch).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use padconnect_core::AccessRights;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::tables::{Table, group_in, machine_in, require_right};
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::domain::fleet::{
    GROUP_DESCRIPTION, GROUP_NAME, MACHINE_DESCRIPTION, MACHINE_NAME, TextColumn,
};
use crate::state::AppState;
use crate::store::{
    ACCESS_MODE_NON_INTERACTIVE, Machine, MachineGroup, RenameTable, RowVersion, SystemUser,
    Timestamp, flowgrouptype,
};
use crate::world::application_user;

/// A group holds at most this many machines.
pub const MAX_MACHINES_PER_GROUP: usize = 50;

fn parse_body(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, DataverseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        DataverseError::bad_request(format!("The request body is not valid JSON: {e}"))
    })?;
    let Value::Object(object) = value else {
        return Err(DataverseError::bad_request(
            "The request body must be a JSON object",
        ));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && !k.starts_with("@odata"))
    {
        return Err(DataverseError::bad_request(format!(
            "Could not find a property named '{unknown}'"
        )));
    }
    Ok(object)
}

/// A text column's value from a body, held to the column's rule; `None`
/// when the body leaves it out and `required` does not ask for it.
fn text_field(
    object: &Map<String, Value>,
    column: TextColumn,
    required: bool,
) -> Result<Option<String>, DataverseError> {
    match object.get(column.field) {
        None | Some(Value::Null) if required => Ok(Some(column.check("")?)),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(column.check(s)?)),
        Some(_) => Err(DataverseError::bad_request(format!(
            "'{}' must be a string",
            column.field
        ))),
    }
}

fn wants_representation(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("return=representation"))
}

/// 204 with `OData-EntityId`, or 201 with the row under `return=representation`.
fn created(
    caller: &DataverseCaller,
    table: Table,
    id: Uuid,
    row: Value,
    headers: &HeaderMap,
) -> Response {
    let location = caller
        .origin
        .url(&format!("{API_ROOT}/{}({id})", table.entity_set()));
    let entity_id = HeaderValue::from_str(&location).expect("URLs are ASCII");
    if wants_representation(headers) {
        return (
            StatusCode::CREATED,
            [("OData-EntityId", entity_id)],
            Json(row),
        )
            .into_response();
    }
    (StatusCode::NO_CONTENT, [("OData-EntityId", entity_id)]).into_response()
}

pub async fn post(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let table = Table::from_entity_set(&segment)
        .ok_or_else(|| DataverseError::unknown_segment(&segment))?;
    if !crate::rules::may_create(&caller.user, caller.admin) {
        return Err(DataverseError::new(
            StatusCode::FORBIDDEN,
            "0x80040220",
            format!(
                "Principal user (Id={}) is missing prvCreate{} privilege: give it the Environment Maker role.",
                caller.user.id,
                table.logical_name()
            ),
        ));
    }
    let now = Timestamp::now();
    let owner = caller.user.id;
    match table {
        Table::MachineGroups => {
            let object = parse_body(&body, &["name", "description"])?;
            let group = new_group(
                &caller,
                text_field(&object, GROUP_NAME, true)?.unwrap_or_default(),
                text_field(&object, GROUP_DESCRIPTION, false)?,
                flowgrouptype::STANDARD,
                now,
            );
            let mut tx = state.store.begin().await?;
            tx.upsert_machine_group(&group).await?;
            tx.commit().await?;
            let row = table.row(&state, &caller, group.id).await?;
            Ok(created(&caller, table, group.id, row, &headers))
        }
        Table::Machines => {
            let object = parse_body(
                &body,
                &["name", "description", "FlowMachineGroupId@odata.bind"],
            )?;
            if object.contains_key("FlowMachineGroupId@odata.bind") {
                return Err(DataverseError::bad_request(
                    "A machine is registered standalone, then joins a group with the group's password: POST flowmachines(<id>)/Microsoft.Dynamics.CRM.JoinGroup {\"GroupId\":...,\"GroupPassword\":...}",
                ));
            }
            let name = text_field(&object, MACHINE_NAME, true)?.unwrap_or_default();
            let description = text_field(&object, MACHINE_DESCRIPTION, false)?.unwrap_or_default();
            if let Some(existing) = state
                .store
                .machine_named(&caller.environment.id, &name)
                .await?
            {
                return Err(DataverseError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "0x80040237",
                    format!(
                        "A machine named '{}' is registered in this environment already: delete it first, or register with force, which breaks its connections.",
                        existing.name
                    ),
                ));
            }
            let hidden = new_group(&caller, name.clone(), None, flowgrouptype::DEFAULT, now);
            let machine = Machine {
                id: Uuid::new_v4(),
                environment_id: caller.environment.id,
                group_id: hidden.id,
                name,
                description,
                agentversion: None,
                lastheartbeatdate: None,
                statecode: 0,
                statuscode: 1,
                owner_id: owner,
                created_on: now,
                created_by: owner,
                modified_on: now,
                modified_by: owner,
                versionnumber: 1,
            };
            let mut tx = state.store.begin().await?;
            tx.upsert_machine_group(&hidden).await?;
            tx.upsert_machine(&machine).await?;
            tx.commit().await?;
            let row = table.row(&state, &caller, machine.id).await?;
            Ok(created(&caller, table, machine.id, row, &headers))
        }
        Table::SystemUsers => {
            let user = new_application_user(&state, &caller, &body).await?;
            let mut tx = state.store.begin().await?;
            if !tx.insert_system_user(&user).await? {
                return Err(DataverseError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "0x80040237",
                    format!(
                        "The environment already has an application user for app {}: there can be only one per app.",
                        user.domainname.split('@').next().unwrap_or_default()
                    ),
                ));
            }
            tx.commit().await?;
            let row = table.row(&state, &caller, user.id).await?;
            Ok(created(&caller, table, user.id, row, &headers))
        }
    }
}

/// `POST systemusers` as the admin scripts do it:
/// `{"accessmode":4,"applicationid":"<client id>","businessunitid@odata.bind":"/businessunits(<id>)","isdisabled":false}`.
/// Only administrators add users; only application users are added here
/// (people come with the world file).
async fn new_application_user(
    state: &AppState,
    caller: &DataverseCaller,
    body: &[u8],
) -> Result<SystemUser, DataverseError> {
    if !caller.admin {
        return Err(missing_privilege(caller, "prvCreateUser"));
    }
    let object = parse_body(
        body,
        &[
            "accessmode",
            "applicationid",
            "businessunitid@odata.bind",
            "isdisabled",
        ],
    )?;
    let client_id = object
        .get("applicationid")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or_else(|| {
            DataverseError::bad_request(
                "'applicationid' must be the app's client id (a GUID): only application users are added through the Web API here",
            )
        })?;
    match object.get("accessmode") {
        None => {}
        Some(mode) if mode.as_i64() == Some(ACCESS_MODE_NON_INTERACTIVE) => {}
        Some(mode) => {
            return Err(DataverseError::bad_request(format!(
                "'accessmode' of an application user is 4 (Non-interactive), not {mode}"
            )));
        }
    }
    let isdisabled = match object.get("isdisabled") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            return Err(DataverseError::bad_request(
                "'isdisabled' must be true or false",
            ));
        }
    };
    let app = state
        .store
        .app(caller.environment.tenant_id, client_id)
        .await?
        .ok_or_else(|| {
            DataverseError::bad_request_code(
                "0x80040203",
                format!(
                    "No app with client id {client_id} is registered in this tenant: register it in Entra ID first."
                ),
            )
        })?;
    let env = &caller.environment;
    Ok(SystemUser {
        isdisabled,
        ..application_user(
            env.id,
            &env.org,
            app.client_id,
            &app.display_name,
            Timestamp::now(),
        )
    })
}

/// 0x80040220: the caller lacks a privilege its security roles would give.
fn missing_privilege(caller: &DataverseCaller, privilege: &str) -> DataverseError {
    DataverseError::new(
        StatusCode::FORBIDDEN,
        "0x80040220",
        format!(
            "Principal user (Id={}) is missing {privilege} privilege: an administrator (System Administrator) must do this.",
            caller.user.id
        ),
    )
}

pub(super) fn new_group(
    caller: &DataverseCaller,
    name: String,
    description: Option<String>,
    kind: i64,
    now: Timestamp,
) -> MachineGroup {
    let owner = caller.user.id;
    MachineGroup {
        id: Uuid::new_v4(),
        environment_id: caller.environment.id,
        name,
        description: description.unwrap_or_default(),
        flowgrouptype: kind,
        statecode: 0,
        statuscode: 1,
        password_hash: None,
        owner_id: owner,
        created_on: now,
        created_by: owner,
        modified_on: now,
        modified_by: owner,
        versionnumber: 1,
    }
}

/// `PATCH {set}(<id>)` with `If-Match`: a group's or a machine's name and
/// description (Write access), or whether a systemuser is disabled
/// (administrators only).
pub async fn patch(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let (table, id) = super::entities::parse_segment(&segment)?;
    let id = id.ok_or_else(|| DataverseError::bad_request("PATCH needs a row: {set}(<id>)"))?;
    let env = caller.environment.id;
    let now = Timestamp::now();
    let tx = match table {
        Table::MachineGroups | Table::Machines => {
            let object = parse_body(&body, &["name", "description"])?;
            // The row as read: its version, name and description, and the
            // group whose rights decide.
            let (row, name, description, group, columns) = match table {
                Table::MachineGroups => {
                    let group = group_in(&state, &caller, id).await?;
                    let row = (RenameTable::MachineGroups, group.versionnumber);
                    let columns = (GROUP_NAME, GROUP_DESCRIPTION);
                    (
                        row,
                        group.name.clone(),
                        group.description.clone(),
                        group,
                        columns,
                    )
                }
                _ => {
                    let (machine, group) = machine_in(&state, &caller, id).await?;
                    let row = (RenameTable::Machines, machine.versionnumber);
                    let columns = (MACHINE_NAME, MACHINE_DESCRIPTION);
                    (row, machine.name, machine.description, group, columns)
                }
            };
            require_right(&state, &caller, &group, AccessRights::WRITE, id, table).await?;
            check_version(&headers, row.1)?;
            let (name, description) = renamed(&object, columns, &name, &description)?;
            let mut tx = state.store.begin().await?;
            let version = RowVersion {
                table: row.0,
                id,
                version: row.1,
            };
            if !tx
                .rename(version, &name, &description, caller.user.id, now)
                .await?
            {
                return Err(changed_meanwhile(table, id));
            }
            tx
        }
        Table::SystemUsers => {
            if !caller.admin {
                return Err(missing_privilege(&caller, "prvWriteUser"));
            }
            let object = parse_body(&body, &["isdisabled"])?;
            let user = state
                .store
                .system_user(id)
                .await?
                .filter(|u| u.environment_id == env)
                .ok_or_else(|| DataverseError::does_not_exist("systemuser", id))?;
            check_version(&headers, user.versionnumber)?;
            let isdisabled = match object.get("isdisabled") {
                None => user.isdisabled,
                Some(Value::Bool(flag)) => *flag,
                Some(_) => {
                    return Err(DataverseError::bad_request(
                        "'isdisabled' must be true or false",
                    ));
                }
            };
            let updated = SystemUser {
                isdisabled,
                modified_on: now,
                ..user
            };
            let mut tx = state.store.begin().await?;
            tx.upsert_system_user(&updated).await?;
            tx
        }
    };
    tx.commit().await?;
    if wants_representation(&headers) {
        return Ok(Json(table.row(&state, &caller, id).await?).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 412: the row changed (or went away) between the read and the write.
fn changed_meanwhile(table: Table, id: Uuid) -> DataverseError {
    DataverseError::new(
        StatusCode::PRECONDITION_FAILED,
        "0x80060882",
        format!(
            "The {} {id} was changed by another request meanwhile: read it again.",
            table.logical_name()
        ),
    )
}

/// The name and description a PATCH body gives, or the row's where it gives none.
fn renamed(
    object: &Map<String, Value>,
    (name_column, description_column): (TextColumn, TextColumn),
    name: &str,
    description: &str,
) -> Result<(String, String), DataverseError> {
    Ok((
        text_field(object, name_column, false)?.unwrap_or_else(|| name.to_owned()),
        text_field(object, description_column, false)?.unwrap_or_else(|| description.to_owned()),
    ))
}

/// 412 when `If-Match` names another version than the row's.
fn check_version(headers: &HeaderMap, version: i64) -> Result<(), DataverseError> {
    let stale = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|expected| expected != "*" && expected != format!("W/\"{version}\""));
    if stale {
        return Err(DataverseError::new(
            StatusCode::PRECONDITION_FAILED,
            "0x80060882",
            format!(
                "The version of the existing record doesn't match the If-Match header: it is W/\"{version}\"; read it again."
            ),
        ));
    }
    Ok(())
}

/// `DELETE flowmachinegroups(<id>)` (refused while machines are in it) or
/// `DELETE flowmachines(<id>)` (a standalone machine takes its hidden group along).
pub async fn delete(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    caller: DataverseCaller,
) -> Result<StatusCode, DataverseError> {
    let (table, id) = super::entities::parse_segment(&segment)?;
    let id = id.ok_or_else(|| DataverseError::bad_request("DELETE needs a row: {set}(<id>)"))?;
    let (group, machine) = match table {
        Table::MachineGroups => (group_in(&state, &caller, id).await?, None),
        Table::Machines => {
            let (machine, group) = machine_in(&state, &caller, id).await?;
            (group, Some(machine))
        }
        Table::SystemUsers => {
            return Err(DataverseError::bad_request(
                "systemuser rows cannot be deleted, only disabled",
            ));
        }
    };
    require_right(&state, &caller, &group, AccessRights::DELETE, id, table).await?;
    let mut tx = state.store.begin().await?;
    match machine {
        Some(machine) => {
            tx.delete_machine(machine.id).await?;
            if group.flowgrouptype == flowgrouptype::DEFAULT {
                tx.delete_machine_group(group.id).await?;
            }
        }
        None => {
            if !tx.delete_machine_group(group.id).await? {
                return Err(DataverseError::bad_request_code(
                    "0x80040227",
                    format!(
                        "The machine group '{}' still holds machines: remove them from it before deleting it.",
                        group.name
                    ),
                ));
            }
        }
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
