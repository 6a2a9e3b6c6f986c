//! Client assertions: a JWT signed with the private key of a certificate
//! registered for the app (RS256 with `x5t`, or PS256 with `x5t#S256`), whose
//! issuer is the app itself; a JWT from any other issuer is a federated
//! credential's (`federated.rs`).
//!
//! What is checked, as Entra checks it, and where each rule comes from:
//!
//! - **Header.** The parameters RFC 7515 (section 4.1) makes strings must be
//!   strings: a `"kid": 5` is named, with AADSTS50027 "JWT token is invalid
//!   or malformed", the words Entra answers a client assertion it cannot
//!   read with (panva/openid-client#348), not called "not a well-formed JWT".
//! - **Which certificate.** `x5t` (SHA-1) or `x5t#S256` (SHA-256) names it
//!   (learn.microsoft.com/entra/identity-platform/certificate-credentials);
//!   `kid` does not. A header with neither gets Entra's AADSTS50027 "Invalid
//!   JWT token. No certificate thumbprint specified in token header."
//!   (AzureAD/microsoft-authentication-library-for-dotnet#124); a thumbprint
//!   of no registered certificate gets AADSTS700027 "The certificate with
//!   identifier used to sign the client assertion is not registered on
//!   application. [Reason - The key was not found., Thumbprint of key used
//!   by client: '...'" (AzureAD/microsoft-authentication-library-for-js#8339).
//! - **Audience.** The token endpoint the assertion is for
//!   (`https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token` on the
//!   certificate credentials page; MSAL.NET's samples write `.../{tenant}/v2.0`).
//!   Here it is this platform's own endpoint: at the local address of the
//!   connection the request came in on (under every name the platform serves
//!   there: the address, `localhost` and `login.localhost` on a loopback
//!   address, the clouds' login names), at `--public-url`, or at a cloud's
//!   login name as transparent mode serves it (https, port 443). Never the
//!   `Host` the request claims: an assertion made for another instance is
//!   refused even when sent with that instance's `Host` (issue 33). Entra's
//!   answer is AADSTS700023 "Client assertion audience claim does not match
//!   Realm issuer." (AzureAD/microsoft-authentication-library-for-dotnet#2746).
//! - **Lifetime.** Not limited: "Microsoft Entra ID doesn't place
//!   restrictions on the `exp` time currently" (certificate-credentials,
//!   the `exp` claim), so a ten-year assertion is taken, as Entra takes it.
//!   Outside its time range it gets AADSTS700024 "Client assertion is not
//!   within its valid time range. Current time: ..., assertion valid from
//!   ..., expiry time of assertion ...." (AzureAD/microsoft-authentication-library-for-java#984,
//!   AzureAD/microsoft-authentication-library-for-dotnet#4951).
//! - **Replay.** A `jti` is good once (`padconnect_domain::assertions`).

use std::collections::HashSet;
use std::net::SocketAddr;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use padconnect_core::Cloud;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AadError;
use super::grant::{Endpoint, TokenRequest};
use crate::auth::{LEEWAY_SECS, check_times, untimed_validation};
use crate::state::AppState;
use padconnect_domain::assertions;
use padconnect_domain::encoding::hex;
use padconnect_store::{App, AppCertificate, Timestamp};

const CERTIFICATE_DOCS: &str =
    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials";

pub fn invalid(message: impl Into<String>) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", 700027, message)
}

/// AADSTS50027 (InvalidJwtToken: "token format isn't proper", Entra's
/// error code reference): a client assertion that cannot be read as one.
pub fn malformed(message: impl Into<String>) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", 50027, message)
}

/// `aud` is a string or an array of strings (RFC 7519 section 4.1.3).
#[derive(Deserialize, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn values(&self) -> &[String] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

/// Times are NumericDates, which may have a fraction (MSAL for Python
/// writes `time.time() + 600`): read as floats, checked here.
#[derive(Deserialize)]
struct AssertionClaims {
    aud: Audience,
    exp: Option<f64>,
    nbf: Option<f64>,
    jti: Option<String>,
}

