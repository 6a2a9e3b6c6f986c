//! A machine's Windows accounts, where the world declares them: which
//! accounts can sign in on it, and a side panel that gives one a new
//! password, as an administrator does on the machine itself. Connections
//! written with the old password then show that it changed.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::AccessRights;
use padconnect_core::uiflow::MAX_PASSWORD_CHARS;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::form::{self, Filled, NewPassword, Problem, Refused};
use maud::{Markup, html};

use super::html::{self, csrf_field};
use super::layout;
use super::machines::{MachineView, machine_page};
use super::service::{self, VisibleGroup};
use crate::state::AppState;
use padconnect_domain::fleet;
use padconnect_store::{Machine, MachineAccount};

/// The `?panel=` of the machine's page that opens the form.
pub const PANEL: &str = "account-password";

/// The machine's declared accounts.
pub async fn of(
    state: &AppState,
    machine: &Machine,
    visible: &VisibleGroup,
) -> Result<Vec<MachineAccount>, PortalError> {
    Ok(state
        .store
        .accounts_in_group(visible.group.id)
        .await?
        .into_iter()
        .map(|(_, account)| account)
        .filter(|a| a.machine_id == machine.id)
        .collect())
}

/// Whether the page offers the form: accounts to change, and write access.
pub fn may_change(view: &MachineView) -> bool {
    !view.accounts.is_empty() && view.visible.rights.contains(AccessRights::WRITE)
}

/// The accounts card of a machine's page; empty when it declares none.
pub fn section(accounts: &[MachineAccount]) -> Markup {
    if accounts.is_empty() {
        return html! {};
    }
    html! {
        section class="card" aria-labelledby="accounts-heading" {
            h2 id="accounts-heading" { "Windows accounts" }
            p { "Connections to this machine sign in with one of these accounts." }
            ul { @for a in accounts { li { code { (a.username) } } } }
        }
    }
}

/// What the form keeps when it comes back: the account (never a password).
#[derive(Default)]
pub struct AccountValues {
    pub username: String,
}

/// The side panel: its title, and its markup. Refused (403) to a user who
/// may not change the accounts.
pub fn panel(
    view: &MachineView,
    filled: &Filled<AccountValues>,
) -> Result<(String, Markup), PortalError> {
    if !may_change(view) {
        return Err(PortalError::forbidden(
            "Only the machine's owner, its co-owners and administrators can change its accounts' passwords.",
        ));
    }
    let title = format!("Change an account password on {}", view.machine.name);
    let back = view.page.link(&format!("/machines/{}", view.machine.id));
    let problem = filled.problem();
    let names: Vec<&str> = view.accounts.iter().map(|a| a.username.as_str()).collect();
    let focus = form::focus_first(problem);
    let action = view
        .page
        .link(&format!("/machines/{}/accounts/password", view.machine.id));
    let account = form::select(
        "account",
        "username",
        "Account",
        &names,
        &filled.values.username,
        problem,
    );
    let passwords = form::new_password("account-", (None, MAX_PASSWORD_CHARS), focus, problem);
    let markup = html! {
        (layout::panel_head(&title, &back))
        p {
            "The machine's account gets the new password; connections written with the old one \
             show an error until they are written again."
        }
        (form::above(problem, &["username", "password", "confirmation"]))
        form method="post" action=(action) novalidate {
            (csrf_field(&view.page.signed_in.csrf))
            (account)
            (passwords)
            (layout::panel_actions("Change password", &back))
        }
    };
    Ok((title, markup))
}

#[derive(Deserialize)]
pub struct NewAccountPassword {
    #[serde(default)]
    username: String,
    #[serde(flatten)]
    password: NewPassword,
}

/// `POST /environments/{env}/machines/{machine}/accounts/password`: then
/// the machine's page, or the panel again with what was wrong.
pub async fn set_password(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewAccountPassword>,
) -> Result<Response, PortalError> {
    let Posted {
        context: page,
        form: NewAccountPassword { username, password },
    } = posted;
    let id = page.id_param("machine", "machine")?;
    // Visible first: a machine the actor may not read does not exist for it.
    let (machine, visible) = service::machine(&state, &page.actor, id).await?;
    let problem = match change(&state, &page, id, &username, password).await {
        Ok(()) => {
            return Ok(html::see_other(
                &page.link(&format!("/machines/{id}?notice=account-password")),
            ));
        }
        Err(refused) => refused.into_problem()?,
    };
    let accounts = of(&state, &machine, &visible).await?;
    let view = MachineView {
        page: &page,
        machine: &machine,
        visible: &visible,
        accounts: &accounts,
    };
    let filled = Filled {
        values: AccountValues { username },
        problem: Some(problem),
    };
    machine_page(&view, None, Some(filled))
}

async fn change(
    state: &AppState,
    page: &EnvPage,
    machine: uuid::Uuid,
    username: &str,
    password: NewPassword,
) -> Result<(), Refused> {
    if username.trim().is_empty() {
        return Err(Problem::at("username", "Choose an account.").into());
    }
    let password = password.confirmed()?;
    fleet::set_account_password(
        &state.store,
        page.actor.member.actor(),
        machine,
        username,
        password,
    )
    .await?;
    Ok(())
}
