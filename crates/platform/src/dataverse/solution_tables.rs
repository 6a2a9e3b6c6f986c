//! The solution tables as the Web API shows their rows: `solutions`,
//! `connectionreferences`, `workflows`, `environmentvariabledefinitions`,
//! `environmentvariablevalues` and `asyncoperations`, with the columns the
//! Terraform provider, pac and ALM scripts read (the recorded answers in
//! docs/evidence/solution-import.md, section 3).
//!
//! Who reads what: the solution-aware tables are organization-owned and
//! every systemuser of the environment reads them; flows and system jobs
//! are user-owned, read by their owner and the administrators.

use serde_json::{Value, json};
use uuid::Uuid;

use super::DataverseError;
use super::tables::{Table, etag, row_with_key, rows, time};
use padconnect_domain::Scope;
use padconnect_domain::solutions::{self, CLOUD_FLOW};
use padconnect_store::{
    AsyncOperation, ConnectionReference, Solution, VariableDefinition, VariableValue, Workflow,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolutionTable {
    Solutions,
    ConnectionReferences,
    Workflows,
    VariableDefinitions,
    VariableValues,
    AsyncOperations,
}

/// Columns every row of these tables shows.
const SOLUTIONS: &[&str] = &[
    "solutionid",
    "uniquename",
    "friendlyname",
    "version",
    "ismanaged",
    "isvisible",
    "isapimanaged",
    "installedon",
    "createdon",
    "modifiedon",
    "updatedon",
    "description",
    "solutionpackageversion",
    "solutiontype",
    "_publisherid_value",
    "_parentsolutionid_value",
    "_createdby_value",
    "_modifiedby_value",
    "versionnumber",
];
/// A publisher's columns, as a solution's `publisherid` expands to them.
const PUBLISHER: &[&str] = &[
    "publisherid",
    "uniquename",
    "friendlyname",
    "customizationprefix",
];
const CONNECTION_REFERENCES: &[&str] = &[
    "connectionreferenceid",
    "connectionreferencelogicalname",
    "connectionreferencedisplayname",
    "connectorid",
    "connectionid",
    "description",
    "promptingbehavior",
    "statecode",
    "statuscode",
    "ismanaged",
    "solutionid",
    "_ownerid_value",
    "modifiedon",
    "versionnumber",
];
const WORKFLOWS: &[&str] = &[
    "workflowid",
    "workflowidunique",
    "name",
    "category",
    "type",
    "primaryentity",
    "uiflowtype",
    "modernflowtype",
    "statecode",
    "statuscode",
    "clientdata",
    "ismanaged",
    "solutionid",
    "_ownerid_value",
    "_owninguser_value",
    "createdon",
    "modifiedon",
    "versionnumber",
];
const VARIABLE_DEFINITIONS: &[&str] = &[
    "environmentvariabledefinitionid",
    "schemaname",
    "displayname",
    "type",
    "defaultvalue",
    "isrequired",
    "apiid",
    "parameterkey",
    "statecode",
    "statuscode",
    "ismanaged",
    "solutionid",
    "modifiedon",
];
const VARIABLE_VALUES: &[&str] = &[
    "environmentvariablevalueid",
    "schemaname",
    "value",
    "_environmentvariabledefinitionid_value",
    "statecode",
    "statuscode",
    "modifiedon",
];
const ASYNC_OPERATIONS: &[&str] = &[
    "asyncoperationid",
    "name",
    "messagename",
    "operationtype",
    "statecode",
    "statuscode",
    "message",
    "friendlymessage",
    "errorcode",
    "createdon",
    "startedon",
    "completedon",
    "modifiedon",
    "executiontimespan",
    "retrycount",
    "depth",
    "subtype",
    "data",
    "primaryentitytype",
    "_regardingobjectid_value",
    "_ownerid_value",
    "_owninguser_value",
    "_createdby_value",
    "_modifiedby_value",
];

impl SolutionTable {
    pub fn from_entity_set(name: &str) -> Option<Self> {
        Some(match name {
            "solutions" => Self::Solutions,
            "connectionreferences" => Self::ConnectionReferences,
            "workflows" => Self::Workflows,
            "environmentvariabledefinitions" => Self::VariableDefinitions,
            "environmentvariablevalues" => Self::VariableValues,
            "asyncoperations" => Self::AsyncOperations,
            _ => return None,
        })
    }

    pub fn entity_set(self) -> &'static str {
        match self {
            Self::Solutions => "solutions",
            Self::ConnectionReferences => "connectionreferences",
            Self::Workflows => "workflows",
            Self::VariableDefinitions => "environmentvariabledefinitions",
            Self::VariableValues => "environmentvariablevalues",
            Self::AsyncOperations => "asyncoperations",
        }
    }

    pub fn logical_name(self) -> &'static str {
        match self {
            Self::Solutions => "solution",
            Self::ConnectionReferences => "connectionreference",
            Self::Workflows => "workflow",
            Self::VariableDefinitions => "environmentvariabledefinition",
            Self::VariableValues => "environmentvariablevalue",
            Self::AsyncOperations => "asyncoperation",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Solutions => "solutionid",
            Self::ConnectionReferences => "connectionreferenceid",
            Self::Workflows => "workflowid",
            Self::VariableDefinitions => "environmentvariabledefinitionid",
            Self::VariableValues => "environmentvariablevalueid",
            Self::AsyncOperations => "asyncoperationid",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Solutions => SOLUTIONS,
            Self::ConnectionReferences => CONNECTION_REFERENCES,
            Self::Workflows => WORKFLOWS,
            Self::VariableDefinitions => VARIABLE_DEFINITIONS,
            Self::VariableValues => VARIABLE_VALUES,
            Self::AsyncOperations => ASYNC_OPERATIONS,
        }
    }

    /// Navigation properties `$expand` may name, with the columns of the
    /// row each leads to (its key first): a solution's publisher.
    pub fn expandable(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Solutions => &[("publisherid", PUBLISHER)],
            _ => &[],
        }
    }

    /// The rows of the scope's environment that its actor may read.
    pub async fn readable_rows(self, scope: Scope<'_>) -> Result<Vec<Value>, DataverseError> {
        let (store, env) = (scope.store, &scope.environment.id);
        Ok(match self {
            Self::Solutions => rows(&store.solutions(env).await?, solution_row),
            Self::ConnectionReferences => {
                rows(&store.connection_references(env).await?, reference_row)
            }
            Self::Workflows => rows(&solutions::readable_workflows(scope).await?, workflow_row),
            Self::VariableDefinitions => {
                rows(&store.variable_definitions(env).await?, definition_row)
            }
            Self::VariableValues => rows(&store.variable_values(env).await?, value_row),
            Self::AsyncOperations => rows(
                &solutions::readable_operations(scope).await?,
                async_operation_row,
            ),
        })
    }

    /// One row by key, or 0x80040217 (missing, or another's flow or job:
    /// Dataverse answers a row the caller may not read as missing when it
    /// is user-owned and unshared, which these are).
    pub async fn row(self, scope: Scope<'_>, id: Uuid) -> Result<Value, DataverseError> {
        let missing = || DataverseError::does_not_exist(self.logical_name(), id);
        match self {
            Self::AsyncOperations => {
                let readable = solutions::readable_operation(scope, id).await?;
                if readable.is_none() {
                    return Err(missing());
                }
                // A poll runs an import whose time has come.
                let operation = solutions::finish_due(scope.store, id).await?;
                return operation
                    .map(|op| async_operation_row(&op))
                    .ok_or_else(missing);
            }
            Self::Workflows => {
                return solutions::readable_workflow(scope, id)
                    .await?
                    .map(|w| workflow_row(&w))
                    .ok_or_else(missing);
            }
            _ => {}
        }
        row_with_key(Table::Solution(self), self.readable_rows(scope).await?, id)
    }
}

