//! Every desktop flow connection at once, across environments: what each
//! is (owner, status, account, target), a password rotated under all that
//! hold one account, and drift from what should exist. The calls are the
//! connections API's list (following `nextLink`) and PUT.

use padconnect_core::uiflow::account_key;
use padconnect_core::{ConnectionId, EnvironmentId, ParameterSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ClientError, ConnectionsClient, DesktopFlowConnection, Secret};

/// A desktop flow connection as a fleet report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetConnection {
    pub environment: String,
    pub id: String,
    pub display_name: String,
    pub owner: String,
    /// `ServicePrincipal` or `User`.
    pub owner_type: String,
    pub owner_id: String,
    /// Connected, Error, ...
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub username: String,
    /// The machine group (or a standalone machine's hidden group) it targets.
    pub target: String,
    pub parameter_set: String,
    /// `azureRelayRunOwner`'s app.
    pub run_owner: Option<String>,
    /// The Key Vault or CyberArk credential it names.
    pub credential: Option<String>,
}

impl FleetConnection {
    pub fn from_value(environment: &EnvironmentId, c: &Value) -> Self {
        let p = &c["properties"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let value = |name: &str| {
            p["connectionParametersSet"]["values"][name]["value"]
                .as_str()
                .map(str::to_owned)
        };
        let status = &p["statuses"][0];
        Self {
            environment: environment.to_string(),
            id: text(&c["name"]),
            display_name: text(&p["displayName"]),
            owner: text(&p["createdBy"]["displayName"]),
            owner_type: text(&p["createdBy"]["type"]),
            owner_id: text(&p["createdBy"]["id"]),
            status: status["status"].as_str().unwrap_or("Unknown").to_owned(),
            error_code: status["error"]["code"].as_str().map(str::to_owned),
            error_message: status["error"]["message"].as_str().map(str::to_owned),
            username: value("username").unwrap_or_default(),
            target: value("targetId").unwrap_or_default(),
            parameter_set: text(&p["connectionParametersSet"]["name"]),
            // The run-owner document's parameter (set-runowner-desktopflowconnection.md).
            run_owner: value("tokenRunOwnerCert:clientId"),
            credential: p["credentialId"].as_str().map(str::to_owned),
        }
    }

    pub fn connected(&self) -> bool {
        self.status == "Connected"
    }

    /// Whether it signs in as `account` (any accepted spelling of it).
    pub fn holds_account(&self, account: &str) -> bool {
        account_key(&self.username, None) == account_key(account, None)
    }
}

/// Whether a listed connection is a desktop flow one. The environment's
/// connections list (`/connectivity/connections`) holds every connector's
/// connections; each names its connector in `properties.apiId`, as in the
/// provider's recorded `get_connections.json`
/// (`/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps`).
pub fn is_desktop_flow_connection(connection: &Value) -> bool {
    connection["properties"]["apiId"]
        .as_str()
        .and_then(|api| api.rsplit_once('/'))
        .is_some_and(|(_, name)| name.eq_ignore_ascii_case(DESKTOP_FLOW_CONNECTOR))
}

/// The desktop flow connector's name in an `apiId`.
const DESKTOP_FLOW_CONNECTOR: &str = "shared_uiflow";

/// The desktop flow connections the caller may see in `environment`.
pub async fn connections(
    client: &ConnectionsClient,
    environment: &EnvironmentId,
) -> Result<Vec<FleetConnection>, ClientError> {
    Ok(client
        .list(environment)
        .await?
        .iter()
        .filter(|c| is_desktop_flow_connection(c))
        .map(|c| FleetConnection::from_value(environment, c))
        .collect())
}

/// Status codes that say the connection's target is gone or no longer
/// its owner's: a PUT to it is refused whatever the password, so a
/// rotation passes over it (the report shows it broken).
const ORPHANED: [&str; 3] = [
    "MachineGroupNotFound",
    "MachineGroupAccessRevoked",
    "MachineJoinedGroup",
];

/// Why a rotation leaves a connection that holds the account alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skip {
    pub why: String,
    /// Whether it still holds the old password afterwards (a vault-backed
    /// connection holds none).
    pub holds_old_password: bool,
}

