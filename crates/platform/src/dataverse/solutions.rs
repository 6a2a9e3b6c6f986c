//! The solution actions and writes as the Web API takes them:
//! `StageSolution`, `ImportSolutionAsync`, `ImportSolution`,
//! `RetrieveSolutionImportResult(ImportJobId=...)`, `PATCH
//! connectionreferences({id})` (its `connectionid`), `PATCH
//! workflows({id})` (its `statecode`) and `DELETE solutions({id})`.
//! Bodies and answers follow the Terraform provider's calls and the
//! recorded answers (docs/evidence/solution-import.md, sections 1 and 2);
//! the rules are `domain::solutions`'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::json_object;
use super::solution_tables::SolutionTable;
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::solutions::{
    self, Binding, ImportRequest, ImportResult, Staged, VariableSetting,
};
use padconnect_solution::Dependency;

/// `CustomizationFile`: the zip in base64.
fn customization_file(object: &Map<String, Value>) -> Result<Option<Vec<u8>>, DataverseError> {
    match object.get("CustomizationFile") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(Some)
            .map_err(|e| {
                DataverseError::bad_request(format!(
                    "CustomizationFile must be the solution zip in base64: {e}"
                ))
            }),
        Some(_) => Err(DataverseError::bad_request(
            "CustomizationFile must be a string: the solution zip in base64",
        )),
    }
}

fn context(caller: &DataverseCaller, name: &str) -> String {
    caller.origin.url(&format!(
        "{API_ROOT}/$metadata#Microsoft.Dynamics.CRM.{name}"
    ))
}

