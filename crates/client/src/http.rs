//! Sending a request to a Microsoft API: a bearer token, bounded retries of
//! transient answers that honour `Retry-After`, a bounded wait for a new
//! environment, and the service's error code.
//!
//! What is retried follows Microsoft's Terraform provider
//! (`internal/api/client.go`, `retryableStatusCodes`): 408, 425, 429, 499,
//! 500, 502, 503 and 504, with `Retry-After` in seconds or as an HTTP date.
//! A new environment answers 404 `ServiceToServiceEnvironmentNotFound` for a
//! while; the provider polls it every 15 s for up to 10 minutes
//! (`internal/services/connection`, microsoft/terraform-provider-power-platform#1236),
//! and so does [`Retry::default`]. Every retry is reported, so a person or a
//! CI log sees why a command is waiting. A 401 is answered as the provider
//! answers it: a token that can be renewed ([`Bearer::renewing`]) is
//! renewed, and the request sent once more with it (`checkRetryAllowed`:
//! "the credential was refused, so the request never reached the operation
//! and replaying it with a freshly acquired token cannot duplicate a
//! non-idempotent mutation"); the provider bounds those replays, and one is
//! ours.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::ClientError;

/// The statuses worth sending again.
const TRANSIENT: [u16; 8] = [408, 425, 429, 499, 500, 502, 503, 504];
/// The code a newly created environment answers with until it is ready.
pub const ENVIRONMENT_NOT_READY: &str = "ServiceToServiceEnvironmentNotFound";

/// Hears one line per retry.
pub type Report = Arc<dyn Fn(&str) + Send + Sync>;

/// Gets a fresh token, as the token was first got.
pub type Renew = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, ClientError>> + Send>> + Send + Sync,
>;

/// The bearer token requests carry, and how to get a fresh one when the
/// service refuses it (401), where the caller can.
#[derive(Clone)]
pub struct Bearer {
    token: Arc<Mutex<String>>,
    renew: Option<Renew>,
}

impl Bearer {
    /// A token that is renewed with `renew` when a service answers 401.
    pub fn renewing(token: String, renew: Renew) -> Self {
        Self {
            token: Arc::new(Mutex::new(token)),
            renew: Some(renew),
        }
    }

    /// The token as it is now (renewed ones included).
    pub fn current(&self) -> String {
        self.token.lock().clone()
    }

    /// A fresh token in place of the refused one; `false` when this token
    /// cannot be renewed.
    async fn renew(&self) -> Result<bool, ClientError> {
        let Some(renew) = &self.renew else {
            return Ok(false);
        };
        let fresh = renew().await?;
        *self.token.lock() = fresh;
        Ok(true)
    }
}

/// A token as given, never renewed.
impl From<String> for Bearer {
    fn from(token: String) -> Self {
        Self {
            token: Arc::new(Mutex::new(token)),
            renew: None,
        }
    }
}

impl From<&str> for Bearer {
    fn from(token: &str) -> Self {
        token.to_owned().into()
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("renewable", &self.renew.is_some())
            .finish_non_exhaustive()
    }
}

/// How a request is retried.
#[derive(Clone)]
pub struct Retry {
    /// Attempts in all for a transient answer.
    pub attempts: u32,
    /// The longest single wait, whatever `Retry-After` says.
    pub longest_wait: Duration,
    /// How long a new environment's [`ENVIRONMENT_NOT_READY`] is waited out.
    pub environment_wait: Duration,
    /// How often a new environment is asked again.
    pub environment_poll: Duration,
    pub report: Option<Report>,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 4,
            longest_wait: Duration::from_secs(30),
            environment_wait: Duration::from_secs(600),
            environment_poll: Duration::from_secs(15),
            report: None,
        }
    }
}

impl std::fmt::Debug for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("attempts", &self.attempts)
            .field("environment_wait", &self.environment_wait)
            .finish_non_exhaustive()
    }
}

