//! ARM's error format, `{"error":{"code","message"}}` (the ErrorResponse of
//! azure-rest-api-specs' common types), with ARM's codes.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Audience, AuthFailure};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    challenge: Option<String>,
}

impl From<padconnect_store::StoreError> for ArmError {
    fn from(error: padconnect_store::StoreError) -> Self {
        tracing::error!(%error, "ARM request failed");
        Self::unexpected()
    }
}

impl ArmError {
    /// The platform's own fault, in ARM's words, logged by the caller.
    pub fn unexpected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An unexpected error occurred; try again.",
        )
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
        }
    }

    /// ARM's answer for a path no provider serves.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type '{path}' could not be found: this platform serves /metadata/endpoints, /subscriptions and /tenants."
            ),
        )
    }

    /// A body over the limit; ARM documents no code for it, so its generic
    /// `InvalidRequestContent`.
    pub fn too_large(message: String) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "InvalidRequestContent",
            message,
        )
    }

    pub fn missing_api_version() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    }

    /// `InvalidAuthenticationToken`, with the challenge ARM sends.
    pub fn unauthorized(failure: &AuthFailure) -> Self {
        Self {
            challenge: Some(failure.challenge(&Audience::Arm)),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                failure.to_string(),
            )
        }
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        match self.challenge {
            Some(challenge) => {
                (self.status, [(header::WWW_AUTHENTICATE, challenge)], body).into_response()
            }
            None => (self.status, body).into_response(),
        }
    }
}
