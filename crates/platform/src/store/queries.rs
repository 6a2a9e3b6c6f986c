//! The store's queries: reads on [`Store`], writes on [`Tx`].

use padconnect_core::{AccessRights, ConnectionId, ConnectorName, EnvironmentId};
use std::sync::Arc;

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{
    Backend, Result, Store, StoreError, Tx, TxInner, exec, fetch_row, fetch_rows, model::*, rows,
};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

fn uuid(value: &str) -> Result<Uuid> {
    Uuid::try_parse(value).map_err(|_| corrupt("uuid", value))
}

fn opt_uuid(value: Option<String>) -> Result<Option<Uuid>> {
    value.as_deref().map(uuid).transpose()
}

fn env_id(value: &str) -> Result<EnvironmentId> {
    value.parse().map_err(|_| corrupt("environment id", value))
}

fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn opt_text(id: Option<Uuid>) -> Option<String> {
    id.map(text)
}

rows! {
    struct TenantRow {
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
    struct AppRow {
        tenant_id: String,
        client_id: String,
        object_id: String,
        display_name: String,
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
        })
    }
}

rows! {
    struct AppSecretRow {
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
    struct AppCertificateRow {
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
    struct UserRow {
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
    struct EnvironmentRow {
        id: String,
        tenant_id: String,
        display_name: String,
        org: String,
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
        })
    }
}

rows! {
    struct SystemUserRow {
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
    struct MachineGroupRow {
        id: String,
        environment_id: String,
        name: String,
        description: String,
        flowgrouptype: i64,
        statecode: i64,
        statuscode: i64,
        password_hash: Option<String>,
        owner_id: String,
        created_on: i64,
        created_by: String,
        modified_on: i64,
        modified_by: String,
        versionnumber: i64,
    }
}

impl TryFrom<MachineGroupRow> for MachineGroup {
    type Error = StoreError;
    fn try_from(r: MachineGroupRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            name: r.name,
            description: r.description,
            flowgrouptype: r.flowgrouptype,
            statecode: r.statecode,
            statuscode: r.statuscode,
            password_hash: r.password_hash,
            owner_id: uuid(&r.owner_id)?,
            created_on: Timestamp(r.created_on),
            created_by: uuid(&r.created_by)?,
            modified_on: Timestamp(r.modified_on),
            modified_by: uuid(&r.modified_by)?,
            versionnumber: r.versionnumber,
        })
    }
}

rows! {
    struct MachineRow {
        id: String,
        environment_id: String,
        group_id: String,
        name: String,
        description: String,
        agentversion: Option<String>,
        lastheartbeatdate: Option<i64>,
        statecode: i64,
        statuscode: i64,
        owner_id: String,
        created_on: i64,
        created_by: String,
        modified_on: i64,
        modified_by: String,
        versionnumber: i64,
    }
}

impl TryFrom<MachineRow> for Machine {
    type Error = StoreError;
    fn try_from(r: MachineRow) -> Result<Self> {
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
            owner_id: uuid(&r.owner_id)?,
            created_on: Timestamp(r.created_on),
            created_by: uuid(&r.created_by)?,
            modified_on: Timestamp(r.modified_on),
            modified_by: uuid(&r.modified_by)?,
            versionnumber: r.versionnumber,
        })
    }
}

