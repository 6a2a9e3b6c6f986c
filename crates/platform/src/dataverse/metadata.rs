//! `EntityDefinitions` for the tables served, and their `Attributes`: the
//! Dataverse SDKs resolve a table's entity set and key this way before any
//! query.

use std::collections::HashMap;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::column_types::AttributeType;
use super::odata::{Edm, Query};
use super::tables::Table;
use super::{API_ROOT, DataverseCaller, DataverseError};
use padconnect_domain::ids::derived_id;

const TABLES: [Table; 4] = [
    Table::MachineGroups,
    Table::Machines,
    Table::SystemUsers,
    Table::Credentials,
];
const ENTITY_COLUMNS: [&str; 8] = [
    "MetadataId",
    "LogicalName",
    "SchemaName",
    "EntitySetName",
    "LogicalCollectionName",
    "PrimaryIdAttribute",
    "PrimaryNameAttribute",
    "OwnershipType",
];
const ATTRIBUTE_COLUMNS: [&str; 6] = [
    "MetadataId",
    "LogicalName",
    "SchemaName",
    "AttributeType",
    "IsPrimaryId",
    "IsPrimaryName",
];

fn definition(table: Table) -> Value {
    let logical = table.logical_name();
    json!({
        "MetadataId": derived_id(&["entitydefinition", logical]),
        "LogicalName": logical,
        "SchemaName": match table {
            Table::MachineGroups => "flowmachinegroup",
            Table::Machines => "flowmachine",
            Table::SystemUsers => "SystemUser",
            Table::Credentials => "credential",
            Table::FlowSessions => "flowsession",
            Table::Organizations => "Organization",
            Table::TransactionCurrencies => "TransactionCurrency",
            Table::Solution(table) => table.logical_name(),
        },
        "EntitySetName": table.entity_set(),
        "LogicalCollectionName": table.entity_set(),
        "PrimaryIdAttribute": table.key(),
        "PrimaryNameAttribute": if table == Table::SystemUsers { "fullname" } else { "name" },
        "OwnershipType": if table == Table::SystemUsers { "BusinessOwned" } else { "UserOwned" },
    })
}

/// The types of `EntityDefinitions`' and `Attributes`' own columns, for `$filter`.
fn metadata_type(column: &str) -> Edm {
    match column {
        "MetadataId" => Edm::Guid,
        "IsPrimaryId" | "IsPrimaryName" => Edm::Boolean,
        _ => Edm::String,
    }
}

fn attributes(table: Table) -> Vec<Value> {
    table
        .columns()
        .iter()
        .map(|column| {
            // Lookups are named without the _x_value wrapping.
            let logical = column.strip_prefix('_').and_then(|c| c.strip_suffix("_value")).unwrap_or(column);
            json!({
                "MetadataId": derived_id(&["attribute", table.logical_name(), logical]),
                "LogicalName": logical,
                "SchemaName": logical,
                "AttributeType": table.attribute_type(column).name(),
                "IsPrimaryId": *column == table.key(),
                "IsPrimaryName": *column == "name" || (table == Table::SystemUsers && *column == "fullname"),
            })
        })
        .collect()
}

/// `EntityDefinitions`, `EntityDefinitions(LogicalName='x')` or `EntityDefinitions(<MetadataId>)`.
pub async fn entity_definitions(
    segment: &str,
    params: &HashMap<String, String>,
    caller: &DataverseCaller,
) -> Result<Response, DataverseError> {
    let query = Query::parse(params, &ENTITY_COLUMNS, metadata_type)
        .map_err(DataverseError::bad_request)?;
    let context = caller
        .origin
        .url(&format!("{API_ROOT}/$metadata#EntityDefinitions"));
    match segment.strip_prefix("EntityDefinitions") {
        Some("") => {
            let rows = query.apply(
                TABLES.iter().map(|t| definition(*t)).collect(),
                "LogicalName",
            );
            let value: Vec<Value> = rows
                .iter()
                .map(|r| query.project(r, &["MetadataId"]))
                .collect();
            Ok(Json(json!({ "@odata.context": context, "value": value })).into_response())
        }
        Some(key) => {
            let table = table_by_key(key)?;
            let mut body = query.project(&definition(table), &["MetadataId"]);
            body["@odata.context"] = json!(format!("{context}/$entity"));
            Ok(Json(body).into_response())
        }
        None => Err(DataverseError::unknown_segment(segment)),
    }
}

