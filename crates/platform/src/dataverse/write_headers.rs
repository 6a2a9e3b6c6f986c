//! The two request headers a Web API write reads: `Prefer:
//! return=representation` (answer the row, not just its id) and `If-Match`
//! (write only the version the caller last read). Both are optional, so
//! neither extractor refuses a request.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::prefer::Preferences;

/// Whether the caller asked for the written row in the answer
/// ("Create with data returned", "Update with data returned").
pub struct ReturnRepresentation(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for ReturnRepresentation {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            Preferences::of(&parts.headers).return_representation(),
        ))
    }
}

/// The version `If-Match` expects, `None` for `*` or no header. Versions
/// start at 1, so an ETag that is not one of ours (0 here) matches no row.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let expected = value.to_str().unwrap_or_default();
        if expected == "*" {
            return Ok(Self(None));
        }
        let version = expected
            .strip_prefix("W/\"")
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse().ok());
        Ok(Self(Some(version.unwrap_or(0))))
    }
}
