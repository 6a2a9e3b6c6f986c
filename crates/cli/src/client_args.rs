//! How a client command reaches the services and proves who it is, with the
//! azure-identity conventions (`AZURE_*` variables; flags override them).
//! Secrets come from the environment, a file or stdin, never an argument.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use padconnect_client::{Certificate, ClientCredential, Target, TokenClient};
use padconnect_core::Cloud;

use crate::secret_input::SecretSource;

#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// Tenant id or domain.
    #[arg(long, env = "AZURE_TENANT_ID", value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The app registration's client id.
    #[arg(long, env = "AZURE_CLIENT_ID", value_name = "GUID")]
    pub client_id: Option<String>,
    /// PEM file with the app's certificate and private key (instead of a secret).
    #[arg(long, env = "AZURE_CLIENT_CERTIFICATE_PATH", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// Read the client secret from this file (else AZURE_CLIENT_SECRET).
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret_stdin")]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from stdin (else AZURE_CLIENT_SECRET).
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// A local platform's URL (http://127.0.0.1:7232); without it, the Microsoft cloud.
    #[arg(long, env = "PADCONNECT_PLATFORM", value_name = "URL", value_parser = platform_url)]
    pub platform: Option<String>,
    /// The Microsoft cloud: public, usgov, usgovhigh, usdod, china, ex, rx.
    #[arg(long, default_value = "public", value_name = "NAME")]
    pub cloud: Cloud,
    /// The Entra ID authority, when it is neither the cloud's nor the platform's.
    #[arg(long, env = "AZURE_AUTHORITY_HOST", value_name = "URL")]
    pub authority_host: Option<String>,
    /// One more CA to trust, such as a local platform's <data-dir>/tls/ca.pem.
    #[arg(long, env = "PADCONNECT_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// A platform's URL with its scheme: `127.0.0.1:7232` alone names no protocol.
pub fn platform_url(text: &str) -> Result<String, String> {
    match text.starts_with("http://") || text.starts_with("https://") {
        true => Ok(text.to_owned()),
        false => Err(format!(
            "'{text}' has no scheme: write http://{text} (or https:// for `serve --tls`)"
        )),
    }
}

impl ClientArgs {
    pub fn target(&self) -> Target {
        match &self.platform {
            Some(url) => Target::platform(url),
            None => Target::Cloud(self.cloud),
        }
    }

    pub fn http(&self) -> anyhow::Result<reqwest::Client> {
        let ca = match &self.ca_cert {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("cannot read the CA file {}", path.display()))?,
            ),
            None => None,
        };
        Ok(TokenClient::http_client(ca.as_deref())?)
    }

    pub fn token_client(&self, http: reqwest::Client) -> TokenClient {
        let authority = match (&self.authority_host, &self.platform) {
            (Some(host), _) => host.clone(),
            (None, Some(platform)) => platform.clone(),
            (None, None) => format!("https://{}", self.cloud.hosts().login),
        };
        TokenClient::new(http, &authority)
    }

    pub fn tenant(&self) -> anyhow::Result<&str> {
        self.tenant
            .as_deref()
            .context("no tenant: set AZURE_TENANT_ID or pass --tenant")
    }

    pub fn client_id(&self) -> anyhow::Result<&str> {
        self.client_id
            .as_deref()
            .context("no client id: set AZURE_CLIENT_ID or pass --client-id")
    }

    /// The certificate if one is named, else the secret from a file, stdin
    /// or `AZURE_CLIENT_SECRET`.
    pub fn credential(&self) -> anyhow::Result<ClientCredential> {
        if let Some(path) = &self.certificate {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read the certificate file {}", path.display()))?;
            return Ok(ClientCredential::Certificate(Certificate::from_pem(&pem)?));
        }
        let secret = SecretSource {
            what: "the client secret",
            file: self.client_secret_file.as_deref(),
            stdin: self.client_secret_stdin,
            env: "AZURE_CLIENT_SECRET",
            hint: "set AZURE_CLIENT_SECRET, pass --client-secret-file or --client-secret-stdin, or name a certificate with --certificate",
        }
        .read()?;
        Ok(ClientCredential::Secret(secret))
    }
}
