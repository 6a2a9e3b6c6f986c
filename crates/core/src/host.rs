//! From a request's `Host` to the surface it addresses.
//!
//! The local platform routes by host exactly like the cloud (docs/platform.md, "Hosts and routes"):
//! any cloud's host names are accepted, and so are the same names under
//! `localhost`, where the cloud's domain is replaced by `localhost`
//! (`login.localhost`, `api.localhost`,
//! `37520647dbdf49faba016134c14680.c4.environment.api.localhost`,
//! `contoso.crm.localhost`, `make.localhost`, `api.bap.localhost`).

use crate::{Cloud, EnvironmentId};

/// What a host name addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Surface {
    /// Entra ID (`login.microsoftonline.com`).
    Identity,
    /// The Power Platform API at tenant level (`api.powerplatform.com`).
    TenantApi,
    /// The Power Platform API of one environment.
    EnvironmentApi(EnvironmentId),
    /// The Dataverse Web API of one org (`{org}.crm.dynamics.com`).
    Dataverse(String),
    /// The Power Automate portal.
    Portal,
    /// Azure Resource Manager (`management.azure.com`), as far as the Azure
    /// CLI's sign-in needs it.
    Arm,
    /// The Business Application Platform admin API (`api.bap.microsoft.com`),
    /// as far as finding an environment's Dataverse URL needs it.
    Bap,
    /// A bare address (`127.0.0.1:PORT`, `localhost:PORT`): path-style routes apply.
    PathStyle,
}

/// Classifies a `Host` header value (with or without a port). `None` when the
/// host is none of ours, or names an environment label that is malformed.
pub fn classify_host(host: &str) -> Option<Surface> {
    let name = strip_port(host)?.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.parse::<std::net::IpAddr>().is_ok() {
        return Some(Surface::PathStyle);
    }
    if let Some(prefix) = name.strip_suffix(".localhost") {
        return classify_local(prefix, &name);
    }
    if arm_cloud(&name).is_some() {
        return Some(Surface::Arm);
    }
    Cloud::ALL
        .into_iter()
        .find_map(|cloud| classify_cloud(cloud, &name))
}

/// Azure Resource Manager in one of the clouds the Azure CLI knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArmCloud {
    /// The Azure CLI's name for the cloud.
    pub name: &'static str,
    /// ARM's host (`resource_manager`).
    pub host: &'static str,
    /// The cloud's login endpoint.
    pub login: &'static str,
    /// The audiences of ARM's tokens, without their trailing slash: the
    /// classic `management.core` form (`active_directory_resource_id`, which
    /// the CLI asks for) first, then the newer one.
    pub audiences: [&'static str; 2],
}

/// ARM in the clouds the Azure CLI knows (azure-cli-core `cloud.py`:
/// `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`), the public cloud
/// first. The one table that the host classifier, the local CA, the token
/// service's audiences and ARM's metadata answer all read.
pub static ARM_CLOUDS: [ArmCloud; 3] = [
    ArmCloud {
        name: "AzureCloud",
        host: "management.azure.com",
        login: "https://login.microsoftonline.com",
        audiences: [
            "https://management.core.windows.net",
            "https://management.azure.com",
        ],
    },
    ArmCloud {
        name: "AzureUSGovernment",
        host: "management.usgovcloudapi.net",
        login: "https://login.microsoftonline.us",
        audiences: [
            "https://management.core.usgovcloudapi.net",
            "https://management.usgovcloudapi.net",
        ],
    },
    ArmCloud {
        name: "AzureChinaCloud",
        host: "management.chinacloudapi.cn",
        login: "https://login.chinacloudapi.cn",
        audiences: [
            "https://management.core.chinacloudapi.cn",
            "https://management.chinacloudapi.cn",
        ],
    },
];

/// The ARM cloud whose host is `host` (a name, lower case, no port).
pub fn arm_cloud(host: &str) -> Option<&'static ArmCloud> {
    ARM_CLOUDS.iter().find(|cloud| cloud.host == host)
}

