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
//! AADSTS50166 when the issuer's keys cannot be read (#642),
//! AADSTS7000272 when they were read and none is the one the token's `kid`
//! names: "The certificate with identifier {kid} used to sign the federated
//! credential could not be found in the metadata of identity provider
//! {issuer}. ..." (Azure/azure-workload-identity#1232), and
//! AADSTS700024 for a token outside its valid time range. A header
//! parameter that is not a string (`"kid": 5`) is named (`assertion::read_header`).
//!
//! Lifetime: Entra takes an external token whose lifetime, `exp` - `iat`,
//! is at most a day and an hour, and answers anything longer with
//! AADSTS70023 "External OIDC Provider token must have a lifetime of less
//! than or equal to 1.01:00:00. Token issued at {iat}. Token expires on
//! {exp}." (MicrosoftDocs/azure-docs#86916, a 27-hour token refused;
//! Azure/azure-sdk-for-python#32124, a year-long one). A token without
//! `iat` counts from 0, so it is refused the same way ("Token issued at 0",
//! MicrosoftDocs/azure-docs#86915). The `error` was `invalid_request` in
//! 2022 and is `invalid_client` since 2023 (the two issues); the status,
//! 401, is a guess from `invalid_client`'s (no report shows it).
//!
//! Replay: not refused. Entra lets one federated token be exchanged again
//! while it lives, and Microsoft's own clients depend on it: the Azure SDK
//! for Go's `WorkloadIdentityCredential` reads the token file at most every
//! ten minutes and sends the same token with every token request meanwhile
//! (sdk/azidentity/workload_identity.go: "the token we just read is valid
//! for at least 12 minutes"); Kubernetes rotates a projected token only at
//! 80% of its lifetime (the `expirationSeconds` field's documentation); the
//! Azure CLI is given one GitHub Actions token for every resource a job asks
//! for, until it expires (Azure/login#180, AADSTS700024 once it has). So a
//! federated token carries no `jti` memory here, unlike a certificate's
//! assertion (`padconnect_domain::assertions`).
//!
//! The platform is an issuer too (`core::federation::PLATFORM_ISSUER`, `padconnect token
//! --federated`): its tokens are signed with the platform's signing keys and
//! checked against them here, without a fetch. They cannot pass as access
//! tokens: their issuer and audience are no API's.

use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey};
use padconnect_core::federation::PLATFORM_ISSUER;
use serde::{Deserialize, Serialize};

use super::AadError;
use super::assertion::{Audience, invalid, malformed, read_header};
use crate::auth::{check_times, untimed_validation};
use crate::oidc::OidcError;
use crate::signing::{SIGNING_GRACE_SECS, SigningError, SigningKeys};
use crate::state::AppState;
use padconnect_store::{App, FederatedCredential};

const DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    aud: Audience,
    /// NumericDates, read as floats as some issuers write them.
    iat: Option<f64>,
    exp: f64,
    nbf: Option<f64>,
}

/// The longest lifetime (`exp` - `iat`) Entra takes of an external token:
/// 1.01:00:00, a day and an hour (see the module's documentation).
const MAX_EXTERNAL_LIFETIME_SECS: f64 = 25.0 * 3600.0;

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
pub fn mint(
    signing: &SigningKeys,
    subject: &str,
    audience: &str,
    lifetime_secs: i64,
) -> Result<String, SigningError> {
    let now = signing.now().unix_seconds();
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
    let header = read_header(jwt)?;
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
    let mut validation = untimed_validation(header.alg);
    validation.validate_aud = false; // matched below against the credentials
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<ExternalClaims>(jwt, &key.decoding, &validation)
        .map_err(|e| rejection(e.kind()))?
        .claims;
    let now = state.store.now().unix_seconds() as f64;
    if check_times(claims.exp, claims.nbf, now).is_err() {
        return Err(out_of_time());
    }
    let issued_at = claims.iat.unwrap_or(0.0);
    if claims.exp - issued_at > MAX_EXTERNAL_LIFETIME_SECS {
        return Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            70023,
            format!(
                "External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00. Token issued at {}. Token expires on {}. Ask the issuer for a token that lives a day and an hour at most.",
                issued_at as i64, claims.exp as i64
            ),
        ));
    }
    if let (Some(signs_until), Some(iat)) = (key.signs_until, claims.iat)
        && iat as i64 > signs_until + SIGNING_GRACE_SECS
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
            let why = match kid {
                Some(_) => "the platform's signing keys hold no key with that kid",
                None => "the token names no kid",
            };
            unknown_key(issuer, kid, why)
        })?;
        return Ok(IssuerKey {
            decoding: key.decoding.clone(),
            signs_until: Some(key.signs_until),
        });
    }
    let unreachable = |e: OidcError| match e {
        OidcError::NoKey(why) => unknown_key(issuer, kid, &why),
        OidcError::Unreachable(why) => {
            tracing::warn!(issuer, error = %why, "a federated credential's issuer did not give its keys");
            AadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50166,
                "Request to External OIDC endpoint failed.",
            )
        }
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

/// AADSTS7000272: the issuer's keys were read and none is the token's
/// (Azure/azure-workload-identity#1232, `invalid_client`; the status is
/// `invalid_client`'s 401).
fn unknown_key(issuer: &str, kid: Option<&str>, why: &str) -> AadError {
    let kid: String = kid.unwrap_or_default().chars().take(64).collect();
    AadError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000272,
        format!(
            "The certificate with identifier {kid} used to sign the federated credential could not be found in the metadata of identity provider {issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token ({why}); a token names its key by the kid in its header."
        ),
    )
}

fn rejection(kind: &jsonwebtoken::errors::ErrorKind) -> AadError {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        Json(error) => malformed(format!(
            "JWT token is invalid or malformed. The client assertion's claims cannot be read: {error}."
        )),
        MissingRequiredClaim(claim) => {
            invalid(format!("The client assertion has no {claim} claim."))
        }
        _ => invalid("The client assertion failed signature validation."),
    }
}

fn out_of_time() -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range.",
    )
}

fn no_match(code: u32, message: String) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}
