//! Monitor › Machines, with the real portal's two tabs: Machines (every
//! machine the user may see) and Machine groups (the groups, and a new
//! one); a group's page (its id in the URL, as the seed relies on), a
//! machine's page, and the group password.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::{AccessRights, ShareRole};
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, Notice, csrf_field, esc, notice_html, when};
use super::layout::{self, Section, columns, empty, grid};
use super::query::PageQuery;
use super::service::{self, VisibleGroup};
use crate::state::AppState;
use padconnect_domain::fleet::{GROUP_DESCRIPTION, GROUP_NAME};
use padconnect_store::{GroupType, Machine, Timestamp};

fn heartbeat(machine: &Machine) -> String {
    machine
        .lastheartbeatdate
        .map_or_else(|| "—".to_owned(), when)
}

fn machines_table(
    page: &EnvPage,
    caption: &str,
    rows: &[(&Machine, Option<&VisibleGroup>)],
    none: &str,
) -> String {
    if rows.is_empty() {
        return empty(none);
    }
    let now = Timestamp::now();
    let body: String = rows
        .iter()
        .map(|(m, group)| {
            let group_cell = match group {
                Some(g) if g.group.flowgrouptype != GroupType::Default => format!(
                    "<a href=\"{}\">{}</a>",
                    page.link(&format!("/machines/groups/{}", g.group.id)),
                    esc(&g.group.name)
                ),
                _ => "Standalone".to_owned(),
            };
            let status = service::machine_status(m, now);
            format!(
                "<tr><td><a href=\"{link}\">{name}</a></td><td>{status}</td><td>{beat}</td><td>{group_cell}</td><td>{agent}</td></tr>",
                link = page.link(&format!("/machines/{}", m.id)),
                name = esc(&m.name),
                status = status_badge(status),
                beat = heartbeat(m),
                agent = esc(m.agentversion.as_deref().unwrap_or("—")),
            )
        })
        .collect();
    let head = columns(&[
        "Machine",
        "Status",
        "Last heartbeat",
        "Group",
        "Agent version",
    ]);
    grid(caption, &head, &body)
}

/// A machine's status, coloured as the portal does: green when connected.
fn status_badge(status: &str) -> String {
    let class = if status == "Connected" { "ok" } else { "bad" };
    format!("<span class=\"status {class}\">{status}</span>")
}

/// The two tabs of Monitor › Machines.
fn machine_tabs(page: &EnvPage, groups_tab: bool) -> String {
    let machines = page.link("/machines");
    let groups = page.link("/machines/groups");
    layout::tabs(
        "Machines views",
        &[
            (&machines, "Machines", !groups_tab),
            (&groups, "Machine groups", groups_tab),
        ],
    )
}

/// The actor's standing on a group, as the list names it.
fn access_name(g: &VisibleGroup, page: &EnvPage) -> &'static str {
    if g.group.owner_id == page.actor.user.id {
        return "Owner";
    }
    if page.actor.admin {
        return "Administrator";
    }
    match ShareRole::from_rights(g.rights) {
        Some(ShareRole::CoOwner) => "Co-owner",
        Some(ShareRole::User) => "User",
        None => "Read",
    }
}

