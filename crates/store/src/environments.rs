//! Environments, and the systemusers that stand for apps and people in
//! each. Reads on [`Store`], writes on [`Tx`].

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::*;
use super::sql::{exec, fetch_all, fetch_one, run, texts_in};
use super::{Result, Store, Tx, TxInner, model::*};

macro_rules! system_user_columns {
    () => {
        "id, environment_id, application_id, user_object_id, fullname, domainname, \
     accessmode, isdisabled, maker, created_on, modified_on, versionnumber"
    };
}

impl Store {
    pub async fn environment(&self, id: &EnvironmentId) -> Result<Option<Environment>> {
        fetch_one!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org, ready_at, import_seconds FROM environments WHERE id = $1",
            id.to_string()
        )
    }

    /// By org unique name, any case.
    pub async fn environment_by_org(&self, org: &str) -> Result<Option<Environment>> {
        fetch_one!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org, ready_at, import_seconds FROM environments WHERE org = $1",
            org.to_ascii_lowercase()
        )
    }

    pub async fn environments(&self, tenant_id: Uuid) -> Result<Vec<Environment>> {
        fetch_all!(
            self,
            EnvironmentRow,
            "SELECT id, tenant_id, display_name, org, ready_at, import_seconds FROM environments WHERE tenant_id = $1 ORDER BY display_name",
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
}

impl Tx {
    pub async fn upsert_environment(&mut self, env: &Environment) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            // The first load's readiness time stays: a restart does not make
            // an environment new again.
            "INSERT INTO environments (id, tenant_id, display_name, org, created_at, ready_at, import_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, org = excluded.org, \
             import_seconds = excluded.import_seconds, ready_at = COALESCE(environments.ready_at, excluded.ready_at)",
            env.id.to_string(),
            text(env.tenant_id),
            env.display_name.clone(),
            env.org.to_ascii_lowercase(),
            now,
            env.ready_at.map(|at| at.0),
            i64::try_from(env.import_seconds).unwrap_or(i64::MAX)
        )?;
        Ok(())
    }

    /// Disables the systemusers of `environment` that the world file
    /// declared and no longer does (their ids not in `keep`). Dataverse
    /// deactivates a user rather than deleting it: its records stay owned.
    pub async fn disable_world_system_users(
        &mut self,
        environment: &EnvironmentId,
        keep: &[Uuid],
    ) -> Result<()> {
        let now = self.now().0;
        let stored = texts_in!(
            self,
            "SELECT id FROM system_users WHERE environment_id = $1 AND from_world AND NOT isdisabled",
            environment.to_string()
        );
        for id in not_kept(stored, keep)? {
            run!(
                self,
                "UPDATE system_users SET isdisabled = TRUE, modified_on = $2, versionnumber = versionnumber + 1 WHERE id = $1",
                id,
                now
            )?;
        }
        Ok(())
    }

    /// Inserts the systemuser (as the world file declares it), or updates
    /// the one that already stands for the same principal in the
    /// environment (whatever its id). Returns the id of the row kept.
    pub async fn upsert_system_user(&mut self, user: &SystemUser) -> Result<Uuid> {
        macro_rules! upsert_on {
            ($key:literal) => {
                concat!(
                    "INSERT INTO system_users (id, environment_id, application_id, user_object_id, fullname, domainname, \
                     accessmode, isdisabled, maker, created_on, modified_on, versionnumber, from_world) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1, TRUE) \
                     ON CONFLICT (environment_id, ",
                    $key,
                    ") DO UPDATE SET fullname = excluded.fullname, domainname = excluded.domainname, \
                     accessmode = excluded.accessmode, isdisabled = excluded.isdisabled, maker = excluded.maker, \
                     modified_on = excluded.modified_on, versionnumber = system_users.versionnumber + 1, from_world = TRUE \
                     WHERE system_users.fullname <> excluded.fullname OR system_users.domainname <> excluded.domainname \
                     OR system_users.accessmode <> excluded.accessmode OR system_users.isdisabled <> excluded.isdisabled \
                     OR system_users.maker <> excluded.maker OR NOT system_users.from_world"
                )
            };
        }
        let (upsert, lookup) = match user.kind {
            SystemUserKind::Application { .. } => (
                upsert_on!("application_id"),
                "SELECT id FROM system_users WHERE environment_id = $1 AND application_id = $2",
            ),
            SystemUserKind::Person { .. } => (
                upsert_on!("user_object_id"),
                "SELECT id FROM system_users WHERE environment_id = $1 AND user_object_id = $2",
            ),
        };
        self.write_system_user(upsert, user, user.modified_on)
            .await?;
        // The row kept may predate this call (and have another id), and an
        // unchanged row returns nothing from the upsert: look it up.
        let (application_id, user_object_id) = principal_columns(user.kind);
        let principal = opt_text(application_id.or(user_object_id));
        let (id,): (String,) = exec!(self, conn => sqlx::query_as(lookup)
            .bind(user.environment_id.to_string()).bind(principal).fetch_one(&mut *conn).await)?;
        uuid(&id)
    }

    /// Enables or disables a systemuser if it is still at `version`,
    /// bumping it; `false` when it changed or went away since it was read.
    pub async fn set_system_user_disabled(
        &mut self,
        id: Uuid,
        version: i64,
        isdisabled: bool,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE system_users SET isdisabled = $3, modified_on = $4, \
             versionnumber = versionnumber + 1 WHERE id = $1 AND versionnumber = $2",
            text(id),
            version,
            isdisabled,
            at.0
        )? == 1)
    }

    /// Adds a systemuser unless the environment has one for the same app or
    /// person already; `false` then.
    pub async fn insert_system_user(&mut self, user: &SystemUser) -> Result<bool> {
        let insert = "INSERT INTO system_users (id, environment_id, application_id, user_object_id, fullname, domainname, \
             accessmode, isdisabled, maker, created_on, modified_on, versionnumber) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) ON CONFLICT DO NOTHING";
        Ok(self
            .write_system_user(insert, user, user.created_on)
            .await?
            == 1)
    }

    /// Runs `sql`, an INSERT of a systemuser's row (an upsert or not), with
    /// the row's values in their one order: $1 to $9 its columns, $10 the
    /// time it is written at. Answers the rows it touched.
    async fn write_system_user(
        &mut self,
        sql: &'static str,
        user: &SystemUser,
        at: Timestamp,
    ) -> Result<u64> {
        let (application_id, user_object_id) = principal_columns(user.kind);
        Ok(run!(
            self,
            sql,
            text(user.id),
            user.environment_id.to_string(),
            opt_text(application_id),
            opt_text(user_object_id),
            user.fullname.clone(),
            user.domainname.clone(),
            user.accessmode,
            user.isdisabled,
            user.maker,
            at.0
        )?)
    }
}

/// A systemuser's `application_id` and `user_object_id` columns: one of the
/// two names who it stands for.
fn principal_columns(kind: SystemUserKind) -> (Option<Uuid>, Option<Uuid>) {
    match kind {
        SystemUserKind::Application { client_id } => (Some(client_id), None),
        SystemUserKind::Person { object_id } => (None, Some(object_id)),
    }
}
