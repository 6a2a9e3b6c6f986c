//! The Share side panel of a machine group or a standalone machine (which
//! shares through its own hidden group), over the page it belongs to, as
//! the seed's screenshot shows it: search the environment's users and
//! application users, give one `User` or `Co-owner`, see who has access,
//! remove it.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ShareRole;
use serde::Deserialize;
use uuid::Uuid;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, csrf_field, esc, notice_html};
use super::layout::{self, Section, columns, grid};
use super::machines::{group_body, machine_body};
use super::query::PageQuery;
use super::service::{self, Access, VisibleGroup};
use crate::state::AppState;
use padconnect_store::{GroupType, Machine, SystemUser, SystemUserKind};

#[derive(Deserialize)]
pub struct PanelQuery {
    #[serde(default)]
    q: String,
    notice: Option<String>,
}

fn kind_name(user: &SystemUser) -> &'static str {
    match user.kind {
        SystemUserKind::Application { .. } => "Application user",
        SystemUserKind::Person { .. } => "User",
    }
}

fn identifier(user: &SystemUser) -> String {
    match user.kind {
        SystemUserKind::Application { client_id } => format!("App ID {client_id}"),
        SystemUserKind::Person { .. } => user.domainname.clone(),
    }
}

/// What a Share panel shares: a machine group, or a standalone machine
/// through its hidden group; and where the panel lives.
struct Shared {
    visible: VisibleGroup,
    machine: Option<Machine>,
    /// The panel's URL (its forms post there and to `/remove`).
    base: String,
    /// The page under the panel, where Close leads.
    back: String,
}

impl Shared {
    fn name(&self) -> &str {
        self.machine
            .as_ref()
            .map_or(&self.visible.group.name, |m| &m.name)
    }
}

/// The group or machine in the URL; one the user may see but not share is
/// refused with who can.
async fn shared(state: &AppState, page: &EnvPage) -> Result<Shared, PortalError> {
    let shared = if page.raw_param("machine").is_empty() {
        let id = page.id_param("group", "machine group")?;
        let visible = service::group(state, &page.actor, id).await?;
        let back = page.link(&format!("/machines/groups/{id}"));
        Shared {
            visible,
            machine: None,
            base: format!("{back}/share"),
            back,
        }
    } else {
        let id = page.id_param("machine", "machine")?;
        let (machine, visible) = service::machine(state, &page.actor, id).await?;
        if visible.group.flowgrouptype != GroupType::Default {
            return Err(PortalError::bad_request(format!(
                "Machine '{}' is in machine group '{}': share the group instead.",
                machine.name, visible.group.name
            )));
        }
        let back = page.link(&format!("/machines/{id}"));
        Shared {
            visible,
            machine: Some(machine),
            base: format!("{back}/share"),
            back,
        }
    };
    if !shared
        .visible
        .rights
        .contains(padconnect_core::AccessRights::SHARE)
    {
        return Err(PortalError::forbidden(format!(
            "You cannot share '{}': only its owner and co-owners can.",
            shared.name()
        )));
    }
    Ok(shared)
}

/// `GET .../share[?q=...]`: the panel over its group's or machine's page.
pub async fn panel(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(query): PageQuery<PanelQuery>,
) -> Result<Response, PortalError> {
    let shared = shared(&state, &page).await?;
    let found = service::search_principals(&state, &page.actor, &query.q).await?;
    let access = service::access_list(&state, &shared.visible.group).await?;
    let background = match &shared.machine {
        Some(machine) => machine_body(&page, machine, &shared.visible, None),
        None => group_body(&state, &page, &shared.visible, None).await?,
    };
    let title = format!("Share {}", shared.name());
    let searched = !query.q.trim().is_empty();
    let panel = format!(
        "{head}{notice}\
         <form class=\"search\" method=\"get\" action=\"{base}\" role=\"search\"><label for=\"q\">Search users and application users</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\"{focus}> <button type=\"submit\">Search</button></form>\
         {grant}{who}",
        head = layout::panel_head(&title, &shared.back),
        notice = notice_html(query.notice.as_deref()),
        base = shared.base,
        q = esc(&query.q),
        // Focus where the next keystroke goes: the search, or its results.
        focus = if searched { "" } else { " autofocus" },
        grant = grant_form(&page, &shared, &found, searched),
        who = access_table(&page, &shared.base, &access),
    );
    Ok(html::ok(&layout::with_panel(
        &title,
        &page.chrome(Section::Machines),
        &background,
        &panel,
    )))
}

