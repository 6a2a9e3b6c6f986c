//! Dataverse's error format: `{"error":{"code":"0x...","message":"..."}}`,
//! where the code is Dataverse's, unrelated to the HTTP status.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Audience, AuthFailure};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataverseError {
    pub status: StatusCode,
    /// Hexadecimal Dataverse error code, `0x80040217`.
    pub code: std::borrow::Cow<'static, str>,
    pub message: String,
    /// For a 401: the `WWW-Authenticate` challenge.
    pub challenge: Option<String>,
}

/// A store failure is the platform's, never the client's: a 500 that hides the detail.
impl From<padconnect_store::StoreError> for DataverseError {
    fn from(error: padconnect_store::StoreError) -> Self {
        Self::internal(error.to_string())
    }
}

/// A domain rule's refusal in Dataverse's words. A value too long for its
/// column is Dataverse's validation error, `[0x80044331:StringLengthTooLong]
/// The length of the 'schemaname' attribute of the 'botcomponent' entity
/// exceeded the maximum allowed length of '100'` as users quote it; a missing
/// privilege 0x80040220 and a missing right 0x80048306, as Dataverse's error
/// code list ("Web service error codes") has them. Guesses, written down: a
/// delete that the Restrict cascade forbids is taken to be 0x80040227
/// ("associated with another object"), a name in use 0x80040237
/// (DuplicateRecord), a stale `If-Match` 0x80060882
/// (ConcurrencyVersionMismatch).
impl From<padconnect_domain::Error> for DataverseError {
    fn from(error: padconnect_domain::Error) -> Self {
        use padconnect_domain::{Error, Invalid, Reason};
        match error {
            Error::Invalid(Invalid {
                entity,
                field,
                reason: Reason::TooLong { max },
            }) => Self::bad_request_code(
                "0x80044331",
                format!(
                    "A validation error occurred. The length of the '{field}' attribute of the '{entity}' entity exceeded the maximum allowed length of '{max}'."
                ),
            ),
            Error::Invalid(
                invalid @ Invalid {
                    reason: Reason::ControlCharacter,
                    ..
                },
            ) => Self::bad_request_code(
                "0x80044331",
                format!("A validation error occurred. {}", invalid.describe()),
            ),
            Error::Invalid(invalid) => Self::bad_request(invalid.describe()),
            Error::NotFound(record) => Self::does_not_exist(record.entity, record.id),
            Error::Forbidden(forbidden) => forbidden.into(),
            Error::Conflict(conflict) => conflict.into(),
            Error::Membership(refusal) => refusal.into(),
            // Connections are not Dataverse's; no Dataverse call shares one.
            Error::Sharing(_) | Error::Connection(_) | Error::Credentials { .. } => {
                Self::bad_request(error.to_string())
            }
            Error::Import(refusal) => Self::bad_request_code(refusal.code(), refusal.to_string()),
            Error::FlowOff(off) => Self::flow_off(&off),
            Error::Run(refusal) => Self::new(
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST),
                refusal.code(),
                refusal.to_string(),
            ),
            Error::Store(error) => error.into(),
            Error::Internal(what) => Self::internal(format!("{what} failed")),
        }
    }
}

impl From<padconnect_domain::Forbidden> for DataverseError {
    fn from(forbidden: padconnect_domain::Forbidden) -> Self {
        use padconnect_domain::{Forbidden, Privilege};
        match forbidden {
            Forbidden::Privilege { user, privilege } => {
                let fix = match privilege {
                    Privilege::Create(_) => "give it the Environment Maker role",
                    Privilege::Administrator(_) => {
                        "an administrator (System Administrator) must do this"
                    }
                    Privilege::Read(_) => {
                        "the row is its owner's: its owner or an administrator may use it"
                    }
                };
                Self::new(
                    StatusCode::FORBIDDEN,
                    "0x80040220",
                    format!(
                        "Principal user (Id={user}) is missing {} privilege: {fix}.",
                        privilege.name()
                    ),
                )
            }
            Forbidden::Rights {
                user,
                missing,
                record,
                ..
            }
            | Forbidden::Escalation {
                user,
                missing,
                record,
                ..
            } => Self::missing_right(user, &missing.to_string(), record.id, record.entity),
        }
    }
}

impl From<padconnect_domain::Conflict> for DataverseError {
    fn from(conflict: padconnect_domain::Conflict) -> Self {
        use padconnect_domain::Conflict;
        let precondition =
            |code, message| Self::new(StatusCode::PRECONDITION_FAILED, code, message);
        match conflict {
            Conflict::NameTaken { entity, name } => precondition(
                "0x80040237",
                format!(
                    "A {} named '{name}' is registered in this environment already: delete it first, or register with force, which breaks its connections.",
                    if entity == "flowmachine" {
                        "machine"
                    } else {
                        entity
                    }
                ),
            ),
            Conflict::NotEmpty { group } => Self::bad_request_code(
                "0x80040227",
                format!(
                    "The machine group '{group}' still holds machines: remove them from it before deleting it."
                ),
            ),
            Conflict::VersionMismatch { version } => precondition(
                "0x80060882",
                format!(
                    "The version of the existing record doesn't match the If-Match header: it is W/\"{version}\"; read it again."
                ),
            ),
            Conflict::ChangedMeanwhile(record) => precondition(
                "0x80060882",
                format!(
                    "The {} {} was changed by another request meanwhile: read it again.",
                    record.entity, record.id
                ),
            ),
        }
    }
}

