//! The rules of desktop-flow connections: who may create one to which
//! machine group, with what, and whether it can reach its target now.

use padconnect_core::uiflow::{
    MAX_ACCOUNT_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_PASSWORD_CHARS, is_windows_account,
};
use padconnect_core::{ConnectionId, ConnectorName, ParameterSet};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::ApiError;
use super::context::ApiContext;
use super::run_owner::{self, RunOwner};
use crate::state::AppState;
use crate::store::{Connection, Timestamp};

/// What a PUT asks for, once its body checked out.
pub struct ConnectionRequest {
    pub display_name: Option<String>,
    pub set: ParameterSet,
    pub username: String,
    pub password: String,
    pub target: Uuid,
    /// For `azureRelayRunOwner`: the app that runs the flows, and its PFX.
    pub run_owner: Option<RunOwner>,
}

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
    let target = Uuid::try_parse(&target_text)
        .map_err(|_| ApiError::invalid_target(&target_text, &ctx.environment.id.to_string()))?;
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
    Ok(ConnectionRequest {
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

/// Creates or updates the connection; `true` when it was created.
pub async fn put(
    state: &AppState,
    ctx: &ApiContext,
    id: ConnectionId,
    request: ConnectionRequest,
) -> Result<(Connection, bool), ApiError> {
    let env = ctx.environment.id;
    let member = ctx.member(state).await?.ok_or_else(|| {
        ApiError::forbidden(format!(
            "The caller has no user in environment '{env}': a service principal needs an application user there (Power Platform admin center > Environment > Settings > Application users)."
        ))
    })?;
    let group = state
        .store
        .machine_group(request.target)
        .await?
        .filter(|g| g.environment_id == env)
        .ok_or_else(|| ApiError::invalid_target(&request.target.to_string(), &env.to_string()))?;
    if !can_target(&state.store, member, &group).await? {
        return Err(ApiError::forbidden(format!(
            "The caller has no access to machine group '{}' ({}): share it with the caller as User (Machines > Share) first.",
            group.name, group.id
        )));
    }

    if let Some(owner) = &request.run_owner {
        run_owner::verify(state, ctx.caller.tenant_id, owner).await?;
    }
    let verified = crate::domain::connections::credentials::check(
        &state.store,
        &group,
        &request.username,
        &request.password,
    )
    .await?;

    let now = Timestamp::now();
    let mut secrets = json!({ "password": request.password });
    let mut values =
        json!({ "username": request.username, "targetId": request.target.to_string() });
    if let Some(owner) = &request.run_owner {
        secrets["pfx"] = json!(owner.pfx_base64);
        secrets["pfxPassword"] = json!(owner.pfx_password);
        values[run_owner::CLIENT_ID] = json!(owner.client_id);
    }
    let connection = Connection {
        environment_id: env,
        id,
        connector: ConnectorName::uiflow(),
        display_name: request
            .display_name
            .unwrap_or_else(|| request.username.clone()),
        parameter_set: request.set,
        parameter_values: values,
        sealed_secrets: state
            .keyring
            .seal(&sealing_context(&env, &id), secrets.to_string().as_bytes()),
        target_group_id: Some(group.id),
        created_by: ctx.principal(Some(member)),
        created_at: now,
        modified_at: now,
    };
    if state.store.insert_connection(&connection).await? {
        // The account it matched, for its status to follow. Should the
        // process stop before this write, the connection shows Connected
        // as one whose credentials were not checked, never a wrong Error.
        if verified.is_some() {
            let mut tx = state.store.begin().await?;
            tx.set_connection_credentials(&env, &id, verified.as_ref())
                .await?;
            tx.commit().await?;
        }
        return Ok((connection, true));
    }
    // The id is taken: an update, by its owner (or an editor or administrator).
    let existing = state
        .store
        .connection(&env, &id)
        .await?
        .ok_or_else(|| ApiError::internal("a connection vanished during its update".into()))?;
    if !may_edit(state, ctx, &existing).await? {
        return Err(ApiError::forbidden(format!(
            "Connection '{id}' exists and belongs to another principal: choose a new connection id."
        )));
    }
    // The run-owner document: "the run owner cannot be removed". Nor is a
    // plain connection turned into a run-owner one in place: both would
    // change who the flows run as under the feet of those it was shared with.
    if existing.parameter_set != connection.parameter_set {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "ConnectionParameterSetChangeNotAllowed",
            format!(
                "Connection '{id}' uses parameter set '{}'; an update cannot change it to '{}' (a run owner cannot be removed): create a new connection instead.",
                existing.parameter_set, connection.parameter_set
            ),
        ));
    }
    let updated = Connection {
        created_by: existing.created_by,
        created_at: existing.created_at,
        ..connection
    };
    let mut tx = state.store.begin().await?;
    if !tx.update_connection(&updated).await? {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "ConnectionDeletedDuringUpdate",
            format!(
                "Connection '{id}' was deleted while it was being updated: send the PUT again to create it."
            ),
        ));
    }
    tx.set_connection_credentials(&env, &id, verified.as_ref())
        .await?;
    tx.commit().await?;
    Ok((updated, false))
}

/// The context a connection's secrets are sealed under: they open only there.
fn sealing_context(env: &padconnect_core::EnvironmentId, id: &ConnectionId) -> Vec<u8> {
    format!("connection:{env}:{id}").into_bytes()
}

pub use crate::domain::connections::Standing;

/// The caller's standing on a connection; `None` when it may not see it.
pub async fn standing(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
) -> Result<Option<Standing>, ApiError> {
    // The owner needs no more queries; anyone else may be an administrator.
    if connection.created_by.id == ctx.caller.object_id {
        return Ok(Some(Standing::Edit));
    }
    let admin = ctx.admin(state).await?;
    crate::domain::connections::standing(&state.store, ctx.caller.object_id, admin, connection)
        .await
        .map_err(ApiError::from)
}

pub async fn may_see(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
) -> Result<bool, ApiError> {
    Ok(standing(state, ctx, connection).await?.is_some())
}

pub async fn may_edit(
    state: &AppState,
    ctx: &ApiContext,
    connection: &Connection,
) -> Result<bool, ApiError> {
    Ok(standing(state, ctx, connection).await? == Some(Standing::Edit))
}

pub use crate::domain::connections::{Status, can_target, status_of};

/// The connection's status now, read from the store.
pub async fn status(state: &AppState, connection: &Connection) -> Result<Status, ApiError> {
    Ok(crate::domain::connections::status(&state.store, connection).await?)
}