impl Skip {
    fn old(why: String) -> Self {
        Self {
            why,
            holds_old_password: true,
        }
    }
}

/// Why a connection that holds the account is left alone by a rotation.
pub fn why_not_rotated(connection: &FleetConnection, caller: Option<&str>) -> Option<Skip> {
    if connection.credential.is_some() {
        return Some(Skip {
            why: "its password is a Key Vault or CyberArk credential's: rotate it in the vault, the connection holds none"
                .to_owned(),
            holds_old_password: false,
        });
    }
    if connection.parameter_set == ParameterSet::AzureRelayRunOwner.name() {
        return Some(Skip::old(format!(
            "a run-owner connection: the service does not show its certificate, so rewrite it whole with `padconnect connect --connection-id {} --parameter-set azureRelayRunOwner --run-owner-pfx FILE`",
            connection.id
        )));
    }
    if caller.is_some_and(|me| !me.eq_ignore_ascii_case(&connection.owner_id)) {
        return Some(Skip::old(format!(
            "owned by {} ({}): only its owner (or an administrator) may change it",
            connection.owner, connection.owner_type
        )));
    }
    if let Some(code) = connection
        .error_code
        .as_deref()
        .filter(|code| ORPHANED.contains(code))
    {
        return Some(Skip::old(format!(
            "{code}: its target is gone or no longer shared with its owner, so the service refuses any write; point it at a group (`padconnect connection update {} --group ID`) or delete it, then rotate again",
            connection.id
        )));
    }
    None
}

/// The connection as a PUT writes it again with a new password (and,
/// optionally, another account), everything else as the service holds it.
/// `None` for a parameter set whose secrets the service does not show
/// back (a run owner's certificate).
pub fn rewritten(
    existing: &Value,
    username: Option<&str>,
    password: Secret,
) -> Option<DesktopFlowConnection> {
    let properties = &existing["properties"];
    let set = &properties["connectionParametersSet"];
    let value = |name: &str| set["values"][name]["value"].as_str().map(str::to_owned);
    let parameter_set = ParameterSet::parse(set["name"].as_str().unwrap_or_default())?;
    if parameter_set != ParameterSet::AzureRelay {
        return None;
    }
    Some(DesktopFlowConnection {
        display_name: properties["displayName"].as_str().map(str::to_owned),
        parameter_set,
        username: username
            .map(str::to_owned)
            .or_else(|| value("username"))
            .unwrap_or_default(),
        password,
        group_id: value("targetId").unwrap_or_default(),
        credential_id: properties["credentialId"]
            .as_str()
            .and_then(|id| uuid::Uuid::try_parse(id).ok()),
        run_owner: None,
    })
}

/// How a rotation ended.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotation {
    /// Written with the new password.
    pub updated: Vec<FleetConnection>,
    /// Passed over while rotating: deleted, rewritten to another account or
    /// refused for its own target since it was listed. They hold the old password.
    pub skipped: Vec<(FleetConnection, Skip)>,
    /// Where the rotation stopped, if it did: they hold the old password.
    pub stopped: Option<Stop>,
    /// Not reached: they hold the old password.
    pub pending: Vec<FleetConnection>,
}

/// The connection a rotation stopped at, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stop {
    pub connection: FleetConnection,
    pub why: String,
    /// The service refused (a credential error, or one not known to be the
    /// connection's own); otherwise it could not be reached.
    pub refused: bool,
}

/// What one connection's turn came to.
enum Turn {
    Updated,
    Skipped(String),
    Stop { why: String, refused: bool },
}

