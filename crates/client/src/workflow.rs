//! The seed's workflow as one idempotent call: a token as the service
//! principal, the connection created or updated with the seed's request, its
//! status read back.

use padconnect_core::{ConnectionId, EnvironmentId};
use serde_json::Value;
use uuid::Uuid;

use crate::connections::status_of;
use crate::{
    ClientCredential, ClientError, ConnectionsClient, DesktopFlowConnection, PutOutcome, Target,
    TokenClient,
};

/// What to connect, and as whom.
pub struct ConnectPlan {
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientCredential,
    pub environment: EnvironmentId,
    /// When `None`, derived from the environment, group, account and set, so
    /// the same inputs name the same connection every time.
    pub connection_id: Option<ConnectionId>,
    pub connection: DesktopFlowConnection,
    /// Rewrite an existing connection even if it already has these settings.
    pub force: bool,
    /// The password was given for this run (environment, file, stdin): it
    /// is applied, since the service shows no password to compare with.
    /// `false` when it is only the one kept with a quickstart data dir.
    pub apply_password: bool,
    /// Retries, and how long a new environment is waited for.
    pub retry: crate::Retry,
}

impl ConnectPlan {
    pub fn connection_id(&self) -> ConnectionId {
        self.connection_id.unwrap_or_else(|| {
            let namespace = Uuid::from_u128(0x3c9e_5a41_7d2b_4f60_8e1a_b2c3_d4e5_f607);
            let key = format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                self.environment,
                self.connection.group_id.to_ascii_lowercase(),
                self.connection.username.to_ascii_lowercase(),
                self.connection.parameter_set
            );
            ConnectionId::from_uuid(Uuid::new_v5(&namespace, key.as_bytes()))
        })
    }
}

/// What a run did to the connection, or what a what-if says it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    /// Its settings differed and were written.
    Updated,
    /// Its settings were the same; the password given was written again,
    /// whether or not it differed (no one can read it back to tell).
    PasswordApplied,
    /// It existed with the same settings, and no password was given for
    /// this run; nothing was written.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct ConnectOutcome {
    pub connection_id: ConnectionId,
    /// The connection's `name` as the service answered it: what deployment
    /// settings and later calls name it by, never a reformatted copy.
    pub name: String,
    pub change: Change,
    pub status: String,
    pub status_error: Option<String>,
    pub connection: Value,
}

impl Change {
    /// What a run will do, decided from what exists: the same answer for a
    /// what-if and for the run itself.
    fn planned(existing: Option<&Value>, plan: &ConnectPlan) -> Self {
        let Some(existing) = existing else {
            return Self::Created;
        };
        let same = has_settings(existing, &plan.connection);
        match (same, plan.force, plan.apply_password) {
            (true, false, false) => Self::Unchanged,
            (true, false, true) => Self::PasswordApplied,
            _ => Self::Updated,
        }
    }
}

/// A what-if: what `connect` would do, and the request it would send with
/// its secrets shown as `***`.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub connection_id: ConnectionId,
    /// The change a run would make.
    pub change: Change,
    /// `{ method, url, body }`; `None` when nothing would be sent.
    pub request: Option<Value>,
}

/// Signs in and reads the plan's connection, if it exists.
async fn open(
    http: &reqwest::Client,
    target: &Target,
    tokens: &TokenClient,
    plan: &ConnectPlan,
    progress: &mut dyn FnMut(&str),
) -> Result<(ConnectionsClient, Option<Value>), ClientError> {
    progress(&format!(
        "Getting a token for the Power Platform API as app {}",
        plan.client_id
    ));
    let token = tokens
        .bearer(
            &plan.tenant,
            &plan.client_id,
            &plan.credential,
            &target.api_scope(),
        )
        .await?;
    let connections =
        ConnectionsClient::new(http.clone(), target.clone(), token).with_retry(plan.retry.clone());
    progress(&format!(
        "Looking for connection {} in environment {}",
        plan.connection_id(),
        plan.environment
    ));
    let existing = connections
        .get(&plan.environment, &plan.connection_id())
        .await?;
    Ok((connections, existing))
}

