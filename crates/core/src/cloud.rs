//! The Microsoft clouds and their host names.
//!
//! Source: the cloud table in microsoft/terraform-provider-power-platform
//! `internal/constants/constants.go`. Guess, written down: for GCC High that
//! file's comment table says `api.high.powerplatform.microsoft.us` while its
//! constant says `api.appsplatform.us` (the DoD domain); we follow the table,
//! so the two clouds keep distinct hosts. Dataverse domains are the ones
//! Microsoft documents for each cloud (`crm.dynamics.com`, `crm9.dynamics.com`
//! for GCC, `crm.microsoftdynamics.us`, `crm.appsplatform.us`, `crm.dynamics.cn`).
//! Guess, written down: the portal and Dataverse hosts of the air-gapped
//! clouds (Ex, Rx) follow their API domains; no public source names them.

use std::fmt;
use std::str::FromStr;

use crate::ParseError;

crate::enum_with_all! {
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cloud {
    #[default]
    Public,
    UsGov,
    UsGovHigh,
    UsDod,
    China,
    Ex,
    Rx,
}
}

/// The host names one cloud uses for the surfaces the workflow touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudHosts {
    /// Entra ID authority host.
    pub login: &'static str,
    /// Power Platform API domain; environments live under `{label}.environment.{api}`.
    pub api: &'static str,
    /// Dataverse domain; orgs live under `{org}.{dataverse}`.
    pub dataverse: &'static str,
    /// The Power Automate portal.
    pub portal: &'static str,
    /// The Business Application Platform (BAP) admin API, where an
    /// environment's Dataverse URL is found.
    pub bap: &'static str,
    /// The resource BAP's tokens are for: the PowerApps service, as the
    /// Terraform provider asks (`*_POWERAPPS_SCOPE` without `/.default`).
    pub bap_resource: &'static str,
}

