//! Solutions (`solution`) and the zips StageSolution keeps for the import
//! that follows. Reads on [`Store`], writes on [`Tx`], and the reads an
//! import makes inside its transaction.

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, fetch_one, rows, run, set_excluded};
use super::{Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `solution`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub unique_name: String,
    pub friendly_name: String,
    /// As the package wrote it: `1.1.0.0`.
    pub version: String,
    pub is_managed: bool,
    pub publisher_unique_name: String,
    pub publisher_friendly_name: String,
    pub publisher_prefix: String,
    /// The systemuser whose import installed it.
    pub installed_by: Uuid,
    pub installed_on: Timestamp,
    pub modified_on: Timestamp,
    pub versionnumber: i64,
}

/// A zip StageSolution accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolutionUpload {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    pub zip: Vec<u8>,
    pub created_by: Uuid,
    pub created_on: Timestamp,
}

rows! {
    struct SolutionRow {
        environment_id: String,
        id: String,
        unique_name: String,
        friendly_name: String,
        version: String,
        is_managed: bool,
        publisher_unique_name: String,
        publisher_friendly_name: String,
        publisher_prefix: String,
        installed_by: String,
        installed_on: i64,
        modified_on: i64,
        versionnumber: i64,
    }
}

impl TryFrom<SolutionRow> for Solution {
    type Error = StoreError;
    fn try_from(r: SolutionRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            unique_name: r.unique_name,
            friendly_name: r.friendly_name,
            version: r.version,
            is_managed: r.is_managed,
            publisher_unique_name: r.publisher_unique_name,
            publisher_friendly_name: r.publisher_friendly_name,
            publisher_prefix: r.publisher_prefix,
            installed_by: uuid(&r.installed_by)?,
            installed_on: Timestamp(r.installed_on),
            modified_on: Timestamp(r.modified_on),
            versionnumber: r.versionnumber,
        })
    }
}

rows! {
    struct UploadRow {
        id: String,
        environment_id: String,
        zip: Vec<u8>,
        created_by: String,
        created_on: i64,
    }
}

impl TryFrom<UploadRow> for SolutionUpload {
    type Error = StoreError;
    fn try_from(r: UploadRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            zip: r.zip,
            created_by: uuid(&r.created_by)?,
            created_on: Timestamp(r.created_on),
        })
    }
}

macro_rules! solution_columns {
    () => {
        "environment_id, id, unique_name, friendly_name, version, is_managed, \
    publisher_unique_name, publisher_friendly_name, publisher_prefix, installed_by, installed_on, \
    modified_on, versionnumber"
    };
}

/// A solution by its unique name: the store's read, and the one an import
/// makes inside its transaction (from what it has written so far).
const SOLUTION_BY_NAME: &str = concat!(
    "SELECT ",
    solution_columns!(),
    " FROM solutions WHERE environment_id = $1 AND unique_name = $2"
);

impl Store {
    pub async fn solutions(&self, env: &EnvironmentId) -> Result<Vec<Solution>> {
        let sql = concat!(
            "SELECT ",
            solution_columns!(),
            " FROM solutions WHERE environment_id = $1 ORDER BY unique_name"
        );
        fetch_all!(self, SolutionRow, sql, env.to_string())
    }

    pub async fn solution_by_name(
        &self,
        env: &EnvironmentId,
        name: &str,
    ) -> Result<Option<Solution>> {
        fetch_one!(
            self,
            SolutionRow,
            SOLUTION_BY_NAME,
            env.to_string(),
            name.to_owned()
        )
    }

    pub async fn solution_upload(
        &self,
        env: &EnvironmentId,
        id: Uuid,
    ) -> Result<Option<SolutionUpload>> {
        fetch_one!(
            self,
            UploadRow,
            "SELECT id, environment_id, zip, created_by, created_on FROM solution_uploads WHERE environment_id = $1 AND id = $2",
            env.to_string(),
            text(id)
        )
    }
}

