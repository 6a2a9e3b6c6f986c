//! Signing in and staying signed in, over HTTP: cookies, the CSRF-bound
//! sign-in form, and the `SignedIn` extractor. Passwords are checked by
//! `padconnect_domain::sign_in`, sessions kept by
//! `padconnect_domain::sessions`.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::csrf::{self, SessionBound};
use super::{PortalError, html};
use crate::auth::{Caller, CallerKind};
use crate::origin::RequestOrigin;
use crate::state::AppState;
use padconnect_domain::sessions;
use padconnect_domain::sign_in::{Refusal, check_password};
use padconnect_store::{Store, User};

/// The session cookie.
pub const COOKIE: &str = "padconnect_session";
/// The pre-session cookie the sign-in form's CSRF token is bound to.
pub const SIGN_IN_COOKIE: &str = "padconnect_signin";
pub use padconnect_domain::sessions::LIFETIME_SECS;
/// The sign-in form must be posted within this time of being shown.
const SIGN_IN_FORM_SECS: i64 = 3600;

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure when the
/// request came over TLS. `max_age` 0 deletes the cookie.
pub fn cookie(name: &str, value: &str, max_age: i64, origin: &RequestOrigin) -> String {
    let secure = if origin.scheme == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The value of cookie `name` in the request, if any.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

pub fn origin(parts: &Parts) -> RequestOrigin {
    RequestOrigin::of(parts).unwrap_or_else(|| RequestOrigin {
        scheme: "http",
        authority: String::new(),
        prefix: String::new(),
    })
}

/// Why the form refused: the store failed, the account is locked, or the
/// UPN or password is wrong (never which of the two).
pub enum SignInFailure {
    BadCredentials,
    Locked,
    Store(PortalError),
}

/// Checks a UPN and password with the rule the token endpoint uses
/// (`domain::sign_in`: smart lockout, Argon2 for unknown users too). The
/// tenant is the one whose domain ends the UPN.
pub async fn verify_password(
    state: &AppState,
    upn: &str,
    password: &str,
) -> Result<User, SignInFailure> {
    let upn = upn.trim().to_ascii_lowercase();
    let tenant = match find_tenant(state, &upn).await {
        Ok(tenant) => tenant,
        Err(error) => return Err(SignInFailure::Store(error)),
    };
    // An unknown domain is checked against a tenant of none, at the same cost.
    let tenant = tenant.unwrap_or_else(Uuid::nil);
    match check_password(&state.store, &state.sign_ins, tenant, &upn, password).await {
        Ok(Ok(user)) => Ok(user),
        Ok(Err(Refusal::Locked(_))) => Err(SignInFailure::Locked),
        Ok(Err(Refusal::BadCredentials)) => Err(SignInFailure::BadCredentials),
        Err(error) => Err(SignInFailure::Store(error.into())),
    }
}

async fn find_tenant(state: &AppState, upn: &str) -> Result<Option<Uuid>, PortalError> {
    let Some((_, domain)) = upn.rsplit_once('@') else {
        return Ok(None);
    };
    Ok(state.store.tenant_by_domain(domain).await?.map(|t| t.id))
}

/// Starts a session for `user`; returns its token (for the cookie only).
pub async fn start(state: &AppState, user: &User) -> Result<String, PortalError> {
    Ok(sessions::start(&state.store, user).await?)
}

/// Ends a session: the cookie is worthless from now on.
pub async fn end(state: &AppState, token: &str) -> Result<(), PortalError> {
    Ok(sessions::end(&state.store, token).await?)
}

/// A signed-in user, found by the session cookie.
pub struct SignedIn {
    pub user: User,
    token: String,
    pub csrf: String,
    pub origin: RequestOrigin,
}

impl SignedIn {
    /// The session token, for CSRF checks only.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The user as the APIs' rules see a caller.
    pub fn caller(&self) -> Caller {
        Caller {
            tenant_id: self.user.tenant_id,
            object_id: self.user.object_id,
            // The portal is a first-party client; no app registration stands
            // behind it, and no rule looks at a user's app id.
            app_id: Uuid::nil(),
            kind: CallerKind::User {
                upn: self.user.upn.clone(),
                name: self.user.display_name.clone(),
            },
        }
    }

    async fn load(parts: &Parts, store: &Store) -> Result<Option<Self>, PortalError> {
        Self::from_cookie(&parts.headers, origin(parts), store).await
    }

    /// The live session the request's cookie names, if any.
    pub async fn from_cookie(
        headers: &HeaderMap,
        origin: RequestOrigin,
        store: &Store,
    ) -> Result<Option<Self>, PortalError> {
        let Some(token) = read_cookie(headers, COOKIE) else {
            return Ok(None);
        };
        let Some(session) = sessions::find(store, token).await? else {
            return Ok(None);
        };
        let user = store
            .user_by_object_id(session.user_object_id)
            .await?
            .filter(|u| u.tenant_id == session.tenant_id);
        Ok(user.map(|user| Self {
            user,
            token: token.to_owned(),
            csrf: csrf::token_for(token),
            origin,
        }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn
where
    Store: FromRef<S>,
{
    type Rejection = Response;

    /// Without a live session, a page leads to the sign-in form (and back
    /// here after it); a form post is refused.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Self::load(parts, &Store::from_ref(state)).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) if parts.method == Method::GET || parts.method == Method::HEAD => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(html::see_other(&format!("/signin?{query}")))
            }
            Ok(None) => Err(PortalError::stale_form().into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}

impl SessionBound for SignedIn {
    fn signed_in(&self) -> &SignedIn {
        self
    }
}

/// A new pre-session token for the sign-in form, and its cookie.
pub fn sign_in_form_token(origin: &RequestOrigin) -> (String, String) {
    let token = sessions::new_token();
    let cookie = cookie(SIGN_IN_COOKIE, &token, SIGN_IN_FORM_SECS, origin);
    (token, cookie)
}

/// Where to go after signing in: a path on this site, never another site.
/// Browsers drop tabs and line breaks from URLs and read `\` as `/`, so a
/// path with any of them, or any other control or space character, is
/// refused rather than cleaned: `/\t/evil.example` would become
/// `//evil.example`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && !path.starts_with("/signin") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_flags() {
        let mut origin = RequestOrigin {
            scheme: "http",
            authority: "127.0.0.1:1".into(),
            prefix: String::new(),
        };
        let plain = cookie(COOKIE, "t", 60, &origin);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        origin.scheme = "https";
        assert!(cookie(COOKIE, "t", 60, &origin).ends_with("; Secure"));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/environments")), "/environments");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn reads_one_cookie_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; padconnect_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(read_cookie(&headers, COOKIE), Some("xyz"));
        assert_eq!(read_cookie(&headers, "c"), None);
    }
}