/// Whether `audience` (with or without its trailing slash) is ARM's in
/// any cloud.
pub fn is_arm_audience(audience: &str) -> bool {
    let audience = audience.trim_end_matches('/');
    ARM_CLOUDS
        .iter()
        .any(|cloud| cloud.audiences.contains(&audience))
}

/// The highest regional number a Dataverse host may carry (`crm21`); the
/// regions in use today stop below it.
pub const MAX_DATAVERSE_REGION: u32 = 30;

/// The DNS subtrees that hold every name the platform answers to: the local
/// CA is constrained to them (RFC 5280 name constraints), so trusting it
/// vouches for no other site. A subtree covers the name and every name below
/// it; Dataverse is listed region by region (`crm.dynamics.com`,
/// `crm2.dynamics.com`, ...) rather than as all of `dynamics.com`.
pub fn served_dns_subtrees() -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    names.extend(ARM_CLOUDS.map(|cloud| cloud.host.to_owned()));
    for cloud in Cloud::ALL {
        let hosts = cloud.hosts();
        names.extend([hosts.login, hosts.api, hosts.portal, hosts.bap].map(String::from));
        if let Some((first, domain)) = hosts.dataverse.split_once('.') {
            let crm = first.trim_end_matches(|c: char| c.is_ascii_digit());
            names.push(format!("{crm}.{domain}"));
            names.extend((2..=MAX_DATAVERSE_REGION).map(|n| format!("{crm}{n}.{domain}")));
        }
    }
    names.sort();
    names.dedup();
    // A subtree inside another adds nothing.
    let covered = |name: &String, names: &[String]| {
        names
            .iter()
            .any(|other| other != name && name.ends_with(&format!(".{other}")))
    };
    let all = names.clone();
    names.retain(|name| !covered(name, &all));
    names
}

/// The host of a `Host` value, without its port (an IPv6 literal without
/// its brackets); `None` for an unclosed `[`.
pub fn strip_port(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        let (addr, _) = rest.split_once(']')?;
        return Some(addr);
    }
    Some(host.rsplit_once(':').map_or(host, |(name, _)| name))
}

fn classify_local(prefix: &str, name: &str) -> Option<Surface> {
    match prefix {
        "login" => Some(Surface::Identity),
        "api" => Some(Surface::TenantApi),
        "make" => Some(Surface::Portal),
        "management" => Some(Surface::Arm),
        "api.bap" => Some(Surface::Bap),
        // Microsoft's Local cluster (`PowerPlatformApiDiscovery`'s
        // `api.powerplatform.localhost`), which splits one character off.
        LOCAL_API_PREFIX => Some(Surface::TenantApi),
        _ if name.ends_with(LOCAL_API) => classify_named(name, LOCAL_API, "crm.localhost"),
        _ => classify_named(name, "api.localhost", "crm.localhost"),
    }
}

/// Microsoft's Local cluster's API suffix.
pub const LOCAL_API: &str = "api.powerplatform.localhost";
const LOCAL_API_PREFIX: &str = "api.powerplatform";

fn classify_cloud(cloud: Cloud, name: &str) -> Option<Surface> {
    let hosts = cloud.hosts();
    if name == hosts.login {
        Some(Surface::Identity)
    } else if name == hosts.api {
        Some(Surface::TenantApi)
    } else if name == hosts.portal {
        Some(Surface::Portal)
    } else if name == hosts.bap {
        Some(Surface::Bap)
    } else {
        classify_named(name, hosts.api, hosts.dataverse)
    }
}

