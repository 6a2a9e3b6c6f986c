//! Bearer-token verification, shared by every API surface.
//!
//! A token is accepted when it is an RS256 JWT signed by a published key
//! (`kid`), within `nbf`/`exp` give or take five minutes, issued by
//! `https://sts.windows.net/{tid}/` for a tenant the platform knows (with a
//! matching `tid`), and addressed to the calling API. Anything else is
//! refused with a precise reason, which each surface renders as a 401 in its
//! own format with a `WWW-Authenticate: Bearer` challenge.

use std::collections::HashSet;

use axum::http::{HeaderMap, header};
use jsonwebtoken::{Algorithm, Validation};
use padconnect_core::{Surface, classify_host};
use uuid::Uuid;

pub use crate::claims::AccessClaims;
use crate::signing::{MAX_TOKEN_LIFETIME_SECS, SIGNING_GRACE_SECS};
use crate::state::Verifier;
use padconnect_domain::admins::{self, Principal};

/// The Power Platform API's audience, in every token for it.
pub const POWER_PLATFORM_AUDIENCE: &str = "https://api.powerplatform.com";
/// The Power Platform API's first-party app id, also accepted as a resource.
pub const POWER_PLATFORM_APP_ID: &str = "8578e004-a5c6-46e7-913e-12f58912df43";
/// Clock skew tolerated on `nbf` and `exp`.
pub const LEEWAY_SECS: u64 = 300;
/// Lifetime of the tokens issued, as Entra's client-credentials samples show.
pub const TOKEN_LIFETIME_SECS: i64 = 3_599;

/// jsonwebtoken's checks for `alg`, without its time checks: it reads the
/// system's time, and every token's times are checked by [`check_times`]
/// on the platform's clock.
pub fn untimed_validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation
}

/// Whether a token valid from `nbf` until `exp` holds at `now` (Unix
/// seconds, on the platform's clock), allowing clocks [`LEEWAY_SECS`]
/// apart: the one time rule of every token the platform takes (its own,
/// client assertions, federated ones) and of its kept verifications.
/// Floats, as some issuers (MSAL for Python) write fractions.
pub fn check_times(exp: f64, nbf: Option<f64>, now: f64) -> Result<(), AuthFailure> {
    let leeway = LEEWAY_SECS as f64;
    if now > exp + leeway {
        return Err(AuthFailure::Expired);
    }
    if nbf.is_some_and(|nbf| now < nbf - leeway) {
        return Err(AuthFailure::NotYetValid);
    }
    Ok(())
}

/// What every issuer of the platform's tokens starts with.
const ISSUER_PREFIX: &str = "https://sts.windows.net/";

/// `https://sts.windows.net/{tid}/`.
pub fn issuer(tenant: Uuid) -> String {
    format!("{ISSUER_PREFIX}{tenant}/")
}

/// Whether `iss` is [`issuer`]`(tenant)`, read without building it (this
/// runs on every request).
fn is_issuer(iss: &str, tenant: Uuid) -> bool {
    iss.strip_prefix(ISSUER_PREFIX)
        .and_then(|rest| rest.strip_suffix('/'))
        .is_some_and(|id| id == tenant.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
}

/// Who is calling, once the token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: Uuid,
    /// The service principal's or the user's object id.
    pub object_id: Uuid,
    /// The client app the token was issued to.
    pub app_id: Uuid,
    pub kind: CallerKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    ServicePrincipal,
    User { upn: String, name: String },
}

impl Caller {
    /// Who stands for the caller in an environment's Dataverse: its
    /// application user, or the person's systemuser.
    pub fn system_user_kind(&self) -> padconnect_store::SystemUserKind {
        match self.kind {
            CallerKind::ServicePrincipal => padconnect_store::SystemUserKind::Application {
                client_id: self.app_id,
            },
            CallerKind::User { .. } => padconnect_store::SystemUserKind::Person {
                object_id: self.object_id,
            },
        }
    }
}

