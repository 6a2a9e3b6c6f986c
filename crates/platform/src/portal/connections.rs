//! Data › Connections: those of the environment the signed-in user may see,
//! with status (and its reason in plain words), owner and target group;
//! Share where sharing is possible (`connection_share`); delete after a
//! confirmation in a side panel over the list.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ConnectionId;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use maud::{Markup, html};

use super::html::{self, ViewQuery, csrf_field, notice_html, when};
use super::layout::{self, Column, Row, Section, empty, grid};
use super::query::PageQuery;
use super::service::{self, VisibleConnection};
use crate::state::AppState;
use padconnect_domain::connections::Status;

/// The status as the portal shows it: a word, and for an error its reason
/// (the service's own sentence) with the code in small type for searches.
fn status_cell(status: &Status) -> Markup {
    match status {
        Status::Connected => html! { span class="status ok" { "Connected" } },
        Status::Error { code, message } => html! {
            span class="status bad" { "Error" } br; (message) br; small { (code) }
        },
    }
}

fn row(page: &EnvPage, v: &VisibleConnection) -> Row {
    let c = &v.connection;
    let target = match (&v.target, c.target_group_id) {
        (Some(g), _) => html! {
            a href=(page.link(&format!("/machines/groups/{}", g.id))) { (g.name) }
        },
        (None, Some(id)) => html! { code { (id) } " (deleted)" },
        (None, None) => html! { "—" },
    };
    let name = &c.display_name;
    let actions = html! {
        @if v.shareable || v.editable {
            span class="row-actions" {
                @if v.shareable {
                    a href=(page.link(&format!("/connections/{}/share", c.id)))
                        aria-label={ "Share connection " (name) } { "Share" }
                }
                @if v.editable {
                    a href=(page.link(&format!("/connections/{}/delete", c.id)))
                        aria-label={ "Delete connection " (name) } { "Delete" }
                }
            }
        }
    };
    vec![
        html! { (name) br; small { (c.connector) ", " (c.parameter_set) } },
        html! { code { (c.id) } },
        status_cell(&v.status),
        html! { (c.created_by.display_name) " (" (c.created_by.kind.as_str()) ")" },
        target,
        when(c.created_at),
        actions,
    ]
}

/// The list, as a page and as the page under a connection's panels.
pub async fn list_body(
    state: &AppState,
    page: &EnvPage,
    notice: Option<&str>,
) -> Result<Markup, PortalError> {
    let connections = service::visible_connections(state, &page.actor).await?;
    let table = if connections.is_empty() {
        empty(html! {
            "No connections you can see in this environment. A service principal creates one with "
            code { "padconnect connect" } "; the portal cannot create it as a service principal."
        })
    } else {
        let rows: Vec<Row> = connections.iter().map(|v| row(page, v)).collect();
        let columns = [
            Column::noted("Name", "connector, parameter set"),
            Column::new("Connection ID"),
            Column::new("Status"),
            Column::new("Owner"),
            Column::new("Machine group"),
            Column::new("Created"),
            Column::actions(),
        ];
        grid("Connections", &columns, &rows)
    };
    Ok(html! { h1 { "Connections" } (notice_html(notice)) (table) })
}

/// `GET /environments/{env}/connections`.
pub async fn list(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(view): PageQuery<ViewQuery>,
) -> Result<Response, PortalError> {
    let body = list_body(&state, &page, view.notice.as_deref()).await?;
    Ok(html::ok(layout::document(
        "Connections",
        Some(&page.chrome(Section::Connections)),
        body,
    )))
}

fn connection_id(page: &EnvPage) -> Result<ConnectionId, PortalError> {
    let raw = page.raw_param("connection");
    raw.parse()
        .map_err(|_| PortalError::not_found(format!("There is no connection '{raw}'.")))
}

/// `GET /environments/{env}/connections/{connection}/delete`: are you sure?
/// A side panel over the list, as the portal asks before deleting.
pub async fn confirm_delete(
    State(state): State<AppState>,
    page: EnvPage,
) -> Result<Response, PortalError> {
    let id = connection_id(&page)?;
    let visible = service::deletable_connection(&state, &page.actor, &id).await?;
    let c = &visible.connection;
    let list = page.link("/connections");
    let title = format!("Delete {}?", c.display_name);
    let panel = html! {
        (layout::panel_head(&title, &list))
        p {
            "Desktop flows that use connection " code { (c.id) }
            " stop running until they get another one. This cannot be undone."
        }
        form method="post" action=(page.link(&format!("/connections/{}/delete", c.id))) {
            (csrf_field(&page.signed_in.csrf))
            div class="actions panel-actions" {
                button class="danger" type="submit" { "Delete" }
                a class="button" href=(list) { "Cancel" }
            }
        }
    };
    let background = list_body(&state, &page, None).await?;
    Ok(html::ok(layout::with_panel(
        "Delete connection",
        &page.chrome(Section::Connections),
        background,
        panel,
    )))
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /environments/{env}/connections/{connection}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Empty>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let id = connection_id(&page)?;
    service::delete_connection(&state, &page.actor, &id).await?;
    Ok(html::see_other(&page.link("/connections?notice=deleted")))
}
