//! The tests' one request helper: a typed client for a platform under
//! test, in place of each test file's own `request`/`call`/`get`.
//!
//! ```no_run
//! use padconnect_testkit::Client;
//! use serde_json::json;
//!
//! # async fn example(platform_url: String, token: &str) {
//! let dataverse = Client::new(format!("{platform_url}/orgs/contoso/api/data/v9.2"))
//!     .token(token)
//!     .header("OData-Version", "4.0");
//! let created = dataverse.post_json("accounts", &json!({"name": "Contoso"})).await;
//! assert_eq!(created.status, reqwest::StatusCode::NO_CONTENT, "{}", created.text);
//! let page = dataverse.get("accounts?$top=1").await;
//! // An OData nextLink is absolute: it is followed as it is.
//! if let Some(next) = page.json()["@odata.nextLink"].as_str() {
//!     dataverse.get(next).await;
//! }
//! # }
//! ```

use reqwest::header::{HOST, HeaderMap};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde_json::Value;

/// Requests to one base URL, each with the same bearer token, `Host`
/// header and extra headers, when set.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    headers: Vec<(String, String)>,
}

impl Client {
    /// Requests to `base` (a platform's URL, or an API's root under it)
    /// through [`crate::http`].
    pub fn new(base: impl Into<String>) -> Self {
        Self::with(crate::http(), base)
    }

    /// Requests to `base` through `http`: a client with a root certificate
    /// or a proxy of its own.
    pub fn with(http: reqwest::Client, base: impl Into<String>) -> Self {
        Self {
            http,
            base: base.into(),
            token: None,
            headers: Vec::new(),
        }
    }

    /// Sends `token` as the bearer of every request.
    pub fn token(self, token: &str) -> Self {
        self.maybe_token(Some(token))
    }

    /// Sends `token`, when there is one: for a helper that also tries the
    /// anonymous caller.
    pub fn maybe_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// Sends `host` as the `Host` header, as a client of the cloud's host
    /// name does: the platform routes by it.
    pub fn host(self, host: &str) -> Self {
        self.header(HOST.as_str(), host)
    }

    /// Sends the header `name: value` with every request (`OData-Version`,
    /// `Accept`, a `User-Agent` of the client a test plays).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `path` under the base URL; an absolute URL (an OData `nextLink`) as
    /// it is.
    pub fn url(&self, path: &str) -> String {
        join(&self.base, path)
    }

    /// A request to `path` with the token and headers, for what the methods
    /// below do not send (a query, basic authentication, a raw body); read
    /// its reply with [`Reply::read`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// `method path` with `headers` added and `json` as the body (typed
    /// `application/json` unless `headers` say otherwise).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        json: Option<&Value>,
    ) -> Reply {
        let mut request = self.request(method, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(json) = json {
            request = request.json(json);
        }
        Reply::read(request).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, json: &Value) -> Reply {
        self.send(Method::POST, path, &[], Some(json)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, path: &str, json: &Value) -> Reply {
        self.send(Method::PUT, path, &[], Some(json)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch_json(&self, path: &str, json: &Value) -> Reply {
        self.send(Method::PATCH, path, &[], Some(json)).await
    }

    /// `POST path` with a form body (`application/x-www-form-urlencoded`):
    /// pairs, as `[("grant_type", "client_credentials"), ...]`.
    pub async fn post_form(&self, path: &str, form: &(impl Serialize + ?Sized)) -> Reply {
        Reply::read(self.request(Method::POST, path).form(form)).await
    }
}

/// `path` under `base`, a `/` between them unless one of them has it (one
/// of two is dropped, so a path of `//` stays one); an absolute URL as it
/// is, an empty path or a bare query right after `base`.
fn join(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_owned();
    }
    if path.is_empty() || path.starts_with('?') {
        return format!("{base}{path}");
    }
    match (base.ends_with('/'), path.strip_prefix('/')) {
        (true, Some(rest)) => format!("{base}{rest}"),
        (false, None) => format!("{base}/{path}"),
        _ => format!("{base}{path}"),
    }
}

/// A reply, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as it came.
    pub text: String,
    /// The body as JSON, or null when it is not JSON (empty, HTML): for a
    /// test that looks at fields whatever came. [`Reply::json`] insists.
    pub body: Value,
}

impl Reply {
    /// Sends `request` and reads its reply.
    pub async fn read(request: RequestBuilder) -> Self {
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the reply's body is read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    /// The body as JSON; panics, with the body, when it is not JSON.
    pub fn json(&self) -> &Value {
        if let Err(e) = serde_json::from_str::<Value>(&self.text) {
            panic!("a {} reply not JSON ({e}): {}", self.status, self.text);
        }
        &self.body
    }

    /// Header `name`'s value, when there is one and it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

#[cfg(test)]
mod tests;
