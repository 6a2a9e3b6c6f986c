//! HTML output: the headers every page carries, redirects and the notices
//! a page shows (the layout is `layout`'s). Pages are built with maud's
//! `html!` templates, checked at compile time: every value spliced into
//! one is escaped unless it is `Markup` already (or, for the stylesheet
//! and the icons' shapes, a constant marked `PreEscaped`), so no page
//! escapes by hand.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout;

/// The hidden field every POST form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The Content-Security-Policy: nothing from anywhere but this page's own
/// style element (by hash) and forms posting back here.
fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            layout::style_hash()
        )
    })
}

/// A page with the portal's headers: no caching of signed-in pages, no
/// framing, no sniffing.
pub fn respond(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page.into_string()).into_response();
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
pub fn ok(page: Markup) -> Response {
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

/// What a page's query asks it to show: `?notice=` (after a form led back
/// to it) and `?panel=` (the side panel one of its commands opens).
#[derive(serde::Deserialize)]
pub struct ViewQuery {
    pub notice: Option<String>,
    pub panel: Option<String>,
}

/// A fixed sentence per notice: nothing from the URL is echoed.
pub fn notice_html(notice: Option<&str>) -> Markup {
    let text = match notice {
        Some("created") => "The machine group was created.",
        Some("password") => "The group password was saved. Machines joining the group use it.",
        Some("account-password") => {
            "The account's password was changed. Connections written with the old one need the new one."
        }
        Some("shared") => "Saved: access was granted.",
        Some("removed") => "Saved: access was removed.",
        Some("deleted") => "The connection was deleted.",
        _ => return html! {},
    };
    html! { p role="status" class="notice" { (text) } }
}

/// A refusal shown on the page it concerns, in the error style.
pub fn error(message: &str) -> Markup {
    html! { p role="alert" class="error" { (message) } }
}

/// A date and time for people, `2026-01-02 15:04 UTC`, as a `<time>`
/// element that never wraps.
pub fn when(at: padconnect_store::Timestamp) -> Markup {
    let text = at.to_rfc3339();
    html! { time datetime=(text) { (&text[..10]) " " (&text[11..16]) " UTC" } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_allows_the_inline_style_only() {
        let csp = content_security_policy();
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        assert!(csp.starts_with("default-src 'none'"));
    }
}
