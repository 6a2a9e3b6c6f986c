//! The Power Automate portal surface (`make.powerautomate.com`).

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::server::AppState;

pub fn router(state: AppState) -> Router {
    Router::new().fallback(not_found).with_state(state)
}

/// An error page: the status and a sentence, as HTML.
pub struct PortalError {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let message = html_escape(&self.message);
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - padconnect</title></head>\
             <body><main><h1>{title}</h1><p>{message}</p></main></body></html>"
        );
        (self.status, Html(page)).into_response()
    }
}

async fn not_found(uri: axum::http::Uri) -> PortalError {
    PortalError {
        status: StatusCode::NOT_FOUND,
        message: format!("There is no page at {}.", uri.path()),
    }
}

pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
