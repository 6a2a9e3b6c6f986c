//! The Dataverse Web API surface (`{org}.crm.dynamics.com/api/data/v9.2`).

mod access;
mod actions;
mod annotations;
mod batch;
mod caller;
mod column_types;
mod desktop_runs;
mod entities;
mod error;
mod expand;
mod fetchxml;
mod import_log;
mod membership;
mod metadata;
mod odata;
mod org_tables;
mod prefer;
mod served;
mod sharing;
mod solution_tables;
mod solutions;
mod tables;
mod whoami;
mod write_headers;
mod writes;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, get, on};

pub use caller::DataverseCaller;
pub use error::DataverseError;

use crate::state::AppState;

pub const API_ROOT: &str = "/api/data/v9.2";

/// The longest URL Dataverse accepts, in characters: "The maximum length
/// of URL accepted is 32 KB (32768 characters)" (Compose HTTP requests and
/// handle errors). A `$batch` body's inner requests may be longer.
pub const MAX_URL_CHARS: usize = 32_768;

pub fn router(state: AppState) -> Router {
    // The unbound operations with routes of their own, from the one list.
    let mut router = Router::new();
    for operation in served::OPERATIONS {
        let method = method_filter(operation.method);
        if let Some(route) = method.and_then(|method| own_route(operation.name, method)) {
            router = router.route(&format!("{API_ROOT}/{}", operation.path), route);
        }
    }
    router
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
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

fn method_filter(method: &str) -> Option<MethodFilter> {
    match method {
        "GET" => Some(MethodFilter::GET),
        "POST" => Some(MethodFilter::POST),
        _ => None,
    }
}

/// The handler of an unbound operation that has its own route; `None` for
/// those the `{segment}` routes dispatch (functions called with arguments,
/// `EntityDefinitions`).
fn own_route(name: &str, method: MethodFilter) -> Option<MethodRouter<AppState>> {
    Some(match name {
        "WhoAmI" => on(method, whoami::who_am_i),
        "GrantAccess" => on(method, sharing::grant),
        "ModifyAccess" => on(method, sharing::modify),
        "RevokeAccess" => on(method, sharing::revoke),
        "$batch" => on(method, batch::execute),
        "StageSolution" => on(method, solutions::stage),
        "ImportSolutionAsync" => on(method, solutions::import_async),
        "ImportSolution" => on(method, solutions::import),
        _ => return None,
    })
}

async fn method_not_allowed(method: axum::http::Method) -> DataverseError {
    DataverseError::method_not_allowed(method.as_str())
}

async fn not_found(uri: axum::http::Uri) -> DataverseError {
    DataverseError::unknown_segment(uri.path())
}