/// The API a token must be addressed to.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    PowerPlatform,
    /// One org's Dataverse: `https://{org}.crm.dynamics.com`, or a platform
    /// URL that names the org (`https://localhost:8443/orgs/{org}`).
    /// `resource` is the org's URL as the request named it (a regional
    /// `https://{org}.crm4.dynamics.com/`, say), which a challenge names.
    Dataverse {
        org: &'a str,
        resource: &'a str,
    },
    /// Azure Resource Manager, by any of its resource URIs.
    Arm,
    /// The BAP admin API, by any cloud's PowerApps service resource.
    Bap,
}

/// Whether `resource` (no trailing slash) is a cloud's BAP resource.
/// Any cloud's Power Platform API resource (`https://api.powerplatform.com`,
/// `https://api.gov.powerplatform.microsoft.us`, ...): the hosts of
/// Microsoft's `PowerPlatformApiDiscovery` and the Terraform provider's
/// `*_POWERPLATFORM_API_SCOPE` constants.
pub fn is_power_platform_resource(resource: &str) -> bool {
    padconnect_core::Cloud::ALL
        .into_iter()
        .any(|cloud| cloud.api_resource() == resource)
}

pub fn is_bap_resource(resource: &str) -> bool {
    padconnect_core::Cloud::ALL
        .into_iter()
        .any(|cloud| cloud.hosts().bap_resource == resource)
}

impl Audience<'_> {
    fn accepts(&self, aud: &str) -> bool {
        match self {
            Self::PowerPlatform => is_power_platform_resource(aud.trim_end_matches('/')),
            Self::Dataverse { org, .. } => {
                dataverse_org_of(aud).is_some_and(|o| o.eq_ignore_ascii_case(org))
            }
            Self::Arm => padconnect_core::host::is_arm_audience(aud),
            Self::Bap => is_bap_resource(aud.trim_end_matches('/')),
        }
    }

    /// What a challenge names as the resource.
    pub fn resource(&self) -> String {
        match self {
            Self::PowerPlatform => POWER_PLATFORM_AUDIENCE.to_owned(),
            Self::Dataverse { resource, .. } => (*resource).to_owned(),
            // The public cloud's classic audience, which the Azure CLI asks for.
            Self::Arm => format!("{}/", padconnect_core::host::ARM_CLOUDS[0].audiences[0]),
            Self::Bap => format!("{}/", padconnect_core::Cloud::Public.hosts().bap_resource),
        }
    }
}

/// The org a Dataverse resource URL names: by its host
/// (`contoso.crm.dynamics.com`, `contoso.crm.localhost`) or by a path-style
/// `/orgs/{org}` on any host.
pub fn dataverse_org_of(resource: &str) -> Option<String> {
    let uri: http::Uri = resource.trim_end_matches('/').parse().ok()?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return None;
    }
    let authority = uri.authority()?.as_str();
    if let Some(Surface::Dataverse(org)) = classify_host(authority) {
        return (uri.path().trim_matches('/').is_empty()).then_some(org);
    }
    let org = uri.path().strip_prefix("/orgs/")?;
    padconnect_core::host::is_org_name(org).then(|| org.to_ascii_lowercase())
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("No bearer token: send 'Authorization: Bearer <access token>'.")]
    MissingToken,
    #[error("The bearer token is not a well-formed JWT.")]
    Malformed,
    #[error("The token's algorithm '{0}' is not accepted: tokens are signed with RS256.")]
    UnsupportedAlgorithm(String),
    #[error("The token was signed by a key ('{0}') that this platform does not publish.")]
    UnknownKey(String),
    #[error("The token's signature is invalid.")]
    BadSignature,
    #[error("The token was issued after its signing key ('{0}') was retired: get a new token.")]
    KeyRetired(String),
    #[error(
        "The token claims to live longer than any token this platform issues: get a new token."
    )]
    TooLongLived,
    #[error("The token is expired.")]
    Expired,
    #[error("The token is not valid yet (nbf is in the future).")]
    NotYetValid,
    #[error("The token's issuer '{0}' is not a tenant of this platform.")]
    WrongIssuer(String),
    #[error(
        "The token's audience '{got}' is not this API's; ask for a token with scope {want}/.default."
    )]
    WrongAudience { got: String, want: String },
}

