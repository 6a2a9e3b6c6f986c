//! What the platform keeps, as the store hands it out.

use padconnect_core::{AccessRights, ConnectionId, ConnectorName, EnvironmentId, ParameterSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// A point in time, kept as Unix microseconds (UTC) in both databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time `clock` reads now: the platform takes "now" from its store's
    /// clock ([`crate::Store::now`]), never from the system directly, so a
    /// test can move it.
    pub fn now_on(clock: &padconnect_core::Clock) -> Self {
        Self::from_datetime(OffsetDateTime::from(clock.now()))
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        Self((at.unix_timestamp_nanos() / 1_000) as i64)
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    /// ISO 8601 in UTC with seven fractional digits, as the Microsoft APIs
    /// write times (`2024-07-30T15:16:03.3742070Z`).
    pub fn to_rfc3339(self) -> String {
        let at = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.nanosecond() / 100
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub domain: String,
}

/// An app registration and its service principal in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    /// The service principal's object id: `oid` in its tokens.
    pub object_id: Uuid,
    pub display_name: String,
    /// May use the password grant with no credential of its own
    /// (Entra's "Allow public client flows").
    pub public_client: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSecret {
    /// SHA-256 of the secret's value.
    pub hash: Vec<u8>,
    pub hint: String,
    pub expires_at: Option<Timestamp>,
}

/// A federated identity credential: which external tokens sign the app in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    /// The external issuer's `iss`, compared exactly (Entra matches case-sensitively).
    pub issuer: String,
    /// The `sub` the external token must carry.
    pub subject: String,
    /// Values of which the token's `aud` must hold one.
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCertificate {
    /// Lower-case hex SHA-256 of the DER certificate (`x5t#S256`).
    pub thumbprint_sha256: String,
    /// Lower-case hex SHA-1 of the DER certificate (`x5t`).
    pub thumbprint_sha1: String,
    pub der: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub upn: String,
    pub display_name: String,
    /// Argon2 PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub id: EnvironmentId,
    pub tenant_id: Uuid,
    pub display_name: String,
    /// The org's unique name: `{org}.crm.dynamics.com`.
    pub org: String,
    /// Until then its connections API answers 404
    /// `ServiceToServiceEnvironmentNotFound`, as a new environment does. Set
    /// at the environment's first load and kept on later ones.
    pub ready_at: Option<Timestamp>,
    /// How long its solution imports take, in seconds (the world's
    /// `import_seconds`): a pipeline's polling can be tested.
    pub import_seconds: u64,
}

impl Environment {
    /// Whether the environment still answers as a newly created one.
    pub fn is_ready(&self, now: Timestamp) -> bool {
        self.ready_at.is_none_or(|at| at <= now)
    }
}

/// Who a Dataverse systemuser row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemUserKind {
    /// An application user: the service principal of this app client id.
    Application { client_id: Uuid },
    /// A person: the Entra user of this object id.
    Person { object_id: Uuid },
}

/// Dataverse `accessmode` 4: Non-interactive, as application users have.
pub const ACCESS_MODE_NON_INTERACTIVE: i64 = 4;
/// Dataverse `accessmode` 0: Read-Write, as people have.
pub const ACCESS_MODE_READ_WRITE: i64 = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    pub kind: SystemUserKind,
    pub fullname: String,
    pub domainname: String,
    pub accessmode: i64,
    pub isdisabled: bool,
    /// Holds the Environment Maker role (may create machines, groups and
    /// connections). Application users hold it too.
    pub maker: bool,
    pub created_on: Timestamp,
    pub modified_on: Timestamp,
    pub versionnumber: i64,
}

pub use padconnect_core::GroupType;

/// Who owns a user-owned row, who made it and who last changed it, when,
/// and its version: the system columns (`ownerid`, `createdon`,
/// `createdby`, `modifiedon`, `modifiedby`, `versionnumber`) machine
/// groups and machines both carry, kept in columns of the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordStamp {
    /// The owning systemuser.
    pub owner_id: Uuid,
    pub created_on: Timestamp,
    pub created_by: Uuid,
    pub modified_on: Timestamp,
    pub modified_by: Uuid,
    pub versionnumber: i64,
}

