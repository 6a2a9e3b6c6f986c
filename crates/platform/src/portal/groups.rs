//! Monitor › Machines › Machine groups: the groups the user may see, with
//! the New machine group command and its side panel; a group's page (its id
//! in the URL, as the seed relies on) with its commands, Share and Set (or
//! Rotate) password, the latter a side panel too.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::{AccessRights, ShareRole};
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::form::{self, Filled, Input, NewPassword, Refused};
use maud::{Markup, html};

use super::html::{self, ViewQuery, csrf_field, notice_html, when};
use super::icons::Icon;
use super::layout::{self, Column, Command, Row, Section, command_bar, empty, grid};
use super::machines::{machine_tabs, machines_table, or_dash};
use super::query::PageQuery;
use super::service::{self, VisibleGroup};
use crate::state::AppState;
use padconnect_domain::fleet::{self, GROUP_DESCRIPTION, GROUP_NAME, GROUP_PASSWORD_CHARS};
use padconnect_store::{GroupType, Machine};

/// The `?panel=` of the groups tab that opens New machine group.
const NEW_PANEL: &str = "new";
/// The `?panel=` of a group's page that opens Set password.
const PASSWORD_PANEL: &str = "password";

/// The actor's standing on a group, as the list names it.
fn access_name(g: &VisibleGroup, page: &EnvPage) -> &'static str {
    if g.group.stamp.owner_id == page.actor.member.user.id {
        return "Owner";
    }
    if page.actor.member.admin {
        return "Administrator";
    }
    match ShareRole::from_rights(g.rights) {
        Some(ShareRole::CoOwner) => "Co-owner",
        Some(ShareRole::User) => "User",
        None => "Read",
    }
}

/// `GET /environments/{env}/machines/groups[?panel=new]`: the Machine
/// groups tab, and the New machine group panel over it.
pub async fn groups(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(view): PageQuery<ViewQuery>,
) -> Result<Response, PortalError> {
    let panel = (view.panel.as_deref() == Some(NEW_PANEL)).then(Filled::fresh);
    groups_page(&state, &page, view.notice.as_deref(), panel).await
}

async fn groups_page(
    state: &AppState,
    page: &EnvPage,
    notice: Option<&str>,
    panel: Option<Filled<NewGroup>>,
) -> Result<Response, PortalError> {
    let groups = service::visible_groups(state, &page.actor).await?;
    let standard: Vec<&VisibleGroup> = groups
        .iter()
        .filter(|g| g.group.flowgrouptype != GroupType::Default)
        .collect();
    let may_create = page.actor.member.actor().may_create();
    let new_group = page.link(&format!("/machines/groups?panel={NEW_PANEL}"));
    let commands = if may_create {
        command_bar(
            "Machine group commands",
            &[Command {
                href: &new_group,
                label: "New machine group",
                icon: Icon::Add,
            }],
        )
    } else {
        html! {}
    };
    let body = html! {
        (commands)
        h1 { "Machines" }
        (machine_tabs(page, true))
        (notice_html(notice))
        (groups_table(page, &standard, may_create))
    };
    let chrome = page.chrome(Section::Machines);
    let Some(filled) = panel else {
        return Ok(html::ok(layout::document(
            "Machine groups",
            Some(&chrome),
            body,
        )));
    };
    if !may_create {
        return Err(PortalError::forbidden(
            "Creating machine groups needs the Environment Maker role in this environment.",
        ));
    }
    Ok(html::respond(
        filled.status(),
        layout::with_panel(
            "New machine group",
            &chrome,
            body,
            new_group_panel(page, &filled),
        ),
    ))
}

fn groups_table(page: &EnvPage, standard: &[&VisibleGroup], may_create: bool) -> Markup {
    if standard.is_empty() {
        return empty(if may_create {
            html! {
                "No machine groups you can see yet. Create one with " strong { "New machine group" }
                ", or ask a group's owner to share it with you."
            }
        } else {
            html! { "No machine groups you can see yet: ask a group's owner to share it with you." }
        });
    }
    let rows: Vec<Row> = standard
        .iter()
        .map(|g| {
            vec![
                html! {
                    a href=(page.link(&format!("/machines/groups/{}", g.group.id))) { (g.group.name) }
                },
                html! { code { (g.group.id) } },
                html! { (g.machines.len()) },
                html! { (access_name(g, page)) },
            ]
        })
        .collect();
    let columns = [
        Column::new("Name"),
        Column::new("Group ID"),
        Column::new("Machines"),
        Column::new("Your access"),
    ];
    grid("Machine groups", &columns, &rows)
}

