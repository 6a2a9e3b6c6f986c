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

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use padconnect_core::{Cloud, EnvironmentId};
use serde_json::{Value, json};

use crate::auth::{Audience, Caller, CallerKind, is_admin, verify_bearer};
use crate::origin::RequestOrigin;
use crate::power_platform_error::ApiError;
use crate::state::{AppState, Verifier};
use axum::extract::FromRef;
use padconnect_store::Environment;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Admin,
    Member,
}

/// Both views: the admin scope answers administrators and management apps,
/// the user scope the environment's members too.
pub async fn environment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    axum::Extension(origin): axum::Extension<RequestOrigin>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let scope = match uri.path().contains("/scopes/admin/") {
        true => Scope::Admin,
        false => Scope::Member,
    };
    if !query.contains_key("api-version") {
        return Err(ApiError::missing_api_version());
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let caller = verify_bearer(&Verifier::from_ref(&state), authorization, Audience::Bap)
        .await
        .map_err(|failure| ApiError::unauthorized_for(&failure, Audience::Bap))?;
    let missing = || ApiError::environment_not_found(&id);
    let env_id: EnvironmentId = id.parse().map_err(|_| missing())?;
    let environment = state
        .directory
        .environment(&state.store, &env_id)
        .await?
        // Another tenant's environment does not exist for this caller.
        .filter(|env| env.tenant_id == caller.tenant_id)
        .ok_or_else(missing)?;
    let allowed = is_admin(&state.store, &caller).await?
        || (scope == Scope::Member && is_member(&state, &caller, &environment).await?);
    if !allowed {
        return Err(forbidden(&caller, &origin, &uri));
    }
    Ok(Json(body(&environment, &origin, scope)))
}

async fn is_member(
    state: &AppState,
    caller: &Caller,
    environment: &Environment,
) -> Result<bool, ApiError> {
    let kind = caller.system_user_kind();
    let user = state.store.system_user_for(&environment.id, kind).await?;
    Ok(user.is_some_and(|u| !u.isdisabled))
}

fn forbidden(caller: &Caller, origin: &RequestOrigin, uri: &Uri) -> ApiError {
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

fn body(env: &Environment, origin: &RequestOrigin, scope: Scope) -> Value {
    let id = env.id.to_string();
    let path = match scope {
        Scope::Admin => "scopes/admin/environments",
        Scope::Member => "environments",
    };
    let instance_url = dataverse_url(origin, &env.org);
    json!({
        "id": format!("/providers/Microsoft.BusinessAppPlatform/{path}/{id}"),
        "type": "Microsoft.BusinessAppPlatform/scopes/environments",
        "name": id,
        "properties": {
            "tenantId": env.tenant_id,
            "displayName": env.display_name,
            "provisioningState": "Succeeded",
            "isDefault": matches!(env.id, EnvironmentId::Default(_)),
            "databaseType": "CommonDataService",
            "linkedEnvironmentMetadata": {
                "friendlyName": env.display_name,
                "uniqueName": env.org,
                "domainName": env.org,
                "instanceUrl": format!("{instance_url}/"),
                "instanceApiUrl": instance_url,
                "instanceState": "Ready",
            },
            "states": { "management": { "id": "Ready" }, "runtime": { "id": "Enabled" } },
        },
    })
}

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