/// `{label}.environment.{api}` or `{org}.{dataverse}`. The label may split
/// one or two characters off, in every cloud: Microsoft's own clients
/// disagree (`PowerPlatformApiDiscovery` splits two in the public cloud and
/// one elsewhere; the Terraform provider's `helpers/uri.go` two everywhere),
/// so the platform answers both, as the service must for its clients to work.
fn classify_named(name: &str, api: &str, dataverse: &str) -> Option<Surface> {
    if let Some(label) = name
        .strip_suffix(api)
        .and_then(|n| n.strip_suffix(".environment."))
    {
        return EnvironmentId::from_url_label_split(label, 2)
            .or_else(|_| EnvironmentId::from_url_label_split(label, 1))
            .ok()
            .map(Surface::EnvironmentApi);
    }
    // Regional Dataverse domains number their first label: crm4.dynamics.com.
    let (crm, domain) = dataverse.split_once('.')?;
    // `crm9.dynamics.com` (GCC) is a region of `crm`, as `crm4` is.
    let crm = crm.trim_end_matches(|c: char| c.is_ascii_digit());
    let (org, label) = name
        .strip_suffix(domain)?
        .strip_suffix('.')?
        .rsplit_once('.')?;
    // A region number is written without leading zeros (`crm4`, never
    // `crm04`): `crm02` names no region, and its leaf would lie outside the
    // CA's name constraints, which list the served names exactly.
    let regional = label.strip_prefix(crm).is_some_and(|n| {
        n.is_empty()
            || (!n.starts_with('0')
                && n.bytes().all(|b| b.is_ascii_digit())
                && n.parse::<u32>()
                    .is_ok_and(|n| (2..=MAX_DATAVERSE_REGION).contains(&n)))
    });
    (regional && is_org_name(org)).then(|| Surface::Dataverse(org.to_owned()))
}

/// An org's unique name as it appears in its host: one DNS label.
pub fn is_org_name(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= 63
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !org.starts_with('-')
        && !org.ends_with('-')
}

