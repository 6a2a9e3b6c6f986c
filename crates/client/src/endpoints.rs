//! Where each surface lives: the cloud's host names, or a local platform's
//! path-style routes (DESIGN.md 4.1), which need no name resolution.

use padconnect_core::{Cloud, EnvironmentId};

/// The services a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The Microsoft cloud (public or sovereign).
    Cloud(Cloud),
    /// A local platform at this base URL (`http://127.0.0.1:7232`).
    Platform(String),
}

impl Target {
    /// A platform base URL, without its trailing slash.
    pub fn platform(base: &str) -> Self {
        Self::Platform(base.trim_end_matches('/').to_owned())
    }

    /// Entra ID's token endpoint for a tenant (GUID or domain).
    pub fn token_url(&self, tenant: &str) -> String {
        match self {
            Self::Cloud(cloud) => {
                format!("https://{}/{tenant}/oauth2/v2.0/token", cloud.hosts().login)
            }
            Self::Platform(base) => format!("{base}/{tenant}/oauth2/v2.0/token"),
        }
    }

    /// The environment-level Power Platform API, to which `/connectivity/...` is appended.
    pub fn environment_api(&self, env: &EnvironmentId) -> String {
        match self {
            Self::Cloud(cloud) => format!("https://{}", cloud.environment_host(env)),
            Self::Platform(base) => format!("{base}/environments/{env}"),
        }
    }

    /// The tenant-level Power Platform API, to which `/connectivity/...` is appended.
    pub fn tenant_api(&self) -> String {
        match self {
            Self::Cloud(cloud) => cloud.api_resource(),
            Self::Platform(base) => base.clone(),
        }
    }

    /// An org's Dataverse, to which `/api/data/v9.2/...` is appended.
    pub fn dataverse(&self, org: &str) -> String {
        match self {
            Self::Cloud(cloud) => format!("https://{org}.{}", cloud.hosts().dataverse),
            Self::Platform(base) => format!("{base}/orgs/{org}"),
        }
    }

    /// The scope whose token the Power Platform API accepts. Tokens keep the
    /// cloud's audience on a local platform too.
    pub fn api_scope(&self) -> String {
        let cloud = match self {
            Self::Cloud(cloud) => *cloud,
            Self::Platform(_) => Cloud::Public,
        };
        format!("{}/.default", cloud.api_resource())
    }

    /// The scope for an org's Dataverse: its base URL, as the Dataverse SDKs ask.
    pub fn dataverse_scope(&self, org: &str) -> String {
        format!("{}/.default", self.dataverse(org))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_and_platform_urls() {
        let env: EnvironmentId = "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap();
        let cloud = Target::Cloud(Cloud::Public);
        assert_eq!(
            cloud.environment_api(&env),
            "https://37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com"
        );
        assert_eq!(
            cloud.token_url("contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            cloud.dataverse("contoso"),
            "https://contoso.crm.dynamics.com"
        );
        assert_eq!(cloud.api_scope(), "https://api.powerplatform.com/.default");

        let local = Target::platform("http://127.0.0.1:7232/");
        assert_eq!(
            local.environment_api(&env),
            "http://127.0.0.1:7232/environments/37520647-dbdf-49fa-ba01-6134c14680c4"
        );
        assert_eq!(
            local.dataverse("contoso"),
            "http://127.0.0.1:7232/orgs/contoso"
        );
        assert_eq!(
            local.dataverse_scope("contoso"),
            "http://127.0.0.1:7232/orgs/contoso/.default"
        );
        assert_eq!(local.api_scope(), "https://api.powerplatform.com/.default");
        assert_eq!(local.tenant_api(), "http://127.0.0.1:7232");
    }
}
