//! The row structs the queries read (declared by `rows!`) and their
//! conversions into the model types, with the helpers every aggregate's
//! file uses to read and write ids.

use padconnect_core::{
    AccessRights, ConnectionId, ConnectorName, CredentialType, EnvironmentId, ParameterSet,
};
use uuid::Uuid;

use super::sql::rows;
use super::{Result, StoreError, model::*};

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

pub(super) fn uuid(value: &str) -> Result<Uuid> {
    Uuid::try_parse(value).map_err(|_| corrupt("uuid", value))
}

/// The stored ids (as text) that are not in `keep`: the rows a world file
/// declared and no longer does. A stored id that is not one is corrupt.
pub(super) fn not_kept(stored: Vec<String>, keep: &[Uuid]) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    for id in stored {
        if !keep.contains(&uuid(&id)?) {
            gone.push(id);
        }
    }
    Ok(gone)
}

fn opt_uuid(value: Option<String>) -> Result<Option<Uuid>> {
    value.as_deref().map(uuid).transpose()
}

fn group_type(code: i64) -> Result<GroupType> {
    GroupType::from_code(code).ok_or_else(|| corrupt("flowgrouptype", &code.to_string()))
}

pub(super) fn env_id(value: &str) -> Result<EnvironmentId> {
    value.parse().map_err(|_| corrupt("environment id", value))
}

pub(super) fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn opt_text(id: Option<Uuid>) -> Option<String> {
    id.map(text)
}

/// A row made of two row structs read from one result: the first one's
/// columns, then the second one's. Both drivers read it by column name
/// (sqlx), SQLite by position first (`FromSqliteRow`).
macro_rules! joined_row {
    ($(#[$doc:meta])* $name:ident { $first:ident: $First:ty, $second:ident: $Second:ty }) => {
        $(#[$doc])*
        pub(super) struct $name {
            pub(super) $first: $First,
            pub(super) $second: $Second,
        }

        impl $name {
            /// How many columns the row reads, as `rows!` counts them: a
            /// joined row may itself be the first of another.
            #[allow(dead_code)]
            pub(crate) const COLUMNS: usize = <$First>::COLUMNS + <$Second>::COLUMNS;
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            $First: sqlx::FromRow<'r, R>,
            $Second: sqlx::FromRow<'r, R>,
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $first: <$First>::from_row(row)?,
                    $second: <$Second>::from_row(row)?,
                })
            }
        }

        impl super::FromSqliteRow for $name {
            fn from_sqlite_row_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
                Ok(Self {
                    $first: <$First>::from_sqlite_row_at(row, at)?,
                    $second: <$Second>::from_sqlite_row_at(row, at + <$First>::COLUMNS)?,
                })
            }
        }
    };
}

rows! {
    pub(super) struct TenantRow {
        id: String,
        domain: String,
    }
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            domain: r.domain,
        })
    }
}

rows! {
    pub(super) struct AppRow {
        tenant_id: String,
        client_id: String,
        object_id: String,
        display_name: String,
        public_client: bool,
    }
}

impl TryFrom<AppRow> for App {
    type Error = StoreError;
    fn try_from(r: AppRow) -> Result<Self> {
        Ok(Self {
            tenant_id: uuid(&r.tenant_id)?,
            client_id: uuid(&r.client_id)?,
            object_id: uuid(&r.object_id)?,
            display_name: r.display_name,
            public_client: r.public_client,
        })
    }
}

rows! {
    pub(super) struct AppSecretRow {
        secret_hash: Vec<u8>,
        hint: String,
        expires_at: Option<i64>,
    }
}

impl From<AppSecretRow> for AppSecret {
    fn from(r: AppSecretRow) -> Self {
        Self {
            hash: r.secret_hash,
            hint: r.hint,
            expires_at: r.expires_at.map(Timestamp),
        }
    }
}

rows! {
    pub(super) struct AppCertificateRow {
        thumbprint_sha256: String,
        thumbprint_sha1: String,
        der: Vec<u8>,
    }
}

