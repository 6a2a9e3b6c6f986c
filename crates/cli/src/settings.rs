//! `padconnect settings`: write or update a deployment settings file.

use crate::output::out;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use padconnect_client::settings::{
    self, ConnectionReference, EnvironmentVariable, UIFLOW_CONNECTOR_ID,
};
use padconnect_client::solution;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SettingsArgs {
    #[command(subcommand)]
    command: Option<SettingsCommand>,
    /// The settings file to create or update (stdout when absent).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// LOGICAL_NAME=CONNECTION_ID, or LOGICAL_NAME=CONNECTION_ID@CONNECTOR_ID
    /// (default connector: shared_uiflow). Repeatable.
    #[arg(long = "connection-reference", value_name = "NAME=ID")]
    references: Vec<String>,
    /// SCHEMA_NAME=VALUE. Repeatable.
    #[arg(long = "environment-variable", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// A solution zip, or a folder from `pac solution unpack`: adds an entry
    /// for each of its connection references and environment variables that
    /// the file lacks, as `pac solution create-settings` does.
    #[arg(long, value_name = "ZIP|FOLDER")]
    solution: Option<PathBuf>,
    /// With --solution: the connection id for every shared_uiflow connection
    /// reference of the solution.
    #[arg(long, value_name = "CONNECTION_ID", requires = "solution")]
    uiflow_connection: Option<String>,
}

fn pair<'a>(text: &'a str, flag: &str) -> anyhow::Result<(&'a str, &'a str)> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value)),
        _ => bail!("--{flag} '{text}' is not NAME=VALUE"),
    }
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Check a settings file against an environment before an import: each
    /// connection reference's connection exists there, is of its connector,
    /// is Connected and usable by the signed-in identity, and is written in
    /// the form the service takes; with --solution, every entry is the
    /// solution's and each variable's value is of its type. Exit 7 when
    /// anything is wrong.
    Check(Box<crate::deploy::CheckArgs>),
}

pub fn run(args: SettingsArgs) -> anyhow::Result<()> {
    if let Some(SettingsCommand::Check(check)) = args.command {
        return crate::deploy::check(*check);
    }
    let solution = args
        .solution
        .as_deref()
        .map(solution::read)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let uiflow = match (&solution, &args.uiflow_connection) {
        (Some(solution), Some(id)) => {
            let id: padconnect_core::ConnectionId = id.parse()?;
            let references: Vec<ConnectionReference> = solution
                .connection_references
                .iter()
                .filter(|(_, connector)| connector.eq_ignore_ascii_case(UIFLOW_CONNECTOR_ID))
                .map(|(name, connector)| ConnectionReference {
                    logical_name: name.clone(),
                    connection_id: id.to_string(),
                    connector_id: connector.clone(),
                })
                .collect();
            if references.is_empty() {
                bail!(
                    "--uiflow-connection: the solution has no shared_uiflow connection reference"
                );
            }
            references
        }
        _ => Vec::new(),
    };
    let references = uiflow
        .into_iter()
        .map(Ok)
        .chain(args.references.iter().map(|text| {
            let (name, value) = pair(text, "connection-reference")?;
            let (id, connector) = value
                .split_once('@')
                .unwrap_or((value, UIFLOW_CONNECTOR_ID));
            let id: padconnect_core::ConnectionId = id.parse()?;
            Ok(ConnectionReference {
                logical_name: name.into(),
                connection_id: id.to_string(),
                connector_id: connector.into(),
            })
        }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let variables = args
        .variables
        .iter()
        .map(|text| {
            pair(text, "environment-variable").map(|(name, value)| EnvironmentVariable {
                schema_name: name.into(),
                value: value.into(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let existing = match &args.file {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not JSON", path.display()))?,
            )
        }
        _ => None,
    };
    let existing = match &solution {
        Some(solution) => {
            Some(settings::add_missing(existing, solution).map_err(anyhow::Error::msg)?)
        }
        None => existing,
    };
    let merged = settings::merge(existing, &references, &variables).map_err(anyhow::Error::msg)?;
    let text = serde_json::to_string_pretty(&merged)? + "\n";
    match &args.file {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => out!("{}", text.trim_end()),
    }
    Ok(())
}
