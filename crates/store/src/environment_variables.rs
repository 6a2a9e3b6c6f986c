//! Environment variables: definitions (`environmentvariabledefinition`)
//! and their current values (`environmentvariablevalue`).

use padconnect_core::{EnvironmentId, VariableDeclaration};
use uuid::Uuid;

use super::rows::{env_id, text, uuid};
use super::sql::{fetch_all, fetch_in, rows, run, set_excluded};
use super::{Result, Store, StoreError, Timestamp, Tx, TxInner};

/// A row of `environmentvariabledefinition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDefinition {
    pub environment_id: EnvironmentId,
    pub id: Uuid,
    pub solution_id: Uuid,
    pub declaration: VariableDeclaration,
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

rows! {
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
}

impl TryFrom<DefinitionRow> for VariableDefinition {
    type Error = StoreError;
    fn try_from(r: DefinitionRow) -> Result<Self> {
        Ok(Self {
            environment_id: env_id(&r.environment_id)?,
            id: uuid(&r.id)?,
            solution_id: uuid(&r.solution_id)?,
            declaration: VariableDeclaration {
                schema_name: r.schema_name,
                display_name: r.display_name,
                kind: r.variable_type,
                default_value: r.default_value,
                is_required: r.is_required,
                api_id: r.api_id,
                parameter_key: r.parameter_key,
            },
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
}

impl Tx {
    pub async fn upsert_variable_definition(&mut self, d: &VariableDefinition) -> Result<()> {
        let sql = concat!(
            "INSERT INTO environment_variable_definitions (",
            definition_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (environment_id, id) DO UPDATE SET ",
            set_excluded!(
                solution_id,
                display_name,
                variable_type,
                default_value,
                is_required,
                api_id,
                parameter_key,
                modified_on,
            )
        );
        run!(
            self,
            sql,
            d.environment_id.to_string(),
            text(d.id),
            text(d.solution_id),
            d.declaration.schema_name.clone(),
            d.declaration.display_name.clone(),
            d.declaration.kind,
            d.declaration.default_value.clone(),
            d.declaration.is_required,
            d.declaration.api_id.clone(),
            d.declaration.parameter_key.clone(),
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
             ON CONFLICT (environment_id, definition_id) DO UPDATE SET ",
            set_excluded!(value, modified_on)
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
