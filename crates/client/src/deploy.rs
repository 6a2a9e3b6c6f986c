//! Deploying a solution with its settings: check the settings against the
//! environment, stage, import asynchronously, wait, turn on the flows the
//! import left off where the service allows, and report each connection
//! reference and flow. `padconnect deploy` and `padconnect settings check`
//! are this module and its output.

use std::time::{Duration, Instant};

use padconnect_core::{ConnectionId, EnvironmentId};
use padconnect_solution::{Package, connector_name};
use serde::Serialize;
use serde_json::{Value, json};

use crate::connections::status_of;
use crate::{ClientError, ConnectionsClient, DataverseClient};

/// A deployment settings file, as pac writes it (PascalCase) or as the
/// Terraform provider reads it (any case: Go matches JSON keys so).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploySettings {
    pub connection_references: Vec<ReferenceSetting>,
    pub environment_variables: Vec<VariableValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceSetting {
    pub logical_name: String,
    pub connection_id: String,
    pub connector_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableValue {
    pub schema_name: String,
    pub value: String,
}

/// `key` of `object`, ASCII case ignored.
fn field<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn text(object: &Value, key: &str) -> Result<String, String> {
    match field(object, key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("'{key}' must be a string, not {other}")),
    }
}

impl DeploySettings {
    /// Reads a settings file's JSON; errors say which entry is wrong.
    pub fn parse(document: &Value) -> Result<Self, String> {
        if !document.is_object() {
            return Err("a settings file is a JSON object with ConnectionReferences and EnvironmentVariables".into());
        }
        let list = |key: &str| -> Result<Vec<Value>, String> {
            match field(document, key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(entries)) => Ok(entries.clone()),
                Some(_) => Err(format!("'{key}' must be a list")),
            }
        };
        let mut settings = Self::default();
        for (i, entry) in list("ConnectionReferences")?.iter().enumerate() {
            let at = |e: String| format!("ConnectionReferences[{i}]: {e}");
            let logical_name = text(entry, "LogicalName").map_err(at)?;
            if logical_name.trim().is_empty() {
                return Err(at("it has no LogicalName".into()));
            }
            settings.connection_references.push(ReferenceSetting {
                logical_name,
                connection_id: text(entry, "ConnectionId").map_err(at)?,
                connector_id: text(entry, "ConnectorId").map_err(at)?,
            });
        }
        for (i, entry) in list("EnvironmentVariables")?.iter().enumerate() {
            let at = |e: String| format!("EnvironmentVariables[{i}]: {e}");
            let schema_name = text(entry, "SchemaName").map_err(at)?;
            if schema_name.trim().is_empty() {
                return Err(at("it has no SchemaName".into()));
            }
            settings.environment_variables.push(VariableValue {
                schema_name,
                value: text(entry, "Value").map_err(at)?,
            });
        }
        Ok(settings)
    }

    /// `ComponentParameters` for ImportSolutionAsync: each reference with a
    /// connection id and each variable with a value, as the Terraform
    /// provider builds them (api_solution.go), without the empty ones.
    pub fn component_parameters(&self) -> Vec<Value> {
        let references = self
            .connection_references
            .iter()
            .filter(|r| !r.connection_id.trim().is_empty())
            .map(|r| {
                json!({
                    "@odata.type": "Microsoft.Dynamics.CRM.connectionreference",
                    "connectionreferencelogicalname": r.logical_name,
                    "connectorid": r.connector_id,
                    "connectionid": r.connection_id.trim(),
                })
            });
        let variables = self
            .environment_variables
            .iter()
            .filter(|v| !v.value.is_empty())
            .map(|v| {
                json!({
                    "@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue",
                    "schemaname": v.schema_name,
                    "value": v.value,
                })
            });
        references.chain(variables).collect()
    }

    /// The entries that name what the solution does not have: the file
    /// belongs to another solution, or a name is mistyped.
    pub fn unknown_to(&self, package: &Package) -> Vec<String> {
        let components = &package.components;
        let references = self
            .connection_references
            .iter()
            .filter(|r| {
                !components
                    .connection_references
                    .iter()
                    .any(|c| c.logical_name == r.logical_name)
            })
            .map(|r| format!("the connection reference '{}'", r.logical_name));
        let variables = self
            .environment_variables
            .iter()
            .filter(|v| {
                !components
                    .environment_variables
                    .iter()
                    .any(|c| c.schema_name == v.schema_name)
            })
            .map(|v| format!("the environment variable '{}'", v.schema_name));
        references.chain(variables).collect()
    }
}

/// One thing `settings check` found, with its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The reference's LogicalName or the variable's SchemaName.
    pub entry: String,
    pub problem: String,
}

fn problem(entry: &str, text: impl Into<String>) -> Problem {
    Problem {
        entry: entry.to_owned(),
        problem: text.into(),
    }
}

