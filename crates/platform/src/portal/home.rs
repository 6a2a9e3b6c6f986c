//! `/` and `/environments`: where a signed-in user starts, and the
//! environment picker.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::PortalError;
use super::context::environments_of;
use super::html::{self, Chrome, Section, esc};
use super::query::PageQuery;
use super::session::SignedIn;
use crate::state::AppState;

/// The first environment's machines, or the list when there are several.
pub async fn root(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PortalError> {
    let environments = environments_of(&state, &signed_in).await?;
    match environments.as_slice() {
        [only] => Ok(html::see_other(&format!(
            "/environments/{}/machines",
            only.id
        ))),
        _ => Ok(list(&signed_in, &environments)),
    }
}

#[derive(Deserialize)]
pub struct Pick {
    id: Option<String>,
}

/// `GET /environments[?id=...]`: the picker's target.
pub async fn environments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    PageQuery(pick): PageQuery<Pick>,
) -> Result<Response, PortalError> {
    let environments = environments_of(&state, &signed_in).await?;
    match pick.id {
        Some(id) => {
            let env = environments
                .iter()
                .find(|e| e.id.to_string().eq_ignore_ascii_case(id.trim()))
                .ok_or_else(|| {
                    PortalError::not_found(format!(
                        "There is no environment '{id}' that you are a user of."
                    ))
                })?;
            Ok(html::see_other(&format!(
                "/environments/{}/machines",
                env.id
            )))
        }
        None => Ok(list(&signed_in, &environments)),
    }
}

fn list(signed_in: &SignedIn, environments: &[crate::store::Environment]) -> Response {
    let rows: String = environments
        .iter()
        .map(|e| {
            format!(
                "<tr><td><a href=\"/environments/{id}/machines\">{name}</a></td><td><code>{id}</code></td><td>{org}</td></tr>",
                id = e.id,
                name = esc(&e.display_name),
                org = esc(&e.org)
            )
        })
        .collect();
    let body = if environments.is_empty() {
        "<h1>Environments</h1><p>You are not a user of any environment of this tenant yet: ask an administrator to add you.</p>".to_owned()
    } else {
        format!(
            "<h1>Environments</h1><table><caption>Environments you are a user of</caption>\
             <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Environment ID</th><th scope=\"col\">Org</th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    let chrome = Chrome {
        user_name: &signed_in.user.display_name,
        csrf: &signed_in.csrf,
        environment: None,
        environments,
        section: Section::Home,
    };
    html::ok(&html::document("Environments", Some(&chrome), &body))
}
