//! The portal's queries: sign-in sessions, users by object id, and the
//! machine group password (which the Dataverse upsert deliberately keeps).

use uuid::Uuid;

use super::sql::{exec, fetch_row};
use super::{Result, Store, StoreError, Tx, TxInner, model::*};

/// A signed-in portal session, found by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub tenant_id: Uuid,
    pub user_object_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

fn uuid(value: &str) -> Result<Uuid> {
    Uuid::try_parse(value).map_err(|_| StoreError::Corrupt(format!("uuid '{value}'")))
}

fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Runs one statement on the transaction and returns the rows it touched.
macro_rules! run {
    ($tx:expr, $sql:expr $(, $arg:expr)*) => {
        exec!($tx, conn => sqlx::query($sql)$(.bind($arg))*.execute(&mut *conn).await.map(|done| done.rows_affected()))
    };
}

impl Store {
    /// The session whose token hashes to `token_hash`, if it has not expired
    /// by `now`.
    pub async fn portal_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PortalSession>> {
        let row: Option<(String, String, i64, i64)> = fetch_row!(
            self,
            (String, String, i64, i64),
            "SELECT tenant_id, user_object_id, created_at, expires_at FROM portal_sessions \
             WHERE token_hash = $1 AND expires_at > $2",
            token_hash.to_owned(),
            now.0
        )?;
        row.map(|(tenant, user, created, expires)| {
            Ok(PortalSession {
                tenant_id: uuid(&tenant)?,
                user_object_id: uuid(&user)?,
                created_at: Timestamp(created),
                expires_at: Timestamp(expires),
            })
        })
        .transpose()
    }

    pub async fn user_by_object_id(&self, object_id: Uuid) -> Result<Option<User>> {
        let row: Option<(String, String, String, String, String)> = fetch_row!(
            self,
            (String, String, String, String, String),
            "SELECT tenant_id, object_id, upn, display_name, password_hash FROM users WHERE object_id = $1",
            text(object_id)
        )?;
        row.map(|(tenant, object, upn, display_name, password_hash)| {
            Ok(User {
                tenant_id: uuid(&tenant)?,
                object_id: uuid(&object)?,
                upn,
                display_name,
                password_hash,
            })
        })
        .transpose()
    }
}

impl Tx {
    /// Keeps a new session; sessions already expired are forgotten on the way,
    /// so the table holds live sessions only.
    pub async fn insert_portal_session(
        &mut self,
        token_hash: &str,
        session: &PortalSession,
    ) -> Result<()> {
        run!(
            self,
            "DELETE FROM portal_sessions WHERE expires_at <= $1",
            session.created_at.0
        )?;
        run!(
            self,
            "INSERT INTO portal_sessions (token_hash, tenant_id, user_object_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            token_hash.to_owned(),
            text(session.tenant_id),
            text(session.user_object_id),
            session.created_at.0,
            session.expires_at.0
        )?;
        Ok(())
    }

    /// `false` when there was no such session.
    pub async fn delete_portal_session(&mut self, token_hash: &str) -> Result<bool> {
        Ok(run!(
            self,
            "DELETE FROM portal_sessions WHERE token_hash = $1",
            token_hash.to_owned()
        )? == 1)
    }

    /// Sets (or replaces) a group's password hash, bumping its version.
    /// `false` when there is no such group.
    pub async fn set_machine_group_password(
        &mut self,
        id: Uuid,
        password_hash: &str,
        by: Uuid,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE machine_groups SET password_hash = $2, modified_by = $3, modified_on = $4, \
             versionnumber = versionnumber + 1 WHERE id = $1",
            text(id),
            password_hash.to_owned(),
            text(by),
            at.0
        )? == 1)
    }
}
