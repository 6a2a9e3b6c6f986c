//! The page layout of the real portal: a top bar (brand, environment picker,
//! the user and Sign out), a left navigation with the entries the seed names
//! (Home, My flows, Monitor › Machines, Data › Tables, Data › Connections),
//! each with its icon, and the content beside it; a command bar over the
//! content; side panels (Share, New, Set password) over a dimmed page;
//! tables that never hide a column.
//!
//! No script: a panel is a page of its own (`?panel=...`, or its own URL)
//! whose background is `inert`, so the keyboard stays in the panel and the
//! URL can be bookmarked; a command is a link to that page.

use std::sync::OnceLock;

use base64::Engine;
use padconnect_core::EnvironmentId;

use maud::{Markup, PreEscaped, Render, html};

use super::html::csrf_field;
use super::icons::Icon;
use padconnect_store::Environment;

/// The stylesheet, inlined and allowed by its hash (see [`style_hash`]).
pub const CSS: &str = include_str!("portal.css");

/// The CSP source of [`CSS`]: `'sha256-...'`.
pub fn style_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CSS.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        format!("'sha256-{hash}'")
    })
}

/// The layout's context for a signed-in user: who, the CSRF token for the
/// sign-out form, and where they are.
pub struct Chrome<'a> {
    pub user_name: &'a str,
    pub csrf: &'a str,
    /// The environment being shown, and those the user may switch to.
    pub environment: Option<&'a Environment>,
    pub environments: &'a [Environment],
    /// The navigation entry to mark as current.
    pub section: Section,
}

/// A left-navigation entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Flows,
    Solutions,
    Machines,
    DesktopFlowRuns,
    Tables,
    Connections,
    /// A page of no entry (the environment list, an error).
    Elsewhere,
}

/// A whole page.
pub fn document(title: &str, chrome: Option<&Chrome>, body: Markup) -> Markup {
    page(title, chrome, body, None)
}

/// A page with a side panel over it: `background` is the page the panel
/// belongs to, shown dimmed and out of reach of focus.
pub fn with_panel(title: &str, chrome: &Chrome, background: Markup, panel: Markup) -> Markup {
    page(title, Some(chrome), background, Some(panel))
}

fn page(title: &str, chrome: Option<&Chrome>, body: Markup, panel: Option<Markup>) -> Markup {
    let inert = panel.is_some();
    html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                link rel="icon" href="data:,";
                title { (title) " - Power Automate (padconnect)" }
                // The very string [`style_hash`] hashes.
                style { (PreEscaped(CSS)) }
            }
            body {
                @if !inert {
                    a class="skip" href="#main" { "Skip to content" }
                }
                @match chrome {
                    Some(chrome) => {
                        (top_bar(chrome, inert))
                        div class="shell" inert[inert] {
                            (side_nav(chrome))
                            main id="main" { (body) }
                        }
                    }
                    // Signed out (sign-in, a bare error page): the content centred.
                    None => main id="main" class="bare" { (body) },
                }
                @if let Some(panel) = panel {
                    div class="scrim" {}
                    div class="panel" role="dialog" aria-modal="true" aria-labelledby="panel-title" { (panel) }
                }
            }
        }
    }
}

fn top_bar(chrome: &Chrome, inert: bool) -> Markup {
    html! {
        header class="top" inert[inert] {
            a class="brand" href="/" { "Power Automate" }
            div class="tools" {
                (picker(chrome))
                span class="who" { (chrome.user_name) }
                form method="post" action="/signout" {
                    (csrf_field(chrome.csrf))
                    button class="quiet" type="submit" { "Sign out" }
                }
            }
        }
    }
}

fn side_nav(chrome: &Chrome) -> Markup {
    let Some(env) = chrome.environment else {
        return html! {
            nav class="side" aria-label="Main" {
                ul {
                    li { a href="/environments" { (Icon::Environments.svg()) span { "Environments" } } }
                }
            }
        };
    };
    let item = |section: Section, path: &str, label: &str, icon: Icon| {
        nav_item(&env.id, chrome.section, section, (path, label, icon))
    };
    html! {
        nav class="side" aria-label="Main" {
            ul {
                (item(Section::Home, "home", "Home", Icon::Home))
                (item(Section::Flows, "flows", "My flows", Icon::Flows))
                (item(Section::Solutions, "solutions", "Solutions", Icon::Solutions))
                li {
                    span class="heading" id="nav-monitor" { "Monitor" }
                    ul aria-labelledby="nav-monitor" {
                        (item(Section::Machines, "machines", "Machines", Icon::Machines))
                        (item(Section::DesktopFlowRuns, "desktop-flow-runs", "Desktop flow runs", Icon::Runs))
                    }
                }
                li {
                    span class="heading" id="nav-data" { "Data" }
                    ul aria-labelledby="nav-data" {
                        (item(Section::Tables, "tables", "Tables", Icon::Tables))
                        (item(Section::Connections, "connections", "Connections", Icon::Connections))
                    }
                }
            }
        }
    }
}