/// Verifies the assertion and records its `jti`, so it is used once.
pub async fn verify(
    state: &AppState,
    request: &TokenRequest,
    app: &App,
    jwt: &str,
) -> Result<(), AadError> {
    let client_id = app.client_id.to_string();
    match unverified_issuer(jwt) {
        Some(issuer) if !issuer.eq_ignore_ascii_case(&client_id) => {
            super::federated::verify(state, app, jwt, &issuer).await
        }
        _ => verify_certificate(state, request, app, jwt).await,
    }
}

/// The `iss` claim before any check, to tell whose assertion this is.
fn unverified_issuer(jwt: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: String,
    }
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Issuer>(&bytes).ok().map(|c| c.iss)
}

/// The header parameters RFC 7515 (section 4.1) and RFC 7519 (section 5)
/// make strings.
const STRING_PARAMETERS: [&str; 8] = ["alg", "kid", "typ", "cty", "x5t", "x5t#S256", "jku", "x5u"];

/// The JOSE header of a client assertion of either kind, or an answer that
/// names what is wrong with it (a parameter that is not a string, an
/// algorithm no one knows) rather than calling the whole JWT malformed.
pub fn read_header(jwt: &str) -> Result<Header, AadError> {
    let mut parts = jwt.split('.');
    let fields = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(_), Some(_), None) => URL_SAFE_NO_PAD
            .decode(header.trim_end_matches('='))
            .ok()
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).ok()
            }),
        _ => None,
    };
    let Some(fields) = fields else {
        return Err(malformed(
            "JWT token is invalid or malformed. The client assertion must be three base64url parts, header.payload.signature, whose header is a JSON object.",
        ));
    };
    for name in STRING_PARAMETERS {
        if let Some(value) = fields.get(name).filter(|v| !v.is_string()) {
            return Err(malformed(format!(
                "JWT token is invalid or malformed. The client assertion's header parameter '{name}' is {}, not a string: RFC 7515 section 4.1 makes it a case-sensitive string. Write it as a JSON string, or leave it out.",
                shortened(&value.to_string())
            )));
        }
    }
    match fields.get("alg").and_then(Value::as_str) {
        None => {
            return Err(malformed(
                "JWT token is invalid or malformed. The client assertion's header has no 'alg': name the algorithm it is signed with (RS256 or PS256 for a certificate).",
            ));
        }
        Some(alg) if alg.parse::<Algorithm>().is_err() => {
            return Err(invalid(format!(
                "Client assertion algorithm '{}' is not supported: a certificate's assertion is signed with RS256 or PS256, an external issuer's token with RS256, PS256 or ES256.",
                shortened(alg)
            )));
        }
        Some(_) => {}
    }
    jsonwebtoken::decode_header(jwt).map_err(|e| {
        malformed(format!(
            "JWT token is invalid or malformed. The client assertion's header cannot be read: {e}."
        ))
    })
}

/// A value quoted in an answer, cut to a length a message can carry.
fn shortened(text: &str) -> String {
    cut_to(text, 64)
}

/// `text`, cut to `max` characters.
fn cut_to(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    match cut.len() < text.len() {
        true => format!("{cut}..."),
        false => cut,
    }
}

