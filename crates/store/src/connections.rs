//! Connections: their pages (all, or those a principal may see), the
//! roles they are shared with, and the facts of their target group; the
//! multi-row INSERT that `connection_inserts` batches new ones into. Reads
//! on [`Store`], writes on [`Tx`].

use padconnect_core::{ConnectionId, EnvironmentId};
use std::sync::Arc;

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::machines::machine_presence_columns;
use super::rows::*;
use super::sql::{exec, fetch_all, fetch_all_in, fetch_one, fetch_row, rows, run};
use super::{Backend, Result, Store, StoreError, Tx, TxInner, model::*};

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
            "credential_id, ",
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
        concat!(
        "g.name AS group_name, g.flowgrouptype AS group_type, ", machine_presence_columns!("g.id"), ", \
         CAST(CASE WHEN cc.connection_id IS NULL OR EXISTS (SELECT 1 FROM machine_accounts a \
              WHERE a.machine_id = cc.machine_id AND a.username_key = cc.username_key AND a.version = cc.version) \
              THEN 1 ELSE 0 END AS BIGINT) AS credentials_current, \
         CAST(CASE WHEN su.id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS creator_is_member, \
         CAST(CASE WHEN su.id = g.owner_id THEN 1 ELSE 0 END AS BIGINT) AS creator_owns, \
         COALESCE((SELECT s.access_mask FROM shares s WHERE s.record_type = 'flowmachinegroup' \
                   AND s.record_id = g.id AND s.principal_id = su.id), 0) AS creator_rights")
    };
}