impl Tx {
    pub async fn insert_solution_upload(&mut self, u: &SolutionUpload) -> Result<()> {
        run!(
            self,
            "INSERT INTO solution_uploads (id, environment_id, zip, created_by, created_on) VALUES ($1, $2, $3, $4, $5)",
            text(u.id),
            u.environment_id.to_string(),
            u.zip.clone(),
            text(u.created_by),
            u.created_on.0
        )?;
        Ok(())
    }

    /// Forgets a staged zip (its import ended, or it expired); `false`
    /// when there was none.
    pub async fn delete_solution_upload(&mut self, id: Uuid) -> Result<bool> {
        let deleted = run!(self, "DELETE FROM solution_uploads WHERE id = $1", text(id))?;
        Ok(deleted > 0)
    }

    /// Forgets the staged zips made before `before`: how many.
    pub async fn delete_solution_uploads_before(&mut self, before: Timestamp) -> Result<u64> {
        let deleted = run!(
            self,
            "DELETE FROM solution_uploads WHERE created_on < $1",
            before.0
        )?;
        Ok(deleted)
    }

    /// Inserts the solution, or updates the one of the same unique name.
    pub async fn upsert_solution(&mut self, s: &Solution) -> Result<()> {
        let sql = concat!(
            "INSERT INTO solutions (",
            solution_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (environment_id, id) DO UPDATE SET ",
            set_excluded!(
                friendly_name,
                version,
                is_managed,
                publisher_unique_name,
                publisher_friendly_name,
                publisher_prefix,
                installed_by,
                installed_on,
                modified_on,
                versionnumber,
            )
        );
        run!(
            self,
            sql,
            s.environment_id.to_string(),
            text(s.id),
            s.unique_name.clone(),
            s.friendly_name.clone(),
            s.version.clone(),
            s.is_managed,
            s.publisher_unique_name.clone(),
            s.publisher_friendly_name.clone(),
            s.publisher_prefix.clone(),
            text(s.installed_by),
            s.installed_on.0,
            s.modified_on.0,
            s.versionnumber
        )?;
        Ok(())
    }

    /// Deletes a solution, and with `components` the components it
    /// brought. `false` when there was none.
    pub async fn delete_solution(
        &mut self,
        env: &EnvironmentId,
        id: Uuid,
        components: bool,
    ) -> Result<bool> {
        for sql in [
            "DELETE FROM connection_references WHERE environment_id = $1 AND solution_id = $2",
            "DELETE FROM workflows WHERE environment_id = $1 AND solution_id = $2",
            "DELETE FROM environment_variable_values WHERE environment_id = $1 AND definition_id IN \
             (SELECT id FROM environment_variable_definitions WHERE environment_id = $1 AND solution_id = $2)",
            "DELETE FROM environment_variable_definitions WHERE environment_id = $1 AND solution_id = $2",
        ] {
            if components {
                run!(self, sql, env.to_string(), text(id))?;
            }
        }
        let deleted = run!(
            self,
            "DELETE FROM solutions WHERE environment_id = $1 AND id = $2",
            env.to_string(),
            text(id)
        )?;
        Ok(deleted > 0)
    }
}

// Reads inside a transaction: an import decides from what it has written
// so far, so these read through the transaction's own connection.
impl Tx {
    pub async fn solution_by_name(
        &mut self,
        env: &EnvironmentId,
        name: &str,
    ) -> Result<Option<Solution>> {
        fetch_in!(
            self,
            SolutionRow,
            SOLUTION_BY_NAME,
            env.to_string(),
            name.to_owned()
        )
    }

    pub async fn solution(&mut self, env: &EnvironmentId, id: Uuid) -> Result<Option<Solution>> {
        let sql = concat!(
            "SELECT ",
            solution_columns!(),
            " FROM solutions WHERE environment_id = $1 AND id = $2"
        );
        fetch_in!(self, SolutionRow, sql, env.to_string(), text(id))
    }
}
