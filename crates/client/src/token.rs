//! Access tokens from Entra ID (or the platform's), by client credentials or,
//! for a person, by password.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::{Bearer, ClientCredential, ClientError, Renew, Secret};

/// An access token; its value stays out of `Debug`.
#[derive(Clone, Deserialize)]
pub struct AccessToken {
    #[serde(rename = "access_token")]
    pub token: String,
    pub expires_in: i64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The JWT a workload identity's token file holds, read afresh: the CI system
/// or the cluster renews the file while the job runs.
fn read_federated_token(path: &std::path::Path) -> Result<String, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ClientError::Credential(format!(
            "cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {e}",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.split('.').count() != 3 {
        return Err(ClientError::Credential(format!(
            "the federated token file {} does not hold a JWT",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// Who a token says it was issued to: its tenant (`tid`) and app (`appid`
/// in v1 tokens, `azp` in v2), read without checking it (the service does).
pub fn token_identity(token: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Identity {
        tid: String,
        appid: Option<String>,
        azp: Option<String>,
    }
    let identity: Identity = claims(token)?;
    Some((identity.tid, identity.appid.or(identity.azp)?))
}

/// The Entra object id (`oid`) of whom a token was issued to: a service
/// principal's or a person's, as connections name their owners and
/// grantees. Read without checking the token.
pub fn token_object_id(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Object {
        oid: String,
    }
    Some(claims::<Object>(token)?.oid)
}

/// The claims of a JWT, read without checking its signature.
fn claims<T: serde::de::DeserializeOwned>(token: &str) -> Option<T> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Talks to a token endpoint: `{authority}/{tenant}/oauth2/v2.0/token`.
#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    /// `https://login.microsoftonline.com`, or a platform's base URL.
    authority: String,
}

#[derive(Deserialize)]
struct AadErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

impl TokenClient {
    pub fn new(http: reqwest::Client, authority: &str) -> Self {
        Self {
            http,
            authority: authority.trim_end_matches('/').to_owned(),
        }
    }

    /// An HTTP client with a timeout and, optionally, one more trusted CA
    /// (a local platform's `ca.pem`).
    pub fn http_client(extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("padconnect/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_ca_pem {
            let ca = reqwest::Certificate::from_pem(pem).map_err(|e| {
                ClientError::Credential(format!("the CA file is not a PEM certificate: {e}"))
            })?;
            builder = builder.add_root_certificate(ca);
        }
        builder
            .build()
            .map_err(|e| ClientError::Credential(format!("cannot set up HTTPS: {e}")))
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.authority)
    }

    /// A token for `scope` as the service principal `client_id` (from `az`
    /// for [`ClientCredential::AzureCli`], which needs neither).
    pub async fn client_credentials(
        &self,
        tenant: &str,
        client_id: &str,
        credential: &ClientCredential,
        scope: &str,
    ) -> Result<AccessToken, ClientError> {
        let url = self.token_url(tenant);
        let proof = match credential {
            ClientCredential::Secret(secret) => ("client_secret", secret.expose().to_owned()),
            ClientCredential::Certificate(cert) => {
                ("client_assertion", cert.assertion(client_id, &url, true)?)
            }
            ClientCredential::FederatedTokenFile(path) => {
                ("client_assertion", read_federated_token(path)?)
            }
            ClientCredential::AzureCli => {
                let tenant = (!tenant.is_empty()).then_some(tenant);
                return crate::azure_cli::token(scope, tenant).await;
            }
        };
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.to_owned()),
            ("scope", scope.to_owned()),
        ];
        if proof.0 == "client_assertion" {
            form.push(("client_assertion_type", JWT_BEARER.to_owned()));
        }
        form.push(proof);
        self.post(&url, &form).await
    }

    /// [`Self::client_credentials`] as a [`Bearer`] that signs in again
    /// when a service refuses the token (401), as Microsoft's Terraform
    /// provider does.
    pub async fn bearer(
        &self,
        tenant: &str,
        client_id: &str,
        credential: &ClientCredential,
        scope: &str,
    ) -> Result<Bearer, ClientError> {
        let first = self
            .client_credentials(tenant, client_id, credential, scope)
            .await?;
        let (tokens, tenant, client_id, credential, scope) = (
            self.clone(),
            tenant.to_owned(),
            client_id.to_owned(),
            credential.clone(),
            scope.to_owned(),
        );
        let renew: Renew = Arc::new(move || {
            let (tokens, tenant, client_id, credential, scope) = (
                tokens.clone(),
                tenant.clone(),
                client_id.clone(),
                credential.clone(),
                scope.clone(),
            );
            Box::pin(async move {
                let fresh = tokens
                    .client_credentials(&tenant, &client_id, &credential, &scope)
                    .await?;
                Ok(fresh.token)
            })
        });
        Ok(Bearer::renewing(first.token, renew))
    }

    /// A token for `scope` as a person (resource owner password).
    pub async fn password(
        &self,
        tenant: &str,
        client_id: &str,
        username: &str,
        password: &Secret,
        scope: &str,
    ) -> Result<AccessToken, ClientError> {
        let url = self.token_url(tenant);
        let form = vec![
            ("grant_type", "password".to_owned()),
            ("client_id", client_id.to_owned()),
            ("username", username.to_owned()),
            ("password", password.expose().to_owned()),
            ("scope", scope.to_owned()),
        ];
        self.post(&url, &form).await
    }

    async fn post(&self, url: &str, form: &[(&str, String)]) -> Result<AccessToken, ClientError> {
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(|e| ClientError::transport(url, e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::transport(url, e))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| ClientError::Protocol {
                url: url.to_owned(),
                reason: format!("not a token response: {e}"),
            });
        }
        Err(match serde_json::from_slice::<AadErrorBody>(&body) {
            Ok(error) => {
                let code = error
                    .error_codes
                    .first()
                    .map_or(error.error.clone(), |c| format!("AADSTS{c}"));
                // The first line of the description is the message; the rest are trace ids.
                let message = error.error_description.lines().next().unwrap_or_default();
                let message = message
                    .split_once(": ")
                    .map_or(message, |(_, m)| m)
                    .to_owned();
                ClientError::Service {
                    status: status.as_u16(),
                    code,
                    message,
                }
            }
            Err(_) => ClientError::Service {
                status: status.as_u16(),
                code: status.canonical_reason().unwrap_or("HTTPError").to_owned(),
                message: String::from_utf8_lossy(&body).chars().take(300).collect(),
            },
        })
    }
}
