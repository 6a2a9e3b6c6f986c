//! Sharing a run-owner connection: who may use it, give a service principal
//! CanView, CanViewWithShare or CanEdit, take it away. The rules are the
//! connections API's `modifyPermissions` ones (`domain::connections::sharing`).

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ConnectionId;
use serde::Deserialize;
use uuid::Uuid;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, csrf_field, esc, notice_html};
use super::layout::{self, Section};
use super::query::PageQuery;
use crate::state::AppState;
use padconnect_domain::connections;
use padconnect_domain::connections::Standing;
use padconnect_domain::connections::sharing::{self, Grant};
use padconnect_store::{App, Connection, SystemUserKind};

const ROLES: [(&str, &str); 3] = [
    ("CanView", "Can use"),
    ("CanViewWithShare", "Can use and share"),
    ("CanEdit", "Can edit"),
];

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// The connection the URL names and the signed-in user's standing on it;
/// one they may not see does not exist for them.
async fn connection(
    state: &AppState,
    page: &EnvPage,
) -> Result<(Connection, Standing), PortalError> {
    let raw = page.raw_param("connection");
    let missing =
        || PortalError::not_found(format!("There is no connection '{raw}' that you can see."));
    let id: ConnectionId = raw.parse().map_err(|_| missing())?;
    let actor = &page.actor;
    let connection = state
        .store
        .connection(&actor.environment.id, &id)
        .await?
        .ok_or_else(missing)?;
    let standing = connections::standing(&state.store, actor.object_id, actor.admin, &connection)
        .await?
        .ok_or_else(missing)?;
    Ok((connection, standing))
}

/// The service principals of the environment's application users.
async fn application_users(state: &AppState, page: &EnvPage) -> Result<Vec<App>, PortalError> {
    let env = &page.actor.environment;
    let mut apps = Vec::new();
    for user in state.store.system_users(&env.id).await? {
        if let SystemUserKind::Application { client_id } = user.kind
            && let Some(app) = state.store.app(env.tenant_id, client_id).await?
        {
            apps.push(app);
        }
    }
    Ok(apps)
}

/// `GET /environments/{env}/connections/{connection}/share`.
pub async fn panel(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(query): PageQuery<NoticeQuery>,
) -> Result<Response, PortalError> {
    let (connection, standing) = connection(&state, &page).await?;
    let base = page.link(&format!("/connections/{}/share", connection.id));
    let permissions = state
        .store
        .connection_permissions(&connection.environment_id, &connection.id)
        .await?;
    let apps = application_users(&state, &page).await?;
    let name_of = |object_id: Uuid| {
        apps.iter()
            .find(|a| a.object_id == object_id)
            .map_or_else(|| object_id.to_string(), |a| a.display_name.clone())
    };
    let remove = |object_id: Uuid| {
        format!(
            "<form method=\"post\" action=\"{base}/remove\">{csrf}<input type=\"hidden\" name=\"principal\" value=\"{object_id}\">\
             <button type=\"submit\" aria-label=\"Remove access of {name}\">Remove</button></form>",
            csrf = csrf_field(&page.signed_in.csrf),
            name = esc(&name_of(object_id)),
        )
    };
    let mut rows = format!(
        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>Owner</td><td></td></tr>",
        esc(&connection.created_by.display_name),
        connection.created_by.id,
        connection.created_by.kind.as_str(),
    );
    for p in &permissions {
        rows.push_str(&format!(
            "<tr><td>{name}</td><td><code>{id}</code></td><td>{kind}</td><td>{role}</td><td>{remove}</td></tr>",
            name = esc(&name_of(p.principal_id)),
            id = p.principal_id,
            kind = p.principal_type.as_str(),
            role = esc(&p.role_name),
            remove = if standing >= Standing::Share { remove(p.principal_id) } else { String::new() },
        ));
    }
    let form = if standing < Standing::Share {
        "<p>You can use this connection but not share it.</p>".to_owned()
    } else if !connection.parameter_set.shareable() {
        "<p>Only run-owner connections (azureRelayRunOwner) can be shared, and only with service principals.</p>".to_owned()
    } else {
        grant_form(&page, &base, &apps, &connection)
    };
    let head = layout::columns(&[
        "Name",
        "Object ID",
        "Type",
        "Permission",
        "<span class=\"sr\">Actions</span>",
    ]);
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{back}\">Connections</a> ›</p><h1>Share {name}</h1>{notice}{form}{who}",
        name = esc(&connection.display_name),
        notice = notice_html(query.notice.as_deref()),
        back = page.link("/connections"),
        who = layout::grid("Who can use it", &head, &rows),
    );
    let title = format!("Share {}", connection.display_name);
    Ok(html::ok(&layout::document(
        &title,
        Some(&page.chrome(Section::Connections)),
        &body,
    )))
}

