//! Sharing a run-owner connection, in a side panel over the connections
//! list: who may use it, give a service principal CanView,
//! CanViewWithShare or CanEdit, take it away. The rules are the connections
//! API's `modifyPermissions` ones (`domain::connections::sharing`).

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ConnectionId;
use serde::Deserialize;
use uuid::Uuid;

use super::PortalError;
use super::connections::list_body;
use super::context::EnvPage;
use super::csrf::Posted;
use super::form::{self, Choice, Filled, Problem, Radios, Refused};
use maud::{Markup, html};

use super::html::{self, csrf_field, notice_html};
use super::layout::{self, Column, Row, Section};
use super::query::PageQuery;
use super::share::{Revoke, remove_button};
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
        .connection(&actor.member.environment.id, &id)
        .await?
        .ok_or_else(missing)?;
    let standing = connections::standing(
        &state.store,
        actor.object_id,
        actor.member.admin,
        &connection,
    )
    .await?
    .ok_or_else(missing)?;
    Ok((connection, standing))
}

/// The service principals of the environment's application users.
async fn application_users(state: &AppState, page: &EnvPage) -> Result<Vec<App>, PortalError> {
    let env = &page.actor.member.environment;
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

/// `GET /environments/{env}/connections/{connection}/share`: the panel
/// over the list.
pub async fn panel(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(query): PageQuery<NoticeQuery>,
) -> Result<Response, PortalError> {
    let (connection, standing) = connection(&state, &page).await?;
    let shown = Shown {
        connection: &connection,
        standing,
        notice: query.notice.as_deref(),
        filled: &Filled::fresh(),
    };
    render(&state, &page, &shown).await
}

/// What the panel shows: the connection, the user's standing on it, a
/// notice, the form as posted.
struct Shown<'a> {
    connection: &'a Connection,
    standing: Standing,
    notice: Option<&'a str>,
    filled: &'a Filled<GrantForm>,
}

async fn render(
    state: &AppState,
    page: &EnvPage,
    shown: &Shown<'_>,
) -> Result<Response, PortalError> {
    let connection = shown.connection;
    let base = page.link(&format!("/connections/{}/share", connection.id));
    let permissions = state
        .store
        .connection_permissions(&connection.environment_id, &connection.id)
        .await?;
    let apps = application_users(state, page).await?;
    let name_of = |object_id: Uuid| {
        apps.iter()
            .find(|a| a.object_id == object_id)
            .map_or_else(|| object_id.to_string(), |a| a.display_name.clone())
    };
    let refusal = sharing::may_share(Some(shown.standing), connection).err();
    let may_share = refusal.is_none();
    let remove = |object_id: Uuid| {
        html! {
            @if may_share { (remove_button(page, &base, object_id, &name_of(object_id))) }
        }
    };
    let owner = &connection.created_by;
    let mut rows: Vec<Row> = vec![vec![
        who(&owner.display_name, owner.kind.as_str(), owner.id),
        html! { "Owner" },
        html! {},
    ]];
    for p in &permissions {
        rows.push(vec![
            who(
                &name_of(p.principal_id),
                p.principal_type.as_str(),
                p.principal_id,
            ),
            html! { (p.role_name) },
            remove(p.principal_id),
        ]);
    }
    let form = match refusal {
        Some(refusal) => html! { p { (refusal.to_string()) } },
        None => grant_form(page, &base, &apps, shown),
    };
    let columns = [
        Column::noted("Name", "type, object ID"),
        Column::new("Permission"),
        Column::actions(),
    ];
    let list = page.link("/connections");
    let title = format!("Share {}", connection.display_name);
    let panel = html! {
        (layout::panel_head(&title, &list))
        (notice_html(shown.notice))
        // A refusal of no field (or of a field this form lacks) goes first.
        (form::above(shown.filled.problem(), &["principal", "role"]))
        (form)
        (layout::grid("Who can use it", &columns, &rows))
    };
    let background = list_body(state, page, None).await?;
    Ok(html::respond(
        shown.filled.status(),
        layout::with_panel(
            &title,
            &page.chrome(Section::Connections),
            background,
            panel,
        ),
    ))
}

/// A principal's cell: the name, its type and object id under it.
fn who(name: &str, kind: &str, id: Uuid) -> Markup {
    html! { (name) br; small { (kind) ", " code { (id) } } }
}

