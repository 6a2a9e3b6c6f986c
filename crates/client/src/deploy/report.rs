//! What a deployment reports: each connection reference with its
//! connection, and each flow, on or off and why.

use padconnect_core::{ConnectionId, EnvironmentId};
use padconnect_solution::{Package, connector_name};
use serde::Serialize;
use serde_json::Value;

use super::check::visible_connection;
use crate::connections::status_of;
use crate::{ClientError, ConnectionsClient, DataverseClient};

/// What a deployment did, for people (`render`) and scripts (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeployReport {
    pub solution: String,
    pub version: String,
    pub managed: bool,
    /// The version installed before, if any.
    pub previous_version: Option<String>,
    /// `imported`, `unchanged` (same version, no --force) or `dry-run`.
    pub action: String,
    pub seconds: u64,
    pub connection_references: Vec<ReferenceReport>,
    pub flows: Vec<FlowReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceReport {
    pub logical_name: String,
    pub connector: String,
    pub connection_id: Option<String>,
    /// The connection's status (`Connected`, `Error (code)`), or why none.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowReport {
    pub id: String,
    pub name: String,
    /// `cloud flow`, `desktop flow`, `process`.
    pub kind: String,
    pub on: bool,
    /// Why it is off: the service's code and words.
    pub reason: Option<String>,
}

impl DeployReport {
    /// Whether every flow that should be on is on.
    pub fn all_on(&self) -> bool {
        self.flows.iter().all(|f| f.on)
    }
}

/// Each of the package's references with the connection `bound_to` gives
/// it (the environment's binding, or the settings' for a dry run).
pub(super) async fn reference_reports(
    connections: &ConnectionsClient,
    environment: &EnvironmentId,
    package: &Package,
    bound_to: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ReferenceReport>, ClientError> {
    let visible = connections.list(environment).await?;
    Ok(package
        .components
        .connection_references
        .iter()
        .map(|reference| {
            let connection_id = bound_to(&reference.logical_name);
            ReferenceReport {
                logical_name: reference.logical_name.clone(),
                connector: connector_name(&reference.connector_id).to_owned(),
                status: connection_status(connection_id.as_deref(), &visible),
                connection_id,
            }
        })
        .collect())
}

fn connection_status(id: Option<&str>, visible: &[Value]) -> String {
    let Some(id) = id else {
        return "unbound".into();
    };
    let found = id
        .parse::<ConnectionId>()
        .ok()
        .and_then(|id| visible_connection(visible, &id));
    match found.map(status_of) {
        Some((status, Some(code))) => format!("{status} ({code})"),
        Some((status, None)) => status,
        None => "not visible to this identity".into(),
    }
}

fn kind(category: i64) -> &'static str {
    match category {
        5 => "cloud flow",
        6 => "desktop flow",
        _ => "process",
    }
}

/// The flows a dry run expects: on where every reference they use would
/// be bound to a connection this identity sees.
pub(super) fn planned_flows(package: &Package, references: &[ReferenceReport]) -> Vec<FlowReport> {
    package
        .components
        .workflows
        .iter()
        .map(|w| {
            let unusable = w.connection_references.iter().find(|name| {
                !references.iter().any(|r| {
                    &r.logical_name == *name
                        && r.connection_id.is_some()
                        && r.status != "not visible to this identity"
                })
            });
            FlowReport {
                id: w.id.to_string(),
                name: w.name.clone(),
                kind: kind(w.category.code()).into(),
                // Classic processes come on too: deploy imports with
                // PublishWorkflows true.
                on: unusable.is_none(),
                reason: unusable.map(|name| {
                    format!("its connection reference {name} would have no connection this identity can use")
                }),
            }
        })
        .collect()
}

/// The solution's flows. After an import (`activate`), each the import
/// left off is turned on where the service now allows it (a reference
/// bound since, a connection shared since), and the refusal is the reason
/// it stays off; without one, flows are reported as they are, so a flow
/// someone turned off stays off.
pub(super) async fn flows_on(
    dataverse: &DataverseClient,
    solution_id: &str,
    activate: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<FlowReport>, ClientError> {
    let mut flows = Vec::new();
    for row in dataverse.solution_flows(solution_id).await? {
        let id = row["workflowid"].as_str().unwrap_or_default().to_owned();
        let name = row["name"].as_str().unwrap_or_default().to_owned();
        let mut report = FlowReport {
            kind: kind(row["category"].as_i64().unwrap_or_default()).into(),
            on: row["statecode"] == 1,
            reason: None,
            id,
            name,
        };
        if !report.on && !activate {
            report.reason = Some(
                "off, and not turned on: nothing was imported (--force imports and turns it on)"
                    .into(),
            );
        } else if !report.on {
            progress(&format!("turning on {}", report.name));
            match dataverse.turn_flow_on(&report.id).await {
                Ok(()) => report.on = true,
                Err(ClientError::Service { message, .. }) => {
                    report.reason = Some(flow_reason(&message))
                }
                Err(other) => return Err(other),
            }
        }
        flows.push(report);
    }
    Ok(flows)
}

/// The flow service's code and message inside Dataverse's "Flow client
/// error returned with status code ... and details ..." (coe-starter-kit
/// #3535), or the message as it is.
fn flow_reason(message: &str) -> String {
    let details = message
        .split_once("and details \"")
        .and_then(|(_, rest)| rest.rsplit_once("\""))
        .map(|(json, _)| json.replace("\\\"", "\""));
    let parsed: Option<Value> = details.and_then(|d| serde_json::from_str(&d).ok());
    match parsed {
        Some(error) => format!(
            "{}: {}",
            error["error"]["code"].as_str().unwrap_or("Error"),
            error["error"]["message"].as_str().unwrap_or_default()
        ),
        None => message.to_owned(),
    }
}