impl AuthFailure {
    /// The OAuth `error` of the challenge (RFC 6750).
    pub fn challenge(&self, audience: &Audience<'_>) -> String {
        let resource = audience.resource();
        match self {
            Self::MissingToken => format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", resource_id=\"{resource}\""
            ),
            other => format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", resource_id=\"{resource}\", error=\"invalid_token\", error_description=\"{}\"",
                quoted_description(&other.to_string())
            ),
        }
    }
}

/// An `error_description` as RFC 6750 (3) allows it inside quotes:
/// printable ASCII without `"` and `\`. The description may repeat what a
/// token said (its `alg`, its `kid`), so anything else becomes `?`, and the
/// challenge header can always be built (a 500 before, found by fuzzing).
fn quoted_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            ' ' => ' ',
            c if c.is_ascii_graphic() && c != '\\' => c,
            _ => '?',
        })
        .collect()
}

/// Whether the caller is one of its tenant's Power Platform administrators.
pub async fn is_admin(
    store: &padconnect_store::Store,
    caller: &Caller,
) -> Result<bool, padconnect_store::StoreError> {
    let principal = match &caller.kind {
        CallerKind::ServicePrincipal => Principal::App(caller.app_id),
        CallerKind::User { upn, .. } => Principal::Person(upn),
    };
    admins::is_admin(store, caller.tenant_id, principal).await
}

/// Verifies the `Authorization` header's bearer token for `audience`.
pub async fn verify_bearer(
    state: &Verifier,
    headers: &HeaderMap,
    audience: Audience<'_>,
) -> Result<Caller, AuthFailure> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthFailure::MissingToken)?;
    let claims = verify_token(state, token).await?;
    if !audience.accepts(&claims.aud) {
        return Err(AuthFailure::WrongAudience {
            got: claims.aud.clone(),
            want: audience.resource().trim_end_matches('/').to_owned(),
        });
    }
    if !is_issuer(&claims.iss, claims.tid)
        || state
            .directory
            .tenant(&state.store, &claims.tid.to_string(), Some(claims.tid))
            .await
            .ok()
            .flatten()
            .is_none()
    {
        return Err(AuthFailure::WrongIssuer(claims.iss.clone()));
    }
    let kind = match claims.idtyp.as_str() {
        "app" => CallerKind::ServicePrincipal,
        _ => CallerKind::User {
            upn: claims.upn.clone().unwrap_or_default(),
            name: claims.name.clone().unwrap_or_default(),
        },
    };
    Ok(Caller {
        tenant_id: claims.tid,
        object_id: claims.oid,
        app_id: claims.appid,
        kind,
    })
}

/// Signature, algorithm and time checks.
async fn verify_token(
    state: &Verifier,
    token: &str,
) -> Result<std::sync::Arc<AccessClaims>, AuthFailure> {
    let now = state.store.now().unix_seconds();
    // A kept verification holds only while its key is still published (a
    // revoked key's tokens fail as soon as this replica knows of it).
    if let Some((claims, kid)) = state.verified.get(token, now)
        && state.signing.is_published(&kid)
    {
        return Ok(claims);
    }
    let (claims, kid) = verify_signed(state, token, now).await?;
    let claims = std::sync::Arc::new(claims);
    state.verified.insert(token, claims.clone(), kid);
    Ok(claims)
}