fn grant_form(page: &EnvPage, action: &str, apps: &[App], shown: &Shown) -> Markup {
    let problem = shown.filled.problem();
    let candidates: Vec<Choice> = apps
        .iter()
        .filter(|a| a.object_id != shown.connection.created_by.id)
        .map(|a| Choice {
            id: format!("p-{}", a.object_id),
            value: a.object_id.to_string(),
            label: format!("{} (App ID {})", a.display_name, a.client_id),
        })
        .collect();
    if candidates.is_empty() {
        return html! { p { "No other application user to share with in this environment." } };
    }
    let roles: Vec<Choice> = ROLES
        .iter()
        .map(|(role, label)| Choice {
            id: format!("role-{role}"),
            value: (*role).to_owned(),
            label: (*label).to_owned(),
        })
        .collect();
    let values = &shown.filled.values;
    let principals = Radios {
        name: "principal",
        legend: "Share with a service principal",
        choices: &candidates,
        checked: &values.principal,
        focus: false,
    };
    let fields = form::grant(&principals, &roles, &values.role, problem);
    html! {
        form method="post" action=(action) novalidate {
            (csrf_field(&page.signed_in.csrf))
            (fields)
            (layout::panel_actions("Save", &page.link("/connections")))
        }
    }
}

/// The form, and what it keeps when it comes back.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GrantForm {
    principal: String,
    role: String,
}

fn principal_id(text: &str) -> Result<Uuid, Problem> {
    Uuid::try_parse(text.trim())
        .map_err(|_| Problem::at("principal", "Choose a service principal."))
}

/// Where a sharing refusal goes on the form: beside the principal or the
/// permission, or above the form.
fn field_of(error: &padconnect_domain::Error) -> Option<&'static str> {
    use sharing::Refusal;
    match error {
        padconnect_domain::Error::Sharing(refusal) => match refusal {
            Refusal::UnknownRole(_) => Some("role"),
            Refusal::NoPrincipal
            | Refusal::NotAServicePrincipal
            | Refusal::Owner(_)
            | Refusal::UnknownPrincipal(_) => Some("principal"),
            _ => None,
        },
        _ => None,
    }
}

/// `POST .../share`: Save; then the panel with a notice, or the panel
/// again with what was wrong.
pub async fn grant(
    State(state): State<AppState>,
    posted: Posted<EnvPage, GrantForm>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let (connection, standing) = connection(&state, &page).await?;
    let form = posted.form;
    let refused = match principal_id(&form.principal) {
        Err(problem) => Refused::Form(problem),
        Ok(id) => {
            let grant = Grant {
                principal_id: Some(id),
                principal_type: "ServicePrincipal".into(),
                role: form.role.clone(),
            };
            match change(&state, &page, &connection, standing, (vec![grant], vec![])).await {
                Ok(()) => return Ok(shown_again(&page, &connection, "shared")),
                Err(error) => {
                    let field = field_of(&error);
                    Refused::portal(error.into(), field)
                }
            }
        }
    };
    let filled = Filled {
        problem: Some(refused.into_problem()?),
        values: form,
    };
    let shown = Shown {
        connection: &connection,
        standing,
        notice: None,
        filled: &filled,
    };
    render(&state, &page, &shown).await
}

/// `POST .../share/remove`.
pub async fn revoke(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Revoke>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let (connection, standing) = connection(&state, &page).await?;
    let id = posted.form.principal()?;
    change(&state, &page, &connection, standing, (vec![], vec![id])).await?;
    Ok(shown_again(&page, &connection, "removed"))
}

/// Applies shares to put and to remove through the API's sharing rules.
async fn change(
    state: &AppState,
    page: &EnvPage,
    connection: &Connection,
    standing: Standing,
    (grants, removals): (Vec<Grant>, Vec<Uuid>),
) -> Result<(), padconnect_domain::Error> {
    let tenant = page.actor.member.environment.tenant_id;
    sharing::change(
        &state.store,
        tenant,
        Some(standing),
        connection,
        grants,
        removals,
    )
    .await?;
    Ok(())
}

/// The Share panel again, with `notice`.
fn shown_again(page: &EnvPage, connection: &Connection, notice: &str) -> Response {
    html::see_other(&page.link(&format!(
        "/connections/{}/share?notice={notice}",
        connection.id
    )))
}