/// `POST StageSolution {"CustomizationFile": "..."}`.
pub async fn stage(
    State(state): State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Json<Value>, DataverseError> {
    let object = json_object(&body)?;
    let zip = customization_file(&object)?
        .ok_or_else(|| DataverseError::bad_request("StageSolution needs CustomizationFile"))?;
    let staged = solutions::stage(caller.member.scope(&state.store), zip).await?;
    Ok(Json(json!({
        "@odata.context": context(&caller, "StageSolutionResponse"),
        "StageSolutionResults": stage_results(&staged),
    })))
}

/// `StageSolutionResults`, in the shape of the recorded answer
/// (post_stage_solution.json): every attribute value a string.
fn stage_results(staged: &Staged) -> Value {
    let package = &staged.package;
    let m = &package.manifest;
    let mut components = vec![component(
        &m.display_name,
        "solution",
        "Unknown",
        &[("localizedname", &m.display_name), ("description", "")],
    )];
    let present = |yes: bool| if yes { "True" } else { "False" };
    for r in &package.components.connection_references {
        components.push(component(
            &r.logical_name,
            "connectionreference",
            "False",
            &[
                ("connectorid", &r.connector_id),
                ("connectionreferencelogicalname", &r.logical_name),
                ("connectionreferencedisplayname", &r.display_name),
                ("description", &r.description),
            ],
        ));
    }
    for variable in &package.components.environment_variables {
        let v = &variable.declaration;
        components.push(component(
            &v.display_name,
            "EnvironmentVariableDefinition",
            "False",
            &[
                ("schemaname", &v.schema_name),
                ("displayname", &v.display_name),
                ("description", ""),
                ("type", &v.kind.to_string()),
                (
                    "defaultvalue",
                    v.default_value.as_deref().unwrap_or_default(),
                ),
                ("isrequired", if v.is_required { "true" } else { "false" }),
                (
                    "parameterkey",
                    v.parameter_key.as_deref().unwrap_or_default(),
                ),
                ("parentdefinitionid", ""),
                ("apiid", v.api_id.as_deref().unwrap_or_default()),
            ],
        ));
    }
    for v in &package.components.environment_variables {
        if let Some(value) = &v.value {
            components.push(component(
                &v.declaration.schema_name,
                "EnvironmentVariableValue",
                "False",
                &[
                    ("schemaname", &v.declaration.schema_name),
                    (
                        "environmentvariablevalueid",
                        &value.id.map(|id| id.to_string()).unwrap_or_default(),
                    ),
                    ("value", &value.value),
                ],
            ));
        }
    }
    for w in &package.components.workflows {
        components.push(component(
            &w.name,
            "workflow",
            present(false),
            &[
                ("workflowid", &w.id.to_string()),
                ("name", &w.name),
                ("category", &w.category.code().to_string()),
            ],
        ));
    }
    let installed = staged.installed.as_ref();
    json!({
        "StageSolutionUploadId": staged.upload_id,
        "StageSolutionStatus": if staged.passed() { "Passed" } else { "Failed" },
        "SolutionComponentsDetails": components,
        "SolutionDetails": {
            "SolutionUniqueName": m.unique_name,
            "SolutionFriendlyName": m.display_name,
            "SolutionDescription": "",
            "PublisherUniqueName": m.publisher.unique_name,
            "PublisherFriendlyName": m.publisher.display_name,
            "PreviousSolutionUniqueName": installed.map(|s| &s.unique_name),
            "PreviousSolutionFriendlyName": installed.map(|s| &s.friendly_name),
            "PreviousPublisherUniqueName": installed.map(|s| &s.publisher_unique_name),
            "PreviousPublisherFriendlyName": installed.map(|s| &s.publisher_friendly_name),
            "IsPatchSolution": false,
            "IsManaged": m.managed,
            "PreviousIsManaged": installed.is_some_and(|s| s.is_managed),
            "SolutionVersion": m.version.to_string(),
            "PreviousSolutionVersion": installed.map(|s| &s.version),
            "PreviousPatchSolutionsNames": [],
            "IsPrerequisitesExport": false,
            "HasPendingUpgrade": false,
        },
        "MissingDependencies": staged.missing.iter().map(missing_dependency).collect::<Vec<_>>(),
        "SolutionValidationResults": [],
    })
}

fn component(name: &str, kind: &str, present: &str, attributes: &[(&str, &str)]) -> Value {
    json!({
        "ComponentName": name,
        "ComponentTypeName": kind,
        "IsPresentInOrg": present,
        "Attributes": {
            "Count": attributes.len(),
            "Keys": attributes.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            "Values": attributes.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        },
    })
}

/// A `MissingDependency` with the fields the Terraform provider reads (dto.go).
fn missing_dependency(d: &Dependency) -> Value {
    let solution = d.required.solution.as_ref().map(|(name, _)| name.clone());
    json!({
        "RequiredComponentSchemaName": d.required.schema_name,
        "RequiredComponentDisplayName": d.required.display_name,
        "RequiredComponentParentSchemaName": null,
        "RequiredComponentParentDisplayName": null,
        "RequiredComponentId": null,
        "RequiredSolutionName": solution,
        "RequiredComponentType": d.required.kind,
        "DependentComponentSchemaName": d.dependent.schema_name,
        "DependentComponentDisplayName": d.dependent.display_name,
        "DependentComponentParentSchemaName": null,
        "DependentComponentParentDisplayName": null,
        "DependentComponentType": d.dependent.kind,
        "DependentComponentId": null,
    })
}

/// The import an `ImportSolutionAsync` or `ImportSolution` body asks for,
/// staging `CustomizationFile` first when the body has no upload id.
async fn import_request(
    state: &AppState,
    caller: &DataverseCaller,
    object: &Map<String, Value>,
) -> Result<ImportRequest, DataverseError> {
    let flag = |name: &str| -> Result<bool, DataverseError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(DataverseError::bad_request(format!(
                "{name} must be true or false"
            ))),
        }
    };
    let staged = match object
        .get("SolutionParameters")
        .and_then(|p| p.get("StageSolutionUploadId"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if Uuid::try_parse(id).is_ok_and(|id| !id.is_nil()) => {
            Uuid::try_parse(id).ok()
        }
        // Guid.Empty: the direct form of Microsoft's sample.
        Some(Value::String(id)) if Uuid::try_parse(id).is_ok() => None,
        Some(other) => {
            return Err(DataverseError::bad_request(format!(
                "SolutionParameters.StageSolutionUploadId must be a GUID, not {other}"
            )));
        }
    };
    let (bindings, values) = component_parameters(object.get("ComponentParameters"))?;
    // Every field is read before a CustomizationFile is staged: a bad one
    // leaves nothing behind.
    let overwrite_unmanaged_customizations = flag("OverwriteUnmanagedCustomizations")?;
    let publish_workflows = flag("PublishWorkflows")?;
    let upload_id = match (staged, customization_file(object)?) {
        (Some(id), _) => id,
        (None, Some(zip)) => {
            solutions::stage(caller.member.scope(&state.store), zip)
                .await?
                .upload_id
        }
        (None, None) => {
            return Err(DataverseError::bad_request(
                "Give the solution: CustomizationFile (the zip in base64), or SolutionParameters.StageSolutionUploadId from StageSolution",
            ));
        }
    };
    Ok(ImportRequest {
        upload_id,
        overwrite_unmanaged_customizations,
        publish_workflows,
        bindings,
        values,
    })
}

