//! CSRF protection for every POST form.
//!
//! Each session's token is derived from the session token (which only the
//! browser holds, in an HttpOnly cookie): SHA-256 under a label of our own,
//! so it differs from the hash the store keeps and reveals nothing about the
//! session token. The sign-in form, which comes before any session, uses a
//! short-lived pre-session cookie the same way (double submit). Tokens are
//! compared in constant time.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::PortalError;
use super::session::SignedIn;
use padconnect_domain::encoding::hex;

/// The CSRF token that goes with a session (or pre-session) token.
pub fn token_for(session_token: &str) -> String {
    let mut input = b"padconnect portal csrf v1\n".to_vec();
    input.extend_from_slice(session_token.as_bytes());
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input).as_ref())
}

/// Whether `given` is the token of `session_token`, in constant time.
pub fn matches(session_token: &str, given: &str) -> bool {
    let expected = token_for(session_token);
    #[allow(deprecated)] // aws-lc-rs keeps it; it is the constant-time compare we need.
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), given.as_bytes()).is_ok()
}

#[derive(Deserialize)]
struct TokenOnly {
    csrf: Option<String>,
}

/// Parses an `application/x-www-form-urlencoded` body, after checking that
/// it carries the right CSRF token (403 otherwise, before anything else is
/// looked at).
pub fn checked_form<T: DeserializeOwned>(
    body: &[u8],
    session_token: &str,
) -> Result<T, PortalError> {
    let token: TokenOnly =
        serde_urlencoded::from_bytes(body).map_err(|_| PortalError::stale_form())?;
    match token.csrf {
        Some(given) if matches(session_token, &given) => {}
        _ => return Err(PortalError::stale_form()),
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| PortalError::bad_request(format!("The form is incomplete or malformed: {e}.")))
}

/// What a page's extractor establishes, with the session it rests on.
pub trait SessionBound {
    fn signed_in(&self) -> &SignedIn;
}

/// A POST form from a signed-in user: `context` (the session, or the
/// environment page) and the form `T`, CSRF token checked.
pub struct Posted<C, T> {
    pub context: C,
    pub form: T,
}

impl<S, C, T> FromRequest<S> for Posted<C, T>
where
    S: Send + Sync,
    C: SessionBound + FromRequestParts<S, Rejection = Response> + Send,
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let context = C::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| PortalError::new(e.status(), e.body_text()).into_response())?;
        let form = checked_form(&bytes, context.signed_in().token())
            .map_err(IntoResponse::into_response)?;
        Ok(Self { context, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_bound_to_the_session() {
        let token = token_for("session-a");
        assert_eq!(token.len(), 64);
        assert!(matches("session-a", &token));
        assert!(!matches("session-b", &token));
        assert!(!matches("session-a", &token[..63]));
        assert!(!matches("session-a", ""));
        assert_ne!(
            token,
            hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"session-a").as_ref())
        );
    }

    #[test]
    fn forms_without_the_token_are_refused_first() {
        #[derive(Deserialize, Debug)]
        struct Form {
            #[allow(dead_code)]
            name: u32,
        }
        let token = token_for("s");
        let refused = checked_form::<Form>(b"name=1", "s").unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
        let wrong = checked_form::<Form>(b"name=x&csrf=00", "s").unwrap_err();
        assert_eq!(wrong.status, axum::http::StatusCode::FORBIDDEN);
        let bad = checked_form::<Form>(format!("name=x&csrf={token}").as_bytes(), "s").unwrap_err();
        assert_eq!(bad.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(checked_form::<Form>(format!("name=1&csrf={token}").as_bytes(), "s").is_ok());
    }
}
