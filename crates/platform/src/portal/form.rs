//! Forms that answer on their own page. A refused form comes back as it
//! was sent, with the problem beside the field it concerns
//! (`aria-invalid`, `aria-describedby` naming the message, focus on the
//! field) and the other values kept; secrets (passwords) always come back
//! empty. Only what is not the input's fault (no right to do it, nothing
//! there, the platform's own failure) becomes an error page.
//!
//! Forms carry `novalidate`: the browser's own bubbles differ from browser
//! to browser and vanish on their own, so the server's message is the one
//! every user sees; `required` stays, for what assistive technology says.

use axum::http::StatusCode;
use serde::Deserialize;

use super::PortalError;
use maud::{Markup, html};
use padconnect_domain::fleet::TextColumn;

use super::html;
use super::icons::Icon;

/// What stopped a form: a sentence, beside `field` (the input's `name`) or,
/// without one, above the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub field: Option<&'static str>,
    pub message: String,
}

impl Problem {
    /// A problem with one field's value (400).
    pub fn at(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: Some(field),
            message: message.into(),
        }
    }

    /// A problem of no one field (400), shown above the form.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: None,
            message: message.into(),
        }
    }

    pub fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }
}

/// The message for `field`, when the problem is there.
fn message_for<'a>(problem: Option<&'a Problem>, field: &str) -> Option<&'a str> {
    problem
        .filter(|p| p.field == Some(field))
        .map(|p| p.message.as_str())
}

/// Why a posted form was not carried out: a problem the form shows, or an
/// error page.
#[derive(Debug)]
pub enum Refused {
    Form(Problem),
    Page(PortalError),
}

impl Refused {
    /// `error` at `field` when it is the input's fault (400, 409, 422),
    /// otherwise an error page.
    pub fn portal(error: PortalError, field: Option<&'static str>) -> Self {
        match error.status {
            StatusCode::BAD_REQUEST | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
                Self::Form(Problem {
                    status: error.status,
                    field,
                    message: error.message,
                })
            }
            _ => Self::Page(error),
        }
    }

    /// The problem for the form to show; an error page goes up as `Err`.
    pub fn into_problem(self) -> Result<Problem, PortalError> {
        match self {
            Self::Form(problem) => Ok(problem),
            Self::Page(error) => Err(error),
        }
    }
}

/// A lookup's failure (the record in the URL, the actor's rights): a page.
impl From<PortalError> for Refused {
    fn from(error: PortalError) -> Self {
        Self::Page(error)
    }
}

/// A rule's refusal, beside the field it names when it names one.
impl From<padconnect_domain::Error> for Refused {
    fn from(error: padconnect_domain::Error) -> Self {
        let field = match &error {
            padconnect_domain::Error::Invalid(invalid) => Some(invalid.field),
            _ => None,
        };
        Self::portal(error.into(), field)
    }
}

impl From<Problem> for Refused {
    fn from(problem: Problem) -> Self {
        Self::Form(problem)
    }
}

/// A side panel's form: the values to show, and why it came back (if it did).
pub struct Filled<T> {
    pub values: T,
    pub problem: Option<Problem>,
}

impl<T: Default> Filled<T> {
    /// As its command opens it: empty, no problem.
    pub fn fresh() -> Self {
        Self {
            values: T::default(),
            problem: None,
        }
    }
}

impl<T> Filled<T> {
    /// The page's status: 200, or the problem's.
    pub fn status(&self) -> StatusCode {
        self.problem.as_ref().map_or(StatusCode::OK, |p| p.status)
    }

    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }
}

/// A problem that is no field's, above the form: in the error style, read
/// out as it appears.
pub fn above(problem: Option<&Problem>, fields: &[&str]) -> Markup {
    match problem {
        Some(p) if p.field.is_none_or(|f| !fields.contains(&f)) => html::error(&p.message),
        _ => html! {},
    }
}

/// The message under a field, named by `id` for `aria-describedby`.
fn message(id: &str, text: &str) -> Markup {
    html! {
        p class="field-error" id=(id) { (Icon::Error.svg()) span class="sr" { "Error: " } (text) }
    }
}

