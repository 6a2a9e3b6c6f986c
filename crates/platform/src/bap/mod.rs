//! The Business Application Platform (BAP) admin API, the calls Microsoft's
//! Terraform provider makes of it (terraform-provider-power-platform
//! `internal/services/environment/api_environment.go`): `GetEnvironmentHostById`
//! reads `properties.linkedEnvironmentMetadata.instanceUrl` of
//! `GET https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{id}?api-version=2023-06-01`,
//! with a token for `https://service.powerapps.com/.default`; `GetEnvironments`
//! lists `.../scopes/admin/environments` (the `powerplatform_environments`
//! data source).
//!
//! The admin scope answers the tenant's Power Platform administrators and
//! the apps registered as management applications (`pac admin application
//! register`; here, the world's `admins`); the user scope
//! (`/providers/Microsoft.BusinessAppPlatform/environments/{id}`) answers
//! the environment's members. Errors have the Power Platform API's
//! `{"error":{"code","message"}}` envelope.

mod environments;

use axum::Router;
use axum::routing::get;

use crate::power_platform_error::{self, ApiError};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    const PROVIDER: &str = "/providers/Microsoft.BusinessAppPlatform";
    Router::new()
        .route(
            &format!("{PROVIDER}/scopes/admin/environments"),
            get(environments::list),
        )
        .route(&format!("{PROVIDER}/environments"), get(environments::list))
        .route(
            &format!("{PROVIDER}/scopes/admin/environments/{{id}}"),
            get(environments::environment),
        )
        .route(
            &format!("{PROVIDER}/environments/{{id}}"),
            get(environments::environment),
        )
        .method_not_allowed_fallback(power_platform_error::method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The route '{}' does not exist on this platform's BAP API: it serves /providers/Microsoft.BusinessAppPlatform/scopes/admin/environments[/{{id}}] and /providers/Microsoft.BusinessAppPlatform/environments[/{{id}}].",
            uri.path()
        ),
    )
}
