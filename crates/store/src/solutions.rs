//! Solutions and the components an import brings: connection references,
//! workflows (flows), environment variables, and the zips StageSolution
//! keeps for the import that follows. Reads on [`Store`], writes on [`Tx`].

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, fetch_one, rows, run};
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

/// A row of `environmentvariabledefinition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDefinition {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub solution_id: Uuid,
    pub schema_name: String,
    pub display_name: String,
    /// 100000000 String ... 100000005 Secret.
    pub kind: i64,
    pub default_value: Option<String>,
    pub is_required: bool,
    pub api_id: Option<String>,
    pub parameter_key: Option<String>,
    pub modified_on: Timestamp,
}

/// A row of `environmentvariablevalue`: the current value of a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableValue {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub definition_id: Uuid,
    pub schema_name: String,
    pub value: String,
    pub modified_on: Timestamp,
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

    struct DefinitionRow {
        environment_id: String,
        id: String,
        solution_id: String,
        schema_name: String,
        display_name: String,
        variable_type: i64,
        default_value: Option<String>,
        is_required: bool,
        api_id: Option<String>,
        parameter_key: Option<String>,
        modified_on: i64,
    }

    struct ValueRow {
        environment_id: String,
        id: String,
        definition_id: String,
        schema_name: String,
        value: String,
        modified_on: i64,
    }

    struct UploadRow {
        id: String,
        environment_id: String,
        zip: Vec<u8>,
        created_by: String,
        created_on: i64,
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

impl TryFrom<DefinitionRow> for VariableDefinition {
    type Error = StoreError;
    fn try_from(r: DefinitionRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            solution_id: uuid(&r.solution_id)?,
            schema_name: r.schema_name,
            display_name: r.display_name,
            kind: r.variable_type,
            default_value: r.default_value,
            is_required: r.is_required,
            api_id: r.api_id,
            parameter_key: r.parameter_key,
            modified_on: Timestamp(r.modified_on),
        })
    }
}

