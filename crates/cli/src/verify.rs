//! `padconnect verify`: run a desktop flow through a connection as the
//! signed-in identity and report how the run ended. A connection can be
//! Connected and still fail at its first run (a password rotated, no logon
//! right, no machine listening); this finds out before production does.
//! The workflow is `padconnect_client::runs`'; this file reads the
//! arguments and prints.

use std::time::Duration;

use clap::Args;
use padconnect_client::DataverseClient;
use padconnect_client::runs::{self, DesktopFlow, RunReport, RunRequest};
use padconnect_core::desktop_runs::MAX_TIMEOUT_SECONDS;

use crate::exit::{Exit, Failure};
use crate::output::{self, Format, err, out};
use crate::target::{TargetArgs, in_session};

#[derive(Args)]
pub struct VerifyArgs {
    /// The desktop flow connection to run through (its name, as the
    /// connections API and `padconnect connection` show it).
    #[arg(long, value_name = "ID")]
    connection: String,
    /// The desktop flow to run: its name or its workflow id.
    #[arg(long, value_name = "NAME|ID")]
    flow: String,
    /// Run attended (the connection's user signed in on the machine);
    /// unattended by default.
    #[arg(long)]
    attended: bool,
    /// Seconds to wait for the run to end; a run still going then is
    /// cancelled. Also the run's own timeout (at most 86400, 24 hours).
    #[arg(long, value_name = "SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECONDS.unsigned_abs()))]
    timeout: u64,
    #[command(flatten)]
    target: TargetArgs,
}

/// `padconnect verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let format = args.target.output.format;
    let report = in_session(&args.target, async |session, _, _| {
        let dataverse = args.target.dataverse(session).await?;
        let flow = desktop_flow(&dataverse, &args.flow).await?;
        let request = RunRequest {
            flow: &flow,
            connection: &args.connection,
            by_reference: false,
            attended: args.attended,
            timeout: Duration::from_secs(args.timeout),
        };
        follow(&dataverse, &request).await
    })?;
    match format {
        Format::Json => output::json(&serde_json::to_value(&report)?),
        Format::Table => print_report(&report),
    }
    result(&report)
}

/// The one desktop flow `name_or_id` names, or why there is none.
pub async fn desktop_flow(
    dataverse: &DataverseClient,
    name_or_id: &str,
) -> anyhow::Result<DesktopFlow> {
    let mut flows = dataverse.desktop_flows(name_or_id).await?;
    match flows.len() {
        1 => Ok(flows.remove(0)),
        0 => Err(crate::exit::not_found(format!(
            "no desktop flow '{name_or_id}' that this identity can read: deploy its solution first, or give its workflow id"
        ))),
        n => Err(Failure {
            exit: Exit::Usage,
            message: format!(
                "{n} desktop flows are named '{name_or_id}': give one's workflow id ({})",
                flows
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        .into()),
    }
}

/// Runs and follows, with a progress line on stderr for each status.
pub async fn follow(
    dataverse: &DataverseClient,
    request: &RunRequest<'_>,
) -> anyhow::Result<RunReport> {
    let progress = |step: &str| err!("padconnect: {step}");
    Ok(runs::run_and_follow(dataverse, request, &progress).await?)
}

/// A run that did not succeed is exit code 8.
pub fn result(report: &RunReport) -> anyhow::Result<()> {
    if report.succeeded {
        return Ok(());
    }
    let cause = match (&report.error_code, report.gave_up) {
        (_, true) => {
            "it did not end in time and was cancelled (give it a longer timeout)".to_owned()
        }
        (Some(code), _) => code.clone(),
        (None, _) => report.status.clone(),
    };
    Err(Failure {
        exit: Exit::RunFailed,
        message: format!(
            "the run of '{}' through connection {} did not succeed: {cause}",
            report.flow.name, report.connection
        ),
    }
    .into())
}

/// The report for people: the run's line, then what went wrong, if anything.
pub fn print_report(report: &RunReport) {
    let span = match (&report.started_on, &report.completed_on) {
        (Some(started), Some(ended)) => format!(" (started {started}, ended {ended})"),
        (None, Some(ended)) => format!(" (never started; ended {ended})"),
        _ => String::new(),
    };
    out!(
        "Run {} of '{}' through connection {}: {}{span}",
        report.session,
        report.flow.name,
        report.connection,
        report.status
    );
    let lines = [
        ("code", &report.error_code),
        ("message", &report.error_message),
        ("meaning", &report.meaning),
        ("fix", &report.fix),
        ("see", &report.article),
    ];
    for (label, value) in lines {
        if let Some(value) = value {
            out!("  {label:<8} {value}");
        }
    }
}
