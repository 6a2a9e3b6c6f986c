//! `GET .../environments/{id}`: an environment as BAP shows it, with the
//! fields Microsoft's tools read. The shape is the Terraform provider's
//! recorded answer (`internal/services/environment/tests/datasource/
//! Validate_Read/get_environment_00000000-0000-0000-0000-000000000001.json`);
//! a 404 is `EnvironmentNotFound` as its unit tests record BAP's
//! (`{"error":{"code":"EnvironmentNotFound","message":"The environment could
//! not be found."}}`); a 403 is `Forbidden` with the sentence users quote
//! (terraform-provider-power-platform#665, powerplatform-build-tools#531:
//! "The service principal with id '...' for application ... does not have
//! permission to access the path '...' in tenant ...").

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use padconnect_core::{Cloud, EnvironmentId};
use serde_json::{Value, json};

use crate::auth::{Audience, Caller, CallerKind, is_admin, verify_bearer};
use crate::origin::RequestOrigin;
use crate::power_platform_error::ApiError;
use crate::state::{AppState, Verifier};
use axum::extract::FromRef;
use padconnect_domain::system_users;
use padconnect_store::Environment;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Admin,
    Member,
}

/// `GET .../environments`: the tenant's environments for an administrator
/// in both scopes; in the user scope, those the caller is a member of
/// (`{"value":[...]}`, as `get_environments.json` records it). The
/// `$expand` the provider sends (`properties/billingPolicy`,
/// `properties/copilotPolicies`) names what the platform does not keep; it
/// is taken and the fields left out, as the service leaves out a policy an
/// environment has none of.
pub async fn list(
    State(state): State<AppState>,
    request: BapRequest,
) -> Result<Json<Value>, ApiError> {
    let caller = &request.caller;
    let admin = is_admin(&state.store, caller).await?;
    if request.scope == Scope::Admin && !admin {
        return Err(forbidden(&request));
    }
    let mut value = Vec::new();
    for environment in state.store.environments(caller.tenant_id).await? {
        if admin || is_member(&state, caller, &environment).await? {
            value.push(body(&environment, &request.origin, request.scope));
        }
    }
    Ok(Json(json!({ "value": value })))
}

/// What every BAP request carries: an `api-version` and a token for BAP
/// (checked in that order), the scope its path names, and where it was
/// sent (for a 403's path).
pub struct BapRequest {
    caller: Caller,
    scope: Scope,
    origin: RequestOrigin,
    uri: Uri,
}

impl FromRequestParts<AppState> for BapRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let has_version = parts.uri.query().is_some_and(|query| {
            url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "api-version")
        });
        if !has_version {
            return Err(ApiError::missing_api_version());
        }
        let caller = verify_bearer(&Verifier::from_ref(state), &parts.headers, Audience::Bap)
            .await
            .map_err(|failure| ApiError::unauthorized_for(&failure, Audience::Bap))?;
        let origin = RequestOrigin::of(parts).ok_or_else(ApiError::unrouted)?;
        let scope = match parts.uri.path().contains("/scopes/admin/") {
            true => Scope::Admin,
            false => Scope::Member,
        };
        Ok(Self {
            caller,
            scope,
            origin,
            uri: parts.uri.clone(),
        })
    }
}

/// Both views: the admin scope answers administrators and management apps,
/// the user scope the environment's members too.
pub async fn environment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: BapRequest,
) -> Result<Json<Value>, ApiError> {
    let caller = &request.caller;
    let missing = || ApiError::environment_not_found(&id);
    let env_id: EnvironmentId = id.parse().map_err(|_| missing())?;
    let environment = state
        .directory
        .environment(&state.store, &env_id)
        .await?
        // Another tenant's environment does not exist for this caller.
        .filter(|env| env.tenant_id == caller.tenant_id)
        .ok_or_else(missing)?;
    let allowed = is_admin(&state.store, caller).await?
        || (request.scope == Scope::Member && is_member(&state, caller, &environment).await?);
    if !allowed {
        return Err(forbidden(&request));
    }
    Ok(Json(body(&environment, &request.origin, request.scope)))
}

async fn is_member(
    state: &AppState,
    caller: &Caller,
    environment: &Environment,
) -> Result<bool, ApiError> {
    let kind = caller.system_user_kind();
    let member = system_users::member(&state.store, &environment.id, kind).await?;
    Ok(member.is_some())
}

/// BAP's 403, naming the caller and the path it asked for.
fn forbidden(request: &BapRequest) -> ApiError {
    let BapRequest {
        caller,
        origin,
        uri,
        ..
    } = request;
    let path = origin.url(&uri.to_string());
    let who = match &caller.kind {
        CallerKind::ServicePrincipal => format!(
            "The service principal with id '{}' for application {}",
            caller.object_id, caller.app_id
        ),
        CallerKind::User { .. } => format!("The user with id '{}'", caller.object_id),
    };
    let fix = match caller.kind {
        CallerKind::ServicePrincipal => {
            "register the app as a management application (pac admin application register --application-id ID), or pass the org's URL yourself"
        }
        CallerKind::User { .. } => {
            "ask a Power Platform administrator, or pass the org's URL yourself"
        }
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "{who} does not have permission to access the path '{path}' in tenant {}: {fix}.",
            caller.tenant_id
        ),
    )
}

