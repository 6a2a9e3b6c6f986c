//! Connections as the API writes them (the PowerApps resource format).
//!
//! The shape is a tree of structs serialized straight from the stored
//! connection, not a `serde_json::Value` built first: every GET writes one,
//! and building the value tree cost more than writing it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use uuid::Uuid;

use super::ApiError;
use super::service::Status;
use padconnect_store::Connection;

const ICON_URI: &str =
    "https://connectoricons-prod.azureedge.net/releases/v1.0.1664/1.0.1664.3477/uiflow/icon.png";

/// `value` as a JSON answer. The buffer starts at the size of a connection:
/// axum's `Json` starts at 128 bytes and grows it several times.
pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Response, ApiError> {
    let mut body = Vec::with_capacity(2048);
    serde_json::to_writer(&mut body, value)
        .map_err(|e| ApiError::internal(format!("writing the answer failed: {e}")))?;
    let content_type = HeaderValue::from_static("application/json");
    Ok((status, [(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// A connection, its secrets left out.
pub fn connection<'a>(c: &'a Connection, status: &'a Status, tenant_id: Uuid) -> Resource<'a> {
    Resource {
        name: c.id.to_string(),
        id: c.id.resource_id(&c.connector),
        kind: "Microsoft.PowerApps/apis/connections",
        properties: Properties {
            api_id: c.connector.api_id(),
            display_name: &c.display_name,
            icon_uri: ICON_URI,
            statuses: [StatusEntry(status)],
            connection_parameters_set: ParameterSet {
                name: c.parameter_set.name(),
                values: Values(&c.parameter_values),
            },
            keywords_remaining: 0,
            created_by: CreatedBy {
                id: c.created_by.id,
                display_name: &c.created_by.display_name,
                kind: c.created_by.kind.as_str(),
                tenant_id,
            },
            created_time: c.created_at.to_rfc3339(),
            last_modified_time: c.modified_at.to_rfc3339(),
            environment: EnvironmentRef {
                id: c.environment_id.resource_id(),
                name: c.environment_id.to_string(),
            },
            account_name: c.parameter_values.get("username").unwrap_or(&Value::Null),
            credential_id: c.credential_id,
            allow_sharing: c.parameter_set.shareable(),
            test_links: [],
            permissions: None,
        },
    }
}

impl<'a> Resource<'a> {
    /// With its owner's permission inline, as a listing shows each
    /// connection (the provider's recorded `get_connections.json`: the
    /// owner, role `Owner`, principal type `NotSpecified`).
    pub fn with_owner_permission(mut self, c: &Connection, tenant_id: Uuid) -> Self {
        self.properties.permissions = Some([Permission {
            name: c.created_by.id,
            id: format!("{}/permissions/{}", self.id, c.created_by.id),
            kind: "Microsoft.PowerApps/apis/connections/permissions",
            properties: PermissionProperties {
                role_name: "Owner",
                principal: PermissionPrincipal {
                    id: c.created_by.id,
                    kind: "NotSpecified",
                    tenant_id,
                },
                notify_share_target_option: "NotSpecified",
                invite_guest_to_tenant: false,
            },
        }]);
        self
    }
}

#[derive(Serialize)]
struct Permission {
    name: Uuid,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    properties: PermissionProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionProperties {
    role_name: &'static str,
    principal: PermissionPrincipal,
    notify_share_target_option: &'static str,
    invite_guest_to_tenant: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionPrincipal {
    id: Uuid,
    #[serde(rename = "type")]
    kind: &'static str,
    tenant_id: Uuid,
}

/// One page of a listing: `{"value": [...], "nextLink": "..."}`, the link
/// only when there is more.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<'a> {
    pub value: Vec<Resource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

#[derive(Serialize)]
pub struct Resource<'a> {
    name: String,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    properties: Properties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    api_id: String,
    display_name: &'a str,
    icon_uri: &'static str,
    statuses: [StatusEntry<'a>; 1],
    connection_parameters_set: ParameterSet<'a>,
    keywords_remaining: u32,
    created_by: CreatedBy<'a>,
    created_time: String,
    last_modified_time: String,
    environment: EnvironmentRef,
    account_name: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_id: Option<Uuid>,
    allow_sharing: bool,
    test_links: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<[Permission; 1]>,
}

#[derive(Serialize)]
struct ParameterSet<'a> {
    name: &'a str,
    values: Values<'a>,
}

/// The stored values, each as `{"value": ...}`.
struct Values<'a>(&'a Value);

impl Serialize for Values<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a> {
            value: &'a Value,
        }
        let object = self.0.as_object();
        let mut map = serializer.serialize_map(object.map(|o| o.len()))?;
        for (name, value) in object.into_iter().flatten() {
            map.serialize_entry(name, &Wrapped { value })?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBy<'a> {
    id: Uuid,
    display_name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    tenant_id: Uuid,
}

#[derive(Serialize)]
struct EnvironmentRef {
    id: String,
    name: String,
}

/// `{"status":"Connected"}`, or `{"status":"Error","target":"targetId","error":{...}}`.
struct StatusEntry<'a>(&'a Status);

impl Serialize for StatusEntry<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Error<'a> {
            code: &'a str,
            message: &'a str,
        }
        match self.0 {
            Status::Connected => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("status", "Connected")?;
                map.end()
            }
            Status::Error { code, message } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("status", "Error")?;
                map.serialize_entry("target", "targetId")?;
                map.serialize_entry("error", &Error { code, message })?;
                map.end()
            }
        }
    }
}
