//! Connections as the API writes them (the PowerApps resource format).

use serde_json::{Value, json};
use uuid::Uuid;

use super::service::Status;
use crate::store::Connection;

/// A connection, its secrets left out.
pub fn connection(c: &Connection, status: &Status, tenant_id: Uuid) -> Value {
    let mut values = serde_json::Map::new();
    if let Some(object) = c.parameter_values.as_object() {
        for (name, value) in object {
            values.insert(name.clone(), json!({ "value": value }));
        }
    }
    let statuses = match status {
        Status::Connected => json!([{ "status": "Connected" }]),
        Status::Error { code, message } => {
            json!([{ "status": "Error", "target": "targetId", "error": { "code": code, "message": message } }])
        }
    };
    json!({
        "name": c.id.to_string(),
        "id": c.id.resource_id(&c.connector),
        "type": "Microsoft.PowerApps/apis/connections",
        "properties": {
            "apiId": c.connector.api_id(),
            "displayName": c.display_name,
            "iconUri": "https://connectoricons-prod.azureedge.net/releases/v1.0.1664/1.0.1664.3477/uiflow/icon.png",
            "statuses": statuses,
            "connectionParametersSet": { "name": c.parameter_set, "values": values },
            "keywordsRemaining": 0,
            "createdBy": {
                "id": c.created_by.id,
                "displayName": c.created_by.display_name,
                "type": c.created_by.kind.as_str(),
                "tenantId": tenant_id,
            },
            "createdTime": c.created_at.to_rfc3339(),
            "lastModifiedTime": c.modified_at.to_rfc3339(),
            "environment": {
                "id": c.environment_id.resource_id(),
                "name": c.environment_id.to_string(),
            },
            "accountName": c.parameter_values.get("username").cloned().unwrap_or(Value::Null),
            "allowSharing": c.parameter_set == padconnect_core::ParameterSet::AzureRelayRunOwner.name(),
            "testLinks": [],
        }
    })
}
