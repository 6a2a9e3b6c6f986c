//! The world file: what exists on the platform, declared in TOML and loaded
//! idempotently (docs/world.md).
//!
//! Parsing refuses unknown keys by name; validation then checks every value
//! and reference and reports each problem with the path of its field
//! (`tenants[0].environments[1].machine_groups[0].owner: ...`). Loading
//! writes everything in one transaction, so a world is there whole or not
//! at all.
//!
//! Ids that the file may leave out are derived (UUID v5) from what names the
//! object, so loading the same file twice, on any replica, gives the same ids.
//! Loading adds and updates; it removes nothing that the platform created
//! since (a connection, a registered machine).
//!
//! `spec` is the file as written (public, and serializable, so a test kit
//! can write one); this module checks tenants, apps and
//! users, `environments` their environments and fleets, `load` writes them.

mod apps;
mod environments;
mod load;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use padconnect_core::desktop_runs::{MAX_TIMEOUT_SECONDS, RUN_ERRORS, run_error};
use padconnect_core::host::{is_domain, is_org_name};
use padconnect_core::uiflow::{MAX_ACCOUNT_CHARS, MAX_PASSWORD_CHARS, is_windows_account};
use padconnect_core::{CredentialType, EnvironmentId, ShareRole};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::Reason;
use crate::connections::vault::CREDENTIAL_NAME;
use crate::fleet::{GROUP_NAME, MACHINE_NAME, MAX_MACHINES_PER_GROUP, TextColumn};
use crate::ids::derived_id;
pub use load::{LoadSummary, load_world};
use padconnect_store::{FederatedCredential, MachineRuntime, Timestamp};
use spec::*;

#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read the world file {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("the world file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("the world file {path} has {count} problem(s):\n{}", problems.join("\n"), count = problems.len())]
    Invalid { path: String, problems: Vec<String> },
}

/// A validated world.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub tenants: Vec<WorldTenant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorldTenant {
    pub id: Uuid,
    pub domain: String,
    /// UPNs (lower case) and app client ids.
    pub admins: Vec<String>,
    pub apps: Vec<WorldApp>,
    pub users: Vec<WorldUser>,
    pub environments: Vec<WorldEnvironment>,
    pub subscriptions: Vec<WorldSubscription>,
}

/// An Azure subscription (ARM's `GET /subscriptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldSubscription {
    pub id: Uuid,
    pub display_name: String,
    pub state: String,
}

/// ARM's subscription states (azure-rest-api-specs `SubscriptionState`).
const SUBSCRIPTION_STATES: [&str; 5] = ["Enabled", "Warned", "PastDue", "Disabled", "Deleted"];

#[derive(Clone, PartialEq)]
pub struct WorldApp {
    pub client_id: Uuid,
    pub object_id: Uuid,
    pub display_name: String,
    pub secrets: Vec<WorldSecret>,
    /// DER certificates for client assertions.
    pub certificates: Vec<Vec<u8>>,
    pub federated_credentials: Vec<FederatedCredential>,
    pub public_client: bool,
}

#[derive(Clone, PartialEq)]
pub struct WorldSecret {
    pub value: String,
    pub expires: Option<Timestamp>,
}

#[derive(Clone, PartialEq)]
pub struct WorldUser {
    pub object_id: Uuid,
    pub upn: String,
    pub display_name: String,
    pub password: String,
}

/// Secrets stay out of logs and debug output.
impl std::fmt::Debug for WorldApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldApp")
            .field("client_id", &self.client_id)
            .field("display_name", &self.display_name)
            .field("secrets", &self.secrets.len())
            .field("certificates", &self.certificates.len())
            .field("federated_credentials", &self.federated_credentials)
            .finish()
    }
}

impl std::fmt::Debug for WorldUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldUser")
            .field("upn", &self.upn)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorldEnvironment {
    pub id: EnvironmentId,
    pub display_name: String,
    pub org: String,
    /// App client ids with an application user here.
    pub application_users: Vec<Uuid>,
    /// UPNs (lower case) with the Environment Maker role here.
    pub makers: Vec<String>,
    pub machine_groups: Vec<WorldGroup>,
    pub credentials: Vec<WorldCredential>,
    /// Not ready (ServiceToServiceEnvironmentNotFound) for this long after
    /// its first load.
    pub ready_after_seconds: Option<u64>,
    /// How long each solution import takes here, in seconds.
    pub import_seconds: Option<u64>,
}

/// A principal of the tenant, as the world file names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalRef {
    App(Uuid),
    User(String),
}

/// A machine group, including the hidden Default group of a standalone machine.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldGroup {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// A standalone machine's hidden group.
    pub hidden: bool,
    pub owner: PrincipalRef,
    pub machines: Vec<WorldMachine>,
    pub shared_with: Vec<(PrincipalRef, ShareRole)>,
}

