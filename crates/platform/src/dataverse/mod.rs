//! The Dataverse Web API surface (`{org}.crm.dynamics.com/api/data/v9.2`).

mod caller;
mod error;
mod whoami;

use axum::Router;
use axum::routing::get;

pub use caller::DataverseCaller;
pub use error::DataverseError;

use crate::server::AppState;

pub const API_ROOT: &str = "/api/data/v9.2";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/data/v9.2/WhoAmI", get(whoami::who_am_i))
        .route("/api/data/v9.2/WhoAmI()", get(whoami::who_am_i))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> DataverseError {
    DataverseError::unknown_segment(uri.path())
}
