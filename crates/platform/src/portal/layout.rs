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

use super::html::{csrf_field, esc};
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

/// A whole page. `body` is trusted markup built with [`esc`].
pub fn document(title: &str, chrome: Option<&Chrome>, body: &str) -> String {
    page(title, chrome, body, None)
}

/// A page with a side panel over it: `background` is the page the panel
/// belongs to, shown dimmed and out of reach of focus.
pub fn with_panel(title: &str, chrome: &Chrome, background: &str, panel: &str) -> String {
    page(title, Some(chrome), background, Some(panel))
}

fn page(title: &str, chrome: Option<&Chrome>, body: &str, panel: Option<&str>) -> String {
    let inert = if panel.is_some() { " inert" } else { "" };
    let content = match chrome {
        Some(chrome) => format!(
            "{top}<div class=\"shell\"{inert}>{nav}<main id=\"main\">{body}</main></div>",
            top = top_bar(chrome, inert),
            nav = side_nav(chrome),
        ),
        // Signed out (sign-in, a bare error page): the content centred.
        None => format!("<main id=\"main\" class=\"bare\">{body}</main>"),
    };
    let panel = panel
        .map(|panel| {
            format!(
                "<div class=\"scrim\"></div><div class=\"panel\" role=\"dialog\" aria-modal=\"true\" aria-labelledby=\"panel-title\">{panel}</div>"
            )
        })
        .unwrap_or_default();
    let skip = if panel.is_empty() {
        "<a class=\"skip\" href=\"#main\">Skip to content</a>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title} - Power Automate (padconnect)</title><style>{CSS}</style></head>\
         <body>{skip}{content}{panel}</body></html>",
        title = esc(title)
    )
}

fn top_bar(chrome: &Chrome, inert: &str) -> String {
    format!(
        "<header class=\"top\"{inert}><a class=\"brand\" href=\"/\">Power Automate</a><div class=\"tools\">{picker}\
         <span class=\"who\">{user}</span>\
         <form method=\"post\" action=\"/signout\">{csrf}<button class=\"quiet\" type=\"submit\">Sign out</button></form></div></header>",
        picker = picker(chrome),
        user = esc(chrome.user_name),
        csrf = csrf_field(chrome.csrf),
    )
}

fn side_nav(chrome: &Chrome) -> String {
    let Some(env) = chrome.environment else {
        return format!(
            "<nav class=\"side\" aria-label=\"Main\"><ul><li><a href=\"/environments\">{}<span>Environments</span></a></li></ul></nav>",
            Icon::Environments.svg()
        );
    };
    let item = |section: Section, path: &str, label: &str, icon: Icon| {
        nav_item(&env.id, chrome.section, section, (path, label, icon))
    };
    format!(
        "<nav class=\"side\" aria-label=\"Main\"><ul>{home}{flows}{solutions}\
         <li><span class=\"heading\" id=\"nav-monitor\">Monitor</span><ul aria-labelledby=\"nav-monitor\">{machines}{runs}</ul></li>\
         <li><span class=\"heading\" id=\"nav-data\">Data</span><ul aria-labelledby=\"nav-data\">{tables}{connections}</ul></li>\
         </ul></nav>",
        home = item(Section::Home, "home", "Home", Icon::Home),
        flows = item(Section::Flows, "flows", "My flows", Icon::Flows),
        solutions = item(
            Section::Solutions,
            "solutions",
            "Solutions",
            Icon::Solutions
        ),
        machines = item(Section::Machines, "machines", "Machines", Icon::Machines),
        runs = item(
            Section::DesktopFlowRuns,
            "desktop-flow-runs",
            "Desktop flow runs",
            Icon::Runs
        ),
        tables = item(Section::Tables, "tables", "Tables", Icon::Tables),
        connections = item(
            Section::Connections,
            "connections",
            "Connections",
            Icon::Connections
        ),
    )
}

/// An entry: its icon, then its label (the link's name).
fn nav_item(
    env: &EnvironmentId,
    current: Section,
    section: Section,
    (path, label, icon): (&str, &str, Icon),
) -> String {
    let mark = if section == current {
        " aria-current=\"page\""
    } else {
        ""
    };
    format!(
        "<li><a href=\"/environments/{env}/{path}\"{mark}>{icon}<span>{label}</span></a></li>",
        icon = icon.svg()
    )
}