impl From<AppCertificateRow> for AppCertificate {
    fn from(r: AppCertificateRow) -> Self {
        Self {
            thumbprint_sha256: r.thumbprint_sha256,
            thumbprint_sha1: r.thumbprint_sha1,
            der: r.der,
        }
    }
}

rows! {
    pub(super) struct FederatedCredentialRow {
        issuer: String,
        subject: String,
        audiences: String,
    }
}

impl From<FederatedCredentialRow> for FederatedCredential {
    fn from(r: FederatedCredentialRow) -> Self {
        Self {
            issuer: r.issuer,
            subject: r.subject,
            // Written by `put_federated_credential` as a JSON array.
            audiences: serde_json::from_str(&r.audiences).unwrap_or_default(),
        }
    }
}

// An account with the name of its machine, which local accounts need.
rows! {
    pub(super) struct GroupAccountRow {
        machine_name: String,
        machine_id: String,
        username: String,
        password_hash: String,
        version: i64,
    }
}

impl TryFrom<GroupAccountRow> for (String, MachineAccount) {
    type Error = StoreError;
    fn try_from(r: GroupAccountRow) -> Result<Self> {
        let account = MachineAccount {
            machine_id: uuid(&r.machine_id)?,
            username: r.username,
            password_hash: r.password_hash,
            version: r.version,
        };
        Ok((r.machine_name, account))
    }
}

rows! {
    pub(super) struct UserRow {
        tenant_id: String,
        object_id: String,
        upn: String,
        display_name: String,
        password_hash: String,
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(Self {
            tenant_id: uuid(&r.tenant_id)?,
            object_id: uuid(&r.object_id)?,
            upn: r.upn,
            display_name: r.display_name,
            password_hash: r.password_hash,
        })
    }
}

rows! {
    pub(super) struct EnvironmentRow {
        id: String,
        tenant_id: String,
        display_name: String,
        org: String,
        ready_at: Option<i64>,
        import_seconds: i64,
    }
}

impl TryFrom<EnvironmentRow> for Environment {
    type Error = StoreError;
    fn try_from(r: EnvironmentRow) -> Result<Self> {
        Ok(Self {
            id: env_id(&r.id)?,
            tenant_id: uuid(&r.tenant_id)?,
            display_name: r.display_name,
            org: r.org,
            ready_at: r.ready_at.map(Timestamp),
            import_seconds: u64::try_from(r.import_seconds).unwrap_or_default(),
        })
    }
}

rows! {
    pub(super) struct SystemUserRow {
        id: String,
        environment_id: String,
        application_id: Option<String>,
        user_object_id: Option<String>,
        fullname: String,
        domainname: String,
        accessmode: i64,
        isdisabled: bool,
        maker: bool,
        created_on: i64,
        modified_on: i64,
        versionnumber: i64,
    }
}

impl TryFrom<SystemUserRow> for SystemUser {
    type Error = StoreError;
    fn try_from(r: SystemUserRow) -> Result<Self> {
        let kind = match (opt_uuid(r.application_id)?, opt_uuid(r.user_object_id)?) {
            (Some(client_id), None) => SystemUserKind::Application { client_id },
            (None, Some(object_id)) => SystemUserKind::Person { object_id },
            _ => return Err(corrupt("systemuser principal of", &r.id)),
        };
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            kind,
            fullname: r.fullname,
            domainname: r.domainname,
            accessmode: r.accessmode,
            isdisabled: r.isdisabled,
            maker: r.maker,
            created_on: Timestamp(r.created_on),
            modified_on: Timestamp(r.modified_on),
            versionnumber: r.versionnumber,
        })
    }
}

rows! {
    pub(super) struct RecordStampRow {
        owner_id: String,
        created_on: i64,
        created_by: String,
        modified_on: i64,
        modified_by: String,
        versionnumber: i64,
    }
}

