//! The Power Automate portal surface (`make.powerautomate.com`, or `/`
//! path-style): the pages a person uses for the seed's first steps.
//!
//! - `session`: signing in with a world-file user, sessions in the store
//! - `csrf`: the token every POST form carries
//! - `context`: the environment a page is about, and who acts there
//! - `service`: the rules (shared with the APIs through `padconnect_domain`)
//! - `layout`, `html`, `icons`, `error`: the page layout and its
//!   stylesheet, headers (pages are maud `html!` templates, which escape
//!   every value), icons, error pages (inside the layout when signed in)
//! - `form`: forms that come back with their problem beside the field
//! - `signin`, `home`, `solutions`, `machines`, `groups`, `accounts`,
//!   `share`, `connections`, `connection_share`, `runs`, `tables`: pages

mod accounts;
mod connection_share;
mod connections;
mod context;
mod csrf;
mod error;
mod form;
mod groups;
mod home;
mod html;
mod icons;
mod layout;
mod machines;
mod query;
mod runs;
mod service;
mod session;
mod share;
mod signin;
mod solutions;
mod tables;

use axum::Router;
use axum::http::Uri;
use axum::routing::{get, post};

pub use error::PortalError;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let env = "/environments/{env}";
    Router::new()
        .route("/", get(home::root))
        .route("/signin", get(signin::show).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/environments", get(home::environments))
        .route(env, get(redirect_to_machines))
        .route(&format!("{env}/home"), get(home::home))
        .route(&format!("{env}/flows"), get(home::flows))
        .route(&format!("{env}/solutions"), get(solutions::list))
        .route(
            &format!("{env}/solutions/{{solution}}"),
            get(solutions::solution),
        )
        .route(&format!("{env}/machines"), get(machines::list))
        .route(&format!("{env}/desktop-flow-runs"), get(runs::list))
        .route(
            &format!("{env}/machines/groups"),
            get(groups::groups).post(groups::create),
        )
        .route(
            &format!("{env}/machines/groups/{{group}}"),
            get(groups::group),
        )
        .route(
            &format!("{env}/machines/groups/{{group}}/password"),
            post(groups::set_password),
        )
        .route(
            &format!("{env}/machines/groups/{{group}}/share"),
            get(share::panel).post(share::grant),
        )
        .route(
            &format!("{env}/machines/groups/{{group}}/share/remove"),
            post(share::revoke),
        )
        .route(
            &format!("{env}/machines/{{machine}}"),
            get(machines::machine),
        )
        .route(
            &format!("{env}/machines/{{machine}}/accounts/password"),
            post(accounts::set_password),
        )
        .route(
            &format!("{env}/machines/{{machine}}/share"),
            get(share::panel).post(share::grant),
        )
        .route(
            &format!("{env}/machines/{{machine}}/share/remove"),
            post(share::revoke),
        )
        .route(&format!("{env}/connections"), get(connections::list))
        .route(
            &format!("{env}/connections/{{connection}}/delete"),
            get(connections::confirm_delete).post(connections::delete),
        )
        .route(
            &format!("{env}/connections/{{connection}}/share"),
            get(connection_share::panel).post(connection_share::grant),
        )
        .route(
            &format!("{env}/connections/{{connection}}/share/remove"),
            post(connection_share::revoke),
        )
        .route(&format!("{env}/tables"), get(tables::all))
        .route(
            &format!("{env}/tables/flowmachinegroup"),
            get(tables::flow_machine_group),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::in_layout,
        ))
        .with_state(state)
}

async fn redirect_to_machines(uri: Uri) -> axum::response::Response {
    html::see_other(&format!("{}/machines", uri.path().trim_end_matches('/')))
}

async fn not_found(uri: Uri) -> PortalError {
    PortalError::not_found(format!("There is no page at {}.", uri.path()))
}

async fn method_not_allowed() -> PortalError {
    PortalError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "This page does not take that kind of request.",
    )
}