impl Retry {
    fn report(&self, line: &str) {
        if let Some(report) = &self.report {
            report(line);
        }
    }
}

/// Sends `method url` with the token and an optional JSON body; returns the
/// status and the JSON body (`Null` when empty).
pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: &Bearer,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), ClientError> {
    send_with(http, &Retry::default(), method, url, token, body, &[]).await
}

/// [`send`] with more request headers, under a retry policy of the caller's.
pub async fn send_with(
    http: &reqwest::Client,
    retry: &Retry,
    method: Method,
    url: &str,
    token: &Bearer,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<(StatusCode, Value), ClientError> {
    let started = Instant::now();
    let mut attempt = 1;
    let mut renewed = false;
    loop {
        let mut request = http
            .request(method.clone(), url)
            .bearer_auth(token.current())
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::transport(url, e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::transport(url, e))?;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok((status, json));
        }
        if status == StatusCode::UNAUTHORIZED && !renewed && token.renew().await? {
            retry.report(&format!(
                "HTTP 401 from {method} {}; signed in again for a fresh token, sending it once more",
                url.split('?').next().unwrap_or(url),
            ));
            renewed = true;
            continue;
        }
        let not_ready = status == StatusCode::NOT_FOUND
            && json["error"]["code"].as_str() == Some(ENVIRONMENT_NOT_READY);
        if not_ready && started.elapsed() + retry.environment_poll <= retry.environment_wait {
            retry.report(&format!(
                "the environment is not ready yet ({ENVIRONMENT_NOT_READY}); asking again in {} s, for up to {} s in all. An environment of another tenant answers the same: if it never gets ready, check that the tenant the service names is the environment's (AZURE_TENANT_ID)",
                retry.environment_poll.as_secs_f32(),
                retry.environment_wait.as_secs()
            ));
            tokio::time::sleep(retry.environment_poll).await;
            continue;
        }
        if TRANSIENT.contains(&status.as_u16()) && attempt < retry.attempts {
            let backoff = Duration::from_millis(500 * 2u64.pow(attempt - 1));
            let wait = retry_after.unwrap_or(backoff).min(retry.longest_wait);
            retry.report(&format!(
                "HTTP {} from {method} {}; retrying in {:.1} s (attempt {} of {})",
                status.as_u16(),
                url.split('?').next().unwrap_or(url),
                wait.as_secs_f32(),
                attempt + 1,
                retry.attempts
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
            continue;
        }
        return Err(service_error(status, &json, &bytes));
    }
}

/// `message`, then each nested detail as `code: message`, depth first (at
/// most a few levels: a service's answer, not a caller's, but bounded all
/// the same).
fn with_details(message: &str, details: &Value) -> String {
    fn collect(details: &Value, depth: usize, out: &mut Vec<String>) {
        let Some(items) = details.as_array().filter(|_| depth < 4) else {
            return;
        };
        for item in items.iter().take(16) {
            let code = item["code"].as_str().unwrap_or_default();
            let message = item["message"].as_str().unwrap_or_default();
            if !(code.is_empty() && message.is_empty()) {
                out.push(format!("{code}: {message}"));
            }
            collect(&item["details"], depth + 1, out);
        }
    }
    let mut parts = Vec::new();
    collect(details, 0, &mut parts);
    match parts.is_empty() {
        true => message.to_owned(),
        false => format!("{message} ({})", parts.join("; ")),
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 10.2.3); a date in
/// the past means now.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `{"error":{"code","message"}}`, the shape of the Power Platform API and
/// Dataverse; anything else is reported by its status. Nested `details`
/// (the run-owner doc's `ApiHubsRequestFailed`, "Aggregated detailed
/// message", whose real cause is inside) are added to the message.
fn service_error(status: StatusCode, json: &Value, bytes: &[u8]) -> ClientError {
    let code = json["error"]["code"].as_str().filter(|c| !c.is_empty());
    let message = json["error"]["message"].as_str();
    match (code, message) {
        (Some(code), message) => ClientError::Service {
            status: status.as_u16(),
            code: code.to_owned(),
            message: with_details(message.unwrap_or_default(), &json["error"]["details"]),
        },
        _ => ClientError::Service {
            status: status.as_u16(),
            code: status.canonical_reason().unwrap_or("HTTPError").to_owned(),
            message: String::from_utf8_lossy(bytes).chars().take(300).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers the first `failures` requests with `status`
    /// (and `Retry-After: 0`), then 200 `{"ok":true}`; counts requests.
    async fn flaky(failures: usize, status: &'static str) -> (String, Arc<AtomicUsize>) {
        flaky_with(
            failures,
            status,
            r#"{"error":{"code":"Throttled","message":"wait"}}"#,
        )
        .await
    }

    async fn flaky_with(
        failures: usize,
        status: &'static str,
        failure_body: &'static str,
    ) -> (String, Arc<AtomicUsize>) {
        serve(move |n, _| match n < failures {
            true => (format!("{status}\r\nRetry-After: 0"), failure_body),
            false => ("200 OK".to_owned(), r#"{"ok":true}"#),
        })
        .await
    }

    /// A server whose `answer` gets the request's number (from 0) and its
    /// text and gives the status line's rest (and any headers) and the
    /// body; counts requests.
    async fn serve(
        answer: impl Fn(usize, &str) -> (String, &'static str) + Send + 'static,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0u8; 4096];
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (head, body) = answer(n, &String::from_utf8_lossy(&buffer[..read]));
                let response = format!(
                    "HTTP/1.1 {head}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_retried_a_bounded_number_of_times() {
        let http = reqwest::Client::new();
        let (url, seen) = flaky(2, "429 Too Many Requests").await;
        let (status, body) = send(&http, Method::GET, &url, &"t".into(), None)
            .await
            .unwrap();
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)));
        assert_eq!(seen.load(Ordering::SeqCst), 3);

        let (url, seen) = flaky(100, "503 Service Unavailable").await;
        let error = send(&http, Method::GET, &url, &"t".into(), None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("Throttled"));
        assert_eq!(
            seen.load(Ordering::SeqCst),
            Retry::default().attempts as usize,
            "bounded"
        );

        let (url, seen) = flaky(1, "400 Bad Request").await;
        assert!(
            send(&http, Method::GET, &url, &"t".into(), None)
                .await
                .is_err()
        );
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "a client error is not retried"
        );
    }

    #[tokio::test]
    async fn the_terraform_providers_transient_statuses_are_retried() {
        let http = reqwest::Client::new();
        for status in [
            "408 Request Timeout",
            "425 Too Early",
            "499 Client Closed Request",
            "504 Gateway Timeout",
        ] {
            let (url, seen) = flaky(1, status).await;
            send(&http, Method::GET, &url, &"t".into(), None)
                .await
                .unwrap_or_else(|e| panic!("{status}: {e}"));
            assert_eq!(seen.load(Ordering::SeqCst), 2, "{status}");
        }
        let (url, seen) = flaky(1, "404 Not Found").await;
        assert!(
            send(&http, Method::GET, &url, &"t".into(), None)
                .await
                .is_err()
        );
        assert_eq!(seen.load(Ordering::SeqCst), 1, "a plain 404 is not retried");
    }

    /// A server that takes only `Bearer good`, and answers others 401.
    async fn guarded() -> (String, Arc<AtomicUsize>) {
        serve(|_, request| {
            match request
                .to_ascii_lowercase()
                .contains("authorization: bearer good\r\n")
            {
                true => ("200 OK".to_owned(), r#"{"ok":true}"#),
                false => (
                    "401 Unauthorized".to_owned(),
                    r#"{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}"#,
                ),
            }
        })
        .await
    }

    fn renewing_to(fresh: &'static str, renewals: Arc<AtomicUsize>) -> Bearer {
        Bearer::renewing(
            "expired".to_owned(),
            Arc::new(move || {
                renewals.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { Ok(fresh.to_owned()) })
            }),
        )
    }

    #[tokio::test]
    async fn a_refused_token_is_renewed_and_the_request_sent_once_more() {
        let http = reqwest::Client::new();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let heard = lines.clone();
        let retry = Retry {
            report: Some(Arc::new(move |line: &str| {
                heard.lock().push(line.to_owned())
            })),
            ..Retry::default()
        };

        let (url, seen) = guarded().await;
        let renewals = Arc::new(AtomicUsize::new(0));
        let token = renewing_to("good", renewals.clone());
        let (status, _) = send_with(&http, &retry, Method::GET, &url, &token, None, &[])
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        assert_eq!(renewals.load(Ordering::SeqCst), 1);
        assert!(lines.lock()[0].contains("HTTP 401"), "{lines:?}");
        // The renewed token stays: the next request needs no renewal.
        send_with(&http, &retry, Method::GET, &url, &token, None, &[])
            .await
            .unwrap();
        assert_eq!(renewals.load(Ordering::SeqCst), 1);

        // Once only: a fresh token refused too is the answer.
        let (url, seen) = guarded().await;
        let renewals = Arc::new(AtomicUsize::new(0));
        let error = send(
            &http,
            Method::GET,
            &url,
            &renewing_to("bad", renewals.clone()),
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(error.code(), Some("InvalidAuthenticationToken"));
        assert_eq!(
            (seen.load(Ordering::SeqCst), renewals.load(Ordering::SeqCst)),
            (2, 1)
        );

        // A token as given is not renewed.
        let (url, seen) = guarded().await;
        assert!(
            send(&http, Method::GET, &url, &"expired".into(), None)
                .await
                .is_err()
        );
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    /// A new environment's 404 is waited out, each poll reported, and the
    /// wait ends when its bound does.
    #[tokio::test]
    async fn a_new_environment_is_waited_for_within_a_bound() {
        let http = reqwest::Client::new();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let heard = lines.clone();
        let retry = Retry {
            environment_wait: Duration::from_millis(300),
            environment_poll: Duration::from_millis(50),
            report: Some(Arc::new(move |line: &str| {
                heard.lock().push(line.to_owned())
            })),
            ..Retry::default()
        };
        let body =
            r#"{"error":{"code":"ServiceToServiceEnvironmentNotFound","message":"not yet"}}"#;
        let (url, seen) = flaky_with(2, "404 Not Found", body).await;
        let (status, _) = send_with(&http, &retry, Method::GET, &url, &"t".into(), None, &[])
            .await
            .unwrap();
        assert_eq!((status, seen.load(Ordering::SeqCst)), (StatusCode::OK, 3));
        assert_eq!(lines.lock().len(), 2);
        assert!(
            lines.lock()[0].contains("not ready yet"),
            "{:?}",
            lines.lock()
        );

        let (url, seen) = flaky_with(1_000, "404 Not Found", body).await;
        let error = send_with(&http, &retry, Method::GET, &url, &"t".into(), None, &[])
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("ServiceToServiceEnvironmentNotFound"));
        let polls = seen.load(Ordering::SeqCst);
        assert!(
            (2..=7).contains(&polls),
            "{polls} polls in a 300 ms bound at 50 ms"
        );
    }

    #[test]
    fn nested_details_reach_the_message() {
        let body = serde_json::json!({"error": {"code": "ApiHubsRequestFailed", "message": "Aggregated detailed message",
            "details": [{"code": "ErrorCode", "message": "Connection failed: [Machine 1234]. There's an issue with your credentials.",
                "details": [{"code": "Response Code", "message": "Forbidden"}]}]}});
        let error = service_error(StatusCode::BAD_REQUEST, &body, b"");
        assert_eq!(error.code(), Some("ApiHubsRequestFailed"));
        let text = error.to_string();
        assert!(
            text.contains("There's an issue with your credentials")
                && text.contains("Response Code: Forbidden"),
            "{text}"
        );
    }
}