impl Cloud {
    pub const NAMES: [&'static str; Self::ALL.len()] =
        ["public", "usgov", "usgovhigh", "usdod", "china", "ex", "rx"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn hosts(self) -> CloudHosts {
        let (login, api, dataverse, portal) = match self {
            Cloud::Public => (
                "login.microsoftonline.com",
                "api.powerplatform.com",
                "crm.dynamics.com",
                "make.powerautomate.com",
            ),
            Cloud::UsGov => (
                "login.microsoftonline.com",
                "api.gov.powerplatform.microsoft.us",
                "crm9.dynamics.com",
                "make.gov.powerautomate.us",
            ),
            Cloud::UsGovHigh => (
                "login.microsoftonline.us",
                "api.high.powerplatform.microsoft.us",
                "crm.microsoftdynamics.us",
                "make.high.powerautomate.us",
            ),
            Cloud::UsDod => (
                "login.microsoftonline.us",
                "api.appsplatform.us",
                "crm.appsplatform.us",
                "make.powerautomate.appsplatform.us",
            ),
            Cloud::China => (
                "login.chinacloudapi.cn",
                "api.powerplatform.partner.microsoftonline.cn",
                "crm.dynamics.cn",
                "make.powerautomate.cn",
            ),
            Cloud::Ex => (
                "login.microsoftonline.eaglex.ic.gov",
                "api.powerplatform.eaglex.ic.gov",
                "crm.microsoftdynamics.eaglex.ic.gov",
                "make.powerautomate.eaglex.ic.gov",
            ),
            Cloud::Rx => (
                "login.microsoftonline.microsoft.scloud",
                "api.powerplatform.microsoft.scloud",
                "crm.microsoftdynamics.microsoft.scloud",
                "make.powerautomate.microsoft.scloud",
            ),
        };
        let (bap, bap_resource) = self.bap();
        CloudHosts {
            login,
            api,
            dataverse,
            portal,
            bap,
            bap_resource,
        }
    }

    /// BAP's host and token resource: the `*_BAPI_DOMAIN` and
    /// `*_POWERAPPS_SCOPE` constants of terraform-provider-power-platform
    /// `internal/constants/constants.go` (GCC High's scope is
    /// `high.service.apps.appsplatform.us` there, which we keep).
    fn bap(self) -> (&'static str, &'static str) {
        match self {
            Cloud::Public => ("api.bap.microsoft.com", "https://service.powerapps.com"),
            Cloud::UsGov => ("gov.api.bap.microsoft.us", "https://service.powerapps.us"),
            Cloud::UsGovHigh => (
                "high.api.bap.microsoft.us",
                "https://high.service.apps.appsplatform.us",
            ),
            Cloud::UsDod => (
                "api.bap.appsplatform.us",
                "https://service.apps.appsplatform.us",
            ),
            Cloud::China => (
                "api.bap.partner.microsoftonline.cn",
                "https://service.powerapps.cn",
            ),
            Cloud::Ex => (
                "api.bap.eaglex.ic.gov",
                "https://service.powerapps.eaglex.ic.gov",
            ),
            Cloud::Rx => (
                "api.bap.microsoft.scloud",
                "https://service.powerapps.microsoft.scloud",
            ),
        }
    }

    /// `{ENVIRONMENT_ID_URL}.environment.{api domain}`.
    /// How many characters of the flat environment id follow the period in
    /// its host label. Microsoft's own `PowerPlatformApiDiscovery` splits off
    /// 2 for Prod and FirstRelease and 1 for every other cluster (GCC, GCC
    /// High, DoD, China, Ex, Rx): microsoft/Agents-for-js
    /// `packages/agents-copilotstudio-client/src/powerPlatformEnvironment.ts`
    /// (`getIdSuffixLength`), the same in Agents-for-python and -for-net. The
    /// Terraform provider (`internal/helpers/uri.go`) uses 2 everywhere; we
    /// follow Microsoft's code.
    pub fn id_suffix_len(self) -> usize {
        match self {
            Cloud::Public => 2,
            _ => 1,
        }
    }

    /// The environment's `ENVIRONMENT_ID_URL` in this cloud.
    pub fn environment_label(self, env: &crate::EnvironmentId) -> String {
        env.url_label_split(self.id_suffix_len())
    }

    pub fn environment_host(self, env: &crate::EnvironmentId) -> String {
        format!(
            "{}.environment.{}",
            self.environment_label(env),
            self.hosts().api
        )
    }

    /// The Power Platform API resource, whose `/.default` scope tokens are asked for.
    pub fn api_resource(self) -> String {
        format!("https://{}", self.hosts().api)
    }
}

impl FromStr for Cloud {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|c| c.name() == lower)
            .ok_or_else(|| ParseError::Cloud(s.to_owned()))
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_hosts_are_distinct() {
        for cloud in Cloud::ALL {
            assert_eq!(cloud.name().parse::<Cloud>().unwrap(), cloud);
            assert_eq!(
                cloud.to_string().to_uppercase().parse::<Cloud>().unwrap(),
                cloud
            );
        }
        let mut apis: Vec<_> = Cloud::ALL.iter().map(|c| c.hosts().api).collect();
        apis.sort();
        apis.dedup();
        assert_eq!(apis.len(), Cloud::ALL.len());
        assert!(
            "azure"
                .parse::<Cloud>()
                .unwrap_err()
                .to_string()
                .contains("public, usgov")
        );
    }

    #[test]
    fn environment_host_follows_the_seed() {
        let env = "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap();
        assert_eq!(
            Cloud::Public.environment_host(&env),
            "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com"
        );
        assert_eq!(
            Cloud::UsGov.environment_host(&env),
            "37520647dbdf49faba016134c14680c.4.environment.api.gov.powerplatform.microsoft.us"
        );
        assert_eq!(
            Cloud::China.environment_host(&env),
            "37520647dbdf49faba016134c14680c.4.environment.api.powerplatform.partner.microsoftonline.cn"
        );
        assert_eq!(
            Cloud::Public.api_resource(),
            "https://api.powerplatform.com"
        );
    }
}