/// The target group `g` of a connection `c`, and the systemuser `su` of
/// its creator in the connection's environment (an app's application user,
/// or a user's own).
macro_rules! target_joins {
    () => {
        "LEFT JOIN machine_groups g ON g.id = c.target_group_id \
         LEFT JOIN connection_credentials cc ON cc.environment_id = c.environment_id AND cc.connection_id = c.id \
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
         parameter_values, sealed_secrets, target_group_id, credential_id, created_by_id, \
         created_by_type, created_by_name, created_at, modified_at) ",
    );
    query.push_values(rows, |mut row, c| {
        row.push_bind(c.environment_id.to_string())
            .push_bind(c.id.to_string())
            .push_bind(c.connector.to_string())
            .push_bind(c.display_name.clone())
            .push_bind(c.parameter_set.name().to_owned())
            .push_bind(c.parameter_values.to_string())
            .push_bind(c.sealed_secrets.clone())
            .push_bind(opt_text(c.target_group_id))
            .push_bind(opt_text(c.credential_id))
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

/// A principal a connection was shared with, and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPermission {
    pub principal_id: Uuid,
    pub principal_type: PrincipalType,
    pub role_name: String,
}

impl Store {
    /// Creates a connection, written and committed with the others that
    /// arrive meanwhile (`connection_inserts`). `false` when the id is taken.
    pub async fn insert_connection(&self, c: &Connection) -> Result<bool> {
        self.inserts.insert(c.clone()).await
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

    /// One page of the connections `viewer` may see in an environment (its
    /// own and those shared with it), in id order after `after` (the `next`
    /// of the previous page); every connection when `viewer` is `None` (an
    /// administrator). One index range scan: for an administrator it stops
    /// at the page's end whatever the number of connections; for a viewer
    /// it reads on until it has found a page of the viewer's.
    pub async fn visible_connections_page(
        &self,
        environment: &EnvironmentId,
        viewer: Option<Uuid>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections c WHERE environment_id = $1 AND id > $2 AND (CAST($3 AS TEXT) IS NULL ",
            "OR created_by_id = $3 OR EXISTS (SELECT 1 FROM connection_permissions p ",
            "WHERE p.environment_id = c.environment_id AND p.connection_id = c.id AND p.principal_id = $3)) ",
            "ORDER BY id LIMIT $4"
        );
        let mut items: Vec<Connection> = fetch_all!(
            self,
            ConnectionRow,
            sql,
            environment.to_string(),
            after.unwrap_or_default().to_owned(),
            opt_text(viewer),
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

    /// The facts of a connection's target, or `None` when the group is gone.
    pub async fn target_facts(&self, connection: &Connection) -> Result<Option<TargetFacts>> {
        if connection.target_group_id.is_none() {
            return Ok(None);
        }
        let sql = concat!(
            "SELECT ",
            target_facts_columns!(),
            " FROM (SELECT CAST($1 AS TEXT) AS target_group_id, CAST($2 AS TEXT) AS environment_id, \
             CAST($3 AS TEXT) AS created_by_id, CAST($4 AS TEXT) AS created_by_type, CAST($5 AS TEXT) AS id) c ",
            target_joins!()
        );
        let row = fetch_row!(
            self,
            TargetFactsRow,
            sql,
            opt_text(connection.target_group_id),
            connection.environment_id.to_string(),
            text(connection.created_by.id),
            connection.created_by.kind.as_str(),
            connection.id.to_string()
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

    pub async fn connection_permissions(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Vec<ConnectionPermission>> {
        fetch_all!(
            self,
            PermissionRow,
            PERMISSIONS,
            environment.to_string(),
            id.to_string()
        )
    }
}

/// The roles given on one connection, by principal.
const PERMISSIONS: &str = "SELECT principal_id, principal_type, role_name FROM connection_permissions \
     WHERE environment_id = $1 AND connection_id = $2 ORDER BY principal_id";

rows! {
    struct PermissionRow {
        principal_id: String,
        principal_type: String,
        role_name: String,
    }
}

impl TryFrom<PermissionRow> for ConnectionPermission {
    type Error = StoreError;
    fn try_from(r: PermissionRow) -> Result<Self> {
        Ok(Self {
            principal_id: uuid(&r.principal_id)?,
            principal_type: PrincipalType::parse(&r.principal_type)
                .ok_or_else(|| corrupt("principal type", &r.principal_type))?,
            role_name: r.role_name,
        })
    }
}

impl Tx {
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
             sealed_secrets = $7, target_group_id = $8, credential_id = $9, modified_at = $10 \
             WHERE environment_id = $1 AND id = $2",
            c.environment_id.to_string(),
            c.id.to_string(),
            c.connector.to_string(),
            c.display_name.clone(),
            c.parameter_set.name(),
            c.parameter_values.to_string(),
            c.sealed_secrets.clone(),
            opt_text(c.target_group_id),
            opt_text(c.credential_id),
            c.modified_at.0
        )?;
        Ok(updated == 1)
    }

    /// Takes the connection for this transaction, so that changes of its
    /// sharing (and its deletion) do not interleave: on PostgreSQL by
    /// locking its row, which every such change does first; SQLite has one
    /// writer already.
    pub async fn lock_connection(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<()> {
        if let TxInner::Postgres(t) = &mut self.inner {
            sqlx::query(
                "SELECT id FROM connections WHERE environment_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(environment.to_string())
            .bind(id.to_string())
            .execute(&mut **t)
            .await?;
        }
        Ok(())
    }

    /// The roles given on a connection, as this transaction sees them.
    pub async fn connection_permissions(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<Vec<ConnectionPermission>> {
        fetch_all_in!(
            self,
            PermissionRow,
            PERMISSIONS,
            environment.to_string(),
            id.to_string()
        )
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

    /// Records the account a connection's credentials matched (`None`: the
    /// target declared none, nothing was checked).
    pub async fn set_connection_credentials(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
        verified: Option<&VerifiedAccount>,
    ) -> Result<()> {
        run!(
            self,
            "DELETE FROM connection_credentials WHERE environment_id = $1 AND connection_id = $2",
            environment.to_string(),
            id.to_string()
        )?;
        if let Some(account) = verified {
            run!(
                self,
                "INSERT INTO connection_credentials (environment_id, connection_id, machine_id, username_key, version) \
                 VALUES ($1, $2, $3, $4, $5)",
                environment.to_string(),
                id.to_string(),
                text(account.machine_id),
                account.username_key.clone(),
                account.version
            )?;
        }
        Ok(())
    }

    /// `false` when there was no such connection.
    pub async fn delete_connection(
        &mut self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Result<bool> {
        self.lock_connection(environment, id).await?;
        run!(
            self,
            "DELETE FROM connection_permissions WHERE environment_id = $1 AND connection_id = $2",
            environment.to_string(),
            id.to_string()
        )?;
        self.set_connection_credentials(environment, id, None)
            .await?;
        let deleted = run!(
            self,
            "DELETE FROM connections WHERE environment_id = $1 AND id = $2",
            environment.to_string(),
            id.to_string()
        )?;
        Ok(deleted == 1)
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