/// A text input with its label above it.
pub struct Input<'a> {
    pub id: &'a str,
    pub name: &'static str,
    pub label: &'a str,
    /// `text`, `email`, `password`...
    pub kind: &'static str,
    /// Never shown for a password.
    pub value: &'a str,
    pub autocomplete: Option<&'static str>,
    pub required: bool,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    /// Focus here when the page opens (an invalid field takes it anyway).
    pub autofocus: bool,
}

impl<'a> Input<'a> {
    /// The text field of a Dataverse column: its name, whether it is
    /// required and its most characters are the column's, so the form
    /// holds what the domain checks.
    pub fn for_column(column: TextColumn, id: &'a str, label: &'a str, value: &'a str) -> Self {
        Self {
            id,
            name: column.field,
            label,
            value,
            required: column.required,
            maxlength: Some(column.max),
            ..Self::default()
        }
    }
}

/// An optional, empty text field: each form names only what differs
/// (`..Input::default()`).
impl Default for Input<'_> {
    fn default() -> Self {
        Self {
            id: "",
            name: "",
            label: "",
            kind: "text",
            value: "",
            autocomplete: None,
            required: false,
            minlength: None,
            maxlength: None,
            autofocus: false,
        }
    }
}

/// The input, and its problem under it. An invalid input is described by
/// its message and has focus when the page opens.
pub fn input(field: &Input, problem: Option<&Problem>) -> Markup {
    let value = match (field.kind, field.value) {
        ("password", _) | (_, "") => None,
        (_, value) => Some(value),
    };
    let message_id = format!("{}-error", field.id);
    let text = message_for(problem, field.name);
    let invalid = text.is_some();
    html! {
        div class="field" {
            label for=(field.id) { (field.label) }
            input id=(field.id) name=(field.name) type=(field.kind) value=[value]
                autocomplete=[field.autocomplete] required[field.required]
                minlength=[field.minlength] maxlength=[field.maxlength]
                aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then_some(&message_id)]
                autofocus[field.autofocus || invalid];
            @if let Some(text) = text { (message(&message_id, text)) }
        }
    }
}

/// Whether a form's first field takes focus when the page opens: it does,
/// unless a refused field takes it.
pub fn focus_first(problem: Option<&Problem>) -> bool {
    problem.is_none_or(|p| p.field.is_none())
}

/// What [`new_password`]'s two fields post.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPassword {
    password: String,
    confirmation: String,
}

impl NewPassword {
    /// The password, when the two fields agree; the problem is the second's.
    pub fn confirmed(self) -> Result<String, Problem> {
        match (
            self.password == self.confirmation,
            self.confirmation.is_empty(),
        ) {
            (true, _) => Ok(self.password),
            (false, true) => Err(Problem::at(
                "confirmation",
                "Type the password again to confirm it.",
            )),
            (false, false) => Err(Problem::at("confirmation", "The two passwords differ.")),
        }
    }
}

/// A new password and its confirmation: password fields named `password`
/// and `confirmation`, with ids `{prefix}password` and
/// `{prefix}confirmation`, that never come back filled.
pub fn new_password(
    prefix: &str,
    (minlength, maxlength): (Option<usize>, usize),
    autofocus: bool,
    problem: Option<&Problem>,
) -> Markup {
    let label = match minlength {
        Some(min) => format!("New password ({min} to {maxlength} characters)"),
        None => format!("New password (at most {maxlength} characters)"),
    };
    let field = |id: &str, name, label: &str, minlength, maxlength, autofocus| {
        input(
            &Input {
                id,
                name,
                label,
                kind: "password",
                autocomplete: Some("new-password"),
                required: true,
                minlength,
                maxlength,
                autofocus,
                ..Input::default()
            },
            problem,
        )
    };
    html! {
        (field(&format!("{prefix}password"), "password", &label, minlength, Some(maxlength), autofocus))
        (field(&format!("{prefix}confirmation"), "confirmation", "Confirm the password", None, None, false))
    }
}

/// A drop-down of plain-text `options`, `selected` chosen.
pub fn select(
    id: &str,
    name: &'static str,
    label: &str,
    options: &[&str],
    selected: &str,
    problem: Option<&Problem>,
) -> Markup {
    let message_id = format!("{id}-error");
    let text = message_for(problem, name);
    let invalid = text.is_some();
    html! {
        div class="field" {
            label for=(id) { (label) }
            select id=(id) name=(name)
                aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then_some(&message_id)]
                autofocus[invalid] {
                @for option in options {
                    option selected[*option == selected] { (option) }
                }
            }
            @if let Some(text) = text { (message(&message_id, text)) }
        }
    }
}