/// Signs in and reads, as `connect` does, and writes nothing.
pub async fn what_if(
    http: &reqwest::Client,
    target: &Target,
    tokens: &TokenClient,
    plan: &ConnectPlan,
    progress: &mut dyn FnMut(&str),
) -> Result<WhatIf, ClientError> {
    let id = plan.connection_id();
    let (connections, existing) = open(http, target, tokens, plan, progress).await?;
    let change = Change::planned(existing.as_ref(), plan);
    let request = (change != Change::Unchanged).then(|| {
        serde_json::json!({
            "method": "PUT",
            "url": connections.url(&plan.environment, &id),
            "body": plan.connection.redacted_body(&plan.environment),
        })
    });
    Ok(WhatIf {
        connection_id: id,
        change,
        request,
    })
}

/// Runs the workflow; `progress` hears each step as it starts.
pub async fn connect(
    http: &reqwest::Client,
    target: &Target,
    tokens: &TokenClient,
    plan: &ConnectPlan,
    progress: &mut dyn FnMut(&str),
) -> Result<ConnectOutcome, ClientError> {
    let id = plan.connection_id();
    let (connections, existing) = open(http, target, tokens, plan, progress).await?;
    let planned = Change::planned(existing.as_ref(), plan);
    let change = match planned {
        Change::Unchanged => Change::Unchanged,
        _ => {
            progress(&match planned {
                Change::Created => format!(
                    "Creating connection {id} to machine group {}",
                    plan.connection.group_id
                ),
                Change::PasswordApplied => format!("Applying the password to connection {id}"),
                _ => format!("Updating connection {id}"),
            });
            let (outcome, _) = connections
                .put(&plan.environment, &id, &plan.connection)
                .await?;
            // The service's answer wins: a connection deleted since it was
            // read is created again.
            match (outcome, planned) {
                (PutOutcome::Created, _) => Change::Created,
                (PutOutcome::Updated, Change::Created) => Change::Updated,
                (PutOutcome::Updated, planned) => planned,
            }
        }
    };

    progress("Reading back its status");
    let connection = connections
        .get(&plan.environment, &id)
        .await?
        .ok_or_else(|| ClientError::Protocol {
            url: target.environment_api(&plan.environment),
            reason: format!("connection {id} vanished after it was written"),
        })?;
    let (status, status_error) = status_of(&connection);
    let name = connection["name"]
        .as_str()
        .map_or_else(|| id.as_given(), str::to_owned);
    Ok(ConnectOutcome {
        connection_id: id,
        name,
        change,
        status,
        status_error,
        connection,
    })
}

/// Whether a connection already holds these (non-secret) settings.
fn has_settings(connection: &Value, wanted: &DesktopFlowConnection) -> bool {
    let properties = &connection["properties"];
    let set = &properties["connectionParametersSet"];
    let value = |name: &str| {
        set["values"][name]["value"]
            .as_str()
            .map(str::to_ascii_lowercase)
    };
    set["name"].as_str() == Some(wanted.parameter_set.name())
        && value("username") == Some(wanted.username.to_ascii_lowercase())
        && value("targetId") == Some(wanted.group_id.to_ascii_lowercase())
        && value("tokenRunOwnerCert:clientId")
            == wanted
                .run_owner
                .as_ref()
                .map(|o| o.client_id.to_ascii_lowercase())
        && properties["credentialId"]
            .as_str()
            .map(str::to_ascii_lowercase)
            == wanted.credential_id.map(|id| id.to_string())
        && wanted
            .display_name
            .as_deref()
            .is_none_or(|name| properties["displayName"].as_str() == Some(name))
}

/// A deployment settings document naming this connection for one
/// connection reference, as `pac solution create-settings` writes them.
pub fn deployment_settings(logical_name: &str, connection_name: &str) -> Value {
    let reference = crate::settings::ConnectionReference {
        logical_name: logical_name.to_owned(),
        connection_id: connection_name.to_owned(),
        connector_id: crate::settings::UIFLOW_CONNECTOR_ID.to_owned(),
    };
    crate::settings::merge_into(serde_json::Map::new(), &[reference], &[])
}