impl DataverseError {
    pub fn new(
        status: StatusCode,
        code: impl Into<std::borrow::Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            challenge: None,
        }
    }

    /// 405 for a method the resource does not take, in the sentence ASP.NET
    /// Web API (under Dataverse's OData endpoint) answers it with. axum adds
    /// the `Allow` header where a route refuses the method.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::not_allowed(format!(
            "The requested resource does not support http method '{method}'."
        ))
    }

    /// 405 `0x80060888`, with what to do instead.
    pub fn not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "0x80060888", message)
    }

    /// 0x8006088a: the URL names no resource.
    pub fn unknown_segment(path: &str) -> Self {
        let segment = path
            .trim_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        Self::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{segment}'."),
        )
    }

    /// A refused token. Dataverse answers 401 with an empty body and the
    /// reason in the `WWW-Authenticate` challenge.
    pub fn unauthorized(failure: &AuthFailure, audience: &Audience<'_>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "".into(),
            message: failure.to_string(),
            challenge: Some(failure.challenge(audience)),
        }
    }

    /// 0x80072560: the caller has no systemuser in this environment.
    pub fn not_a_member(who: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "0x80072560",
            format!(
                "The user is not a member of the organization: {who} has no user in this environment. An administrator must add it (for a service principal, as an application user) before it can act here."
            ),
        )
    }

    /// A path-style request whose `/orgs/{org}` names no possible org: the
    /// cloud has no such host, so no Dataverse answers; this is ours.
    pub fn unknown_org(org: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "0x80060888",
            format!(
                "'{org}' is not an org name: /orgs/{{org}}/api/data/v9.2/... takes the first label of the org's host ({{org}}.crm.dynamics.com)."
            ),
        )
    }

    /// 0x80040217: no row with this id.
    pub fn does_not_exist(logical_name: &str, id: uuid::Uuid) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "0x80040217",
            format!("{logical_name} With Id = {id} Does Not Exist"),
        )
    }

    /// 0x80048306: the row exists, the caller lacks a right on it.
    pub fn missing_right(
        principal: uuid::Uuid,
        right: &str,
        id: uuid::Uuid,
        logical_name: &str,
    ) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "0x80048306",
            format!(
                "Principal with ID {principal} does not have {right} right(s) for record with ID {id} of entity {logical_name}. Ask its owner to share it."
            ),
        )
    }

    /// A 400 with a specific Dataverse code.
    pub fn bad_request_code(
        code: impl Into<std::borrow::Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A flow the caller cannot turn on. The flow service's refusal reaches
    /// a Web API caller through the plugin that sets a flow's state, as
    /// ALM logs show it (coe-starter-kit #3535, #4990): "Flow client error
    /// returned with status code ..." and the flow service's JSON. The
    /// Dataverse code of that plugin error is not public: padconnect
    /// answers 0x80040265 (IsvAborted), the documented code of an error a
    /// plugin raises, with status 400.
    pub fn flow_off(off: &padconnect_domain::solutions::FlowOff) -> Self {
        let status = match off.status {
            403 => "Forbidden",
            _ => "BadRequest",
        };
        let details = serde_json::json!({"error": {"code": off.code, "message": off.message}});
        Self::bad_request_code(
            "0x80040265",
            format!(
                "Flow client error returned with status code \"{status}\" and details \"{details}\"."
            ),
        )
    }

    /// 0x80060888: a query or body Dataverse cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "0x80060888", message)
    }

    /// The JSON body of the answer (a 401's is empty: see `unauthorized`).
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }

    /// A request that reached Dataverse without its origin: not routed by
    /// dispatch.
    pub fn unrouted() -> Self {
        Self::internal(crate::origin::RequestOrigin::MISSING.into())
    }

    pub fn internal(detail: String) -> Self {
        tracing::error!(%detail, "Dataverse request failed");
        Self::unexpected()
    }

    /// The platform's own fault, as Dataverse words it, logged by the caller.
    pub fn unexpected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "0x80040216",
            "An unexpected error occurred.",
        )
    }
}

impl IntoResponse for DataverseError {
    fn into_response(self) -> Response {
        if let Some(challenge) = self.challenge {
            return (self.status, [(header::WWW_AUTHENTICATE, challenge)]).into_response();
        }
        (self.status, [("OData-Version", "4.0")], Json(self.body())).into_response()
    }
}

/// A write's body as a JSON object, or the 400 that says what it is instead.
pub(super) fn json_object(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, DataverseError> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(DataverseError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(DataverseError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}
