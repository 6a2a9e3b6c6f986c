//! ImportSolutionAsync and the system job that applies a package.
//!
//! [`start`] writes the job (an `asyncoperation`, In Progress) and answers
//! at once; the job runs once the environment's `import_seconds` have
//! passed, in one transaction, on whichever replica touches it first: a
//! poll of the job ([`finish_due`]) or the runner every replica has
//! ([`run`]). A crash during the run rolls its transaction back, and the
//! job runs again: it always ends Succeeded or Failed, never lost.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use padconnect_solution::{Package, Version, WorkflowCategory, value_fits};
use padconnect_store::{
    AsyncOperation, ConnectionReference, Environment, Outcome, Solution, Store, SystemUser,
    Timestamp, Tx, VariableDefinition, VariableValue, Workflow,
};

use super::activation::{self, FlowOff, Importer};
use super::stage::{describe, missing_dependencies};
use super::{ImportError, OFF, ON, references, require_customizer};
use crate::Error;
use crate::fleet::Actor;

/// `asyncoperation.operationtype` of an ImportSolutionAsync job: 54
/// "Execute Async Request", as the recorded job shows (not 203).
const EXECUTE_ASYNC_REQUEST: i64 = 54;
const SUCCEEDED: i64 = 30;
const FAILED: i64 = 31;

/// What ImportSolutionAsync was asked, kept with the job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The StageSolution upload to import.
    pub upload_id: Uuid,
    pub overwrite_unmanaged_customizations: bool,
    /// Activates classic workflows; "doesn't apply to other types of
    /// flows" (manage-flows-with-code).
    pub publish_workflows: bool,
    /// The connection references of `ComponentParameters`.
    pub bindings: Vec<Binding>,
    /// The environment variable values of `ComponentParameters`.
    pub values: Vec<VariableSetting>,
}

/// A `connectionreference` entry of `ComponentParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub logical_name: String,
    /// As sent: empty leaves the reference as it is.
    pub connection_id: String,
}

/// An `environmentvariablevalue` entry of `ComponentParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableSetting {
    pub schema_name: String,
    pub value: String,
}

/// The ids ImportSolutionAsync answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub async_operation_id: Uuid,
    pub import_job_id: Uuid,
}

/// What an import did, kept as the job's result and read back by
/// RetrieveSolutionImportResult and the portal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResult {
    pub solution_name: String,
    pub version: String,
    pub managed: bool,
    /// The version installed before, if any.
    pub previous_version: Option<String>,
    pub flows: Vec<ImportedFlow>,
    /// Set when the import failed.
    pub failure: Option<ImportFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedFlow {
    pub id: Uuid,
    pub name: String,
    pub category: i64,
    pub on: bool,
    /// Why it was left off.
    pub off: Option<FlowOff>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    /// Dataverse's name of the error: `ImportMissingDependenciesError`.
    pub name: String,
    /// Dataverse's hexadecimal code.
    pub code: String,
    pub message: String,
}

/// Starts an import of a staged upload.
pub async fn start(
    store: &Store,
    actor: Actor<'_>,
    environment: &Environment,
    request: ImportRequest,
) -> Result<Started, Error> {
    require_customizer(actor)?;
    if store
        .solution_upload(&environment.id, request.upload_id)
        .await?
        .is_none()
    {
        return Err(ImportError::UnknownUpload(request.upload_id).into());
    }
    let now = Timestamp::now();
    let job = JobRequest {
        request,
        admin: actor.admin,
    };
    let operation = AsyncOperation {
        id: Uuid::new_v4(),
        environment_id: environment.id,
        name: "ImportSolution".into(),
        message_name: "ImportSolutionAsync".into(),
        operation_type: EXECUTE_ASYNC_REQUEST,
        statecode: 2,
        statuscode: 20,
        owner_id: actor.user.id,
        import_job_id: Some(Uuid::new_v4()),
        request: serde_json::to_string(&job)
            .map_err(|_| Error::Internal("writing the import request"))?,
        result: None,
        message: None,
        friendly_message: None,
        error_code: None,
        created_on: now,
        started_on: Some(now),
        completed_on: None,
        due_on: now.plus_seconds(i64::try_from(environment.import_seconds).unwrap_or(i64::MAX)),
    };
    let mut tx = store.begin().await?;
    tx.insert_async_operation(&operation).await?;
    tx.commit().await?;
    Ok(Started {
        async_operation_id: operation.id,
        import_job_id: operation.import_job_id.unwrap_or_default(),
    })
}

