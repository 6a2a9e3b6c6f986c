//! Where a client command runs: against the cloud or a platform named by
//! `--platform`, or against the embedded platform of a data dir.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use padconnect_client::{ClientCredential, Org, Secret, Target, TokenClient};
use padconnect_core::EnvironmentId;
use padconnect_platform::RunningPlatform;

use crate::client_args::ClientArgs;
use crate::embedded::{self, QuickstartIdentity};

#[derive(Args, Debug, Clone)]
pub struct SessionArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Run the embedded platform kept in DIR (as `quickstart --data-dir DIR`
    /// leaves it) for this command, acting as quickstart's service principal
    /// unless AZURE_CLIENT_ID names another.
    #[arg(long, value_name = "DIR", conflicts_with = "platform")]
    pub data_dir: Option<PathBuf>,
}

pub struct Session {
    pub http: reqwest::Client,
    pub target: Target,
    pub tokens: TokenClient,
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientCredential,
    /// The environment quickstart made, in an embedded session.
    pub default_environment: Option<EnvironmentId>,
    pub identity: Option<QuickstartIdentity>,
    platform: Option<RunningPlatform>,
}

impl Session {
    pub async fn open(args: &SessionArgs) -> anyhow::Result<Self> {
        let Some(data_dir) = &args.data_dir else {
            let http = args.client.http()?;
            let tokens = args.client.token_client(http.clone());
            let target = args.client.target();
            let credential = args.client.credential()?;
            let (tenant, client_id) =
                principal(&args.client, &tokens, &credential, &target.api_scope()).await?;
            return Ok(Self {
                tokens,
                target,
                tenant,
                client_id,
                credential,
                http,
                default_environment: None,
                identity: None,
                platform: None,
            });
        };
        // A mistyped --data-dir must not become a new, empty platform; only
        // `quickstart` and `serve` make one.
        if !data_dir.is_dir() {
            anyhow::bail!(
                "the data dir {} does not exist: check the path, or create it with `padconnect quickstart --data-dir {}`",
                data_dir.display(),
                data_dir.display()
            );
        }
        let platform = embedded::start(data_dir).await?;
        let identity = QuickstartIdentity::load(data_dir, &platform.state().keyring)?;
        let url = platform.url();
        let http = TokenClient::http_client(None)?;
        let (tenant, client_id, credential) = match (&args.client.client_id, &identity) {
            (Some(client_id), _) => {
                let tenant = args.client.tenant()?.to_owned();
                let credential = args.client.credential()?;
                crate::output::err!("padconnect: signing in with {}", credential.describe());
                (tenant, client_id.clone(), credential)
            }
            (None, Some(id)) => (
                id.tenant_id.clone(),
                id.client_id.clone(),
                ClientCredential::Secret(Secret::new(id.client_secret.clone())),
            ),
            (None, None) => anyhow::bail!(
                "{} holds no quickstart service principal: run `padconnect quickstart --data-dir {}` first, or set AZURE_CLIENT_ID",
                data_dir.display(),
                data_dir.display()
            ),
        };
        Ok(Self {
            tokens: TokenClient::new(http.clone(), &url),
            target: Target::platform(&url),
            http,
            tenant,
            client_id,
            credential,
            default_environment: identity.as_ref().map(|i| i.environment),
            identity,
            platform: Some(platform),
        })
    }

    /// The environment given, or the embedded one's.
    pub fn environment(&self, given: Option<&str>) -> anyhow::Result<EnvironmentId> {
        match given {
            Some(text) => Ok(text.parse()?),
            None => self
                .default_environment
                .context("no environment: pass --environment ID"),
        }
    }

    /// Every environment the identity can see, as BAP lists them.
    pub async fn visible_environments(&self) -> anyhow::Result<Vec<EnvironmentId>> {
        let token = self.token(&self.target.bap_scope()).await?;
        let listed = padconnect_client::discovery::environments(&self.http, &self.target, &token)
            .await
            .context("listing the environments this identity can see (or name them with --environment ID)")?;
        if listed.is_empty() {
            return Err(crate::exit::not_found(
                "this identity is a member of no environment: add it as an application user (Power Platform admin center > Environment > Settings > Application users), or name one with --environment ID",
            ));
        }
        Ok(listed)
    }