impl RecordStamp {
    /// A new row's: version 1, owned, made and last changed by `owner` at
    /// `now`.
    pub fn new(owner: Uuid, now: Timestamp) -> Self {
        Self {
            owner_id: owner,
            created_on: now,
            created_by: owner,
            modified_on: now,
            modified_by: owner,
            versionnumber: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineGroup {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    pub name: String,
    pub description: String,
    pub flowgrouptype: GroupType,
    pub statecode: i64,
    pub statuscode: i64,
    /// Argon2 of the group password, set by the first machine to join.
    pub password_hash: Option<String>,
    pub stamp: RecordStamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    pub group_id: Uuid,
    pub name: String,
    pub description: String,
    pub agentversion: Option<String>,
    pub lastheartbeatdate: Option<Timestamp>,
    pub statecode: i64,
    pub statuscode: i64,
    pub stamp: RecordStamp,
}

/// A Windows account that can sign in on a machine.
#[derive(Clone, PartialEq, Eq)]
pub struct MachineAccount {
    pub machine_id: Uuid,
    /// As the world wrote it: `FABRIKAM\payroll-svc`.
    pub username: String,
    /// Argon2id of its password.
    pub password_hash: String,
    /// Moves on with each new password.
    pub version: i64,
}

impl MachineAccount {
    /// The key an account is found by: its name in lower case.
    pub fn key(username: &str) -> String {
        username.to_lowercase()
    }
}

/// The account a connection's credentials matched when it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccount {
    pub machine_id: Uuid,
    pub username_key: String,
    pub version: i64,
}

impl std::fmt::Debug for MachineAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MachineAccount")
            .field("machine_id", &self.machine_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A Dataverse record that can be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRef {
    MachineGroup(Uuid),
    Machine(Uuid),
    Credential(Uuid),
}

impl RecordRef {
    /// The table's logical name.
    pub fn logical_name(&self) -> &'static str {
        match self {
            Self::MachineGroup(_) => "flowmachinegroup",
            Self::Machine(_) => "flowmachine",
            Self::Credential(_) => "credential",
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Self::MachineGroup(id) | Self::Machine(id) | Self::Credential(id) => *id,
        }
    }

    pub fn from_parts(logical_name: &str, id: Uuid) -> Option<Self> {
        match logical_name {
            "flowmachinegroup" => Some(Self::MachineGroup(id)),
            "flowmachine" => Some(Self::Machine(id)),
            "credential" => Some(Self::Credential(id)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub record: RecordRef,
    /// The systemuser the record is shared with.
    pub principal_id: Uuid,
    pub rights: AccessRights,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    ServicePrincipal,
    User,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServicePrincipal => "ServicePrincipal",
            Self::User => "User",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ServicePrincipal" => Some(Self::ServicePrincipal),
            "User" => Some(Self::User),
            _ => None,
        }
    }
}

/// An Entra principal as the connections API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The object id.
    pub id: Uuid,
    pub kind: PrincipalType,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub environment_id: EnvironmentId,
    pub id: ConnectionId,
    pub connector: ConnectorName,
    pub display_name: String,
    pub parameter_set: ParameterSet,
    /// The parameter values that are not secret, as a JSON object.
    pub parameter_values: serde_json::Value,
    /// The secret values, sealed by the key ring.
    pub sealed_secrets: Vec<u8>,
    /// The machine group the connection reaches, for desktop-flow connections.
    pub target_group_id: Option<Uuid>,
    /// The Key Vault or CyberArk credential it was written with
    /// (`properties.credentialId`).
    pub credential_id: Option<Uuid>,
    pub created_by: Principal,
    pub created_at: Timestamp,
    pub modified_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// The private key, sealed by the key ring.
    pub sealed_private: Vec<u8>,
    /// The DER certificate published in the JWKS (`x5c`).
    pub certificate: Vec<u8>,
    pub created_at: Timestamp,
    /// Signs no new token after this.
    pub retire_at: Timestamp,
    /// Leaves the JWKS after this: its last token has expired.
    pub expire_at: Timestamp,
}

/// One page of a keyset-paged listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

/// How many of each thing the store holds; for start-up logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tenants: i64,
    pub apps: i64,
    pub users: i64,
    pub environments: i64,
    pub system_users: i64,
    pub machine_groups: i64,
    pub machines: i64,
    pub shares: i64,
    pub connections: i64,
}

/// What a connection's writer needs of its target group, read at once
/// ([`crate::Store::target_for_writer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterTarget {
    pub group: MachineGroup,
    /// What the writer was given on it by sharing (nothing for its owner,
    /// who holds every right by owning it).
    pub shared_rights: AccessRights,
    pub has_machines: bool,
    pub has_online_machines: bool,
    /// Whether any of its machines declares a Windows account, so that a
    /// connection's credentials must match one.
    pub declares_accounts: bool,
}

/// What decides whether a connection reaches its target group, read in one
/// query: the group, whether it still holds machines, and the standing of
/// the connection's creator on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub group_name: String,
    pub flowgrouptype: GroupType,
    pub has_machines: bool,
    /// One of them answers (the world may declare a machine offline).
    pub has_online_machines: bool,
    /// The account the connection's credentials matched still has that
    /// password (or none was checked).
    pub credentials_current: bool,
    /// The creator has a systemuser in the environment.
    pub creator_is_member: bool,
    /// That systemuser owns the group.
    pub creator_owns: bool,
    /// What was shared with that systemuser on the group.
    pub creator_rights: padconnect_core::AccessRights,
}

/// A connection with the facts of its target, as a GET reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionWithTarget {
    pub connection: Connection,
    /// `None` when it has no target or the group is gone.
    pub target: Option<TargetFacts>,
}

/// The tables whose rows a PATCH renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameTable {
    MachineGroups,
    Machines,
}

/// A row as it was read: the version an update expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowVersion {
    pub table: RenameTable,
    pub id: Uuid,
    pub version: i64,
}

/// A row of Dataverse's `credential` table: where a desktop flow's Windows
/// credentials come from (Azure Key Vault or CyberArk). Its secrets stay in
/// the vault; the platform keeps who owns it and, in `shares`, who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    pub name: String,
    pub connectiontype: padconnect_core::CredentialType,
    pub owner_id: Uuid,
}
