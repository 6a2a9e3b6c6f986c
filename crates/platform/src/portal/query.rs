//! Query strings, parsed with a malformed one answered by an HTML 400 (axum's
//! own `Query` would answer in plain text).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::PortalError;

pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, PortalError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(|e| {
                PortalError::bad_request(format!("The address's query is malformed: {e}."))
            })
    }
}
