//! Running a desktop flow through a connection and following its run, as
//! "Work with desktop flows using code" (desktop-flow-public-apis.md)
//! does it: find the flow in `workflows` (category 6), POST
//! `RunDesktopFlow`, poll `flowsessions({id})` until `completedon`, and
//! cancel a run that outlives the caller's patience.

use std::time::{Duration, Instant};

use padconnect_core::desktop_runs::{MAX_TIMEOUT_SECONDS, RunError, SessionStatus, run_error};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::dataverse::quoted;
use crate::{ClientError, DataverseClient};

/// How often a run's session is read while it runs.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How much longer than the run's own timeout the caller waits, so the
/// service's verdict (DesktopFlowsActionTimeout, NoCandidateMachine) comes
/// before the caller gives up.
const GRACE: Duration = Duration::from_secs(30);

/// A desktop flow: its id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesktopFlow {
    pub id: String,
    pub name: String,
}

/// What to run, through what, and how long to wait.
#[derive(Debug, Clone)]
pub struct RunRequest<'a> {
    pub flow: &'a DesktopFlow,
    /// A connection's name, or (`by_reference`) a connection reference's
    /// logical name.
    pub connection: &'a str,
    pub by_reference: bool,
    /// `true`: attended; unattended otherwise.
    pub attended: bool,
    /// The run's own `timeout`; the caller waits a little longer.
    pub timeout: Duration,
}

/// How a run ended, as `padconnect verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub flow: DesktopFlow,
    pub connection: String,
    pub session: String,
    /// The `flowsession` status label: Succeeded, Failed, TimedOut, ...
    pub status: String,
    pub succeeded: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// What the code means, how to fix it, and the article that says so.
    pub meaning: Option<String>,
    pub fix: Option<String>,
    pub article: Option<String>,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
    /// The caller gave up waiting and cancelled the run.
    pub gave_up: bool,
}

impl DataverseClient {
    /// The desktop flows with this id, or this name (the caller decides
    /// what none or several mean).
    pub async fn desktop_flows(&self, name_or_id: &str) -> Result<Vec<DesktopFlow>, ClientError> {
        let filter = match uuid::Uuid::try_parse(name_or_id) {
            Ok(id) => format!("workflowid eq {id}"),
            Err(_) => format!("name eq {}", quoted(name_or_id)),
        };
        let rows = self
            .rows(&format!(
                "workflows?$select=workflowid,name&$filter=category eq 6 and {filter}"
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| DesktopFlow {
                id: r["workflowid"].as_str().unwrap_or_default().to_owned(),
                name: r["name"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// `RunDesktopFlow`: the new run's `flowsessionId`.
    pub async fn run_desktop_flow(&self, request: &RunRequest<'_>) -> Result<String, ClientError> {
        let body = json!({
            "runMode": if request.attended { "attended" } else { "unattended" },
            "runPriority": "normal",
            "connectionName": request.connection,
            "connectionType": if request.by_reference { 2 } else { 1 },
            "timeout": request.timeout.as_secs().clamp(1, MAX_TIMEOUT_SECONDS.unsigned_abs()),
        });
        let answer = self
            .send(
                Method::POST,
                &format!(
                    "workflows({})/Microsoft.Dynamics.CRM.RunDesktopFlow",
                    request.flow.id
                ),
                Some(&body),
            )
            .await?;
        answer["flowsessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol {
                url: "RunDesktopFlow".into(),
                reason: format!("no flowsessionId in {answer}"),
            })
    }

    /// A run's `flowsessions({id})` row, as the docs read it.
    pub async fn flow_session(&self, id: &str) -> Result<Value, ClientError> {
        self.get(&format!(
            "flowsessions({id})?$select=statuscode,statecode,startedon,completedon,errorcode,errormessage,_machineid_value"
        ))
        .await
    }

    /// `CancelDesktopFlowRun`.
    pub async fn cancel_flow_session(&self, id: &str) -> Result<(), ClientError> {
        self.send(
            Method::POST,
            &format!("flowsessions({id})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun"),
            None,
        )
        .await?;
        Ok(())
    }
}

/// Runs the flow and follows it to its end, calling `progress` with each
/// status it passes through. A run still going shortly after its own
/// `timeout` is cancelled and reported as given up; so is one whose
/// polling fails.
pub async fn run_and_follow(
    dataverse: &DataverseClient,
    request: &RunRequest<'_>,
    progress: &dyn Fn(&str),
) -> Result<RunReport, ClientError> {
    let started = Instant::now();
    let session = dataverse.run_desktop_flow(request).await?;
    progress(&format!("run {session} of '{}' queued", request.flow.name));
    let mut last = None;
    loop {
        let row = match dataverse.flow_session(&session).await {
            Ok(row) => row,
            // Left running, it would hold a machine nobody waits for.
            Err(error) => {
                dataverse.cancel_flow_session(&session).await.ok();
                return Err(error);
            }
        };
        let status = status_of(&row);
        if last != Some(status) {
            progress(&format!("run {session}: {}", status.label()));
            last = Some(status);
        }
        if !row["completedon"].is_null() || status.is_final() {
            return Ok(report(request, session, &row, false));
        }
        if started.elapsed() >= request.timeout + GRACE {
            dataverse.cancel_flow_session(&session).await.ok();
            let row = dataverse.flow_session(&session).await.unwrap_or(row);
            return Ok(report(request, session, &row, true));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn status_of(row: &Value) -> SessionStatus {
    row["statuscode"]
        .as_i64()
        .and_then(SessionStatus::from_code)
        .unwrap_or(SessionStatus::NotSpecified)
}

fn report(request: &RunRequest<'_>, session: String, row: &Value, gave_up: bool) -> RunReport {
    let status = status_of(row);
    let text = |name: &str| row[name].as_str().map(str::to_owned);
    let error_code = text("errorcode");
    let known: Option<&RunError> = error_code.as_deref().and_then(run_error);
    RunReport {
        flow: request.flow.clone(),
        connection: request.connection.to_owned(),
        session,
        status: status.label().to_owned(),
        succeeded: status == SessionStatus::Succeeded,
        error_message: text("errormessage"),
        meaning: known.map(|e| e.meaning.to_owned()),
        fix: known.map(|e| e.fix.to_owned()),
        article: known.map(|e| e.article.to_owned()),
        error_code,
        started_on: text("startedon"),
        completed_on: text("completedon"),
        gave_up,
    }
}
