//! Desktop flow runs (`flowsession`), and what a run reads and writes of
//! the machines that run it: their behaviour as the world declares it, and
//! their accounts' sign-ins. A session's whole state is here, so any
//! replica can follow it or move it on, and a restart loses none.

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, opt_text, text, uuid};
use super::sql::{fetch_all, fetch_all_in, fetch_in, fetch_one, fetch_row, rows, run};
use super::{MachineAccount, Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `flowsession`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSession {
    pub id: Uuid,
    pub environment_id: EnvironmentId,
    /// The desktop flow (`regardingobjectid`).
    pub workflow_id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub connection_id: String,
    /// The connection reference's logical name, when the run named one.
    pub connection_reference: Option<String>,
    pub machine_group_id: Uuid,
    pub machine_id: Option<Uuid>,
    /// `flowsession_runmode`: 1 Attended, 2 Unattended.
    pub run_mode: i64,
    pub priority: String,
    pub timeout_seconds: i64,
    /// The inputs as given: a JSON object, serialized.
    pub inputs: Option<String>,
    pub outputs: Option<String>,
    pub callback_url: Option<String>,
    /// `flowsession_statuscode` (`padconnect_core::desktop_runs::SessionStatus`).
    pub statuscode: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_on: Timestamp,
    pub started_on: Option<Timestamp>,
    pub completed_on: Option<Timestamp>,
    pub modified_on: Timestamp,
    /// When the runner looks at it next; `None` once it is over.
    pub due_on: Option<Timestamp>,
    pub versionnumber: i64,
}

rows! {
    struct FlowSessionRow {
        id: String,
        environment_id: String,
        workflow_id: String,
        name: String,
        owner_id: String,
        connection_id: String,
        connection_reference: Option<String>,
        machine_group_id: String,
        machine_id: Option<String>,
        run_mode: i64,
        priority: String,
        timeout_seconds: i64,
        inputs: Option<String>,
        outputs: Option<String>,
        callback_url: Option<String>,
        statuscode: i64,
        error_code: Option<String>,
        error_message: Option<String>,
        created_on: i64,
        started_on: Option<i64>,
        completed_on: Option<i64>,
        modified_on: i64,
        due_on: Option<i64>,
        versionnumber: i64,
    }
}

impl TryFrom<FlowSessionRow> for FlowSession {
    type Error = StoreError;
    fn try_from(r: FlowSessionRow) -> Result<Self> {
        Ok(Self {
            id: uuid(&r.id)?,
            environment_id: env_id(&r.environment_id)?,
            workflow_id: uuid(&r.workflow_id)?,
            name: r.name,
            owner_id: uuid(&r.owner_id)?,
            connection_id: r.connection_id,
            connection_reference: r.connection_reference,
            machine_group_id: uuid(&r.machine_group_id)?,
            machine_id: r.machine_id.as_deref().map(uuid).transpose()?,
            run_mode: r.run_mode,
            priority: r.priority,
            timeout_seconds: r.timeout_seconds,
            inputs: r.inputs,
            outputs: r.outputs,
            callback_url: r.callback_url,
            statuscode: r.statuscode,
            error_code: r.error_code,
            error_message: r.error_message,
            created_on: Timestamp(r.created_on),
            started_on: r.started_on.map(Timestamp),
            completed_on: r.completed_on.map(Timestamp),
            modified_on: Timestamp(r.modified_on),
            due_on: r.due_on.map(Timestamp),
            versionnumber: r.versionnumber,
        })
    }
}

/// A listing's columns: [`columns`] with the inputs and outputs left empty.
const LIST_SQL: &str = "SELECT id, environment_id, workflow_id, name, owner_id, connection_id, connection_reference, \
     machine_group_id, machine_id, run_mode, priority, timeout_seconds, NULL AS inputs, NULL AS outputs, \
     callback_url, statuscode, error_code, error_message, created_on, started_on, completed_on, modified_on, \
     due_on, versionnumber FROM flow_sessions WHERE environment_id = $1 AND ($2 IS NULL OR owner_id = $2) \
     ORDER BY created_on DESC, id LIMIT $3";

macro_rules! columns {
    () => {
        "id, environment_id, workflow_id, name, owner_id, connection_id, connection_reference, \
         machine_group_id, machine_id, run_mode, priority, timeout_seconds, inputs, outputs, \
         callback_url, statuscode, error_code, error_message, created_on, started_on, \
         completed_on, modified_on, due_on, versionnumber"
    };
}

/// How a machine behaves when it runs flows, as the world declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRuntime {
    /// `false`: the machine does not answer.
    pub online: bool,
    /// How long a run on it takes.
    pub run_seconds: i64,
    /// A run-time error code every run on it fails with.
    pub fail_with: Option<String>,
    /// Bad sign-ins after which an account is locked out; 0: never.
    pub lockout_threshold: i64,
}

