//! The signing keys of external OpenID Connect issuers (GitHub Actions,
//! Azure DevOps, a Kubernetes cluster), which workload identity federation
//! trusts: the issuer's discovery document names its `jwks_uri`, whose JWKS
//! holds the keys (OpenID Connect Discovery 1.0, sections 4 and 3). Entra ID
//! reads them the same way; when it cannot, it answers AADSTS50166 "Request
//! to External OIDC endpoint failed" (Azure/azure-workload-identity#642).
//!
//! Only issuers a world file trusts are ever fetched, so the cache is small;
//! it is bounded anyway, and every fetch is bounded in time and size.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;

/// How long fetched keys are used before they are read again.
const KEYS_TTL: Duration = Duration::from_secs(10 * 60);
/// A key id missing from the cached set makes a new fetch at most this often
/// (the issuer may have rotated), so unknown kids cannot make us hammer it.
const MISS_REFETCH_AFTER: Duration = Duration::from_secs(30);
const MAX_ISSUERS: usize = 256;
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why an issuer's key could not be had; the text is for the log and the
/// error description (it names URLs, never a token).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The discovery document or the JWKS could not be read.
    #[error("{0}")]
    Unreachable(String),
    /// The keys were read, and none is the one the token names.
    #[error("{0}")]
    NoKey(String),
}

struct Cached {
    keys: Arc<JwkSet>,
    fetched: Instant,
}

/// Fetches and caches issuers' keys; cheap to share.
#[derive(Default)]
pub struct ExternalIssuers {
    /// Built on the first fetch: most platforms (and every embedded CLI
    /// session) never fetch, and a client loads the system's trust roots.
    http: OnceLock<reqwest::Client>,
    cache: Mutex<HashMap<String, Cached>>,
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    jwks_uri: String,
}

impl ExternalIssuers {
    /// The key of `issuer` that `kid` names (the only key when `kid` is
    /// absent and the set has one).
    pub async fn key(&self, issuer: &str, kid: Option<&str>) -> Result<Jwk, OidcError> {
        let cached = self.cached(issuer);
        if let Some((keys, fetched)) = &cached {
            let fresh = fetched.elapsed() < KEYS_TTL;
            match pick(keys, kid) {
                Some(key) if fresh => return Ok(key),
                None if fetched.elapsed() < MISS_REFETCH_AFTER => return Err(no_key(issuer, kid)),
                _ => {}
            }
        }
        let keys = self.fetch(issuer).await?;
        let key = pick(&keys, kid);
        self.remember(issuer, keys);
        key.ok_or_else(|| no_key(issuer, kid))
    }

    fn cached(&self, issuer: &str) -> Option<(Arc<JwkSet>, Instant)> {
        let cache = self.cache.lock();
        cache.get(issuer).map(|c| (c.keys.clone(), c.fetched))
    }

    fn remember(&self, issuer: &str, keys: Arc<JwkSet>) {
        let mut cache = self.cache.lock();
        if cache.len() >= MAX_ISSUERS && !cache.contains_key(issuer) {
            cache.clear();
        }
        let fetched = Instant::now();
        cache.insert(issuer.to_owned(), Cached { keys, fetched });
    }

    async fn fetch(&self, issuer: &str) -> Result<Arc<JwkSet>, OidcError> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document: DiscoveryDocument = self.get_json(&discovery_url, MAX_DOCUMENT_BYTES).await?;
        // Discovery 1.0 section 4.3: the document's issuer must be the one asked.
        if document.issuer != issuer {
            return Err(OidcError::Unreachable(format!(
                "{discovery_url} names the issuer '{}', not '{issuer}'",
                document.issuer
            )));
        }
        let keys: JwkSet = self.get_json(&document.jwks_uri, MAX_JWKS_BYTES).await?;
        Ok(Arc::new(keys))
    }

    /// The client, built on first use (an error only where TLS cannot start).
    fn http(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("padconnect-platform/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(self.http.get_or_init(|| client))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<T, OidcError> {
        let fail = |why: String| OidcError::Unreachable(format!("GET {url}: {why}"));
        let mut response = self
            .http()
            .map_err(|e| fail(format!("no HTTP client: {e}")))?
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(fail(format!("the answer is over {max_bytes} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| fail(format!("not the expected JSON: {e}")))
    }
}

fn pick(keys: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    }
}

fn no_key(issuer: &str, kid: Option<&str>) -> OidcError {
    match kid {
        Some(kid) => OidcError::NoKey(format!(
            "the keys of {issuer} hold no key with kid '{}'",
            kid.chars().take(64).collect::<String>().escape_debug()
        )),
        None => OidcError::NoKey(format!(
            "the token names no kid and the keys of {issuer} are not exactly one"
        )),
    }
}
