//! `/` and `/environments`: where a signed-in user starts, and the
//! environment picker; an environment's Home and My flows.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::PortalError;
use super::context::{EnvPage, environments_of};
use maud::html;

use super::html;
use super::layout::{self, Chrome, Column, Row, Section, empty, grid};
use super::query::PageQuery;
use super::session::SignedIn;
use crate::state::AppState;

/// The first environment's machines, or the list when there are several.
pub async fn root(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PortalError> {
    let environments = environments_of(&state.store, &signed_in).await?;
    match environments.as_slice() {
        [only] => Ok(html::see_other(&format!(
            "/environments/{}/machines",
            only.id
        ))),
        _ => Ok(list(&signed_in, &environments)),
    }
}

#[derive(Deserialize)]
pub struct Pick {
    id: Option<String>,
}

/// `GET /environments[?id=...]`: the picker's target.
pub async fn environments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    PageQuery(pick): PageQuery<Pick>,
) -> Result<Response, PortalError> {
    let environments = environments_of(&state.store, &signed_in).await?;
    match pick.id {
        Some(id) => {
            let env = environments
                .iter()
                .find(|e| e.id.to_string().eq_ignore_ascii_case(id.trim()))
                .ok_or_else(|| {
                    PortalError::not_found(format!(
                        "There is no environment '{id}' that you are a user of."
                    ))
                })?;
            Ok(html::see_other(&format!(
                "/environments/{}/machines",
                env.id
            )))
        }
        None => Ok(list(&signed_in, &environments)),
    }
}

fn list(signed_in: &SignedIn, environments: &[padconnect_store::Environment]) -> Response {
    let rows: Vec<Row> = environments
        .iter()
        .map(|e| {
            vec![
                html! { a href={ "/environments/" (e.id) "/home" } { (e.display_name) } },
                html! { code { (e.id) } },
                html! { (e.org) },
            ]
        })
        .collect();
    let table = if environments.is_empty() {
        empty(html! {
            "You are not a user of any environment of this tenant yet: ask an administrator to add you \
             (the world file's " code { "makers" } " or " code { "users" } " of an environment)."
        })
    } else {
        grid(
            "Environments you are a user of",
            &[
                Column::new("Name"),
                Column::new("Environment ID"),
                Column::new("Org"),
            ],
            &rows,
        )
    };
    let body = html! { h1 { "Environments" } (table) };
    let chrome = Chrome {
        user_name: &signed_in.user.display_name,
        csrf: &signed_in.csrf,
        environment: None,
        environments,
        section: Section::Elsewhere,
    };
    html::ok(layout::document("Environments", Some(&chrome), body))
}

/// `GET /environments/{env}/home`: the seed's path, one link a step.
pub async fn home(page: EnvPage) -> Response {
    let body = html! {
        h1 { "Welcome, " (page.signed_in.user.display_name) }
        section class="card" aria-labelledby="steps" {
            h2 id="steps" { "A desktop flow connection for a service principal" }
            ol {
                li {
                    "Share the machine or machine group with the application user: "
                    a href=(page.link("/machines")) { "Monitor › Machines" }
                    ", select it, then " strong { "Share" } "."
                }
                li {
                    "Find the group id: a group's id is in its page's URL ("
                    a href=(page.link("/machines/groups")) { "Machine groups" }
                    "); a machine's is in "
                    a href=(page.link("/tables/flowmachinegroup")) { "Data › Tables › Flow Machine Group" }
                    "."
                }
                li {
                    "Create the connection as the service principal: " code { "padconnect connect" }
                    " (the portal cannot create it as a service principal)."
                }
                li { "Check it in " a href=(page.link("/connections")) { "Data › Connections" } "." }
            }
        }
        p {
            "Environment: " (page.actor.member.environment.display_name)
            " (" code { (page.actor.member.environment.id) } ")"
        }
    };
    html::ok(layout::document(
        "Home",
        Some(&page.chrome(Section::Home)),
        body,
    ))
}

/// `GET /environments/{env}/flows`: the platform keeps no flows, and says
/// where they come from.
pub async fn flows(page: EnvPage) -> Response {
    let message = html! {
        "No desktop flows here: this platform stands in for the machines and connections a flow uses, not for the flows. \
         Build flows in Power Automate for desktop, and give them a connection from "
        a href=(page.link("/connections")) { "Data › Connections" } "."
    };
    let body = html! { h1 { "My flows" } (empty(message)) };
    html::ok(layout::document(
        "My flows",
        Some(&page.chrome(Section::Flows)),
        body,
    ))
}
