//! The Entra ID surface (`login.microsoftonline.com`).

mod error;

use axum::Router;

pub use error::AadError;

use crate::server::AppState;

pub fn router(state: AppState) -> Router {
    Router::new().fallback(not_found).with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> AadError {
    AadError::not_found(uri.path())
}