/// An environment as BAP shows it: the fields the provider's
/// `EnvironmentDto` reads (`models.go`, `convertSourceModelFromEnvironmentDto`:
/// location, azureRegion, environmentSku, updateCadence,
/// linkedEnvironmentMetadata with resourceId, version, baseLanguage,
/// backgroundOperationsState, states), in the recorded shape; its
/// `bingChatEnabled` and `m365Enabled` are absent there, so here too.
/// What the platform does not model has the recorded answer's usual value:
/// a Production environment of the United States (the Default environment
/// is `Default`), English (1033), the Frequent cadence.
fn body(env: &Environment, origin: &RequestOrigin, scope: Scope) -> Value {
    let id = env.id.to_string();
    let path = match scope {
        Scope::Admin => "scopes/admin/environments",
        Scope::Member => "environments",
    };
    let instance_url = dataverse_url(origin, &env.org);
    let default = matches!(env.id, EnvironmentId::Default(_));
    json!({
        "id": format!("/providers/Microsoft.BusinessAppPlatform/{path}/{id}"),
        "type": "Microsoft.BusinessAppPlatform/scopes/environments",
        "location": LOCATION,
        "name": id,
        "properties": {
            "tenantId": env.tenant_id,
            "azureRegion": AZURE_REGION,
            "displayName": env.display_name,
            "description": "",
            "provisioningState": "Succeeded",
            "environmentSku": if default { "Default" } else { "Production" },
            "isDefault": default,
            "databaseType": "CommonDataService",
            "updateCadence": { "id": "Frequent" },
            "linkedEnvironmentMetadata": {
                "resourceId": padconnect_domain::ids::organization_id(&env.id),
                "friendlyName": env.display_name,
                "uniqueName": env.org,
                "domainName": env.org,
                "version": DATAVERSE_VERSION,
                "instanceUrl": format!("{instance_url}/"),
                "instanceApiUrl": instance_url,
                "baseLanguage": 1033,
                "instanceState": "Ready",
                "backgroundOperationsState": "Enabled",
            },
            "states": { "management": { "id": "Ready" }, "runtime": { "id": "Enabled" } },
        },
    })
}

/// The Power Platform location and Azure region every environment here is in.
const LOCATION: &str = "unitedstates";
const AZURE_REGION: &str = "westus";
/// The Dataverse version the platform's Web API imitates (v9.2).
const DATAVERSE_VERSION: &str = "9.2.24101.00208";

/// The org's Dataverse URL under the names the request came in by: the
/// cloud's own (`api.bap.microsoft.com` → `https://{org}.crm.dynamics.com`),
/// the `.localhost` forms (`https://{org}.crm.localhost:8443`), or the
/// path-style `/orgs/{org}` on a bare address.
fn dataverse_url(origin: &RequestOrigin, org: &str) -> String {
    let (host, port) = match origin.authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, format!(":{port}"))
        }
        _ => (origin.authority.as_str(), String::new()),
    };
    let host = host.to_ascii_lowercase();
    let scheme = origin.scheme;
    if host.ends_with(".localhost") {
        return format!("{scheme}://{org}.crm.localhost{port}");
    }
    match Cloud::ALL.into_iter().find(|c| c.hosts().bap == host) {
        Some(cloud) => format!("{scheme}://{org}.{}{port}", cloud.hosts().dataverse),
        None => format!("{scheme}://{}/orgs/{org}", origin.authority),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(authority: &str, prefix: &str) -> RequestOrigin {
        RequestOrigin {
            scheme: "https",
            authority: authority.to_owned(),
            prefix: prefix.to_owned(),
        }
    }

    #[test]
    fn the_dataverse_url_follows_the_name_the_request_used() {
        let cases = [
            (
                "api.bap.microsoft.com",
                "",
                "https://contoso.crm.dynamics.com",
            ),
            (
                "gov.api.bap.microsoft.us",
                "",
                "https://contoso.crm9.dynamics.com",
            ),
            (
                "api.bap.localhost:8443",
                "",
                "https://contoso.crm.localhost:8443",
            ),
            (
                "127.0.0.1:7232",
                "/bap",
                "https://127.0.0.1:7232/orgs/contoso",
            ),
            ("[::1]:7232", "/bap", "https://[::1]:7232/orgs/contoso"),
        ];
        for (authority, prefix, want) in cases {
            assert_eq!(
                dataverse_url(&origin(authority, prefix), "contoso"),
                want,
                "{authority}"
            );
        }
    }
}
