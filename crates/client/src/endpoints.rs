//! Where each surface lives: the cloud's host names, or a local platform's
//! path-style routes (docs/platform.md, "Hosts and routes"), which need no name resolution.

use std::str::FromStr;

use padconnect_core::{Cloud, EnvironmentId};

/// A Dataverse org, as `--org` takes it: its unique name (`contoso`, on the
/// cloud's first region, `crm.dynamics.com`), or its full URL, which orgs
/// outside North America need: EMEA is `crm4`, APAC `crm5`, the UK `crm11`
/// (the Online Management API's service URL table, learn.microsoft.com
/// "Online Management API: Region discovery"). Microsoft's own tools take the
/// URL too: the Dataverse ServiceClient's instance URL, `pac auth create
/// --environment https://contoso.crm4.dynamics.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Org {
    Name(String),
    /// `https://{name}.crm4.dynamics.com`, without a trailing slash.
    Url {
        url: String,
        name: String,
    },
}

impl Org {
    /// The org's unique name: the URL's first label.
    pub fn name(&self) -> &str {
        match self {
            Self::Name(name) | Self::Url { name, .. } => name,
        }
    }
}

impl std::fmt::Display for Org {
    /// As the user gave it: the name, or the URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Url { url, .. } => f.write_str(url),
        }
    }
}

impl FromStr for Org {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if !text.contains("://") {
            return match padconnect_core::host::is_org_name(text) {
                true => Ok(Self::Name(text.to_ascii_lowercase())),
                false => Err(format!(
                    "'{text}' is not a Dataverse org: give its name (contoso) or its URL (https://contoso.crm4.dynamics.com)"
                )),
            };
        }
        let bad = |why: &str| format!("'{text}' is not a Dataverse org URL: {why}");
        let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "https" {
            return Err(bad("Dataverse is reached over https"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                "give the org's base URL alone, with no path (https://contoso.crm4.dynamics.com)",
            ));
        }
        let host = url.host_str().ok_or_else(|| bad("it has no host"))?;
        let name = host
            .split('.')
            .next()
            .filter(|label| padconnect_core::host::is_org_name(label) && host.contains('.'))
            .ok_or_else(|| bad("its host does not start with the org's name"))?;
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        Ok(Self::Url {
            url: format!("https://{}{port}", host.to_ascii_lowercase()),
            name: name.to_ascii_lowercase(),
        })
    }
}

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

    /// An org's Dataverse, to which `/api/data/v9.2/...` is appended. A
    /// local platform serves every org under `/orgs/{name}`, whatever its
    /// region.
    pub fn dataverse(&self, org: &Org) -> String {
        match (self, org) {
            (Self::Cloud(cloud), Org::Name(name)) => {
                format!("https://{name}.{}", cloud.hosts().dataverse)
            }
            (Self::Cloud(_), Org::Url { url, .. }) => url.clone(),
            (Self::Platform(base), org) => format!("{base}/orgs/{}", org.name()),
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

    /// BAP's view of an environment, in its admin scope or its user scope
    /// (without the api-version).
    pub fn bap_environment(&self, env: &EnvironmentId, admin: bool) -> String {
        format!("{}/{env}", self.bap_environments(admin))
    }

    /// BAP's list of environments, in its admin scope or its user scope
    /// (without the api-version).
    pub fn bap_environments(&self, admin: bool) -> String {
        let scope = if admin { "scopes/admin/" } else { "" };
        let path = format!("/providers/Microsoft.BusinessAppPlatform/{scope}environments");
        match self {
            Self::Cloud(cloud) => format!("https://{}{path}", cloud.hosts().bap),
            Self::Platform(base) => format!("{base}/bap{path}"),
        }
    }

    /// The scope whose token BAP accepts: the PowerApps service's.
    pub fn bap_scope(&self) -> String {
        let cloud = match self {
            Self::Cloud(cloud) => *cloud,
            Self::Platform(_) => Cloud::Public,
        };
        format!("{}/.default", cloud.hosts().bap_resource)
    }

    /// The scope for an org's Dataverse: its base URL, as the Dataverse SDKs ask.
    pub fn dataverse_scope(&self, org: &Org) -> String {
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
        let contoso: Org = "Contoso".parse().unwrap();
        assert_eq!(
            cloud.dataverse(&contoso),
            "https://contoso.crm.dynamics.com"
        );
        let emea: Org = "https://Contoso.crm4.dynamics.com/".parse().unwrap();
        assert_eq!(emea.name(), "contoso");
        assert_eq!(cloud.dataverse(&emea), "https://contoso.crm4.dynamics.com");
        assert_eq!(
            cloud.dataverse_scope(&emea),
            "https://contoso.crm4.dynamics.com/.default"
        );
        assert_eq!(
            Target::Cloud(Cloud::UsGovHigh).dataverse(&contoso),
            "https://contoso.crm.microsoftdynamics.us"
        );
        assert_eq!(cloud.api_scope(), "https://api.powerplatform.com/.default");

        let local = Target::platform("http://127.0.0.1:7232/");
        assert_eq!(
            local.environment_api(&env),
            "http://127.0.0.1:7232/environments/37520647-dbdf-49fa-ba01-6134c14680c4"
        );
        assert_eq!(
            local.dataverse(&contoso),
            "http://127.0.0.1:7232/orgs/contoso"
        );
        assert_eq!(local.dataverse(&emea), "http://127.0.0.1:7232/orgs/contoso");
        assert_eq!(
            local.dataverse_scope(&contoso),
            "http://127.0.0.1:7232/orgs/contoso/.default"
        );
        assert_eq!(local.api_scope(), "https://api.powerplatform.com/.default");
        assert_eq!(local.tenant_api(), "http://127.0.0.1:7232");
    }

    #[test]
    fn orgs_are_names_or_base_urls() {
        for bad in [
            "contoso.crm4",
            "http://contoso.crm4.dynamics.com",
            "https://contoso.crm4.dynamics.com/api/data/v9.2",
            "https://contoso.crm4.dynamics.com/?x=1",
            "https://localhost",
            "https://-x.crm.dynamics.com",
            "",
        ] {
            assert!(bad.parse::<Org>().is_err(), "{bad}");
        }
        assert_eq!(
            "https://contoso.crm.localhost:8443".parse::<Org>().unwrap(),
            Org::Url {
                url: "https://contoso.crm.localhost:8443".into(),
                name: "contoso".into()
            }
        );
    }
}