/// Writes `password` to each connection in order, stopping at the first
/// refusal that is not the connection's own (a wrong password is refused
/// the same everywhere), so a wrong new password is tried once, not on
/// every connection: each try is a bad sign-in on the machine, and enough
/// of them lock the account out (KB 4555406). Connections refused for
/// their own target, deleted or rewritten since the listing are passed
/// over. A network failure stops it too, with what was done kept.
pub async fn rotate(
    client: &ConnectionsClient,
    account: &str,
    targets: Vec<FleetConnection>,
    password: &Secret,
    progress: &dyn Fn(&FleetConnection),
) -> Rotation {
    let mut rotation = Rotation::default();
    let mut queue = targets.into_iter();
    for connection in queue.by_ref() {
        match turn(client, account, &connection, password).await {
            Turn::Updated => {
                progress(&connection);
                rotation.updated.push(connection);
            }
            Turn::Skipped(why) => rotation.skipped.push((connection, Skip::old(why))),
            Turn::Stop { why, refused } => {
                rotation.stopped = Some(Stop {
                    connection,
                    why,
                    refused,
                });
                break;
            }
        }
    }
    rotation.pending = queue.collect();
    rotation
}

/// Reads `connection` afresh and writes it back with `password`.
async fn turn(
    client: &ConnectionsClient,
    account: &str,
    connection: &FleetConnection,
    password: &Secret,
) -> Turn {
    let (Ok(environment), Ok(id)) = (
        connection.environment.parse::<EnvironmentId>(),
        connection.id.parse::<ConnectionId>(),
    ) else {
        return Turn::Skipped("the service listed it under an id that is not one".to_owned());
    };
    let existing = match client.get(&environment, &id).await {
        Ok(Some(existing)) => existing,
        Ok(None) => return Turn::Skipped("it was deleted meanwhile".to_owned()),
        Err(error) => return stop(error),
    };
    let now = FleetConnection::from_value(&environment, &existing);
    if !now.holds_account(account) {
        return Turn::Skipped(format!(
            "it signs in as '{}' now, not as the account rotated",
            now.username
        ));
    }
    let Some(body) = rewritten(&existing, None, password.clone()) else {
        return Turn::Skipped("its parameter set changed meanwhile".to_owned());
    };
    match client.put(&environment, &id, &body).await {
        Ok(_) => Turn::Updated,
        Err(ClientError::Service {
            status,
            code,
            message,
        }) if refused_for_itself(status, &code) => Turn::Skipped(format!("{code}: {message}")),
        Err(error) => stop(error),
    }
}

/// Refusals that concern the connection itself, not the password: its
/// target gone or no longer shared (`InvalidTargetId`, 403), its vault
/// credential (`InvalidCredentialId`), deleted or taken meanwhile (404, 409).
fn refused_for_itself(status: u16, code: &str) -> bool {
    matches!(status, 403 | 404 | 409) || matches!(code, "InvalidTargetId" | "InvalidCredentialId")
}

fn stop(error: ClientError) -> Turn {
    let refused = matches!(error, ClientError::Service { .. });
    let why = match error {
        ClientError::Service { code, message, .. } => format!("{code}: {message}"),
        other => other.to_string(),
    };
    Turn::Stop { why, refused }
}

/// A connection that should exist (`report --expect`): its id and
/// environment, and the settings it should have (each optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expected {
    pub environment: String,
    pub id: String,
    pub display_name: Option<String>,
    pub username: Option<String>,
    pub target: Option<String>,
    pub owner_id: Option<String>,
}

/// How what exists differs from what should.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Expected, not found: `environment/id`.
    pub missing: Vec<String>,
    /// Found in an expected environment, not expected: `environment/id`.
    pub extra: Vec<String>,
    /// Found with other settings: `environment/id: field 'expected' != 'found'`.
    pub different: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.different.is_empty()
    }
}

