//! `padconnect keys rotate` and `padconnect keys revoke KID`.

use crate::output::out;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use padconnect_platform::Platform;
use serde::Serialize;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a new token signing key that signs from now on; every older key
    /// signs nothing more. Tokens they signed work until they expire (an
    /// hour at most), then the keys leave the JWKS. Running replicas switch
    /// within 5 s.
    Rotate(KeysArgs),
    /// End a leaked key outright: no token it signed verifies any more, here
    /// at once and on running replicas within 5 s. If it was the key that
    /// signs, a new one takes over.
    Revoke {
        /// The key's kid, as the JWKS and every token's header name it.
        kid: String,
        #[command(flatten)]
        args: KeysArgs,
    },
}

/// Where the platform's keys are: the same data dir, database and config
/// file as `serve` uses (the other `serve` flags mean nothing here).
#[derive(Args, Serialize)]
pub struct KeysArgs {
    #[arg(long, value_name = "DIR", help = crate::serve::help("Data directory", "data_dir"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[arg(long, value_name = "URL",
        help = crate::serve::help("postgres://USER@HOST:PORT/DB when `serve` uses one", "database"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    /// The TOML config file `serve` reads.
    #[arg(long, value_name = "FILE", env = "PADCONNECT_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
}

impl KeysArgs {
    /// Whether a database or a config file was named.
    pub fn names_a_database(&self) -> bool {
        self.database.is_some() || self.config.is_some()
    }

    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.data_dir.as_deref()
    }

    /// Opens the platform data `serve` uses, without its world or listener.
    /// The keys live in an existing platform's data: a mistyped path must
    /// not make a new one (unless the master key comes from the environment).
    pub async fn open_existing(&self) -> anyhow::Result<Platform> {
        let mut config = crate::serve::load_config(self.config.as_deref(), self)?;
        if !config.data_dir.is_dir() && std::env::var_os("PADCONNECT_MASTER_KEY").is_none() {
            anyhow::bail!(
                "the data dir {} does not exist: give the --data-dir (and --database) that `padconnect serve` uses",
                config.data_dir.display()
            );
        }
        config.world = None;
        config.tls = false;
        Ok(Platform::open(config).await?)
    }
}

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    let (args, revoke) = match command {
        KeysCommand::Rotate(args) => (args, None),
        KeysCommand::Revoke { kid, args } => (args, Some(kid)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let platform = args.open_existing().await?;
        let signing = &platform.state().signing;
        let result = match &revoke {
            None => signing.rotate().await.map(Some),
            Some(kid) => signing.revoke(kid).await.map(|()| None),
        };
        platform.store().close().await;
        match (result?, revoke) {
            (Some(kid), _) => out!("{kid}"),
            (None, Some(kid)) => out!("revoked {kid}"),
            (None, None) => {}
        }
        anyhow::Ok(())
    })
}