fn new_group_panel(page: &EnvPage, filled: &Filled<NewGroup>) -> Markup {
    let back = page.link("/machines/groups");
    let problem = filled.problem();
    let focus = form::focus_first(problem);
    let name = Input {
        autofocus: focus,
        ..Input::for_column(GROUP_NAME, "group-name", "Name", &filled.values.name)
    };
    let description = Input::for_column(
        GROUP_DESCRIPTION,
        "group-description",
        "Description (optional)",
        &filled.values.description,
    );
    html! {
        (layout::panel_head("New machine group", &back))
        p { "Machines join a group with its password; flows then run on any of them." }
        (form::above(problem, &["name", "description"]))
        form method="post" action=(back) novalidate {
            (csrf_field(&page.signed_in.csrf))
            (form::input(&name, problem))
            (form::input(&description, problem))
            (layout::panel_actions("Create", &back))
        }
    }
}

/// The form, and what it keeps when it comes back.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewGroup {
    name: String,
    description: String,
}

/// `POST /environments/{env}/machines/groups`: then the new group's page,
/// or the panel again with what was wrong.
pub async fn create(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewGroup>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let form = posted.form;
    let problem =
        match service::create_group(&state, &page.actor, &form.name, &form.description).await {
            Ok(group) => {
                return Ok(html::see_other(
                    &page.link(&format!("/machines/groups/{}?notice=created", group.id)),
                ));
            }
            Err(error) => Refused::from(error).into_problem()?,
        };
    let filled = Filled {
        values: form,
        problem: Some(problem),
    };
    groups_page(&state, &page, None, Some(filled)).await
}

/// `GET /environments/{env}/machines/groups/{group}[?panel=password]`.
pub async fn group(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(view): PageQuery<ViewQuery>,
) -> Result<Response, PortalError> {
    let id = page.id_param("group", "machine group")?;
    let visible = service::group(&state, &page.actor, id).await?;
    let panel = (view.panel.as_deref() == Some(PASSWORD_PANEL)).then(Filled::fresh);
    group_page(&state, &page, &visible, view.notice.as_deref(), panel).await
}

/// The group's page, with the password panel over it when `panel` is given.
async fn group_page(
    state: &AppState,
    page: &EnvPage,
    visible: &VisibleGroup,
    notice: Option<&str>,
    panel: Option<Filled<()>>,
) -> Result<Response, PortalError> {
    let body = group_body(state, page, visible, notice).await?;
    let chrome = page.chrome(Section::Machines);
    let Some(filled) = panel else {
        return Ok(html::ok(layout::document(
            &visible.group.name,
            Some(&chrome),
            body,
        )));
    };
    if !may_set_password(visible) {
        return Err(PortalError::forbidden(
            "Only the group's owner, its co-owners and administrators can set its password.",
        ));
    }
    let (title, panel) = password_panel(page, visible, &filled);
    Ok(html::respond(
        filled.status(),
        layout::with_panel(&title, &chrome, body, panel),
    ))
}

/// A standard group the user may write to has a password to set.
fn may_set_password(visible: &VisibleGroup) -> bool {
    visible.rights.contains(AccessRights::WRITE)
        && visible.group.flowgrouptype != GroupType::Default
}

/// "Set password" before a group has one, "Rotate password" after.
fn password_command(visible: &VisibleGroup) -> (&'static str, &'static str) {
    match visible.group.password_hash {
        Some(_) => ("Rotate the group password", "Rotate password"),
        None => ("Set the group password", "Set password"),
    }
}