/// A Key Vault or CyberArk credential, and who it is shared with.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldCredential {
    pub id: Uuid,
    pub name: String,
    pub kind: padconnect_core::CredentialType,
    pub owner: PrincipalRef,
    pub shared_with: Vec<(PrincipalRef, ShareRole)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorldMachine {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The Windows accounts that can sign in on it; none: any account can.
    pub accounts: Vec<WorldAccount>,
    /// Whether it answers, how long its runs take, how they fail.
    pub runtime: MachineRuntime,
}

/// A Windows account of a machine, with its password as the world gives it
/// (hashed when it is loaded).
#[derive(Clone, PartialEq)]
pub struct WorldAccount {
    pub username: String,
    pub password: String,
    /// Its logon right on the machine (KB 5021230).
    pub can_log_on: bool,
    /// Its user is signed in on the machine.
    pub signed_in: bool,
}

impl std::fmt::Debug for WorldAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldAccount")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl World {
    /// Reads, parses and validates a world file. Certificate paths are
    /// relative to the file's folder.
    pub fn from_file(path: &Path) -> Result<Self, WorldError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| WorldError::Read {
            path: shown.clone(),
            error,
        })?;
        Self::parse(&text, path.parent().unwrap_or(Path::new(".")), &shown)
    }

    /// Parses and validates world TOML; `shown` names it in errors.
    pub fn parse(text: &str, base_dir: &Path, shown: &str) -> Result<Self, WorldError> {
        let spec: WorldSpec = toml::from_str(text).map_err(|e| WorldError::Parse {
            path: shown.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Self::from_spec(&spec, base_dir, shown)
    }

    /// Validates a world already in its structs (a program that builds its
    /// world in Rust need not write TOML to have it read back).
    pub fn from_spec(spec: &WorldSpec, base_dir: &Path, shown: &str) -> Result<Self, WorldError> {
        let mut check = Checker {
            base_dir,
            problems: Vec::new(),
            seen: Seen::default(),
        };
        let tenants = spec
            .tenants
            .iter()
            .enumerate()
            .filter_map(|(i, t)| check.tenant(&format!("tenants[{i}]"), t))
            .collect();
        match check.problems.is_empty() {
            true => Ok(Self { tenants }),
            false => Err(WorldError::Invalid {
                path: shown.to_owned(),
                problems: check.problems,
            }),
        }
    }
}

/// What must be unique across the whole world, with where it was first seen.
#[derive(Default)]
struct Seen {
    tenant_ids: BTreeMap<Uuid, String>,
    domains: BTreeMap<String, String>,
    environments: BTreeMap<EnvironmentId, String>,
    orgs: BTreeMap<String, String>,
    records: BTreeMap<Uuid, String>,
}

struct Checker<'a> {
    base_dir: &'a Path,
    problems: Vec<String>,
    seen: Seen,
}

/// What an environment's principals may be.
struct TenantPrincipals {
    domain: String,
    apps: BTreeSet<Uuid>,
    users: BTreeSet<String>,
}

