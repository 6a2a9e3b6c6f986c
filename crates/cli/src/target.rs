//! The arguments of the commands that work in one environment (deploy,
//! settings check, verify, group, machine, share), and the session they run
//! in.

use clap::Args;
use padconnect_client::{ConnectionsClient, DataverseClient, Org};
use padconnect_core::EnvironmentId;

use crate::output::OutputArg;
use crate::session::{Session, SessionArgs};

#[derive(Args)]
pub struct TargetArgs {
    /// The environment id; in an embedded session, quickstart's by default.
    /// Without --org, its Dataverse org is found through BAP (the caller
    /// must be a management app, an administrator or a member of the
    /// environment).
    #[arg(long, value_name = "ID", env = "PADCONNECT_ENVIRONMENT")]
    pub environment: Option<String>,
    /// The Dataverse org: NAME of NAME.crm.dynamics.com, or the org's URL
    /// for another region (https://NAME.crm4.dynamics.com); the embedded
    /// one's, or the one of --environment, by default.
    #[arg(long, value_name = "NAME|URL")]
    pub org: Option<Org>,
    #[command(flatten)]
    pub output: OutputArg,
    #[command(flatten)]
    pub session: SessionArgs,
}

impl TargetArgs {
    /// A Dataverse client for the org these arguments name.
    pub async fn dataverse(&self, session: &Session) -> anyhow::Result<DataverseClient> {
        let environment = self
            .environment
            .as_deref()
            .map(str::parse::<EnvironmentId>)
            .transpose()?;
        let org = session.org(self.org.as_ref(), environment.as_ref()).await?;
        session.dataverse(&org).await
    }
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
