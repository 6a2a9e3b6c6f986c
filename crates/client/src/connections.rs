//! The Power Platform API's connections, as a client sees them.

use padconnect_core::{ConnectionId, EnvironmentId, ParameterSet};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::http::{self, Retry};
use crate::{ClientError, Secret, Target};

/// What `PUT` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Updated,
}

/// A desktop-flow connection to create: the seed's body.
#[derive(Debug, Clone)]
pub struct DesktopFlowConnection {
    pub display_name: Option<String>,
    pub parameter_set: ParameterSet,
    pub username: String,
    pub password: Secret,
    pub group_id: String,
    /// A Key Vault or CyberArk credential (Dataverse's `credential` table),
    /// sent as `properties.credentialId` as the run-owner document does;
    /// the username and password are then `@environmentVariables(...)`
    /// references, or `none`.
    pub credential_id: Option<uuid::Uuid>,
    /// For `azureRelayRunOwner`: the app flows run as, and its certificate.
    pub run_owner: Option<RunOwnerCertificate>,
}

/// A run owner: an app that authenticates with a certificate, given as a
/// PFX file and its password.
#[derive(Debug, Clone)]
pub struct RunOwnerCertificate {
    pub client_id: String,
    /// The PFX file's bytes.
    pub pfx: Vec<u8>,
    pub password: Secret,
}

/// What a what-if shows in place of a secret.
pub const REDACTED: &str = "***";

impl RunOwnerCertificate {
    fn value(&self, reveal: bool) -> Value {
        use base64::Engine;
        match reveal {
            true => json!({
                "pfx": base64::engine::general_purpose::STANDARD.encode(&self.pfx),
                "password": self.password.expose(),
            }),
            false => json!({ "pfx": REDACTED, "password": REDACTED }),
        }
    }
}

impl DesktopFlowConnection {
    /// The body of the seed document's request.
    pub fn body(&self, environment: &EnvironmentId) -> Value {
        self.body_with(environment, true)
    }

    /// The same body with every secret as `***`, to show.
    pub fn redacted_body(&self, environment: &EnvironmentId) -> Value {
        self.body_with(environment, false)
    }

    fn body_with(&self, environment: &EnvironmentId, reveal: bool) -> Value {
        let password = match reveal {
            true => self.password.expose(),
            false => REDACTED,
        };
        let mut properties = json!({
            "environment": { "id": environment.resource_id(), "name": environment.to_string() },
            "connectionParametersSet": {
                "name": self.parameter_set.name(),
                "values": {
                    "username": { "value": self.username },
                    "password": { "value": password },
                    "targetId": { "value": self.group_id },
                }
            }
        });
        if let Some(owner) = &self.run_owner {
            let values = &mut properties["connectionParametersSet"]["values"];
            values["tokenRunOwnerCert:clientId"] = json!({ "value": owner.client_id });
            values["tokenRunOwnerCert:clientCertificateSecret"] =
                json!({ "value": owner.value(reveal) });
        }
        if let Some(name) = &self.display_name {
            properties["displayName"] = json!(name);
        }
        if let Some(id) = self.credential_id {
            properties["credentialId"] = json!(id);
        }
        json!({ "properties": properties })
    }
}

/// Connections of one environment.
pub struct ConnectionsClient {
    http: reqwest::Client,
    target: Target,
    token: http::Bearer,
    retry: Retry,
}

impl ConnectionsClient {
    /// `token`: a token as given, or a [`http::Bearer`] that renews itself
    /// when the service answers 401.
    pub fn new(http: reqwest::Client, target: Target, token: impl Into<http::Bearer>) -> Self {
        Self {
            http,
            target,
            token: token.into(),
            retry: Retry::default(),
        }
    }

