//! Reading access: `RetrievePrincipalAccess`, bound to a systemuser, and the
//! unbound `RetrieveSharedPrincipalsAndAccess`. Both are OData functions
//! whose `Target` comes as a parameter alias:
//!
//! ```text
//! GET systemusers(<uid>)/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)?@p1={'@odata.id':'flowmachinegroups(<id>)'}
//! GET RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={'@odata.id':'flowmachinegroups(<id>)'}
//! ```
//!
//! Either needs ReadAccess on the target, as Dataverse asks of anyone who
//! reads a record's sharing.

use std::collections::HashMap;

use axum::Json;
use padconnect_core::AccessRights;
use serde_json::{Value, json};
use uuid::Uuid;

use super::entities::parse_segment;
use super::sharing::SharedRow;
use super::tables::Table;
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::admins::{self, Principal};
use padconnect_domain::{Record, fleet};

const NAMESPACE: &str = "Microsoft.Dynamics.CRM.";

/// The function a path segment calls, `Name(Target=@p1)` with or without the
/// namespace, as `(name, alias)`; `None` when the segment is not a call.
pub fn function_call(segment: &str) -> Option<(&str, &str)> {
    let call = segment.strip_prefix(NAMESPACE).unwrap_or(segment);
    let (name, arguments) = call.split_once('(')?;
    let arguments = arguments.strip_suffix(')')?;
    Some((name, arguments))
}

/// `GET systemusers(<uid>)/RetrievePrincipalAccess(Target=@p1)`.
pub async fn principal_access(
    state: &AppState,
    caller: &DataverseCaller,
    bound_to: &str,
    arguments: &str,
    params: &HashMap<String, String>,
) -> Result<Json<Value>, DataverseError> {
    let (table, id) = parse_segment(bound_to)?;
    let principal_id = match (table, id) {
        (Table::SystemUsers, Some(id)) => id,
        _ => {
            return Err(DataverseError::bad_request(format!(
                "RetrievePrincipalAccess is bound to a systemuser: call it on systemusers(<id>), not on '{bound_to}'"
            )));
        }
    };
    let row = target(state, caller, arguments, params).await?;
    let principal = fleet::find_user(&state.store, caller.member.actor(), principal_id).await?;
    let tenant = caller.member.environment.tenant_id;
    let admin = admins::is_admin(&state.store, tenant, Principal::of(&principal)).await?;
    let actor = fleet::Actor::new(&principal, admin);
    let rights = fleet::record_rights(&state.store, actor, row.owned()).await?;
    Ok(Json(json!({
        "@odata.context": caller.origin.url(&format!(
            "{API_ROOT}/$metadata#{NAMESPACE}RetrievePrincipalAccessResponse"
        )),
        "AccessRights": rights.to_string(),
    })))
}

/// `GET RetrieveSharedPrincipalsAndAccess(Target=@p1)`: who the target was
/// shared with, and what each holds. The owner is not a share and is left out.
pub async fn shared_principals(
    state: &AppState,
    caller: &DataverseCaller,
    arguments: &str,
    params: &HashMap<String, String>,
) -> Result<Json<Value>, DataverseError> {
    let row = target(state, caller, arguments, params).await?;
    let accesses: Vec<Value> = state
        .store
        .shares_of(row.owned().record())
        .await?
        .into_iter()
        .filter(|share| !share.rights.is_empty())
        .map(|share| {
            json!({
                "AccessMask": share.rights.to_string(),
                "Principal": {
                    "@odata.type": "#Microsoft.Dynamics.CRM.systemuser",
                    "ownerid": share.principal_id,
                },
            })
        })
        .collect();
    Ok(Json(json!({
        "@odata.context": caller.origin.url(&format!(
            "{API_ROOT}/$metadata#{NAMESPACE}RetrieveSharedPrincipalsAndAccessResponse"
        )),
        "PrincipalAccesses": accesses,
    })))
}

/// The row a `Target=@alias` argument names, once the caller may read it.
async fn target(
    state: &AppState,
    caller: &DataverseCaller,
    arguments: &str,
    params: &HashMap<String, String>,
) -> Result<SharedRow, DataverseError> {
    let alias = arguments
        .strip_prefix("Target=")
        .filter(|a| a.starts_with('@'))
        .ok_or_else(|| {
            DataverseError::bad_request(format!(
                "Expected the argument Target=@p1 with @p1={{'@odata.id':'flowmachinegroups(<id>)'}}, found '{arguments}'"
            ))
        })?;
    let value = params.get(alias).ok_or_else(|| {
        DataverseError::bad_request(format!(
            "The parameter alias {alias} has no value: add {alias}={{'@odata.id':'flowmachinegroups(<id>)'}} to the query"
        ))
    })?;
    let (table, id) = record_reference(value)?;
    let row = SharedRow::find(state, caller, table, id).await?;
    let record = Record {
        entity: table.logical_name(),
        id,
    };
    fleet::require_rights(
        &state.store,
        caller.member.actor(),
        row.owned(),
        AccessRights::READ,
        record,
    )
    .await?;
    Ok(row)
}

/// `{'@odata.id':'flowmachinegroups(<id>)'}`, in single or double quotes, the
/// id relative or a full URL: the table and key it points at.
fn record_reference(value: &str) -> Result<(Table, Uuid), DataverseError> {
    let invalid = || {
        DataverseError::bad_request(format!(
            "'{value}' is not a record reference: use {{'@odata.id':'flowmachinegroups(<id>)'}}"
        ))
    };
    let object = value
        .trim()
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'));
    let (key, reference) = object.and_then(|o| o.split_once(':')).ok_or_else(invalid)?;
    if key.trim().trim_matches(['\'', '"']) != "@odata.id" {
        return Err(invalid());
    }
    let reference = reference.trim().trim_matches(['\'', '"']);
    let segment = reference.rsplit('/').next().unwrap_or(reference);
    match parse_segment(segment)? {
        (table @ (Table::MachineGroups | Table::Machines | Table::Credentials), Some(id)) => {
            Ok((table, id))
        }
        _ => Err(DataverseError::bad_request(format!(
            "'{reference}' is not a flowmachinegroup, flowmachine or credential row: only their access is kept here"
        ))),
    }
}
