//! How a client command reaches the services and proves who it is, with the
//! azure-identity conventions (`AZURE_*` variables; flags override them).
//! Secrets come from the environment, a file or stdin, never an argument.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use padconnect_client::{Certificate, ClientCredential, Target, TokenClient};
use padconnect_core::Cloud;

use crate::secret_input::SecretSource;

/// Under their own heading in every command's help: the same fourteen
/// flags everywhere, apart from what the command itself takes.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Sign in (azure-identity's AZURE_* variables, or these flags)")]
pub struct ClientArgs {
    /// Tenant id or domain.
    #[arg(long, env = "AZURE_TENANT_ID", value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The app registration's client id.
    #[arg(long, env = "AZURE_CLIENT_ID", value_name = "GUID")]
    pub client_id: Option<String>,
    /// How to sign in; without it, the first that is configured, in
    /// azure-identity's DefaultAzureCredential order: secret, certificate,
    /// workload, azurecli.
    #[arg(
        long,
        env = "PADCONNECT_CREDENTIAL",
        value_enum,
        ignore_case = true,
        value_name = "NAME"
    )]
    pub credential: Option<CredentialKind>,
    /// The app's certificate with its private key: PEM, or PFX with its
    /// password in AZURE_CLIENT_CERTIFICATE_PASSWORD (instead of a secret).
    #[arg(long, env = "AZURE_CLIENT_CERTIFICATE_PATH", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// Workload identity: a file holding a JWT from an issuer the app trusts
    /// (the CI system's OIDC token), read at each sign-in.
    #[arg(long, env = "AZURE_FEDERATED_TOKEN_FILE", value_name = "FILE")]
    pub federated_token_file: Option<PathBuf>,
    /// Read the client secret from this file (else AZURE_CLIENT_SECRET).
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret_stdin")]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from stdin (else AZURE_CLIENT_SECRET).
    #[arg(long)]
    pub client_secret_stdin: bool,
    #[arg(long, env = "PADCONNECT_PLATFORM", value_name = "URL", value_parser = platform_url,
        help = format!("A local platform's URL (http://{}); without it, the Microsoft cloud",
            padconnect_platform::PlatformConfig::default().listen))]
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

/// The credentials `--credential` names (azure-identity's credential types).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A client secret: AZURE_CLIENT_SECRET, --client-secret-file or --client-secret-stdin.
    Secret,
    /// A certificate: AZURE_CLIENT_CERTIFICATE_PATH or --certificate.
    Certificate,
    /// Workload identity federation: AZURE_FEDERATED_TOKEN_FILE or --federated-token-file.
    Workload,
    /// The Azure CLI's signed-in account (`az login`).
    Azurecli,
}

/// What to say when no credential is configured at all.
const NO_CREDENTIAL: &str = "no credential: set AZURE_CLIENT_SECRET (or pass --client-secret-file or --client-secret-stdin), AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE, or sign in with `az login`";

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

    /// The tenant, as Entra ID names one: its id (a GUID) or a domain.
    pub fn tenant(&self) -> anyhow::Result<&str> {
        let tenant = self
            .tenant
            .as_deref()
            .context("no tenant: set AZURE_TENANT_ID or pass --tenant")?;
        if uuid::Uuid::try_parse(tenant).is_err()
            && !padconnect_core::host::is_domain(&tenant.to_ascii_lowercase())
        {
            anyhow::bail!(
                "'{tenant}' is not a tenant: give its id (a GUID, Entra ID > Overview > Tenant ID) or a domain of it (contoso.onmicrosoft.com)"
            );
        }
        Ok(tenant)
    }

    /// The app's client id: a GUID, as Entra ID gives every app registration.
    pub fn client_id(&self) -> anyhow::Result<&str> {
        let client_id = self
            .client_id
            .as_deref()
            .context("no client id: set AZURE_CLIENT_ID or pass --client-id")?;
        if uuid::Uuid::try_parse(client_id).is_err() {
            anyhow::bail!(
                "'{client_id}' is not a client id: an app registration's client id is a GUID (Entra ID > App registrations > Application (client) ID)"
            );
        }
        Ok(client_id)
    }

    /// The credential `--credential` names, else the first configured one in
    /// DefaultAzureCredential's order (secret, certificate, workload
    /// identity, Azure CLI), as azure-identity's EnvironmentCredential also
    /// prefers a secret to a certificate.
    pub fn credential(&self) -> anyhow::Result<ClientCredential> {
        let kind = match self.credential {
            Some(kind) => kind,
            None if self.secret_source().is_given() => CredentialKind::Secret,
            None if self.certificate.is_some() => CredentialKind::Certificate,
            None if self.federated_token_file.is_some() => CredentialKind::Workload,
            None if on_path(padconnect_client::azure_cli::PROGRAM) => CredentialKind::Azurecli,
            None => anyhow::bail!("{NO_CREDENTIAL} (the Azure CLI is not on PATH)"),
        };
        match kind {
            CredentialKind::Secret => Ok(ClientCredential::Secret(self.secret_source().read()?)),
            CredentialKind::Certificate => self.certificate_credential(),
            CredentialKind::Workload => match &self.federated_token_file {
                Some(path) => Ok(ClientCredential::FederatedTokenFile(path.clone())),
                None => anyhow::bail!(
                    "--credential workload needs the token file: set AZURE_FEDERATED_TOKEN_FILE or pass --federated-token-file"
                ),
            },
            CredentialKind::Azurecli if on_path(padconnect_client::azure_cli::PROGRAM) => {
                Ok(ClientCredential::AzureCli)
            }
            CredentialKind::Azurecli => anyhow::bail!(
                "--credential azurecli needs the Azure CLI, and `{}` is not on PATH: install it and run `az login`",
                padconnect_client::azure_cli::PROGRAM
            ),
        }
    }

    fn secret_source(&self) -> SecretSource<'_> {
        SecretSource {
            what: "the client secret",
            file: self.client_secret_file.as_deref(),
            stdin: self.client_secret_stdin,
            env: "AZURE_CLIENT_SECRET",
            hint: "set AZURE_CLIENT_SECRET, pass --client-secret-file or --client-secret-stdin, or pick another credential with --credential",
        }
    }

    fn certificate_credential(&self) -> anyhow::Result<ClientCredential> {
        let path = self.certificate.as_ref().context(
            "--credential certificate needs the certificate: set AZURE_CLIENT_CERTIFICATE_PATH or pass --certificate",
        )?;
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the certificate file {}", path.display()))?;
        let password = std::env::var("AZURE_CLIENT_CERTIFICATE_PASSWORD").unwrap_or_default();
        Ok(ClientCredential::Certificate(Certificate::from_file_bytes(
            &bytes, &password,
        )?))
    }
}

/// Whether `program` is an executable file in a PATH directory.
fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path)
        .any(|dir| std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file()))
}