/// A solution's row, with its publisher as `$expand=publisherid` shows it
/// (the entities handler drops it unless asked).
fn solution_row(s: &Solution) -> Value {
    let publisher = padconnect_domain::ids::derived_id(&[
        "publisher",
        &s.environment_id.to_string(),
        &s.publisher_unique_name,
    ]);
    json!({
        "@odata.etag": etag(s.versionnumber),
        "solutionid": s.id,
        "uniquename": s.unique_name,
        "friendlyname": s.friendly_name,
        "version": s.version,
        "ismanaged": s.is_managed,
        "isvisible": true,
        "isapimanaged": false,
        "installedon": time(s.installed_on),
        "createdon": time(s.installed_on),
        "modifiedon": time(s.modified_on),
        "updatedon": null,
        "description": null,
        "solutionpackageversion": "9.2",
        "solutiontype": null,
        "_publisherid_value": publisher,
        "_parentsolutionid_value": null,
        "_createdby_value": s.installed_by,
        "_modifiedby_value": s.installed_by,
        "versionnumber": s.versionnumber,
        "publisherid": {
            "publisherid": publisher,
            "uniquename": s.publisher_unique_name,
            "friendlyname": s.publisher_friendly_name,
            "customizationprefix": s.publisher_prefix,
        },
    })
}