rows! {
    struct ShareRow {
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
    struct ConnectionRow {
        environment_id: String,
        id: String,
        connector: String,
        display_name: String,
        parameter_set: String,
        parameter_values: String,
        sealed_secrets: Vec<u8>,
        target_group_id: Option<String>,
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
            parameter_set: r.parameter_set,
            parameter_values: serde_json::from_str(&r.parameter_values)
                .map_err(|_| corrupt("parameter values of connection", &r.id))?,
            sealed_secrets: r.sealed_secrets,
            target_group_id: opt_uuid(r.target_group_id)?,
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
    struct SigningKeyRow {
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
    struct TargetFactsRow {
        group_name: Option<String>,
        group_type: Option<i64>,
        has_machines: i64,
        creator_is_member: i64,
        creator_owns: i64,
        creator_rights: i64,
    }
}

impl TargetFactsRow {
    /// `None` when the connection has no target or its group is gone.
    fn facts(self) -> Option<TargetFacts> {
        Some(TargetFacts {
            group_name: self.group_name?,
            flowgrouptype: self.group_type?,
            has_machines: self.has_machines == 1,
            creator_is_member: self.creator_is_member == 1,
            creator_owns: self.creator_owns == 1,
            creator_rights: u32::try_from(self.creator_rights)
                .map_or(AccessRights::empty(), AccessRights::from_bits_truncate),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ConnectionTargetRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    #[sqlx(flatten)]
    target: TargetFactsRow,
}

impl super::FromSqliteRow for ConnectionTargetRow {
    fn from_sqlite_row_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        /// The columns of `connection_columns!`, which come first.
        const CONNECTION_COLUMNS: usize = 13;
        Ok(Self {
            connection: ConnectionRow::from_sqlite_row_at(row, first)?,
            target: TargetFactsRow::from_sqlite_row_at(row, first + CONNECTION_COLUMNS)?,
        })
    }
}

/// Fetches at most one row of `$row` and converts it.
macro_rules! fetch_one {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {
        fetch_row!($store, $row, $sql $(, $arg)*)?
            .map(TryInto::try_into)
            .transpose()
    };
}

/// Fetches every row of `$row` and converts them.
macro_rules! fetch_all {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {
        fetch_rows!($store, $row, $sql $(, $arg)*)?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>>>()
    };
}

macro_rules! machine_group_columns {
    () => {
        "id, environment_id, name, description, flowgrouptype, statecode, statuscode, \
     password_hash, owner_id, created_on, created_by, modified_on, modified_by, versionnumber"
    };
}
macro_rules! machine_columns {
    () => {
        "id, environment_id, group_id, name, description, agentversion, lastheartbeatdate, \
     statecode, statuscode, owner_id, created_on, created_by, modified_on, modified_by, versionnumber"
    };
}
macro_rules! system_user_columns {
    () => {
        "id, environment_id, application_id, user_object_id, fullname, domainname, \
     accessmode, isdisabled, maker, created_on, modified_on, versionnumber"
    };
}
macro_rules! connection_columns {
    () => {
        connection_columns!("")
    };
    ($t:literal) => {
        concat!(
            $t,
            "environment_id, ",
            $t,
            "id, ",
            $t,
            "connector, ",
            $t,
            "display_name, ",
            $t,
            "parameter_set, ",
            $t,
            "parameter_values, ",
            $t,
            "sealed_secrets, ",
            $t,
            "target_group_id, ",
            $t,
            "created_by_id, ",
            $t,
            "created_by_type, ",
            $t,
            "created_by_name, ",
            $t,
            "created_at, ",
            $t,
            "modified_at"
        )
    };
}

/// What a connection's status rests on, for a connection `c` joined by
/// [`target_joins`] with its group `g` and its creator's systemuser `su`.
macro_rules! target_facts_columns {
    () => {
        "g.name AS group_name, g.flowgrouptype AS group_type, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM machines m WHERE m.group_id = g.id) THEN 1 ELSE 0 END AS BIGINT) AS has_machines, \
         CAST(CASE WHEN su.id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS creator_is_member, \
         CAST(CASE WHEN su.id = g.owner_id THEN 1 ELSE 0 END AS BIGINT) AS creator_owns, \
         COALESCE((SELECT s.access_mask FROM shares s WHERE s.record_type = 'flowmachinegroup' \
                   AND s.record_id = g.id AND s.principal_id = su.id), 0) AS creator_rights"
    };
}

/// The target group `g` of a connection `c`, and the systemuser `su` of
/// its creator in the connection's environment (an app's application user,
/// or a user's own).
macro_rules! target_joins {
    () => {
        "LEFT JOIN machine_groups g ON g.id = c.target_group_id \
         LEFT JOIN system_users su ON su.environment_id = c.environment_id AND ( \
             (c.created_by_type = 'ServicePrincipal' AND su.application_id = \
                 (SELECT a.client_id FROM apps a WHERE a.object_id = c.created_by_id)) \
             OR (c.created_by_type = 'User' AND su.user_object_id = c.created_by_id))"
    };
}

/// `INSERT INTO connections ... VALUES ...` of `rows`, in order, skipping
/// any whose id is taken: the one statement that creates connections.
pub(super) fn insert_connections<DB: sqlx::Database>(rows: &[&Connection]) -> QueryBuilder<DB>
where
    <DB as sqlx::Database>::Arguments: Default,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Vec<u8>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut query = QueryBuilder::new(
        "INSERT INTO connections (environment_id, id, connector, display_name, parameter_set, \
         parameter_values, sealed_secrets, target_group_id, created_by_id, created_by_type, \
         created_by_name, created_at, modified_at) ",
    );
    query.push_values(rows, |mut row, c| {
        row.push_bind(c.environment_id.to_string())
            .push_bind(c.id.to_string())
            .push_bind(c.connector.to_string())
            .push_bind(c.display_name.clone())
            .push_bind(c.parameter_set.clone())
            .push_bind(c.parameter_values.to_string())
            .push_bind(c.sealed_secrets.clone())
            .push_bind(opt_text(c.target_group_id))
            .push_bind(text(c.created_by.id))
            .push_bind(c.created_by.kind.as_str().to_owned())
            .push_bind(c.created_by.display_name.clone())
            .push_bind(c.created_at.0)
            .push_bind(c.modified_at.0);
    });
    query.push(" ON CONFLICT DO NOTHING");
    query
}

/// Creates one connection in a statement committed on its own; `false`
/// when the id is taken.
pub(super) async fn insert_connection_alone(backend: &Backend, c: &Connection) -> Result<bool> {
    let written = match backend {
        Backend::Sqlite { write, .. } => {
            let done = insert_connections(&[c]).build().execute(write).await?;
            done.rows_affected()
        }
        Backend::Postgres(pool) => {
            let done = insert_connections(&[c]).build().execute(pool).await?;
            done.rows_affected()
        }
    };
    Ok(written == 1)
}

impl Store {
    /// Creates a connection, written and committed with the others that
    /// arrive meanwhile (`connection_inserts`). `false` when the id is taken.
    pub async fn insert_connection(&self, c: &Connection) -> Result<bool> {
        self.inserts.insert(c.clone()).await
    }

    pub async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>> {
        fetch_one!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants WHERE id = $1",
            text(id)
        )
    }

    /// By domain, any case.
    pub async fn tenant_by_domain(&self, domain: &str) -> Result<Option<Tenant>> {
        fetch_one!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants WHERE domain = $1",
            domain.to_ascii_lowercase()
        )
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        fetch_all!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants ORDER BY domain"
        )
    }

    /// The tenant's Power Platform administrators: UPNs and app client ids.
    pub async fn tenant_admins(&self, tenant_id: Uuid) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch_rows!(
            self,
            (String,),
            "SELECT principal FROM tenant_admins WHERE tenant_id = $1 ORDER BY principal",
            text(tenant_id)
        )?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    pub async fn app(&self, tenant_id: Uuid, client_id: Uuid) -> Result<Option<App>> {
        fetch_one!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name FROM apps WHERE tenant_id = $1 AND client_id = $2",
            text(tenant_id),
            text(client_id)
        )
    }

    pub async fn apps(&self, tenant_id: Uuid) -> Result<Vec<App>> {
        fetch_all!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name FROM apps WHERE tenant_id = $1 ORDER BY client_id",
            text(tenant_id)
        )
    }

    pub async fn app_secrets(&self, tenant_id: Uuid, client_id: Uuid) -> Result<Vec<AppSecret>> {
        let rows: Vec<AppSecretRow> = fetch_rows!(
            self,
            AppSecretRow,
            "SELECT secret_hash, hint, expires_at FROM app_secrets WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at",
            text(tenant_id),
            text(client_id)
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn app_certificates(
        &self,
        tenant_id: Uuid,
        client_id: Uuid,
    ) -> Result<Vec<AppCertificate>> {
        let rows: Vec<AppCertificateRow> = fetch_rows!(
            self,
            AppCertificateRow,
            "SELECT thumbprint_sha256, thumbprint_sha1, der FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at",
            text(tenant_id),
            text(client_id)
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// By UPN, any case.
    pub async fn user_by_upn(&self, tenant_id: Uuid, upn: &str) -> Result<Option<User>> {
        fetch_one!(
            self,
            UserRow,
            "SELECT tenant_id, object_id, upn, display_name, password_hash FROM users WHERE tenant_id = $1 AND upn = $2",
            text(tenant_id),
            upn.to_ascii_lowercase()
        )
    }

    pub async fn environment(&self, id: &EnvironmentId) -> Result<Option<Environment>> {
        fetch_one!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org FROM environments WHERE id = $1",
            id.to_string()
        )
    }

    /// By org unique name, any case.
    pub async fn environment_by_org(&self, org: &str) -> Result<Option<Environment>> {
        fetch_one!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org FROM environments WHERE org = $1",
            org.to_ascii_lowercase()
        )
    }

    pub async fn environments(&self, tenant_id: Uuid) -> Result<Vec<Environment>> {
        fetch_all!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org FROM environments WHERE tenant_id = $1 ORDER BY display_name",
            text(tenant_id)
        )
    }

    pub async fn system_user(&self, id: Uuid) -> Result<Option<SystemUser>> {
        let sql = concat!(
            "SELECT ",
            system_user_columns!(),
            " FROM system_users WHERE id = $1"
        );
        fetch_one!(self, SystemUserRow, sql, text(id))
    }

    /// The systemuser that stands for a principal in an environment.
    pub async fn system_user_for(
        &self,
        environment: &EnvironmentId,
        kind: SystemUserKind,
    ) -> Result<Option<SystemUser>> {
        let (sql, id) = match kind {
            SystemUserKind::Application { client_id } => (
                concat!(
                    "SELECT ",
                    system_user_columns!(),
                    " FROM system_users WHERE environment_id = $1 AND application_id = $2"
                ),
                client_id,
            ),
            SystemUserKind::Person { object_id } => (
                concat!(
                    "SELECT ",
                    system_user_columns!(),
                    " FROM system_users WHERE environment_id = $1 AND user_object_id = $2"
                ),
                object_id,
            ),
        };
        fetch_one!(self, SystemUserRow, sql, environment.to_string(), text(id))
    }

    pub async fn system_users(&self, environment: &EnvironmentId) -> Result<Vec<SystemUser>> {
        let sql = concat!(
            "SELECT ",
            system_user_columns!(),
            " FROM system_users WHERE environment_id = $1 ORDER BY fullname, id"
        );
        fetch_all!(self, SystemUserRow, sql, environment.to_string())
    }

    pub async fn machine_group(&self, id: Uuid) -> Result<Option<MachineGroup>> {
        let sql = concat!(
            "SELECT ",
            machine_group_columns!(),
            " FROM machine_groups WHERE id = $1"
        );
        fetch_one!(self, MachineGroupRow, sql, text(id))
    }

    pub async fn machine_groups(&self, environment: &EnvironmentId) -> Result<Vec<MachineGroup>> {
        let sql = concat!(
            "SELECT ",
            machine_group_columns!(),
            " FROM machine_groups WHERE environment_id = $1 ORDER BY name, id"
        );
        fetch_all!(self, MachineGroupRow, sql, environment.to_string())
    }

    pub async fn machine(&self, id: Uuid) -> Result<Option<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE id = $1"
        );
        fetch_one!(self, MachineRow, sql, text(id))
    }

    pub async fn machines_in_group(&self, group_id: Uuid) -> Result<Vec<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE group_id = $1 ORDER BY name, id"
        );
        fetch_all!(self, MachineRow, sql, text(group_id))
    }

    /// A machine of the environment by name, any case (machine names are
    /// Windows computer names, which ignore case).
    pub async fn machine_named(
        &self,
        environment: &EnvironmentId,
        name: &str,
    ) -> Result<Option<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE environment_id = $1 AND LOWER(name) = LOWER($2) LIMIT 1"
        );
        fetch_one!(
            self,
            MachineRow,
            sql,
            environment.to_string(),
            name.to_owned()
        )
    }

    /// Who a record is shared with, and with which rights.
    pub async fn shares_of(&self, record: RecordRef) -> Result<Vec<Share>> {
        fetch_all!(
            self,
            ShareRow,
            "SELECT record_type, record_id, principal_id, access_mask FROM shares \
             WHERE record_type = $1 AND record_id = $2 ORDER BY principal_id",
            record.logical_name(),
            text(record.id())
        )
    }

    pub async fn connection(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Option<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE environment_id = $1 AND id = $2"
        );
        fetch_one!(
            self,
            ConnectionRow,
            sql,
            environment.to_string(),
            id.to_string()
        )
    }

    /// One page of an environment's connections in id order, starting after
    /// `after` (the `next` of the previous page). Costs one index range scan
    /// whatever the number of connections.
    pub async fn connections_page(
        &self,
        environment: &EnvironmentId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE environment_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let mut items: Vec<Connection> = fetch_all!(
            self,
            ConnectionRow,
            sql,
            environment.to_string(),
            after.unwrap_or_default().to_owned(),
            i64::from(limit) + 1
        )?;
        Ok(page_of(&mut items, limit))
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>> {
        let rows: Vec<SigningKeyRow> = fetch_rows!(
            self,
            SigningKeyRow,
            "SELECT kid, sealed_private, certificate, created_at, retire_at, expire_at FROM signing_keys ORDER BY created_at, kid"
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn counts(&self) -> Result<Counts> {
        const SQL: &str = "SELECT \
            (SELECT COUNT(*) FROM tenants), (SELECT COUNT(*) FROM apps), (SELECT COUNT(*) FROM users), \
            (SELECT COUNT(*) FROM environments), (SELECT COUNT(*) FROM system_users), \
            (SELECT COUNT(*) FROM machine_groups), (SELECT COUNT(*) FROM machines), \
            (SELECT COUNT(*) FROM shares), (SELECT COUNT(*) FROM connections)";
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let r: Row = fetch_row!(self, Row, SQL)?
            .ok_or_else(|| StoreError::Corrupt("a query of one row returned none".into()))?;
        Ok(Counts {
            tenants: r.0,
            apps: r.1,
            users: r.2,
            environments: r.3,
            system_users: r.4,
            machine_groups: r.5,
            machines: r.6,
            shares: r.7,
            connections: r.8,
        })
    }
}

/// Runs one statement on the transaction and returns the rows it touched.
macro_rules! run {
    ($tx:expr, $sql:expr $(, $arg:expr)*) => {
        exec!($tx, conn => sqlx::query($sql)$(.bind($arg))*.execute(&mut *conn).await.map(|done| done.rows_affected()))
    };
}

impl Tx {
    pub async fn upsert_tenant(&mut self, tenant: &Tenant) -> Result<()> {
        run!(
            self,
            "INSERT INTO tenants (id, domain, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET domain = excluded.domain",
            text(tenant.id),
            tenant.domain.to_ascii_lowercase(),
            Timestamp::now().0
        )?;
        Ok(())
    }

    pub async fn add_tenant_admin(&mut self, tenant_id: Uuid, principal: &str) -> Result<()> {
        run!(
            self,
            "INSERT INTO tenant_admins (tenant_id, principal) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            text(tenant_id),
            principal.to_ascii_lowercase()
        )?;
        Ok(())
    }

    pub async fn upsert_app(&mut self, app: &App) -> Result<()> {
        run!(
            self,
            "INSERT INTO apps (tenant_id, client_id, object_id, display_name, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, client_id) DO UPDATE SET object_id = excluded.object_id, display_name = excluded.display_name",
            text(app.tenant_id),
            text(app.client_id),
            text(app.object_id),
            app.display_name.clone(),
            Timestamp::now().0
        )?;
        Ok(())
    }

    /// Adds a secret, or updates the expiry of one already there.
    pub async fn put_app_secret(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        secret: &AppSecret,
    ) -> Result<()> {
        run!(
            self,
            "INSERT INTO app_secrets (tenant_id, client_id, secret_hash, hint, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, client_id, secret_hash) DO UPDATE SET expires_at = excluded.expires_at",
            text(tenant_id),
            text(client_id),
            secret.hash.clone(),
            secret.hint.clone(),
            secret.expires_at.map(|t| t.0),
            Timestamp::now().0
        )?;
        Ok(())
    }

    pub async fn put_app_certificate(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        cert: &AppCertificate,
    ) -> Result<()> {
        run!(
            self,
            "INSERT INTO app_certificates (tenant_id, client_id, thumbprint_sha256, thumbprint_sha1, der, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            text(tenant_id),
            text(client_id),
            cert.thumbprint_sha256.clone(),
            cert.thumbprint_sha1.clone(),
            cert.der.clone(),
            Timestamp::now().0
        )?;
        Ok(())
    }

    pub async fn upsert_user(&mut self, user: &User) -> Result<()> {
        run!(
            self,
            "INSERT INTO users (object_id, tenant_id, upn, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (object_id) DO UPDATE SET upn = excluded.upn, display_name = excluded.display_name, \
             password_hash = excluded.password_hash",
            text(user.object_id),
            text(user.tenant_id),
            user.upn.to_ascii_lowercase(),
            user.display_name.clone(),
            user.password_hash.clone(),
            Timestamp::now().0
        )?;
        Ok(())
    }

    pub async fn upsert_environment(&mut self, env: &Environment) -> Result<()> {
        run!(
            self,
            "INSERT INTO environments (id, tenant_id, display_name, org, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, org = excluded.org",
            env.id.to_string(),
            text(env.tenant_id),
            env.display_name.clone(),
            env.org.to_ascii_lowercase(),
            Timestamp::now().0
        )?;
        Ok(())
    }

    /// Inserts the systemuser, or updates the one that already stands for
    /// the same principal in the environment (whatever its id). Returns the
    /// id of the row kept.
    pub async fn upsert_system_user(&mut self, user: &SystemUser) -> Result<Uuid> {
        macro_rules! upsert_on {
            ($key:literal) => {
                concat!(
                    "INSERT INTO system_users (id, environment_id, application_id, user_object_id, fullname, domainname, \
                     accessmode, isdisabled, maker, created_on, modified_on, versionnumber) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) \
                     ON CONFLICT (environment_id, ",
                    $key,
                    ") DO UPDATE SET fullname = excluded.fullname, domainname = excluded.domainname, \
                     accessmode = excluded.accessmode, isdisabled = excluded.isdisabled, maker = excluded.maker, \
                     modified_on = excluded.modified_on, versionnumber = system_users.versionnumber + 1 \
                     WHERE system_users.fullname <> excluded.fullname OR system_users.domainname <> excluded.domainname \
                     OR system_users.accessmode <> excluded.accessmode OR system_users.isdisabled <> excluded.isdisabled \
                     OR system_users.maker <> excluded.maker"
                )
            };
        }
        let (application_id, user_object_id, upsert, lookup) = match user.kind {
            SystemUserKind::Application { client_id } => (
                Some(client_id),
                None,
                upsert_on!("application_id"),
                "SELECT id FROM system_users WHERE environment_id = $1 AND application_id = $2",
            ),
            SystemUserKind::Person { object_id } => (
                None,
                Some(object_id),
                upsert_on!("user_object_id"),
                "SELECT id FROM system_users WHERE environment_id = $1 AND user_object_id = $2",
            ),
        };
        run!(
            self,
            upsert,
            text(user.id),
            user.environment_id.to_string(),
            opt_text(application_id),
            opt_text(user_object_id),
            user.fullname.clone(),
            user.domainname.clone(),
            user.accessmode,
            user.isdisabled,
            user.maker,
            user.modified_on.0
        )?;
        // The row kept may predate this call (and have another id), and an
        // unchanged row returns nothing from the upsert: look it up.
        let principal = opt_text(application_id.or(user_object_id));
        let (id,): (String,) = exec!(self, conn => sqlx::query_as(lookup)
            .bind(user.environment_id.to_string()).bind(principal).fetch_one(&mut *conn).await)?;
        uuid(&id)
    }

    /// Inserts the group, or updates what the caller owns of it (name,
    /// description, type, state, owner), bumping its version only when one
    /// of them changed. The password and creation columns are kept.
    pub async fn upsert_machine_group(&mut self, group: &MachineGroup) -> Result<()> {
        run!(
            self,
            "INSERT INTO machine_groups (id, environment_id, name, description, flowgrouptype, statecode, statuscode, \
             password_hash, owner_id, created_on, created_by, modified_on, modified_by, versionnumber) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
             flowgrouptype = excluded.flowgrouptype, statecode = excluded.statecode, statuscode = excluded.statuscode, \
             owner_id = excluded.owner_id, modified_on = excluded.modified_on, modified_by = excluded.modified_by, \
             versionnumber = machine_groups.versionnumber + 1 \
             WHERE machine_groups.name <> excluded.name OR machine_groups.description <> excluded.description \
             OR machine_groups.flowgrouptype <> excluded.flowgrouptype OR machine_groups.statecode <> excluded.statecode \
             OR machine_groups.statuscode <> excluded.statuscode OR machine_groups.owner_id <> excluded.owner_id",
            text(group.id),
            group.environment_id.to_string(),
            group.name.clone(),
            group.description.clone(),
            group.flowgrouptype,
            group.statecode,
            group.statuscode,
            group.password_hash.clone(),
            text(group.owner_id),
            group.created_on.0,
            text(group.created_by),
            group.modified_on.0,
            text(group.modified_by)
        )?;
        Ok(())
    }

    /// Inserts the machine, or updates its group, name, description and owner,
    /// bumping its version only when one of them changed.
    pub async fn upsert_machine(&mut self, machine: &Machine) -> Result<()> {
        run!(
            self,
            "INSERT INTO machines (id, environment_id, group_id, name, description, agentversion, lastheartbeatdate, \
             statecode, statuscode, owner_id, created_on, created_by, modified_on, modified_by, versionnumber) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) \
             ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, name = excluded.name, \
             description = excluded.description, owner_id = excluded.owner_id, modified_on = excluded.modified_on, \
             modified_by = excluded.modified_by, versionnumber = machines.versionnumber + 1 \
             WHERE machines.group_id <> excluded.group_id OR machines.name <> excluded.name \
             OR machines.description <> excluded.description OR machines.owner_id <> excluded.owner_id",
            text(machine.id),
            machine.environment_id.to_string(),
            text(machine.group_id),
            machine.name.clone(),
            machine.description.clone(),
            machine.agentversion.clone(),
            machine.lastheartbeatdate.map(|t| t.0),
            machine.statecode,
            machine.statuscode,
            text(machine.owner_id),
            machine.created_on.0,
            text(machine.created_by),
            machine.modified_on.0,
            text(machine.modified_by)
        )?;
        Ok(())
    }

    /// Sets the rights a principal holds on a record by sharing; no rights
    /// removes the share.
    pub async fn set_share(&mut self, share: &Share) -> Result<()> {
        if share.rights.is_empty() {
            run!(
                self,
                "DELETE FROM shares WHERE record_type = $1 AND record_id = $2 AND principal_id = $3",
                share.record.logical_name(),
                text(share.record.id()),
                text(share.principal_id)
            )?;
        } else {
            run!(
                self,
                "INSERT INTO shares (record_type, record_id, principal_id, access_mask) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (record_type, record_id, principal_id) DO UPDATE SET access_mask = excluded.access_mask",
                share.record.logical_name(),
                text(share.record.id()),
                text(share.principal_id),
                i64::from(share.rights.bits())
            )?;
        }
        Ok(())
    }

    /// Inserts a new connection; `false`, and nothing written, when one with
    /// the same id exists in the environment. Safe under concurrent inserts of
    /// one id: exactly one of them gets `true`.
    pub async fn insert_connection(&mut self, c: &Connection) -> Result<bool> {
        let inserted = exec!(self, conn => insert_connections(&[c]).build()
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Replaces what a connection holds (not who created it, nor when).
    /// `false` when there is no such connection.
    pub async fn update_connection(&mut self, c: &Connection) -> Result<bool> {
        let updated = run!(
            self,
            "UPDATE connections SET connector = $3, display_name = $4, parameter_set = $5, parameter_values = $6, \
             sealed_secrets = $7, target_group_id = $8, modified_at = $9 WHERE environment_id = $1 AND id = $2",
            c.environment_id.to_string(),
            c.id.to_string(),
            c.connector.to_string(),
            c.display_name.clone(),
            c.parameter_set.clone(),
            c.parameter_values.to_string(),
            c.sealed_secrets.clone(),
            opt_text(c.target_group_id),
            c.modified_at.0
        )?;
        Ok(updated == 1)
    }

    /// Gives a principal a role on a connection, replacing the one it had.
    pub async fn set_connection_permission(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        permission: &ConnectionPermission,
    ) -> Result<()> {
        run!(
            self,
            "INSERT INTO connection_permissions (environment_id, connection_id, principal_id, principal_type, role_name) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (environment_id, connection_id, principal_id) \
             DO UPDATE SET principal_type = excluded.principal_type, role_name = excluded.role_name",
            environment.to_string(),
            id.to_string(),
            text(permission.principal_id),
            permission.principal_type.as_str().to_owned(),
            permission.role_name.clone()
        )?;
        Ok(())
    }

    pub async fn delete_connection_permission(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        principal: Uuid,
    ) -> Result<()> {
        run!(
            self,
            "DELETE FROM connection_permissions WHERE environment_id = $1 AND connection_id = $2 AND principal_id = $3",
            environment.to_string(),
            id.to_string(),
            text(principal)
        )?;
        Ok(())
    }

    /// `false` when there was no such connection.
    pub async fn delete_connection(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<bool> {
        run!(
            self,
            "DELETE FROM connection_permissions WHERE environment_id = $1 AND connection_id = $2",
            environment.to_string(),
            id.to_string()
        )?;
        let deleted = run!(
            self,
            "DELETE FROM connections WHERE environment_id = $1 AND id = $2",
            environment.to_string(),
            id.to_string()
        )?;
        Ok(deleted == 1)
    }

    pub async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()> {
        run!(
            self,
            "INSERT INTO signing_keys (kid, sealed_private, certificate, created_at, retire_at, expire_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            key.kid.clone(),
            key.sealed_private.clone(),
            key.certificate.clone(),
            key.created_at.0,
            key.retire_at.0,
            key.expire_at.0
        )?;
        Ok(())
    }
}

impl Tx {
    /// Every signing key still signing stops at `at`.
    pub async fn retire_signing_keys(&mut self, at: Timestamp) -> Result<()> {
        run!(
            self,
            "UPDATE signing_keys SET retire_at = $1 WHERE retire_at > $1",
            at.0
        )?;
        Ok(())
    }

    /// Records a client assertion's `jti`; `false` when it was seen before
    /// (a replay). Expired ids are forgotten on the way.
    pub async fn remember_assertion(&mut self, jti: &str, expires_at: Timestamp) -> Result<bool> {
        run!(
            self,
            "DELETE FROM seen_assertions WHERE expires_at < $1",
            Timestamp::now().0
        )?;
        let inserted = run!(
            self,
            "INSERT INTO seen_assertions (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            jti.to_owned(),
            expires_at.0
        )?;
        Ok(inserted == 1)
    }
}

impl Store {
    /// The rights a principal holds on a record by sharing (none if not shared).
    pub async fn share_rights(
        &self,
        record: RecordRef,
        principal_id: Uuid,
    ) -> Result<AccessRights> {
        let row: Option<(i64,)> = fetch_row!(
            self,
            (i64,),
            "SELECT access_mask FROM shares WHERE record_type = $1 AND record_id = $2 AND principal_id = $3",
            record.logical_name(),
            text(record.id()),
            text(principal_id)
        )?;
        Ok(row
            .and_then(|(mask,)| u32::try_from(mask).ok())
            .map_or(AccessRights::empty(), AccessRights::from_bits_truncate))
    }

    /// One page of the connections `viewer` may see in an environment (its
    /// own and those shared with it), in id order after `after`; every
    /// connection when `viewer` is `None` (an administrator).
    pub async fn visible_connections_page(
        &self,
        environment: &EnvironmentId,
        viewer: Option<Uuid>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Connection>> {
        let Some(viewer) = viewer else {
            return self.connections_page(environment, after, limit).await;
        };
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections c WHERE environment_id = $1 AND id > $2 AND (created_by_id = $3 OR EXISTS (",
            "SELECT 1 FROM connection_permissions p WHERE p.environment_id = c.environment_id ",
            "AND p.connection_id = c.id AND p.principal_id = $3)) ORDER BY id LIMIT $4"
        );
        let mut items: Vec<Connection> = fetch_all!(
            self,
            ConnectionRow,
            sql,
            environment.to_string(),
            after.unwrap_or_default().to_owned(),
            text(viewer),
            i64::from(limit) + 1
        )?;
        Ok(page_of(&mut items, limit))
    }

    /// Whether `principal` was given a role on the connection.
    pub async fn connection_role(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        principal: Uuid,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = fetch_row!(
            self,
            (String,),
            "SELECT role_name FROM connection_permissions WHERE environment_id = $1 AND connection_id = $2 AND principal_id = $3",
            environment.to_string(),
            id.to_string(),
            text(principal)
        )?;
        Ok(row.map(|(role,)| role))
    }
}

/// Cuts a fetched `limit + 1` rows to a page, with where the next one starts.
fn page_of(items: &mut Vec<Connection>, limit: u32) -> Page<Connection> {
    let next = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items.last().map(|c| c.id.to_string())
    });
    Page {
        items: std::mem::take(items),
        next: next.flatten(),
    }
}

impl Store {
    /// The app whose service principal has this object id.
    pub async fn app_by_object_id(&self, object_id: Uuid) -> Result<Option<App>> {
        fetch_one!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name FROM apps WHERE object_id = $1",
            text(object_id)
        )
    }
}

impl Store {
    /// The facts of a connection's target, or `None` when the group is gone.
    pub async fn target_facts(&self, connection: &Connection) -> Result<Option<TargetFacts>> {
        if connection.target_group_id.is_none() {
            return Ok(None);
        }
        let sql = concat!(
            "SELECT ",
            target_facts_columns!(),
            " FROM (SELECT CAST($1 AS TEXT) AS target_group_id, CAST($2 AS TEXT) AS environment_id, \
             CAST($3 AS TEXT) AS created_by_id, CAST($4 AS TEXT) AS created_by_type) c ",
            target_joins!()
        );
        let row = fetch_row!(
            self,
            TargetFactsRow,
            sql,
            opt_text(connection.target_group_id),
            connection.environment_id.to_string(),
            text(connection.created_by.id),
            connection.created_by.kind.as_str()
        )?;
        Ok(row.and_then(TargetFactsRow::facts))
    }

    /// A connection with the facts of its target, in one query: what a GET
    /// needs, kept until the next write (`connection_cache`).
    pub async fn connection_with_target(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Option<Arc<ConnectionWithTarget>>> {
        if let Some(kept) = self.cache.get(environment, id) {
            return Ok(Some(kept));
        }
        // Before the read: a write during it must make what it read stale.
        let generation = self.cache.generation();
        let sql = concat!(
            "SELECT ",
            connection_columns!("c."),
            ", ",
            target_facts_columns!(),
            " FROM connections c ",
            target_joins!(),
            " WHERE c.environment_id = $1 AND c.id = $2"
        );
        let Some(row) = fetch_row!(
            self,
            ConnectionTargetRow,
            sql,
            environment.to_string(),
            id.to_string()
        )?
        else {
            return Ok(None);
        };
        let read = Arc::new(ConnectionWithTarget {
            connection: row.connection.try_into()?,
            target: row.target.facts(),
        });
        self.cache.put(generation, read.clone());
        Ok(Some(read))
    }
}

/// A principal a connection was shared with, and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPermission {
    pub principal_id: Uuid,
    pub principal_type: PrincipalType,
    pub role_name: String,
}

impl Store {
    pub async fn connection_permissions(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Vec<ConnectionPermission>> {
        let rows: Vec<(String, String, String)> = fetch_rows!(
            self,
            (String, String, String),
            "SELECT principal_id, principal_type, role_name FROM connection_permissions \
             WHERE environment_id = $1 AND connection_id = $2 ORDER BY principal_id",
            environment.to_string(),
            id.to_string()
        )?;
        rows.into_iter()
            .map(|(principal, kind, role_name)| {
                Ok(ConnectionPermission {
                    principal_id: uuid(&principal)?,
                    principal_type: PrincipalType::parse(&kind)
                        .ok_or_else(|| corrupt("principal type", &kind))?,
                    role_name,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Deletes a group that holds no machine, and what was shared of it
    /// (Dataverse restricts deleting a group with machines); `false` when
    /// it is gone or still holds machines. The emptiness is checked by the
    /// DELETE itself, so a machine joining meanwhile keeps the group.
    pub async fn delete_machine_group(&mut self, id: Uuid) -> Result<bool> {
        let deleted = run!(
            self,
            "DELETE FROM machine_groups WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM machines WHERE group_id = $1)",
            text(id)
        )?;
        if deleted == 1 {
            run!(
                self,
                "DELETE FROM shares WHERE record_type = 'flowmachinegroup' AND record_id = $1",
                text(id)
            )?;
        }
        Ok(deleted == 1)
    }

    /// Adds a systemuser unless the environment has one for the same app or
    /// person already; `false` then.
    pub async fn insert_system_user(&mut self, user: &SystemUser) -> Result<bool> {
        let (application_id, user_object_id) = match user.kind {
            SystemUserKind::Application { client_id } => (Some(client_id), None),
            SystemUserKind::Person { object_id } => (None, Some(object_id)),
        };
        Ok(run!(
            self,
            "INSERT INTO system_users (id, environment_id, application_id, user_object_id, fullname, domainname, \
             accessmode, isdisabled, maker, created_on, modified_on, versionnumber) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) ON CONFLICT DO NOTHING",
            text(user.id),
            user.environment_id.to_string(),
            opt_text(application_id),
            opt_text(user_object_id),
            user.fullname.clone(),
            user.domainname.clone(),
            user.accessmode,
            user.isdisabled,
            user.maker,
            user.created_on.0
        )? == 1)
    }

    /// Renames a group or a machine if it is still at the version read,
    /// bumping it; `false` when the
    /// row changed or went away since it was read.
    pub async fn rename(
        &mut self,
        RowVersion { table, id, version }: RowVersion,
        name: &str,
        description: &str,
        by: Uuid,
        at: Timestamp,
    ) -> Result<bool> {
        let sql = match table {
            RenameTable::MachineGroups => {
                "UPDATE machine_groups SET name = $3, description = $4, modified_by = $5, modified_on = $6, \
                 versionnumber = versionnumber + 1 WHERE id = $1 AND versionnumber = $2"
            }
            RenameTable::Machines => {
                "UPDATE machines SET name = $3, description = $4, modified_by = $5, modified_on = $6, \
                 versionnumber = versionnumber + 1 WHERE id = $1 AND versionnumber = $2"
            }
        };
        Ok(run!(
            self,
            sql,
            text(id),
            version,
            name.to_owned(),
            description.to_owned(),
            text(by),
            at.0
        )? == 1)
    }

    /// Sets a group's password unless one is set already: the first machine
    /// to join a group chooses it. `false` when another one was first.
    pub async fn claim_group_password(&mut self, group_id: Uuid, hash: &str) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE machine_groups SET password_hash = $2 WHERE id = $1 AND password_hash IS NULL",
            text(group_id),
            hash.to_owned()
        )? == 1)
    }

    /// Moves a machine from one group into another unless the target already
    /// holds `limit` machines or the machine is no longer in `from`; `false`
    /// then. The count is taken by the same
    /// statement, so concurrent joins cannot overfill a group on SQLite's
    /// single writer.
    pub async fn move_machine(
        &mut self,
        machine_id: Uuid,
        from: Uuid,
        to: Uuid,
        limit: usize,
        by: Uuid,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE machines SET group_id = $2, modified_by = $3, modified_on = $4, \
             versionnumber = versionnumber + 1 \
             WHERE id = $1 AND group_id = $6 AND (SELECT COUNT(*) FROM machines WHERE group_id = $2) < $5",
            text(machine_id),
            text(to),
            text(by),
            at.0,
            limit as i64,
            text(from)
        )? == 1)
    }

    pub async fn delete_machine(&mut self, id: Uuid) -> Result<bool> {
        Ok(run!(self, "DELETE FROM machines WHERE id = $1", text(id))? == 1)
    }
}
