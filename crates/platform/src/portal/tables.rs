//! Data › Tables › Flow Machine Group: the rows the user may read, with the
//! columns the seed names, searchable by name. A standalone machine's hidden
//! group carries the machine's name, so searching for the machine finds the
//! group id a connection targets.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use super::html::{self, Section, esc, when};
use super::query::PageQuery;
use super::service;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

/// `GET /environments/{env}/tables/flowmachinegroup[?q=...]`.
pub async fn flow_machine_group(
    State(state): State<AppState>,
    page: EnvPage,
    PageQuery(search): PageQuery<Search>,
) -> Result<Response, PortalError> {
    let needle = search.q.trim().to_lowercase();
    let groups = service::visible_groups(&state, &page.actor).await?;
    let matching: Vec<_> = groups
        .iter()
        .filter(|g| needle.is_empty() || g.group.name.to_lowercase().contains(&needle))
        .collect();
    let mut rows = String::new();
    for g in &matching {
        let owner = state
            .store
            .system_user(g.group.owner_id)
            .await?
            .map(|u| u.fullname)
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{name}</td><td><code>{id}</code></td><td>{kind} ({code})</td><td>{description}</td>\
             <td>{owner}</td><td>{state}</td><td>{created}</td><td>{modified}</td></tr>",
            name = esc(&g.group.name),
            id = g.group.id,
            kind = service::group_type_name(g.group.flowgrouptype),
            code = g.group.flowgrouptype,
            description = esc(&g.group.description),
            owner = esc(&owner),
            state = if g.group.statecode == 0 { "Active" } else { "Inactive" },
            created = when(g.group.created_on),
            modified = when(g.group.modified_on),
        ));
    }
    let table = if matching.is_empty() {
        "<p>No rows match.</p>".to_owned()
    } else {
        format!(
            "<table><caption>Flow Machine Group ({count} rows)</caption><thead><tr>\
             <th scope=\"col\">Name <small>(name)</small></th><th scope=\"col\">Flow Machine Group <small>(flowmachinegroupid)</small></th>\
             <th scope=\"col\">Group type <small>(flowgrouptype)</small></th><th scope=\"col\">Description <small>(description)</small></th>\
             <th scope=\"col\">Owner <small>(ownerid)</small></th><th scope=\"col\">Status <small>(statecode)</small></th>\
             <th scope=\"col\">Created on <small>(createdon)</small></th><th scope=\"col\">Modified on <small>(modifiedon)</small></th>\
             </tr></thead><tbody>{rows}</tbody></table>",
            count = matching.len()
        )
    };
    let body = format!(
        "<h1>Flow Machine Group</h1><p>Table <code>flowmachinegroup</code>. A standalone machine's group has the machine's name.</p>\
         <form method=\"get\" action=\"{action}\" role=\"search\"><label for=\"q\">Search by name</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\"> <button type=\"submit\">Search</button></form>{table}",
        action = page.link("/tables/flowmachinegroup"),
        q = esc(&search.q),
    );
    Ok(html::ok(&html::document(
        "Flow Machine Group",
        Some(&page.chrome(Section::Tables)),
        &body,
    )))
}