/// The job's request, and whether its owner was an administrator when it
/// started (an administrator may use every connection).
#[derive(Debug, Serialize, Deserialize)]
struct JobRequest {
    request: ImportRequest,
    admin: bool,
}

/// Runs the job `id` if it is due and not done, and answers it as it is now.
pub async fn finish_due(store: &Store, id: Uuid) -> Result<Option<AsyncOperation>, Error> {
    let Some(operation) = store.async_operation(id).await? else {
        return Ok(None);
    };
    if operation.is_done() || operation.due_on > Timestamp::now() {
        return Ok(Some(operation));
    }
    run(store, id).await?;
    Ok(store.async_operation(id).await?)
}

/// Runs the job `id` now, unless another run finished it first.
pub async fn run(store: &Store, id: Uuid) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let Some(operation) = tx.claim_async_operation(id).await? else {
        return Ok(());
    };
    let upload = upload_of(&operation);
    let applied = match apply(store, &mut tx, &operation).await {
        Ok(applied) => applied,
        // The platform's own fault (a store error, say) ends the job too:
        // a job left In Progress would be run again every second forever.
        Err(error) => {
            tracing::error!(%error, job = %id, "a solution import failed on the platform's side");
            Err((ImportError::Unexpected, ImportResult::default()))
        }
    };
    match applied {
        Ok(result) => {
            let outcome = outcome(SUCCEEDED, &result, None);
            tx.finish_async_operation(id, &outcome).await?;
            forget(&mut tx, upload).await?;
            tx.commit().await?;
        }
        Err((error, result)) => {
            // Nothing of a failed import stays: its writes go, its end stays.
            drop(tx);
            let mut tx = store.begin().await?;
            if tx.claim_async_operation(id).await?.is_some() {
                tx.finish_async_operation(id, &outcome(FAILED, &result, Some(&error)))
                    .await?;
                forget(&mut tx, upload).await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

/// The staged zip a job imports.
fn upload_of(operation: &AsyncOperation) -> Option<Uuid> {
    serde_json::from_str::<JobRequest>(&operation.request)
        .ok()
        .map(|job| job.request.upload_id)
}

/// A staged zip is imported once (each import stages its own, as the
/// Terraform provider and pac do): the job that imported it forgets it, so
/// a thousand imports keep no thousand zips.
async fn forget(tx: &mut Tx, upload: Option<Uuid>) -> Result<(), Error> {
    if let Some(upload) = upload {
        tx.delete_solution_upload(upload).await?;
    }
    Ok(())
}

/// How long a staged zip waits for its import: then it is forgotten.
/// padconnect's choice: how long the service keeps a staged upload is not
/// public.
pub const UPLOAD_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// Forgets the staged zips no import took within [`UPLOAD_LIFETIME_SECONDS`].
pub async fn forget_stale_uploads(store: &Store) -> Result<u64, Error> {
    let mut tx = store.begin().await?;
    let forgotten = tx
        .delete_solution_uploads_before(Timestamp::now().plus_seconds(-UPLOAD_LIFETIME_SECONDS))
        .await?;
    tx.commit().await?;
    Ok(forgotten)
}

fn outcome(statuscode: i64, result: &ImportResult, error: Option<&ImportError>) -> Outcome {
    let mut result = result.clone();
    result.failure = error.map(|e| ImportFailure {
        name: e.name().to_owned(),
        code: e.code().to_owned(),
        message: e.to_string(),
    });
    Outcome {
        statuscode,
        result: serde_json::to_string(&result).unwrap_or_default(),
        message: error.map(ToString::to_string),
        error_code: error.map(ImportError::code_number),
    }
}

type Applied = Result<ImportResult, (ImportError, ImportResult)>;

/// Applies the job's package in `tx`: the import's rules, in order.
async fn apply(store: &Store, tx: &mut Tx, operation: &AsyncOperation) -> Result<Applied, Error> {
    let job: JobRequest = serde_json::from_str(&operation.request)
        .map_err(|_| Error::Internal("reading an import request"))?;
    let request = job.request;
    let Some(environment) = store.environment(&operation.environment_id).await? else {
        return Err(Error::Internal("finding the environment of an import"));
    };
    let mut result = ImportResult::default();
    let Some(upload) = store
        .solution_upload(&environment.id, request.upload_id)
        .await?
    else {
        return Ok(Err((ImportError::UnknownUpload(request.upload_id), result)));
    };
    let package = match super::stage::parse(upload.zip).await? {
        Ok(package) => package,
        Err(e) => return Ok(Err((e, result))),
    };
    let manifest = &package.manifest;
    result.solution_name = manifest.unique_name.clone();
    result.version = manifest.version.to_string();
    result.managed = manifest.managed;
    let installed = tx
        .solution_by_name(&environment.id, &manifest.unique_name)
        .await?;
    result.previous_version = installed.as_ref().map(|s| s.version.clone());
    if let Err(error) = check_upgrade(&package, installed.as_ref()) {
        return Ok(Err((error, result)));
    }
    let missing = missing_dependencies(store, &environment, &package).await?;
    if !missing.is_empty() {
        let error = ImportError::MissingDependencies {
            solution: manifest.unique_name.clone(),
            missing: describe(&missing),
        };
        return Ok(Err((error, result)));
    }
    let Some(owner) = store.system_user(operation.owner_id).await? else {
        return Err(Error::Internal("finding the owner of an import"));
    };
    let now = Timestamp::now();
    let solution = Solution {
        environment_id: environment.id,
        id: installed.as_ref().map_or_else(Uuid::new_v4, |s| s.id),
        unique_name: manifest.unique_name.clone(),
        friendly_name: manifest.display_name.clone(),
        version: manifest.version.to_string(),
        is_managed: manifest.managed,
        publisher_unique_name: manifest.publisher.unique_name.clone(),
        publisher_friendly_name: manifest.publisher.display_name.clone(),
        publisher_prefix: manifest.publisher.prefix.clone(),
        installed_by: owner.id,
        installed_on: installed.as_ref().map_or(now, |s| s.installed_on),
        modified_on: now,
        versionnumber: now.0,
    };
    tx.upsert_solution(&solution).await?;
    if let Err(error) = bind_references(
        store,
        tx,
        &environment,
        &package,
        &solution,
        &owner,
        &request,
    )
    .await?
    {
        return Ok(Err((error, result)));
    }
    if let Err(error) = set_variables(tx, &environment, &package, &solution, &request).await? {
        return Ok(Err((error, result)));
    }
    let importer = Importer::new(store, &environment, &owner, job.admin).await?;
    match import_flows(tx, &importer, &package, &solution, &request).await? {
        Ok(flows) => result.flows = flows,
        Err(error) => return Ok(Err((error, result))),
    }
    Ok(Ok(result))
}

/// Modes must match, and the version may not go down.
fn check_upgrade(package: &Package, installed: Option<&Solution>) -> Result<(), ImportError> {
    let Some(installed) = installed else {
        return Ok(());
    };
    let manifest = &package.manifest;
    match (installed.is_managed, manifest.managed) {
        (false, true) => return Err(ImportError::InstalledUnmanaged),
        (true, false) => return Err(ImportError::InstalledManaged),
        _ => {}
    }
    let have = installed.version.parse::<Version>().ok();
    if have.is_some_and(|have| manifest.version < have) {
        return Err(ImportError::LowerVersion {
            solution: manifest.unique_name.clone(),
            installed: installed.version.clone(),
            imported: manifest.version.to_string(),
        });
    }
    Ok(())
}

/// Creates or updates each of the package's connection references, bound
/// as `ComponentParameters` say. An empty `connectionid` leaves a reference
/// as it was (the Terraform provider sends one for every settings-file
/// entry without an id; what the service does with it is not public).
async fn bind_references(
    store: &Store,
    tx: &mut Tx,
    environment: &Environment,
    package: &Package,
    solution: &Solution,
    owner: &SystemUser,
    request: &ImportRequest,
) -> Result<Result<(), ImportError>, Error> {
    for binding in &request.bindings {
        let in_package = package
            .components
            .connection_references
            .iter()
            .any(|r| r.logical_name == binding.logical_name);
        if !in_package
            && tx
                .connection_reference_by_name(&environment.id, &binding.logical_name)
                .await?
                .is_none()
        {
            return Ok(Err(ImportError::UnknownReference(
                binding.logical_name.clone(),
            )));
        }
    }
    let now = Timestamp::now();
    for reference in &package.components.connection_references {
        let existing = tx
            .connection_reference_by_name(&environment.id, &reference.logical_name)
            .await?;
        let mut connection_id = existing.as_ref().and_then(|r| r.connection_id.clone());
        let given = request.bindings.iter().find(|b| {
            b.logical_name == reference.logical_name && !b.connection_id.trim().is_empty()
        });
        if let Some(given) = given {
            match references::find_connection(
                store,
                environment,
                &reference.connector_id,
                &given.connection_id,
            )
            .await?
            {
                Ok(connection) => connection_id = Some(connection.id.to_string()),
                Err(error) => return Ok(Err(error)),
            }
        }
        let row = ConnectionReference {
            environment_id: environment.id,
            id: existing.as_ref().map_or_else(Uuid::new_v4, |r| r.id),
            solution_id: solution.id,
            logical_name: reference.logical_name.clone(),
            display_name: reference.display_name.clone(),
            connector_id: reference.connector_id.clone(),
            connection_id,
            description: reference.description.clone(),
            owner_id: existing.as_ref().map_or(owner.id, |r| r.owner_id),
            modified_on: now,
            versionnumber: now.0,
        };
        tx.upsert_connection_reference(&row).await?;
    }
    // Entries for references the environment has from elsewhere bind them too.
    for binding in request.bindings.iter().filter(|b| {
        !b.connection_id.trim().is_empty()
            && !package
                .components
                .connection_references
                .iter()
                .any(|r| r.logical_name == b.logical_name)
    }) {
        let Some(existing) = tx
            .connection_reference_by_name(&environment.id, &binding.logical_name)
            .await?
        else {
            continue;
        };
        let connection = match references::find_connection(
            store,
            environment,
            &existing.connector_id,
            &binding.connection_id,
        )
        .await?
        {
            Ok(connection) => connection,
            Err(error) => return Ok(Err(error)),
        };
        tx.set_reference_connection(&existing, Some(connection.id.to_string()), now.0)
            .await?;
    }
    Ok(Ok(()))
}

/// Creates or updates each definition; a value from `ComponentParameters`
/// becomes the current value (padconnect's choice: the settings file is
/// the deployment's word; whether the service overwrites an existing value
/// is not public, and users report both), else the package's value when
/// the environment has none yet ("You will not see this screen if
/// value(s) are already present in your solution or the target
/// environment", Import solutions).
async fn set_variables(
    tx: &mut Tx,
    environment: &Environment,
    package: &Package,
    solution: &Solution,
    request: &ImportRequest,
) -> Result<Result<(), ImportError>, Error> {
    for setting in &request.values {
        let in_package = package
            .components
            .environment_variables
            .iter()
            .any(|v| v.schema_name == setting.schema_name);
        if !in_package
            && tx
                .variable_definition_by_name(&environment.id, &setting.schema_name)
                .await?
                .is_none()
        {
            return Ok(Err(ImportError::UnknownVariable(
                setting.schema_name.clone(),
            )));
        }
    }
    let now = Timestamp::now();
    for variable in &package.components.environment_variables {
        let existing = tx
            .variable_definition_by_name(&environment.id, &variable.schema_name)
            .await?;
        let definition = VariableDefinition {
            environment_id: environment.id,
            id: existing.as_ref().map_or_else(Uuid::new_v4, |d| d.id),
            solution_id: solution.id,
            schema_name: variable.schema_name.clone(),
            display_name: variable.display_name.clone(),
            kind: variable.kind,
            default_value: variable.default_value.clone(),
            is_required: variable.is_required,
            api_id: variable.api_id.clone(),
            parameter_key: variable.parameter_key.clone(),
            modified_on: now,
        };
        tx.upsert_variable_definition(&definition).await?;
        let given = request
            .values
            .iter()
            .find(|s| s.schema_name == variable.schema_name && !s.value.is_empty());
        if let Some(setting) = given
            && let Err(why) = variable.accepts(&setting.value)
        {
            return Ok(Err(ImportError::InvalidValue(why)));
        }
        let value = match (given, &variable.value) {
            (Some(setting), _) => Some((None, setting.value.clone())),
            (None, Some(packaged))
                if !tx
                    .has_variable_value(&environment.id, definition.id)
                    .await? =>
            {
                Some((packaged.id, packaged.value.clone()))
            }
            _ => None,
        };
        if let Some((id, value)) = value {
            tx.upsert_variable_value(&VariableValue {
                environment_id: environment.id,
                id: id.unwrap_or_else(Uuid::new_v4),
                definition_id: definition.id,
                schema_name: variable.schema_name.clone(),
                value,
                modified_on: now,
            })
            .await?;
        }
    }
    // Values for definitions the environment has from elsewhere.
    for setting in request.values.iter().filter(|s| {
        !s.value.is_empty()
            && !package
                .components
                .environment_variables
                .iter()
                .any(|v| v.schema_name == s.schema_name)
    }) {
        let Some(definition) = tx
            .variable_definition_by_name(&environment.id, &setting.schema_name)
            .await?
        else {
            continue;
        };
        if let Err(why) = value_fits(definition.kind, &definition.schema_name, &setting.value) {
            return Ok(Err(ImportError::InvalidValue(why)));
        }
        tx.upsert_variable_value(&VariableValue {
            environment_id: environment.id,
            id: Uuid::new_v4(),
            definition_id: definition.id,
            schema_name: definition.schema_name.clone(),
            value: setting.value.clone(),
            modified_on: now,
        })
        .await?;
    }
    Ok(Ok(()))
}

/// Writes each flow, on where [`activation`] allows, off with the reason
/// otherwise. "During solution import into a target environment, a
/// connection is provided for all the connection references so any
/// referencing flows can be turned on automatically after the import
/// completes" (Use a connection reference in a solution); a flow whose
/// references cannot be used stays off, and the import still succeeds.
async fn import_flows(
    tx: &mut Tx,
    importer: &Importer,
    package: &Package,
    solution: &Solution,
    request: &ImportRequest,
) -> Result<Result<Vec<ImportedFlow>, ImportError>, Error> {
    let now = Timestamp::now();
    let mut flows = Vec::new();
    for flow in &package.components.workflows {
        // A flow of another installed solution is not taken over; one of
        // this solution keeps its owner (the importer enables it).
        let existing = tx.workflow(&solution.environment_id, flow.id).await?;
        if let Some(existing) = &existing
            && existing.solution_id != solution.id
            && let Some(other) = tx
                .solution(&solution.environment_id, existing.solution_id)
                .await?
        {
            return Ok(Err(ImportError::FlowOfAnotherSolution {
                flow: flow.id,
                solution: other.unique_name,
            }));
        }
        let off = match flow.category {
            WorkflowCategory::CloudFlow | WorkflowCategory::DesktopFlow => {
                activation::why_off(tx, importer, &flow.connection_references).await?
            }
            // Classic processes follow PublishWorkflows.
            WorkflowCategory::Other(_) if request.publish_workflows => None,
            WorkflowCategory::Other(_) => Some(FlowOff::not_published()),
        };
        let (statecode, statuscode) = if off.is_none() { ON } else { OFF };
        tx.upsert_workflow(&Workflow {
            environment_id: solution.environment_id,
            id: flow.id,
            solution_id: solution.id,
            name: flow.name.clone(),
            category: flow.category.code(),
            ui_flow_type: flow.ui_flow_type,
            statecode,
            statuscode,
            client_data: flow.client_data.clone(),
            owner_id: existing.as_ref().map_or(importer.user.id, |w| w.owner_id),
            created_on: existing.as_ref().map_or(now, |w| w.created_on),
            modified_on: now,
            versionnumber: now.0,
        })
        .await?;
        flows.push(ImportedFlow {
            id: flow.id,
            name: flow.name.clone(),
            category: flow.category.code(),
            on: off.is_none(),
            off,
        });
    }
    Ok(Ok(flows))
}

impl From<ImportError> for Error {
    fn from(error: ImportError) -> Self {
        Self::Import(error)
    }
}
