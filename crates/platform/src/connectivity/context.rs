//! What every connections request establishes first: the api-version, the
//! caller's token, the environment, and who the caller is there.

use std::collections::HashMap;

use axum::extract::{FromRef, FromRequestParts, Query, RawPathParams};
use axum::http::request::Parts;
use padconnect_core::EnvironmentId;
use tokio::sync::OnceCell;

use super::ApiError;
use crate::auth::{Audience, Caller, CallerKind, is_admin, verify_bearer};
use crate::origin::{EnvironmentScope, RequestOrigin};
use crate::state::Verifier;
use padconnect_domain::system_users;
use padconnect_store::{Environment, Store, SystemUser};

pub const API_VERSION: &str = "1";

/// Who is calling, where. What not every request needs (the caller's
/// systemuser, whether it is an administrator) is read on first use, so a
/// GET by a connection's owner costs no query for them.
pub struct ApiContext {
    pub caller: Caller,
    pub environment: Environment,
    member: OnceCell<Option<SystemUser>>,
    admin: OnceCell<bool>,
    pub origin: RequestOrigin,
    pub query: HashMap<String, String>,
}

impl<S> FromRequestParts<S> for ApiContext
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
        let verifier = Verifier::from_ref(state);
        let caller = verify_bearer(&verifier, &parts.headers, Audience::PowerPlatform)
            .await
            .map_err(|failure| ApiError::unauthorized(&failure))?;
        let environment_id = environment_of(parts, state).await?;
        let shown = environment_id.to_string();
        let environment = verifier
            .directory
            .environment(&verifier.store, &environment_id)
            .await?
            .ok_or_else(|| ApiError::environment_not_found(&shown))?;
        // Another tenant's environment is one the caller's tenant does not
        // have: the service says so in the words of a new environment's.
        if environment.tenant_id != caller.tenant_id || !environment.is_ready(verifier.store.now())
        {
            return Err(ApiError::environment_not_ready(&shown, caller.tenant_id));
        }
        check_filter(&query, &environment.id)?;
        let origin = RequestOrigin::of(parts).ok_or_else(ApiError::unrouted)?;
        Ok(Self {
            caller,
            environment,
            member: OnceCell::new(),
            admin: OnceCell::new(),
            origin,
            query,
        })
    }
}

/// The environment the host names, or the tenant-level path's `{environment}`.
async fn environment_of<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<EnvironmentId, ApiError> {
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
    /// The caller's enabled systemuser in the environment: an application
    /// user for a service principal. `None` when it has none.
    pub async fn member(&self, store: &Store) -> Result<Option<&SystemUser>, ApiError> {
        let member = self
            .member
            .get_or_try_init(|| async {
                let kind = self.caller.system_user_kind();
                let user = system_users::member(store, &self.environment.id, kind).await?;
                Ok::<_, ApiError>(user)
            })
            .await?;
        Ok(member.as_ref())
    }

    /// Whether the caller is a Power Platform administrator of the tenant,
    /// who sees every connection.
    pub async fn admin(&self, store: &Store) -> Result<bool, ApiError> {
        self.admin
            .get_or_try_init(|| async {
                is_admin(store, &self.caller).await.map_err(ApiError::from)
            })
            .await
            .copied()
    }

    /// The caller as the connections API shows a principal; `member` names
    /// a service principal by its application user.
    pub fn principal(&self, member: Option<&SystemUser>) -> padconnect_store::Principal {
        use padconnect_store::{Principal, PrincipalType};
        match &self.caller.kind {
            CallerKind::ServicePrincipal => Principal {
                id: self.caller.object_id,
                kind: PrincipalType::ServicePrincipal,
                display_name: member
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
