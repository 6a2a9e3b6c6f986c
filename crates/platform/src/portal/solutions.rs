//! Solutions (left navigation, as the real portal has it): the solutions
//! imported into the environment, and one solution's connection
//! references (their connection and its status) and flows (on, or off and
//! why). The rules are `domain::solutions`'.

use axum::extract::State;
use axum::response::Response;

use super::PortalError;
use super::context::EnvPage;
use maud::{Markup, html};

use super::html::{self, when};
use super::layout::{self, Column, Row, Section, empty, grid};
use crate::state::AppState;
use padconnect_domain::connections::Status;
use padconnect_domain::solutions::{self, CLOUD_FLOW, DESKTOP_FLOW};

/// `GET /environments/{env}/solutions`.
pub async fn list(State(state): State<AppState>, page: EnvPage) -> Result<Response, PortalError> {
    let installed = state
        .store
        .solutions(&page.actor.member.environment.id)
        .await?;
    let table = if installed.is_empty() {
        empty(html! {
            "No solutions are imported here yet. A pipeline imports one with "
            code { "padconnect deploy --solution ZIP --settings FILE" } " (or pac, or Terraform)."
        })
    } else {
        let rows: Vec<Row> = installed
            .iter()
            .map(|s| {
                vec![
                    html! { a href=(page.link(&format!("/solutions/{}", s.id))) { (s.friendly_name) } },
                    html! { (s.unique_name) },
                    html! { (s.version) },
                    html! { @if s.is_managed { "Managed" } @else { "Unmanaged" } },
                    html! { (s.publisher_friendly_name) },
                    when(s.installed_on),
                ]
            })
            .collect();
        let columns = [
            Column::new("Display name"),
            Column::new("Name"),
            Column::new("Version"),
            Column::new("Type"),
            Column::new("Publisher"),
            Column::new("Installed"),
        ];
        grid("Solutions", &columns, &rows)
    };
    Ok(html::ok(layout::document(
        "Solutions",
        Some(&page.chrome(Section::Solutions)),
        html! { h1 { "Solutions" } (table) },
    )))
}

fn status_cell(status: Option<&Status>) -> Markup {
    match status {
        Some(Status::Connected) => html! { span class="status ok" { "Connected" } },
        Some(Status::Error { code, message }) => html! {
            span class="status bad" { "Error" } br; (message) br; small { (code) }
        },
        None => html! { span class="status bad" { "No connection" } },
    }
}

fn kind(category: i64) -> &'static str {
    match category {
        CLOUD_FLOW => "Cloud flow",
        DESKTOP_FLOW => "Desktop flow",
        _ => "Process",
    }
}

/// `GET /environments/{env}/solutions/{solution}`.
pub async fn solution(
    State(state): State<AppState>,
    page: EnvPage,
) -> Result<Response, PortalError> {
    let id = page.id_param("solution", "solution")?;
    let view = solutions::view(page.actor.member.scope(&state.store), id).await?;
    let s = &view.solution;
    let references = if view.references.is_empty() {
        empty("This solution has no connection references.")
    } else {
        let rows: Vec<Row> = view
            .references
            .iter()
            .map(|(r, status)| {
                let connection = match &r.connection_id {
                    Some(id) => html! { code { (id) } },
                    None => html! { "—" },
                };
                vec![
                    html! { (r.display_name) br; small { (r.logical_name) } },
                    html! { (padconnect_solution::connector_name(&r.connector_id)) },
                    connection,
                    status_cell(status.as_ref()),
                ]
            })
            .collect();
        let columns = [
            Column::noted("Connection reference", "logical name"),
            Column::new("Connector"),
            Column::new("Connection"),
            Column::new("Status"),
        ];
        grid("Connection references", &columns, &rows)
    };
    let flows = if view.flows.is_empty() {
        empty("This solution has no flows you can see.")
    } else {
        let rows: Vec<Row> = view
            .flows
            .iter()
            .map(|(w, off)| {
                let state = match off {
                    _ if w.statecode == solutions::ON.0 => {
                        html! { span class="status ok" { "On" } }
                    }
                    Some(off) => html! {
                        span class="status bad" { "Off" } br; (off.message) br; small { (off.code) }
                    },
                    None => html! { span class="status" { "Off" } br; "It can be turned on." },
                };
                vec![
                    html! { (w.name) },
                    html! { (kind(w.category)) },
                    state,
                    when(w.modified_on),
                ]
            })
            .collect();
        let columns = [
            Column::new("Flow"),
            Column::new("Type"),
            Column::new("State"),
            Column::new("Modified"),
        ];
        grid("Flows", &columns, &rows)
    };
    let body = html! {
        p class="crumbs" { a href=(page.link("/solutions")) { "Solutions" } " ›" }
        h1 { (s.friendly_name) }
        p {
            (s.unique_name) " " (s.version) ", "
            @if s.is_managed { "managed" } @else { "unmanaged" }
            ", from " (s.publisher_friendly_name) "; installed " (when(s.installed_on)) "."
        }
        h2 { "Connection references" }
        (references)
        h2 { "Flows" }
        (flows)
    };
    Ok(html::ok(layout::document(
        &s.friendly_name,
        Some(&page.chrome(Section::Solutions)),
        body,
    )))
}
