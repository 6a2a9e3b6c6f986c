//! The Power Platform API surface: connections, at tenant level
//! (`api.powerplatform.com`) and environment level
//! (`{ENVIRONMENT_ID_URL}.environment.api.powerplatform.com`).

mod error;

use axum::Router;

pub use error::ApiError;

use crate::server::AppState;

pub fn tenant_router(state: AppState) -> Router {
    Router::new().fallback(not_found).with_state(state)
}

pub fn environment_router(state: AppState) -> Router {
    Router::new().fallback(not_found).with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(uri.path())
}
