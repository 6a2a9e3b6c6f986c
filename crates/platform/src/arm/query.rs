//! The `api-version` every ARM request names, read as ARM reads it: once.
//! A query that is malformed, or names it twice, is refused in ARM's error
//! format (axum's own rejection would answer in plain text).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::ArmError;

/// That the request names its `api-version`, once (any version is served).
pub struct ApiVersion;

impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = ArmError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            ArmError::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!("The query string is malformed: {e}"),
            )
        })?;
        let mut versions = pairs.into_iter().filter(|(k, _)| k == "api-version");
        match (versions.next(), versions.next()) {
            (None, _) => Err(ArmError::missing_api_version()),
            (Some(_), None) => Ok(Self),
            (Some(_), Some(_)) => Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                "The api-version query parameter is given more than once: give it once.",
            )),
        }
    }
}
