//! System jobs (`asyncoperation`): a solution import started by
//! ImportSolutionAsync, until it ends. The job's whole state is here, so
//! any replica can poll it or run it, and a restart loses none.

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, fetch_one, rows, run};
use super::{Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `asyncoperation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncOperation {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    /// `ImportSolution`.
    pub name: String,
    /// `ImportSolutionAsync`.
    pub message_name: String,
    /// 54 Execute Async Request (what an ImportSolutionAsync job is).
    pub operation_type: i64,
    /// 0 Ready, 1 Suspended, 2 Locked, 3 Completed.
    pub statecode: i64,
    /// 0 Waiting For Resources, 20 In Progress, 30 Succeeded, 31 Failed, ...
    pub statuscode: i64,
    pub owner_id: Uuid,
    /// The ImportJobKey RetrieveSolutionImportResult takes.
    pub import_job_id: Option<Uuid>,
    /// What the job was asked, as its runner wrote it (JSON).
    pub request: String,
    /// What it found, once done (JSON).
    pub result: Option<String>,
    pub message: Option<String>,
    pub friendly_message: Option<String>,
    pub error_code: Option<i64>,
    pub created_on: Timestamp,
    pub started_on: Option<Timestamp>,
    pub completed_on: Option<Timestamp>,
    /// Runs once this has passed.
    pub due_on: Timestamp,
}

impl AsyncOperation {
    /// 3 Completed: Succeeded, Failed or Canceled.
    pub fn is_done(&self) -> bool {
        self.statecode == 3
    }
}

rows! {
    struct AsyncOperationRow {
        id: String,
        environment_id: String,
        name: String,
        message_name: String,
        operation_type: i64,
        statecode: i64,
        statuscode: i64,
        owner_id: String,
        import_job_id: Option<String>,
        request: String,
        result: Option<String>,
        message: Option<String>,
        friendly_message: Option<String>,
        error_code: Option<i64>,
        created_on: i64,
        started_on: Option<i64>,
        completed_on: Option<i64>,
        due_on: i64,
    }
}

impl TryFrom<AsyncOperationRow> for AsyncOperation {
    type Error = StoreError;
    fn try_from(r: AsyncOperationRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            name: r.name,
            message_name: r.message_name,
            operation_type: r.operation_type,
            statecode: r.statecode,
            statuscode: r.statuscode,
            owner_id: uuid(&r.owner_id)?,
            import_job_id: r.import_job_id.as_deref().map(uuid).transpose()?,
            request: r.request,
            result: r.result,
            message: r.message,
            friendly_message: r.friendly_message,
            error_code: r.error_code,
            created_on: Timestamp(r.created_on),
            started_on: r.started_on.map(Timestamp),
            completed_on: r.completed_on.map(Timestamp),
            due_on: Timestamp(r.due_on),
        })
    }
}

macro_rules! columns {
    () => {
        "id, environment_id, name, message_name, operation_type, statecode, statuscode, owner_id, \
         import_job_id, request, result, message, friendly_message, error_code, created_on, \
         started_on, completed_on, due_on"
    };
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 30 Succeeded or 31 Failed.
    pub statuscode: i64,
    pub result: String,
    pub message: Option<String>,
    pub error_code: Option<i64>,
}

impl Store {
    pub async fn async_operation(&self, id: Uuid) -> Result<Option<AsyncOperation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM async_operations WHERE id = $1"
        );
        fetch_one!(self, AsyncOperationRow, sql, text(id))
    }

    pub async fn async_operations(&self, env: &EnvironmentId) -> Result<Vec<AsyncOperation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM async_operations WHERE environment_id = $1 ORDER BY created_on, id"
        );
        fetch_all!(self, AsyncOperationRow, sql, env.to_string())
    }

    pub async fn async_operation_by_job(
        &self,
        env: &EnvironmentId,
        job: Uuid,
    ) -> Result<Option<AsyncOperation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM async_operations WHERE environment_id = $1 AND import_job_id = $2"
        );
        fetch_one!(self, AsyncOperationRow, sql, env.to_string(), text(job))
    }

    /// The ids of the jobs not done whose time has come, oldest first.
    pub async fn due_async_operations(&self, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
        let rows: Vec<(String,)> = super::sql::fetch_rows!(
            self,
            (String,),
            "SELECT id FROM async_operations WHERE statecode <> 3 AND due_on <= $1 ORDER BY due_on, id LIMIT $2",
            now.0,
            limit
        )?;
        rows.iter().map(|(id,)| uuid(id)).collect()
    }
}

impl Tx {
    pub async fn insert_async_operation(&mut self, op: &AsyncOperation) -> Result<()> {
        let sql = concat!(
            "INSERT INTO async_operations (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        run!(
            self,
            sql,
            text(op.id),
            op.environment_id.to_string(),
            op.name.clone(),
            op.message_name.clone(),
            op.operation_type,
            op.statecode,
            op.statuscode,
            text(op.owner_id),
            op.import_job_id.map(text),
            op.request.clone(),
            op.result.clone(),
            op.message.clone(),
            op.friendly_message.clone(),
            op.error_code,
            op.created_on.0,
            op.started_on.map(|t| t.0),
            op.completed_on.map(|t| t.0),
            op.due_on.0
        )?;
        Ok(())
    }

    /// Takes a job that is not done for this transaction, and reads it.
    /// `None` when it is done already, gone, or being run by another
    /// transaction: on PostgreSQL the claim skips a row another replica
    /// holds (a poll then answers the job as it is, instead of waiting for
    /// the import); SQLite runs one writer at a time.
    pub async fn claim_async_operation(&mut self, id: Uuid) -> Result<Option<AsyncOperation>> {
        let claimed = match &mut self.inner {
            TxInner::Sqlite(t) => {
                sqlx::query(
                    "UPDATE async_operations SET statecode = 2, statuscode = 20 WHERE id = $1 AND statecode <> 3",
                )
                .bind(text(id))
                .execute(&mut **t)
                .await?
                .rows_affected()
            }
            TxInner::Postgres(t) => {
                sqlx::query(
                    "UPDATE async_operations SET statecode = 2, statuscode = 20 WHERE id = \
                     (SELECT id FROM async_operations WHERE id = $1 AND statecode <> 3 FOR UPDATE SKIP LOCKED)",
                )
                .bind(text(id))
                .execute(&mut **t)
                .await?
                .rows_affected()
            }
        };
        if claimed == 0 {
            return Ok(None);
        }
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM async_operations WHERE id = $1"
        );
        fetch_in!(self, AsyncOperationRow, sql, text(id))
    }

    /// Ends a claimed job.
    pub async fn finish_async_operation(&mut self, id: Uuid, outcome: &Outcome) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            // The request is dropped: it may hold environment variable
            // values, and nothing reads it once the job has ended.
            "UPDATE async_operations SET statecode = 3, statuscode = $1, result = $2, message = $3, \
             friendly_message = $3, error_code = $4, completed_on = $5, request = '{}' WHERE id = $6",
            outcome.statuscode,
            outcome.result.clone(),
            outcome.message.clone(),
            outcome.error_code,
            now,
            text(id)
        )?;
        Ok(())
    }
}