/// `GET /environments/{env}/machines`: the Machines tab.
pub async fn list(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let groups = service::visible_groups(&state, &page.actor).await?;
    let rows: Vec<(&Machine, Option<&VisibleGroup>)> = groups
        .iter()
        .flat_map(|g| g.machines.iter().map(move |m| (m, Some(g))))
        .collect();
    let none = "No machines you can see yet. Register one with <code>padconnect machine register</code> \
                (or declare it in the world file), or ask a machine's owner to share it with you.";
    let body = format!(
        "<h1>Machines</h1>{tabs}{notice}{machines}",
        tabs = machine_tabs(&page, false),
        notice = notice_html(notice.notice.as_deref()),
        machines = machines_table(&page, "Machines", &rows, none),
    );
    Ok(html::ok(&layout::document(
        "Machines",
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

/// `GET /environments/{env}/machines/groups`: the Machine groups tab, and
/// the form for a new group.
pub async fn groups(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let groups = service::visible_groups(&state, &page.actor).await?;
    let standard: Vec<&VisibleGroup> = groups
        .iter()
        .filter(|g| g.group.flowgrouptype != GroupType::Default)
        .collect();
    let rows: String = standard
        .iter()
        .map(|g| {
            format!(
                "<tr><td><a href=\"{link}\">{name}</a></td><td><code>{id}</code></td><td>{count}</td><td>{role}</td></tr>",
                link = page.link(&format!("/machines/groups/{}", g.group.id)),
                name = esc(&g.group.name),
                id = g.group.id,
                count = g.machines.len(),
                role = access_name(g, &page),
            )
        })
        .collect();
    let may_create = page.actor.fleet().may_create();
    let table = if standard.is_empty() {
        empty(if may_create {
            "No machine groups you can see yet. Create one below, or ask a group's owner to share it with you."
        } else {
            "No machine groups you can see yet: ask a group's owner to share it with you."
        })
    } else {
        grid(
            "Machine groups",
            &columns(&["Name", "Group ID", "Machines", "Your access"]),
            &rows,
        )
    };
    let body = format!(
        "<h1>Machines</h1>{tabs}{notice}{table}{create}",
        tabs = machine_tabs(&page, true),
        notice = notice_html(notice.notice.as_deref()),
        create = if may_create {
            new_group_form(&page)
        } else {
            String::new()
        },
    );
    Ok(html::ok(&layout::document(
        "Machine groups",
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

fn new_group_form(page: &EnvPage) -> String {
    format!(
        "<section class=\"card\" aria-labelledby=\"new-group\"><h2 id=\"new-group\">New machine group</h2>\
         <form method=\"post\" action=\"{action}\">{csrf}\
         <label for=\"group-name\">Name</label><input id=\"group-name\" name=\"name\" required maxlength=\"{max}\">\
         <label for=\"group-description\">Description (optional)</label><input id=\"group-description\" name=\"description\" maxlength=\"{description_max}\">\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">Create</button></div></form></section>",
        action = page.link("/machines/groups"),
        csrf = csrf_field(&page.signed_in.csrf),
        max = GROUP_NAME.max,
        description_max = GROUP_DESCRIPTION.max,
    )
}

#[derive(Deserialize)]
pub struct NewGroup {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /environments/{env}/machines/groups`: then the new group's page.
pub async fn create(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewGroup>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let group = service::create_group(
        &state,
        &page.actor,
        &posted.form.name,
        &posted.form.description,
    )
    .await?;
    Ok(html::see_other(&page.link(&format!(
        "/machines/groups/{}?notice=created",
        group.id
    ))))
}

/// `GET /environments/{env}/machines/groups/{group}`.
pub async fn group(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let id = page.id_param("group", "machine group")?;
    let visible = service::group(&state, &page.actor, id).await?;
    let body = group_body(&state, &page, &visible, notice.notice.as_deref()).await?;
    Ok(html::ok(&layout::document(
        &visible.group.name,
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

/// A group's page: the Share panel shows it dimmed behind itself.
pub async fn group_body(
    state: &AppState,
    page: &EnvPage,
    visible: &VisibleGroup,
    notice: Option<&str>,
) -> Result<String, PortalError> {
    let g = &visible.group;
    let owner = state
        .store
        .system_user(g.owner_id)
        .await?
        .map(|u| u.fullname)
        .unwrap_or_default();
    let machines: Vec<(&Machine, Option<&VisibleGroup>)> = visible
        .machines
        .iter()
        .map(|m| (m, Some(visible)))
        .collect();
    let share = if visible.rights.contains(AccessRights::SHARE) {
        format!(
            "<div class=\"actions\"><a class=\"button primary\" href=\"{}\">Share</a></div>",
            page.link(&format!("/machines/groups/{}/share", g.id))
        )
    } else {
        "<p>You can use this group; only its owner and co-owners can share it.</p>".to_owned()
    };
    let none = "No machine has joined this group yet. A machine joins with the group's password \
                (<code>padconnect machine join-group</code>, or Power Automate for desktop's machine settings).";
    Ok(format!(
        "<p class=\"crumbs\"><a href=\"{groups}\">Machine groups</a> ›</p><h1>{name}</h1>{notice}{share}\
         <dl class=\"details\"><dt>Group ID</dt><dd><code id=\"group-id\">{id}</code></dd>\
         <dt>Type</dt><dd>{kind}</dd><dt>Description</dt><dd>{description}</dd><dt>Owner</dt><dd>{owner}</dd>\
         <dt>Created</dt><dd>{created}</dd><dt>Password</dt><dd>{has_password}</dd></dl>{machines}{password}",
        groups = page.link("/machines/groups"),
        name = esc(&g.name),
        notice = notice_html(notice),
        id = g.id,
        kind = service::group_type_name(g.flowgrouptype),
        description = or_dash(&g.description),
        owner = esc(&owner),
        created = when(g.created_on),
        has_password = if g.password_hash.is_some() {
            "Set"
        } else {
            "Not set"
        },
        machines = machines_table(page, "Machines in this group", &machines, none),
        password = password_form(page, visible),
    ))
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "—".to_owned()
    } else {
        esc(text)
    }
}

fn password_form(page: &EnvPage, visible: &VisibleGroup) -> String {
    let writable = visible.rights.contains(AccessRights::WRITE);
    if !writable || visible.group.flowgrouptype == GroupType::Default {
        return String::new();
    }
    let (heading, button) = match visible.group.password_hash {
        Some(_) => ("Rotate the group password", "Rotate password"),
        None => ("Set the group password", "Set password"),
    };
    format!(
        "<section class=\"card\" aria-labelledby=\"password-heading\"><h2 id=\"password-heading\">{heading}</h2>\
         <form method=\"post\" action=\"{action}\">{csrf}\
         <label for=\"password\">New password ({min} to {max} characters)</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"{min}\" maxlength=\"{max}\">\
         <label for=\"confirmation\">Confirm the password</label>\
         <input id=\"confirmation\" name=\"confirmation\" type=\"password\" autocomplete=\"new-password\" required>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">{button}</button></div></form></section>",
        action = page.link(&format!("/machines/groups/{}/password", visible.group.id)),
        csrf = csrf_field(&page.signed_in.csrf),
        min = padconnect_domain::fleet::GROUP_PASSWORD_CHARS.start(),
        max = padconnect_domain::fleet::GROUP_PASSWORD_CHARS.end(),
    )
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
    confirmation: String,
}

/// `POST /environments/{env}/machines/groups/{group}/password`.
pub async fn set_password(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewPassword>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let id = page.id_param("group", "machine group")?;
    let visible = service::group(&state, &page.actor, id).await?;
    let NewPassword {
        password,
        confirmation,
    } = posted.form;
    service::set_group_password(&state, &page.actor, &visible, password, &confirmation).await?;
    Ok(html::see_other(
        &page.link(&format!("/machines/groups/{id}?notice=password")),
    ))
}

/// `GET /environments/{env}/machines/{machine}`: a machine, and the group id
/// a connection to it targets.
pub async fn machine(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let id = page.id_param("machine", "machine")?;
    let (machine, visible) = service::machine(&state, &page.actor, id).await?;
    let accounts: Vec<_> = state
        .store
        .accounts_in_group(visible.group.id)
        .await?
        .into_iter()
        .map(|(_, account)| account)
        .filter(|a| a.machine_id == machine.id)
        .collect();
    let body = machine_body(&page, &machine, &visible, notice.notice.as_deref())
        + &super::accounts::section(&page, &machine, &visible, &accounts);
    Ok(html::ok(&layout::document(
        &machine.name,
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

/// A machine's page: the Share panel of a standalone machine shows it
/// dimmed behind itself.
pub fn machine_body(
    page: &EnvPage,
    machine: &Machine,
    visible: &VisibleGroup,
    notice: Option<&str>,
) -> String {
    let g = &visible.group;
    let standalone = g.flowgrouptype == GroupType::Default;
    let group = if standalone {
        "Standalone (its own hidden group)".to_owned()
    } else {
        format!(
            "<a href=\"{}\">{}</a>",
            page.link(&format!("/machines/groups/{}", g.id)),
            esc(&g.name)
        )
    };
    // A machine in a group is shared through its group, as in the portal.
    let share = match (visible.rights.contains(AccessRights::SHARE), standalone) {
        (true, true) => format!(
            "<div class=\"actions\"><a class=\"button primary\" href=\"{}\">Share</a></div>",
            page.link(&format!("/machines/{}/share", machine.id))
        ),
        (true, false) => "<p>This machine is shared through its group.</p>".to_owned(),
        (false, _) => String::new(),
    };
    format!(
        "<p class=\"crumbs\"><a href=\"{machines}\">Machines</a> ›</p><h1>{name}</h1>{notice}{share}\
         <dl class=\"details\"><dt>Machine ID</dt><dd><code>{id}</code></dd><dt>Status</dt><dd>{status}</dd>\
         <dt>Last heartbeat</dt><dd>{beat}</dd><dt>Group</dt><dd>{group}</dd>\
         <dt>Group ID (the connection's targetId)</dt><dd><code id=\"group-id\">{group_id}</code></dd>\
         <dt>Description</dt><dd>{description}</dd></dl>",
        machines = page.link("/machines"),
        name = esc(&machine.name),
        notice = notice_html(notice),
        id = machine.id,
        status = status_badge(service::machine_status(machine, Timestamp::now())),
        beat = heartbeat(machine),
        group_id = g.id,
        description = or_dash(&machine.description),
    )
}
