//! Solutions (left navigation, as the real portal has it): the solutions
//! imported into the environment, and one solution's connection
//! references (their connection and its status) and flows (on, or off and
//! why). The rules are `domain::solutions`'.

use axum::extract::State;
use axum::response::Response;

use super::PortalError;
use super::context::EnvPage;
use super::html::{self, esc, when};
use super::layout::{self, Column, Row, Section, empty, grid};
use crate::state::AppState;
use padconnect_domain::connections::Status;
use padconnect_domain::solutions::{self, CLOUD_FLOW, DESKTOP_FLOW};

/// `GET /environments/{env}/solutions`.
pub async fn list(State(state): State<AppState>, page: EnvPage) -> Result<Response, PortalError> {
    let installed = state.store.solutions(&page.actor.environment.id).await?;
    let table = if installed.is_empty() {
        empty(
            "No solutions are imported here yet. A pipeline imports one with \
             <code>padconnect deploy --solution ZIP --settings FILE</code> (or pac, or Terraform).",
        )
    } else {
        let rows: Vec<Row> = installed
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "<a href=\"{}\">{}</a>",
                        page.link(&format!("/solutions/{}", s.id)),
                        esc(&s.friendly_name)
                    ),
                    esc(&s.unique_name),
                    esc(&s.version),
                    if s.is_managed { "Managed" } else { "Unmanaged" }.to_owned(),
                    esc(&s.publisher_friendly_name),
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
    Ok(html::ok(&layout::document(
        "Solutions",
        Some(&page.chrome(Section::Solutions)),
        &format!("<h1>Solutions</h1>{table}"),
    )))
}

fn status_cell(status: Option<&Status>) -> String {
    match status {
        Some(Status::Connected) => "<span class=\"status ok\">Connected</span>".to_owned(),
        Some(Status::Error { code, message }) => format!(
            "<span class=\"status bad\">Error</span><br>{}<br><small>{code}</small>",
            esc(message)
        ),
        None => "<span class=\"status bad\">No connection</span>".to_owned(),
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
    let view = solutions::view(
        &state.store,
        page.actor.fleet(),
        &page.actor.environment,
        id,
    )
    .await?;
    let s = &view.solution;
    let references = if view.references.is_empty() {
        empty("This solution has no connection references.")
    } else {
        let rows: Vec<Row> = view
            .references
            .iter()
            .map(|(r, status)| {
                let connection = match &r.connection_id {
                    Some(id) => format!("<code>{}</code>", esc(id)),
                    None => "—".to_owned(),
                };
                vec![
                    format!(
                        "{}<br><small>{}</small>",
                        esc(&r.display_name),
                        esc(&r.logical_name)
                    ),
                    esc(padconnect_solution::connector_name(&r.connector_id)),
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
                        "<span class=\"status ok\">On</span>".to_owned()
                    }
                    Some(off) => format!(
                        "<span class=\"status bad\">Off</span><br>{}<br><small>{}</small>",
                        esc(&off.message),
                        esc(&off.code)
                    ),
                    None => "<span class=\"status\">Off</span><br>It can be turned on.".to_owned(),
                };
                vec![
                    esc(&w.name),
                    kind(w.category).to_owned(),
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
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{list}\">Solutions</a> ›</p><h1>{display}</h1>\
         <p>{name} {version}, {managed}, from {publisher}; installed {installed}.</p>\
         <h2>Connection references</h2>{references}<h2>Flows</h2>{flows}",
        list = page.link("/solutions"),
        display = esc(&s.friendly_name),
        name = esc(&s.unique_name),
        version = esc(&s.version),
        managed = if s.is_managed { "managed" } else { "unmanaged" },
        publisher = esc(&s.publisher_friendly_name),
        installed = when(s.installed_on),
    );
    Ok(html::ok(&layout::document(
        &s.friendly_name,
        Some(&page.chrome(Section::Solutions)),
        &body,
    )))
}
