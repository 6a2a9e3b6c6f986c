//! Data › Connections: those of the environment the signed-in user may see,
//! with status (and its reason in plain words), owner and target group;
//! Share where sharing is possible; delete behind a confirmation page.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ConnectionId;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, Notice, csrf_field, esc, notice_html, when};
use super::layout::{self, Section, columns, empty, grid};
use super::query::PageQuery;
use super::service::{self, VisibleConnection};
use crate::state::AppState;
use padconnect_domain::connections::Status;

/// The status as the portal shows it: a word, and for an error its reason
/// (the service's own sentence) with the code in small type for searches.
fn status_cell(status: &Status) -> String {
    match status {
        Status::Connected => "<span class=\"status ok\">Connected</span>".to_owned(),
        Status::Error { code, message } => format!(
            "<span class=\"status bad\">Error</span><br>{}<br><small>{code}</small>",
            esc(message)
        ),
    }
}

fn row(page: &EnvPage, v: &VisibleConnection) -> String {
    let c = &v.connection;
    let target = match (&v.target, c.target_group_id) {
        (Some(g), _) => format!(
            "<a href=\"{}\">{}</a>",
            page.link(&format!("/machines/groups/{}", g.id)),
            esc(&g.name)
        ),
        (None, Some(id)) => format!("<code>{id}</code> (deleted)"),
        (None, None) => "—".to_owned(),
    };
    let name = esc(&c.display_name);
    let share = if v.shareable {
        format!(
            "<a href=\"{}\" aria-label=\"Share connection {name}\">Share</a>",
            page.link(&format!("/connections/{}/share", c.id)),
        )
    } else {
        String::new()
    };
    let delete = if v.editable {
        format!(
            "<a href=\"{}\" aria-label=\"Delete connection {name}\">Delete</a>",
            page.link(&format!("/connections/{}/delete", c.id)),
        )
    } else {
        String::new()
    };
    format!(
        "<tr><td>{name}<br><small>{connector}, {set}</small></td><td><code>{id}</code></td><td>{status}</td>\
         <td>{owner} ({kind})</td><td>{target}</td><td>{created}</td><td><span class=\"row-actions\">{share}{delete}</span></td></tr>",
        id = c.id,
        connector = esc(&c.connector.to_string()),
        set = c.parameter_set,
        status = status_cell(&v.status),
        owner = esc(&c.created_by.display_name),
        kind = c.created_by.kind.as_str(),
        created = when(c.created_at),
    )
}

/// `GET /environments/{env}/connections`.
pub async fn list(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let connections = service::visible_connections(&state, &page.actor).await?;
    let table = if connections.is_empty() {
        empty(
            "No connections you can see in this environment. A service principal creates one with \
             <code>padconnect connect</code>; the portal cannot create it as a service principal.",
        )
    } else {
        let rows: String = connections.iter().map(|v| row(&page, v)).collect();
        let head = columns(&[
            "Name <small>(connector, parameter set)</small>",
            "Connection ID",
            "Status",
            "Owner",
            "Machine group",
            "Created",
            "<span class=\"sr\">Actions</span>",
        ]);
        grid("Connections", &head, &rows)
    };
    let body = format!(
        "<h1>Connections</h1>{}{table}",
        notice_html(notice.notice.as_deref())
    );
    Ok(html::ok(&layout::document(
        "Connections",
        Some(&page.chrome(Section::Connections)),
        &body,
    )))
}

fn connection_id(page: &EnvPage) -> Result<ConnectionId, PortalError> {
    let raw = page.raw_param("connection");
    raw.parse()
        .map_err(|_| PortalError::not_found(format!("There is no connection '{raw}'.")))
}

/// `GET /environments/{env}/connections/{connection}/delete`: are you sure?
pub async fn confirm_delete(
    State(state): State<AppState>,
    page: EnvPage,
) -> Result<Response, PortalError> {
    let id = connection_id(&page)?;
    let visible = service::deletable_connection(&state, &page.actor, &id).await?;
    let c = &visible.connection;
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{list}\">Connections</a> ›</p><h1>Delete connection</h1>\
         <section class=\"card\" aria-labelledby=\"confirm\"><h2 id=\"confirm\">Delete {name}?</h2>\
         <p>Desktop flows that use connection <code>{id}</code> stop running until they get another one. \
         This cannot be undone.</p>\
         <form method=\"post\" action=\"{action}\">{csrf}<div class=\"actions\">\
         <button class=\"danger\" type=\"submit\">Delete</button><a class=\"button\" href=\"{list}\">Cancel</a></div></form></section>",
        list = page.link("/connections"),
        name = esc(&c.display_name),
        id = c.id,
        action = page.link(&format!("/connections/{}/delete", c.id)),
        csrf = csrf_field(&page.signed_in.csrf),
    );
    Ok(html::ok(&layout::document(
        "Delete connection",
        Some(&page.chrome(Section::Connections)),
        &body,
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
