//! `padconnect deploy` and `padconnect settings check`: import a solution
//! with its deployment settings, after checking them against the
//! environment. The workflow is `padconnect_client::deploy`'s; this file
//! reads the arguments and files and prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use padconnect_client::deploy::{self, DeployRequest, DeploySettings, Deployed, Problem};
use padconnect_client::runs::RunRequest;
use padconnect_core::desktop_runs::MAX_TIMEOUT_SECONDS;
use padconnect_solution::Package;

use crate::exit::{Exit, Failure, usage};
use crate::output::{self, Format, err, out};
use crate::session::Session;
use crate::target::{TargetArgs, in_session};
use crate::verify;

#[derive(Args)]
pub struct DeployArgs {
    /// The solution zip, as a solution export or `pac solution pack` makes it.
    #[arg(long, value_name = "ZIP")]
    solution: PathBuf,
    /// The deployment settings file (`padconnect settings`, `pac solution
    /// create-settings`): connection references and environment variables.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Check the settings against the environment first, and import only if
    /// nothing is wrong (see `padconnect settings check`).
    #[arg(long)]
    check: bool,
    /// Import even when this version is installed already.
    #[arg(long)]
    force: bool,
    /// Show what would be imported and bound; change nothing.
    #[arg(long, conflicts_with = "force")]
    dry_run: bool,
    /// Seconds to wait for the import job before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    timeout: u64,
    /// After the import, run this desktop flow (its name or workflow id)
    /// through the solution's desktop flow connection reference, and fail
    /// (exit 8) unless the run succeeds (see `padconnect verify`).
    #[arg(long, value_name = "FLOW", conflicts_with = "dry_run")]
    verify: Option<String>,
    /// The connection reference the --verify run goes through, when the
    /// solution has several of shared_uiflow.
    #[arg(long, value_name = "LOGICAL_NAME", requires = "verify")]
    verify_reference: Option<String>,
    /// Seconds to wait for the --verify run; a run still going then is
    /// cancelled.
    #[arg(long, value_name = "SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECONDS.unsigned_abs()))]
    run_timeout: u64,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The deployment settings file to check.
    file: PathBuf,
    /// The solution zip the file is for: also checks that every reference
    /// and variable is in it, and each value's type.
    #[arg(long, value_name = "ZIP")]
    solution: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

fn not_ready(message: String) -> anyhow::Error {
    Failure {
        exit: Exit::NotReady,
        message,
    }
    .into()
}

fn read_package(path: &Path) -> anyhow::Result<(Vec<u8>, Package)> {
    let zip =
        std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let package = Package::from_zip(&zip).map_err(|e| {
        usage(format!(
            "{} is not a solution Dataverse imports: {e}",
            path.display()
        ))
    })?;
    Ok((zip, package))
}

fn read_settings(path: &Path) -> anyhow::Result<DeploySettings> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{} is not JSON: {e}", path.display())))?;
    DeploySettings::parse(&document).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// The signed-in identity's Entra object id, from its token.
async fn caller(session: &Session) -> anyhow::Result<Option<String>> {
    let token = session.api_token().await?;
    Ok(padconnect_client::token_object_id(&token.current()))
}

fn print_problems(problems: &[Problem], format: Format) {
    match format {
        Format::Json => output::json(&serde_json::json!({ "problems": problems })),
        Format::Table => {
            for p in problems {
                out!("{}: {}", p.entry, p.problem);
            }
        }
    }
}

/// `padconnect settings check FILE`.
pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    let settings = read_settings(&args.file)?;
    let package = args.solution.as_deref().map(read_package).transpose()?;
    let problems = in_session(&args.target, async |session, environment, connections| {
        let caller = caller(session).await?;
        Ok(deploy::check(
            connections,
            &environment,
            caller.as_deref(),
            &settings,
            package.as_ref().map(|(_, p)| p),
        )
        .await?)
    })?;
    print_problems(&problems, args.target.output.format);
    match problems.len() {
        0 => {
            if args.target.output.format == Format::Table {
                out!(
                    "{}: every entry is ready for an import",
                    args.file.display()
                );
            }
            Ok(())
        }
        n => Err(not_ready(format!(
            "{}: {n} problem(s) above; an import with this file would fail or leave flows off",
            args.file.display()
        ))),
    }
}

/// The report for people: a line for the solution, then its references
/// and flows as columns.
fn print_report(report: &deploy::DeployReport) {
    let previous = report
        .previous_version
        .as_deref()
        .map(|v| format!(", was {v}"))
        .unwrap_or_default();
    let what = match report.action.as_str() {
        "imported" => format!("imported in {} s", report.seconds),
        "unchanged" => "installed already, not imported again (--force imports it)".into(),
        _ => "would be imported (dry run: nothing changed)".into(),
    };
    let mode = if report.managed {
        "managed"
    } else {
        "unmanaged"
    };
    out!(
        "Solution {} {} ({mode}{previous}): {what}",
        report.solution,
        report.version
    );
    if !report.connection_references.is_empty() {
        out!("");
        let rows: Vec<[String; 4]> = report
            .connection_references
            .iter()
            .map(|r| {
                [
                    r.logical_name.clone(),
                    r.connector.clone(),
                    r.connection_id.clone().unwrap_or_else(|| "-".into()),
                    r.status.clone(),
                ]
            })
            .collect();
        output::columns(
            &["CONNECTION REFERENCE", "CONNECTOR", "CONNECTION", "STATUS"],
            &rows,
        );
    }
    if !report.flows.is_empty() {
        out!("");
        let rows: Vec<[String; 3]> = report
            .flows
            .iter()
            .map(|f| {
                let state = match (&f.on, &f.reason) {
                    (true, _) => "on".to_owned(),
                    (false, Some(reason)) => format!("OFF: {reason}"),
                    (false, None) => "OFF".to_owned(),
                };
                [f.name.clone(), f.kind.clone(), state]
            })
            .collect();
        output::columns(&["FLOW", "KIND", "STATE"], &rows);
    }
}

