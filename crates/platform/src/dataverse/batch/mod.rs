//! `POST /api/data/v9.2/$batch`: several requests in one, run in order
//! (Dataverse's "Execute batch operations using the Web API"; the format is
//! OData 4.0 section 11.7). Each request goes through the same Dataverse
//! router as if sent alone, with the batch's token, so every rule and
//! every refusal is the one it would meet on its own.
//!
//! As Dataverse does: the answer is 200 multipart/mixed with one part per
//! request, in order; the batch stops at the first request that fails
//! unless the client sent `Prefer: odata.continue-on-error` (then the
//! answer says `Preference-Applied: odata.continue-on-error`); a request
//! of a change set answers inside a `changesetresponse` part with its
//! `Content-ID`, and a change set that fails answers with that one error in
//! place of the change set (OData 4.0, 11.7.4 "Responding to a Batch
//! Request"). A batch that cannot be read is refused whole, with a 400 in
//! Dataverse's format.
//!
//! Not served, and refused in Dataverse's format: a change set of more than
//! one request. Dataverse runs one in a single database transaction; the
//! platform's writes each commit on their own, so it cannot promise that
//! all or none are kept, and it does not pretend to. A change set of one
//! request is atomic by itself and is run.

mod multipart;
mod response;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use super::prefer::Preferences;
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::origin::{OrgScope, RequestOrigin};
use crate::state::AppState;
use multipart::{Item, Malformed, PartRequest};
use response::{Answer, BatchResponse};

const CONTINUE_ON_ERROR: &str = "odata.continue-on-error";

pub async fn execute(
    State(state): State<AppState>,
    caller: DataverseCaller,
    Extension(org): Extension<OrgScope>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DataverseError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let items = multipart::boundary(content_type)
        .and_then(|boundary| multipart::parse(&body, &boundary))
        .map_err(|Malformed(message)| DataverseError::bad_request(message))?;
    let continue_on_error = Preferences::of(&headers).has(CONTINUE_ON_ERROR);
    let context = PartContext {
        router: super::router(state),
        origin: caller.origin,
        org,
        authorization: headers.get(header::AUTHORIZATION).cloned(),
    };

    let mut answer = BatchResponse::new();
    for item in items {
        if answer.is_full() {
            answer.push(Answer::error(
                None,
                &DataverseError::bad_request(format!(
                    "The batch's answer is over {} MiB: the requests after this point were not run. Send them in another batch, or ask for fewer rows ($top, $select).",
                    response::MAX_BATCH_BYTES / (1024 * 1024)
                )),
            ));
            break;
        }
        let failed = match item {
            Item::Request(request) => {
                let reply = context.run(request).await;
                let failed = reply.failed();
                answer.push(reply);
                failed
            }
            Item::ChangeSet(mut set) if set.len() == 1 => {
                let Some(request) = set.pop() else { continue };
                let reply = context.run(request).await;
                let failed = reply.failed();
                if failed {
                    answer.push(reply);
                } else {
                    answer.push_change_set(vec![reply]);
                }
                failed
            }
            Item::ChangeSet(set) => {
                answer.push(Answer::error(
                    set.first().and_then(|r| r.content_id.clone()),
                    &DataverseError::bad_request(format!(
                        "This platform runs a change set of one request only, and this one holds {}: Dataverse keeps all or none of a change set's changes, and the platform cannot promise that for several. Send each change as its own part of the batch, outside a change set.",
                        set.len()
                    )),
                ));
                true
            }
        };
        if failed && !continue_on_error {
            break;
        }
    }
    let mut response = answer.into_response();
    if continue_on_error {
        response.headers_mut().insert(
            "Preference-Applied",
            HeaderValue::from_static(CONTINUE_ON_ERROR),
        );
    }
    Ok(response)
}

/// What every request of one batch shares.
struct PartContext {
    router: axum::Router,
    origin: RequestOrigin,
    org: OrgScope,
    authorization: Option<HeaderValue>,
}

impl PartContext {
    /// Runs one request through the Dataverse router and reads its answer.
    async fn run(&self, part: PartRequest) -> Answer {
        let content_id = part.content_id.clone();
        let request = match self.request(part) {
            Ok(request) => request,
            Err(refusal) => return Answer::error(content_id, &refusal),
        };
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        Answer::read(content_id, response).await
    }

    /// The part as a request to this org, with the batch's token.
    fn request(&self, part: PartRequest) -> Result<Request<Body>, DataverseError> {
        let uri = self.uri(&part.target)?;
        let mut request = Request::builder()
            .method(part.method)
            .uri(uri)
            .body(Body::from(part.body))
            .map_err(|e| {
                DataverseError::bad_request(format!("The request's URL cannot be used: {e}."))
            })?;
        let headers = request.headers_mut();
        for (name, value) in part.headers {
            headers.append(name, value);
        }
        // The batch's credentials are every part's; a part cannot bring
        // its own.
        headers.remove(header::AUTHORIZATION);
        if let Some(authorization) = &self.authorization {
            headers.insert(header::AUTHORIZATION, authorization.clone());
        }
        request.extensions_mut().insert(self.origin.clone());
        request.extensions_mut().insert(self.org.clone());
        Ok(request)
    }

    /// The path and query a part's URL names under this org: an absolute
    /// URL of the org the batch was sent to, an absolute path, or a path
    /// relative to the service root (`flowmachines?$top=1`).
    fn uri(&self, target: &str) -> Result<Uri, DataverseError> {
        if is_content_id_reference(target) {
            return Err(DataverseError::bad_request(format!(
                "'{target}' refers to another request by its Content-ID, which only a request of the same change set can do, and this platform runs change sets of one request."
            )));
        }
        let base = self.origin.url("");
        let path = if let Some(rest) = strip_prefix_ignore_case(target, &base) {
            rest.to_owned()
        } else if target.contains("://") {
            return Err(DataverseError::bad_request(format!(
                "'{target}' is not a URL of this organization ({base}): every request of a batch goes to the organization the batch was sent to."
            )));
        } else if target.starts_with('/') {
            strip_prefix_ignore_case(target, &self.origin.prefix)
                .filter(|rest| rest.starts_with('/'))
                .unwrap_or(target)
                .to_owned()
        } else {
            format!("{API_ROOT}/{target}")
        };
        let segment = path.split(['?', '#']).next().unwrap_or_default();
        if segment.trim_end_matches('/').ends_with("/$batch") {
            return Err(DataverseError::bad_request(
                "A batch cannot contain another batch: send the inner requests as parts of this one.",
            ));
        }
        path.parse().map_err(|_| {
            DataverseError::bad_request(format!(
                "'{target}' is not a URL: write the request line as 'METHOD URL HTTP/1.1'."
            ))
        })
    }
}

/// `$1` or `$1/...`: a reference to an earlier request of the change set
/// (the clients number their Content-IDs; `$batch` and `$metadata` are
/// resources).
fn is_content_id_reference(target: &str) -> bool {
    target
        .strip_prefix('$')
        .and_then(|rest| rest.split(['/', '?']).next())
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}