/// Checks each entry of `settings` against `environment` as the signed-in
/// identity (`caller`, its Entra object id) sees it, and against
/// `package` when given.
pub async fn check(
    connections: &ConnectionsClient,
    environment: &EnvironmentId,
    caller: Option<&str>,
    settings: &DeploySettings,
    package: Option<&Package>,
) -> Result<Vec<Problem>, ClientError> {
    let visible = connections.list(environment).await?;
    let mut problems = Vec::new();
    for reference in &settings.connection_references {
        problems
            .extend(check_reference(connections, environment, caller, reference, &visible).await?);
    }
    if let Some(package) = package {
        for missing in package.components.connection_references.iter().filter(|c| {
            !settings
                .connection_references
                .iter()
                .any(|r| r.logical_name == c.logical_name)
        }) {
            problems.push(problem(
                &missing.logical_name,
                format!(
                    "the solution's connection reference is not in the settings file: add {{\"LogicalName\": \"{}\", \"ConnectionId\": \"<id>\", \"ConnectorId\": \"{}\"}}, or the flows that use it stay off",
                    missing.logical_name, missing.connector_id
                ),
            ));
        }
        for unknown in settings.unknown_to(package) {
            problems.push(problem(
                unknown.rsplit('\'').nth(1).unwrap_or_default(),
                format!("{unknown} is not in the solution: remove it, or check its name"),
            ));
        }
        for value in &settings.environment_variables {
            let definition = package
                .components
                .environment_variables
                .iter()
                .find(|d| d.schema_name == value.schema_name);
            if let Some(definition) = definition
                && let Err(why) = definition.accepts(&value.value)
            {
                problems.push(problem(&value.schema_name, why));
            }
            if let Some(definition) = definition
                && value.value.is_empty()
                && definition.is_required
                && definition.default_value.is_none()
            {
                problems.push(problem(
                    &value.schema_name,
                    "the variable is required and has no default: give it a Value",
                ));
            }
        }
    }
    Ok(problems)
}

async fn check_reference(
    connections: &ConnectionsClient,
    environment: &EnvironmentId,
    caller: Option<&str>,
    reference: &ReferenceSetting,
    visible: &[Value],
) -> Result<Vec<Problem>, ClientError> {
    let name = reference.logical_name.as_str();
    let given = reference.connection_id.trim();
    if given.is_empty() {
        return Ok(vec![problem(
            name,
            format!(
                "ConnectionId is empty: give the id of a {} connection of environment {environment} (padconnect connect prints one), or the flows that use it stay off",
                connector_name(&reference.connector_id)
            ),
        )]);
    }
    let Ok(id) = given.parse::<ConnectionId>() else {
        return Ok(vec![problem(
            name,
            format!(
                "ConnectionId '{given}' is not in the form the service takes: give the connection's name alone (32 hex digits, as `padconnect connection list` shows it), not shared_x/<id> or a path; the import would fail with ConnectionNotFound"
            ),
        )]);
    };
    let Some(connection) = visible_connection(visible, &id) else {
        return Ok(vec![problem(
            name,
            format!(
                "no connection {given} in environment {environment} that this identity can see: it belongs to another environment, was deleted, or is not shared with this identity. Create one here (padconnect connect) or share it with the identity that imports; the import would fail with ConnectionNotFound"
            ),
        )]);
    };
    let mut problems = Vec::new();
    let api = connection["properties"]["apiId"]
        .as_str()
        .unwrap_or_default();
    if !reference.connector_id.is_empty()
        && !connector_name(api).eq_ignore_ascii_case(connector_name(&reference.connector_id))
    {
        problems.push(problem(
            name,
            format!(
                "connection {given} is a {} connection, but the reference's connector is {}: give a {} connection",
                connector_name(api),
                connector_name(&reference.connector_id),
                connector_name(&reference.connector_id)
            ),
        ));
    }
    let (status, code) = status_of(connection);
    if status != "Connected" {
        problems.push(problem(
            name,
            format!(
                "connection {given} is {status}{}: fix it (padconnect connection get {given}) before its flows run",
                code.map(|c| format!(" ({c})")).unwrap_or_default()
            ),
        ));
    }
    if let Some(caller) = caller
        && !usable_by(connections, environment, &id, connection, caller).await?
    {
        problems.push(problem(
            name,
            format!(
                "connection {given} is neither owned by nor shared with this identity ({caller}): share it (CanView at least) or the import leaves its flows off with ConnectionAuthorizationFailed"
            ),
        ));
    }
    Ok(problems)
}

/// Whether `caller` owns the connection or was given a role on it (an
/// administrator sees connections it may not use to turn flows on).
async fn usable_by(
    connections: &ConnectionsClient,
    environment: &EnvironmentId,
    id: &ConnectionId,
    connection: &Value,
    caller: &str,
) -> Result<bool, ClientError> {
    let owner = connection["properties"]["createdBy"]["id"].as_str();
    if owner.is_some_and(|o| o.eq_ignore_ascii_case(caller)) {
        return Ok(true);
    }
    // Only desktop-flow connections have a permissions route here.
    let api = connection["properties"]["apiId"]
        .as_str()
        .unwrap_or_default();
    if !connector_name(api).eq_ignore_ascii_case("shared_uiflow") {
        return Ok(true);
    }
    let permissions = connections.permissions(environment, id).await?;
    Ok(permissions.iter().any(|p| {
        p["properties"]["principal"]["id"]
            .as_str()
            .is_some_and(|p| p.eq_ignore_ascii_case(caller))
    }))
}

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

/// Each of the package's references with the connection `bound_to` gives
/// it (the environment's binding, or the settings' for a dry run).
async fn reference_reports(
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

/// The connection of `visible` (a list the connections API gave) with this id.
fn visible_connection<'a>(visible: &'a [Value], id: &ConnectionId) -> Option<&'a Value> {
    visible.iter().find(|c| {
        c["name"]
            .as_str()
            .and_then(|n| n.parse::<ConnectionId>().ok())
            .is_some_and(|n| &n == id)
    })
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
fn planned_flows(package: &Package, references: &[ReferenceReport]) -> Vec<FlowReport> {
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
async fn flows_on(
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
