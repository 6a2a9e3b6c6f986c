//! `padconnect token --scope SCOPE`.

use crate::output::out;
use clap::Args;

use crate::client_args::ClientArgs;

#[derive(Args)]
pub struct TokenArgs {
    /// The scope, `{resource}/.default`: https://api.powerplatform.com/.default,
    /// https://{org}.crm.dynamics.com/.default.
    #[arg(long, value_name = "SCOPE")]
    scope: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Prints the access token alone, for `$(padconnect token ...)`.
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let credential = args.client.credential()?;
        let client = args.client.token_client(args.client.http()?);
        let token = client
            .client_credentials(
                args.client.tenant()?,
                args.client.client_id()?,
                &credential,
                &args.scope,
            )
            .await?;
        out!("{}", token.token);
        anyhow::Ok(())
    })
}
