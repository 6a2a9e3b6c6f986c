//! Monitor › Machines, with the real portal's two tabs: Machines (every
//! machine the user may see, here) and Machine groups (`groups`); a
//! machine's page, with its commands: Share (a standalone machine) and
//! Change account password (where it declares Windows accounts).

use axum::extract::State;
use axum::response::Response;
use padconnect_core::AccessRights;

use super::PortalError;
use super::accounts::{self, AccountValues};
use super::context::EnvPage;
use super::form::Filled;
use maud::{Markup, html};

use super::html::{self, ViewQuery, notice_html, when};
use super::icons::Icon;
use super::layout::{self, Column, Command, Row, Section, command_bar, empty, grid};
use super::query::PageQuery;
use super::service::{self, VisibleGroup};
use crate::state::AppState;
use padconnect_store::{GroupType, Machine, MachineAccount};

fn heartbeat(machine: &Machine) -> Markup {
    machine
        .lastheartbeatdate
        .map_or_else(|| html! { "—" }, when)
}

/// A table of machines, each with its group (when it has a visible one).
pub fn machines_table(
    page: &EnvPage,
    caption: &str,
    rows: &[(&Machine, Option<&VisibleGroup>)],
    none: Markup,
) -> Markup {
    if rows.is_empty() {
        return empty(none);
    }
    let now = page.now;
    let rows: Vec<Row> = rows
        .iter()
        .map(|(m, group)| {
            let group_cell = match group {
                Some(g) if g.group.flowgrouptype != GroupType::Default => html! {
                    a href=(page.link(&format!("/machines/groups/{}", g.group.id))) { (g.group.name) }
                },
                _ => html! { "Standalone" },
            };
            vec![
                html! { a href=(page.link(&format!("/machines/{}", m.id))) { (m.name) } },
                status_badge(service::machine_status(m, now)),
                heartbeat(m),
                group_cell,
                html! { (m.agentversion.as_deref().unwrap_or("—")) },
            ]
        })
        .collect();
    let columns = [
        Column::new("Machine"),
        Column::new("Status"),
        Column::new("Last heartbeat"),
        Column::new("Group"),
        Column::new("Agent version"),
    ];
    grid(caption, &columns, &rows)
}

/// A machine's status, coloured as the portal does: green when connected.
fn status_badge(status: &str) -> Markup {
    let class = if status == "Connected" { "ok" } else { "bad" };
    html! { span class={ "status " (class) } { (status) } }
}

/// The two tabs of Monitor › Machines.
pub fn machine_tabs(page: &EnvPage, groups_tab: bool) -> Markup {
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

pub fn or_dash(text: &str) -> &str {
    if text.is_empty() { "—" } else { text }
}

/// `GET /environments/{env}/machines`: the Machines tab.
pub async fn list(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(view): PageQuery<ViewQuery>,
) -> Result<Response, PortalError> {
    let groups = service::visible_groups(&state, &page.actor).await?;
    let rows: Vec<(&Machine, Option<&VisibleGroup>)> = groups
        .iter()
        .flat_map(|g| g.machines.iter().map(move |m| (m, Some(g))))
        .collect();
    let none = html! {
        "No machines you can see yet. Register one with " code { "padconnect machine register" }
        " (or declare it in the world file), or ask a machine's owner to share it with you."
    };
    let body = html! {
        h1 { "Machines" }
        (machine_tabs(&page, false))
        (notice_html(view.notice.as_deref()))
        (machines_table(&page, "Machines", &rows, none))
    };
    Ok(html::ok(layout::document(
        "Machines",
        Some(&page.chrome(Section::Machines)),
        body,
    )))
}

/// `GET /environments/{env}/machines/{machine}[?panel=account-password]`:
/// a machine, and the group id a connection to it targets.
pub async fn machine(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(query): PageQuery<ViewQuery>,
) -> Result<Response, PortalError> {
    let id = page.id_param("machine", "machine")?;
    let (machine, visible) = service::machine(&state, &page.actor, id).await?;
    let accounts = accounts::of(&state, &machine, &visible).await?;
    let panel = (query.panel.as_deref() == Some(accounts::PANEL)).then(Filled::fresh);
    let view = MachineView {
        page: &page,
        machine: &machine,
        visible: &visible,
        accounts: &accounts,
    };
    machine_page(&view, query.notice.as_deref(), panel)
}

/// What a machine's page shows: the machine, its group, its accounts.
pub struct MachineView<'a> {
    pub page: &'a EnvPage,
    pub machine: &'a Machine,
    pub visible: &'a VisibleGroup,
    pub accounts: &'a [MachineAccount],
}

/// The machine's page, with the account password panel over it when
/// `panel` is given (fresh, or again after a refusal).
pub fn machine_page(
    view: &MachineView,
    notice: Option<&str>,
    panel: Option<Filled<AccountValues>>,
) -> Result<Response, PortalError> {
    let body = machine_body(view, notice);
    let chrome = view.page.chrome(Section::Machines);
    let Some(filled) = panel else {
        return Ok(html::ok(layout::document(
            &view.machine.name,
            Some(&chrome),
            body,
        )));
    };
    let (title, panel) = accounts::panel(view, &filled)?;
    Ok(html::respond(
        filled.status(),
        layout::with_panel(&title, &chrome, body, panel),
    ))
}

/// The commands of a machine's page: what the user may do to it.
fn machine_commands(view: &MachineView) -> Markup {
    let MachineView {
        page,
        machine,
        visible,
        ..
    } = view;
    let standalone = visible.group.flowgrouptype == GroupType::Default;
    let share = page.link(&format!("/machines/{}/share", machine.id));
    let password = page.link(&format!(
        "/machines/{}?panel={}",
        machine.id,
        accounts::PANEL
    ));
    let mut commands = Vec::new();
    // A machine in a group is shared through its group, as in the portal.
    if standalone && visible.rights.contains(AccessRights::SHARE) {
        commands.push(Command {
            href: &share,
            label: "Share",
            icon: Icon::Share,
        });
    }
    if accounts::may_change(view) {
        commands.push(Command {
            href: &password,
            label: "Change account password",
            icon: Icon::Key,
        });
    }
    command_bar("Machine commands", &commands)
}

/// A machine's page: the Share panel of a standalone machine shows it
/// dimmed behind itself.
pub fn machine_body(view: &MachineView, notice: Option<&str>) -> Markup {
    let MachineView {
        page,
        machine,
        visible,
        ..
    } = view;
    let g = &visible.group;
    let standalone = g.flowgrouptype == GroupType::Default;
    let through_group = !standalone && visible.rights.contains(AccessRights::SHARE);
    html! {
        (machine_commands(view))
        p class="crumbs" { a href=(page.link("/machines")) { "Machines" } " ›" }
        h1 { (machine.name) }
        (notice_html(notice))
        @if through_group {
            p { "This machine is shared through its group." }
        }
        dl class="details" {
            dt { "Machine ID" } dd { code { (machine.id) } }
            dt { "Status" } dd { (status_badge(service::machine_status(machine, view.page.now))) }
            dt { "Last heartbeat" } dd { (heartbeat(machine)) }
            dt { "Group" }
            dd {
                @if standalone {
                    "Standalone (its own hidden group)"
                } @else {
                    a href=(page.link(&format!("/machines/groups/{}", g.id))) { (g.name) }
                }
            }
            dt { "Group ID (the connection's targetId)" } dd { code id="group-id" { (g.id) } }
            dt { "Description" } dd { (or_dash(&machine.description)) }
        }
        (accounts::section(view.accounts))
    }
}