/// `ComponentParameters`: connection references
/// (`connectionreferencelogicalname`, `connectionid`) and environment
/// variable values (`schemaname`, `value`), `@odata.type` with or without
/// its `#`.
fn component_parameters(
    value: Option<&Value>,
) -> Result<(Vec<Binding>, Vec<VariableSetting>), DataverseError> {
    let mut bindings = Vec::new();
    let mut values = Vec::new();
    let entries = match value {
        None | Some(Value::Null) => return Ok((bindings, values)),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(DataverseError::bad_request(
                "ComponentParameters must be an array of entities",
            ));
        }
    };
    let text = |entry: &Value, name: &str| -> Result<String, DataverseError> {
        match entry.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) => Ok(String::new()),
            Some(_) => Err(DataverseError::bad_request(format!(
                "ComponentParameters: '{name}' must be a string"
            ))),
        }
    };
    for entry in entries {
        let kind = entry["@odata.type"].as_str().unwrap_or_default();
        match kind.trim_start_matches('#') {
            "Microsoft.Dynamics.CRM.connectionreference" => {
                let logical_name = text(entry, "connectionreferencelogicalname")?;
                if logical_name.is_empty() {
                    return Err(DataverseError::bad_request(
                        "ComponentParameters: a connectionreference needs its connectionreferencelogicalname",
                    ));
                }
                bindings.push(Binding {
                    logical_name,
                    connection_id: text(entry, "connectionid")?,
                });
            }
            "Microsoft.Dynamics.CRM.environmentvariablevalue" => {
                let schema_name = text(entry, "schemaname")?;
                if schema_name.is_empty() {
                    return Err(DataverseError::bad_request(
                        "ComponentParameters: an environmentvariablevalue needs its schemaname",
                    ));
                }
                values.push(VariableSetting {
                    schema_name,
                    value: text(entry, "value")?,
                });
            }
            other => {
                return Err(DataverseError::bad_request(format!(
                    "ComponentParameters takes Microsoft.Dynamics.CRM.connectionreference and Microsoft.Dynamics.CRM.environmentvariablevalue entities, not '{other}'"
                )));
            }
        }
    }
    Ok((bindings, values))
}

