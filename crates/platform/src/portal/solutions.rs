//! Solutions (left navigation, as the real portal has it): the solutions
//! imported into the environment, and one solution's connection
//! references (their connection and its status) and flows (on, or off and
//! why). The rules are `domain::solutions`'.

use axum::extract::State;
use axum::response::Response;

use super::PortalError;
use super::context::EnvPage;
use super::html::{self, esc, when};
use super::layout::{self, Section, columns, empty, grid};
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
        let rows: String = installed
            .iter()
            .map(|s| {
                format!(
                    "<tr><td><a href=\"{link}\">{display}</a></td><td>{name}</td><td>{version}</td>\
                     <td>{managed}</td><td>{publisher}</td><td>{installed}</td></tr>",
                    link = page.link(&format!("/solutions/{}", s.id)),
                    display = esc(&s.friendly_name),
                    name = esc(&s.unique_name),
                    version = esc(&s.version),
                    managed = if s.is_managed { "Managed" } else { "Unmanaged" },
                    publisher = esc(&s.publisher_friendly_name),
                    installed = when(s.installed_on),
                )
            })
            .collect();
        let head = columns(&[
            "Display name",
            "Name",
            "Version",
            "Type",
            "Publisher",
            "Installed",
        ]);
        grid("Solutions", &head, &rows)
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
        let rows: String = view
            .references
            .iter()
            .map(|(r, status)| {
                let connection = match &r.connection_id {
                    Some(id) => format!("<code>{}</code>", esc(id)),
                    None => "—".to_owned(),
                };
                format!(
                    "<tr><td>{name}<br><small>{logical}</small></td><td>{connector}</td><td>{connection}</td><td>{status}</td></tr>",
                    name = esc(&r.display_name),
                    logical = esc(&r.logical_name),
                    connector = esc(padconnect_solution::connector_name(&r.connector_id)),
                    status = status_cell(status.as_ref()),
                )
            })
            .collect();
        let head = columns(&["Connection reference", "Connector", "Connection", "Status"]);
        grid("Connection references", &head, &rows)
    };
    let flows = if view.flows.is_empty() {
        empty("This solution has no flows you can see.")
    } else {
        let rows: String = view
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
                format!(
                    "<tr><td>{name}</td><td>{kind}</td><td>{state}</td><td>{modified}</td></tr>",
                    name = esc(&w.name),
                    kind = kind(w.category),
                    modified = when(w.modified_on),
                )
            })
            .collect();
        let head = columns(&["Flow", "Type", "State", "Modified"]);
        grid("Flows", &head, &rows)
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
