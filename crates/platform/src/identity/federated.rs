//! Workload identity federation: a JWT from an external issuer, sent as the
//! `client_assertion`, signs an app in when one of the app's federated
//! identity credentials names the token's issuer and subject and one of its
//! audiences (learn.microsoft.com/entra/workload-id/workload-identity-federation;
//! Microsoft Graph `federatedIdentityCredential`). Matching is exact and
//! case-sensitive, as Entra's has been since 2025 (Azure/login#517, citing
//! Entra's breaking-changes page).
//!
//! The errors are Entra's own, as pipelines print them:
//! AADSTS700211 for an issuer no credential names (Azure/azure-workload-identity#1200),
//! AADSTS700213 for a subject (the same issue; Azure/login#482),
//! AADSTS70021 naming issuer, subject and audience (Azure/azure-workload-identity#616),
//! AADSTS50166 when the issuer's keys cannot be read (#642), and
//! AADSTS700024 for a token outside its valid time range.
//!
//! The platform is an issuer too (`core::federation::PLATFORM_ISSUER`, `padconnect token
//! --federated`): its tokens are signed with the platform's signing keys and
//! checked against them here, without a fetch. They cannot pass as access
//! tokens: their issuer and audience are no API's.

use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use padconnect_core::federation::PLATFORM_ISSUER;
use serde::{Deserialize, Serialize};

use super::AadError;
use super::assertion::invalid;
use crate::auth::LEEWAY_SECS;
use crate::signing::{SIGNING_GRACE_SECS, SigningKeys};
use crate::state::AppState;
use padconnect_store::{App, FederatedCredential, Timestamp};

const DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/// `aud` is a string or an array of strings (RFC 7519 section 4.1.3).
#[derive(Deserialize, Serialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn values(&self) -> &[String] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    aud: Audience,
    iat: Option<i64>,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
}

/// A token from the platform's own issuer, as a CI system's OIDC provider
/// hands one to a job.
pub fn mint(signing: &SigningKeys, subject: &str, audience: &str, lifetime_secs: i64) -> String {
    let now = Timestamp::now().unix_seconds();
    signing.sign(&IssuedClaims {
        iss: PLATFORM_ISSUER,
        sub: subject,
        aud: audience,
        iat: now,
        nbf: now,
        exp: now + lifetime_secs,
        jti: uuid::Uuid::new_v4().to_string(),
    })
}

/// Verifies a federated assertion whose (unverified) issuer is `issuer`.
pub async fn verify(state: &AppState, app: &App, jwt: &str, issuer: &str) -> Result<(), AadError> {
    let credentials = state
        .store
        .app_federated_credentials(app.tenant_id, app.client_id)
        .await?;
    let trusted: Vec<&FederatedCredential> =
        credentials.iter().filter(|c| c.issuer == issuer).collect();
    if trusted.is_empty() {
        return Err(no_match(
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}"
            ),
        ));
    }
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| invalid("The client assertion is not a well-formed JWT."))?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(invalid(format!(
            "The client assertion is signed with {:?}; an issuer's token must use RS256, PS256 or ES256.",
            header.alg
        )));
    }
    let key = issuer_key(state, issuer, header.kid.as_deref()).await?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.validate_aud = false; // matched below against the credentials
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<ExternalClaims>(jwt, &key.decoding, &validation)
        .map_err(|e| rejection(e.kind()))?
        .claims;
    if let (Some(signs_until), Some(iat)) = (key.signs_until, claims.iat)
        && iat > signs_until + SIGNING_GRACE_SECS
    {
        return Err(invalid(
            "The client assertion was signed by a retired key of the platform's issuer.",
        ));
    }
    let subject_matches: Vec<_> = trusted.iter().filter(|c| c.subject == claims.sub).collect();
    if subject_matches.is_empty() {
        return Err(no_match(
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}",
                claims.sub
            ),
        ));
    }
    let audiences = claims.aud.values();
    if !subject_matches
        .iter()
        .any(|c| c.audiences.iter().any(|a| audiences.contains(a)))
    {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{}'. Assertion Audience: '{}'. {DOCS}",
                claims.sub,
                audiences.join(",")
            ),
        ));
    }
    Ok(())
}

struct IssuerKey {
    decoding: DecodingKey,
    /// For the platform's own keys: when the key stopped signing.
    signs_until: Option<i64>,
}

async fn issuer_key(
    state: &AppState,
    issuer: &str,
    kid: Option<&str>,
) -> Result<IssuerKey, AadError> {
    if issuer == PLATFORM_ISSUER {
        let key = match kid {
            Some(kid) => state.signing.find(kid).await,
            None => None,
        };
        let key = key.ok_or_else(|| {
            invalid(
                "The client assertion's kid names none of the platform issuer's published keys.",
            )
        })?;
        return Ok(IssuerKey {
            decoding: key.decoding.clone(),
            signs_until: Some(key.signs_until),
        });
    }
    let unreachable = |e: crate::oidc::OidcError| {
        tracing::warn!(issuer, error = %e, "a federated credential's issuer did not give its keys");
        AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50166,
            "Request to External OIDC endpoint failed.",
        )
    };
    let jwk = state.issuers.key(issuer, kid).await.map_err(unreachable)?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| {
        invalid("The issuer's key for this client assertion is not a usable signing key.")
    })?;
    Ok(IssuerKey {
        decoding,
        signs_until: None,
    })
}

fn rejection(kind: &jsonwebtoken::errors::ErrorKind) -> AadError {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        ExpiredSignature | ImmatureSignature => AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ),
        MissingRequiredClaim(claim) => {
            invalid(format!("The client assertion has no {claim} claim."))
        }
        _ => invalid("The client assertion failed signature validation."),
    }
}

fn no_match(code: u32, message: String) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}
