//! Connection references (`connectionreference`): what a solution's flows
//! use, and the connection each is bound to.

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, rows, run, set_excluded};
use super::{Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `connectionreference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReference {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub solution_id: Uuid,
    pub logical_name: String,
    pub display_name: String,
    /// `/providers/Microsoft.PowerApps/apis/shared_uiflow`.
    pub connector_id: String,
    /// The connection it is bound to, as written (`connectionid`); `None`
    /// while unbound.
    pub connection_id: Option<String>,
    pub description: String,
    pub owner_id: Uuid,
    pub modified_on: Timestamp,
    pub versionnumber: i64,
}

rows! {
    struct ReferenceRow {
        environment_id: String,
        id: String,
        solution_id: String,
        logical_name: String,
        display_name: String,
        connector_id: String,
        connection_id: Option<String>,
        description: String,
        owner_id: String,
        modified_on: i64,
        versionnumber: i64,
    }
}

impl TryFrom<ReferenceRow> for ConnectionReference {
    type Error = StoreError;
    fn try_from(r: ReferenceRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            solution_id: uuid(&r.solution_id)?,
            logical_name: r.logical_name,
            display_name: r.display_name,
            connector_id: r.connector_id,
            connection_id: r.connection_id,
            description: r.description,
            owner_id: uuid(&r.owner_id)?,
            modified_on: Timestamp(r.modified_on),
            versionnumber: r.versionnumber,
        })
    }
}

macro_rules! reference_columns {
    () => {
        "environment_id, id, solution_id, logical_name, display_name, \
    connector_id, connection_id, description, owner_id, modified_on, versionnumber"
    };
}

impl Store {
    pub async fn connection_references(
        &self,
        env: &EnvironmentId,
    ) -> Result<Vec<ConnectionReference>> {
        let sql = concat!(
            "SELECT ",
            reference_columns!(),
            " FROM connection_references WHERE environment_id = $1 ORDER BY logical_name"
        );
        fetch_all!(self, ReferenceRow, sql, env.to_string())
    }
}

impl Tx {
    /// Inserts the reference, or updates the one of the same logical name
    /// (its binding included).
    pub async fn upsert_connection_reference(&mut self, r: &ConnectionReference) -> Result<()> {
        let sql = concat!(
            "INSERT INTO connection_references (",
            reference_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (environment_id, id) DO UPDATE SET ",
            set_excluded!(
                solution_id,
                display_name,
                connector_id,
                connection_id,
                description,
                modified_on,
                versionnumber,
            )
        );
        run!(
            self,
            sql,
            r.environment_id.to_string(),
            text(r.id),
            text(r.solution_id),
            r.logical_name.clone(),
            r.display_name.clone(),
            r.connector_id.clone(),
            r.connection_id.clone(),
            r.description.clone(),
            text(r.owner_id),
            r.modified_on.0,
            r.versionnumber
        )?;
        Ok(())
    }

    /// Binds a connection reference to a connection (`None`: unbinds it) if
    /// it is still at `versionnumber` (the version read); `false` when it
    /// changed or went away meanwhile.
    pub async fn set_reference_connection(
        &mut self,
        r: &ConnectionReference,
        connection_id: Option<String>,
        versionnumber: i64,
    ) -> Result<bool> {
        let now = self.now().0;
        let changed = run!(
            self,
            "UPDATE connection_references SET connection_id = $1, versionnumber = $2, modified_on = $3 \
             WHERE environment_id = $4 AND id = $5 AND versionnumber = $6",
            connection_id,
            versionnumber,
            now,
            r.environment_id.to_string(),
            text(r.id),
            r.versionnumber
        )?;
        Ok(changed == 1)
    }
}

// Reads inside a transaction: an import decides from what it has written
// so far, so these read through the transaction's own connection.
impl Tx {
    pub async fn connection_reference_by_name(
        &mut self,
        env: &EnvironmentId,
        logical_name: &str,
    ) -> Result<Option<ConnectionReference>> {
        let sql = concat!(
            "SELECT ",
            reference_columns!(),
            " FROM connection_references WHERE environment_id = $1 AND logical_name = $2"
        );
        fetch_in!(
            self,
            ReferenceRow,
            sql,
            env.to_string(),
            logical_name.to_owned()
        )
    }
}
