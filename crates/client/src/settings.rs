//! Deployment settings files (`pac solution create-settings`): connection
//! references and environment variables, updated in place so the entries
//! this tool does not own are kept as they are.

use serde_json::{Map, Value, json};

pub const UIFLOW_CONNECTOR_ID: &str = "/providers/Microsoft.PowerApps/apis/shared_uiflow";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReference {
    pub logical_name: String,
    pub connection_id: String,
    pub connector_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentVariable {
    pub schema_name: String,
    pub value: String,
}

/// Merges into `existing` (an empty document when `None`): an entry with the
/// same LogicalName or SchemaName is updated, a new one appended, every other
/// entry and key kept. Errors say what is wrong with the existing document.
pub fn merge(
    existing: Option<Value>,
    references: &[ConnectionReference],
    variables: &[EnvironmentVariable],
) -> Result<Value, String> {
    let mut document = match existing {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err("the settings file is not a JSON object".into()),
    };
    for key in ["EnvironmentVariables", "ConnectionReferences"] {
        match document.get(key) {
            None => {
                document.insert(key.into(), json!([]));
            }
            Some(Value::Array(_)) => {}
            Some(_) => return Err(format!("'{key}' in the settings file is not a list")),
        }
    }
    Ok(merge_into(document, references, variables))
}

/// What [`merge`] does once `document` is known to hold lists (or nothing)
/// under both keys: cannot fail.
pub(crate) fn merge_into(
    mut document: Map<String, Value>,
    references: &[ConnectionReference],
    variables: &[EnvironmentVariable],
) -> Value {
    let list = |document: &mut Map<String, Value>, key: &str| match document.get_mut(key) {
        Some(Value::Array(list)) => std::mem::take(list),
        _ => Vec::new(),
    };
    let mut connection_references = list(&mut document, "ConnectionReferences");
    for reference in references {
        let entry = json!({
            "LogicalName": reference.logical_name,
            "ConnectionId": reference.connection_id,
            "ConnectorId": reference.connector_id,
        });
        upsert(
            &mut connection_references,
            "LogicalName",
            &reference.logical_name,
            entry,
        );
    }
    let mut environment_variables = list(&mut document, "EnvironmentVariables");
    for variable in variables {
        let entry = json!({ "SchemaName": variable.schema_name, "Value": variable.value });
        upsert(
            &mut environment_variables,
            "SchemaName",
            &variable.schema_name,
            entry,
        );
    }
    document.insert(
        "ConnectionReferences".into(),
        Value::Array(connection_references),
    );
    document.insert(
        "EnvironmentVariables".into(),
        Value::Array(environment_variables),
    );
    Value::Object(document)
}

/// Adds an empty entry for each connection reference and environment
/// variable of a solution that `existing` lacks, as `pac solution
/// create-settings` writes them (`ConnectionId` and `Value` left for the
/// pipeline to fill); entries already there keep their values.
pub fn add_missing(
    existing: Option<Value>,
    solution: &crate::solution::SolutionSettings,
) -> Result<Value, String> {
    let mut document = merge(existing, &[], &[])?;
    let mut add = |key: &str, name_key: &str, entry: Value| {
        // `merge` made both lists; a list that were not one gets nothing.
        let Some(list) = document[key].as_array_mut() else {
            return;
        };
        let name = entry[name_key].as_str().unwrap_or_default();
        let present = list.iter().any(|e| {
            e[name_key]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        if !present {
            list.push(entry);
        }
    };
    for (logical_name, connector_id) in &solution.connection_references {
        add(
            "ConnectionReferences",
            "LogicalName",
            json!({ "LogicalName": logical_name, "ConnectionId": "", "ConnectorId": connector_id }),
        );
    }
    for schema_name in &solution.environment_variables {
        add(
            "EnvironmentVariables",
            "SchemaName",
            json!({ "SchemaName": schema_name, "Value": "" }),
        );
    }
    Ok(document)
}

fn upsert(list: &mut Vec<Value>, key: &str, name: &str, entry: Value) {
    match list.iter_mut().find(|e| {
        e[key]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }) {
        Some(existing) => {
            // Keep fields the entry does not set (a tool may add its own).
            if let (Some(target), Some(source)) = (existing.as_object_mut(), entry.as_object()) {
                for (k, v) in source {
                    target.insert(k.clone(), v.clone());
                }
            }
        }
        None => list.push(entry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(name: &str, id: &str) -> ConnectionReference {
        ConnectionReference {
            logical_name: name.into(),
            connection_id: id.into(),
            connector_id: UIFLOW_CONNECTOR_ID.into(),
        }
    }

    #[test]
    fn a_new_file_has_both_lists() {
        let merged = merge(None, &[reference("new_uiflow", "abc")], &[]).unwrap();
        assert_eq!(merged["ConnectionReferences"][0]["ConnectionId"], "abc");
        assert_eq!(merged["EnvironmentVariables"], json!([]));
    }

    #[test]
    fn updates_its_entries_and_keeps_the_others() {
        let existing = json!({
            "EnvironmentVariables": [{"SchemaName": "new_Url", "Value": "old"}],
            "ConnectionReferences": [
                {"LogicalName": "new_sharepoint", "ConnectionId": "keep", "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"},
                {"LogicalName": "NEW_UIFLOW", "ConnectionId": "old", "ConnectorId": UIFLOW_CONNECTOR_ID, "Note": "mine"}
            ],
            "Extra": true
        });
        let variables = [EnvironmentVariable {
            schema_name: "new_Url".into(),
            value: "new".into(),
        }];
        let merged = merge(
            Some(existing),
            &[
                reference("new_uiflow", "fresh"),
                reference("new_other", "x"),
            ],
            &variables,
        )
        .unwrap();
        let references = merged["ConnectionReferences"].as_array().unwrap();
        assert_eq!(references.len(), 3);
        assert_eq!(references[0]["ConnectionId"], "keep");
        assert_eq!(
            (
                references[1]["ConnectionId"].as_str(),
                references[1]["Note"].as_str()
            ),
            (Some("fresh"), Some("mine"))
        );
        assert_eq!(merged["EnvironmentVariables"][0]["Value"], "new");
        assert_eq!(merged["Extra"], true);
    }

    #[test]
    fn a_malformed_file_is_refused() {
        assert!(
            merge(Some(json!([])), &[], &[])
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            merge(Some(json!({"ConnectionReferences": {}})), &[], &[])
                .unwrap_err()
                .contains("not a list")
        );
    }
}