/// What differs between `expected` and what was `found`.
pub fn drift(expected: &[Expected], found: &[FleetConnection]) -> Drift {
    let key = |environment: &str, id: &str| {
        format!(
            "{}/{}",
            same_environment(environment),
            id.to_lowercase().replace('-', "")
        )
    };
    let mut drift = Drift::default();
    for e in expected {
        let Some(f) = found
            .iter()
            .find(|f| key(&f.environment, &f.id) == key(&e.environment, &e.id))
        else {
            drift.missing.push(format!("{}/{}", e.environment, e.id));
            continue;
        };
        let checks = [
            ("displayName", &e.display_name, &f.display_name, false),
            ("username", &e.username, &f.username, true),
            ("target", &e.target, &f.target, true),
            ("ownerId", &e.owner_id, &f.owner_id, true),
        ];
        for (field, want, got, any_case) in checks {
            let Some(want) = want else { continue };
            let same = match (field, any_case) {
                ("username", _) => account_key(want, None) == account_key(got, None),
                (_, true) => want.eq_ignore_ascii_case(got),
                (_, false) => want == got,
            };
            if !same {
                drift.different.push(format!(
                    "{}/{}: {field} '{want}' != '{got}'",
                    f.environment, f.id
                ));
            }
        }
    }
    for f in found {
        let watched = expected
            .iter()
            .any(|e| same_environment(&e.environment) == same_environment(&f.environment));
        let known = expected
            .iter()
            .any(|e| key(&e.environment, &e.id) == key(&f.environment, &f.id));
        if watched && !known {
            drift.extra.push(format!("{}/{}", f.environment, f.id));
        }
    }
    drift
}

/// An environment id as one string however it was written (any case,
/// dashes or not, `Default-` or `default-`).
fn same_environment(id: &str) -> String {
    id.parse::<EnvironmentId>()
        .map(|id| id.to_string())
        .unwrap_or_else(|_| id.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(id: &str, username: &str) -> FleetConnection {
        FleetConnection {
            environment: "37520647-dbdf-49fa-ba01-6134c14680c4".into(),
            id: id.into(),
            display_name: "bot".into(),
            owner: "deploy-pipeline".into(),
            owner_type: "ServicePrincipal".into(),
            owner_id: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f".into(),
            status: "Connected".into(),
            error_code: None,
            error_message: None,
            username: username.into(),
            target: "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d".into(),
            parameter_set: "azureRelay".into(),
            run_owner: None,
            credential: None,
        }
    }

    #[test]
    fn only_the_desktop_flow_connector_s_connections_are_the_fleet() {
        // Recorded by Microsoft's Terraform provider: an environment's
        // connections list holds every connector's connections.
        let recorded: Value =
            serde_json::from_str(include_str!("../tests/fixtures/get_connections.json")).unwrap();
        let listed = recorded["value"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(!listed.iter().any(is_desktop_flow_connection));
        let mut uiflow = listed[0].clone();
        uiflow["properties"]["apiId"] = "/providers/Microsoft.PowerApps/apis/shared_uiflow".into();
        assert!(is_desktop_flow_connection(&uiflow));
        uiflow["properties"]["apiId"] = "/providers/Microsoft.PowerApps/apis/shared_uiflowx".into();
        assert!(!is_desktop_flow_connection(&uiflow));
    }

    #[test]
    fn an_account_matches_in_any_case_and_as_dot_backslash() {
        let c = found("a", "FABRIKAM\\Payroll-Svc");
        assert!(c.holds_account("fabrikam\\payroll-svc"));
        assert!(!c.holds_account("payroll-svc"));
        assert!(found("b", ".\\bot").holds_account("BOT"));
    }

    #[test]
    fn drift_names_what_is_missing_extra_and_different() {
        let env = "37520647-dbdf-49fa-ba01-6134c14680c4";
        let expected = vec![
            Expected {
                environment: env.into(),
                id: "a".into(),
                display_name: None,
                username: Some("fabrikam\\svc".into()),
                target: None,
                owner_id: None,
            },
            Expected {
                environment: env.into(),
                id: "gone".into(),
                display_name: None,
                username: None,
                target: None,
                owner_id: None,
            },
        ];
        let drift = drift(&expected, &[found("a", "FABRIKAM\\other"), found("b", "x")]);
        assert_eq!(drift.missing, [format!("{env}/gone")]);
        assert_eq!(drift.extra, [format!("{env}/b")]);
        assert_eq!(drift.different.len(), 1);
        assert!(drift.different[0].contains("username 'fabrikam\\svc' != 'FABRIKAM\\other'"));
    }
}
