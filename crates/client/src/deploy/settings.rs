//! A deployment settings file, read as pac writes it and as the Terraform
//! provider reads it, and turned into `ComponentParameters`.

use padconnect_solution::Package;
use serde::Serialize;
use serde_json::{Value, json};

/// A deployment settings file, as pac writes it (PascalCase) or as the
/// Terraform provider reads it (any case: Go matches JSON keys so).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploySettings {
    pub connection_references: Vec<ReferenceSetting>,
    pub environment_variables: Vec<VariableValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceSetting {
    pub logical_name: String,
    pub connection_id: String,
    pub connector_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableValue {
    pub schema_name: String,
    pub value: String,
}

/// `key` of `object`, ASCII case ignored.
fn field<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn text(object: &Value, key: &str) -> Result<String, String> {
    match field(object, key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("'{key}' must be a string, not {other}")),
    }
}

impl DeploySettings {
    /// Reads a settings file's JSON; errors say which entry is wrong.
    pub fn parse(document: &Value) -> Result<Self, String> {
        if !document.is_object() {
            return Err("a settings file is a JSON object with ConnectionReferences and EnvironmentVariables".into());
        }
        let list = |key: &str| -> Result<Vec<Value>, String> {
            match field(document, key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(entries)) => Ok(entries.clone()),
                Some(_) => Err(format!("'{key}' must be a list")),
            }
        };
        let mut settings = Self::default();
        for (i, entry) in list("ConnectionReferences")?.iter().enumerate() {
            let at = |e: String| format!("ConnectionReferences[{i}]: {e}");
            let logical_name = text(entry, "LogicalName").map_err(at)?;
            if logical_name.trim().is_empty() {
                return Err(at("it has no LogicalName".into()));
            }
            settings.connection_references.push(ReferenceSetting {
                logical_name,
                connection_id: text(entry, "ConnectionId").map_err(at)?,
                connector_id: text(entry, "ConnectorId").map_err(at)?,
            });
        }
        for (i, entry) in list("EnvironmentVariables")?.iter().enumerate() {
            let at = |e: String| format!("EnvironmentVariables[{i}]: {e}");
            let schema_name = text(entry, "SchemaName").map_err(at)?;
            if schema_name.trim().is_empty() {
                return Err(at("it has no SchemaName".into()));
            }
            settings.environment_variables.push(VariableValue {
                schema_name,
                value: text(entry, "Value").map_err(at)?,
            });
        }
        Ok(settings)
    }

    /// `ComponentParameters` for ImportSolutionAsync: each reference with a
    /// connection id and each variable with a value, as the Terraform
    /// provider builds them (api_solution.go), without the empty ones.
    pub fn component_parameters(&self) -> Vec<Value> {
        let references = self
            .connection_references
            .iter()
            .filter(|r| !r.connection_id.trim().is_empty())
            .map(|r| {
                json!({
                    "@odata.type": "Microsoft.Dynamics.CRM.connectionreference",
                    "connectionreferencelogicalname": r.logical_name,
                    "connectorid": r.connector_id,
                    "connectionid": r.connection_id.trim(),
                })
            });
        let variables = self
            .environment_variables
            .iter()
            .filter(|v| !v.value.is_empty())
            .map(|v| {
                json!({
                    "@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue",
                    "schemaname": v.schema_name,
                    "value": v.value,
                })
            });
        references.chain(variables).collect()
    }

    /// The entries that name what the solution does not have: the file
    /// belongs to another solution, or a name is mistyped.
    pub fn unknown_to(&self, package: &Package) -> Vec<String> {
        let components = &package.components;
        let references = self
            .connection_references
            .iter()
            .filter(|r| {
                !components
                    .connection_references
                    .iter()
                    .any(|c| c.logical_name == r.logical_name)
            })
            .map(|r| format!("the connection reference '{}'", r.logical_name));
        let variables = self
            .environment_variables
            .iter()
            .filter(|v| {
                !components
                    .environment_variables
                    .iter()
                    .any(|c| c.declaration.schema_name == v.schema_name)
            })
            .map(|v| format!("the environment variable '{}'", v.schema_name));
        references.chain(variables).collect()
    }
}
