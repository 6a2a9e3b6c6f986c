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
use super::accounts;
use super::context::EnvPage;
use super::csrf::Posted;
use super::form::{self, Choice, Filled, Problem, Radios, Refused};
use super::groups::group_body;
use maud::{Markup, html};

use super::html::{self, csrf_field, notice_html};
use super::layout::{self, Column, Row, Section, grid};
use super::machines::{self, machine_body};
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
    let shown = Shown {
        query: &query.q,
        notice: query.notice.as_deref(),
        filled: &Filled::fresh(),
    };
    render(&state, &page, &shared, &shown).await
}

/// What the panel shows: the search, a notice, the form as posted.
struct Shown<'a> {
    query: &'a str,
    notice: Option<&'a str>,
    filled: &'a Filled<Grant>,
}

async fn render(
    state: &AppState,
    page: &EnvPage,
    shared: &Shared,
    shown: &Shown<'_>,
) -> Result<Response, PortalError> {
    let found =
        service::offered_principals(state, &page.actor, &shared.visible.group, shown.query).await?;
    let access = service::access_list(state, &shared.visible.group).await?;
    let background = match &shared.machine {
        Some(machine) => {
            let accounts = accounts::of(state, machine, &shared.visible).await?;
            machine_body(
                &machines::MachineView {
                    page,
                    machine,
                    visible: &shared.visible,
                    accounts: &accounts,
                },
                None,
            )
        }
        None => group_body(state, page, &shared.visible, None).await?,
    };
    let title = format!("Share {}", shared.name());
    let searched = !shown.query.trim().is_empty();
    let problem = shown.filled.problem();
    // Focus where the next keystroke goes: the search, its results, or
    // the field a refused form names.
    let focus = !searched && problem.is_none();
    let panel = html! {
        (layout::panel_head(&title, &shared.back))
        (notice_html(shown.notice))
        // A refusal of no field (or of a field this form lacks) goes first.
        (form::above(problem, &["principal", "role"]))
        form class="search" method="get" action=(shared.base) role="search" {
            label for="q" { "Search users and application users" }
            input id="q" name="q" type="search" value=(shown.query) autofocus[focus];
            " "
            button type="submit" { "Search" }
        }
        (grant_form(page, shared, &found, searched, shown))
        (access_table(page, &shared.base, &access))
    };
    Ok(html::respond(
        shown.filled.status(),
        layout::with_panel(&title, &page.chrome(Section::Machines), background, panel),
    ))
}

fn grant_form(
    page: &EnvPage,
    shared: &Shared,
    found: &[SystemUser],
    searched: bool,
    shown: &Shown,
) -> Markup {
    let candidates: Vec<Choice> = found
        .iter()
        .map(|u| Choice {
            id: format!("p-{}", u.id),
            value: u.id.to_string(),
            label: format!("{} ({}, {})", u.fullname, kind_name(u), identifier(u)),
        })
        .collect();
    let problem = shown.filled.problem();
    if candidates.is_empty() {
        return html! { p { "No user or application user matches: search by name, UPN or app ID." } };
    }
    let values = &shown.filled.values;
    let roles = [
        Choice {
            id: "role-user".into(),
            value: "user".into(),
            label: "User: can use the machines in flows and connections".into(),
        },
        Choice {
            id: "role-co-owner".into(),
            value: "co-owner".into(),
            label: "Co-owner: can also edit, share and delete".into(),
        },
    ];
    let principals = Radios {
        name: "principal",
        legend: "Share with",
        choices: &candidates,
        checked: &values.principal,
        focus: searched && problem.is_none(),
    };
    let fields = form::grant(&principals, &roles, &values.role, problem);
    html! {
        form method="post" action=(shared.base) novalidate {
            (csrf_field(&page.signed_in.csrf))
            input type="hidden" name="q" value=(shown.query);
            (fields)
            (layout::panel_actions("Save", &shared.back))
        }
    }
}