/// An entry: its icon, then its label (the link's name).
fn nav_item(
    env: &EnvironmentId,
    current: Section,
    section: Section,
    (path, label, icon): (&str, &str, Icon),
) -> Markup {
    let mark = (section == current).then_some("page");
    html! {
        li {
            a href={ "/environments/" (env) "/" (path) } aria-current=[mark] {
                (icon.svg())
                span { (label) }
            }
        }
    }
}

/// A GET form: works without script, and with the keyboard.
fn picker(chrome: &Chrome) -> Markup {
    if chrome.environments.is_empty() {
        return html! {};
    }
    let current = chrome.environment.map(|e| e.id);
    html! {
        form method="get" action="/environments" {
            label for="environment-picker" { "Environment" }
            select id="environment-picker" name="id" {
                @for e in chrome.environments {
                    option value=(e.id) selected[Some(e.id) == current] { (e.display_name) }
                }
            }
            button class="quiet" type="submit" { "Go" }
        }
    }
}

/// The heading row of a side panel, with its Close link (back to `back`).
pub fn panel_head(title: &str, back: &str) -> Markup {
    html! {
        div class="panel-head" {
            h1 id="panel-title" { (title) }
            a class="button" href=(back) { "Close" }
        }
    }
}

/// A table's column: its label (plain text, shown beside each value when
/// the rows stack on a phone), a note in small type after it (a logical
/// name), or a label for assistive technology only (a column of actions).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    label: &'static str,
    note: &'static str,
    hidden: bool,
}

impl Column {
    pub const fn new(label: &'static str) -> Self {
        Self {
            label,
            note: "",
            hidden: false,
        }
    }

    /// `label (note)`, the note in small type.
    pub const fn noted(label: &'static str, note: &'static str) -> Self {
        Self {
            label,
            note,
            hidden: false,
        }
    }

    /// A column of row actions: its label is read, not shown.
    pub const fn actions() -> Self {
        Self {
            label: "Actions",
            note: "",
            hidden: true,
        }
    }

    fn header(&self) -> Markup {
        html! {
            th scope="col" {
                @if self.hidden {
                    span class="sr" { (self.label) }
                } @else if self.note.is_empty() {
                    (self.label)
                } @else {
                    (self.label) " " small { "(" (self.note) ")" }
                }
            }
        }
    }

    fn cell(&self, content: &Markup) -> Markup {
        if self.hidden {
            return html! { td { (content) } };
        }
        html! { td data-label=(self.label) { (content) } }
    }
}

/// One row's cells, in column order.
pub type Row = Vec<Markup>;

/// A table in a focusable frame named by its caption (a region keyboard
/// users can scroll, as Fluent's DetailsList has it). Its columns wrap to
/// fit the frame; on a phone each row stacks into a card of labelled
/// values, so no column is ever out of sight.
pub fn grid(caption: &str, columns: &[Column], rows: &[Row]) -> Markup {
    let id = caption
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    html! {
        div class="grid" role="region" aria-labelledby={ "cap-" (id) } tabindex="0" {
            table {
                caption id={ "cap-" (id) } { (caption) }
                thead { tr { @for column in columns { (column.header()) } } }
                tbody {
                    @for row in rows {
                        tr {
                            @for (column, content) in columns.iter().zip(row) {
                                (column.cell(content))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An empty list's message, saying what to do next.
pub fn empty(message: impl Render) -> Markup {
    html! { p class="empty" { (message) } }
}

/// Tabs as links, the current one marked: works without script.
pub fn tabs(label: &str, entries: &[(&str, &str, bool)]) -> Markup {
    html! {
        nav class="tabs" aria-label=(label) {
            ul {
                @for (href, text, current) in entries {
                    li { a href=(href) aria-current=[current.then_some("page")] { (text) } }
                }
            }
        }
    }
}

/// A command of a [`command_bar`]: a link to the page (or panel) that does it.
pub struct Command<'a> {
    pub href: &'a str,
    pub label: &'a str,
    pub icon: Icon,
}

/// The bar of commands over a page's content, as the real portal has it.
/// The commands are links (each opens a page or a side panel), so they
/// work without script; the group is named for assistive technology.
pub fn command_bar(label: &str, commands: &[Command]) -> Markup {
    if commands.is_empty() {
        return html! {};
    }
    html! {
        div class="command-bar" role="group" aria-label=(label) {
            @for c in commands {
                a class="command" href=(c.href) { (c.icon.svg()) span { (c.label) } }
            }
        }
    }
}

/// A side panel's buttons, at its foot: the primary action, then Cancel
/// (back to the page under the panel).
pub fn panel_actions(primary: &str, back: &str) -> Markup {
    html! {
        div class="actions panel-actions" {
            button class="primary" type="submit" { (primary) }
            a class="button" href=(back) { "Cancel" }
        }
    }
}
