//! `padconnect`: desktop-flow connections owned by service principals,
//! against the Microsoft cloud or a local platform.

mod client_args;
mod connect;
mod connection;
mod deploy;
mod embedded;
mod env;
mod exit;
mod fleet;
mod group;
mod keys;
mod manual;
mod output;
mod quickstart;
mod secret_input;
mod serve;
mod session;
mod settings;
mod target;
mod token;
mod verify;

use crate::output::out;
use std::process::ExitCode;

use std::io::Write;

use clap::{CommandFactory, Parser, Subcommand};
use padconnect_core::EnvironmentId;

#[derive(Parser)]
#[command(name = "padconnect", version, about, propagate_version = true, after_help = exit::help())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: start the local platform in-process and create a
    /// desktop-flow connection owned by a service principal, every step of
    /// Microsoft's documented workflow from the app registration to the
    /// connection's PUT.
    Quickstart(quickstart::QuickstartArgs),
    /// Create or update a desktop-flow connection owned by a service principal, idempotently.
    Connect(Box<connect::ConnectArgs>),
    /// Machine groups via Dataverse: list, show (the group id a connection targets).
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Machines: silent registration, joining and leaving machine groups.
    #[command(subcommand)]
    Machine(group::MachineCommand),
    /// Share a machine group with an app's application user or a person (GrantAccess).
    Share(group::ShareArgs),
    /// Desktop-flow connections: create, get, list, delete.
    #[command(subcommand)]
    Connection(connection::ConnectionCommand),
    /// Run the local platform: Entra ID, Dataverse, Power Platform API and portal.
    Serve(serve::ServeArgs),
    /// Write or update a deployment settings file (connection references,
    /// environment variables), or check one: `settings check FILE`.
    Settings(settings::SettingsArgs),
    /// Import a solution with its deployment settings, wait for the import,
    /// and report each connection reference and flow (on, or off and why).
    Deploy(Box<deploy::DeployArgs>),
    /// Run a desktop flow through a connection and report how the run
    /// ended: the proof that the connection works on its machines.
    Verify(Box<verify::VerifyArgs>),
    /// Write a Windows account's new password to every connection that
    /// signs in as it, in each environment named (or every one the identity
    /// can see); stops at the first refusal of the password, so a wrong one
    /// cannot lock the account out.
    Rotate(Box<fleet::RotateArgs>),
    /// Every desktop flow connection of each environment named (or every
    /// one the identity can see): owner, status, account, target; exit 6
    /// when any is not Connected.
    Report(Box<fleet::ReportArgs>),
    /// Print an access token for a scope, as a service principal.
    Token(token::TokenArgs),
    /// Manage the platform's token signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print the shell lines that point unchanged tools (curl, az, MSAL, SDKs)
    /// at a running platform: HTTPS_PROXY and trust of its CA.
    Env(env::EnvArgs),
    /// Print a shell completion script: padconnect completions bash > /etc/bash_completion.d/padconnect
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): padconnect man | man -l -, or
    /// padconnect man connect; --out-dir writes them all.
    Man(manual::ManArgs),
    /// Print an environment's ENVIRONMENT_ID_URL (37520647dbdf49faba016134c14680.c4).
    EnvUrl {
        /// The environment id: a GUID or Default-{GUID}.
        environment: String,
        /// The cloud, whose hosts split the id differently: two characters
        /// after the period in public, one in every other cloud.
        #[arg(long, default_value = "public", value_name = "NAME")]
        cloud: padconnect_core::Cloud,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quickstart(args) => quickstart::run(args),
        Command::Connect(args) => connect::run(*args),
        Command::Connection(command) => connection::run(command),
        Command::Group(command) => group::run_group(command),
        Command::Share(args) => group::run_share(args),
        Command::Machine(command) => group::run_machine(command),
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => token::run(args),
        Command::Settings(args) => settings::run(args),
        Command::Deploy(args) => deploy::run(*args),
        Command::Verify(args) => verify::run(*args),
        Command::Rotate(args) => fleet::rotate(*args),
        Command::Report(args) => fleet::report(*args),
        Command::Keys(command) => keys::run(command),
        Command::Env(args) => env::run(args),
        Command::Completions { shell } => completions(shell),
        Command::Man(args) => manual::run(args, Cli::command()),
        Command::EnvUrl { environment, cloud } => env_url(&environment, cloud),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A closed stderr is no reason to panic: the exit code still says it.
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            exit::code_of(&error).into()
        }
    }
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "padconnect", &mut script);
    output::bytes(&script);
    Ok(())
}

fn env_url(environment: &str, cloud: padconnect_core::Cloud) -> anyhow::Result<()> {
    let id: EnvironmentId = environment.parse()?;
    out!("{}", cloud.environment_label(&id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and flag a user can see says what it is for.
    #[test]
    fn every_command_and_flag_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
                    missing.push(format!("{path} --{}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" && sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&command, "padconnect", &mut missing);
        assert!(missing.is_empty(), "no help for: {missing:#?}");
    }
}
