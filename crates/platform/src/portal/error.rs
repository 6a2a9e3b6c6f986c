//! The portal's one error type: a status and a sentence, rendered as an
//! HTML page (never JSON, never a stack trace).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use maud::{Markup, html};

use super::context::environments_of;
use super::html;
use super::layout::{self, Chrome, Section};
use super::session::SignedIn;
use crate::origin::RequestOrigin;
use crate::state::AppState;

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
        Self::unexpected()
    }

    /// The platform's own fault, in the portal's words, logged by the caller.
    pub fn unexpected() -> Self {
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

impl From<padconnect_store::StoreError> for PortalError {
    fn from(error: padconnect_store::StoreError) -> Self {
        Self::internal(error)
    }
}

/// A domain rule's refusal as the portal says it, the field named as its
/// form labels it.
impl From<padconnect_domain::Error> for PortalError {
    fn from(error: padconnect_domain::Error) -> Self {
        use padconnect_domain::{Error, Reason};
        match error {
            Error::Invalid(invalid) => {
                let label = match invalid.field {
                    "name" => "Name",
                    "description" => "Description",
                    "password" => "The password",
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
                    Reason::Length { min, max } => {
                        format!("{label} must have {min} to {max} characters.")
                    }
                    Reason::NotApplicable(why) => why.to_owned(),
                })
            }
            // A principal comes from a form field, so an unknown one is the
            // form's mistake; other records are looked up by the URL.
            Error::NotFound(record) if record.entity == "systemuser" => Self::bad_request(format!(
                "There is no user {} in this environment.",
                record.id
            )),
            Error::NotFound(record) => Self::not_found(format!(
                "There is no {} {} that you can see.",
                noun(record.entity),
                record.id
            )),
            Error::Forbidden(forbidden) => forbidden.into(),
            Error::Conflict(conflict) => Self::new(StatusCode::CONFLICT, conflict.to_string()),
            Error::Import(refusal) => Self::bad_request(refusal.to_string()),
            Error::FlowOff(off) => {
                Self::bad_request(format!("The flow cannot be turned on: {}", off.message))
            }
            Error::Membership(refusal) => Self::bad_request(refusal.to_string()),
            Error::Run(refusal) => Self::bad_request(refusal.to_string()),
            Error::Sharing(refusal) if refusal.is_forbidden() => {
                Self::forbidden(refusal.to_string())
            }
            Error::Sharing(refusal) => Self::bad_request(refusal.to_string()),
            Error::Connection(_) | Error::Credentials { .. } => {
                Self::bad_request(error.to_string())
            }
            Error::Store(error) => error.into(),
            Error::Internal(what) => Self::internal(format!("{what} failed")),
        }
    }
}

impl From<padconnect_domain::Forbidden> for PortalError {
    fn from(forbidden: padconnect_domain::Forbidden) -> Self {
        use padconnect_core::AccessRights;
        use padconnect_domain::{Forbidden, Privilege};
        Self::forbidden(match forbidden {
            Forbidden::Privilege {
                privilege: Privilege::Create(entity),
                ..
            } => format!(
                "Creating {}s needs the Environment Maker role in this environment.",
                noun(entity)
            ),
            Forbidden::Privilege {
                privilege: Privilege::Administrator(_),
                ..
            } => "Only an administrator (System Administrator) may do this.".to_owned(),
            Forbidden::Privilege {
                privilege: Privilege::Read(entity),
                ..
            } => format!(
                "This {} is its owner's: only its owner or an administrator may use it.",
                noun(entity)
            ),
            Forbidden::Rights { missing, group, .. } => {
                let access = match missing {
                    m if m.contains(AccessRights::SHARE) => "share access",
                    m if m.contains(AccessRights::DELETE) => "delete access",
                    m if m.contains(AccessRights::WRITE) => "write access",
                    _ => "read access",
                };
                format!(
                    "You need {access} on machine group '{group}' for this: ask its owner to share it with you as Co-owner."
                )
            }
            Forbidden::Escalation { group, .. } => format!(
                "You can give only rights you hold on '{group}' yourself: ask its owner or a co-owner to share it."
            ),
        })
    }
}

/// A table as the portal names it.
fn noun(entity: &str) -> &str {
    match entity {
        "flowmachinegroup" => "machine group",
        "flowmachine" => "machine",
        "systemuser" => "user",
        other => other,
    }
}

/// What an error response carries for [`in_layout`] to render again.
#[derive(Clone)]
struct ErrorPage(PortalError);

impl IntoResponse for PortalError {
    /// A bare page (a handler has no session at hand); [`in_layout`] puts it
    /// inside the layout when the visitor is signed in.
    fn into_response(self) -> Response {
        let page = layout::document(self.title(), None, self.body(None));
        let mut response = html::respond(self.status, page);
        response.extensions_mut().insert(ErrorPage(self));
        response
    }
}

impl PortalError {
    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    /// The heading, the sentence in the error style, and a way on.
    fn body(&self, home: Option<&str>) -> Markup {
        let (href, label) = match home {
            Some(home) => (home, "Go to Home"),
            None => ("/", "Back to the portal"),
        };
        html! {
            h1 { (self.title()) }
            (html::error(&self.message))
            p { a href=(href) { (label) } }
        }
    }
}

/// Renders error pages inside the layout for a signed-in visitor: the top
/// bar, and the navigation of the environment in the URL when the visitor
/// is a user there. Only an error pays for the session lookup.
pub async fn in_layout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut cookies = HeaderMap::new();
    for value in request.headers().get_all(header::COOKIE) {
        cookies.append(header::COOKIE, value.clone());
    }
    let origin = request.extensions().get::<RequestOrigin>().cloned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let Some(ErrorPage(error)) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    let Some(origin) = origin else {
        return response;
    };
    match rerender(&state, &cookies, origin, &path, &error).await {
        Some(page) => html::respond(error.status, page),
        None => response,
    }
}

async fn rerender(
    state: &AppState,
    cookies: &HeaderMap,
    origin: RequestOrigin,
    path: &str,
    error: &PortalError,
) -> Option<Markup> {
    let signed_in = SignedIn::from_cookie(cookies, origin, &state.store)
        .await
        .ok()??;
    let environments = environments_of(&state.store, &signed_in).await.ok()?;
    let in_url = path
        .strip_prefix("/environments/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let environment = environments
        .iter()
        .find(|e| e.id.to_string().eq_ignore_ascii_case(in_url));
    let home = environment.map(|e| format!("/environments/{}/home", e.id));
    let chrome = Chrome {
        user_name: &signed_in.user.display_name,
        csrf: &signed_in.csrf,
        environment,
        environments: &environments,
        section: Section::Elsewhere,
    };
    Some(layout::document(
        error.title(),
        Some(&chrome),
        error.body(home.as_deref()),
    ))
}
