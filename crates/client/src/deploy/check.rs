//! `settings check`: each entry of a settings file against the
//! environment and the solution, before any import.

use padconnect_core::{ConnectionId, EnvironmentId};
use padconnect_solution::{Package, connector_name};
use serde::Serialize;
use serde_json::Value;

use super::settings::{DeploySettings, ReferenceSetting};
use crate::connections::status_of;
use crate::{ClientError, ConnectionsClient};

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
                .find(|d| d.declaration.schema_name == value.schema_name);
            if let Some(definition) = definition
                && let Err(why) = definition.accepts(&value.value)
            {
                problems.push(problem(&value.schema_name, why));
            }
            if let Some(definition) = definition
                && value.value.is_empty()
                && definition.declaration.is_required
                && definition.declaration.default_value.is_none()
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

/// The connection of `visible` (a list the connections API gave) with this id.
pub(super) fn visible_connection<'a>(visible: &'a [Value], id: &ConnectionId) -> Option<&'a Value> {
    visible.iter().find(|c| {
        c["name"]
            .as_str()
            .and_then(|n| n.parse::<ConnectionId>().ok())
            .is_some_and(|n| &n == id)
    })
}
