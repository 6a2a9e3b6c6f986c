//! Desktop flow runs on the Web API ("Work with desktop flows using code",
//! desktop-flow-public-apis.md):
//!
//! ```text
//! POST workflows({id})/Microsoft.Dynamics.CRM.RunDesktopFlow       -> {"flowsessionId": ...}
//! GET  flowsessions({id})?$select=statuscode,statecode,startedon,completedon
//! GET  flowsessions({id})/outputs/$value
//! POST flowsessions({id})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun -> 204
//! ```
//!
//! The rules are `domain::runs`'; this file parses, calls, and renders the
//! `flowsession` row.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use padconnect_core::desktop_runs::{SessionStatus, TRIGGER_DATAVERSE_API};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entities::parse_segment;
use super::solution_tables::SolutionTable;
use super::tables::{Table, etag, time};
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::runs::{self, RunRequest};
use padconnect_store::FlowSession;

/// The columns of `flowsession` that the platform keeps (Flow Session
/// table reference).
pub const COLUMNS: &[&str] = &[
    "flowsessionid",
    "name",
    "statecode",
    "statuscode",
    "startedon",
    "completedon",
    "errorcode",
    "errormessage",
    "runmode",
    "triggertype",
    "connectionid",
    "callbackurl",
    "_regardingobjectid_value",
    "_machineid_value",
    "_machinegroupid_value",
    "createdon",
    "modifiedon",
    "versionnumber",
    "_ownerid_value",
    "_owninguser_value",
];

pub fn session_row(s: &FlowSession) -> Value {
    let status = SessionStatus::from_code(s.statuscode).unwrap_or(SessionStatus::NotSpecified);
    json!({
        "@odata.etag": etag(s.versionnumber),
        "flowsessionid": s.id,
        "name": s.name,
        "statecode": status.state(),
        "statuscode": s.statuscode,
        "startedon": s.started_on.map(time),
        "completedon": s.completed_on.map(time),
        "errorcode": s.error_code,
        "errormessage": s.error_message,
        "runmode": s.run_mode,
        "triggertype": TRIGGER_DATAVERSE_API,
        "connectionid": s.connection_id,
        "callbackurl": s.callback_url,
        "_regardingobjectid_value": s.workflow_id,
        "_machineid_value": s.machine_id,
        "_machinegroupid_value": s.machine_group_id,
        "createdon": time(s.created_on),
        "modifiedon": time(s.modified_on),
        "versionnumber": s.versionnumber,
        "_ownerid_value": s.owner_id,
        "_owninguser_value": s.owner_id,
    })
}

/// `POST workflows({id})/Microsoft.Dynamics.CRM.RunDesktopFlow`.
pub async fn run(
    state: &AppState,
    caller: &DataverseCaller,
    segment: &str,
    body: &[u8],
) -> Result<Response, DataverseError> {
    let workflow = match parse_segment(segment)? {
        (Table::Solution(SolutionTable::Workflows), Some(id)) => id,
        _ => {
            return Err(DataverseError::bad_request(format!(
                "RunDesktopFlow is bound to a desktop flow: call it on workflows(<id>), not on '{segment}'"
            )));
        }
    };
    let request = run_request(body)?;
    let session = runs::start(caller.member.scope(&state.store), workflow, request).await?;
    let context = caller.origin.url(&format!(
        "{API_ROOT}/$metadata#Microsoft.Dynamics.CRM.RunDesktopFlowResponse"
    ));
    // The license check the response carries (desktop-flow-run-time-license-check):
    // the platform licenses every run.
    Ok(Json(json!({
        "@odata.context": context,
        "flowsessionId": session.id,
        "licenseCheck": { "code": "ValidLicenseCoverage", "message": "Valid License Coverage" },
    }))
    .into_response())
}

/// RunDesktopFlow's body: its documented parameters, each of its type.
fn run_request(body: &[u8]) -> Result<RunRequest, DataverseError> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        DataverseError::bad_request(format!("The request body is not valid JSON: {e}"))
    })?;
    let Value::Object(fields) = body else {
        return Err(DataverseError::bad_request(
            "The request body must be a JSON object of RunDesktopFlow's parameters",
        ));
    };
    const PARAMETERS: [&str; 7] = [
        "runMode",
        "runPriority",
        "connectionName",
        "connectionType",
        "timeout",
        "inputs",
        "callbackUrl",
    ];
    if let Some(unknown) = fields.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(DataverseError::bad_request(format!(
            "The parameter '{unknown}' in the request payload is not a valid parameter for the operation 'RunDesktopFlow'. Its parameters are {}.",
            PARAMETERS.join(", ")
        )));
    }
    Ok(RunRequest {
        run_mode: string(&fields, "runMode")?,
        run_priority: string(&fields, "runPriority")?,
        connection_name: string(&fields, "connectionName")?,
        connection_type: integer(&fields, "connectionType")?,
        timeout: integer(&fields, "timeout")?,
        inputs: string(&fields, "inputs")?,
        callback_url: string(&fields, "callbackUrl")?,
    })
}

fn string(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, DataverseError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DataverseError::bad_request(format!(
            "The parameter '{name}' is an Edm.String: give it as a JSON string{}",
            if name == "inputs" {
                " (the inputs object serialized, such as \"{\\\"Input1\\\":\\\"Value\\\"}\")"
            } else {
                ""
            }
        ))),
    }
}

fn integer(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, DataverseError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()) => {
            Ok(n.as_i64())
        }
        Some(_) => Err(DataverseError::bad_request(format!(
            "The parameter '{name}' is an Edm.Int32: give it as a JSON whole number"
        ))),
    }
}

/// `POST flowsessions({id})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun`:
/// 204 No Content.
pub async fn cancel(
    state: &AppState,
    caller: &DataverseCaller,
    segment: &str,
) -> Result<Response, DataverseError> {
    let id = bound_session(segment, "CancelDesktopFlowRun")?;
    runs::cancel(caller.member.scope(&state.store), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET flowsessions({id})/outputs/$value`: the run's outputs, the raw
/// JSON object the flow produced (none until it succeeds).
pub async fn outputs(
    state: &AppState,
    caller: &DataverseCaller,
    segment: &str,
) -> Result<Response, DataverseError> {
    let id = bound_session(segment, "outputs")?;
    let session = read(state, caller, id).await?;
    match session.outputs {
        Some(outputs) => {
            Ok(([(header::CONTENT_TYPE, "application/json")], outputs).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

fn bound_session(segment: &str, what: &str) -> Result<Uuid, DataverseError> {
    match parse_segment(segment)? {
        (Table::FlowSessions, Some(id)) => Ok(id),
        _ => Err(DataverseError::bad_request(format!(
            "{what} is bound to a flow session: call it on flowsessions(<id>), not on '{segment}'"
        ))),
    }
}

/// The run `id` of the caller's environment, if the caller may read it: a
/// `flowsessions(<id>)` row and its outputs answer the same run alike.
pub async fn read(
    state: &AppState,
    caller: &DataverseCaller,
    id: Uuid,
) -> Result<FlowSession, DataverseError> {
    Ok(runs::read(caller.member.scope(&state.store), &state.keyring, id).await?)
}
