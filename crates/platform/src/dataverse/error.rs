//! Dataverse's error format: `{"error":{"code":"0x...","message":"..."}}`,
//! where the code is Dataverse's, unrelated to the HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataverseError {
    pub status: StatusCode,
    /// Hexadecimal Dataverse error code, `0x80040217`.
    pub code: &'static str,
    pub message: String,
}

impl DataverseError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
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
}

impl IntoResponse for DataverseError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, [("OData-Version", "4.0")], Json(body)).into_response()
    }
}
