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

use padconnect_solution::{Package, Version};
use padconnect_store::{AsyncOperation, Outcome, Solution, Store, Tx};

use super::activation::{FlowOff, Importer};
use super::stage::{describe, missing_dependencies};
use super::{ImportError, components, require_customizer};
use crate::{Error, Scope};

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
pub async fn start(scope: Scope<'_>, request: ImportRequest) -> Result<Started, Error> {
    require_customizer(scope.actor)?;
    let Scope {
        store, environment, ..
    } = scope;
    if store
        .solution_upload(&environment.id, request.upload_id)
        .await?
        .is_none()
    {
        return Err(ImportError::UnknownUpload(request.upload_id).into());
    }
    let now = store.now();
    let job = JobRequest {
        request,
        admin: scope.actor.admin,
    };
    let operation = AsyncOperation {
        id: Uuid::new_v4(),
        environment_id: environment.id,
        name: "ImportSolution".into(),
        message_name: "ImportSolutionAsync".into(),
        operation_type: EXECUTE_ASYNC_REQUEST,
        statecode: 2,
        statuscode: 20,
        owner_id: scope.actor.user.id,
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
    if operation.is_done() || operation.due_on > store.now() {
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
        .delete_solution_uploads_before(store.now().plus_seconds(-UPLOAD_LIFETIME_SECONDS))
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
    let now = store.now();
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
    if let Err(error) = components::bind_references(
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
    if let Err(error) =
        components::set_variables(tx, &environment, &package, &solution, &request).await?
    {
        return Ok(Err((error, result)));
    }
    let importer = Importer::new(store, &environment, &owner, job.admin).await?;
    match components::import_flows(tx, &importer, &package, &solution, &request).await? {
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

impl From<ImportError> for Error {
    fn from(error: ImportError) -> Self {
        Self::Import(error)
    }
}
