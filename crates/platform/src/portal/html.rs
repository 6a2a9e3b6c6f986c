//! HTML output: escaping, the page layout (navigation, environment picker,
//! sign-out form) and the headers every page carries. No template engine:
//! pages are small, and every value goes through [`esc`].

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use padconnect_core::EnvironmentId;

use crate::store::Environment;

/// Text made safe for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#faf9f8}\
header{display:flex;gap:1.5em;align-items:center;background:#0b53ce;color:#fff;padding:.5em 1em;flex-wrap:wrap}\
header a{color:#fff}header form{margin:0}\
nav ul{list-style:none;display:flex;gap:1em;margin:0;padding:0}\
nav a[aria-current]{font-weight:bold;text-decoration:underline}\
main{padding:1em 1.5em;max-width:70em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;background:#fff}\
th,td{border:1px solid #d0d0d0;padding:.3em .6em;text-align:left;vertical-align:top}\
caption{text-align:left;font-weight:bold;padding:.3em 0}\
code{font-size:.95em}\
label{display:block;margin:.4em 0 .1em}\
fieldset{border:1px solid #d0d0d0;margin:.5em 0 1em;background:#fff}\
button,input,select{font:inherit;padding:.25em .5em}\
:focus-visible{outline:3px solid #ffb900;outline-offset:2px}\
.skip{position:absolute;left:-999px}.skip:focus{left:1em;top:1em;background:#fff;color:#000;padding:.3em}\
.notice{background:#dff6dd;border:1px solid #107c10;padding:.4em .8em}\
.inline{display:inline}";

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Machines,
    Connections,
    Tables,
}

/// A whole page. `body` is trusted markup built with [`esc`].
pub fn document(title: &str, chrome: Option<&Chrome>, body: &str) -> String {
    let header = chrome.map(header).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{} - Power Automate (padconnect)</title><style>{CSS}</style></head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a>{header}\
         <main id=\"main\">{body}</main></body></html>",
        esc(title)
    )
}

fn header(chrome: &Chrome) -> String {
    let mut out = String::from("<header><strong>Power Automate</strong>");
    if let Some(env) = chrome.environment {
        out.push_str(&nav(&env.id, chrome.section));
    }
    out.push_str(&picker(chrome));
    out.push_str(&format!(
        "<span>Signed in as {}</span><form method=\"post\" action=\"/signout\">{}<button>Sign out</button></form></header>",
        esc(chrome.user_name),
        csrf_field(chrome.csrf)
    ));
    out
}

fn nav(env: &EnvironmentId, current: Section) -> String {
    let item = |section: Section, path: &str, label: &str| {
        let mark = if section == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<li><a href=\"/environments/{env}/{path}\"{mark}>{label}</a></li>")
    };
    format!(
        "<nav aria-label=\"Main\"><ul>{}{}{}</ul></nav>",
        item(Section::Machines, "machines", "Monitor › Machines"),
        item(Section::Connections, "connections", "Connections"),
        item(
            Section::Tables,
            "tables/flowmachinegroup",
            "Data › Tables › Flow Machine Group"
        ),
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
        "<form method=\"get\" action=\"/environments\"><label for=\"environment-picker\" class=\"inline\">Environment</label> \
         <select id=\"environment-picker\" name=\"id\">{options}</select> <button>Go</button></form>"
    )
}

/// The hidden field every POST form carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// The Content-Security-Policy: nothing from anywhere but this page's own
/// style element (by hash) and forms posting back here.
fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CSS.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// A page with the portal's headers: no caching of signed-in pages, no
/// framing, no sniffing.
pub fn respond(status: StatusCode, page: &str) -> Response {
    let mut response = (status, page.to_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(csp) = HeaderValue::from_str(content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// 200 with a page.
pub fn ok(page: &str) -> Response {
    respond(StatusCode::OK, page)
}

/// 303 See Other: where a form's POST leads, so reloading does not repost.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The `?notice=` a page shows after a form led back to it.
#[derive(serde::Deserialize)]
pub struct Notice {
    pub notice: Option<String>,
}

/// A fixed sentence per notice: nothing from the URL is echoed.
pub fn notice_html(notice: Option<&str>) -> String {
    let text = match notice {
        Some("created") => "The machine group was created.",
        Some("password") => "The group password was saved. Machines joining the group use it.",
        Some("shared") => "Saved: access was granted.",
        Some("removed") => "Saved: access was removed.",
        Some("deleted") => "The connection was deleted.",
        _ => return String::new(),
    };
    format!("<p role=\"status\" class=\"notice\">{text}</p>")
}

/// A date and time for people: `2026-01-02 15:04 UTC`.
pub fn when(at: crate::store::Timestamp) -> String {
    let text = at.to_rfc3339();
    format!("{} {} UTC", &text[..10], &text[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn policy_allows_the_inline_style_only() {
        let csp = content_security_policy();
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        assert!(csp.starts_with("default-src 'none'"));
    }
}