async fn verify_certificate(
    state: &AppState,
    request: &TokenRequest,
    app: &App,
    jwt: &str,
) -> Result<(), AadError> {
    let header = read_header(jwt)?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(invalid(format!(
            "Client assertion algorithm {:?} is not supported: use RS256 or PS256.",
            header.alg
        )));
    }
    if header.x5t.is_none() && header.x5t_s256.is_none() {
        let kid = match &header.kid {
            Some(kid) => format!(
                " The header has kid '{}', but a certificate is found by its thumbprint, never by kid.",
                shortened(kid)
            ),
            None => String::new(),
        };
        return Err(malformed(format!(
            "Invalid JWT token. No certificate thumbprint specified in token header.{kid} Name the certificate by its base64url thumbprint: x5t (SHA-1, with RS256) or x5t#S256 (SHA-256, with PS256). {CERTIFICATE_DOCS}"
        )));
    }
    let certificates = state
        .store
        .app_certificates(app.tenant_id, app.client_id)
        .await?;
    let certificate = find_certificate(&certificates, header.x5t.as_deref(), header.x5t_s256.as_deref()).ok_or_else(|| {
        invalid(format!(
            "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please see the certificates registered for app Id '{}' (the world file's certificates).]",
            thumbprint_hex(&header),
            app.client_id
        ))
    })?;
    let key = DecodingKey::from_rsa_pem(pem(&certificate.der).as_bytes())
        .map_err(|_| AadError::internal("a registered certificate holds no RSA key".into()))?;

    let client_id = app.client_id.to_string();
    let mut validation = untimed_validation(header.alg);
    // The audience is checked below, against the platform's own endpoints.
    validation.validate_aud = false;
    validation.set_issuer(&[&client_id]);
    validation.sub = Some(client_id.clone());
    validation.set_required_spec_claims(&["aud", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<AssertionClaims>(jwt, &key, &validation)
        .map_err(|e| rejection(e.kind(), &client_id))?
        .claims;
    check_audience(state, request, &claims.aud)?;
    let exp = claims
        .exp
        .ok_or_else(|| invalid("Client assertion has no exp claim."))?;
    let now = state.store.now().unix_seconds() as f64;
    if check_times(exp, claims.nbf, now).is_err() {
        return Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at {CERTIFICATE_DOCS} .",
                entra_time(now),
                entra_time(claims.nbf.unwrap_or(0.0)),
                entra_time(exp)
            ),
        ));
    }

    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("Client assertion has no jti claim."))?;
    let expires = Timestamp((exp * 1_000_000.0) as i64).plus_seconds(LEEWAY_SECS as i64);
    if !assertions::first_use(&state.store, &client_id, &jti, expires).await? {
        return Err(invalid(format!(
            "Client assertion with jti '{jti}' was already used: send a new assertion each time."
        )));
    }
    Ok(())
}

fn rejection(kind: &jsonwebtoken::errors::ErrorKind, client_id: &str) -> AadError {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        InvalidSignature => invalid("Client assertion failed signature validation."),
        InvalidIssuer | InvalidSubject => invalid(format!(
            "Client assertion iss and sub must both be the client_id '{client_id}'."
        )),
        MissingRequiredClaim(claim) => invalid(format!("Client assertion has no {claim} claim.")),
        InvalidClaimFormat(claim) => {
            invalid(format!("Client assertion claim {claim} is malformed."))
        }
        // The signature held, but the claims are not what a client
        // assertion's are (`"exp": "soon"`): say so, not "signature".
        Json(error) => malformed(format!(
            "JWT token is invalid or malformed. The client assertion's claims cannot be read: {error}."
        )),
        // Anything else is a JWT that does not verify.
        _ => invalid("Client assertion failed signature validation."),
    }
}

/// The thumbprint a header names, in hex as Entra quotes it.
fn thumbprint_hex(header: &Header) -> String {
    let named = header.x5t.as_deref().or(header.x5t_s256.as_deref());
    match named.and_then(decode_thumbprint) {
        Some(bytes) => hex(&bytes).to_ascii_uppercase(),
        None => shortened(named.unwrap_or_default()),
    }
}

/// A NumericDate as Entra writes times in its messages: .NET's round-trip
/// format, `2024-10-02T22:05:03.6755165Z`.
fn entra_time(seconds: f64) -> String {
    let nanos = (seconds * 1e9) as i128;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 100
        ),
        Err(_) => seconds.to_string(),
    }
}

/// The registered certificate a header's thumbprint names. Thumbprints come
/// in standard or URL-safe base64, padded or not (the SDKs differ).
fn find_certificate<'a>(
    certs: &'a [AppCertificate],
    x5t: Option<&str>,
    x5t_s256: Option<&str>,
) -> Option<&'a AppCertificate> {
    let sha1 = x5t.and_then(decode_thumbprint).map(|b| hex(&b));
    let sha256 = x5t_s256.and_then(decode_thumbprint).map(|b| hex(&b));
    certs.iter().find(|c| {
        sha1.as_deref() == Some(c.thumbprint_sha1.as_str())
            || sha256.as_deref() == Some(c.thumbprint_sha256.as_str())
    })
}

