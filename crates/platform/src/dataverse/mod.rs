//! The Dataverse Web API surface (`{org}.crm.dynamics.com/api/data/v9.2`).

mod access;
mod actions;
mod annotations;
mod batch;
mod caller;
mod desktop_runs;
mod entities;
mod error;
mod fetchxml;
mod import_log;
mod membership;
mod metadata;
mod odata;
mod org_tables;
mod sharing;
mod solution_tables;
mod solutions;
mod tables;
mod whoami;
mod writes;

use axum::Router;
use axum::routing::{get, post};

pub use caller::DataverseCaller;
pub use error::DataverseError;

use crate::state::AppState;

pub const API_ROOT: &str = "/api/data/v9.2";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/data/v9.2/WhoAmI", get(whoami::who_am_i))
        .route("/api/data/v9.2/WhoAmI()", get(whoami::who_am_i))
        .route("/api/data/v9.2/GrantAccess", post(sharing::grant))
        .route("/api/data/v9.2/ModifyAccess", post(sharing::modify))
        .route("/api/data/v9.2/RevokeAccess", post(sharing::revoke))
        .route("/api/data/v9.2/$batch", post(batch::execute))
        .route("/api/data/v9.2/StageSolution", post(solutions::stage))
        .route(
            "/api/data/v9.2/ImportSolutionAsync",
            post(solutions::import_async),
        )
        .route("/api/data/v9.2/ImportSolution", post(solutions::import))
        .route(
            "/api/data/v9.2/{segment}",
            get(entities::get)
                .post(writes::post)
                .patch(writes::patch)
                .delete(writes::delete),
        )
        .route(
            "/api/data/v9.2/{segment}/{operation}",
            get(entities::get_operation).post(actions::post_operation),
        )
        .route(
            "/api/data/v9.2/{segment}/{property}/{value}",
            get(actions::get_value),
        )
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> DataverseError {
    DataverseError::unknown_segment(uri.path())
}
