//! `POST {segment}/{action}` and `GET {segment}/{property}/$value`: the
//! actions bound to a row, the one property read as a raw value, and a
//! table's choice columns.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, State};
use axum::response::{IntoResponse, Response};

use super::access::function_call;
use super::{DataverseCaller, DataverseError, desktop_runs, membership, served};
use crate::state::AppState;

/// `POST {segment}/{action}`, the action with or without its
/// `Microsoft.Dynamics.CRM.` namespace.
pub async fn post_operation(
    State(state): State<AppState>,
    Path((segment, operation)): Path<(String, String)>,
    // An unknown action is a 404 whoever asks, as for unknown segments.
    caller: Result<DataverseCaller, DataverseError>,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let action = function_call(&operation)
        .map(|(name, _)| name)
        .unwrap_or_else(|| operation.trim_start_matches("Microsoft.Dynamics.CRM."));
    if !served::serves("POST", action) {
        return Err(DataverseError::unknown_segment(&operation));
    }
    match action {
        "JoinGroup" | "LeaveGroup" => {
            let done = membership::post(&state, &caller?, &segment, action, &body).await?;
            Ok(done.into_response())
        }
        "RunDesktopFlow" => desktop_runs::run(&state, &caller?, &segment, &body).await,
        "CancelDesktopFlowRun" => desktop_runs::cancel(&state, &caller?, &segment).await,
        _ => Err(DataverseError::unknown_segment(&operation)),
    }
}

/// `GET flowsessions({id})/outputs/$value`, and a table's choice columns
/// (`EntityDefinitions(...)/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`).
pub async fn get_value(
    State(state): State<AppState>,
    Path((segment, property, value)): Path<(String, String, String)>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
    caller: Result<DataverseCaller, DataverseError>,
) -> Result<Response, DataverseError> {
    match (property.as_str(), value.as_str()) {
        ("outputs", "$value") if served::serves("GET", "outputs") => {
            desktop_runs::outputs(&state, &caller?, &segment).await
        }
        ("Attributes", "Microsoft.Dynamics.CRM.PicklistAttributeMetadata")
            if served::serves("GET", "PicklistAttributeMetadata") =>
        {
            super::metadata::picklists_of(&segment, &params, &caller?).await
        }
        _ => Err(DataverseError::unknown_segment(&value)),
    }
}
