//! Solutions: staging a package, importing it as a system job, binding its
//! connection references, and turning its flows on or off. Every surface
//! (the Dataverse Web API, the portal) and the job runner call these.
//!
//! What the real service does, with sources, is in
//! docs/evidence/solution-import.md; where that file says "evidence
//! silent", the choice made here is written at the rule that makes it.
//!
//! - `stage`: StageSolution, which reads and validates a package and keeps
//!   it for the import that names it;
//! - `import`: ImportSolutionAsync and the job that applies a package;
//! - `components`: what the job writes: references, variables, flows;
//! - `activation`: whether a flow can be turned on, for an import and for
//!   `PATCH workflows({id})`;
//! - `references`: binding a connection reference to a connection;
//! - `view`: a solution as the portal shows it.

mod activation;
mod components;
mod import;
mod owned;
mod references;
mod stage;
mod view;

pub use activation::{FlowOff, set_flow_state};
pub use import::{
    Binding, ImportFailure, ImportRequest, ImportResult, ImportedFlow, Started, VariableSetting,
    finish_due, run, start,
};
pub use import::{UPLOAD_LIFETIME_SECONDS, forget_stale_uploads};
pub use owned::{
    readable_import, readable_operation, readable_operations, readable_workflow, readable_workflows,
};
pub use references::bind;
pub use stage::{Staged, stage};
pub use view::{SolutionView, view};

use uuid::Uuid;

use crate::fleet::Actor;
use crate::{Error, Forbidden, Privilege, Record, Scope};
use padconnect_store::{Environment, Solution, Store, SystemUser, SystemUserKind};

/// `workflow.category` of a cloud flow.
pub const CLOUD_FLOW: i64 = 5;
/// `workflow.category` of a desktop flow.
pub const DESKTOP_FLOW: i64 = 6;
/// `workflow.statecode` of a flow that is on (Activated), with its statuscode.
pub const ON: (i64, i64) = (1, 2);
/// `workflow.statecode` of a flow that is off (Draft), with its statuscode.
pub const OFF: (i64, i64) = (0, 1);

/// Whether the actor may import and change solutions. The ImportSolution
/// message takes the customization privileges (prvCreateCustomization,
/// prvWriteSolution, ...: "ImportSolution message privileges", Dynamics
/// CRM 2016 SDK), which the System Administrator, System Customizer and
/// Environment Maker roles give; padconnect's systemusers hold Environment
/// Maker or are administrators, so the rule is [`Actor::may_create`].
pub fn require_customizer(actor: Actor<'_>) -> Result<(), Error> {
    match actor.may_create() {
        true => Ok(()),
        false => Err(Error::Forbidden(Forbidden::Privilege {
            user: actor.user.id,
            privilege: Privilege::Create("Customization"),
        })),
    }
}

/// Whether the actor may read a user-owned row of these tables (a flow, a
/// system job): its owner and the administrators may; to anyone else it
/// does not exist.
pub fn may_read_owned(actor: Actor<'_>, owner: Uuid) -> bool {
    actor.admin || actor.user.id == owner
}

/// The Microsoft Entra object id a systemuser stands for: a person's own,
/// an application user's service principal's. Connections record their
/// owners and grantees by it.
pub async fn object_id_of(
    store: &Store,
    environment: &Environment,
    user: &SystemUser,
) -> Result<Option<Uuid>, Error> {
    Ok(match user.kind {
        SystemUserKind::Person { object_id } => Some(object_id),
        SystemUserKind::Application { client_id } => store
            .app(environment.tenant_id, client_id)
            .await?
            .map(|app| app.object_id),
    })
}

/// The solution `id` of the environment; not found when it has none such.
async fn find(store: &Store, environment: &Environment, id: Uuid) -> Result<Solution, Error> {
    store
        .solutions(&environment.id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound(Record {
            entity: "solution",
            id,
        }))
}

