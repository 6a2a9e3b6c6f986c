//! Tokens from the Azure CLI's signed-in account, as azure-identity's
//! AzureCliCredential gets them: `az account get-access-token --output json
//! --resource RESOURCE [--tenant TENANT]`, reading `accessToken` and
//! `expires_on` (Unix seconds, az 2.54 and later) from its answer
//! (Azure/azure-sdk-for-python, sdk/identity/azure-identity,
//! `_credentials/azure_cli.py`). Azure DevOps' AzureCLI task and GitHub's
//! azure/login leave such a session behind.

use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;

use crate::{AccessToken, ClientError};

/// The program azure-identity runs (`az.cmd` on Windows).
pub const PROGRAM: &str = if cfg!(windows) { "az.cmd" } else { "az" };

/// A slow machine's Python start-up stays well inside this.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: String,
    #[serde(rename = "expires_on")]
    expires_on: Option<i64>,
}

/// The resource a `{resource}/.default` scope names, as azure-identity
/// turns a scope into `--resource`.
pub fn resource_of(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// A token for `scope` from `az`; `tenant` picks the tenant when given.
pub async fn token(scope: &str, tenant: Option<&str>) -> Result<AccessToken, ClientError> {
    let mut command = tokio::process::Command::new(PROGRAM);
    command
        .args(["account", "get-access-token", "--output", "json"])
        .args(["--resource", resource_of(scope)])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(tenant) = tenant {
        command.args(["--tenant", tenant]);
    }
    let child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ClientError::Credential(format!(
            "the Azure CLI ({PROGRAM}) is not on PATH: install it and run `az login`, or pick another credential with --credential"
        )),
        _ => ClientError::Credential(format!("cannot run the Azure CLI ({PROGRAM}): {e}")),
    })?;
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            ClientError::Credential(format!(
                "the Azure CLI did not answer within {} s",
                TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| ClientError::Credential(format!("the Azure CLI failed to run: {e}")))?;
    if !output.status.success() {
        return Err(ClientError::Credential(failure_message(
            &String::from_utf8_lossy(&output.stderr),
        )));
    }
    let answer: CliToken = serde_json::from_slice(&output.stdout).map_err(|e| {
        ClientError::Credential(format!("`az account get-access-token` gave no token: {e}"))
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(AccessToken {
        token: answer.access_token,
        expires_in: answer.expires_on.map_or(0, |at| at - now),
    })
}

/// What az said, trimmed to its first error line, with the fix for the
/// usual case (no session).
fn failure_message(stderr: &str) -> String {
    let said = stderr
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("ERROR:"))
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no message");
    let said: String = said.chars().take(500).collect();
    if said.contains("az login") {
        format!(
            "the Azure CLI is not signed in ({said}): run `az login --service-principal ...` or `az login` first"
        )
    } else {
        format!("the Azure CLI could not get a token: {said}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_become_resources_and_failures_name_the_fix() {
        assert_eq!(
            resource_of("https://api.powerplatform.com/.default"),
            "https://api.powerplatform.com"
        );
        assert_eq!(
            resource_of("https://contoso.crm.dynamics.com/"),
            "https://contoso.crm.dynamics.com/"
        );
        let message =
            failure_message("WARNING: something\nERROR: Please run 'az login' to setup account.\n");
        assert!(
            message.contains("not signed in") && message.contains("Please run 'az login'"),
            "{message}"
        );
        assert_eq!(
            failure_message("ERROR: AADSTS700016: Application not found\n"),
            "the Azure CLI could not get a token: ERROR: AADSTS700016: Application not found"
        );
    }
}