/// Who has access: a name with its kind and identifier under it, the
/// permission, Remove; three columns, so the panel shows them all.
fn access_table(page: &EnvPage, base: &str, access: &[Access]) -> Markup {
    let rows: Vec<Row> = access
        .iter()
        .map(|a| {
            let role = match a.role {
                _ if a.owner => "Owner".to_owned(),
                Some(ShareRole::CoOwner) => "Co-owner".to_owned(),
                Some(ShareRole::User) => "User".to_owned(),
                None => format!("Custom ({})", a.rights),
            };
            let remove = html! {
                @if !a.owner { (remove_button(page, base, a.user.id, &a.user.fullname)) }
            };
            vec![
                html! {
                    (a.user.fullname) br; small { (kind_name(&a.user)) ", " (identifier(&a.user)) }
                },
                html! { (role) },
                remove,
            ]
        })
        .collect();
    let columns = [
        Column::noted("Name", "type, identifier"),
        Column::new("Permission"),
        Column::actions(),
    ];
    grid("Who has access", &columns, &rows)
}

/// The Remove of a principal's row in a Who has access table: a form of
/// its own, posting to the panel's `/remove`.
pub(super) fn remove_button(page: &EnvPage, base: &str, principal: Uuid, name: &str) -> Markup {
    html! {
        form method="post" action={ (base) "/remove" } {
            (csrf_field(&page.signed_in.csrf))
            input type="hidden" name="principal" value=(principal);
            button type="submit" aria-label={ "Remove access of " (name) } { "Remove" }
        }
    }
}

/// The form, and what it keeps when it comes back (the search too).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Grant {
    principal: String,
    role: String,
    q: String,
}

/// What a [`remove_button`] posts.
#[derive(Deserialize)]
pub struct Revoke {
    principal: String,
}

impl Revoke {
    /// Whose access to remove; not an id is a 400 page (the button always
    /// sends one).
    pub(super) fn principal(&self) -> Result<Uuid, PortalError> {
        Uuid::try_parse(self.principal.trim())
            .map_err(|_| PortalError::bad_request("Choose whose access to remove."))
    }
}

fn principal_id(text: &str) -> Result<Uuid, Problem> {
    Uuid::try_parse(text.trim()).map_err(|_| {
        Problem::at(
            "principal",
            "Choose a user or application user to share with.",
        )
    })
}

/// `POST .../share`: Save; then the panel with a notice, or the panel again
/// with what was wrong.
pub async fn grant(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Grant>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let shared = shared(&state, &page).await?;
    let form = posted.form;
    let problem = match save(&state, &page, &shared, &form).await {
        Ok(()) => return Ok(html::see_other(&format!("{}?notice=shared", shared.base))),
        Err(refused) => refused.into_problem()?,
    };
    let filled = Filled {
        problem: Some(problem),
        values: form,
    };
    let shown = Shown {
        query: &filled.values.q,
        notice: None,
        filled: &filled,
    };
    render(&state, &page, &shared, &shown).await
}

async fn save(
    state: &AppState,
    page: &EnvPage,
    shared: &Shared,
    form: &Grant,
) -> Result<(), Refused> {
    let principal = principal_id(&form.principal)?;
    let role: ShareRole = form
        .role
        .parse()
        .map_err(|_| Problem::at("role", "Choose User or Co-owner."))?;
    // The service's refusals of the input are about whom (unknown, the
    // owner, disabled: fleet::not_offered).
    service::share(state, &page.actor, &shared.visible, principal, role)
        .await
        .map_err(|error| Refused::portal(error, Some("principal")))?;
    Ok(())
}

/// `POST .../share/remove`.
pub async fn revoke(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Revoke>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let principal = posted.form.principal()?;
    let shared = shared(&state, &page).await?;
    service::unshare(&state, &page.actor, &shared.visible, principal).await?;
    Ok(html::see_other(&format!("{}?notice=removed", shared.base)))
}
