//! Key rotation and revocation: a rotated key signs nothing new, its tokens
//! keep working until their own expiry; a revoked key's tokens fail, at once
//! where it was revoked and within the re-read interval on another replica.

use std::time::{Duration, Instant};

use padconnect_platform::claims::AccessClaims;
use padconnect_platform::{Platform, RunningPlatform};
use padconnect_testkit::Client;
use reqwest::StatusCode;

use crate::support::*;

const PP_SCOPE: &str = "https://api.powerplatform.com/.default";

async fn token(platform: &RunningPlatform) -> String {
    app_token_for(platform, SECRET_APP, PP_SCOPE).await
}

/// What the connections API answers this token.
async fn answer(platform: &RunningPlatform, token: &str) -> (StatusCode, String) {
    let reply = Client::new(platform.url())
        .token(token)
        .get(&format!(
            "/environments/{ENVIRONMENT}/connectivity/connections?api-version=1"
        ))
        .await;
    (reply.status, reply.text)
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

fn claims_of(token: &str) -> AccessClaims {
    jsonwebtoken::dangerous::insecure_decode::<AccessClaims>(token)
        .unwrap()
        .claims
}

async fn jwks(platform: &RunningPlatform) -> Vec<String> {
    let keys = Client::new(platform.url())
        .get(&format!("/{TENANT_ID}/discovery/v2.0/keys"))
        .await;
    keys.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotated_key_signs_nothing_new_and_a_revoked_one_verifies_nothing() {
    let (first, world) = start_identity(false).await;
    let mut config = config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    // A second replica on the same database.
    let second = Platform::start(config).await.unwrap();
    let before = token(&first).await;
    let old_kid = kid(&before);

    let new_kid = second.state().signing.rotate().await.unwrap();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        kid(&token(&second).await),
        new_kid,
        "the rotating replica switches at once"
    );
    assert_eq!(
        answer(&second, &before).await.0,
        StatusCode::OK,
        "old tokens keep working"
    );
    assert!(
        jwks(&second).await.contains(&old_kid),
        "published until its tokens expire"
    );

    // The first replica has not re-read yet and still holds the old key: a
    // token it signs now, issued after the rotation, is refused.
    let mut late = claims_of(&before);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (late.iat, late.nbf, late.exp) = (now + 60, now, now + 1_800);
    let forged = first.state().signing.sign(&late).unwrap();
    assert_eq!(kid(&forged), old_kid);
    let (status, body) = answer(&second, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // No token lives longer than the platform issues them, whatever its key.
    let mut long = claims_of(&before);
    (long.iat, long.nbf, long.exp) = (now, now, now + 10 * 3_600);
    let eternal = second.state().signing.sign(&long).unwrap();
    assert_eq!(answer(&second, &eternal).await.0, StatusCode::UNAUTHORIZED);

    // Revoked: its tokens fail at once here, even the one verified before.
    second.state().signing.revoke(&old_kid).await.unwrap();
    assert_eq!(answer(&second, &before).await.0, StatusCode::UNAUTHORIZED);
    assert!(!jwks(&second).await.contains(&old_kid));
    assert!(second.state().signing.revoke("no-such-kid").await.is_err());
    // ...and on the other replica once it re-reads (every 5 s).
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        if answer(&first, &before).await.0 == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other replica still takes a revoked key"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        kid(&token(&first).await),
        new_kid,
        "and signs with the new key"
    );
    second.shutdown().await.unwrap();
    first.shutdown().await.unwrap();
}

/// A `kid` with control characters is refused with a 401, not a 500 from a
/// challenge header that cannot be built.
#[tokio::test]
async fn a_hostile_kid_gets_a_clean_401() {
    let (platform, _world) = start_identity(false).await;
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let forged = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT","kid":"a\r\nSet-Cookie: x\u0001"}"#),
        b64(r#"{"aud":"https://api.powerplatform.com"}"#),
        b64("sig")
    );
    let (status, body) = answer(&platform, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The same for an `alg` that no header may carry (the `jwt` fuzz
    // target's find: a 500 before).
    let alg = format!("\u{e9}\\\"\\u0001{}", "V".repeat(500));
    let forged = format!(
        "{}.{}.{}",
        b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)),
        b64(r#"{"aud":"https://api.powerplatform.com"}"#),
        b64("sig")
    );
    let (status, body) = answer(&platform, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    platform.shutdown().await.unwrap();
}
