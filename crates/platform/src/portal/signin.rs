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
use super::form::{self, Input, Problem};
use maud::{Markup, html};

use super::html;
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
    #[serde(default)]
    upn: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The four-square mark: neutral grey squares drawn in CSS, no logo.
fn mark() -> Markup {
    html! {
        div class="mark" {
            span class="squares" aria-hidden="true" { span {} span {} span {} span {} }
            "padconnect"
        }
    }
}

/// The form, with a fresh pre-session cookie its CSRF token is bound to: a
/// centred card, the account then the password, as Microsoft's sign-in page
/// has them. A refused form keeps the account, never the password.
fn form_page(origin: &RequestOrigin, upn: &str, next: &str, problem: Option<&Problem>) -> Response {
    let (token, cookie) = session::sign_in_form_token(origin);
    let focus = form::focus_first(problem);
    let account = form::input(
        &Input {
            id: "upn",
            name: "upn",
            label: "Email or UPN",
            kind: "email",
            value: upn,
            autocomplete: Some("username"),
            required: true,
            autofocus: focus,
            ..Input::default()
        },
        problem,
    );
    let password = form::input(
        &Input {
            id: "password",
            name: "password",
            label: "Password",
            kind: "password",
            autocomplete: Some("current-password"),
            required: true,
            ..Input::default()
        },
        problem,
    );
    let body = html! {
        div class="signin-page" {
            section class="signin-card" aria-labelledby="signin-title" {
                (mark())
                h1 id="signin-title" { "Sign in" }
                p class="lead" { "to continue to Power Automate" }
                (form::above(problem, &["upn", "password"]))
                form method="post" action="/signin" novalidate {
                    (html::csrf_field(&csrf::token_for(&token)))
                    input type="hidden" name="next" value=(next);
                    (account)
                    (password)
                    p class="note" { "Users and passwords come from the platform's world file." }
                    div class="actions" { button class="primary" type="submit" { "Sign in" } }
                }
            }
        }
    };
    let status = problem.map_or(StatusCode::OK, |p| p.status);
    let mut response = html::respond(status, layout::document("Sign in", None, body));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn show(parts: Parts, PageQuery(query): PageQuery<SignInQuery>) -> Response {
    let origin = session::origin(&parts);
    let next = session::safe_next(query.next.as_deref());
    form_page(&origin, "", &next, None)
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
    // A blank field is the form's mistake, not an attempt: it counts
    // toward no lockout.
    if let Some(problem) = blank_field(&form) {
        return Ok(form_page(&origin, &form.upn, &next, Some(&problem)));
    }
    let user = match session::verify_password(state, &form.upn, &form.password).await {
        Ok(user) => user,
        Err(SignInFailure::Store(error)) => return Err(error),
        Err(refused) => {
            tracing::info!("portal sign-in refused");
            let problem = refusal(&refused);
            return Ok(form_page(&origin, &form.upn, &next, Some(&problem)));
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

fn blank_field(form: &SignInForm) -> Option<Problem> {
    if form.upn.trim().is_empty() {
        return Some(Problem::at("upn", "Enter your email or UPN."));
    }
    if form.password.is_empty() {
        return Some(Problem::at("password", "Enter your password."));
    }
    None
}

/// A refused sign-in, as the form says it: wrong credentials beside the
/// password (never which of the two was wrong), a locked account above
/// the form.
fn refusal(refused: &SignInFailure) -> Problem {
    match refused {
        // What Entra's sign-in page says for AADSTS50053.
        SignInFailure::Locked => Problem::general(
            "Your account is temporarily locked to prevent unauthorized use. Try again in a minute.",
        ),
        _ => Problem::at("password", "The UPN or the password is wrong."),
    }
    .with_status(StatusCode::UNAUTHORIZED)
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
