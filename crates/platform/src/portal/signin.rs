//! `/signin` and `/signout`.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::PortalError;
use super::csrf::{self, Posted};
use super::html::{self, esc};
use super::layout;
use super::query::PageQuery;
use super::session::{self, SignInFailure, SignedIn};
use crate::origin::RequestOrigin;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    upn: String,
    password: String,
    next: Option<String>,
}

/// The form, with a fresh pre-session cookie its CSRF token is bound to.
fn form_page(
    origin: &RequestOrigin,
    status: StatusCode,
    upn: &str,
    next: &str,
    problem: Option<&str>,
) -> Response {
    let (token, cookie) = session::sign_in_form_token(origin);
    let problem = problem.map(html::error_html).unwrap_or_default();
    let body = format!(
        "<section class=\"card\" aria-labelledby=\"signin-title\"><h1 id=\"signin-title\">Sign in</h1>{problem}\
         <form method=\"post\" action=\"/signin\">{csrf}\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label for=\"upn\">Email or UPN</label>\
         <input id=\"upn\" name=\"upn\" type=\"email\" autocomplete=\"username\" required autofocus value=\"{upn}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\">Sign in</button></div></form>\
         <p>Users and passwords come from the platform's world file.</p></section>",
        csrf = html::csrf_field(&csrf::token_for(&token)),
        next = esc(next),
        upn = esc(upn),
    );
    let mut response = html::respond(status, &layout::document("Sign in", None, &body));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn show(parts: Parts, PageQuery(query): PageQuery<SignInQuery>) -> Response {
    let origin = session::origin(&parts);
    let next = session::safe_next(query.next.as_deref());
    form_page(&origin, StatusCode::OK, "", &next, None)
}

pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return PortalError::new(e.status(), e.body_text()).into_response(),
    };
    match sign_in(&state, &parts, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn sign_in(state: &AppState, parts: &Parts, body: &[u8]) -> Result<Response, PortalError> {
    let origin = session::origin(parts);
    let pre_session = session::read_cookie(&parts.headers, session::SIGN_IN_COOKIE)
        .ok_or_else(PortalError::stale_form)?;
    let form: SignInForm = csrf::checked_form(body, pre_session)?;
    let next = session::safe_next(form.next.as_deref());
    let user = match session::verify_password(state, &form.upn, &form.password).await {
        Ok(user) => user,
        Err(SignInFailure::Store(error)) => return Err(error),
        Err(refused) => {
            let message = match refused {
                // What Entra's sign-in page says for AADSTS50053.
                SignInFailure::Locked => {
                    "Your account is temporarily locked to prevent unauthorized use. Try again in a minute."
                }
                _ => "The UPN or the password is wrong.",
            };
            tracing::info!("portal sign-in refused");
            return Ok(form_page(
                &origin,
                StatusCode::UNAUTHORIZED,
                &form.upn,
                &next,
                Some(message),
            ));
        }
    };
    let token = session::start(state, &user).await?;
    tracing::info!(user = %user.object_id, "portal sign-in");
    let mut response = html::see_other(&next);
    set_cookie(
        response.headers_mut(),
        &session::cookie(session::COOKIE, &token, session::LIFETIME_SECS, &origin),
    );
    set_cookie(
        response.headers_mut(),
        &session::cookie(session::SIGN_IN_COOKIE, "", 0, &origin),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    State(state): State<AppState>,
    posted: Posted<SignedIn, Empty>,
) -> Result<Response, PortalError> {
    let signed_in = posted.context;
    session::end(&state, signed_in.token()).await?;
    let mut response = html::see_other("/signin");
    set_cookie(
        response.headers_mut(),
        &session::cookie(session::COOKIE, "", 0, &signed_in.origin),
    );
    Ok(response)
}

fn set_cookie(headers: &mut HeaderMap, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        headers.append(header::SET_COOKIE, value);
    }
}