/// `padconnect deploy`.
pub fn run(args: DeployArgs) -> anyhow::Result<()> {
    let (zip, package) = read_package(&args.solution)?;
    let settings = match &args.settings {
        Some(path) => read_settings(path)?,
        None => DeploySettings::default(),
    };
    let unknown = settings.unknown_to(&package);
    if !unknown.is_empty() {
        return Err(usage(format!(
            "the settings file names {}, which the solution {} does not have: is it the file of another solution?",
            unknown.join(", "),
            package.manifest.unique_name
        )));
    }
    let reference = args
        .verify
        .as_ref()
        .map(|_| verify_reference(&package, args.verify_reference.as_deref()))
        .transpose()?;
    let format = args.target.output.format;
    let (outcome, run) = in_session(&args.target, async |session, environment, connections| {
        if args.check {
            let caller = caller(session).await?;
            let problems = deploy::check(
                connections,
                &environment,
                caller.as_deref(),
                &settings,
                Some(&package),
            )
            .await?;
            if !problems.is_empty() {
                print_problems(&problems, format);
                return Err(not_ready(format!(
                    "--check found {} problem(s): nothing was imported",
                    problems.len()
                )));
            }
        }
        let dataverse = args.target.dataverse(session).await?;
        let request = DeployRequest {
            zip: &zip,
            package: &package,
            settings: &settings,
            force: args.force,
            dry_run: args.dry_run,
            timeout: Duration::from_secs(args.timeout),
        };
        let progress = |step: &str| err!("padconnect: {step}");
        let outcome = deploy::deploy(&dataverse, connections, &environment, &request, &progress)
            .await
            .context("deploying the solution")?;
        let run = match (&outcome, &args.verify, &reference) {
            (Deployed::Done(report), Some(flow), Some(reference)) if report.all_on() => {
                let flow = verify::desktop_flow(&dataverse, flow).await?;
                let request = RunRequest {
                    flow: &flow,
                    connection: reference,
                    by_reference: true,
                    attended: false,
                    timeout: Duration::from_secs(args.run_timeout),
                };
                Some(verify::follow(&dataverse, &request).await?)
            }
            _ => None,
        };
        Ok((outcome, run))
    })?;
    match outcome {
        Deployed::Done(report) => {
            match format {
                // One JSON document: the deployment, and its run when verified.
                Format::Json => {
                    let mut document = serde_json::to_value(&report)?;
                    if let Some(run) = &run {
                        document["verify"] = serde_json::to_value(run)?;
                    }
                    output::json(&document);
                }
                Format::Table => {
                    print_report(&report);
                    if let Some(run) = &run {
                        out!("");
                        verify::print_report(run);
                    }
                }
            }
            if let Some(run) = &run {
                return verify::result(run);
            }
            if report.all_on() {
                Ok(())
            } else {
                let off: Vec<&str> = report.flows.iter().filter(|f| !f.on).map(|f| f.name.as_str()).collect();
                Err(not_ready(format!(
                    "{} flow(s) stayed off: {}; bind their connection references to connections this identity owns or has shared, then run deploy again",
                    off.len(),
                    off.join(", ")
                )))
            }
        }
        Deployed::StageFailed(missing) => Err(Failure {
            exit: Exit::Refused,
            message: format!(
                "StageSolution: the solution needs what the environment lacks; import these first: {}",
                missing.join("; ")
            ),
        }
        .into()),
        Deployed::ImportFailed(failed) => Err(Failure {
            exit: Exit::Refused,
            message: format!("the import failed: {}: {}", failed.code, failed.message),
        }
        .into()),
    }
}

/// The desktop flow connection reference a `--verify` run goes through:
/// the one given, or the solution's only shared_uiflow reference.
fn verify_reference(package: &Package, given: Option<&str>) -> anyhow::Result<String> {
    let references = &package.components.connection_references;
    if let Some(given) = given {
        return references
            .iter()
            .find(|r| r.logical_name.eq_ignore_ascii_case(given))
            .map(|r| r.logical_name.clone())
            .ok_or_else(|| {
                usage(format!(
                    "--verify-reference {given}: the solution {} has no such connection reference",
                    package.manifest.unique_name
                ))
            });
    }
    let desktop: Vec<&str> = references
        .iter()
        .filter(|r| {
            padconnect_solution::connector_name(&r.connector_id)
                == padconnect_core::ConnectorName::UIFLOW
        })
        .map(|r| r.logical_name.as_str())
        .collect();
    match desktop.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(usage(format!(
            "--verify runs a desktop flow through the solution's desktop flow connection reference, and {} has none",
            package.manifest.unique_name
        ))),
        many => Err(usage(format!(
            "the solution has {} desktop flow connection references ({}): say which one --verify runs through with --verify-reference",
            many.len(),
            many.join(", ")
        ))),
    }
}
