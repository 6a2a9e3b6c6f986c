//! The world file as written (docs/world.md): TOML, every list optional,
//! unknown keys refused with their name.
//!
//! These structs also serialize, so a test kit can write a world file
//! without TOML text: what is absent or at its default is left out, and a
//! secret without an expiry is written as a plain string.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantSpec>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub id: String,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<EnvironmentSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// An Azure subscription the tenant's principals see through ARM.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    pub id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub display_name: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<FederatedCredentialSpec>,
    /// Entra's "Allow public client flows": password grants need no app credential.
    #[serde(default, skip_serializing_if = "is_false")]
    pub public_client: bool,
}

/// Entra's workload identity federation: which external tokens sign the app in.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredentialSpec {
    pub issuer: String,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
}

/// A secret: a string, or `{ value = "...", expires = "RFC 3339" }`.
#[derive(Debug, Default)]
pub struct SecretSpec {
    pub value: String,
    pub expires: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub upn: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    pub id: String,
    pub display_name: String,
    pub org: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_users: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub makers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machine_groups: Vec<MachineGroupSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<StandaloneMachineSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<CredentialSpec>,
    /// Seconds after its first load during which its connections API
    /// answers as a newly created environment does (docs/world.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_after_seconds: Option<u64>,
    /// Seconds each solution import takes (its asyncoperation stays In
    /// Progress that long), so a pipeline's polling can be tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MachineGroupSpec {
    pub id: String,
    pub name: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<ShareSpec>,
}

/// A group's machine: its name, or a table that may list the Windows
/// accounts that can sign in on it (docs/world.md).
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum MachineSpec {
    Name(String),
    Table(GroupMachineSpec),
}

#[derive(Debug, Deserialize, Serialize)]
pub struct GroupMachineSpec {
    pub name: String,
    #[serde(flatten)]
    pub traits: MachineTraits,
    #[serde(flatten, skip_serializing)]
    pub unknown: UnknownKeys,
}

/// What a machine holds and how it behaves, in a group or standalone.
#[derive(Debug, Deserialize, Serialize)]
pub struct MachineTraits {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountSpec>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub online: bool,
    /// Seconds each run on it takes (1 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_seconds: Option<u64>,
    /// A run-time error code every run on it fails with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_with: Option<String>,
    /// Bad sign-ins that lock an account out (10, Windows 11's default,
    /// when absent; 0: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockout_threshold: Option<u32>,
}

impl Default for MachineTraits {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            online: true,
            run_seconds: None,
            fail_with: None,
            lockout_threshold: None,
        }
    }
}

impl MachineTraits {
    /// Nothing set: a group's machine is then written as its name alone.
    pub fn is_default(&self) -> bool {
        self.accounts.is_empty()
            && self.online
            && self.run_seconds.is_none()
            && self.fail_with.is_none()
            && self.lockout_threshold.is_none()
    }

    /// Its keys, for the loader's refusal of an unknown one (a test holds
    /// the list to what serde writes).
    pub const KEYS: [&str; 5] = [
        "accounts",
        "online",
        "run_seconds",
        "fail_with",
        "lockout_threshold",
    ];
}

impl GroupMachineSpec {
    /// Its keys besides [`MachineTraits::KEYS`].
    pub const KEYS: [&str; 1] = ["name"];
}

impl StandaloneMachineSpec {
    /// Its keys besides [`MachineTraits::KEYS`].
    pub const KEYS: [&str; 6] = [
        "name",
        "id",
        "group_id",
        "owner",
        "description",
        "shared_with",
    ];
}

/// The keys of a table that flattens [`MachineTraits`] which neither it
/// nor the table knows. serde's `deny_unknown_fields` does not work beside
/// `flatten`, so they are gathered here and the loader refuses each by name.
pub type UnknownKeys = std::collections::BTreeMap<String, de::IgnoredAny>;

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `{ username = "FABRIKAM\\payroll-svc", password = "..." }`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub username: String,
    pub password: String,
    /// `false`: a local security policy denies it logon (KB 5021230).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub can_log_on: bool,
    /// Its user is signed in on the machine (attended runs need it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub signed_in: bool,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct StandaloneMachineSpec {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<ShareSpec>,
    #[serde(flatten)]
    pub traits: MachineTraits,
    #[serde(flatten, skip_serializing)]
    pub unknown: UnknownKeys,
}

/// A Key Vault or CyberArk credential of Dataverse's `credential` table,
/// which a connection may name (`properties.credentialId`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    pub id: String,
    pub name: String,
    pub owner: String,
    /// Its `connectiontype` label; `UsernamePassword` when absent.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<ShareSpec>,
}

/// `{ client_id = "...", role = "user" }` or `{ upn = "...", role = "co-owner" }`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShareSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// The form it is read in: a plain string without an expiry, a table with one.
impl Serialize for SecretSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.expires {
            None => s.serialize_str(&self.value),
            Some(expires) => {
                let mut table = s.serialize_struct("SecretSpec", 2)?;
                table.serialize_field("value", &self.value)?;
                table.serialize_field("expires", expires)?;
                table.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde writes of a spec with every key set.
    fn written_keys(spec: &impl Serialize) -> Vec<String> {
        match toml::Value::try_from(spec) {
            Ok(toml::Value::Table(table)) => table.keys().cloned().collect(),
            other => panic!("a machine spec writes a table, not {other:?}"),
        }
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_machine_key_lists_are_the_keys_serde_knows() {
        let traits = MachineTraits {
            accounts: vec![AccountSpec {
                username: "FABRIKAM\\bot".into(),
                password: "p".into(),
                can_log_on: true,
                signed_in: false,
            }],
            online: false,
            run_seconds: Some(1),
            fail_with: Some("SessionCreationError".into()),
            lockout_threshold: Some(3),
        };
        assert_eq!(written_keys(&traits), sorted(&MachineTraits::KEYS));
        let group_machine = GroupMachineSpec {
            name: "PC-01".into(),
            traits: MachineTraits::default(),
            unknown: UnknownKeys::new(),
        };
        assert_eq!(
            written_keys(&group_machine),
            sorted(&GroupMachineSpec::KEYS)
        );
        let standalone = StandaloneMachineSpec {
            name: "PC-02".into(),
            id: Some("i".into()),
            group_id: Some("g".into()),
            owner: "o".into(),
            description: "d".into(),
            shared_with: vec![ShareSpec::default()],
            traits: MachineTraits::default(),
            unknown: UnknownKeys::new(),
        };
        assert_eq!(
            written_keys(&standalone),
            sorted(&StandaloneMachineSpec::KEYS)
        );
    }
}