impl Default for MachineRuntime {
    fn default() -> Self {
        Self {
            online: true,
            run_seconds: 1,
            fail_with: None,
            lockout_threshold: 10,
        }
    }
}

rows! {
    struct RunnerMachineRow {
        id: String,
        name: String,
        online: i64,
        run_seconds: i64,
        fail_with: Option<String>,
        lockout_threshold: i64,
        running: i64,
    }
}

/// A machine of a group as the runner sees it: how it behaves, and how
/// many runs it is running now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerMachine {
    pub id: Uuid,
    pub name: String,
    pub runtime: MachineRuntime,
    pub running: i64,
}

impl TryFrom<RunnerMachineRow> for RunnerMachine {
    type Error = StoreError;
    fn try_from(r: RunnerMachineRow) -> Result<Self> {
        let runtime = MachineRuntime {
            online: r.online == 1,
            run_seconds: r.run_seconds,
            fail_with: r.fail_with,
            lockout_threshold: r.lockout_threshold,
        };
        Ok(Self {
            id: uuid(&r.id)?,
            name: r.name,
            runtime,
            running: r.running,
        })
    }
}

/// A machine account as a sign-in sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLogon {
    pub account: MachineAccount,
    /// Its logon right on the machine (KB 5021230).
    pub can_log_on: bool,
    /// Its user is signed in on the machine now.
    pub signed_in: bool,
    pub failed_logons: i64,
    pub locked_until: Option<Timestamp>,
}

impl std::fmt::Debug for AccountLogon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLogon")
            .field("account", &self.account)
            .field("failed_logons", &self.failed_logons)
            .finish_non_exhaustive()
    }
}

rows! {
    struct AccountLogonRow {
        machine_id: String,
        username: String,
        password_hash: String,
        version: i64,
        can_log_on: i64,
        signed_in: i64,
        failed_logons: i64,
        locked_until: Option<i64>,
    }
}

impl TryFrom<AccountLogonRow> for AccountLogon {
    type Error = StoreError;
    fn try_from(r: AccountLogonRow) -> Result<Self> {
        Ok(Self {
            account: MachineAccount {
                machine_id: uuid(&r.machine_id)?,
                username: r.username,
                password_hash: r.password_hash,
                version: r.version,
            },
            can_log_on: r.can_log_on == 1,
            signed_in: r.signed_in == 1,
            failed_logons: r.failed_logons,
            locked_until: r.locked_until.map(Timestamp),
        })
    }
}

impl Store {
    pub async fn flow_session(&self, id: Uuid) -> Result<Option<FlowSession>> {
        let sql = concat!("SELECT ", columns!(), " FROM flow_sessions WHERE id = $1");
        fetch_one!(self, FlowSessionRow, sql, text(id))
    }

