//! `padconnect settings`: write or update a deployment settings file.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use padconnect_client::settings::{
    self, ConnectionReference, EnvironmentVariable, UIFLOW_CONNECTOR_ID,
};

#[derive(Args)]
pub struct SettingsArgs {
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
}

fn pair<'a>(text: &'a str, flag: &str) -> anyhow::Result<(&'a str, &'a str)> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value)),
        _ => bail!("--{flag} '{text}' is not NAME=VALUE"),
    }
}

pub fn run(args: SettingsArgs) -> anyhow::Result<()> {
    let references = args
        .references
        .iter()
        .map(|text| {
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
        })
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
    let merged = settings::merge(existing, &references, &variables).map_err(anyhow::Error::msg)?;
    let text = serde_json::to_string_pretty(&merged)? + "\n";
    match &args.file {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}
