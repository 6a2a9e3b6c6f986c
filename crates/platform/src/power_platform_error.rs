//! The Power Platform API's error format: `{"error":{"code","message"}}`,
//! which the connections API and BAP both answer in, and ARM in its own
//! codes (`arm::ArmError`). It sits below these surfaces, so none imports
//! another.
//!
//! Codes the service is known to use keep its names (`ConnectionNotFound`,
//! `EnvironmentNotFound`, `ConnectionAuthorizationFailed`,
//! `ParameterNotDefined`). Where no public source names the code for a rule,
//! we use the ARM convention's (`MissingApiVersionParameter`,
//! `InvalidApiVersionParameter`, `InvalidRequestContent`,
//! `InvalidAuthenticationToken`) or, failing that, a name of our own that
//! says what is wrong; each is listed in `ApiError`'s constructors.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Audience, AuthFailure};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For a 401: the `WWW-Authenticate` challenge.
    pub challenge: Option<String>,
    /// The nested `details` of an `ApiHubsRequestFailed`.
    pub details: Option<serde_json::Value>,
}

/// A store failure is the platform's, never the client's: a 500 that hides the detail.
impl From<padconnect_store::StoreError> for ApiError {
    fn from(error: padconnect_store::StoreError) -> Self {
        Self::internal(error.to_string())
    }
}

/// A domain rule's refusal in the Power Platform API's words: the sharing
/// codes are the ones this API's callers see (`ConnectionNotShareable`,
/// `InvalidRoleName`, `InvalidPrincipal`, `PrincipalNotFound`,
/// `ConnectionAuthorizationFailed`).
impl From<padconnect_domain::Error> for ApiError {
    fn from(error: padconnect_domain::Error) -> Self {
        use padconnect_domain::Error;
        use padconnect_domain::connections::sharing::Refusal;
        let message = error.to_string();
        match error {
            Error::Sharing(refusal) if refusal.is_forbidden() => Self::forbidden(message),
            Error::Sharing(refusal) => Self::bad_request(
                match refusal {
                    Refusal::UnknownRole(_) => "InvalidRoleName",
                    Refusal::NoPrincipal | Refusal::Owner(_) => "InvalidPrincipal",
                    Refusal::UnknownPrincipal(_) => "PrincipalNotFound",
                    _ => "ConnectionNotShareable",
                },
                message,
            ),
            Error::Connection(refusal) => refusal.into(),
            Error::Forbidden(_) => Self::forbidden(message),
            Error::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", message),
            Error::Store(error) => error.into(),
            Error::Internal(what) => Self::internal(format!("{what} failed")),
            Error::Credentials { .. } => Self::credentials_rejected(message),
            Error::Invalid(_) | Error::Conflict(_) | Error::Membership(_) => {
                Self::invalid_content(message)
            }
            // Solutions and runs are Dataverse's; no call of these APIs makes one.
            Error::Import(_) | Error::FlowOff(_) | Error::Run(_) => Self::invalid_content(message),
        }
    }
}

/// A connection write's refusal: who may not write is a 403, a request
/// that cannot be carried out a 400, a race lost to a delete a 409.
impl From<padconnect_domain::connections::Refusal> for ApiError {
    fn from(refusal: padconnect_domain::connections::Refusal) -> Self {
        use padconnect_domain::connections::Refusal;
        let message = refusal.to_string();
        match refusal {
            Refusal::NoUser(_)
            | Refusal::TargetNotShared { .. }
            | Refusal::CredentialNotShared { .. }
            | Refusal::OwnedByAnother(_) => Self::forbidden(message),
            Refusal::UnknownTarget { .. } => Self::bad_request("InvalidTargetId", message),
            // Guess, written down: no public source names the code.
            Refusal::UnknownCredential { .. } => Self::bad_request("InvalidCredentialId", message),
            Refusal::ParameterSetChange { .. } => {
                Self::bad_request("ConnectionParameterSetChangeNotAllowed", message)
            }
            Refusal::DeletedDuringUpdate(_) => Self::new(
                StatusCode::CONFLICT,
                "ConnectionDeletedDuringUpdate",
                message,
            ),
            Refusal::RunOwner { .. } => Self::bad_request("InvalidParameterValue", message),
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
            details: None,
        }
    }

    /// Bad Windows credentials as the service wraps them: the run-owner
    /// document's `{"error":{"code":"ApiHubsRequestFailed","message":
    /// "Aggregated detailed message","details":[{"code","message","details":
    /// [{"code":"Response Code","message"}]}]}}`, the cause in the first
    /// detail. Guess, written down: the inner codes (`BadRequest`, `400`)
    /// and the 400 status; no public source shows them for this case.
    pub fn credentials_rejected(cause: String) -> Self {
        Self {
            details: Some(json!([{
                "code": "BadRequest",
                "message": format!("{cause} Check the Windows account's username and password, and that it can sign in on that machine."),
                "details": [{ "code": "Response Code", "message": "400" }],
            }])),
            ..Self::bad_request("ApiHubsRequestFailed", "Aggregated detailed message")
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The route '{path}' does not exist on the Power Platform API."),
        )
    }

