//! Monitor › Desktop flow runs, as the real portal has it: the runs of the
//! environment that the viewer may read (their flows', or all for an
//! administrator), newest first, with their status and, for a failed run,
//! the error code and message the run ended with. The rules are
//! `domain::runs`'.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use padconnect_core::desktop_runs::{RunMode, SessionStatus};
use uuid::Uuid;

use super::PortalError;
use super::context::EnvPage;
use maud::{Markup, html};

use super::html::{self, when};
use super::layout::{self, Column, Row, Section, empty, grid};
use crate::state::AppState;
use padconnect_domain::runs;
use padconnect_store::FlowSession;

/// The most runs the page lists; older ones stay readable through the Web API.
const MOST_RUNS: i64 = 200;

/// `GET /environments/{env}/desktop-flow-runs`.
pub async fn list(State(state): State<AppState>, page: EnvPage) -> Result<Response, PortalError> {
    let actor = &page.actor;
    let sessions = runs::readable(actor.member.scope(&state.store), MOST_RUNS).await?;
    let body = if sessions.is_empty() {
        empty(html! {
            "No desktop flow has run here yet. A pipeline runs one through its connection with "
            code { "padconnect verify" } " (Dataverse's RunDesktopFlow)."
        })
    } else {
        let machines = machine_names(&state, &sessions).await?;
        let rows: Vec<Row> = sessions.iter().map(|s| row(&page, s, &machines)).collect();
        let columns = [
            Column::new("Desktop flow"),
            Column::new("Status"),
            Column::new("Run mode"),
            Column::new("Machine"),
            Column::new("Started"),
            Column::new("Ended"),
            Column::new("Connection"),
        ];
        grid("Desktop flow runs", &columns, &rows)
    };
    Ok(html::ok(layout::document(
        "Desktop flow runs",
        Some(&page.chrome(Section::DesktopFlowRuns)),
        html! { h1 { "Desktop flow runs" } (body) },
    )))
}

fn row(page: &EnvPage, s: &FlowSession, machines: &HashMap<Uuid, String>) -> Row {
    let machine = match s
        .machine_id
        .and_then(|id| machines.get(&id).map(|name| (id, name)))
    {
        Some((id, name)) => html! { a href=(page.link(&format!("/machines/{id}"))) { (name) } },
        None => html! { "—" },
    };
    let mode = RunMode::from_code(s.run_mode).map_or("—", RunMode::label);
    let dash = || html! { "—" };
    vec![
        html! { (s.name) },
        status_cell(s),
        html! { (mode) },
        machine,
        s.started_on.map_or_else(dash, when),
        s.completed_on.map_or_else(dash, when),
        html! { code { (s.connection_id) } },
    ]
}

/// The status label, coloured; a failed run's code and message under it.
fn status_cell(s: &FlowSession) -> Markup {
    let status = SessionStatus::from_code(s.statuscode).unwrap_or(SessionStatus::NotSpecified);
    let class = match status {
        SessionStatus::Succeeded => "ok",
        _ if status.is_final() => "bad",
        _ => "",
    };
    html! {
        span class={ "status " (class) } { (status.label()) }
        @if let (Some(code), Some(message)) = (&s.error_code, &s.error_message) {
            br; small { code { (code) } " " (message) }
        }
    }
}

/// The names of the machines the runs ran on.
async fn machine_names(
    state: &AppState,
    sessions: &[FlowSession],
) -> Result<HashMap<Uuid, String>, PortalError> {
    let mut names = HashMap::new();
    for id in sessions.iter().filter_map(|s| s.machine_id) {
        if names.contains_key(&id) {
            continue;
        }
        if let Some(machine) = state.store.machine(id).await? {
            names.insert(id, machine.name);
        }
    }
    Ok(names)
}