    /// The org given (a name, or a URL for a regional org), or the
    /// embedded one's, or else the one BAP names for `environment`.
    pub async fn org(
        &self,
        given: Option<&Org>,
        environment: Option<&EnvironmentId>,
    ) -> anyhow::Result<Org> {
        if let Some(org) = self.org_if_known(given) {
            return Ok(org);
        }
        let Some(environment) = environment.or(self.default_environment.as_ref()) else {
            anyhow::bail!(
                "no Dataverse org: pass --org NAME (the NAME of NAME.crm.dynamics.com) or --org URL (https://NAME.crm4.dynamics.com), or --environment ID to look it up"
            );
        };
        let token = self.token(&self.target.bap_scope()).await?;
        let org = padconnect_client::discovery::environment_org(
            &self.http,
            &self.target,
            environment,
            &token,
        )
        .await
        .with_context(|| {
            format!("finding the Dataverse org of environment {environment} (pass --org NAME|URL to skip this)")
        })?;
        crate::output::err!("padconnect: environment {environment} has its Dataverse at {org}");
        Ok(org)
    }

    /// The org given, or the embedded platform's; `None` when neither is known.
    pub fn org_if_known(&self, given: Option<&Org>) -> Option<Org> {
        given
            .cloned()
            .or_else(|| Some(Org::Name(self.identity.as_ref()?.org.clone())))
    }

    /// A Dataverse client for an org, with a token for it.
    pub async fn dataverse(&self, org: &Org) -> anyhow::Result<padconnect_client::DataverseClient> {
        let token = self.bearer(&self.target.dataverse_scope(org)).await?;
        Ok(padconnect_client::DataverseClient::new(
            self.http.clone(),
            &self.target,
            org,
            token,
        ))
    }

    /// A token for the Power Platform API, renewed if the service refuses it.
    pub async fn api_token(&self) -> anyhow::Result<padconnect_client::Bearer> {
        self.bearer(&self.target.api_scope()).await
    }

    /// [`Self::token`], renewed if a service refuses it.
    async fn bearer(&self, scope: &str) -> anyhow::Result<padconnect_client::Bearer> {
        Ok(self
            .tokens
            .bearer(&self.tenant, &self.client_id, &self.credential, scope)
            .await?)
    }

    /// A token for `scope` as the session's principal (`padconnect token`).
    pub async fn access_token(&self, scope: &str) -> anyhow::Result<String> {
        self.token(scope).await
    }

    /// A token for `scope` as the session's principal.
    async fn token(&self, scope: &str) -> anyhow::Result<String> {
        let token = self
            .tokens
            .client_credentials(&self.tenant, &self.client_id, &self.credential, scope)
            .await?;
        Ok(token.token)
    }

    pub async fn close(self) {
        if let Some(platform) = self.platform {
            let _ = platform.shutdown().await;
        }
    }
}

/// The tenant and app a session acts as, naming the credential on stderr.
/// The Azure CLI's account is the app its token was issued to.
pub async fn principal(
    args: &ClientArgs,
    tokens: &TokenClient,
    credential: &ClientCredential,
    scope: &str,
) -> anyhow::Result<(String, String)> {
    // A tenant or app id that is wrong as written is said before anything
    // is attempted.
    if !matches!(credential, ClientCredential::AzureCli) {
        let principal = (args.tenant()?.to_owned(), args.client_id()?.to_owned());
        crate::output::err!("padconnect: signing in with {}", credential.describe());
        return Ok(principal);
    }
    crate::output::err!("padconnect: signing in with {}", credential.describe());
    let tenant = args.tenant.clone().unwrap_or_default();
    let token = tokens
        .client_credentials(&tenant, "", credential, scope)
        .await?;
    let (tid, app) = padconnect_client::token_identity(&token.token)
        .context("the Azure CLI's token names no tenant (tid) and app (appid or azp)")?;
    Ok((tid, app))
}