/// Checks the signature, algorithm, key and times of a token; returns its
/// claims and the `kid` that signed it.
async fn verify_signed(
    state: &Verifier,
    token: &str,
    now: i64,
) -> Result<(AccessClaims, String), AuthFailure> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::Json(_) if raw_alg(token).is_some() => {
            AuthFailure::UnsupportedAlgorithm(shown_header_value(
                &raw_alg(token).unwrap_or_default(),
            ))
        }
        _ => AuthFailure::Malformed,
    })?;
    if header.alg != Algorithm::RS256 {
        return Err(AuthFailure::UnsupportedAlgorithm(format!(
            "{:?}",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| AuthFailure::UnknownKey(String::new()))?;
    let key = state
        .signing
        .find(&kid)
        .await
        .ok_or_else(|| AuthFailure::UnknownKey(shown_header_value(&kid)))?;
    let mut validation = untimed_validation(Algorithm::RS256);
    validation.validate_aud = false; // each API checks its own audience
    validation.required_spec_claims =
        HashSet::from(["exp".into(), "nbf".into(), "iss".into(), "aud".into()]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthFailure::BadSignature,
            _ => AuthFailure::Malformed,
        })?;
    check_times(claims.exp as f64, Some(claims.nbf as f64), now as f64)?;
    // A retired key signs nothing new: its tokens are those issued before it
    // retired (another replica may sign a little longer, SIGNING_GRACE_SECS),
    // and none outlives the platform's own lifetime, so even a leaked key's
    // forgeries end within a token lifetime of a rotation.
    if claims.iat > key.signs_until + SIGNING_GRACE_SECS {
        return Err(AuthFailure::KeyRetired(key.kid.clone()));
    }
    if claims.exp.saturating_sub(claims.iat) > MAX_TOKEN_LIFETIME_SECS {
        return Err(AuthFailure::TooLongLived);
    }
    Ok((claims, kid))
}

/// A token header's `kid` or `alg` as an error may repeat it: printable
/// ASCII, at most 64 characters.
fn shown_header_value(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .take(64)
        .collect()
}

/// The `alg` of a header that jsonwebtoken does not model (`none`), to name it.
fn raw_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value["alg"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_times_hold_within_five_minutes_of_skew() {
        let (nbf, exp) = (1_000.0, 4_600.0);
        for (now, expected) in [
            (2_000.0, Ok(())),
            (exp + 300.0, Ok(())),
            (exp + 300.5, Err(AuthFailure::Expired)),
            (nbf - 300.0, Ok(())),
            (nbf - 300.5, Err(AuthFailure::NotYetValid)),
        ] {
            assert_eq!(check_times(exp, Some(nbf), now), expected, "at {now}");
        }
        assert_eq!(
            check_times(exp, None, 0.0),
            Ok(()),
            "no nbf: valid from the start"
        );
    }

    #[test]
    fn dataverse_resources_name_their_org() {
        for (resource, org) in [
            ("https://contoso.crm.dynamics.com", Some("contoso")),
            ("https://contoso.crm.dynamics.com/", Some("contoso")),
            ("https://contoso.crm4.dynamics.com", Some("contoso")),
            ("https://contoso.crm.localhost:8443", Some("contoso")),
            ("https://localhost:8443/orgs/Contoso", Some("contoso")),
            ("http://127.0.0.1:7232/orgs/contoso/", Some("contoso")),
            ("https://contoso.crm.dynamics.com/extra", None),
            ("https://api.powerplatform.com", None),
            ("contoso", None),
            ("ftp://localhost/orgs/contoso", None),
        ] {
            assert_eq!(dataverse_org_of(resource).as_deref(), org, "{resource}");
        }
    }

    #[test]
    fn audiences() {
        assert!(Audience::PowerPlatform.accepts("https://api.powerplatform.com"));
        assert!(Audience::PowerPlatform.accepts("https://api.powerplatform.com/"));
        assert!(!Audience::PowerPlatform.accepts("https://contoso.crm.dynamics.com"));
        let dv = Audience::Dataverse {
            org: "contoso",
            resource: "https://contoso.crm4.dynamics.com/",
        };
        assert_eq!(dv.resource(), "https://contoso.crm4.dynamics.com/");
        assert!(dv.accepts("https://contoso.crm.dynamics.com"));
        assert!(dv.accepts("https://localhost:8443/orgs/contoso"));
        assert!(!dv.accepts("https://fabrikam.crm.dynamics.com"));
        assert!(!dv.accepts("https://api.powerplatform.com"));
    }
}