/// `(LogicalName='flowmachinegroup')` or `(<MetadataId>)`.
fn table_by_key(key: &str) -> Result<Table, DataverseError> {
    let inner = key
        .strip_prefix('(')
        .and_then(|k| k.strip_suffix(')'))
        .ok_or_else(|| DataverseError::bad_request(format!("'{key}' is not a valid key")))?;
    let found = match inner.strip_prefix("LogicalName=") {
        Some(name) => TABLES
            .into_iter()
            .find(|t| t.logical_name() == name.trim_matches('\'')),
        None => TABLES
            .into_iter()
            .find(|t| definition(*t)["MetadataId"] == inner),
    };
    found.ok_or_else(|| {
        DataverseError::new(
            axum::http::StatusCode::NOT_FOUND,
            "0x80060888",
            format!(
                "Could not find an entity with key {inner}: this platform serves the definitions of {}",
                TABLES.map(Table::logical_name).join(", ")
            ),
        )
    })
}

/// The table of `EntityDefinitions(<key>)`, the segment the paths below
/// one definition (its attributes, its choice columns) start with.
fn defined_table(segment: &str) -> Result<Table, DataverseError> {
    let key = segment
        .strip_prefix("EntityDefinitions")
        .ok_or_else(|| DataverseError::unknown_segment(segment))?;
    table_by_key(key)
}

/// `EntityDefinitions(...)/Attributes`.
pub async fn attributes_of(
    segment: &str,
    params: &HashMap<String, String>,
    caller: &DataverseCaller,
) -> Result<Response, DataverseError> {
    let table = defined_table(segment)?;
    let query = Query::parse(params, &ATTRIBUTE_COLUMNS, metadata_type)
        .map_err(DataverseError::bad_request)?;
    let rows = query.apply(attributes(table), "LogicalName");
    let value: Vec<Value> = rows
        .iter()
        .map(|r| query.project(r, &["MetadataId"]))
        .collect();
    let context = caller.origin.url(&format!(
        "{API_ROOT}/$metadata#EntityDefinitions('{}')/Attributes",
        table.logical_name()
    ));
    Ok(Json(json!({ "@odata.context": context, "value": value })).into_response())
}

/// `EntityDefinitions(...)/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`:
/// the table's choice columns with their options. Microsoft's Python SDK
/// reads it before a create, to turn option labels into values
/// (`_bulk_fetch_picklists`: `$select=LogicalName&$expand=OptionSet($select=Options)`).
pub async fn picklists_of(
    segment: &str,
    params: &HashMap<String, String>,
    caller: &DataverseCaller,
) -> Result<Response, DataverseError> {
    let table = defined_table(segment)?;
    let expand = match params.get("$expand").map(String::as_str) {
        None => false,
        Some("OptionSet" | "OptionSet($select=Options)") => true,
        Some(other) => {
            return Err(DataverseError::bad_request(format!(
                "$expand={other} is not served on PicklistAttributeMetadata: expand OptionSet, or OptionSet($select=Options)."
            )));
        }
    };
    let select = Query::parse(
        &params
            .iter()
            .filter(|(k, _)| k.as_str() != "$expand")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        &ATTRIBUTE_COLUMNS,
        metadata_type,
    )
    .map_err(DataverseError::bad_request)?;
    let value: Vec<Value> = table
        .columns()
        .iter()
        .filter(|column| table.attribute_type(column) == AttributeType::Picklist)
        .filter_map(|column| {
            let options = super::annotations::options(table, column)?;
            let mut row = select.project(
                &json!({
                    "MetadataId": derived_id(&["attribute", table.logical_name(), column]),
                    "LogicalName": column,
                    "SchemaName": column,
                    "AttributeType": "Picklist",
                    "IsPrimaryId": false,
                    "IsPrimaryName": false,
                }),
                &["MetadataId"],
            );
            if expand {
                row["OptionSet"] = json!({
                    "MetadataId": derived_id(&["optionset", table.logical_name(), column]),
                    "Options": options.iter().map(|(value, label)| json!({
                        "Value": value,
                        "Label": {
                            "LocalizedLabels": [{"Label": label, "LanguageCode": 1033}],
                            "UserLocalizedLabel": {"Label": label, "LanguageCode": 1033},
                        },
                    })).collect::<Vec<_>>(),
                });
            }
            Some(row)
        })
        .collect();
    let context = caller.origin.url(&format!(
        "{API_ROOT}/$metadata#EntityDefinitions('{}')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        table.logical_name()
    ));
    Ok(Json(json!({ "@odata.context": context, "value": value })).into_response())
}
