//! Data › Tables: the tables the seed's path uses (Tables › All › Flow
//! Machine Group), and that table's rows the user may read, with the
//! columns' display names and logical names, searchable by name, a page at a
//! time. A standalone machine's hidden group carries the machine's name, so
//! searching for the machine finds the group id a connection targets.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::PortalError;
use super::context::EnvPage;
use maud::{Markup, html};

use super::html::{self, when};
use super::layout::{self, Column, Row, Section, empty, grid};
use super::query::PageQuery;
use super::service;
use crate::state::AppState;

/// Rows a page of the table shows.
pub const PAGE_ROWS: usize = 25;

/// `GET /environments/{env}/tables`: Tables › All.
pub async fn all(page: EnvPage) -> Result<Response, PortalError> {
    let tables = page.link("/tables");
    let rows = [vec![
        html! { a href=(page.link("/tables/flowmachinegroup")) { "Flow Machine Group" } },
        html! { code { "flowmachinegroup" } },
        html! { "Standard" },
        html! { "Groups of machines that desktop flows run on; a standalone machine has a hidden one." },
    ]];
    let columns = [
        Column::new("Table"),
        Column::new("Name"),
        Column::new("Type"),
        Column::new("Description"),
    ];
    let body = html! {
        h1 { "Tables" }
        (layout::tabs("Tables views", &[(&tables, "All", true)]))
        (grid("All tables", &columns, &rows))
    };
    Ok(html::ok(layout::document(
        "Tables",
        Some(&page.chrome(Section::Tables)),
        body,
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Search {
    q: String,
    /// The 1-based page; anything unreadable is the first.
    page: Option<String>,
}

/// The columns: display name, then logical name, as the table designer
/// shows them. Display names from Microsoft's `flowmachinegroup` EntityType
/// reference (learn.microsoft.com, Dataverse Web API: "Flow Group Type",
/// "Created On", ...); the key column is "Flow Machine Group", as the seed
/// names it.
const COLUMNS: [Column; 8] = [
    Column::noted("Name", "name"),
    Column::noted("Flow Machine Group", "flowmachinegroupid"),
    Column::noted("Flow Group Type", "flowgrouptype"),
    Column::noted("Description", "description"),
    Column::noted("Owner", "ownerid"),
    Column::noted("Status", "statecode"),
    Column::noted("Created On", "createdon"),
    Column::noted("Modified On", "modifiedon"),
];

/// `GET /environments/{env}/tables/flowmachinegroup[?q=...&page=N]`.
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
    let pages = matching.len().div_ceil(PAGE_ROWS).max(1);
    let number = search
        .page
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let first = (number - 1) * PAGE_ROWS;
    let mut rows: Vec<Row> = Vec::new();
    for g in matching.iter().skip(first).take(PAGE_ROWS) {
        let owner = state
            .store
            .system_user(g.group.stamp.owner_id)
            .await?
            .map(|u| u.fullname)
            .unwrap_or_default();
        let status = if g.group.statecode == 0 {
            "Active"
        } else {
            "Inactive"
        };
        rows.push(vec![
            html! { (g.group.name) },
            html! { code { (g.group.id) } },
            html! {
                (service::group_type_name(g.group.flowgrouptype))
                " (" (g.group.flowgrouptype.code()) ")"
            },
            html! { (g.group.description) },
            html! { (owner) },
            html! { (status) },
            when(g.group.stamp.created_on),
            when(g.group.stamp.modified_on),
        ]);
    }
    let table = if matching.is_empty() {
        empty(if needle.is_empty() {
            "No rows you can read yet: machines and machine groups appear here once they are registered or shared with you."
        } else {
            "No row has a name containing that text. Search by the machine's or the group's name."
        })
    } else {
        let caption = format!(
            "Flow Machine Group: rows {} to {} of {}",
            first + 1,
            (first + PAGE_ROWS).min(matching.len()),
            matching.len()
        );
        html! {
            (grid(&caption, &COLUMNS, &rows))
            (pager(&page, &search.q, number, pages))
        }
    };
    let body = html! {
        p class="crumbs" { a href=(page.link("/tables")) { "Tables" } " ›" }
        h1 { "Flow Machine Group" }
        p {
            "Table " code { "flowmachinegroup" }
            ". A standalone machine's group has the machine's name."
        }
        form class="search" method="get" action=(page.link("/tables/flowmachinegroup")) role="search" {
            label for="q" { "Search by name" }
            input id="q" name="q" type="search" value=(search.q);
            " "
            button type="submit" { "Search" }
        }
        (table)
    };
    Ok(html::ok(layout::document(
        "Flow Machine Group",
        Some(&page.chrome(Section::Tables)),
        body,
    )))
}

/// Previous and Next links that keep the search.
fn pager(page: &EnvPage, q: &str, number: usize, pages: usize) -> Markup {
    if pages == 1 {
        return html! {};
    }
    let link = |to: usize, label: &str, rel: &str| {
        let query =
            serde_urlencoded::to_string([("q", q), ("page", &to.to_string())]).unwrap_or_default();
        html! {
            a class="button" rel=(rel) href={ (page.link("/tables/flowmachinegroup")) "?" (query) } { (label) }
        }
    };
    html! {
        nav class="pager" aria-label="Pages" {
            @if number > 1 { (link(number - 1, "Previous", "prev")) }
            span { "Page " (number) " of " (pages) }
            @if number < pages { (link(number + 1, "Next", "next")) }
        }
    }
}
