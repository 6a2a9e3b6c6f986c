//! StageSolution: read a package, list what it needs that the environment
//! lacks, and keep it for the import that names its upload id.

use padconnect_solution::{Dependency, Package, Version};
use uuid::Uuid;

use super::{ImportError, require_customizer};
use crate::{Error, Scope};
use padconnect_store::{Environment, Solution, SolutionUpload, Store};

/// Solutions every environment has, which a package may depend on without
/// them being listed in `solutions` here. padconnect's choice: the real
/// list is the environment's system layers and first-party apps.
const BASE_SOLUTIONS: [&str; 4] = ["Active", "Basic", "Default", "System"];

/// What StageSolution found.
#[derive(Debug, Clone)]
pub struct Staged {
    pub upload_id: Uuid,
    pub package: Package,
    /// The dependencies the export declared missing that this environment
    /// does not hold either.
    pub missing: Vec<Dependency>,
    /// The installed solution of the same unique name, if any.
    pub installed: Option<Solution>,
}

impl Staged {
    /// `StageSolutionStatus`: `Passed` unless a dependency is missing. The
    /// Terraform provider fails unless it reads `Passed`, and words each
    /// `MissingDependencies` entry as the reason (api_solution.go), which
    /// says a missing dependency fails the stage; the service's rule itself
    /// is not public (docs/evidence/solution-import.md 5.4).
    pub fn passed(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Reads `zip` and keeps it for an import by the same environment.
pub async fn stage(scope: Scope<'_>, zip: Vec<u8>) -> Result<Staged, Error> {
    require_customizer(scope.actor)?;
    let Scope {
        store, environment, ..
    } = scope;
    let (package, zip) = parse_keeping(zip).await?;
    let package = package?;
    let installed = store
        .solution_by_name(&environment.id, &package.manifest.unique_name)
        .await?;
    let missing = missing_dependencies(store, environment, &package).await?;
    let upload = SolutionUpload {
        id: Uuid::new_v4(),
        environment_id: environment.id,
        zip,
        created_by: scope.actor.user.id,
        created_on: store.now(),
    };
    let mut tx = store.begin().await?;
    tx.insert_solution_upload(&upload).await?;
    tx.commit().await?;
    Ok(Staged {
        upload_id: upload.id,
        package,
        missing,
        installed,
    })
}

/// Reads a package off the async workers: unpacking and walking up to
/// 64 MiB of XML is CPU work that must not stall other requests.
pub(super) async fn parse(zip: Vec<u8>) -> Result<Result<Package, ImportError>, Error> {
    Ok(parse_keeping(zip).await?.0)
}

/// [`parse`], handing the zip back.
async fn parse_keeping(zip: Vec<u8>) -> Result<(Result<Package, ImportError>, Vec<u8>), Error> {
    tokio::task::spawn_blocking(move || (Package::from_zip(&zip).map_err(ImportError::from), zip))
        .await
        .map_err(|_| Error::Internal("reading a solution package"))
}

/// The package's declared missing dependencies whose solution is neither a
/// base solution nor installed here at the version required or later.
pub(super) async fn missing_dependencies(
    store: &Store,
    environment: &Environment,
    package: &Package,
) -> Result<Vec<Dependency>, Error> {
    let installed = store.solutions(&environment.id).await?;
    Ok(package
        .manifest
        .missing_dependencies
        .iter()
        .filter(|dependency| !satisfied(dependency, &installed))
        .cloned()
        .collect())
}

fn satisfied(dependency: &Dependency, installed: &[Solution]) -> bool {
    let Some((name, version)) = &dependency.required.solution else {
        // No solution named: a component of the environment itself.
        return true;
    };
    if BASE_SOLUTIONS
        .iter()
        .any(|base| base.eq_ignore_ascii_case(name))
    {
        return true;
    }
    installed.iter().any(|solution| {
        solution.unique_name.eq_ignore_ascii_case(name)
            && match (version, solution.version.parse::<Version>()) {
                (Some(required), Ok(have)) => have >= *required,
                _ => true,
            }
    })
}

/// The sentence that lists missing dependencies in an import's failure.
pub(super) fn describe(missing: &[Dependency]) -> String {
    missing
        .iter()
        .map(|d| {
            let solution = d
                .required
                .solution
                .as_ref()
                .map(|(name, version)| match version {
                    Some(v) => format!(" of the solution {name} ({v})"),
                    None => format!(" of the solution {name}"),
                })
                .unwrap_or_default();
            format!(
                "{} '{}'{solution} is required by '{}'.",
                kind_name(&d.required.kind),
                d.required.schema_name,
                d.dependent.schema_name
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_name(code: &str) -> &'static str {
    match code {
        "1" => "The table",
        "29" => "The flow",
        "371" => "The connector",
        "380" => "The environment variable",
        _ => "The component",
    }
}
