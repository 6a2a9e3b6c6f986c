//! The arguments of the commands that work in one environment (deploy,
//! settings check, verify), and the session they run in.

use clap::Args;
use padconnect_client::{ConnectionsClient, Org};
use padconnect_core::EnvironmentId;

use crate::output::OutputArg;
use crate::session::{Session, SessionArgs};

#[derive(Args)]
pub struct TargetArgs {
    /// The environment id; in an embedded session, quickstart's by default.
    #[arg(long, value_name = "ID", env = "PADCONNECT_ENVIRONMENT")]
    pub environment: Option<String>,
    /// The environment's Dataverse org (NAME, or the org's URL); found
    /// through BAP from --environment by default.
    #[arg(long, value_name = "NAME|URL")]
    pub org: Option<Org>,
    #[command(flatten)]
    pub output: OutputArg,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Runs `work` in a session against the arguments' environment.
pub fn in_session<T>(
    target: &TargetArgs,
    work: impl AsyncFnOnce(&Session, EnvironmentId, &ConnectionsClient) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let session = Session::open(&target.session).await?;
        let result = async {
            let environment = session.environment(target.environment.as_deref())?;
            let connections = ConnectionsClient::new(
                session.http.clone(),
                session.target.clone(),
                session.api_token().await?,
            );
            work(&session, environment, &connections).await
        }
        .await;
        session.close().await;
        result
    })
}
