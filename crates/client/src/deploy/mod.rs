//! Deploying a solution with its settings: check the settings against the
//! environment, stage, import asynchronously, wait, turn on the flows the
//! import left off where the service allows, and report each connection
//! reference and flow. `padconnect deploy` and `padconnect settings check`
//! are this module and its output.
//!
//! - `settings`: the settings file and its `ComponentParameters`;
//! - `check`: `settings check`;
//! - `report`: what a deployment reports.

mod check;
mod report;
mod settings;

use std::time::{Duration, Instant};

use padconnect_core::EnvironmentId;
use padconnect_solution::Package;
use serde_json::Value;

pub use check::{Problem, check};
pub use report::{DeployReport, FlowReport, ReferenceReport};
use report::{flows_on, planned_flows, reference_reports};
pub use settings::{DeploySettings, ReferenceSetting, VariableValue};

use crate::{ClientError, ConnectionsClient, DataverseClient};

/// Why an import failed: its job's message and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailed {
    pub code: String,
    pub message: String,
}

/// What [`deploy`] ends with.
pub enum Deployed {
    Done(DeployReport),
    /// StageSolution said Failed: the missing dependencies, in words.
    StageFailed(Vec<String>),
    ImportFailed(ImportFailed),
}

/// What `deploy` is asked.
pub struct DeployRequest<'a> {
    pub zip: &'a [u8],
    pub package: &'a Package,
    pub settings: &'a DeploySettings,
    pub force: bool,
    pub dry_run: bool,
    /// How long to wait for the import job.
    pub timeout: Duration,
}

/// Deploys: see the module's documentation. `progress` is told each step.
pub async fn deploy(
    dataverse: &DataverseClient,
    connections: &ConnectionsClient,
    environment: &EnvironmentId,
    request: &DeployRequest<'_>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Deployed, ClientError> {
    let manifest = &request.package.manifest;
    let started = Instant::now();
    let installed = dataverse.solution(&manifest.unique_name).await?;
    let previous = installed
        .as_ref()
        .and_then(|s| s["version"].as_str())
        .map(str::to_owned);
    let same = previous.as_deref() == Some(manifest.version.to_string().as_str());
    let mut report = DeployReport {
        solution: manifest.unique_name.clone(),
        version: manifest.version.to_string(),
        managed: manifest.managed,
        previous_version: previous.clone(),
        ..DeployReport::default()
    };
    if request.dry_run || (same && !request.force) {
        report.action = if request.dry_run {
            "dry-run"
        } else {
            "unchanged"
        }
        .into();
        if request.dry_run {
            let settings = &request.settings.connection_references;
            report.connection_references =
                reference_reports(connections, environment, request.package, |name| {
                    settings
                        .iter()
                        .find(|s| s.logical_name == name && !s.connection_id.is_empty())
                        .map(|s| s.connection_id.clone())
                })
                .await?;
            report.flows = planned_flows(request.package, &report.connection_references);
            return Ok(Deployed::Done(report));
        }
        progress(&format!(
            "{} {} is installed already: nothing to import (--force imports it again)",
            manifest.unique_name, manifest.version
        ));
    } else {
        progress(&format!(
            "staging {} {}",
            manifest.unique_name, manifest.version
        ));
        let staged = dataverse.stage_solution(request.zip).await?;
        if staged["StageSolutionStatus"] != "Passed" {
            return Ok(Deployed::StageFailed(missing_dependencies(&staged)));
        }
        let upload = staged["StageSolutionUploadId"].as_str().unwrap_or_default();
        let job = dataverse
            .import_solution_async(upload, request.settings.component_parameters())
            .await?;
        if let Err(failed) = wait(
            dataverse,
            &job.async_operation_id,
            request.timeout,
            started,
            progress,
        )
        .await?
        {
            return Ok(Deployed::ImportFailed(failed));
        }
        report.action = "imported".into();
    }
    let Some(solution) = dataverse.solution(&manifest.unique_name).await? else {
        return Err(ClientError::Protocol {
            url: "solutions".into(),
            reason: format!("{} is not installed after its import", manifest.unique_name),
        });
    };
    let rows = dataverse.connection_references().await?;
    report.connection_references =
        reference_reports(connections, environment, request.package, |name| {
            rows.iter()
                .find(|r| r["connectionreferencelogicalname"] == name)
                .and_then(|r| r["connectionid"].as_str())
                .map(str::to_owned)
        })
        .await?;
    report.flows = flows_on(
        dataverse,
        solution["solutionid"].as_str().unwrap_or_default(),
        report.action == "imported",
        progress,
    )
    .await?;
    report.seconds = started.elapsed().as_secs();
    Ok(Deployed::Done(report))
}

fn missing_dependencies(staged: &Value) -> Vec<String> {
    staged["MissingDependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let solution = d["RequiredSolutionName"]
                .as_str()
                .map(|s| format!(" of the solution {s}"))
                .unwrap_or_default();
            format!(
                "{}{solution}, needed by {}",
                d["RequiredComponentSchemaName"]
                    .as_str()
                    .unwrap_or("a component"),
                d["DependentComponentSchemaName"]
                    .as_str()
                    .unwrap_or("the solution")
            )
        })
        .collect()
}

/// Polls the job with a growing interval (0.5 s to 5 s) until it ends.
async fn wait(
    dataverse: &DataverseClient,
    job: &str,
    timeout: Duration,
    started: Instant,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Result<(), ImportFailed>, ClientError> {
    let mut interval = Duration::from_millis(500);
    loop {
        let operation = dataverse.async_operation(job).await?;
        let state = operation["statecode"].as_i64();
        let status = operation["statuscode"].as_i64();
        if state == Some(3) || !operation["completedon"].is_null() {
            return Ok(match status {
                Some(30) => Ok(()),
                _ => Err(ImportFailed {
                    code: operation["errorcode"]
                        .as_i64()
                        .map(|c| format!("0x{:08X}", c as u32))
                        .unwrap_or_else(|| "ImportFailed".into()),
                    message: operation["friendlymessage"]
                        .as_str()
                        .or(operation["message"].as_str())
                        .unwrap_or("the import job failed without a message")
                        .to_owned(),
                }),
            });
        }
        let elapsed = started.elapsed();
        if elapsed > timeout {
            return Err(ClientError::Protocol {
                url: format!("asyncoperations({job})"),
                reason: format!(
                    "the import is still running after {} s: poll asyncoperations({job}) later, or raise --timeout",
                    elapsed.as_secs()
                ),
            });
        }
        progress(&format!("importing: In Progress ({} s)", elapsed.as_secs()));
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
    }
}
