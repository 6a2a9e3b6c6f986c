//! Connections: those of the environment the signed-in user may see, with
//! status, owner and target group; delete; a link to each one's sharing.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ConnectionId;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, Notice, Section, csrf_field, esc, notice_html, when};
use super::query::PageQuery;
use super::service::{self, VisibleConnection};
use crate::connectivity::service::Status;
use crate::state::AppState;

fn row(page: &EnvPage, v: &VisibleConnection) -> String {
    let c = &v.connection;
    let status = match &v.status {
        Status::Connected => "Connected".to_owned(),
        Status::Error { code, message } => format!("Error: {} ({code})", esc(message)),
    };
    let target = match (&v.target, c.target_group_id) {
        (Some(g), _) => format!(
            "<a href=\"{}\">{}</a>",
            page.link(&format!("/machines/groups/{}", g.id)),
            esc(&g.name)
        ),
        (None, Some(id)) => format!("<code>{id}</code> (deleted)"),
        (None, None) => "—".to_owned(),
    };
    let delete = if v.editable {
        format!(
            "<form method=\"post\" action=\"{action}\">{csrf}<button type=\"submit\" aria-label=\"Delete connection {name}\">Delete</button></form>",
            action = page.link(&format!("/connections/{}/delete", c.id)),
            csrf = csrf_field(&page.signed_in.csrf),
            name = esc(&c.display_name),
        )
    } else {
        String::new()
    };
    let share = format!(
        "<a href=\"{}\" aria-label=\"Sharing of connection {}\">Share</a>",
        page.link(&format!("/connections/{}/share", c.id)),
        esc(&c.display_name)
    );
    format!(
        "<tr><td>{name}</td><td><code>{id}</code></td><td>{connector}</td><td>{set}</td><td>{status}</td>\
         <td>{owner} ({kind})</td><td>{target}</td><td>{created}</td><td>{share} {delete}</td></tr>",
        name = esc(&c.display_name),
        id = c.id,
        connector = esc(&c.connector.to_string()),
        set = esc(&c.parameter_set),
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
        "<p>No connections you can see in this environment.</p>".to_owned()
    } else {
        let rows: String = connections.iter().map(|v| row(&page, v)).collect();
        format!(
            "<table><caption>Connections</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Connection ID</th>\
             <th scope=\"col\">Connector</th><th scope=\"col\">Parameter set</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Owner</th><th scope=\"col\">Machine group</th><th scope=\"col\">Created</th>\
             <th scope=\"col\"><span class=\"skip\">Actions</span></th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        "<h1>Connections</h1>{}{table}",
        notice_html(notice.notice.as_deref())
    );
    Ok(html::ok(&html::document(
        "Connections",
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
    let raw = page.raw_param("connection");
    let id: ConnectionId = raw
        .parse()
        .map_err(|_| PortalError::not_found(format!("There is no connection '{raw}'.")))?;
    service::delete_connection(&state, &page.actor, &id).await?;
    Ok(html::see_other(&page.link("/connections?notice=deleted")))
}