impl TryFrom<RecordStampRow> for RecordStamp {
    type Error = StoreError;
    fn try_from(r: RecordStampRow) -> Result<Self> {
        Ok(Self {
            owner_id: uuid(&r.owner_id)?,
            created_on: Timestamp(r.created_on),
            created_by: uuid(&r.created_by)?,
            modified_on: Timestamp(r.modified_on),
            modified_by: uuid(&r.modified_by)?,
            versionnumber: r.versionnumber,
        })
    }
}

// A group's own columns; its stamp's follow them (`MachineGroupRow`).
rows! {
    pub(super) struct MachineGroupColumnsRow {
        id: String,
        environment_id: String,
        name: String,
        description: String,
        flowgrouptype: i64,
        statecode: i64,
        statuscode: i64,
        password_hash: Option<String>,
    }
}

joined_row! {
    /// A machine group: its own columns, then its stamp's.
    MachineGroupRow { group: MachineGroupColumnsRow, stamp: RecordStampRow }
}

impl TryFrom<MachineGroupRow> for MachineGroup {
    type Error = StoreError;
    fn try_from(MachineGroupRow { group: r, stamp }: MachineGroupRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            name: r.name,
            description: r.description,
            flowgrouptype: group_type(r.flowgrouptype)?,
            statecode: r.statecode,
            statuscode: r.statuscode,
            password_hash: r.password_hash,
            stamp: stamp.try_into()?,
        })
    }
}

// A machine's own columns; its stamp's follow them (`MachineRow`).
rows! {
    pub(super) struct MachineColumnsRow {
        id: String,
        environment_id: String,
        group_id: String,
        name: String,
        description: String,
        agentversion: Option<String>,
        lastheartbeatdate: Option<i64>,
        statecode: i64,
        statuscode: i64,
    }
}

joined_row! {
    /// A machine: its own columns, then its stamp's.
    MachineRow { machine: MachineColumnsRow, stamp: RecordStampRow }
}

impl TryFrom<MachineRow> for Machine {
    type Error = StoreError;
    fn try_from(MachineRow { machine: r, stamp }: MachineRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            group_id: uuid(&r.group_id)?,
            name: r.name,
            description: r.description,
            agentversion: r.agentversion,
            lastheartbeatdate: r.lastheartbeatdate.map(Timestamp),
            statecode: r.statecode,
            statuscode: r.statuscode,
            stamp: stamp.try_into()?,
        })
    }
}

rows! {
    pub(super) struct ShareRow {
        record_type: String,
        record_id: String,
        principal_id: String,
        access_mask: i64,
    }
}

impl TryFrom<ShareRow> for Share {
    type Error = StoreError;
    fn try_from(r: ShareRow) -> Result<Self> {
        let record = RecordRef::from_parts(&r.record_type, uuid(&r.record_id)?)
            .ok_or_else(|| corrupt("record type", &r.record_type))?;
        let rights = u32::try_from(r.access_mask)
            .ok()
            .and_then(AccessRights::from_bits)
            .ok_or_else(|| corrupt("access mask", &r.access_mask.to_string()))?;
        Ok(Self {
            record,
            principal_id: uuid(&r.principal_id)?,
            rights,
        })
    }
}

rows! {
    pub(super) struct ConnectionRow {
        environment_id: String,
        id: String,
        connector: String,
        display_name: String,
        parameter_set: String,
        parameter_values: String,
        sealed_secrets: Vec<u8>,
        target_group_id: Option<String>,
        credential_id: Option<String>,
        created_by_id: String,
        created_by_type: String,
        created_by_name: String,
        created_at: i64,
        modified_at: i64,
    }
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: r
                .id
                .parse::<ConnectionId>()
                .map_err(|_| corrupt("connection id", &r.id))?,
            connector: ConnectorName::parse(&r.connector)
                .ok_or_else(|| corrupt("connector", &r.connector))?,
            display_name: r.display_name,
            parameter_set: ParameterSet::parse(&r.parameter_set)
                .ok_or_else(|| corrupt("parameter set", &r.parameter_set))?,
            parameter_values: serde_json::from_str(&r.parameter_values)
                .map_err(|_| corrupt("parameter values of connection", &r.id))?,
            sealed_secrets: r.sealed_secrets,
            target_group_id: opt_uuid(r.target_group_id)?,
            credential_id: opt_uuid(r.credential_id)?,
            created_by: Principal {
                id: uuid(&r.created_by_id)?,
                kind: PrincipalType::parse(&r.created_by_type)
                    .ok_or_else(|| corrupt("principal type", &r.created_by_type))?,
                display_name: r.created_by_name,
            },
            created_at: Timestamp(r.created_at),
            modified_at: Timestamp(r.modified_at),
        })
    }
}

