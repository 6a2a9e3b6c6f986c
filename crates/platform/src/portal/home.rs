//! `/` and `/environments`: where a signed-in user starts, and the
//! environment picker; an environment's Home and My flows.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::PortalError;
use super::context::{EnvPage, environments_of};
use super::html::{self, esc};
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
                format!(
                    "<a href=\"/environments/{}/home\">{}</a>",
                    e.id,
                    esc(&e.display_name)
                ),
                format!("<code>{}</code>", e.id),
                esc(&e.org),
            ]
        })
        .collect();
    let body = if environments.is_empty() {
        format!(
            "<h1>Environments</h1>{}",
            empty(
                "You are not a user of any environment of this tenant yet: ask an administrator to add you \
                 (the world file's <code>makers</code> or <code>users</code> of an environment)."
            )
        )
    } else {
        format!(
            "<h1>Environments</h1>{}",
            grid(
                "Environments you are a user of",
                &[
                    Column::new("Name"),
                    Column::new("Environment ID"),
                    Column::new("Org"),
                ],
                &rows
            )
        )
    };
    let chrome = Chrome {
        user_name: &signed_in.user.display_name,
        csrf: &signed_in.csrf,
        environment: None,
        environments,
        section: Section::Elsewhere,
    };
    html::ok(&layout::document("Environments", Some(&chrome), &body))
}

/// `GET /environments/{env}/home`: the seed's path, one link a step.
pub async fn home(page: EnvPage) -> Response {
    let body = format!(
        "<h1>Welcome, {user}</h1>\
         <section class=\"card\" aria-labelledby=\"steps\"><h2 id=\"steps\">A desktop flow connection for a service principal</h2><ol>\
         <li>Share the machine or machine group with the application user: <a href=\"{machines}\">Monitor › Machines</a>, select it, then <strong>Share</strong>.</li>\
         <li>Find the group id: a group's id is in its page's URL (<a href=\"{groups}\">Machine groups</a>); a machine's is in \
         <a href=\"{table}\">Data › Tables › Flow Machine Group</a>.</li>\
         <li>Create the connection as the service principal: <code>padconnect connect</code> (the portal cannot create it as a service principal).</li>\
         <li>Check it in <a href=\"{connections}\">Data › Connections</a>.</li></ol></section>\
         <p>Environment: {env} (<code>{env_id}</code>)</p>",
        user = esc(&page.signed_in.user.display_name),
        machines = page.link("/machines"),
        groups = page.link("/machines/groups"),
        table = page.link("/tables/flowmachinegroup"),
        connections = page.link("/connections"),
        env = esc(&page.actor.environment.display_name),
        env_id = page.actor.environment.id,
    );
    html::ok(&layout::document(
        "Home",
        Some(&page.chrome(Section::Home)),
        &body,
    ))
}

/// `GET /environments/{env}/flows`: the platform keeps no flows, and says
/// where they come from.
pub async fn flows(page: EnvPage) -> Response {
    let body = format!(
        "<h1>My flows</h1>{}",
        empty(&format!(
            "No desktop flows here: this platform stands in for the machines and connections a flow uses, not for the flows. \
             Build flows in Power Automate for desktop, and give them a connection from <a href=\"{}\">Data › Connections</a>.",
            page.link("/connections")
        ))
    );
    html::ok(&layout::document(
        "My flows",
        Some(&page.chrome(Section::Flows)),
        &body,
    ))
}
