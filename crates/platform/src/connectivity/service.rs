//! The connections API's side of the rules: the PUT body read into the
//! domain's request, and the caller's context handed to the rules of
//! `domain::connections` (who may write, see and edit a connection, and
//! whether it can reach its target now).

use padconnect_core::uiflow::{
    MAX_ACCOUNT_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_PASSWORD_CHARS, is_windows_account,
};
use padconnect_core::{ConnectionId, ParameterSet};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ApiError;
use super::context::ApiContext;
use crate::state::AppState;
use padconnect_domain::connections::run_owner::{self, RunOwner};
use padconnect_domain::connections::{ConnectionRequest, Refusal, Writer, Written};
use padconnect_store::Connection;

/// Reads and checks the body of a PUT: the seed's shape, the environment
/// the host names, a parameter set of `shared_uiflow` with exactly its values.
pub fn parse_request(body: &[u8], ctx: &ApiContext) -> Result<ConnectionRequest, ApiError> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_content(format!("The request body is not valid JSON: {e}."))
    })?;
    let properties = body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::invalid_content(
                "The request body must be an object with a 'properties' object.",
            )
        })?;
    check_environment(properties, ctx)?;
    if properties.contains_key("connectionParameters") {
        return Err(ApiError::invalid_content(
            "shared_uiflow connections take 'connectionParametersSet', not 'connectionParameters'.",
        ));
    }
    let set = properties
        .get("connectionParametersSet")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid_content("'properties.connectionParametersSet' is required: {\"name\":\"azureRelay\",\"values\":{...}}."))?;
    let name = set.get("name").and_then(Value::as_str).unwrap_or_default();
    let parameter_set =
        ParameterSet::parse(name).ok_or_else(|| ApiError::invalid_parameter_set(name))?;
    let empty = Map::new();
    let values = set
        .get("values")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for key in values.keys() {
        if !parameter_set.required_values().contains(&key.as_str()) {
            return Err(ApiError::parameter_not_defined(key, name));
        }
    }
    let value = |key: &str| -> Result<String, ApiError> {
        match values.get(key).and_then(|v| v.get("value")) {
            None | Some(Value::Null) => Err(ApiError::missing_parameter(name, key)),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(ApiError::missing_parameter(name, key))
            }
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(ApiError::invalid_parameter(key, "it must be a string.")),
        }
    };
    let username = value("username")?;
    let too_long = |key: &str, max: usize| {
        ApiError::invalid_parameter(key, format!("it is longer than {max} characters."))
    };
    if username.chars().count() > MAX_ACCOUNT_CHARS {
        return Err(too_long("username", MAX_ACCOUNT_CHARS));
    }
    if !is_windows_account(&username) {
        return Err(ApiError::invalid_parameter(
            "username",
            format!(
                "'{username}' is not a Windows account: write user, .\\user, MACHINE\\user, DOMAIN\\user, user@domain or AzureAD\\user@domain."
            ),
        ));
    }
    let password = value("password")?;
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(too_long("password", MAX_PASSWORD_CHARS));
    }
    let target_text = value("targetId")?;
    let target = Uuid::try_parse(&target_text).map_err(|_| Refusal::UnknownTarget {
        target: target_text,
        environment: ctx.environment.id,
    })?;
    let run_owner = match parameter_set {
        ParameterSet::AzureRelay => None,
        ParameterSet::AzureRelayRunOwner => Some(run_owner_values(values, name, &value)?),
    };
    let display_name = match properties.get("displayName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() > MAX_DISPLAY_NAME_CHARS => {
            return Err(ApiError::invalid_content(format!(
                "'properties.displayName' is longer than {MAX_DISPLAY_NAME_CHARS} characters."
            )));
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            return Err(ApiError::invalid_content(
                "'properties.displayName' cannot contain control characters.",
            ));
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::invalid_content(
                "'properties.displayName' must be a string.",
            ));
        }
    };
    let credential = credential_id(properties, ctx)?;
    Ok(ConnectionRequest {
        credential,
        display_name,
        set: parameter_set,
        username,
        password,
        target,
        run_owner,
    })
}

