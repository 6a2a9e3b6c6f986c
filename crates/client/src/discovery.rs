//! Finding an environment's Dataverse org from its id alone, as Microsoft's
//! Terraform provider does (`internal/services/environment/api_environment.go`,
//! `GetEnvironmentHostById`): BAP's admin view of the environment,
//! `properties.linkedEnvironmentMetadata.instanceUrl` with its trailing
//! slash trimmed. The admin view answers administrators and management
//! apps; a caller that is neither is asked the user view
//! (`/providers/Microsoft.BusinessAppPlatform/environments/{id}`), which
//! answers the environment's members.

use padconnect_core::EnvironmentId;
use reqwest::Method;
use serde_json::Value;

use crate::{ClientError, Org, Target, http};

/// The api-version the Terraform provider sends.
const API_VERSION: &str = "2023-06-01";

/// The org of `environment`, found through BAP with a token for
/// [`Target::bap_scope`].
pub async fn environment_org(
    http_client: &reqwest::Client,
    target: &Target,
    environment: &EnvironmentId,
    token: &str,
) -> Result<Org, ClientError> {
    let admin = target.bap_environment(environment, true);
    let environment_view = match get(http_client, &admin, token).await {
        Err(ClientError::Service { status: 403, .. }) => {
            let member = target.bap_environment(environment, false);
            get(http_client, &member, token).await?
        }
        other => other?,
    };
    let url = environment_view["properties"]["linkedEnvironmentMetadata"]["instanceUrl"]
        .as_str()
        .map(|url| url.trim_end_matches('/'))
        .filter(|url| !url.is_empty())
        .ok_or_else(|| ClientError::Protocol {
            url: admin.clone(),
            reason: format!(
                "environment {environment} has no Dataverse (no linkedEnvironmentMetadata.instanceUrl): add a Dataverse database to it, or pass --org"
            ),
        })?;
    org_of_instance_url(url).ok_or_else(|| ClientError::Protocol {
        url: admin,
        reason: format!("'{url}' is not a Dataverse org URL"),
    })
}

/// Every environment the caller can see, as BAP lists them: the admin
/// scope's list (every environment of the tenant) for administrators and
/// management apps, else the user scope's (the environments it is a member
/// of). Pages are followed through `nextLink` where BAP gives one.
pub async fn environments(
    http_client: &reqwest::Client,
    target: &Target,
    token: &str,
) -> Result<Vec<EnvironmentId>, ClientError> {
    let first = match get(http_client, &target.bap_environments(true), token).await {
        Err(ClientError::Service { status: 403, .. }) => {
            get(http_client, &target.bap_environments(false), token).await?
        }
        other => other?,
    };
    let mut page = first;
    let mut all = Vec::new();
    loop {
        for environment in page["value"].as_array().into_iter().flatten() {
            let name = environment["name"].as_str().unwrap_or_default();
            let id = name.parse().map_err(|e| ClientError::Protocol {
                url: target.bap_environments(true),
                reason: format!("BAP listed an environment named '{name}': {e}"),
            })?;
            all.push(id);
        }
        let Some(next) = page["nextLink"].as_str().map(str::to_owned) else {
            return Ok(all);
        };
        let (_, body) = http::send(http_client, Method::GET, &next, &token.into(), None).await?;
        page = body;
    }
}

async fn get(http_client: &reqwest::Client, url: &str, token: &str) -> Result<Value, ClientError> {
    let url = format!("{url}?api-version={API_VERSION}");
    let (_, body) = http::send(http_client, Method::GET, &url, &token.into(), None).await?;
    Ok(body)
}

/// An org from an instance URL: the cloud's (`https://contoso.crm4.dynamics.com`)
/// or a local platform's path-style one (`https://127.0.0.1:7232/orgs/contoso`).
fn org_of_instance_url(url: &str) -> Option<Org> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if let Some(name) = parsed.path().strip_prefix("/orgs/") {
        return padconnect_core::host::is_org_name(name).then(|| Org::Name(name.to_owned()));
    }
    url.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_urls_name_their_org() {
        assert_eq!(
            org_of_instance_url("https://contoso.crm4.dynamics.com"),
            Some(Org::Url {
                url: "https://contoso.crm4.dynamics.com".into(),
                name: "contoso".into()
            })
        );
        assert_eq!(
            org_of_instance_url("http://127.0.0.1:7232/orgs/contoso"),
            Some(Org::Name("contoso".into()))
        );
        assert_eq!(org_of_instance_url("https://127.0.0.1:7232/orgs/"), None);
        assert_eq!(org_of_instance_url("not a url"), None);
    }
}
