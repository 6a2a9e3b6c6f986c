//! `padconnect quickstart`: the local platform in-process, a world made for
//! the occasion, and the whole seed workflow as its service principal.

use crate::output::out;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use padconnect_client::workflow::{self, ConnectPlan};
use padconnect_client::{ClientCredential, DesktopFlowConnection, Secret, Target, TokenClient};
use padconnect_domain::world::{World, load_world};
use serde_json::json;

use crate::connect::{DEFAULT_CONNECTION_REFERENCE, change_name};
use crate::embedded::{self, QuickstartIdentity};
use crate::output;

#[derive(Args)]
pub struct QuickstartArgs {
    /// Print one JSON document instead of text (the same as --output json).
    #[arg(long, conflicts_with = "output")]
    json: bool,
    /// How to print: table for people, json for scripts.
    #[arg(long, value_enum, ignore_case = true)]
    output: Option<output::Format>,
    /// Keep the platform's data here (reuse it on the next run; other
    /// commands take the same --data-dir). Default: a temporary dir, removed.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub fn run(mut args: QuickstartArgs) -> anyhow::Result<()> {
    args.json |= args.output == Some(output::Format::Json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(quickstart(args))
}

async fn quickstart(args: QuickstartArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (data_dir, _temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temporary = tempfile::tempdir().context("cannot make a temporary data dir")?;
            (temporary.path().to_owned(), Some(temporary))
        }
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let platform = embedded::start(&data_dir).await?;
    let result = run_on(&platform, &data_dir, &args, started).await;
    platform.shutdown().await?;
    result
}

async fn run_on(
    platform: &padconnect_platform::RunningPlatform,
    data_dir: &std::path::Path,
    args: &QuickstartArgs,
    started: Instant,
) -> anyhow::Result<()> {
    let keyring = &platform.state().keyring;
    let identity = match QuickstartIdentity::load(data_dir, keyring)? {
        Some(identity) => identity,
        None => {
            let identity = QuickstartIdentity::generate();
            identity.save(data_dir, keyring)?;
            identity
        }
    };
    let world = World::from_spec(&identity.world_spec(), data_dir, "the quickstart world")?;
    load_world(platform.store(), &platform.state().keyring, &world).await?;
    if !args.json {
        let data = match args.data_dir.is_some() {
            true => format!("data: {}", data_dir.display()),
            false => {
                "data: a temporary dir, removed at the end; --data-dir DIR keeps it".to_owned()
            }
        };
        out!("Local platform at {} ({data})", platform.url());
        out!(
            "World: tenant {}, app deploy-pipeline ({}) with an application user in environment {},\n       machine group \"Desktop flow bots\" ({}) with machine {}, shared with the app as User.",
            identity.tenant_domain,
            identity.client_id,
            identity.environment,
            identity.group_id,
            identity.machine
        );
    }

    let http = TokenClient::http_client(None)?;
    let target = Target::platform(&platform.url());
    let tokens = TokenClient::new(http.clone(), &platform.url());
    let plan = ConnectPlan {
        tenant: identity.tenant_id.clone(),
        client_id: identity.client_id.clone(),
        credential: ClientCredential::Secret(Secret::new(identity.client_secret.clone())),
        environment: identity.environment,
        connection_id: None,
        connection: DesktopFlowConnection {
            display_name: Some("Desktop flows (quickstart)".into()),
            parameter_set: padconnect_core::ParameterSet::AzureRelay,
            username: identity.windows_account.clone(),
            password: Secret::new(identity.windows_password.clone()),
            group_id: identity.group_id.clone(),
            credential_id: None,
            run_owner: None,
        },
        force: false,
        apply_password: false,
        retry: Default::default(),
    };
    let outcome =
        workflow::connect(&http, &target, &tokens, &plan, &mut output::progress()).await?;
    let settings = workflow::deployment_settings(DEFAULT_CONNECTION_REFERENCE, &outcome.name);
    let elapsed = started.elapsed();
    if args.json {
        output::json(&json!({
            "platform": platform.url(),
            // A temporary dir is gone when this is read: null, not its path.
            "dataDir": args.data_dir.as_ref().map(|_| data_dir.display().to_string()),
            "tenantId": identity.tenant_id,
            "clientId": identity.client_id,
            "environmentId": identity.environment.to_string(),
            "machineGroupId": identity.group_id,
            "connectionId": outcome.name,
            "change": change_name(outcome.change),
            "status": outcome.status,
            "deploymentSettings": settings,
            "elapsedMs": elapsed.as_millis(),
        }));
    } else {
        out!(
            "Connection {} {} as service principal {}: status {}.",
            outcome.name,
            change_name(outcome.change),
            identity.client_id,
            outcome.status
        );
        out!("\nDeployment settings:");
        output::json(&settings);
        out!("\nDone in {} ms.", elapsed.as_millis());
        if args.data_dir.is_some() {
            out!(
                "Look at it again: padconnect connection get {} --data-dir {}",
                outcome.name,
                data_dir.display()
            );
        }
    }
    anyhow::ensure!(
        outcome.status == "Connected",
        "the connection's status is {}",
        outcome.status
    );
    Ok(())
}
