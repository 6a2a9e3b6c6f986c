//! Sending a request to a Microsoft API: a bearer token, bounded retries on
//! 429 and 5xx that honour `Retry-After`, and the service's error code.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::ClientError;

const ATTEMPTS: u32 = 4;
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Sends `method url` with the token and an optional JSON body; returns the
/// status and the JSON body (`Null` when empty).
pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), ClientError> {
    send_with_headers(http, method, url, token, body, &[]).await
}

/// [`send`] with more request headers.
pub async fn send_with_headers(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<(StatusCode, Value), ClientError> {
    let mut attempt = 1;
    loop {
        let mut request = http
            .request(method.clone(), url)
            .bearer_auth(token)
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
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::transport(url, e))?;
        let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        if retryable && attempt < ATTEMPTS {
            let backoff = Duration::from_millis(500 * 2u64.pow(attempt - 1));
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(LONGEST_WAIT)).await;
            attempt += 1;
            continue;
        }
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok((status, json));
        }
        return Err(service_error(status, &json, &bytes));
    }
}

/// `{"error":{"code","message"}}`, the shape of the Power Platform API and
/// Dataverse; anything else is reported by its status.
fn service_error(status: StatusCode, json: &Value, bytes: &[u8]) -> ClientError {
    let code = json["error"]["code"].as_str().filter(|c| !c.is_empty());
    let message = json["error"]["message"].as_str();
    match (code, message) {
        (Some(code), message) => ClientError::Service {
            status: status.as_u16(),
            code: code.to_owned(),
            message: message.unwrap_or_default().to_owned(),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (head, body) = match n < failures {
                    true => (
                        format!("{status}\r\nRetry-After: 0"),
                        r#"{"error":{"code":"Throttled","message":"wait"}}"#,
                    ),
                    false => ("200 OK".to_owned(), r#"{"ok":true}"#),
                };
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
        let (status, body) = send(&http, Method::GET, &url, "t", None).await.unwrap();
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)));
        assert_eq!(seen.load(Ordering::SeqCst), 3);

        let (url, seen) = flaky(100, "503 Service Unavailable").await;
        let error = send(&http, Method::GET, &url, "t", None).await.unwrap_err();
        assert_eq!(error.code(), Some("Throttled"));
        assert_eq!(seen.load(Ordering::SeqCst), ATTEMPTS as usize, "bounded");

        let (url, seen) = flaky(1, "400 Bad Request").await;
        assert!(send(&http, Method::GET, &url, "t", None).await.is_err());
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "a client error is not retried"
        );
    }
}