/// A share's two questions: with whom (`principals`, named `principal`),
/// and with which permission (`role`, one of `roles`): the one posted, or
/// on a fresh form (nothing posted) the first.
pub fn grant(
    principals: &Radios,
    roles: &[Choice],
    posted_role: &str,
    problem: Option<&Problem>,
) -> Markup {
    let checked = match posted_role {
        "" => roles.first().map_or("", |role| role.value.as_str()),
        posted => posted,
    };
    let permissions = Radios {
        name: "role",
        legend: "Permission",
        choices: roles,
        checked,
        focus: false,
    };
    html! {
        (radios(principals, problem))
        (radios(&permissions, problem))
    }
}

/// One radio button of a [`radios`] group.
pub struct Choice {
    /// The input's id (its label's `for`).
    pub id: String,
    pub value: String,
    pub label: String,
}

/// A group of radio buttons under a legend. `checked` is the value chosen;
/// `focus` puts focus on the first choice (a search's results).
pub struct Radios<'a> {
    pub name: &'static str,
    pub legend: &'a str,
    pub choices: &'a [Choice],
    pub checked: &'a str,
    pub focus: bool,
}

/// The group, its problem under the choices; an invalid group is
/// described by the message and its first choice has focus.
pub fn radios(group: &Radios, problem: Option<&Problem>) -> Markup {
    let message_id = format!("{}-error", group.name);
    let text = message_for(problem, group.name);
    let invalid = text.is_some();
    let focus_first = group.focus || invalid;
    html! {
        fieldset aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then_some(&message_id)] {
            legend { (group.legend) }
            @for (i, choice) in group.choices.iter().enumerate() {
                div {
                    input type="radio" name=(group.name) id=(choice.id) value=(choice.value) required
                        checked[choice.value == group.checked] autofocus[focus_first && i == 0];
                    label class="inline" for=(choice.id) { (choice.label) }
                }
            }
            @if let Some(text) = text { (message(&message_id, text)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_field(value: &str) -> Input<'_> {
        Input {
            id: "group-name",
            name: "name",
            label: "Name",
            value,
            required: true,
            ..Input::default()
        }
    }

    #[test]
    fn a_problem_goes_beside_its_field_and_describes_it() {
        let problem = Problem::at("name", "Name is <required>.");
        let html = input(&name_field("x\"y"), Some(&problem)).into_string();
        assert!(html.contains("value=\"x&quot;y\""), "{html}");
        assert!(
            html.contains("aria-invalid=\"true\" aria-describedby=\"group-name-error\" autofocus"),
            "{html}"
        );
        assert!(html.contains("<p class=\"field-error\" id=\"group-name-error\">"));
        assert!(html.contains("Name is &lt;required&gt;."));
        let elsewhere = Problem::at("description", "Too long.");
        assert!(
            !input(&name_field(""), Some(&elsewhere))
                .into_string()
                .contains("aria-invalid")
        );
    }

    #[test]
    fn a_password_is_never_echoed() {
        let field = Input {
            kind: "password",
            ..name_field("secret")
        };
        assert!(!input(&field, None).into_string().contains("secret"));
    }

    #[test]
    fn a_problem_of_no_field_goes_above_the_form() {
        let general = Problem::general("Taken.");
        assert!(
            above(Some(&general), &["name"])
                .into_string()
                .contains("role=\"alert\"")
        );
        assert!(
            above(Some(&Problem::at("name", "No.")), &["name"])
                .into_string()
                .is_empty()
        );
        assert!(
            above(Some(&Problem::at("other", "No.")), &["name"])
                .into_string()
                .contains("No.")
        );
    }

    #[test]
    fn only_the_inputs_fault_stays_on_the_form() {
        let form = Refused::portal(PortalError::bad_request("No."), Some("name"));
        assert!(matches!(form, Refused::Form(_)));
        let page = Refused::portal(PortalError::forbidden("No."), Some("name"));
        assert!(matches!(page, Refused::Page(_)));
    }
}
