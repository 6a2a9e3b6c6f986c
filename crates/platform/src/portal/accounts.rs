//! A machine's Windows accounts, where the world declares them: which
//! accounts can sign in on it, and a form that gives one a new password, as
//! an administrator does on the machine itself. Connections written with the
//! old password then show that it changed.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::AccessRights;
use padconnect_core::uiflow::MAX_PASSWORD_CHARS;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, csrf_field, esc};
use super::service::{self, VisibleGroup};
use crate::state::AppState;
use padconnect_domain::fleet;
use padconnect_store::{Machine, MachineAccount};

/// The accounts card of a machine's page; empty when it declares none.
pub fn section(
    page: &EnvPage,
    machine: &Machine,
    visible: &VisibleGroup,
    accounts: &[MachineAccount],
) -> String {
    if accounts.is_empty() {
        return String::new();
    }
    let names: String = accounts
        .iter()
        .map(|a| format!("<li><code>{}</code></li>", esc(&a.username)))
        .collect();
    let form = match visible.rights.contains(AccessRights::WRITE) {
        true => password_form(page, machine, accounts),
        false => String::new(),
    };
    format!(
        "<section class=\"card\" aria-labelledby=\"accounts-heading\"><h2 id=\"accounts-heading\">Windows accounts</h2>\
         <p>Connections to this machine sign in with one of these accounts.</p><ul>{names}</ul>{form}</section>"
    )
}

fn password_form(page: &EnvPage, machine: &Machine, accounts: &[MachineAccount]) -> String {
    let options: String = accounts
        .iter()
        .map(|a| format!("<option>{}</option>", esc(&a.username)))
        .collect();
    format!(
        "<form method=\"post\" action=\"{action}\">{csrf}\
         <label for=\"account\">Account</label><select id=\"account\" name=\"username\">{options}</select>\
         <label for=\"account-password\">New password (at most {MAX_PASSWORD_CHARS} characters)</label>\
         <input id=\"account-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required maxlength=\"{MAX_PASSWORD_CHARS}\">\
         <label for=\"account-confirmation\">Confirm the password</label>\
         <input id=\"account-confirmation\" name=\"confirmation\" type=\"password\" autocomplete=\"new-password\" required>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">Change password</button></div></form>",
        action = page.link(&format!("/machines/{}/accounts/password", machine.id)),
        csrf = csrf_field(&page.signed_in.csrf),
    )
}

#[derive(Deserialize)]
pub struct NewAccountPassword {
    username: String,
    password: String,
    confirmation: String,
}

/// `POST /environments/{env}/machines/{machine}/accounts/password`.
pub async fn set_password(
    State(state): State<AppState>,
    posted: Posted<EnvPage, NewAccountPassword>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let id = page.id_param("machine", "machine")?;
    let NewAccountPassword {
        username,
        password,
        confirmation,
    } = posted.form;
    service::confirmed(&password, &confirmation)?;
    // Visible first: a machine the actor may not read does not exist for it.
    service::machine(&state, &page.actor, id).await?;
    fleet::set_account_password(&state.store, page.actor.fleet(), id, &username, password).await?;
    Ok(html::see_other(
        &page.link(&format!("/machines/{id}?notice=account-password")),
    ))
}