fn group_commands(page: &EnvPage, visible: &VisibleGroup) -> Markup {
    let base = page.link(&format!("/machines/groups/{}", visible.group.id));
    let share = format!("{base}/share");
    let password = format!("{base}?panel={PASSWORD_PANEL}");
    let mut commands = Vec::new();
    if visible.rights.contains(AccessRights::SHARE) {
        commands.push(Command {
            href: &share,
            label: "Share",
            icon: Icon::Share,
        });
    }
    if may_set_password(visible) {
        commands.push(Command {
            href: &password,
            label: password_command(visible).1,
            icon: Icon::Key,
        });
    }
    command_bar("Machine group commands", &commands)
}

/// A group's page: the Share panel shows it dimmed behind itself.
pub async fn group_body(
    state: &AppState,
    page: &EnvPage,
    visible: &VisibleGroup,
    notice: Option<&str>,
) -> Result<Markup, PortalError> {
    let g = &visible.group;
    let owner = state
        .store
        .system_user(g.stamp.owner_id)
        .await?
        .map(|u| u.fullname)
        .unwrap_or_default();
    let machines: Vec<(&Machine, Option<&VisibleGroup>)> = visible
        .machines
        .iter()
        .map(|m| (m, Some(visible)))
        .collect();
    let may_not_share = !visible.rights.contains(AccessRights::SHARE);
    let none = html! {
        "No machine has joined this group yet. A machine joins with the group's password ("
        code { "padconnect machine join-group" }
        ", or Power Automate for desktop's machine settings)."
    };
    Ok(html! {
        (group_commands(page, visible))
        p class="crumbs" { a href=(page.link("/machines/groups")) { "Machine groups" } " ›" }
        h1 { (g.name) }
        (notice_html(notice))
        @if may_not_share {
            p { "You can use this group; only its owner and co-owners can share it." }
        }
        dl class="details" {
            dt { "Group ID" } dd { code id="group-id" { (g.id) } }
            dt { "Type" } dd { (service::group_type_name(g.flowgrouptype)) }
            dt { "Description" } dd { (or_dash(&g.description)) }
            dt { "Owner" } dd { (owner) }
            dt { "Created" } dd { (when(g.stamp.created_on)) }
            dt { "Password" } dd { @if g.password_hash.is_some() { "Set" } @else { "Not set" } }
        }
        (machines_table(page, "Machines in this group", &machines, none))
    })
}

/// The password panel: its title and markup. Both fields always come back
/// empty: a password is never written into a page.
fn password_panel(page: &EnvPage, visible: &VisibleGroup, filled: &Filled<()>) -> (String, Markup) {
    let (title, button) = password_command(visible);
    let back = page.link(&format!("/machines/groups/{}", visible.group.id));
    let problem = filled.problem();
    let (min, max) = (GROUP_PASSWORD_CHARS.start(), GROUP_PASSWORD_CHARS.end());
    let focus = form::focus_first(problem);
    let passwords = form::new_password("", (Some(*min), *max), focus, problem);
    let markup = html! {
        (layout::panel_head(title, &back))
        p { "Machines joining the group prove they know this password." }
        (form::above(problem, &["password", "confirmation"]))
        form method="post" action={ (back) "/password" } novalidate {
            (csrf_field(&page.signed_in.csrf))
            (passwords)
            (layout::panel_actions(button, &back))
        }
    };
    (title.to_owned(), markup)
}

/// `POST /environments/{env}/machines/groups/{group}/password`: then the
/// group's page, or the panel again with what was wrong.
pub async fn set_password(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewPassword>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let id = page.id_param("group", "machine group")?;
    let visible = service::group(&state, &page.actor, id).await?;
    let refused = match change_password(&state, &page, &visible, posted.form).await {
        Ok(()) => {
            return Ok(html::see_other(
                &page.link(&format!("/machines/groups/{id}?notice=password")),
            ));
        }
        Err(refused) => refused,
    };
    let filled = Filled {
        values: (),
        problem: Some(refused.into_problem()?),
    };
    group_page(&state, &page, &visible, None, Some(filled)).await
}

async fn change_password(
    state: &AppState,
    page: &EnvPage,
    visible: &VisibleGroup,
    password: NewPassword,
) -> Result<(), Refused> {
    let password = password.confirmed()?;
    fleet::set_password(
        &state.store,
        page.actor.member.actor(),
        visible.group.id,
        password,
    )
    .await?;
    Ok(())
}
