//! The portal's one error type: a status and a sentence, rendered as an
//! HTML page (never JSON, never a stack trace).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::html;

/// An error page: the status and a sentence, as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalError {
    pub status: StatusCode,
    pub message: String,
}

impl PortalError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// The platform's fault: logged in full, shown as a plain sentence.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "portal request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on the platform's side; try again.",
        )
    }

    /// The answer to a form posted without a valid session or CSRF token.
    pub fn stale_form() -> Self {
        Self::forbidden(
            "This form has expired or did not come from this portal. Reload the page (sign in again if asked) and retry.",
        )
    }
}

impl From<crate::store::StoreError> for PortalError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::internal(error)
    }
}

/// A domain rule's refusal as the portal says it, the field named as its
/// form labels it.
impl From<crate::domain::Error> for PortalError {
    fn from(error: crate::domain::Error) -> Self {
        use crate::domain::{Error, Reason};
        match error {
            Error::Invalid(invalid) => {
                let label = match invalid.field {
                    "name" => "Name",
                    "description" => "Description",
                    other => other,
                };
                Self::bad_request(match invalid.reason {
                    Reason::Missing => format!("{label} is required."),
                    Reason::TooLong { max } => {
                        format!("{label} is too long: at most {max} characters.")
                    }
                    Reason::ControlCharacter => {
                        format!("{label} cannot contain control characters.")
                    }
                })
            }
            Error::Store(error) => error.into(),
        }
    }
}

impl From<crate::connectivity::ApiError> for PortalError {
    fn from(error: crate::connectivity::ApiError) -> Self {
        Self::new(error.status, error.message)
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<h1>{title}</h1><p>{}</p><p><a href=\"/\">Back to the portal</a></p>",
            html::esc(&self.message)
        );
        html::respond(self.status, &html::document(title, None, &body))
    }
}