/// `tokenRunOwnerCert:clientId` (a GUID) and
/// `tokenRunOwnerCert:clientCertificateSecret` = `{"value":{"pfx":"<base64>","password":"..."}}`.
fn run_owner_values(
    values: &Map<String, Value>,
    set: &str,
    text: &dyn Fn(&str) -> Result<String, ApiError>,
) -> Result<RunOwner, ApiError> {
    let client_id = text(run_owner::CLIENT_ID)?;
    let client_id = Uuid::try_parse(&client_id).map_err(|_| {
        ApiError::invalid_parameter(
            run_owner::CLIENT_ID,
            format!("'{client_id}' is not a GUID: give the run owner app's client id."),
        )
    })?;
    let secret = values
        .get(run_owner::CERTIFICATE_SECRET)
        .and_then(|v| v.get("value"))
        .ok_or_else(|| ApiError::missing_parameter(set, run_owner::CERTIFICATE_SECRET))?;
    // The run-owner doc on the PFX password: "Can be left empty if null".
    let field = |name: &str| {
        secret
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| name == "password" || !v.is_empty())
            .map(str::to_owned)
            .or_else(|| (name == "password").then(String::new))
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    run_owner::CERTIFICATE_SECRET,
                    format!("'value.{name}' is required: {{\"value\":{{\"pfx\":\"<base64 PFX>\",\"password\":\"<PFX password>\"}}}}."),
                )
            })
    };
    Ok(RunOwner {
        client_id,
        pfx_base64: field("pfx")?,
        pfx_password: field("password")?,
    })
}

/// `properties.credentialId`, where the run-owner document puts it (next to
/// `displayName`, not among the parameter values): a GUID, or absent.
fn credential_id(
    properties: &Map<String, Value>,
    ctx: &ApiContext,
) -> Result<Option<Uuid>, ApiError> {
    let unknown = |id: String| Refusal::UnknownCredential {
        id,
        environment: ctx.environment.id,
    };
    match properties.get("credentialId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Uuid::try_parse(id)
            .map(Some)
            .map_err(|_| unknown(id.clone()).into()),
        Some(other) => Err(unknown(other.to_string()).into()),
    }
}

/// The body may name the environment (the seed's does); it must be the host's.
fn check_environment(properties: &Map<String, Value>, ctx: &ApiContext) -> Result<(), ApiError> {
    let Some(environment) = properties.get("environment") else {
        return Ok(());
    };
    let host_env = ctx.environment.id;
    let mismatch = |given: &str| {
        ApiError::environment_mismatch(format!(
            "The body names environment '{given}', but the request was sent to environment '{host_env}': send it to {given}'s host or fix properties.environment."
        ))
    };
    if let Some(id) = environment.get("id").and_then(Value::as_str) {
        match padconnect_core::EnvironmentId::from_resource_id(id) {
            Ok(env) if env == host_env => {}
            _ => return Err(mismatch(id)),
        }
    }
    if let Some(name) = environment.get("name").and_then(Value::as_str) {
        match name.parse::<padconnect_core::EnvironmentId>() {
            Ok(env) if env == host_env => {}
            _ => return Err(mismatch(name)),
        }
    }
    Ok(())
}

/// Creates or updates the connection as the caller.
pub async fn put(
    state: &AppState,
    ctx: &ApiContext,
    id: ConnectionId,
    request: ConnectionRequest,
) -> Result<Written, ApiError> {
    let user = ctx.member(&state.store).await?;
    let writer = Writer {
        tenant_id: ctx.caller.tenant_id,
        environment: ctx.environment.id,
        user,
        principal: ctx.principal(user),
    };
    let admin = async || crate::auth::is_admin(&state.store, &ctx.caller).await;
    Ok(padconnect_domain::connections::put(
        &state.store,
        &state.keyring,
        writer,
        admin,
        id,
        request,
    )
    .await?)
}

pub use padconnect_domain::connections::Standing;

/// The caller's standing on a connection; `None` when it may not see it.
pub async fn standing(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
) -> Result<Option<Standing>, ApiError> {
    let admin = async || ctx.admin(&state.store).await;
    padconnect_domain::connections::standing_with(
        &state.store,
        ctx.caller.object_id,
        admin,
        connection,
    )
    .await
}

pub async fn may_see(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
) -> Result<bool, ApiError> {
    Ok(standing(state, ctx, connection).await?.is_some())
}

pub use padconnect_domain::connections::{Status, status_of};

/// The connection's status now, read from the store.
pub async fn status(state: &AppState, connection: &Connection) -> Result<Status, ApiError> {
    Ok(padconnect_domain::connections::status(&state.store, connection).await?)
}