/// A GET form: works without script, and with the keyboard.
fn picker(chrome: &Chrome) -> String {
    if chrome.environments.is_empty() {
        return String::new();
    }
    let current = chrome.environment.map(|e| e.id);
    let options: String = chrome
        .environments
        .iter()
        .map(|e| {
            let selected = if Some(e.id) == current {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                e.id,
                esc(&e.display_name)
            )
        })
        .collect();
    format!(
        "<form method=\"get\" action=\"/environments\"><label for=\"environment-picker\">Environment</label>\
         <select id=\"environment-picker\" name=\"id\">{options}</select><button class=\"quiet\" type=\"submit\">Go</button></form>"
    )
}

/// The heading row of a side panel, with its Close link (back to `back`).
pub fn panel_head(title: &str, back: &str) -> String {
    format!(
        "<div class=\"panel-head\"><h1 id=\"panel-title\">{}</h1><a class=\"button\" href=\"{back}\">Close</a></div>",
        esc(title)
    )
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

    fn header(&self) -> String {
        let label = esc(self.label);
        match (self.hidden, self.note) {
            (true, _) => format!("<th scope=\"col\"><span class=\"sr\">{label}</span></th>"),
            (false, "") => format!("<th scope=\"col\">{label}</th>"),
            (false, note) => format!(
                "<th scope=\"col\">{label} <small>({})</small></th>",
                esc(note)
            ),
        }
    }

    fn cell(&self, content: &str) -> String {
        if self.hidden {
            return format!("<td>{content}</td>");
        }
        format!("<td data-label=\"{}\">{content}</td>", esc(self.label))
    }
}

/// One row's cells, trusted markup built with [`esc`], in column order.
pub type Row = Vec<String>;

/// A table in a focusable frame named by its caption (a region keyboard
/// users can scroll, as Fluent's DetailsList has it). Its columns wrap to
/// fit the frame; on a phone each row stacks into a card of labelled
/// values, so no column is ever out of sight.
pub fn grid(caption: &str, columns: &[Column], rows: &[Row]) -> String {
    let id = caption
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let head: String = columns.iter().map(Column::header).collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = columns
                .iter()
                .zip(row)
                .map(|(column, content)| column.cell(content))
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!(
        "<div class=\"grid\" role=\"region\" aria-labelledby=\"cap-{id}\" tabindex=\"0\"><table>\
         <caption id=\"cap-{id}\">{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>",
        caption = esc(caption),
    )
}

/// An empty list's message, saying what to do next (trusted markup).
pub fn empty(message: &str) -> String {
    format!("<p class=\"empty\">{message}</p>")
}

/// Tabs as links, the current one marked: works without script.
pub fn tabs(label: &str, entries: &[(&str, &str, bool)]) -> String {
    let items: String = entries
        .iter()
        .map(|(href, text, current)| {
            let mark = if *current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<li><a href=\"{href}\"{mark}>{text}</a></li>")
        })
        .collect();
    format!(
        "<nav class=\"tabs\" aria-label=\"{}\"><ul>{items}</ul></nav>",
        esc(label)
    )
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
pub fn command_bar(label: &str, commands: &[Command]) -> String {
    if commands.is_empty() {
        return String::new();
    }
    let items: String = commands
        .iter()
        .map(|c| {
            format!(
                "<a class=\"command\" href=\"{href}\">{icon}<span>{label}</span></a>",
                href = c.href,
                icon = c.icon.svg(),
                label = esc(c.label),
            )
        })
        .collect();
    format!(
        "<div class=\"command-bar\" role=\"group\" aria-label=\"{}\">{items}</div>",
        esc(label)
    )
}

/// A side panel's buttons, at its foot: the primary action, then Cancel
/// (back to the page under the panel).
pub fn panel_actions(primary: &str, back: &str) -> String {
    format!(
        "<div class=\"actions panel-actions\"><button class=\"primary\" type=\"submit\">{}</button>\
         <a class=\"button\" href=\"{back}\">Cancel</a></div>",
        esc(primary)
    )
}