/// `POST ImportSolutionAsync`: answers the job's ids at once.
pub async fn import_async(
    State(state): State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<Json<Value>, DataverseError> {
    let object = json_object(&body)?;
    let request = import_request(&state, &caller, &object).await?;
    let started = solutions::start(caller.member.scope(&state.store), request).await?;
    Ok(Json(json!({
        "@odata.context": context(&caller, "ImportSolutionAsyncResponse"),
        "ImportJobKey": started.import_job_id.to_string(),
        "AsyncOperationId": started.async_operation_id,
    })))
}

/// `POST ImportSolution`: imports before answering, 204 (manage-flows-with-code).
pub async fn import(
    State(state): State<AppState>,
    caller: DataverseCaller,
    body: Bytes,
) -> Result<StatusCode, DataverseError> {
    let object = json_object(&body)?;
    let request = import_request(&state, &caller, &object).await?;
    let started = solutions::start(caller.member.scope(&state.store), request).await?;
    solutions::run(&state.store, started.async_operation_id).await?;
    let operation = state
        .store
        .async_operation(started.async_operation_id)
        .await?
        .ok_or_else(DataverseError::unexpected)?;
    match result_of(operation.result.as_deref()).failure {
        None => Ok(StatusCode::NO_CONTENT),
        Some(failure) => Err(DataverseError::bad_request_code(
            failure.code,
            failure.message,
        )),
    }
}

fn result_of(text: Option<&str>) -> ImportResult {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// `GET RetrieveSolutionImportResult(ImportJobId=<id>)`.
pub async fn import_result(
    state: &AppState,
    caller: &DataverseCaller,
    arguments: &str,
) -> Result<Response, DataverseError> {
    let id = arguments
        .strip_prefix("ImportJobId=")
        .map(|id| id.trim_matches('\''))
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or_else(|| {
            DataverseError::bad_request(
                "RetrieveSolutionImportResult takes ImportJobId=<the ImportJobKey of ImportSolutionAsync>",
            )
        })?;
    let missing = || DataverseError::does_not_exist("importjob", id);
    let operation = solutions::readable_import(caller.member.scope(&state.store), id)
        .await?
        .ok_or_else(missing)?;
    let operation = solutions::finish_due(&state.store, operation.id)
        .await?
        .ok_or_else(missing)?;
    let result = result_of(operation.result.as_deref());
    let status = super::import_log::JobStatus::of(&operation, &result).api();
    let warnings: Vec<String> = result
        .flows
        .iter()
        .filter_map(|f| {
            f.off.as_ref().map(|off| {
                format!(
                    "The flow '{}' ({}) was left off: {}: {}",
                    f.name, f.id, off.code, off.message
                )
            })
        })
        .collect();
    let errors: Vec<&str> = result.failure.iter().map(|f| f.message.as_str()).collect();
    Ok(Json(json!({
        "@odata.context": context(caller, "RetrieveSolutionImportResultResponse"),
        "SolutionOperationResult": {
            "Type": "Import",
            "Status": status,
            "WarningMessages": warnings,
            "ErrorMessages": errors,
            "ActionLink": {"Label": null, "Target": null},
            "FormattedResults": super::import_log::workbook(&operation, &result),
        }
    }))
    .into_response())
}

/// `PATCH` of a solution table's row: a connection reference's
/// `connectionid`, a flow's `statecode` (and the `statuscode` that goes
/// with it). Other columns are the solution's to set, by importing it.
pub async fn patch(
    state: &AppState,
    caller: &DataverseCaller,
    table: SolutionTable,
    id: Uuid,
    expected: Option<i64>,
    body: &[u8],
) -> Result<(), DataverseError> {
    let object = json_object(body)?;
    let only = |allowed: &[&str]| -> Result<(), DataverseError> {
        match object
            .keys()
            .find(|k| !allowed.contains(&k.as_str()) && !k.starts_with("@odata"))
        {
            Some(key) => Err(DataverseError::bad_request(format!(
                "'{key}' of a {} is set by importing its solution; PATCH sets only {}",
                table.logical_name(),
                allowed.join(" and ")
            ))),
            None => Ok(()),
        }
    };
    match table {
        SolutionTable::ConnectionReferences => {
            only(&["connectionid"])?;
            let connection = match object.get("connectionid") {
                Some(Value::String(id)) => Some(id.as_str()),
                None | Some(Value::Null) => None,
                Some(_) => {
                    return Err(DataverseError::bad_request(
                        "'connectionid' must be a string",
                    ));
                }
            };
            solutions::bind(caller.member.scope(&state.store), id, expected, connection).await?;
        }
        SolutionTable::Workflows => {
            only(&["statecode", "statuscode"])?;
            let given_state = object.get("statecode").and_then(Value::as_i64);
            let given_status = object.get("statuscode").and_then(Value::as_i64);
            let fits = |(statecode, statuscode): (i64, i64)| {
                given_state == Some(statecode) && given_status.is_none_or(|s| s == statuscode)
            };
            let on = match () {
                () if fits(solutions::ON) => true,
                () if fits(solutions::OFF) => false,
                _ => {
                    return Err(DataverseError::bad_request(
                        "A flow is turned on with {\"statecode\":1} (statuscode 2) and off with {\"statecode\":0} (statuscode 1)",
                    ));
                }
            };
            solutions::set_flow_state(caller.member.scope(&state.store), id, expected, on).await?;
        }
        _ => {
            return Err(DataverseError::not_allowed(format!(
                "{} rows are written by importing a solution: ImportSolutionAsync",
                table.logical_name()
            )));
        }
    }
    Ok(())
}

/// `DELETE solutions({id})`.
pub async fn delete(
    state: &AppState,
    caller: &DataverseCaller,
    table: SolutionTable,
    id: Uuid,
) -> Result<(), DataverseError> {
    match table {
        SolutionTable::Solutions => {
            solutions::delete(caller.member.scope(&state.store), id).await?;
            Ok(())
        }
        _ => Err(DataverseError::not_allowed(format!(
            "{} rows go with their solution: DELETE solutions(<id>)",
            table.logical_name()
        ))),
    }
}