/// Deletes a solution (`DELETE solutions({id})`). "Deleting an unmanaged
/// solution deletes only the solution container" and leaves its
/// components; deleting a managed one removes them (Import solutions, and
/// "Create and update solutions").
pub async fn delete(scope: Scope<'_>, id: Uuid) -> Result<(), Error> {
    require_customizer(scope.actor)?;
    let solution = find(scope.store, scope.environment, id).await?;
    let mut tx = scope.store.begin().await?;
    tx.delete_solution(&scope.environment.id, id, solution.is_managed)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Why an import failed, in the words and codes of Dataverse's import
/// errors (web-service-error-codes; docs/evidence/solution-import.md 2.6),
/// or of the plugin that validates a connection reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Package(#[from] padconnect_solution::PackageError),
    /// ImportMissingDependenciesError.
    #[error(
        "The following solution cannot be imported: {solution}. Some dependencies are missing. {missing}"
    )]
    MissingDependencies { solution: String, missing: String },
    /// ImportSolutionManagedToUnmanagedMismatch (installed unmanaged, package managed).
    #[error(
        "The solution is already installed on this system as an unmanaged solution and the package supplied is attempting to install it in managed mode. Import can only update solutions when the modes match. Uninstall the current solution and try again."
    )]
    InstalledUnmanaged,
    /// ImportSolutionUnmanagedToManagedMismatch (installed managed, package unmanaged).
    #[error(
        "The solution is already installed on this system as a managed solution and the package supplied is attempting to install it in unmanaged mode. Import can only update solutions when the modes match. Uninstall the current solution and try again."
    )]
    InstalledManaged,
    /// A version lower than the one installed ("You can't import a solution
    /// with a lower version number if the solution has already been
    /// imported with a higher version number", Learn training "Release
    /// process"). The service's own text is not public: these are ours,
    /// under ImportSolutionError.
    #[error(
        "The solution '{solution}' is installed at version {installed}; version {imported} is lower and cannot be imported. Raise the version of the solution you export."
    )]
    LowerVersion {
        solution: String,
        installed: String,
        imported: String,
    },
    /// The connection reference validation plugin's ConnectionNotFound
    /// (powerplatform-build-tools#533, coe-starter-kit#6586).
    #[error("Could not find connection '{connection}' for API '{api}'.")]
    ConnectionNotFound { connection: String, api: String },
    /// A ComponentParameters entry for a connection reference the solution
    /// does not have. The service's answer is not public; padconnect fails
    /// the import rather than drop the entry silently.
    #[error(
        "ComponentParameters names the connection reference '{0}', which neither the solution nor the environment has. Remove it from the settings file, or check its LogicalName."
    )]
    UnknownReference(String),
    /// A ComponentParameters entry for an environment variable the solution
    /// does not define (same choice as above).
    #[error(
        "ComponentParameters sets the environment variable '{0}', which neither the solution nor the environment defines. Remove it from the settings file, or check its SchemaName."
    )]
    UnknownVariable(String),
    /// A value of `ComponentParameters` not of its variable's type.
    #[error("ComponentParameters: {0}")]
    InvalidValue(String),
    /// The package names a flow that another installed solution holds.
    #[error(
        "The flow {flow} of this solution is a component of the solution '{solution}' already: a flow belongs to one solution. Export the flow from that solution, or give it another id."
    )]
    FlowOfAnotherSolution { flow: Uuid, solution: String },
    /// The platform's own fault while importing (logged), in pac's words
    /// for the service's (powerplatform-build-tools#520).
    #[error("An unexpected error occurred.")]
    Unexpected,
    /// The staged upload the request names is not in this environment.
    #[error(
        "There is no staged solution with StageSolutionUploadId {0} in this environment. Call StageSolution first, in the same environment."
    )]
    UnknownUpload(Uuid),
}

impl ImportError {
    /// Dataverse's name of the error.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Package(e) => e.name(),
            Self::MissingDependencies { .. } => "ImportMissingDependenciesError",
            Self::InstalledUnmanaged => "ImportSolutionManagedToUnmanagedMismatch",
            Self::InstalledManaged => "ImportSolutionUnmanagedToManagedMismatch",
            Self::ConnectionNotFound { .. } => "ConnectionNotFound",
            Self::LowerVersion { .. }
            | Self::UnknownReference(_)
            | Self::UnknownVariable(_)
            | Self::InvalidValue(_)
            | Self::FlowOfAnotherSolution { .. }
            | Self::UnknownUpload(_) => "ImportSolutionError",
            Self::Unexpected => "ImportGenericError",
        }
    }

    /// Dataverse's hexadecimal code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Package(e) => e.code(),
            Self::MissingDependencies { .. } => "0x8004801D",
            Self::InstalledUnmanaged => "0x80048040",
            Self::InstalledManaged => "0x80048041",
            Self::Unexpected => "0x8004801E",
            _ => "0x80048033",
        }
    }

    /// The code as `asyncoperation.errorcode` holds it (a signed integer).
    pub fn code_number(&self) -> i64 {
        let hex = self.code().trim_start_matches("0x");
        u32::from_str_radix(hex, 16).map_or(0, |n| i64::from(n as i32))
    }
}
