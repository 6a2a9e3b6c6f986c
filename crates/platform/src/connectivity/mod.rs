//! The Power Platform API surface: connections, at environment level
//! (`{ENVIRONMENT_ID_URL}.environment.api.powerplatform.com/connectivity/...`)
//! and at tenant level (`api.powerplatform.com/connectivity/environments/{id}/...`).

mod connections;
mod context;
mod permissions;
mod render;
pub mod service;

use axum::Router;
use axum::routing::{get, post};

use crate::power_platform_error;
pub use crate::power_platform_error::ApiError;

use crate::state::AppState;

/// The connection routes, relative to `/connectivity` (environment host) or
/// `/connectivity/environments/{environment}` (tenant host).
fn routes() -> Router<AppState> {
    Router::new()
        .route("/connections", get(connections::list))
        .route(
            "/connectors/{connector}/connections/{id}",
            get(connections::get)
                .put(connections::put)
                .delete(connections::delete),
        )
        .route(
            "/connectors/{connector}/connections/{id}/permissions",
            get(permissions::list),
        )
        .route(
            "/connectors/{connector}/connections/{id}/modifyPermissions",
            post(permissions::modify),
        )
        .method_not_allowed_fallback(power_platform_error::method_not_allowed)
}

pub fn tenant_router(state: AppState) -> Router {
    Router::new()
        .nest("/connectivity/environments/{environment}", routes())
        .fallback(not_found)
        .with_state(state)
}

pub fn environment_router(state: AppState) -> Router {
    Router::new()
        .nest("/connectivity", routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(uri.path())
}
