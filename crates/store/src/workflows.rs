//! Flows and other processes (`workflow`) that solutions bring.

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, fetch_one, rows, run, set_excluded};
use super::{Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `workflow`: a cloud flow (category 5), a desktop flow (6), or
/// another process a solution carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub solution_id: Uuid,
    pub name: String,
    pub category: i64,
    pub ui_flow_type: Option<i64>,
    /// 0 Draft (off), 1 Activated (on), 2 Suspended.
    pub statecode: i64,
    /// 1 Draft, 2 Activated, 3 CompanyDLPViolation.
    pub statuscode: i64,
    pub client_data: Option<String>,
    pub owner_id: Uuid,
    pub created_on: Timestamp,
    pub modified_on: Timestamp,
    pub versionnumber: i64,
}

rows! {
    struct WorkflowRow {
        environment_id: String,
        id: String,
        solution_id: String,
        name: String,
        category: i64,
        ui_flow_type: Option<i64>,
        statecode: i64,
        statuscode: i64,
        client_data: Option<String>,
        owner_id: String,
        created_on: i64,
        modified_on: i64,
        versionnumber: i64,
    }
}

impl TryFrom<WorkflowRow> for Workflow {
    type Error = StoreError;
    fn try_from(r: WorkflowRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            solution_id: uuid(&r.solution_id)?,
            name: r.name,
            category: r.category,
            ui_flow_type: r.ui_flow_type,
            statecode: r.statecode,
            statuscode: r.statuscode,
            client_data: r.client_data,
            owner_id: uuid(&r.owner_id)?,
            created_on: Timestamp(r.created_on),
            modified_on: Timestamp(r.modified_on),
            versionnumber: r.versionnumber,
        })
    }
}

macro_rules! workflow_columns {
    () => {
        "environment_id, id, solution_id, name, category, ui_flow_type, \
    statecode, statuscode, client_data, owner_id, created_on, modified_on, versionnumber"
    };
}

impl Store {
    pub async fn workflows(&self, env: &EnvironmentId) -> Result<Vec<Workflow>> {
        let sql = concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows WHERE environment_id = $1 ORDER BY name, id"
        );
        fetch_all!(self, WorkflowRow, sql, env.to_string())
    }

    pub async fn workflow(&self, env: &EnvironmentId, id: Uuid) -> Result<Option<Workflow>> {
        let sql = concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows WHERE environment_id = $1 AND id = $2"
        );
        fetch_one!(self, WorkflowRow, sql, env.to_string(), text(id))
    }
}

impl Tx {
    /// Inserts the workflow, or updates the one of the same id.
    pub async fn upsert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let sql = concat!(
            "INSERT INTO workflows (",
            workflow_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (environment_id, id) DO UPDATE SET ",
            set_excluded!(
                solution_id,
                name,
                category,
                ui_flow_type,
                statecode,
                statuscode,
                client_data,
                owner_id,
                modified_on,
                versionnumber,
            )
        );
        run!(
            self,
            sql,
            w.environment_id.to_string(),
            text(w.id),
            text(w.solution_id),
            w.name.clone(),
            w.category,
            w.ui_flow_type,
            w.statecode,
            w.statuscode,
            w.client_data.clone(),
            text(w.owner_id),
            w.created_on.0,
            w.modified_on.0,
            w.versionnumber
        )?;
        Ok(())
    }

    /// Sets a workflow's state if it is still at `versionnumber` (the
    /// version read); `false` when it changed or went away meanwhile.
    pub async fn set_workflow_state(
        &mut self,
        w: &Workflow,
        statecode: i64,
        statuscode: i64,
        versionnumber: i64,
    ) -> Result<bool> {
        let now = self.now().0;
        let changed = run!(
            self,
            "UPDATE workflows SET statecode = $1, statuscode = $2, versionnumber = $3, modified_on = $4 \
             WHERE environment_id = $5 AND id = $6 AND versionnumber = $7",
            statecode,
            statuscode,
            versionnumber,
            now,
            w.environment_id.to_string(),
            text(w.id),
            w.versionnumber
        )?;
        Ok(changed == 1)
    }
}

// Reads inside a transaction: an import decides from what it has written
// so far, so these read through the transaction's own connection.
impl Tx {
    pub async fn workflow(&mut self, env: &EnvironmentId, id: Uuid) -> Result<Option<Workflow>> {
        let sql = concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows WHERE environment_id = $1 AND id = $2"
        );
        fetch_in!(self, WorkflowRow, sql, env.to_string(), text(id))
    }
}