    /// The environment's runs, newest first, at most `limit`; only
    /// `owner`'s when given. Without their inputs and outputs (up to 2 MB
    /// each), which a listing never shows.
    pub async fn flow_sessions(
        &self,
        env: &EnvironmentId,
        owner: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<FlowSession>> {
        fetch_all!(
            self,
            FlowSessionRow,
            LIST_SQL,
            env.to_string(),
            owner.map(text),
            limit
        )
    }

    /// The ids of the runs not over whose time to move on has come, the
    /// longest overdue first.
    pub async fn due_flow_sessions(&self, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
        let rows: Vec<(String,)> = super::sql::fetch_rows!(
            self,
            (String,),
            // The longest overdue first: a group whose runs keep waiting for
            // a machine cannot hold the batch, they go to its end each time.
            "SELECT id FROM flow_sessions WHERE due_on IS NOT NULL AND due_on <= $1 ORDER BY due_on, id LIMIT $2",
            now.0,
            limit
        )?;
        rows.iter().map(|(id,)| uuid(id)).collect()
    }

    /// How many runs were started through a connection since `since`.
    pub async fn runs_since(
        &self,
        env: &EnvironmentId,
        connection_id: &str,
        since: Timestamp,
    ) -> Result<i64> {
        let row: Option<(i64,)> = fetch_row!(
            self,
            (i64,),
            "SELECT COUNT(*) FROM flow_sessions WHERE environment_id = $1 AND connection_id = $2 AND created_on >= $3",
            env.to_string(),
            connection_id.to_owned(),
            since.0
        )?;
        Ok(row.map_or(0, |(n,)| n))
    }

    /// How many runs wait for a machine of the group.
    pub async fn queued_runs(&self, group_id: Uuid, waiting: i64) -> Result<i64> {
        let row: Option<(i64,)> = fetch_row!(
            self,
            (i64,),
            "SELECT COUNT(*) FROM flow_sessions WHERE machine_group_id = $1 AND statuscode = $2",
            text(group_id),
            waiting
        )?;
        Ok(row.map_or(0, |(n,)| n))
    }
}

impl Tx {
    pub async fn insert_flow_session(&mut self, s: &FlowSession) -> Result<()> {
        let sql = concat!(
            "INSERT INTO flow_sessions (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24)"
        );
        run!(
            self,
            sql,
            text(s.id),
            s.environment_id.to_string(),
            text(s.workflow_id),
            s.name.clone(),
            text(s.owner_id),
            s.connection_id.clone(),
            s.connection_reference.clone(),
            text(s.machine_group_id),
            opt_text(s.machine_id),
            s.run_mode,
            s.priority.clone(),
            s.timeout_seconds,
            s.inputs.clone(),
            s.outputs.clone(),
            s.callback_url.clone(),
            s.statuscode,
            s.error_code.clone(),
            s.error_message.clone(),
            s.created_on.0,
            s.started_on.map(|t| t.0),
            s.completed_on.map(|t| t.0),
            s.modified_on.0,
            s.due_on.map(|t| t.0),
            s.versionnumber
        )?;
        Ok(())
    }

    /// Takes a run that is not over for this transaction, and reads it.
    /// `None` when it is over or gone. On PostgreSQL the runner skips a
    /// row another replica holds (`skip_held`), and a caller's cancel waits
    /// for it; SQLite runs one writer at a time.
    pub async fn claim_flow_session(
        &mut self,
        id: Uuid,
        skip_held: bool,
    ) -> Result<Option<FlowSession>> {
        let claimed = match &mut self.inner {
            TxInner::Sqlite(t) => sqlx::query(
                "UPDATE flow_sessions SET versionnumber = versionnumber + 1 WHERE id = $1 AND due_on IS NOT NULL",
            )
            .bind(text(id))
            .execute(&mut **t)
            .await?
            .rows_affected(),
            TxInner::Postgres(t) => {
                let sql = match skip_held {
                    true => "UPDATE flow_sessions SET versionnumber = versionnumber + 1 WHERE id = \
                             (SELECT id FROM flow_sessions WHERE id = $1 AND due_on IS NOT NULL FOR UPDATE SKIP LOCKED)",
                    false => "UPDATE flow_sessions SET versionnumber = versionnumber + 1 WHERE id = $1 AND due_on IS NOT NULL",
                };
                sqlx::query(sql).bind(text(id)).execute(&mut **t).await?.rows_affected()
            }
        };
        if claimed == 0 {
            return Ok(None);
        }
        let sql = concat!("SELECT ", columns!(), " FROM flow_sessions WHERE id = $1");
        fetch_in!(self, FlowSessionRow, sql, text(id))
    }

    /// How many waiting runs of the session's group go before it: a
    /// higher priority (`high` before the rest), or the same one and
    /// queued earlier ("based on priority and request time", KB 5004537).
    pub async fn runs_ahead(&mut self, session: &FlowSession, waiting: i64) -> Result<i64> {
        let row: Option<(i64,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT COUNT(*) FROM flow_sessions s WHERE s.machine_group_id = $1 AND s.statuscode = $2 AND s.id <> $3 \
             AND (CASE WHEN LOWER(s.priority) = 'high' THEN 0 ELSE 1 END < CASE WHEN LOWER($4) = 'high' THEN 0 ELSE 1 END \
                  OR (CASE WHEN LOWER(s.priority) = 'high' THEN 0 ELSE 1 END = CASE WHEN LOWER($4) = 'high' THEN 0 ELSE 1 END \
                      AND (s.created_on < $5 OR (s.created_on = $5 AND s.id < $3))))",
        )
        .bind(text(session.machine_group_id))
        .bind(waiting)
        .bind(text(session.id))
        .bind(session.priority.clone())
        .bind(session.created_on.0)
        .fetch_optional(&mut *conn)
        .await)?;
        Ok(row.map_or(0, |(n,)| n))
    }