impl Checker<'_> {
    fn problem(&mut self, path: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("{path}: {message}"));
    }

    /// Refuses, by name, each key that a table flattening
    /// [`spec::MachineTraits`] gathered because neither knew it, as serde
    /// refuses one elsewhere: naming the keys allowed there.
    fn unknown_keys(&mut self, path: &str, unknown: &spec::UnknownKeys, own: &[&str]) {
        let allowed: Vec<String> = own
            .iter()
            .chain(&spec::MachineTraits::KEYS)
            .map(|key| format!("`{key}`"))
            .collect();
        for key in unknown.keys() {
            self.problem(
                &format!("{path}.{key}"),
                format!("unknown field, expected one of {}", allowed.join(", ")),
            );
        }
    }

    fn guid(&mut self, path: &str, value: &str) -> Option<Uuid> {
        let parsed = (value.len() == 36)
            .then(|| Uuid::try_parse(value).ok())
            .flatten();
        if parsed.is_none() {
            self.problem(
                path,
                format!("'{value}' is not a GUID (expected the 8-4-4-4-12 form)"),
            );
        }
        parsed
    }

    fn non_empty(&mut self, path: &str, value: &str) -> Option<String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.problem(path, "must not be empty");
            return None;
        }
        if trimmed.chars().count() > 100 {
            self.problem(path, "must be at most 100 characters");
            return None;
        }
        Some(trimmed.to_owned())
    }

    /// Records `key` as seen at `path`; a problem if it was seen before.
    fn unique<K: Ord + Clone>(
        problems: &mut Vec<String>,
        seen: &mut BTreeMap<K, String>,
        key: &K,
        path: &str,
        what: &str,
    ) -> bool {
        if let Some(first) = seen.get(key) {
            problems.push(format!("{path}: {what} is already declared at {first}"));
            return false;
        }
        seen.insert(key.clone(), path.to_owned());
        true
    }

    fn tenant(&mut self, path: &str, t: &TenantSpec) -> Option<WorldTenant> {
        let id = self.guid(&format!("{path}.id"), &t.id);
        if let Some(id) = id {
            Self::unique(
                &mut self.problems,
                &mut self.seen.tenant_ids,
                &id,
                &format!("{path}.id"),
                "this tenant id",
            );
        }
        let domain = t.domain.trim().to_ascii_lowercase();
        if !is_domain(&domain) {
            self.problem(
                &format!("{path}.domain"),
                format!(
                    "'{}' is not a domain name (contoso.onmicrosoft.com)",
                    t.domain
                ),
            );
        } else {
            Self::unique(
                &mut self.problems,
                &mut self.seen.domains,
                &domain,
                &format!("{path}.domain"),
                "this domain",
            );
        }
        let apps: Vec<WorldApp> = t
            .apps
            .iter()
            .enumerate()
            .filter_map(|(i, a)| self.app(&format!("{path}.apps[{i}]"), id.unwrap_or_default(), a))
            .collect();
        let users: Vec<WorldUser> = t
            .users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                self.user(&format!("{path}.users[{i}]"), id.unwrap_or_default(), u)
            })
            .collect();
        let principals = TenantPrincipals {
            domain: domain.clone(),
            apps: self.distinct(path, "apps", "client_id", apps.iter().map(|a| a.client_id)),
            users: self.distinct(path, "users", "upn", users.iter().map(|u| u.upn.clone())),
        };
        let admins = t
            .admins
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                self.principal(&format!("{path}.admins[{i}]"), a, &principals)
                    .map(|p| match p {
                        PrincipalRef::App(id) => id.to_string(),
                        PrincipalRef::User(upn) => upn,
                    })
            })
            .collect();
        let environments = t
            .environments
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                self.environment(&format!("{path}.environments[{i}]"), e, &principals)
            })
            .collect();
        let subscriptions = t
            .subscriptions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.subscription(&format!("{path}.subscriptions[{i}]"), s))
            .collect();
        Some(WorldTenant {
            id: id?,
            domain,
            admins,
            apps,
            users,
            environments,
            subscriptions,
        })
    }

    fn subscription(&mut self, path: &str, s: &SubscriptionSpec) -> Option<WorldSubscription> {
        let id = self.guid(&format!("{path}.id"), &s.id);
        let display_name = self.non_empty(&format!("{path}.display_name"), &s.display_name);
        let state = s.state.as_deref().unwrap_or("Enabled");
        let state = SUBSCRIPTION_STATES
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(state));
        if state.is_none() {
            self.problem(
                &format!("{path}.state"),
                format!("expected one of {}", SUBSCRIPTION_STATES.join(", ")),
            );
        }
        Some(WorldSubscription {
            id: id?,
            display_name: display_name?,
            state: state?.to_owned(),
        })
    }

    /// The set of `values`, with a problem for each one declared twice.
    fn distinct<K: Ord + Clone + std::fmt::Display>(
        &mut self,
        path: &str,
        list: &str,
        field: &str,
        values: impl Iterator<Item = K>,
    ) -> BTreeSet<K> {
        let mut set = BTreeSet::new();
        for value in values {
            if !set.insert(value.clone()) {
                self.problem(
                    &format!("{path}.{list}"),
                    format!("{field} '{value}' is declared twice"),
                );
            }
        }
        set
    }

    fn user(&mut self, path: &str, tenant: Uuid, u: &UserSpec) -> Option<WorldUser> {
        let upn = u.upn.trim().to_ascii_lowercase();
        let valid_upn = upn
            .split_once('@')
            .is_some_and(|(name, domain)| !name.is_empty() && is_domain(domain));
        if !valid_upn {
            self.problem(
                &format!("{path}.upn"),
                format!("'{}' is not a user principal name (name@domain)", u.upn),
            );
        }
        let display_name = self.non_empty(&format!("{path}.display_name"), &u.display_name);
        if u.password.is_empty() {
            self.problem(&format!("{path}.password"), "must not be empty");
        }
        let object_id = derived_id(&["user", &tenant.to_string(), &upn]);
        (valid_upn && !u.password.is_empty()).then_some(())?;
        Some(WorldUser {
            object_id,
            upn,
            display_name: display_name?,
            password: u.password.clone(),
        })
    }

    /// A UPN of the tenant's users or a client id of its apps.
    fn principal(
        &mut self,
        path: &str,
        value: &str,
        tenant: &TenantPrincipals,
    ) -> Option<PrincipalRef> {
        if let Some(id) = Uuid::try_parse(value)
            .ok()
            .filter(|id| tenant.apps.contains(id))
        {
            return Some(PrincipalRef::App(id));
        }
        let upn = value.trim().to_ascii_lowercase();
        if tenant.users.contains(&upn) {
            return Some(PrincipalRef::User(upn));
        }
        self.problem(
            path,
            format!(
                "'{value}' is neither a user (upn) nor an app (client_id) of tenant {}",
                tenant.domain
            ),
        );
        None
    }
}
