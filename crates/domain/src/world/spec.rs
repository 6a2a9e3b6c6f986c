//! The world file as written (docs/world.md): TOML, every list optional,
//! unknown keys refused with their name.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorldSpec {
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantSpec {
    pub id: String,
    pub domain: String,
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub environments: Vec<EnvironmentSpec>,
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// An Azure subscription the tenant's principals see through ARM.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubscriptionSpec {
    pub id: String,
    pub display_name: String,
    pub state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AppSpec {
    pub display_name: String,
    pub client_id: String,
    pub object_id: Option<String>,
    #[serde(default)]
    pub secrets: Vec<SecretSpec>,
    #[serde(default)]
    pub certificates: Vec<String>,
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredentialSpec>,
    /// Entra's "Allow public client flows": password grants need no app credential.
    #[serde(default)]
    pub public_client: bool,
}

/// Entra's workload identity federation: which external tokens sign the app in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FederatedCredentialSpec {
    pub issuer: String,
    pub subject: String,
    pub audiences: Option<Vec<String>>,
}

/// A secret: a string, or `{ value = "...", expires = "RFC 3339" }`.
#[derive(Debug)]
pub(super) struct SecretSpec {
    pub value: String,
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UserSpec {
    pub upn: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvironmentSpec {
    pub id: String,
    pub display_name: String,
    pub org: String,
    #[serde(default)]
    pub application_users: Vec<String>,
    #[serde(default)]
    pub makers: Vec<String>,
    #[serde(default)]
    pub machine_groups: Vec<MachineGroupSpec>,
    #[serde(default)]
    pub machines: Vec<StandaloneMachineSpec>,
    #[serde(default)]
    pub credentials: Vec<CredentialSpec>,
    /// Seconds after its first load during which its connections API
    /// answers as a newly created environment does (docs/world.md).
    pub ready_after_seconds: Option<u64>,
    /// Seconds each solution import takes (its asyncoperation stays In
    /// Progress that long), so a pipeline's polling can be tested.
    pub import_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MachineGroupSpec {
    pub id: String,
    pub name: String,
    pub owner: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub machines: Vec<MachineSpec>,
    #[serde(default)]
    pub shared_with: Vec<ShareSpec>,
}

/// A group's machine: its name, or a table that may list the Windows
/// accounts that can sign in on it (docs/world.md).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum MachineSpec {
    Name(String),
    Table(GroupMachineSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupMachineSpec {
    pub name: String,
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default = "yes")]
    pub online: bool,
    /// Seconds each run on it takes (1 when absent).
    pub run_seconds: Option<u64>,
    /// A run-time error code every run on it fails with.
    pub fail_with: Option<String>,
    /// Bad sign-ins that lock an account out (10, Windows 11's default,
    /// when absent; 0: never).
    pub lockout_threshold: Option<u32>,
}

fn yes() -> bool {
    true
}

/// `{ username = "FABRIKAM\\payroll-svc", password = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccountSpec {
    pub username: String,
    pub password: String,
    /// `false`: a local security policy denies it logon (KB 5021230).
    #[serde(default = "yes")]
    pub can_log_on: bool,
    /// Its user is signed in on the machine (attended runs need it).
    #[serde(default)]
    pub signed_in: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StandaloneMachineSpec {
    pub name: String,
    pub id: Option<String>,
    pub group_id: Option<String>,
    pub owner: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default = "yes")]
    pub online: bool,
    /// Seconds each run on it takes (1 when absent).
    pub run_seconds: Option<u64>,
    /// A run-time error code every run on it fails with.
    pub fail_with: Option<String>,
    /// Bad sign-ins that lock an account out (10, Windows 11's default,
    /// when absent; 0: never).
    pub lockout_threshold: Option<u32>,
    #[serde(default)]
    pub shared_with: Vec<ShareSpec>,
}

/// A Key Vault or CyberArk credential of Dataverse's `credential` table,
/// which a connection may name (`properties.credentialId`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CredentialSpec {
    pub id: String,
    pub name: String,
    pub owner: String,
    /// Its `connectiontype` label; `UsernamePassword` when absent.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub shared_with: Vec<ShareSpec>,
}

/// `{ client_id = "...", role = "user" }` or `{ upn = "...", role = "co-owner" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShareSpec {
    pub client_id: Option<String>,
    pub upn: Option<String>,
    pub role: String,
}

impl<'de> Deserialize<'de> for SecretSpec {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a secret string, or a table { value = \"...\", expires = \"2027-01-01T00:00:00Z\" }")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<SecretSpec, E> {
                Ok(SecretSpec {
                    value: value.to_owned(),
                    expires: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSpec, A::Error> {
                let (mut value, mut expires) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => value = Some(map.next_value::<String>()?),
                        "expires" => expires = Some(map.next_value::<String>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["value", "expires"]));
                        }
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
                Ok(SecretSpec { value, expires })
            }
        }

        d.deserialize_any(SecretVisitor)
    }
}
