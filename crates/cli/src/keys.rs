//! `padconnect keys rotate`.

use clap::{Args, Subcommand};
use padconnect_platform::Platform;

use crate::serve::ServeArgs;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a new token signing key that signs from now on. The old keys stay
    /// published until their last token expires; running replicas switch
    /// within a minute.
    Rotate(RotateArgs),
}

#[derive(Args)]
pub struct RotateArgs {
    /// The platform's data: the same --data-dir, --database and config as `serve`.
    #[command(flatten)]
    platform: ServeArgs,
}

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Rotate(args) = command;
    let mut config = args.platform.config()?;
    config.world = None;
    config.tls = false;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let platform = Platform::open(config).await?;
        let kid = platform.state().signing.rotate().await?;
        platform.store().close().await;
        println!("{kid}");
        anyhow::Ok(())
    })
}