    /// Writes what a run's progress changes: its machine, status, error,
    /// outputs, times and next look.
    pub async fn update_flow_session(&mut self, s: &FlowSession) -> Result<()> {
        run!(
            self,
            "UPDATE flow_sessions SET machine_id = $2, statuscode = $3, error_code = $4, error_message = $5, \
             outputs = $6, started_on = $7, completed_on = $8, modified_on = $9, due_on = $10 WHERE id = $1",
            text(s.id),
            opt_text(s.machine_id),
            s.statuscode,
            s.error_code.clone(),
            s.error_message.clone(),
            s.outputs.clone(),
            s.started_on.map(|t| t.0),
            s.completed_on.map(|t| t.0),
            s.modified_on.0,
            s.due_on.map(|t| t.0)
        )?;
        Ok(())
    }

    /// The machines of a group with the runs each is running, read after
    /// taking them for this transaction on PostgreSQL, so two replicas do
    /// not both hand a machine's one session out.
    pub async fn runner_machines(
        &mut self,
        group_id: Uuid,
        running: i64,
    ) -> Result<Vec<RunnerMachine>> {
        if let TxInner::Postgres(t) = &mut self.inner {
            sqlx::query("SELECT id FROM machines WHERE group_id = $1 ORDER BY id FOR UPDATE")
                .bind(text(group_id))
                .execute(&mut **t)
                .await?;
        }
        fetch_all_in!(
            self,
            RunnerMachineRow,
            "SELECT m.id, m.name, m.online, m.run_seconds, m.fail_with, m.lockout_threshold, \
             (SELECT COUNT(*) FROM flow_sessions s WHERE s.machine_id = m.id AND s.statuscode = $2) AS running \
             FROM machines m WHERE m.group_id = $1 ORDER BY m.name, m.id",
            text(group_id),
            running
        )
    }

    /// The accounts of a machine, with their logon facts.
    pub async fn account_logons(&mut self, machine_id: Uuid) -> Result<Vec<AccountLogon>> {
        fetch_all_in!(
            self,
            AccountLogonRow,
            "SELECT machine_id, username, password_hash, version, can_log_on, signed_in, failed_logons, \
             locked_until FROM machine_accounts WHERE machine_id = $1 ORDER BY username_key",
            text(machine_id)
        )
    }

    /// Records an account's bad sign-ins since its last good one, and
    /// until when it is locked out.
    pub async fn record_logon(
        &mut self,
        machine_id: Uuid,
        username: &str,
        failed_logons: i64,
        locked_until: Option<Timestamp>,
    ) -> Result<()> {
        run!(
            self,
            "UPDATE machine_accounts SET failed_logons = $3, locked_until = $4 WHERE machine_id = $1 AND username_key = $2",
            text(machine_id),
            MachineAccount::key(username),
            failed_logons,
            locked_until.map(|t| t.0)
        )?;
        Ok(())
    }

    /// Sets how a machine behaves; the world file is its source.
    pub async fn set_machine_runtime(
        &mut self,
        machine_id: Uuid,
        r: &MachineRuntime,
    ) -> Result<()> {
        run!(
            self,
            "UPDATE machines SET online = $2, run_seconds = $3, fail_with = $4, lockout_threshold = $5 WHERE id = $1",
            text(machine_id),
            i64::from(r.online),
            r.run_seconds,
            r.fail_with.clone(),
            r.lockout_threshold
        )?;
        Ok(())
    }

    /// Sets an account's logon right and whether its user is signed in on
    /// the machine; the world file is their source.
    pub async fn set_account_session(
        &mut self,
        machine_id: Uuid,
        username: &str,
        can_log_on: bool,
        signed_in: bool,
    ) -> Result<()> {
        run!(
            self,
            "UPDATE machine_accounts SET can_log_on = $3, signed_in = $4 WHERE machine_id = $1 AND username_key = $2",
            text(machine_id),
            MachineAccount::key(username),
            i64::from(can_log_on),
            i64::from(signed_in)
        )?;
        Ok(())
    }

    /// The heartbeat of every online machine, at `now`.
    pub async fn beat_online_machines(&mut self, now: Timestamp) -> Result<u64> {
        let beaten = run!(
            self,
            "UPDATE machines SET lastheartbeatdate = $1 WHERE online = 1",
            now.0
        )?;
        Ok(beaten)
    }
}
