//! `padconnect token --scope SCOPE`, and `padconnect token --federated`,
//! the platform acting as a CI system's OIDC issuer.

use clap::Args;
use padconnect_client::ClientCredential;
use padconnect_core::federation::{PLATFORM_ISSUER, TOKEN_EXCHANGE_AUDIENCE};

use crate::client_args::ClientArgs;
use crate::keys::KeysArgs;
use crate::output::{err, out};
use crate::session::{Session, SessionArgs};

#[derive(Args)]
#[command(mut_arg("data_dir", |arg| arg.help(crate::serve::help("With --scope: run the embedded platform kept in DIR, as every command's --data-dir does. With --federated: the platform whose keys sign the token", "data_dir"))))]
pub struct TokenArgs {
    /// The scope, `{resource}/.default`: https://api.powerplatform.com/.default,
    /// https://{org}.crm.dynamics.com/.default.
    #[arg(long, value_name = "SCOPE", required_unless_present = "federated")]
    scope: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    federated: FederatedArgs,
}

/// A workload's own token, as GitHub Actions or Kubernetes hands one to a
/// job, for an app whose world trusts the platform's issuer.
#[derive(Args)]
#[command(next_help_heading = "Test issuer (--federated)")]
struct FederatedArgs {
    /// Print a JWT from the platform's own OIDC issuer
    /// (https://federation.padconnect.localhost), for AZURE_FEDERATED_TOKEN_FILE.
    #[arg(long, conflicts_with = "scope", requires = "subject")]
    federated: bool,
    /// The token's subject, as the app's federated credential names it
    /// (GitHub: repo:OWNER/REPO:ref:refs/heads/main).
    #[arg(long, value_name = "SUBJECT", requires = "federated")]
    subject: Option<String>,
    /// The token's audience.
    #[arg(long, value_name = "AUDIENCE", default_value = TOKEN_EXCHANGE_AUDIENCE, requires = "federated")]
    audience: String,
    /// How long the token is valid.
    #[arg(long, value_name = "MINUTES", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1440), requires = "federated")]
    lifetime_minutes: u16,
    /// The platform whose signing keys sign it: its data dir, database and
    /// config file, as `serve` and `keys` take them.
    #[command(flatten)]
    platform: KeysArgs,
}

/// Prints the token alone, for `$(padconnect token ...)`.
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let platform = &args.federated.platform;
    if !args.federated.federated && platform.names_a_database() {
        anyhow::bail!(
            "--database and --config name the issuer of `token --federated`; an access token comes from --data-dir, --platform or the cloud"
        );
    }
    runtime.block_on(async {
        match (args.scope, platform.data_dir()) {
            (Some(scope), Some(data_dir)) => embedded_token(args.client, data_dir, &scope).await,
            (Some(scope), None) => access_token(&args.client, &scope).await,
            (None, _) => federated_token(&args.federated).await,
        }
    })
}

/// A token from the embedded platform kept in `data_dir`, as every other
/// command's `--data-dir` signs in: quickstart's service principal unless
/// AZURE_CLIENT_ID names another.
async fn embedded_token(
    client: ClientArgs,
    data_dir: &std::path::Path,
    scope: &str,
) -> anyhow::Result<()> {
    if client.platform.is_some() {
        anyhow::bail!(
            "--data-dir runs the platform kept there; --platform names one already running: give one of them"
        );
    }
    let args = SessionArgs {
        client,
        data_dir: Some(data_dir.to_owned()),
    };
    let session = Session::open(&args).await?;
    let token = session.access_token(scope).await;
    session.close().await;
    out!("{}", token?);
    Ok(())
}

async fn access_token(client: &ClientArgs, scope: &str) -> anyhow::Result<()> {
    let credential = client.credential()?;
    let tokens = client.token_client(client.http()?);
    let (tenant, client_id) = match credential {
        // az knows its account: no tenant or app to name.
        ClientCredential::AzureCli => {
            err!("padconnect: signing in with {}", credential.describe());
            (client.tenant.clone().unwrap_or_default(), String::new())
        }
        _ => crate::session::principal(client, &tokens, &credential, scope).await?,
    };
    let token = tokens
        .client_credentials(&tenant, &client_id, &credential, scope)
        .await?;
    out!("{}", token.token);
    Ok(())
}

async fn federated_token(args: &FederatedArgs) -> anyhow::Result<()> {
    let subject = args.subject.as_deref().unwrap_or_default();
    let platform = args.platform.open_existing().await?;
    let token = padconnect_platform::mint_federated_token(
        &platform.state().signing,
        subject,
        &args.audience,
        i64::from(args.lifetime_minutes) * 60,
    );
    platform.store().close().await;
    let token = token?;
    err!("padconnect: a token of issuer {PLATFORM_ISSUER} for subject '{subject}'");
    out!("{token}");
    Ok(())
}