impl TryFrom<ValueRow> for VariableValue {
    type Error = StoreError;
    fn try_from(r: ValueRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            definition_id: uuid(&r.definition_id)?,
            schema_name: r.schema_name,
            value: r.value,
            modified_on: Timestamp(r.modified_on),
        })
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
macro_rules! reference_columns {
    () => {
        "environment_id, id, solution_id, logical_name, display_name, \
    connector_id, connection_id, description, owner_id, modified_on, versionnumber"
    };
}
macro_rules! workflow_columns {
    () => {
        "environment_id, id, solution_id, name, category, ui_flow_type, \
    statecode, statuscode, client_data, owner_id, created_on, modified_on, versionnumber"
    };
}
macro_rules! definition_columns {
    () => {
        "environment_id, id, solution_id, schema_name, display_name, variable_type, \
    default_value, is_required, api_id, parameter_key, modified_on"
    };
}
macro_rules! value_columns {
    () => {
        "environment_id, id, definition_id, schema_name, value, modified_on"
    };
}

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
        let sql = concat!(
            "SELECT ",
            solution_columns!(),
            " FROM solutions WHERE environment_id = $1 AND unique_name = $2"
        );
        fetch_one!(self, SolutionRow, sql, env.to_string(), name.to_owned())
    }

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

    pub async fn variable_definitions(
        &self,
        env: &EnvironmentId,
    ) -> Result<Vec<VariableDefinition>> {
        let sql = concat!(
            "SELECT ",
            definition_columns!(),
            " FROM environment_variable_definitions WHERE environment_id = $1 ORDER BY schema_name"
        );
        fetch_all!(self, DefinitionRow, sql, env.to_string())
    }

    pub async fn variable_values(&self, env: &EnvironmentId) -> Result<Vec<VariableValue>> {
        let sql = concat!(
            "SELECT ",
            value_columns!(),
            " FROM environment_variable_values WHERE environment_id = $1 ORDER BY schema_name"
        );
        fetch_all!(self, ValueRow, sql, env.to_string())
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
             ON CONFLICT (environment_id, id) DO UPDATE SET friendly_name = excluded.friendly_name, \
             version = excluded.version, is_managed = excluded.is_managed, \
             publisher_unique_name = excluded.publisher_unique_name, \
             publisher_friendly_name = excluded.publisher_friendly_name, \
             publisher_prefix = excluded.publisher_prefix, installed_by = excluded.installed_by, \
             installed_on = excluded.installed_on, modified_on = excluded.modified_on, \
             versionnumber = excluded.versionnumber"
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

    /// Inserts the reference, or updates the one of the same logical name
    /// (its binding included).
    pub async fn upsert_connection_reference(&mut self, r: &ConnectionReference) -> Result<()> {
        let sql = concat!(
            "INSERT INTO connection_references (",
            reference_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (environment_id, id) DO UPDATE SET solution_id = excluded.solution_id, \
             display_name = excluded.display_name, connector_id = excluded.connector_id, \
             connection_id = excluded.connection_id, description = excluded.description, \
             modified_on = excluded.modified_on, versionnumber = excluded.versionnumber"
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
        let changed = run!(
            self,
            "UPDATE connection_references SET connection_id = $1, versionnumber = $2, modified_on = $3 \
             WHERE environment_id = $4 AND id = $5 AND versionnumber = $6",
            connection_id,
            versionnumber,
            Timestamp::now().0,
            r.environment_id.to_string(),
            text(r.id),
            r.versionnumber
        )?;
        Ok(changed == 1)
    }

    /// Inserts the workflow, or updates the one of the same id.
    pub async fn upsert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let sql = concat!(
            "INSERT INTO workflows (",
            workflow_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (environment_id, id) DO UPDATE SET solution_id = excluded.solution_id, \
             name = excluded.name, category = excluded.category, ui_flow_type = excluded.ui_flow_type, \
             statecode = excluded.statecode, statuscode = excluded.statuscode, \
             client_data = excluded.client_data, owner_id = excluded.owner_id, \
             modified_on = excluded.modified_on, versionnumber = excluded.versionnumber"
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
        let changed = run!(
            self,
            "UPDATE workflows SET statecode = $1, statuscode = $2, versionnumber = $3, modified_on = $4 \
             WHERE environment_id = $5 AND id = $6 AND versionnumber = $7",
            statecode,
            statuscode,
            versionnumber,
            Timestamp::now().0,
            w.environment_id.to_string(),
            text(w.id),
            w.versionnumber
        )?;
        Ok(changed == 1)
    }

    pub async fn upsert_variable_definition(&mut self, d: &VariableDefinition) -> Result<()> {
        let sql = concat!(
            "INSERT INTO environment_variable_definitions (",
            definition_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (environment_id, id) DO UPDATE SET solution_id = excluded.solution_id, \
             display_name = excluded.display_name, variable_type = excluded.variable_type, \
             default_value = excluded.default_value, is_required = excluded.is_required, \
             api_id = excluded.api_id, parameter_key = excluded.parameter_key, \
             modified_on = excluded.modified_on"
        );
        run!(
            self,
            sql,
            d.environment_id.to_string(),
            text(d.id),
            text(d.solution_id),
            d.schema_name.clone(),
            d.display_name.clone(),
            d.kind,
            d.default_value.clone(),
            d.is_required,
            d.api_id.clone(),
            d.parameter_key.clone(),
            d.modified_on.0
        )?;
        Ok(())
    }

    /// Sets a definition's current value (one per definition).
    pub async fn upsert_variable_value(&mut self, v: &VariableValue) -> Result<()> {
        let sql = concat!(
            "INSERT INTO environment_variable_values (",
            value_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (environment_id, definition_id) DO UPDATE SET value = excluded.value, \
             modified_on = excluded.modified_on"
        );
        run!(
            self,
            sql,
            v.environment_id.to_string(),
            text(v.id),
            text(v.definition_id),
            v.schema_name.clone(),
            v.value.clone(),
            v.modified_on.0
        )?;
        Ok(())
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
        let sql = concat!(
            "SELECT ",
            solution_columns!(),
            " FROM solutions WHERE environment_id = $1 AND unique_name = $2"
        );
        fetch_in!(self, SolutionRow, sql, env.to_string(), name.to_owned())
    }

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

    pub async fn variable_definition_by_name(
        &mut self,
        env: &EnvironmentId,
        schema_name: &str,
    ) -> Result<Option<VariableDefinition>> {
        let sql = concat!(
            "SELECT ",
            definition_columns!(),
            " FROM environment_variable_definitions WHERE environment_id = $1 AND schema_name = $2"
        );
        fetch_in!(
            self,
            DefinitionRow,
            sql,
            env.to_string(),
            schema_name.to_owned()
        )
    }

    pub async fn workflow(&mut self, env: &EnvironmentId, id: Uuid) -> Result<Option<Workflow>> {
        let sql = concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows WHERE environment_id = $1 AND id = $2"
        );
        fetch_in!(self, WorkflowRow, sql, env.to_string(), text(id))
    }

    pub async fn solution(&mut self, env: &EnvironmentId, id: Uuid) -> Result<Option<Solution>> {
        let sql = concat!(
            "SELECT ",
            solution_columns!(),
            " FROM solutions WHERE environment_id = $1 AND id = $2"
        );
        fetch_in!(self, SolutionRow, sql, env.to_string(), text(id))
    }

    pub async fn has_variable_value(
        &mut self,
        env: &EnvironmentId,
        definition: Uuid,
    ) -> Result<bool> {
        let row: Option<(i64,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM environment_variable_values WHERE environment_id = $1 AND definition_id = $2")
            .bind(env.to_string())
            .bind(text(definition))
            .fetch_optional(&mut *conn)
            .await)?;
        Ok(row.is_some())
    }
}