/// A DNS name of at least two labels (`contoso.onmicrosoft.com`).
pub fn is_domain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').count() >= 2 && name.split('.').all(is_org_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env() -> EnvironmentId {
        "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap()
    }

    #[test]
    fn cloud_hosts() {
        let cases = [
            ("login.microsoftonline.com", Surface::Identity),
            ("LOGIN.microsoftonline.com:443", Surface::Identity),
            ("api.powerplatform.com", Surface::TenantApi),
            (
                "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com",
                Surface::EnvironmentApi(env()),
            ),
            (
                "contoso.crm.dynamics.com",
                Surface::Dataverse("contoso".into()),
            ),
            ("make.powerautomate.com", Surface::Portal),
            ("api.bap.microsoft.com", Surface::Bap),
            ("gov.api.bap.microsoft.us", Surface::Bap),
            ("api.bap.localhost:8443", Surface::Bap),
            (
                "contoso.crm9.dynamics.com",
                Surface::Dataverse("contoso".into()),
            ),
            (
                "contoso.crm4.dynamics.com",
                Surface::Dataverse("contoso".into()),
            ),
            (
                "37520647dbdf49faba016134c14680c.4.environment.api.gov.powerplatform.microsoft.us",
                Surface::EnvironmentApi(env()),
            ),
            (
                "37520647dbdf49faba016134c14680c.4.environment.api.appsplatform.us",
                Surface::EnvironmentApi(env()),
            ),
        ];
        for (host, surface) in cases {
            assert_eq!(classify_host(host), Some(surface), "{host}");
        }
    }

    #[test]
    fn localhost_hosts() {
        let cases = [
            ("login.localhost:7232", Surface::Identity),
            ("api.localhost", Surface::TenantApi),
            (
                "37520647dbdf49faba016134c14680.c4.environment.api.localhost:7232",
                Surface::EnvironmentApi(env()),
            ),
            (
                "contoso.crm.localhost",
                Surface::Dataverse("contoso".into()),
            ),
            ("make.localhost", Surface::Portal),
            ("api.powerplatform.localhost", Surface::TenantApi),
            (
                "37520647dbdf49faba016134c14680c.4.environment.api.powerplatform.localhost",
                Surface::EnvironmentApi(env()),
            ),
            ("localhost:7232", Surface::PathStyle),
            ("127.0.0.1:7232", Surface::PathStyle),
            ("[::1]:7232", Surface::PathStyle),
        ];
        for (host, surface) in cases {
            assert_eq!(classify_host(host), Some(surface), "{host}");
        }
    }

    #[test]
    fn foreign_or_malformed_hosts() {
        for host in [
            "example.com",
            "powerplatform.com",
            "nothex.c4.environment.api.powerplatform.com",
            "a.b.crm.dynamics.com",
            "contoso.crmx.dynamics.com",
            "contoso.crm02.dynamics.com",
            "contoso.crm04.dynamics.com",
            "contoso.crm+4.dynamics.com",
            ".crm.dynamics.com",
            "evil.localhost",
            "[::1",
            // A split of three characters is no client's.
            "37520647dbdf49faba016134c1468.0c4.environment.api.powerplatform.com",
        ] {
            assert_eq!(classify_host(host), None, "{host}");
        }
    }

    #[test]
    fn every_cloud_takes_both_splits() {
        for host in [
            "37520647dbdf49faba016134c14680.c4.environment.api.gov.powerplatform.microsoft.us",
            "37520647dbdf49faba016134c14680c.4.environment.api.gov.powerplatform.microsoft.us",
            "37520647dbdf49faba016134c14680c.4.environment.api.powerplatform.com",
            "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.localhost",
            "37520647dbdf49faba016134c14680c.4.environment.api.localhost",
        ] {
            assert_eq!(
                classify_host(host),
                Some(Surface::EnvironmentApi(env())),
                "{host}"
            );
        }
    }

    #[test]
    fn arm_hosts() {
        for host in [
            "management.azure.com",
            "management.usgovcloudapi.net:443",
            "management.localhost",
        ] {
            assert_eq!(classify_host(host), Some(Surface::Arm), "{host}");
        }
    }

    /// Every name the platform answers to lies in a subtree the CA may vouch
    /// for, and a name that is not served lies in none.
    #[test]
    fn served_names_lie_in_the_constrained_subtrees() {
        let subtrees = served_dns_subtrees();
        let inside = |name: &str| {
            subtrees
                .iter()
                .any(|s| name == s || name.ends_with(&format!(".{s}")))
        };
        let mut served = vec![
            "contoso.crm4.dynamics.com".to_owned(),
            "contoso.crm30.dynamics.com".to_owned(),
            "contoso.crm.localhost".to_owned(),
            "management.azure.com".to_owned(),
        ];
        for cloud in Cloud::ALL {
            let hosts = cloud.hosts();
            served.extend([hosts.login, hosts.api, hosts.portal].map(String::from));
            served.push(format!("contoso.{}", hosts.dataverse));
            served.push(cloud.environment_host(&env()));
        }
        for name in &served {
            assert!(classify_host(name).is_some(), "{name} is served");
            assert!(inside(name), "{name} is outside {subtrees:?}");
        }
        for name in [
            "dynamics.com",
            "www.dynamics.com",
            "microsoftonline.com",
            "azure.com",
        ] {
            assert!(!inside(name), "{name} must not be vouched for");
        }
    }

    #[test]
    fn domains() {
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("contoso"));
        assert!(!is_domain("contoso..com"));
        assert!(!is_domain("not a.domain"));
    }

    proptest! {
        #[test]
        fn environment_hosts_round_trip(n in any::<u128>(), cloud in 0usize..7) {
            let env = EnvironmentId::Guid(uuid::Uuid::from_u128(n));
            let host = Cloud::ALL[cloud].environment_host(&env);
            prop_assert_eq!(classify_host(&host), Some(Surface::EnvironmentApi(env)));
        }

        #[test]
        fn never_panics(host in "\\PC{0,80}") {
            let _ = classify_host(&host);
        }
    }
}
