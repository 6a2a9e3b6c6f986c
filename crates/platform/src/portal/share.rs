//! The Share panel of a machine group (a standalone machine shares through
//! its own group): search the environment's users and application users,
//! give one `User` or `Co-owner`, see who has access, remove it.

use axum::extract::State;
use axum::response::Response;
use padconnect_core::ShareRole;
use serde::Deserialize;
use uuid::Uuid;

use super::PortalError;
use super::context::EnvPage;
use super::csrf::Posted;
use super::html::{self, Section, csrf_field, esc, notice_html};
use super::query::PageQuery;
use super::service::{self, Access};
use crate::state::AppState;
use crate::store::{SystemUser, SystemUserKind};

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

/// `GET .../machines/groups/{group}/share[?q=...]`.
pub async fn panel(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(query): PageQuery<PanelQuery>,
) -> Result<Response, PortalError> {
    let id = page.id_param("group", "machine group")?;
    let visible = service::group(&state, &page.actor, id).await?;
    if !visible
        .rights
        .contains(padconnect_core::AccessRights::SHARE)
    {
        return Err(PortalError::forbidden(format!(
            "You cannot share machine group '{}': only its owner and co-owners can.",
            visible.group.name
        )));
    }
    let found = service::search_principals(&state, &page.actor, &query.q).await?;
    let access = service::access_list(&state, &visible.group).await?;
    let base = page.link(&format!("/machines/groups/{id}/share"));
    let body = format!(
        "<h1>Share {name}</h1>{notice}<p><a href=\"{back}\">Back to the group</a></p>\
         <form method=\"get\" action=\"{base}\" role=\"search\"><label for=\"q\">Search users and application users</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\"> <button type=\"submit\">Search</button></form>\
         {grant}{who}",
        name = esc(&visible.group.name),
        notice = notice_html(query.notice.as_deref()),
        back = page.link(&format!("/machines/groups/{id}")),
        q = esc(&query.q),
        grant = grant_form(&page, &base, &found, visible.group.owner_id),
        who = access_table(&page, &base, &access),
    );
    let title = format!("Share {}", visible.group.name);
    Ok(html::ok(&html::document(
        &title,
        Some(&page.chrome(Section::Machines)),
        &body,
    )))
}

fn grant_form(page: &EnvPage, action: &str, found: &[SystemUser], owner: Uuid) -> String {
    let candidates: Vec<&SystemUser> = found.iter().filter(|u| u.id != owner).collect();
    if candidates.is_empty() {
        return "<p>No user or application user matches.</p>".to_owned();
    }
    let options: String = candidates
        .iter()
        .map(|u| {
            format!(
                "<div><input type=\"radio\" name=\"principal\" id=\"p-{id}\" value=\"{id}\" required>\
                 <label class=\"inline\" for=\"p-{id}\">{name} ({kind}, {ident})</label></div>",
                id = u.id,
                name = esc(&u.fullname),
                kind = kind_name(u),
                ident = esc(&identifier(u)),
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
         <p><button type=\"submit\">Save</button></p></form>",
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
    format!(
        "<table><caption>Who has access</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Type</th>\
         <th scope=\"col\">Identifier</th><th scope=\"col\">Permission</th><th scope=\"col\"><span class=\"skip\">Actions</span></th></tr></thead>\
         <tbody>{rows}</tbody></table>"
    )
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
    let id = page.id_param("group", "machine group")?;
    let principal = principal_id(&posted.form.principal)?;
    let role: ShareRole = posted
        .form
        .role
        .parse()
        .map_err(|_| PortalError::bad_request("Choose User or Co-owner."))?;
    let visible = service::group(&state, &page.actor, id).await?;
    service::share(&state, &page.actor, &visible, principal, role).await?;
    Ok(html::see_other(&page.link(&format!(
        "/machines/groups/{id}/share?notice=shared"
    ))))
}

/// `POST .../share/remove`.
pub async fn revoke(
    State(state): State<AppState>,
    posted: Posted<EnvPage, Revoke>,
) -> Result<Response, PortalError> {
    let page = posted.context;
    let id = page.id_param("group", "machine group")?;
    let principal = principal_id(&posted.form.principal)?;
    let visible = service::group(&state, &page.actor, id).await?;
    service::unshare(&state, &page.actor, &visible, principal).await?;
    Ok(html::see_other(&page.link(&format!(
        "/machines/groups/{id}/share?notice=removed"
    ))))
}
