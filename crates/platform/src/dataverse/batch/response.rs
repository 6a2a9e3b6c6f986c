//! The answer to a `$batch`: a multipart/mixed document with one
//! `application/http` part per request (an HTTP/1.1 response each), and a
//! nested `changesetresponse` part for a change set, its responses carrying
//! their requests' `Content-ID` (OData 4.0 section 11.7.4; the boundaries
//! are named as Dataverse names them, `batchresponse_{guid}` and
//! `changesetresponse_{guid}`).

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::dataverse::DataverseError;

/// The largest answer a part may give. A batch is bounded in its requests,
/// and each answer in its rows; this keeps 1,000 of them from adding up
/// past what one response should hold.
const MAX_PART_BYTES: usize = 16 * 1024 * 1024;

/// The largest answer a batch gives: past it, the batch stops with a
/// refusal in place of the next part.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// One request's response, read whole.
pub struct Answer {
    pub content_id: Option<String>,
    pub status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Answer {
    /// Reads a response of the Dataverse router.
    pub async fn read(content_id: Option<String>, response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let Ok(body) = axum::body::to_bytes(body, MAX_PART_BYTES).await else {
            return Self::error(
                content_id,
                &DataverseError::bad_request(format!(
                    "The answer to this request is over {MAX_PART_BYTES} bytes, too large for a batch: send it on its own, or ask for fewer rows ($top, $select)."
                )),
            );
        };
        let headers = parts
            .headers
            .into_iter()
            .filter_map(|(name, value)| name.map(|name| (name, value)))
            .filter(|(name, _)| {
                // The part's own length is the multipart document's business.
                name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING
            })
            .collect();
        Self {
            content_id,
            status: parts.status,
            headers,
            body,
        }
    }

    /// A refusal written by the batch itself, in Dataverse's format.
    pub fn error(content_id: Option<String>, error: &DataverseError) -> Self {
        Self {
            content_id,
            status: error.status,
            headers: vec![
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; odata.metadata=minimal"),
                ),
                (
                    HeaderName::from_static("odata-version"),
                    HeaderValue::from_static("4.0"),
                ),
            ],
            body: error.body().to_string().into(),
        }
    }

    pub fn failed(&self) -> bool {
        self.status.is_client_error() || self.status.is_server_error()
    }

    /// The part: its MIME headers, then the HTTP response.
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n",
        );
        if let Some(id) = &self.content_id {
            out.extend_from_slice(format!("Content-ID: {id}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "\r\nHTTP/1.1 {} {}\r\n",
                self.status.as_u16(),
                self.status.canonical_reason().unwrap_or("Unknown")
            )
            .as_bytes(),
        );
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out.extend_from_slice(b"\r\n");
    }
}

/// The batch's answer, part by part.
pub struct BatchResponse {
    boundary: String,
    body: Vec<u8>,
}

impl BatchResponse {
    pub fn new() -> Self {
        Self {
            boundary: format!("batchresponse_{}", uuid::Uuid::new_v4()),
            body: Vec::new(),
        }
    }

    /// Whether the answer has grown past [`MAX_BATCH_BYTES`].
    pub fn is_full(&self) -> bool {
        self.body.len() > MAX_BATCH_BYTES
    }

    fn delimiter(&mut self) {
        self.body
            .extend_from_slice(format!("--{}\r\n", self.boundary).as_bytes());
    }

    pub fn push(&mut self, answer: Answer) {
        self.delimiter();
        answer.write(&mut self.body);
    }

    /// A change set that succeeded: its answers in a part of their own.
    pub fn push_change_set(&mut self, answers: Vec<Answer>) {
        let boundary = format!("changesetresponse_{}", uuid::Uuid::new_v4());
        self.delimiter();
        self.body.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n").as_bytes(),
        );
        for answer in answers {
            self.body
                .extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            answer.write(&mut self.body);
        }
        self.body
            .extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
}

impl IntoResponse for BatchResponse {
    fn into_response(mut self) -> Response {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    format!("multipart/mixed; boundary={}", self.boundary),
                ),
                (HeaderName::from_static("odata-version"), "4.0".to_owned()),
            ],
            Body::from(self.body),
        )
            .into_response()
    }
}
