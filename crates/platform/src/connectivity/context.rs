//! What every connections request establishes first: the api-version, the
//! caller's token, the environment, and who the caller is there.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query, RawPathParams};
use axum::http::header;
use axum::http::request::Parts;
use padconnect_core::EnvironmentId;

use super::ApiError;
use crate::auth::{Audience, Caller, CallerKind, is_admin, verify_bearer};
use crate::origin::{EnvironmentScope, RequestOrigin};
use crate::server::AppState;
use crate::store::{Environment, SystemUser};

pub const API_VERSION: &str = "1";

pub struct ApiContext {
    pub caller: Caller,
    pub environment: Environment,
    /// The caller's systemuser in the environment: an application user for a
    /// service principal. `None` when it has none.
    pub member: Option<SystemUser>,
    /// A Power Platform administrator of the tenant sees every connection.
    pub admin: bool,
    pub origin: RequestOrigin,
    pub query: HashMap<String, String>,
}

impl FromRequestParts<AppState> for ApiContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::invalid_content(format!("The query string is malformed: {e}"))
            })?;
        match query.get("api-version").map(String::as_str) {
            None => return Err(ApiError::missing_api_version()),
            Some(API_VERSION) => {}
            Some(other) => return Err(ApiError::invalid_api_version(other)),
        }
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        let caller = verify_bearer(state, authorization, Audience::PowerPlatform)
            .await
            .map_err(|failure| ApiError::unauthorized(&failure))?;
        let environment_id = environment_of(parts, state).await?;
        let shown = environment_id.to_string();
        let environment = state
            .directory
            .environment(&state.store, &environment_id)
            .await?
            // Another tenant's environment does not exist for this caller.
            .filter(|env| env.tenant_id == caller.tenant_id)
            .ok_or_else(|| ApiError::environment_not_found(&shown))?;
        check_filter(&query, &environment.id)?;
        let kind = caller.system_user_kind();
        let member = state
            .store
            .system_user_for(&environment.id, kind)
            .await?
            .filter(|u| !u.isdisabled);
        let admin = is_admin(&state.store, &caller).await?;
        let origin = parts
            .extensions
            .get::<RequestOrigin>()
            .cloned()
            .expect("dispatch sets the origin");
        Ok(Self {
            caller,
            environment,
            member,
            admin,
            origin,
            query,
        })
    }
}

/// The environment the host names, or the tenant-level path's `{environment}`.
async fn environment_of(parts: &mut Parts, state: &AppState) -> Result<EnvironmentId, ApiError> {
    if let Some(EnvironmentScope(env)) = parts.extensions.get::<EnvironmentScope>() {
        return Ok(*env);
    }
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::environment_not_found(""))?;
    let given = params
        .iter()
        .find(|(name, _)| *name == "environment")
        .map(|(_, v)| v)
        .unwrap_or_default();
    given
        .parse()
        .map_err(|_| ApiError::environment_not_found(given))
}

/// The Terraform provider adds `$filter=environment eq '{id}'` to every call.
fn check_filter(
    query: &HashMap<String, String>,
    environment: &EnvironmentId,
) -> Result<(), ApiError> {
    let Some(filter) = query.get("$filter") else {
        return Ok(());
    };
    let named = filter
        .trim()
        .strip_prefix("environment eq '")
        .and_then(|rest| rest.strip_suffix('\''))
        .ok_or_else(|| ApiError::invalid_filter(filter))?;
    match named.parse::<EnvironmentId>() {
        Ok(id) if id == *environment => Ok(()),
        _ => Err(ApiError::environment_mismatch(format!(
            "The $filter names environment '{named}', but the request addresses environment '{environment}'."
        ))),
    }
}

impl ApiContext {
    /// The caller as the connections API shows a principal.
    pub fn principal(&self) -> crate::store::Principal {
        use crate::store::{Principal, PrincipalType};
        match &self.caller.kind {
            CallerKind::ServicePrincipal => Principal {
                id: self.caller.object_id,
                kind: PrincipalType::ServicePrincipal,
                display_name: self
                    .member
                    .as_ref()
                    .map_or_else(|| self.caller.app_id.to_string(), |m| m.fullname.clone()),
            },
            CallerKind::User { name, .. } => Principal {
                id: self.caller.object_id,
                kind: PrincipalType::User,
                display_name: name.clone(),
            },
        }
    }
}
