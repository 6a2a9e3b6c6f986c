//! The Dataverse Web API surface (`{org}.crm.dynamics.com/api/data/v9.2`).

mod error;

use axum::Router;

pub use error::DataverseError;

use crate::server::AppState;

pub fn router(state: AppState) -> Router {
    Router::new().fallback(not_found).with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> DataverseError {
    DataverseError::unknown_segment(uri.path())
}
