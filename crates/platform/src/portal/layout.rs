//! The page layout of the real portal: a top bar (brand, environment picker,
//! the user and Sign out), a left navigation with the entries the seed names
//! (Home, My flows, Monitor › Machines, Data › Tables, Data › Connections)
//! and the content beside it; a side panel (Share) over a dimmed page.
//!
//! No script: the panel is a page of its own whose background is `inert`,
//! so the keyboard stays in the panel and the URL can be bookmarked.

use std::sync::OnceLock;

use base64::Engine;
use padconnect_core::EnvironmentId;

use super::html::{csrf_field, esc};
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
        None => format!("<main id=\"main\">{body}</main>"),
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
        return "<nav class=\"side\" aria-label=\"Main\"><ul><li><a href=\"/environments\">Environments</a></li></ul></nav>".to_owned();
    };
    let item = |section: Section, path: &str, label: &str| {
        nav_item(&env.id, chrome.section, section, path, label)
    };
    format!(
        "<nav class=\"side\" aria-label=\"Main\"><ul>{home}{flows}{solutions}\
         <li><span class=\"heading\" id=\"nav-monitor\">Monitor</span><ul aria-labelledby=\"nav-monitor\">{machines}{runs}</ul></li>\
         <li><span class=\"heading\" id=\"nav-data\">Data</span><ul aria-labelledby=\"nav-data\">{tables}{connections}</ul></li>\
         </ul></nav>",
        home = item(Section::Home, "home", "Home"),
        flows = item(Section::Flows, "flows", "My flows"),
        solutions = item(Section::Solutions, "solutions", "Solutions"),
        machines = item(Section::Machines, "machines", "Machines"),
        runs = item(
            Section::DesktopFlowRuns,
            "desktop-flow-runs",
            "Desktop flow runs"
        ),
        tables = item(Section::Tables, "tables", "Tables"),
        connections = item(Section::Connections, "connections", "Connections"),
    )
}

fn nav_item(
    env: &EnvironmentId,
    current: Section,
    section: Section,
    path: &str,
    label: &str,
) -> String {
    let mark = if section == current {
        " aria-current=\"page\""
    } else {
        ""
    };
    format!("<li><a href=\"/environments/{env}/{path}\"{mark}>{label}</a></li>")
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

/// A table in its own scrolling frame, so a wide table never makes the page
/// scroll sideways; the frame is focusable (keyboard users can scroll it)
/// and named by the table's caption.
pub fn grid(caption: &str, head: &str, rows: &str) -> String {
    let id = caption
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    format!(
        "<div class=\"grid\" role=\"region\" aria-labelledby=\"cap-{id}\" tabindex=\"0\"><table>\
         <caption id=\"cap-{id}\">{caption}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>",
        caption = esc(caption),
    )
}

/// `<th scope="col">` cells from labels (trusted markup).
pub fn columns(labels: &[&str]) -> String {
    labels
        .iter()
        .map(|label| format!("<th scope=\"col\">{label}</th>"))
        .collect()
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