    /// BAP's words for an environment it does not have, as the Terraform
    /// provider recorded them (`Validate_Read_ParentDeleted/get_environment_*.json`:
    /// "The environment '...' could not be found in the tenant.").
    pub fn environment_not_found(environment: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "EnvironmentNotFound",
            format!("The environment '{environment}' could not be found in the tenant."),
        )
    }

    /// What the connections service answers for an environment it does not
    /// know in the caller's tenant: a newly created one, for a while, and
    /// another tenant's. The code is the one the Terraform provider waits out
    /// (microsoft/terraform-provider-power-platform#1236), the message the
    /// service's own, word for word (the provider's recorded
    /// `put_connection_environment_not_found.json`), naming the tenant of
    /// the caller's token.
    pub fn environment_not_ready(environment: &str, tenant: uuid::Uuid) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ServiceToServiceEnvironmentNotFound",
            format!("The environment '{environment}' could not be found in the tenant '{tenant}'."),
        )
    }

    pub fn unauthorized(failure: &AuthFailure) -> Self {
        Self::unauthorized_for(failure, Audience::PowerPlatform)
    }

    /// A 401 whose challenge names `audience` (BAP shares this format).
    pub fn unauthorized_for(failure: &AuthFailure, audience: Audience<'_>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "InvalidAuthenticationToken",
            message: failure.to_string(),
            challenge: Some(failure.challenge(&audience)),
            details: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ConnectionAuthorizationFailed",
            message,
        )
    }

    /// The service's words, as users quote them
    /// (microsoft/powerplatform-build-tools#533, microsoft/coe-starter-kit#6586):
    /// "Could not find connection '<id>' for API '<api>'.".
    pub fn connection_not_found(id: &str, api: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ConnectionNotFound",
            format!("Could not find connection '{id}' for API '{api}'."),
        )
    }

    pub fn connector_not_found(connector: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ConnectorNotFound",
            format!(
                "The connector '{connector}' is not available here: this platform serves shared_uiflow connections."
            ),
        )
    }

    pub fn missing_api_version() -> Self {
        Self::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests: use api-version=1.",
        )
    }

    pub fn invalid_api_version(given: &str) -> Self {
        Self::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{given}' is invalid. The supported version is '1'."),
        )
    }

    pub fn invalid_connection_id(given: &str) -> Self {
        Self::bad_request(
            "InvalidConnectionId",
            format!(
                "The connection id '{given}' is not a GUID: use a new GUID (New-Guid), with or without dashes."
            ),
        )
    }

    pub fn invalid_content(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidRequestContent", message)
    }

    pub fn environment_mismatch(message: impl Into<String>) -> Self {
        Self::bad_request("EnvironmentMismatch", message)
    }

    pub fn invalid_parameter_set(given: &str) -> Self {
        Self::bad_request(
            "InvalidParameterSet",
            format!(
                "The connection parameter set '{given}' is not one of shared_uiflow's: use one of {}.",
                padconnect_core::ParameterSet::NAMES.join(", ")
            ),
        )
    }

    pub fn missing_parameter(set: &str, name: &str) -> Self {
        Self::bad_request(
            "MissingParameterValue",
            format!(
                "The connection parameter set '{set}' needs a value for '{name}': add \"{name}\":{{\"value\":...}} to connectionParametersSet.values."
            ),
        )
    }

    /// The service's sentence as a user quoted it (Power Platform community,
    /// "Parameter 'token:clientId' is not allowed on the connection since it
    /// was not defined as a connection parameter when the API was
    /// registered."), with the parameter set named after it.
    pub fn parameter_not_defined(name: &str, set: &str) -> Self {
        Self::bad_request(
            "ParameterNotDefined",
            format!(
                "Parameter '{name}' is not allowed on the connection since it was not defined as a connection parameter when the API was registered (parameter set '{set}')."
            ),
        )
    }

    pub fn invalid_parameter(name: &str, why: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "InvalidParameterValue",
            format!("The value of '{name}' is invalid: {why}"),
        )
    }

    pub fn invalid_filter(filter: &str) -> Self {
        Self::bad_request(
            "InvalidFilter",
            format!(
                "The $filter '{filter}' is not supported: only environment eq '{{environment id}}' is."
            ),
        )
    }

    /// A request that reached an API without its origin: not routed by
    /// dispatch.
    pub fn unrouted() -> Self {
        Self::internal(crate::origin::RequestOrigin::MISSING.into())
    }

    pub fn internal(detail: String) -> Self {
        tracing::error!(%detail, "Power Platform API request failed");
        Self::unexpected()
    }

    /// The platform's own fault, in the API's words, logged by the caller.
    pub fn unexpected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An internal error occurred; retry later.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            error["details"] = details;
        }
        let body = Json(json!({ "error": error }));
        match self.challenge {
            Some(challenge) => {
                (self.status, [(header::WWW_AUTHENTICATE, challenge)], body).into_response()
            }
            None => (self.status, body).into_response(),
        }
    }
}

/// The fallback of the routers that answer in this format, for a known
/// route called with a method it does not take: a 405 with the body every
/// other refusal has, where axum's default has none (axum adds the `Allow`
/// header). The code and the sentence are ours; no public answer shows the
/// real one.
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The method {method} is not allowed on this route: see the Allow header for those it takes."
        ),
    )
}