fn decode_thumbprint(text: &str) -> Option<Vec<u8>> {
    [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    // Base64 is ASCII, so every 64-byte chunk is a whole string.
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Refuses an `aud` that is not one of this platform's token endpoints.
fn check_audience(
    state: &AppState,
    request: &TokenRequest,
    aud: &Audience,
) -> Result<(), AadError> {
    let accepted = accepted_audiences(state, request);
    let values = aud.values();
    if values
        .iter()
        .filter_map(|value| normalized(value))
        .any(|value| accepted.contains(&value))
    {
        return Ok(());
    }
    let path = match request.endpoint {
        Endpoint::V2 => "oauth2/v2.0/token",
        Endpoint::V1 => "oauth2/token",
    };
    let example = endpoint_bases(state, request.served, request.origin.scheme)
        .into_iter()
        .next()
        .map(|base| format!("{base}/{}/{path}", request.tenant_segment))
        .unwrap_or_default();
    Err(AadError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700023,
        format!(
            "Client assertion audience claim does not match Realm issuer. The assertion's audience is '{}'; make it this platform's token endpoint, such as '{example}': an assertion made for another address or instance is not accepted here. Review the documentation at {CERTIFICATE_DOCS} .",
            cut_to(&values.join(","), 600)
        ),
    ))
}

/// The token endpoint as the client may have addressed this platform
/// (normalized: see [`normalized`]), with the tenant by id, by domain or as
/// the path named it, v2 or v1, or the v2 issuer MSAL.NET's samples use.
fn accepted_audiences(state: &AppState, request: &TokenRequest) -> HashSet<String> {
    let tenants = [
        request.tenant.id.to_string(),
        request.tenant.domain.clone(),
        request.tenant_segment.clone(),
    ];
    let mut audiences = HashSet::new();
    for base in endpoint_bases(state, request.served, request.origin.scheme) {
        for tenant in &tenants {
            for path in ["oauth2/v2.0/token", "oauth2/token", "v2.0"] {
                audiences.extend(normalized(&format!("{base}/{tenant}/{path}")));
            }
        }
    }
    audiences
}

/// The bases (scheme, host, port) this platform's token endpoints have:
/// the address the request came in on first, under each name the platform
/// serves there; then `--public-url`; then the clouds' login names as
/// transparent mode serves them. The list is the platform's own, never
/// the request's `Host`.
fn endpoint_bases(state: &AppState, served: Option<SocketAddr>, scheme: &str) -> Vec<String> {
    let mut bases = Vec::new();
    if let Some(served) = served {
        let ip = served.ip().to_canonical();
        let port = served.port();
        let mut hosts = vec![match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        }];
        // `localhost` is this machine only to a client on it.
        if ip.is_loopback() {
            hosts.extend(["localhost".to_owned(), "login.localhost".to_owned()]);
        }
        // The cloud's login names, pointed here by a hosts file or DNS.
        hosts.extend(login_hosts().map(str::to_owned));
        bases.extend(hosts.iter().map(|host| format!("{scheme}://{host}:{port}")));
    }
    if let Some(public) = state.config.public_url.as_deref() {
        bases.push(public.trim_end_matches('/').to_owned());
    }
    // Transparent mode: CONNECT login.microsoftonline.com:443 (and every
    // other cloud's, and login.localhost's) ends in this platform.
    bases.extend(
        login_hosts()
            .chain(["login.localhost"])
            .map(|host| format!("https://{host}")),
    );
    bases
}

/// Every cloud's Entra ID host, once each.
fn login_hosts() -> impl Iterator<Item = &'static str> {
    let mut hosts: Vec<&'static str> = Cloud::ALL.iter().map(|c| c.hosts().login).collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts.into_iter()
}

/// An absolute http(s) URL as the audiences are compared: scheme and host
/// lower case, a default port dropped, the path without a trailing slash,
/// all lower case (tenant domains and GUIDs are case-insensitive); `None`
/// for anything else (a query or fragment included).
fn normalized(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    Some(format!("{origin}{}", url.path().trim_end_matches('/')).to_ascii_lowercase())
}
