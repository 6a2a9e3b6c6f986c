//! Client assertions: a JWT signed with the private key of a certificate
//! registered for the app (RS256 with `x5t`, or PS256 with `x5t#S256`), whose
//! issuer is the app itself; a JWT from any other issuer is a federated
//! credential's (`federated.rs`).

use std::collections::HashSet;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::AadError;
use super::grant::TokenRequest;
use crate::auth::LEEWAY_SECS;
use crate::state::AppState;
use padconnect_domain::assertions;
use padconnect_domain::encoding::hex;
use padconnect_store::{App, AppCertificate, Timestamp};

pub fn invalid(message: impl Into<String>) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", 700027, message)
}

/// Times are NumericDates, which may have a fraction (MSAL for Python
/// writes `time.time() + 600`): read as floats, checked here.
#[derive(Deserialize)]
struct AssertionClaims {
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

async fn verify_certificate(
    state: &AppState,
    request: &TokenRequest,
    app: &App,
    jwt: &str,
) -> Result<(), AadError> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| invalid("Client assertion is not a well-formed JWT."))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(invalid(format!(
            "Client assertion algorithm {:?} is not supported: use RS256 or PS256.",
            header.alg
        )));
    }
    let certificates = state
        .store
        .app_certificates(app.tenant_id, app.client_id)
        .await?;
    let certificate = find_certificate(&certificates, header.x5t.as_deref(), header.x5t_s256.as_deref()).ok_or_else(|| {
        invalid(format!(
            "The certificate with identifier used to sign the client assertion is not registered on application '{}'.",
            app.client_id
        ))
    })?;
    let key = DecodingKey::from_rsa_pem(pem(&certificate.der).as_bytes())
        .map_err(|_| AadError::internal("a registered certificate holds no RSA key".into()))?;

    let client_id = app.client_id.to_string();
    let mut validation = Validation::new(header.alg);
    // Times are checked below: MSAL for Python writes them with fractions.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_audience(&accepted_audiences(request).into_iter().collect::<Vec<_>>());
    validation.set_issuer(&[&client_id]);
    validation.sub = Some(client_id.clone());
    validation.set_required_spec_claims(&["aud", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<AssertionClaims>(jwt, &key, &validation)
        .map_err(|e| invalid(rejection(e.kind(), &client_id)))?
        .claims;
    let exp = claims
        .exp
        .ok_or_else(|| invalid("Client assertion has no exp claim."))?;
    let now = Timestamp::now().unix_seconds() as f64;
    let leeway = LEEWAY_SECS as f64;
    if exp + leeway < now || claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
        return Err(invalid(
            "Client assertion is not within its valid time range.",
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

fn rejection(kind: &jsonwebtoken::errors::ErrorKind, client_id: &str) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        InvalidSignature => "Client assertion failed signature validation.".into(),
        InvalidAudience => "Client assertion audience is not this tenant's token endpoint.".into(),
        InvalidIssuer | InvalidSubject => {
            format!("Client assertion iss and sub must both be the client_id '{client_id}'.")
        }
        MissingRequiredClaim(claim) => format!("Client assertion has no {claim} claim."),
        InvalidClaimFormat(claim) => format!("Client assertion claim {claim} is malformed."),
        // Anything else is a JWT that does not verify.
        _ => "Client assertion failed signature validation.".into(),
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

/// The token endpoint as the client may have addressed it: this platform's
/// own URL or the cloud's, with the tenant by id, by domain or as the path
/// named it, v2 or v1.
fn accepted_audiences(request: &TokenRequest) -> HashSet<String> {
    let origin = &request.origin;
    let bases = [
        format!("{}://{}{}", origin.scheme, origin.authority, origin.prefix),
        "https://login.microsoftonline.com".to_owned(),
    ];
    let tenants = [
        request.tenant.id.to_string(),
        request.tenant.domain.clone(),
        request.tenant_segment.clone(),
    ];
    let mut audiences = HashSet::new();
    for base in &bases {
        for tenant in &tenants {
            audiences.insert(format!("{base}/{tenant}/oauth2/v2.0/token"));
            audiences.insert(format!("{base}/{tenant}/oauth2/token"));
            audiences.insert(format!("{base}/{tenant}/v2.0"));
        }
    }
    audiences
}