fn grant_form(page: &EnvPage, shared: &Shared, found: &[SystemUser], searched: bool) -> String {
    let owner = shared.visible.group.owner_id;
    let candidates: Vec<&SystemUser> = found.iter().filter(|u| u.id != owner).collect();
    if candidates.is_empty() {
        return "<p>No user or application user matches: search by name, UPN or app ID.</p>"
            .to_owned();
    }
    let options: String = candidates
        .iter()
        .enumerate()
        .map(|(i, u)| {
            format!(
                "<div><input type=\"radio\" name=\"principal\" id=\"p-{id}\" value=\"{id}\" required{focus}>\
                 <label class=\"inline\" for=\"p-{id}\">{name} ({kind}, {ident})</label></div>",
                id = u.id,
                name = esc(&u.fullname),
                kind = kind_name(u),
                ident = esc(&identifier(u)),
                focus = if searched && i == 0 { " autofocus" } else { "" },
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"{action}\">{csrf}\
         <fieldset><legend>Share with</legend>{options}</fieldset>\
         <fieldset><legend>Permission</legend>\
         <div><input type=\"radio\" name=\"role\" id=\"role-user\" value=\"user\" checked>\
         <label class=\"inline\" for=\"role-user\">User: can use the machines in flows and connections</label></div>\
         <div><input type=\"radio\" name=\"role\" id=\"role-co-owner\" value=\"co-owner\">\
         <label class=\"inline\" for=\"role-co-owner\">Co-owner: can also edit, share and delete</label></div></fieldset>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">Save</button><a class=\"button\" href=\"{back}\">Cancel</a></div></form>",
        action = shared.base,
        back = shared.back,
        csrf = csrf_field(&page.signed_in.csrf),
    )
}

fn access_table(page: &EnvPage, base: &str, access: &[Access]) -> String {
    let rows: String = access
        .iter()
        .map(|a| {
            let role = match a.role {
                _ if a.owner => "Owner".to_owned(),
                Some(ShareRole::CoOwner) => "Co-owner".to_owned(),
                Some(ShareRole::User) => "User".to_owned(),
                None => format!("Custom ({})", a.rights),
            };
            let remove = if a.owner {
                String::new()
            } else {
                format!(
                    "<form method=\"post\" action=\"{base}/remove\">{csrf}<input type=\"hidden\" name=\"principal\" value=\"{id}\">\
                     <button type=\"submit\" aria-label=\"Remove access of {name}\">Remove</button></form>",
                    csrf = csrf_field(&page.signed_in.csrf),
                    id = a.user.id,
                    name = esc(&a.user.fullname),
                )
            };
            format!(
                "<tr><td>{name}</td><td>{kind}</td><td>{ident}</td><td>{role}</td><td>{remove}</td></tr>",
                name = esc(&a.user.fullname),
                kind = kind_name(&a.user),
                ident = esc(&identifier(&a.user)),
            )
        })
        .collect();
    let head = columns(&[
        "Name",
        "Type",
        "Identifier",
        "Permission",
        "<span class=\"sr\">Actions</span>",
    ]);
    grid("Who has access", &head, &rows)
}

#[derive(Deserialize)]
pub struct Grant {
    principal: String,
    role: String,
}

#[derive(Deserialize)]
pub struct Revoke {
    principal: String,
}

fn principal_id(text: &str) -> Result<Uuid, PortalError> {
    Uuid::try_parse(text.trim())
        .map_err(|_| PortalError::bad_request("Choose a user or application user to share with."))
}

/// `POST .../share`: Save.
pub async fn grant(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Grant>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let principal = principal_id(&posted.form.principal)?;
    let role: ShareRole = posted
        .form
        .role
        .parse()
        .map_err(|_| PortalError::bad_request("Choose User or Co-owner."))?;
    let shared = shared(&state, &page).await?;
    service::share(&state, &page.actor, &shared.visible, principal, role).await?;
    Ok(html::see_other(&format!("{}?notice=shared", shared.base)))
}

/// `POST .../share/remove`.
pub async fn revoke(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Revoke>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let principal = principal_id(&posted.form.principal)?;
    let shared = shared(&state, &page).await?;
    service::unshare(&state, &page.actor, &shared.visible, principal).await?;
    Ok(html::see_other(&format!("{}?notice=removed", shared.base)))
}