rows! {
    pub(super) struct SigningKeyRow {
        kid: String,
        sealed_private: Vec<u8>,
        certificate: Vec<u8>,
        created_at: i64,
        retire_at: i64,
        expire_at: i64,
    }
}

impl From<SigningKeyRow> for SigningKey {
    fn from(r: SigningKeyRow) -> Self {
        Self {
            kid: r.kid,
            sealed_private: r.sealed_private,
            certificate: r.certificate,
            created_at: Timestamp(r.created_at),
            retire_at: Timestamp(r.retire_at),
            expire_at: Timestamp(r.expire_at),
        }
    }
}

rows! {
    pub(super) struct TargetFactsRow {
        group_name: Option<String>,
        group_type: Option<i64>,
        has_machines: i64,
        has_online_machines: i64,
        credentials_current: i64,
        creator_is_member: i64,
        creator_owns: i64,
        creator_rights: i64,
    }
}

impl TargetFactsRow {
    /// `None` when the connection has no target or its group is gone.
    pub(super) fn facts(self) -> Option<TargetFacts> {
        Some(TargetFacts {
            group_name: self.group_name?,
            flowgrouptype: self.group_type.and_then(GroupType::from_code)?,
            has_machines: self.has_machines == 1,
            has_online_machines: self.has_online_machines == 1,
            credentials_current: self.credentials_current == 1,
            creator_is_member: self.creator_is_member == 1,
            creator_owns: self.creator_owns == 1,
            creator_rights: u32::try_from(self.creator_rights)
                .map_or(AccessRights::empty(), AccessRights::from_bits_truncate),
        })
    }
}

joined_row! {
    /// A connection and the facts its status rests on, read in one query.
    ConnectionTargetRow { connection: ConnectionRow, target: TargetFactsRow }
}

rows! {
    pub(super) struct WriterAccessRow {
        shared_rights: i64,
        has_machines: i64,
        has_online_machines: i64,
        declares_accounts: i64,
    }
}

joined_row! {
    /// A group and what its connection's writer needs of it.
    WriterTargetRow { group: MachineGroupRow, access: WriterAccessRow }
}

impl TryFrom<WriterTargetRow> for WriterTarget {
    type Error = StoreError;
    fn try_from(r: WriterTargetRow) -> Result<Self> {
        Ok(Self {
            group: r.group.try_into()?,
            shared_rights: u32::try_from(r.access.shared_rights)
                .map_or(AccessRights::empty(), AccessRights::from_bits_truncate),
            has_machines: r.access.has_machines != 0,
            has_online_machines: r.access.has_online_machines != 0,
            declares_accounts: r.access.declares_accounts != 0,
        })
    }
}

rows! {
    pub(super) struct CredentialRow {
        id: String,
        environment_id: String,
        name: String,
        connectiontype: i64,
        owner_id: String,
    }
}

impl TryFrom<CredentialRow> for Credential {
    type Error = StoreError;
    fn try_from(r: CredentialRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            name: r.name,
            connectiontype: CredentialType::from_code(r.connectiontype).ok_or_else(|| {
                corrupt("credential connectiontype", &r.connectiontype.to_string())
            })?,
            owner_id: uuid(&r.owner_id)?,
        })
    }
}
