//! `padconnect`: desktop-flow connections owned by service principals,
//! against the Microsoft cloud or a local platform.

mod client_args;
mod keys;
mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use padconnect_core::EnvironmentId;

#[derive(Parser)]
#[command(name = "padconnect", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the local platform: Entra ID, Dataverse, Power Platform API and portal.
    Serve(serve::ServeArgs),
    /// Print an access token for a scope, as a service principal.
    Token(token::TokenArgs),
    /// Manage the platform's token signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print an environment's ENVIRONMENT_ID_URL (37520647dbdf49faba016134c14680.c4).
    EnvUrl {
        /// The environment id: a GUID or Default-{GUID}.
        environment: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => token::run(args),
        Command::Keys(command) => keys::run(command),
        Command::EnvUrl { environment } => env_url(&environment),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn env_url(environment: &str) -> anyhow::Result<()> {
    let id: EnvironmentId = environment.parse()?;
    println!("{}", id.url_label());
    Ok(())
}
