//! Monitor › Machines: the machines and machine groups of an environment, a
//! group's page (its id in the URL, as the seed relies on), a machine's
//! page, creating a group and setting its password.

use crate::domain::fleet::{GROUP_DESCRIPTION, GROUP_NAME};
use axum::extract::State;
use axum::response::Response;
use padconnect_core::{AccessRights, ShareRole};
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, Notice, Section, csrf_field, esc, notice_html, when};
use super::query::PageQuery;
use super::service::{self, VisibleGroup};
use crate::rules;
use crate::state::AppState;
use crate::store::{Machine, Timestamp, flowgrouptype};

fn heartbeat(machine: &Machine) -> String {
    machine
        .lastheartbeatdate
        .map_or_else(|| "—".to_owned(), when)
}

fn machines_table(
    page: &EnvPage,
    caption: &str,
    rows: &[(&Machine, Option<&VisibleGroup>)],
) -> String {
    if rows.is_empty() {
        return format!("<p>{}: none.</p>", esc(caption));
    }
    let now = Timestamp::now();
    let body: String = rows
        .iter()
        .map(|(m, group)| {
            let group_cell = match group {
                Some(g) if g.group.flowgrouptype != flowgrouptype::DEFAULT => format!(
                    "<a href=\"{}\">{}</a>",
                    page.link(&format!("/machines/groups/{}", g.group.id)),
                    esc(&g.group.name)
                ),
                _ => "Standalone".to_owned(),
            };
            format!(
                "<tr><td><a href=\"{link}\">{name}</a></td><td>{status}</td><td>{beat}</td><td>{group_cell}</td><td>{agent}</td></tr>",
                link = page.link(&format!("/machines/{}", m.id)),
                name = esc(&m.name),
                status = service::machine_status(m, now),
                beat = heartbeat(m),
                agent = esc(m.agentversion.as_deref().unwrap_or("—")),
            )
        })
        .collect();
    format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">Machine</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Last heartbeat</th><th scope=\"col\">Group</th><th scope=\"col\">Agent version</th></tr></thead>\
         <tbody>{body}</tbody></table>",
        esc(caption)
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

/// `GET /environments/{env}/machines`.
pub async fn list(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<Response, PortalError> {
    let groups = service::visible_groups(&state, &page.actor).await?;
    let standard: Vec<&VisibleGroup> = groups
        .iter()
        .filter(|g| g.group.flowgrouptype != flowgrouptype::DEFAULT)
        .collect();
    let group_rows: String = standard
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
    let groups_html = if standard.is_empty() {
        "<p>No machine groups you can see.</p>".to_owned()
    } else {
        format!(
            "<table><caption>Machine groups</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Group ID</th>\
             <th scope=\"col\">Machines</th><th scope=\"col\">Your access</th></tr></thead><tbody>{group_rows}</tbody></table>"
        )
    };
    let machine_rows: Vec<(&Machine, Option<&VisibleGroup>)> = groups
        .iter()
        .flat_map(|g| g.machines.iter().map(move |m| (m, Some(g))))
        .collect();
    let create = if rules::may_create(&page.actor.user, page.actor.admin) {
        format!(
            "<h2 id=\"new-group\">New machine group</h2>\
             <form method=\"post\" action=\"{action}\">{csrf}\
             <label for=\"group-name\">Name</label><input id=\"group-name\" name=\"name\" required maxlength=\"{max}\">\
             <label for=\"group-description\">Description (optional)</label><input id=\"group-description\" name=\"description\" maxlength=\"{description_max}\">\
             <p><button type=\"submit\">Create</button></p></form>",
            action = page.link("/machines/groups"),
            csrf = csrf_field(&page.signed_in.csrf),
            max = GROUP_NAME.max,
            description_max = GROUP_DESCRIPTION.max,
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Machines</h1>{notice}<p>Environment: {env} (<code>{env_id}</code>)</p>{groups_html}{machines}{create}",
        notice = notice_html(notice.notice.as_deref()),
        env = esc(&page.actor.environment.display_name),
        env_id = page.actor.environment.id,
        machines = machines_table(&page, "Machines", &machine_rows),
    );
    Ok(html::ok(&html::document(
        "Machines",
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
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
        .map(|m| (m, Some(&visible)))
        .collect();
    let can_share = visible.rights.contains(AccessRights::SHARE);
    let share = if can_share {
        format!(
            "<p><a href=\"{}\">Share</a></p>",
            page.link(&format!("/machines/groups/{id}/share"))
        )
    } else {
        "<p>You can use this group; only its owner and co-owners can share it.</p>".to_owned()
    };
    let password = password_form(&page, &visible);
    let body = format!(
        "<h1>{name}</h1>{notice}<dl><dt>Group ID</dt><dd><code id=\"group-id\">{id}</code></dd>\
         <dt>Type</dt><dd>{kind}</dd><dt>Description</dt><dd>{description}</dd><dt>Owner</dt><dd>{owner}</dd>\
         <dt>Created</dt><dd>{created}</dd><dt>Password</dt><dd>{has_password}</dd></dl>{share}{machines}{password}",
        name = esc(&g.name),
        notice = notice_html(notice.notice.as_deref()),
        kind = service::group_type_name(g.flowgrouptype),
        description = if g.description.is_empty() {
            "—".to_owned()
        } else {
            esc(&g.description)
        },
        owner = esc(&owner),
        created = when(g.created_on),
        has_password = if g.password_hash.is_some() {
            "Set"
        } else {
            "Not set"
        },
        machines = machines_table(&page, "Machines in this group", &machines),
    );
    Ok(html::ok(&html::document(
        &g.name,
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

fn password_form(page: &EnvPage, visible: &VisibleGroup) -> String {
    let writable = visible.rights.contains(AccessRights::WRITE);
    if !writable || visible.group.flowgrouptype == flowgrouptype::DEFAULT {
        return String::new();
    }
    let (heading, button) = match visible.group.password_hash {
        Some(_) => ("Rotate the group password", "Rotate password"),
        None => ("Set the group password", "Set password"),
    };
    format!(
        "<h2>{heading}</h2><form method=\"post\" action=\"{action}\">{csrf}\
         <label for=\"password\">New password ({min} to {max} characters)</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"{min}\" maxlength=\"{max}\">\
         <label for=\"confirmation\">Confirm the password</label>\
         <input id=\"confirmation\" name=\"confirmation\" type=\"password\" autocomplete=\"new-password\" required>\
         <p><button type=\"submit\">{button}</button></p></form>",
        action = page.link(&format!("/machines/groups/{}/password", visible.group.id)),
        csrf = csrf_field(&page.signed_in.csrf),
        min = crate::rules::GROUP_PASSWORD_CHARS.start(),
        max = crate::rules::GROUP_PASSWORD_CHARS.end(),
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
) -> Result<Response, PortalError> {
    let id = page.id_param("machine", "machine")?;
    let (machine, visible) = service::machine(&state, &page.actor, id).await?;
    let g = &visible.group;
    let standalone = g.flowgrouptype == flowgrouptype::DEFAULT;
    let group = if standalone {
        "Standalone (its own hidden group)".to_owned()
    } else {
        format!(
            "<a href=\"{}\">{}</a>",
            page.link(&format!("/machines/groups/{}", g.id)),
            esc(&g.name)
        )
    };
    let share = if visible.rights.contains(AccessRights::SHARE) {
        format!(
            "<p><a href=\"{}\">Share</a></p>",
            page.link(&format!("/machines/groups/{}/share", g.id))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{name}</h1><dl><dt>Machine ID</dt><dd><code>{id}</code></dd><dt>Status</dt><dd>{status}</dd>\
         <dt>Last heartbeat</dt><dd>{beat}</dd><dt>Group</dt><dd>{group}</dd>\
         <dt>Group ID (the connection's targetId)</dt><dd><code id=\"group-id\">{group_id}</code></dd>\
         <dt>Description</dt><dd>{description}</dd></dl>{share}",
        name = esc(&machine.name),
        status = service::machine_status(&machine, Timestamp::now()),
        beat = heartbeat(&machine),
        group_id = g.id,
        description = if machine.description.is_empty() {
            "—".to_owned()
        } else {
            esc(&machine.description)
        },
    );
    Ok(html::ok(&html::document(
        &machine.name,
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}
