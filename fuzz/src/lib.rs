//! What the fuzz targets share: one platform with the example world (SQLite
//! in a temporary directory), its router called in process, no socket in
//! between, and tokens it signed for the example app.
//!
//! Every answer is checked the same way: never a 5xx (a caller's input is
//! never the platform's fault), and a body that says it is JSON parses as
//! JSON. A panic anywhere is a crash libFuzzer reports.

use std::sync::LazyLock;

use axum::body::Body;
use http::{Request, Response, StatusCode, header};
use padconnect_platform::{Platform, PlatformConfig};
use tower::ServiceExt;

pub const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
pub const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
pub const SECRET: &str = "example-secret-value";
pub const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
pub const ENV_HOST: &str = "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com";
pub const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
pub const DATAVERSE: &str = "/orgs/contoso/api/data/v9.2";

pub struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    /// The example app's token for the Power Platform API.
    pub api_token: String,
    /// The example app's token for the example org's Dataverse.
    pub dataverse_token: String,
    // Kept for the router's sake: the store, the keys and their tasks.
    _platform: Platform,
    _data: tempfile::TempDir,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(Harness::start);

/// The one platform of this fuzzing process.
pub fn harness() -> &'static Harness {
    &HARNESS
}

impl Harness {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let data = tempfile::tempdir().expect("a temporary directory");
        let config = PlatformConfig {
            data_dir: data.path().to_owned(),
            world: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/world.toml").into()),
            ..PlatformConfig::default()
        };
        let platform = runtime
            .block_on(Platform::open(config))
            .expect("the platform opens");
        let mut harness = Self {
            router: platform.router(),
            _platform: platform,
            runtime,
            api_token: String::new(),
            dataverse_token: String::new(),
            _data: data,
        };
        harness.api_token = harness.token("https://api.powerplatform.com/.default");
        harness.dataverse_token = harness.token("https://contoso.crm.dynamics.com/.default");
        harness.check_tokens_are_accepted();
        harness
    }

    /// A fuzz run whose tokens were refused would test only the 401 path.
    fn check_tokens_are_accepted(&self) {
        let bearer = |token: &str| format!("Bearer {token}");
        let who_am_i = Request::get(format!("{DATAVERSE}/WhoAmI"))
            .header(header::AUTHORIZATION, bearer(&self.dataverse_token))
            .body(Body::empty())
            .expect("a request");
        let connections = Request::get("/connectivity/connections?api-version=1")
            .header(header::HOST, ENV_HOST)
            .header(header::AUTHORIZATION, bearer(&self.api_token))
            .body(Body::empty())
            .expect("a request");
        for request in [who_am_i, connections] {
            let (status, body) = self.call(request);
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        }
    }

    fn token(&self, scope: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={APP}&client_secret={SECRET}&scope={scope}"
        );
        let request = Request::post(format!("/{TENANT}/oauth2/v2.0/token"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .expect("a token request");
        let (status, body) = self.call(request);
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let reply: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        reply["access_token"].as_str().expect("a token").to_owned()
    }

    /// Sends `request` through the router and checks the answer.
    pub fn send(&self, request: Request<Body>) {
        self.answer(request);
    }

    /// As [`send`](Self::send), and returns the answer's body.
    pub fn answer(&self, request: Request<Body>) -> Vec<u8> {
        let shown = format!("{} {}", request.method(), request.uri());
        let (status, body) = self.call(request);
        assert!(
            !status.is_server_error(),
            "{shown} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    fn call(&self, mut request: Request<Body>) -> (StatusCode, Vec<u8>) {
        // A client on a socket always sends a Host (RFC 9112 3.2, which the
        // platform enforces); a request built here without one gets the
        // bare address's.
        if !request.headers().contains_key(header::HOST) {
            request
                .headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static("127.0.0.1"));
        }
        self.runtime.block_on(async {
            let response: Response<Body> = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = response.status();
            let json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body")
                .to_vec();
            if json && !body.is_empty() {
                serde_json::from_slice::<serde_json::Value>(&body)
                    .unwrap_or_else(|e| panic!("a JSON answer that is not JSON ({e}): {body:?}"));
            }
            (status, body)
        })
    }
}

/// `bytes` as a URI's query or path: what a URI may hold stays as it is
/// (so `$filter=`, `&` and `%XX` keep their meaning), the rest is
/// percent-encoded, so every input becomes a request hyper would pass on.
pub fn uri_part(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
        match allowed {
            true => out.push(b as char),
            false => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
