//! Entra ID's error format: `error`, `error_description` beginning
//! `AADSTSnnnn:`, `error_codes`, `timestamp`, `trace_id`, `correlation_id`.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    pub status: StatusCode,
    /// The OAuth error: `invalid_request`, `invalid_client`, ...
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    pub message: String,
    /// Seconds for `Retry-After`, on a throttled answer.
    pub retry_after: Option<u64>,
}

/// A store failure is the platform's, never the client's: a 500 that hides the detail.
impl From<padconnect_store::StoreError> for AadError {
    fn from(error: padconnect_store::StoreError) -> Self {
        Self::internal(error.to_string())
    }
}

impl AadError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A failure of the platform itself (the database), not of the request.
    pub fn internal(detail: String) -> Self {
        tracing::error!(%detail, "identity request failed");
        Self::unexpected()
    }

    /// The platform's own fault, as Entra words it, logged by the caller.
    pub fn unexpected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
    }

    /// `AADSTS900144`: a required form parameter is missing.
    pub fn missing(parameter: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// `AADSTS900561`: an endpoint called with a method it does not take.
    /// Entra's words as its answers show them ("AADSTS900561: The endpoint
    /// only accepts POST, OPTIONS requests. Received a GET request.", quoted
    /// in koskila.net's "How to resolve AADSTS90056"); this platform serves
    /// no OPTIONS, so it names only the method it takes. The status is the
    /// 400 of Entra's other `invalid_request` answers.
    pub fn wrong_method(accepted: &str, method: &axum::http::Method) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!("The endpoint only accepts {accepted} requests. Received a {method} request."),
        )
    }

    /// Entra answers unknown endpoints with AADSTS900561-style 404s; we keep
    /// the JSON shape so clients parse one format.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            900561,
            format!("The endpoint '{path}' does not exist on this identity platform."),
        )
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let trace_id = Uuid::new_v4();
        let correlation_id = Uuid::new_v4();
        // The time the answer is written, as a log line has it: the
        // system's (an error carries no platform state to read a clock from).
        let now = time::OffsetDateTime::now_utc();
        let timestamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(body),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}
