//! ARM's error format, `{"error":{"code","message"}}` (the ErrorResponse of
//! azure-rest-api-specs' common types), with ARM's codes. It is the Power
//! Platform API's format too, so `ApiError` writes it; this type keeps
//! ARM's codes and words.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::{Audience, AuthFailure};
use crate::power_platform_error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError(ApiError);

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
        Self(ApiError::new(status, code, message))
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
        Self(ApiError::unauthorized_for(failure, Audience::Arm))
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}