fn reference_row(r: &ConnectionReference) -> Value {
    json!({
        "@odata.etag": etag(r.versionnumber),
        "connectionreferenceid": r.id,
        "connectionreferencelogicalname": r.logical_name,
        "connectionreferencedisplayname": r.display_name,
        "connectorid": r.connector_id,
        "connectionid": r.connection_id,
        "description": r.description,
        "promptingbehavior": 0,
        "statecode": 0,
        "statuscode": 1,
        "ismanaged": false,
        "solutionid": r.solution_id,
        "_ownerid_value": r.owner_id,
        "modifiedon": time(r.modified_on),
        "versionnumber": r.versionnumber,
    })
}

fn workflow_row(w: &Workflow) -> Value {
    json!({
        "@odata.etag": etag(w.versionnumber),
        "workflowid": w.id,
        "workflowidunique": padconnect_domain::ids::derived_id(&["workflow", &w.environment_id.to_string(), &w.id.to_string()]),
        "name": w.name,
        "category": w.category,
        "type": 1,
        "primaryentity": "none",
        "uiflowtype": w.ui_flow_type,
        "modernflowtype": if w.category == CLOUD_FLOW { Some(0) } else { None },
        "statecode": w.statecode,
        "statuscode": w.statuscode,
        "clientdata": w.client_data,
        "ismanaged": false,
        "solutionid": w.solution_id,
        "_ownerid_value": w.owner_id,
        "_owninguser_value": w.owner_id,
        "createdon": time(w.created_on),
        "modifiedon": time(w.modified_on),
        "versionnumber": w.versionnumber,
    })
}

fn definition_row(d: &VariableDefinition) -> Value {
    let declared = &d.declaration;
    json!({
        "environmentvariabledefinitionid": d.id,
        "schemaname": declared.schema_name,
        "displayname": declared.display_name,
        "type": declared.kind,
        "defaultvalue": declared.default_value,
        "isrequired": declared.is_required,
        "apiid": declared.api_id,
        "parameterkey": declared.parameter_key,
        "statecode": 0,
        "statuscode": 1,
        "ismanaged": false,
        "solutionid": d.solution_id,
        "modifiedon": time(d.modified_on),
    })
}

fn value_row(v: &VariableValue) -> Value {
    json!({
        "environmentvariablevalueid": v.id,
        "schemaname": v.schema_name,
        "value": v.value,
        "_environmentvariabledefinitionid_value": v.definition_id,
        "statecode": 0,
        "statuscode": 1,
        "modifiedon": time(v.modified_on),
    })
}

/// As the recorded ImportSolutionAsync job (get_async_operations.json).
fn async_operation_row(op: &AsyncOperation) -> Value {
    let span = match (op.started_on, op.completed_on) {
        (Some(start), Some(end)) => Some((end.0 - start.0) as f64 / 1_000_000.0),
        _ => None,
    };
    json!({
        "asyncoperationid": op.id,
        "name": op.name,
        "messagename": op.message_name,
        "operationtype": op.operation_type,
        "statecode": op.statecode,
        "statuscode": op.statuscode,
        "message": op.message,
        "friendlymessage": op.friendly_message,
        "errorcode": op.error_code,
        "createdon": time(op.created_on),
        "startedon": op.started_on.map(time),
        "completedon": op.completed_on.map(time),
        "modifiedon": time(op.completed_on.unwrap_or(op.created_on)),
        "executiontimespan": span,
        "retrycount": 0,
        "depth": 1,
        "subtype": 1,
        "data": null,
        "primaryentitytype": null,
        "_regardingobjectid_value": null,
        "_ownerid_value": op.owner_id,
        "_owninguser_value": op.owner_id,
        "_createdby_value": op.owner_id,
        "_modifiedby_value": op.owner_id,
    })
}