fn grant_form(page: &EnvPage, action: &str, apps: &[App], connection: &Connection) -> String {
    let options: String = apps
        .iter()
        .filter(|a| a.object_id != connection.created_by.id)
        .map(|a| {
            format!(
                "<div><input type=\"radio\" name=\"principal\" id=\"p-{id}\" value=\"{id}\" required>\
                 <label class=\"inline\" for=\"p-{id}\">{name} (App ID {client})</label></div>",
                id = a.object_id,
                name = esc(&a.display_name),
                client = a.client_id,
            )
        })
        .collect();
    if options.is_empty() {
        return "<p>No other application user to share with in this environment.</p>".to_owned();
    }
    let roles: String = ROLES
        .iter()
        .enumerate()
        .map(|(i, (role, label))| {
            format!(
                "<div><input type=\"radio\" name=\"role\" id=\"role-{role}\" value=\"{role}\"{checked}>\
                 <label class=\"inline\" for=\"role-{role}\">{label}</label></div>",
                checked = if i == 0 { " checked" } else { "" },
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"{action}\">{csrf}\
         <fieldset><legend>Share with a service principal</legend>{options}</fieldset>\
         <fieldset><legend>Permission</legend>{roles}</fieldset>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">Save</button></div></form>",
        csrf = csrf_field(&page.signed_in.csrf),
    )
}

#[derive(Deserialize)]
pub struct GrantForm {
    principal: String,
    role: String,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    principal: String,
}

fn principal_id(text: &str) -> Result<Uuid, PortalError> {
    Uuid::try_parse(text.trim())
        .map_err(|_| PortalError::bad_request("Choose a service principal."))
}

/// `POST .../share`: Save.
pub async fn grant(
    State(state): State<AppState>,
    posted: Posted<EnvPage, GrantForm>,
) -> Result<Response, PortalError> {
    let GrantForm { principal, role } = posted.form;
    let grant = |id| Grant {
        principal_id: Some(id),
        principal_type: "ServicePrincipal".into(),
        role,
    };
    change(&state, &posted.context, &principal, "shared", |id| {
        (vec![grant(id)], vec![])
    })
    .await
}

/// `POST .../share/remove`.
pub async fn revoke(
    State(state): State<AppState>,
    posted: Posted<EnvPage, RevokeForm>,
) -> Result<Response, PortalError> {
    change(
        &state,
        &posted.context,
        &posted.form.principal,
        "removed",
        |id| (vec![], vec![id]),
    )
    .await
}

/// Applies what `change` makes of the chosen principal (shares to put, to
/// remove) through the API's sharing rules, then shows the Share page again
/// with `notice`.
async fn change(
    state: &AppState,
    page: &EnvPage,
    principal: &str,
    notice: &str,
    change: impl FnOnce(Uuid) -> (Vec<Grant>, Vec<Uuid>),
) -> Result<Response, PortalError> {
    let (connection, standing) = connection(state, page).await?;
    let (grants, removals) = change(principal_id(principal)?);
    let tenant = page.actor.environment.tenant_id;
    sharing::change(
        &state.store,
        tenant,
        Some(standing),
        &connection,
        grants,
        removals,
    )
    .await?;
    Ok(html::see_other(&page.link(&format!(
        "/connections/{}/share?notice={notice}",
        connection.id
    ))))
}
