//! The shared token verifier, through Dataverse's WhoAmI: each refusal is a
//! 401 with a `WWW-Authenticate` challenge that names the reason.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use padconnect_platform::RunningPlatform;
use padconnect_platform::claims::AccessClaims;
use reqwest::StatusCode;
use serde_json::Value;

use crate::dataverse::dv_client;
use crate::support::*;

fn dataverse_scope() -> &'static str {
    "https://contoso.crm.dynamics.com/.default"
}

async fn who_am_i(platform: &RunningPlatform, token: Option<&str>) -> (StatusCode, String, Value) {
    let reply = dv_client(platform).maybe_token(token).get("WhoAmI").await;
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    (reply.status, challenge.to_owned(), reply.body)
}

async fn assert_refused(platform: &RunningPlatform, token: Option<&str>, reason: &str) {
    let (status, challenge, _) = who_am_i(platform, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reason}");
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    // The challenge names the org's URL as the request named it.
    assert!(
        challenge.contains(&format!("resource_id=\"{}/orgs/contoso/\"", platform.url())),
        "{challenge}"
    );
    assert!(
        challenge.contains(reason),
        "expected '{reason}' in {challenge}"
    );
}

/// Claims as the token service would write them, for forging variants.
fn app_claims(aud: &str) -> AccessClaims {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    AccessClaims {
        aud: aud.into(),
        iss: format!("https://sts.windows.net/{TENANT_ID}/"),
        iat: now,
        nbf: now,
        exp: now + 3599,
        appid: SECRET_APP.parse().unwrap(),
        appidacr: "1".into(),
        idp: format!("https://sts.windows.net/{TENANT_ID}/"),
        idtyp: "app".into(),
        oid: SECRET_APP_OID.parse().unwrap(),
        sub: SECRET_APP_OID.into(),
        tid: TENANT_ID.parse().unwrap(),
        uti: "u".into(),
        ver: "1.0".into(),
        upn: None,
        unique_name: None,
        name: None,
        scp: None,
    }
}

#[tokio::test]
async fn a_good_token_is_accepted_by_cloud_or_platform_audience() {
    let (platform, _world) = start_identity(false).await;
    for scope in [
        dataverse_scope().to_owned(),
        format!("{}/orgs/contoso/.default", platform.url()),
    ] {
        let token = app_token_for(&platform, SECRET_APP, &scope).await;
        let (status, _, body) = who_am_i(&platform, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{scope}: {body}");
        assert_eq!(
            body["@odata.context"],
            format!(
                "{}/orgs/contoso/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                platform.url()
            )
        );
        assert!(uuid::Uuid::try_parse(body["UserId"].as_str().unwrap()).is_ok());
    }
    platform.shutdown().await.unwrap();
}

/// A token the platform issued lapses on the platform's clock: good through
/// its lifetime and the five minutes of skew, refused as expired after.
#[tokio::test]
async fn an_issued_token_lapses_after_its_lifetime_and_the_skew() {
    let time = TestClock::new();
    let (platform, _world) = start_identity_on(false, time.clock()).await;
    let token = app_token_for(&platform, SECRET_APP, dataverse_scope()).await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert!(
        (3_599..=5_400).contains(&lifetime),
        "an hour or so: {claims}"
    );
    let skew = 300; // the five minutes of clock skew every API allows

    time.advance(Duration::from_secs(lifetime + skew - 60));
    assert_eq!(who_am_i(&platform, Some(&token)).await.0, StatusCode::OK);
    time.advance(Duration::from_secs(61));
    assert_refused(&platform, Some(&token), "expired").await;
    // A new token works at the new time.
    let fresh = app_token_for(&platform, SECRET_APP, dataverse_scope()).await;
    assert_eq!(who_am_i(&platform, Some(&fresh)).await.0, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_bad_token_is_refused_with_its_reason() {
    let (platform, _world) = start_identity(false).await;
    let good = app_token_for(&platform, SECRET_APP, dataverse_scope()).await;
    let parts: Vec<&str> = good.split('.').collect();

    assert_refused(&platform, None, "").await;
    let (_, challenge, _) = who_am_i(&platform, None).await;
    assert!(
        !challenge.contains("error="),
        "no token, no error: {challenge}"
    );

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#);
    assert_refused(
        &platform,
        Some(&format!("{none_header}.{}.", parts[1])),
        "algorithm 'none'",
    )
    .await;

    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &app_claims("https://contoso.crm.dynamics.com"),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert_refused(&platform, Some(&hs), "HS256").await;

    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    header["kid"] = "not-a-key".into();
    let unknown_kid = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        parts[1],
        parts[2]
    );
    assert_refused(&platform, Some(&unknown_kid), "not-a-key").await;

    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["oid"] = "00000000-0000-0000-0000-000000000001".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_refused(&platform, Some(&tampered), "signature is invalid").await;

    assert_refused(&platform, Some("not.a.jwt"), "well-formed").await;

    let other_api = app_token_for(
        &platform,
        SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    assert_refused(
        &platform,
        Some(&other_api),
        "audience 'https://api.powerplatform.com'",
    )
    .await;

    let signing = &platform.state().signing;
    let mut expired = app_claims("https://contoso.crm.dynamics.com");
    expired.exp -= 3599 + 301;
    assert_refused(&platform, Some(&signing.sign(&expired).unwrap()), "expired").await;

    let mut early = app_claims("https://contoso.crm.dynamics.com");
    // Well past the 300 s leeway, so a slow run cannot reach it meanwhile.
    early.nbf += 900;
    assert_refused(
        &platform,
        Some(&signing.sign(&early).unwrap()),
        "not valid yet",
    )
    .await;

    let mut foreign = app_claims("https://contoso.crm.dynamics.com");
    foreign.tid = uuid::Uuid::from_u128(42);
    foreign.iss = format!("https://sts.windows.net/{}/", foreign.tid);
    assert_refused(&platform, Some(&signing.sign(&foreign).unwrap()), "issuer").await;

    let mut mismatched = app_claims("https://contoso.crm.dynamics.com");
    mismatched.iss = "https://login.microsoftonline.com/evil/v2.0".into();
    assert_refused(
        &platform,
        Some(&signing.sign(&mismatched).unwrap()),
        "issuer",
    )
    .await;

    // Within the five minutes of skew, an expired token still passes.
    let mut skewed = app_claims("https://contoso.crm.dynamics.com");
    skewed.exp = jsonwebtoken::get_current_timestamp() as i64 - 120;
    assert_eq!(
        who_am_i(&platform, Some(&signing.sign(&skewed).unwrap()))
            .await
            .0,
        StatusCode::OK
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_principal_without_a_user_in_the_environment_gets_403() {
    let (platform, _world) = start_identity(false).await;
    let lonely = app_token_for(&platform, LONELY_APP, dataverse_scope()).await;
    let (status, _, body) = who_am_i(&platform, Some(&lonely)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "0x80072560");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("app {LONELY_APP}")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application user"),
        "{body}"
    );

    let person = user_token(&platform, dataverse_scope()).await;
    let (status, _, body) = who_am_i(&platform, Some(&person)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    platform.shutdown().await.unwrap();
}
