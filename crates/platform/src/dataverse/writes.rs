//! Creating, updating and deleting machine groups and machines through the
//! Web API: `POST {set}`, `PATCH {set}({id})`, `DELETE {set}({id})`.
//!
//! A `POST flowmachines` without a group is the silent registration of a
//! standalone machine. The rules are `domain::fleet`'s; this file reads the
//! bodies and headers and answers as the Web API does.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::json_object;
use super::tables::Table;
use super::write_headers::{IfMatch, ReturnRepresentation};
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::fleet::{
    self, GROUP_DESCRIPTION, GROUP_NAME, MACHINE_DESCRIPTION, MACHINE_NAME, Row, TextColumn,
};
use padconnect_domain::system_users::{self, application_user};
use padconnect_domain::{Forbidden, Privilege};
use padconnect_store::{ACCESS_MODE_NON_INTERACTIVE, SystemUser};

fn parse_body(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, DataverseError> {
    let object = json_object(body)?;
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

/// A text column's value from a body, as sent; `None` when the body
/// leaves it out (the domain decides whether it may).
fn text_field(
    object: &Map<String, Value>,
    column: TextColumn,
) -> Result<Option<&str>, DataverseError> {
    match object.get(column.field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DataverseError::bad_request(format!(
            "'{}' must be a string",
            column.field
        ))),
    }
}

/// A boolean column's value from a body; `None` when the body leaves it
/// out (null is no boolean).
fn bool_field(object: &Map<String, Value>, field: &str) -> Result<Option<bool>, DataverseError> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(_) => Err(DataverseError::bad_request(format!(
            "'{field}' must be true or false"
        ))),
    }
}