    /// Retries (and waits for a new environment) as `retry` says.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), ClientError> {
        http::send_with(&self.http, &self.retry, method, url, &self.token, body, &[]).await
    }

    /// The connection's address, as the seed's PUT names it.
    pub fn url(&self, environment: &EnvironmentId, id: &ConnectionId) -> String {
        format!(
            "{}/connectivity/connectors/shared_uiflow/connections/{}?api-version=1&$filter=environment%20eq%20%27{environment}%27",
            self.target.environment_api(environment),
            id.as_given()
        )
    }

    pub async fn put(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        connection: &DesktopFlowConnection,
    ) -> Result<(PutOutcome, Value), ClientError> {
        let body = connection.body(environment);
        let (status, json) = self
            .send(Method::PUT, &self.url(environment, id), Some(&body))
            .await?;
        let outcome = if status == StatusCode::CREATED {
            PutOutcome::Created
        } else {
            PutOutcome::Updated
        };
        Ok((outcome, json))
    }

    /// `None` when there is no such connection (or the caller may not see it).
    pub async fn get(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Option<Value>, ClientError> {
        match self
            .send(Method::GET, &self.url(environment, id), None)
            .await
        {
            Ok((_, json)) => Ok(Some(json)),
            Err(ClientError::Service { code, .. }) if code == "ConnectionNotFound" => Ok(None),
            Err(other) => Err(other),
        }
    }

    pub async fn delete(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<(), ClientError> {
        self.send(Method::DELETE, &self.url(environment, id), None)
            .await
            .map(|_| ())
    }

    fn resource(&self, environment: &EnvironmentId, id: &ConnectionId, tail: &str) -> String {
        format!(
            "{}/connectivity/connectors/shared_uiflow/connections/{}/{tail}?api-version=1",
            self.target.environment_api(environment),
            id.as_given()
        )
    }

    /// Gives a service principal `role` on the connection (CanView,
    /// CanViewWithShare, CanEdit), or takes its access away with `None`.
    pub async fn share(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        principal_object_id: &str,
        role: Option<&str>,
    ) -> Result<(), ClientError> {
        let body = match role {
            Some(role) => json!({
                "put": [{ "properties": {
                    "roleName": role,
                    "capabilities": [],
                    "principal": { "id": principal_object_id, "type": "ServicePrincipal" },
                    "notifyShareTargetOption": "NotSpecified",
                }}],
                "delete": [],
            }),
            None => json!({
                "put": [],
                "delete": [{ "id": format!("{}/permissions/{principal_object_id}", id.resource_id(&padconnect_core::ConnectorName::uiflow())) }],
            }),
        };
        let url = self.resource(environment, id, "modifyPermissions");
        self.send(Method::POST, &url, Some(&body)).await.map(|_| ())
    }

    /// Who may use the connection: its owner first, then its shares.
    pub async fn permissions(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Vec<Value>, ClientError> {
        let url = self.resource(environment, id, "permissions");
        let (_, page) = self.send(Method::GET, &url, None).await?;
        Ok(page["value"].as_array().cloned().unwrap_or_default())
    }

    /// Every connection the caller may see, following `nextLink`.
    pub async fn list(&self, environment: &EnvironmentId) -> Result<Vec<Value>, ClientError> {
        let mut url = format!(
            "{}/connectivity/connections?api-version=1",
            self.target.environment_api(environment)
        );
        let mut all = Vec::new();
        loop {
            let (_, page) = self.send(Method::GET, &url, None).await?;
            all.extend(page["value"].as_array().cloned().unwrap_or_default());
            match page["nextLink"].as_str() {
                Some(next) => url = next.to_owned(),
                None => return Ok(all),
            }
        }
    }
}

/// The first status of a connection: `Connected`, or `Error` with its code.
pub fn status_of(connection: &Value) -> (String, Option<String>) {
    let status = &connection["properties"]["statuses"][0];
    let name = status["status"].as_str().unwrap_or("Unknown").to_owned();
    let code = status["error"]["code"].as_str().map(str::to_owned);
    (name, code)
}