/// 204 with `OData-EntityId`, or 201 with the row under `return=representation`.
fn created(
    caller: &DataverseCaller,
    table: Table,
    id: Uuid,
    row: Value,
    ReturnRepresentation(representation): ReturnRepresentation,
) -> Response {
    let location = caller
        .origin
        .url(&format!("{API_ROOT}/{}({id})", table.entity_set()));
    let entity_id = match HeaderValue::from_str(&location) {
        Ok(value) => value,
        Err(error) => {
            return DataverseError::internal(format!("OData-EntityId: {error}")).into_response();
        }
    };
    if representation {
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
    representation: ReturnRepresentation,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let table = Table::from_entity_set(&segment)
        .ok_or_else(|| DataverseError::unknown_segment(&segment))?;
    takes(table, "POST")?;
    let store = &state.store;
    let id = match table {
        Table::MachineGroups => {
            let object = parse_body(&body, &["name", "description"])?;
            let name = text_field(&object, GROUP_NAME)?.unwrap_or_default();
            let description = text_field(&object, GROUP_DESCRIPTION)?.unwrap_or_default();
            fleet::create_group(store, caller.member.actor(), name, description)
                .await?
                .id
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
            let name = text_field(&object, MACHINE_NAME)?.unwrap_or_default();
            let description = text_field(&object, MACHINE_DESCRIPTION)?.unwrap_or_default();
            fleet::register_machine(store, caller.member.actor(), name, description)
                .await?
                .id
        }
        Table::SystemUsers => {
            let user = new_application_user(&state, &caller, &body).await?;
            if !system_users::add_application_user(store, &user).await? {
                return Err(DataverseError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "0x80040237",
                    format!(
                        "The environment already has an application user for app {}: there can be only one per app.",
                        user.domainname.split('@').next().unwrap_or_default()
                    ),
                ));
            }
            user.id
        }
        Table::Credentials
        | Table::FlowSessions
        | Table::Organizations
        | Table::TransactionCurrencies
        | Table::Solution(_) => return Err(refusal(table, "POST")),
    };
    let row = table.row(&state, &caller, id).await?;
    Ok(created(&caller, table, id, row, representation))
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
    if !caller.member.admin {
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
    let isdisabled = bool_field(&object, "isdisabled")?.unwrap_or(false);
    let app = state
        .store
        .app(caller.member.environment.tenant_id, client_id)
        .await?
        .ok_or_else(|| {
            DataverseError::bad_request_code(
                "0x80040203",
                format!(
                    "No app with client id {client_id} is registered in this tenant: register it in Entra ID first."
                ),
            )
        })?;
    let env = &caller.member.environment;
    Ok(SystemUser {
        isdisabled,
        ..application_user(
            env.id,
            &env.org,
            app.client_id,
            &app.display_name,
            state.store.now(),
        )
    })
}

/// 0x80040220: only administrators (System Administrator) may do this.
fn missing_privilege(caller: &DataverseCaller, privilege: &'static str) -> DataverseError {
    Forbidden::Privilege {
        user: caller.member.user.id,
        privilege: Privilege::Administrator(privilege),
    }
    .into()
}

/// `PATCH {set}(<id>)` with `If-Match`: a group's or a machine's name and
/// description (Write access), whether a systemuser is disabled
/// (administrators only), a flow's state or a connection reference's
/// connection.
pub async fn patch(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    IfMatch(expected): IfMatch,
    ReturnRepresentation(representation): ReturnRepresentation,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let (table, id) = super::entities::parse_segment(&segment)?;
    let id = id.ok_or_else(|| DataverseError::bad_request("PATCH needs a row: {set}(<id>)"))?;
    takes(table, "PATCH")?;
    if let Table::Solution(solution_table) = table {
        super::solutions::patch(&state, &caller, solution_table, id, expected, &body).await?;
    } else if let Some(row) = fleet_row(table, id) {
        let object = parse_body(&body, &["name", "description"])?;
        let (name, description) = match row {
            Row::Group(_) => (GROUP_NAME, GROUP_DESCRIPTION),
            Row::Machine(_) => (MACHINE_NAME, MACHINE_DESCRIPTION),
        };
        let name = text_field(&object, name)?;
        let description = text_field(&object, description)?;
        fleet::rename(
            &state.store,
            caller.member.actor(),
            row,
            expected,
            name,
            description,
        )
        .await?;
    } else {
        set_disabled(&state, &caller, id, expected, &body).await?;
    }
    if representation {
        return Ok(Json(table.row(&state, &caller, id).await?).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The fleet's row a table and id name; `None` for systemusers.
fn fleet_row(table: Table, id: Uuid) -> Option<Row> {
    match table {
        Table::MachineGroups => Some(Row::Group(id)),
        Table::Machines => Some(Row::Machine(id)),
        Table::SystemUsers
        | Table::Credentials
        | Table::FlowSessions
        | Table::Organizations
        | Table::TransactionCurrencies
        | Table::Solution(_) => None,
    }
}

/// Whether the table takes this write (`Table::writes`, from the one list
/// of what is served), or its refusal.
fn takes(table: Table, method: &str) -> Result<(), DataverseError> {
    match table.writes().contains(&method) {
        true => Ok(()),
        false => Err(refusal(table, method)),
    }
}

/// A write the table does not take, and what to do instead. Credentials
/// are read and shared here, not written: a credential points at
/// environment variables and a vault, which the platform does not keep, so
/// the world file declares them. Flow sessions are written by runs; the
/// solution tables by importing a solution.
fn refusal(table: Table, method: &str) -> DataverseError {
    match (table, method) {
        (Table::SystemUsers, "DELETE") => {
            DataverseError::bad_request("systemuser rows cannot be deleted, only disabled")
        }
        (Table::Solution(table), "POST") => DataverseError::not_allowed(format!(
            "{} rows are created by importing a solution: StageSolution, then ImportSolutionAsync",
            table.logical_name()
        )),
        (Table::Solution(table), "PATCH") => DataverseError::not_allowed(format!(
            "{} rows are written by importing a solution: ImportSolutionAsync",
            table.logical_name()
        )),
        (Table::Solution(table), _) => DataverseError::not_allowed(format!(
            "{} rows go with their solution: DELETE solutions(<id>)",
            table.logical_name()
        )),
        (
            Table::Credentials
            | Table::FlowSessions
            | Table::Organizations
            | Table::TransactionCurrencies,
            _,
        ) => read_only(table),
        _ => DataverseError::method_not_allowed(method),
    }
}

fn read_only(table: Table) -> DataverseError {
    let message = match table {
        Table::Organizations | Table::TransactionCurrencies => {
            "organization and transactioncurrency rows are the environment's own, set when it is created: this platform serves them to read."
        }
        Table::FlowSessions => {
            "flowsession rows are written by runs: start one with POST workflows(<id>)/Microsoft.Dynamics.CRM.RunDesktopFlow, cancel it with POST flowsessions(<id>)/Microsoft.Dynamics.CRM.CancelDesktopFlowRun."
        }
        _ => {
            "credential rows are created and changed in Power Automate (Data > Credentials); this platform takes them from the world file (tenants.environments.credentials) and serves them to read and share."
        }
    };
    DataverseError::not_allowed(message)
}

/// `PATCH systemusers(<id>) {"isdisabled": true}`.
async fn set_disabled(
    state: &AppState,
    caller: &DataverseCaller,
    id: Uuid,
    expected: Option<i64>,
    body: &[u8],
) -> Result<(), DataverseError> {
    if !caller.member.admin {
        return Err(missing_privilege(caller, "prvWriteUser"));
    }
    let object = parse_body(body, &["isdisabled"])?;
    let user = fleet::find_user(&state.store, caller.member.actor(), id).await?;
    let isdisabled = bool_field(&object, "isdisabled")?.unwrap_or(user.isdisabled);
    system_users::set_disabled(&state.store, &user, expected, isdisabled).await?;
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
    takes(table, "DELETE")?;
    if let Table::Solution(table) = table {
        super::solutions::delete(&state, &caller, table, id).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let row = fleet_row(table, id).ok_or_else(|| refusal(table, "DELETE"))?;
    fleet::delete(&state.store, caller.member.actor(), row).await?;
    Ok(StatusCode::NO_CONTENT)
}
