//! Entra's sign-in defences on the token endpoint: smart lockout, wrong
//! secrets throttled, and the password grant closed to confidential apps
//! that do not authenticate. That an unknown user costs what a wrong
//! password costs is checked where it is decided, in `domain::sign_in`.

use std::time::Duration;

use padconnect_domain::lockout::{LOCKOUT_SECS, WINDOW_SECS};
use reqwest::StatusCode;

use crate::identity::{assert_aad_error, post_form};
use crate::support::*;

const SCOPE: &str = "https://api.powerplatform.com/.default";

fn token_url(base: &str) -> String {
    format!("{base}/{TENANT_ID}/oauth2/v2.0/token")
}

fn password_form<'a>(
    client_id: &'a str,
    username: &'a str,
    password: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", client_id),
        ("username", username),
        ("password", password),
        ("scope", SCOPE),
    ]
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account_for_a_minute() {
    let time = TestClock::new();
    let (platform, _world) = start_identity_on(false, time.clock()).await;
    let url = token_url(&platform.url());
    // The same wrong password again and again counts once, as Entra's does.
    for _ in 0..12 {
        let same = post_form(&url, &password_form(SECRET_APP, USER, "typo-password")).await;
        assert_aad_error(&same, StatusCode::BAD_REQUEST, "invalid_grant", 50126);
    }
    let fine = post_form(&url, &password_form(SECRET_APP, USER, PASSWORD)).await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.body);

    for i in 0..10 {
        let wrong = format!("guess-{i}");
        let reply = post_form(&url, &password_form(SECRET_APP, USER, &wrong)).await;
        assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", 50126);
    }
    // Locked: even the right password is refused until the minute is over.
    let locked = post_form(&url, &password_form(SECRET_APP, USER, PASSWORD)).await;
    assert_aad_error(&locked, StatusCode::BAD_REQUEST, "invalid_grant", 50053);
    let wait: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another account is not.
    let other = post_form(
        &url,
        &password_form(SECRET_APP, "nobody@contoso.onmicrosoft.com", "x"),
    )
    .await;
    assert_aad_error(&other, StatusCode::BAD_REQUEST, "invalid_grant", 50126);

    // Still locked near the end of the minute; signed in after it.
    time.advance(Duration::from_secs(LOCKOUT_SECS - 10));
    let still = post_form(&url, &password_form(SECRET_APP, USER, PASSWORD)).await;
    assert_aad_error(&still, StatusCode::BAD_REQUEST, "invalid_grant", 50053);
    time.advance(Duration::from_secs(10));
    let after = post_form(&url, &password_form(SECRET_APP, USER, PASSWORD)).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_secrets_are_throttled_per_app() {
    let time = TestClock::new();
    let (platform, _world) = start_identity_on(false, time.clock()).await;
    let url = token_url(&platform.url());
    let form = |secret: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", SECRET_APP),
            ("client_secret", secret),
            ("scope", SCOPE),
        ]
    };
    for _ in 0..20 {
        let wrong = post_form(&url, &form("guessed-secret")).await;
        assert_aad_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    }
    let held = post_form(&url, &form(SECRET)).await;
    assert_aad_error(
        &held,
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        90055,
    );
    assert!(held.headers.contains_key("retry-after"));
    // Another app of the tenant signs in as usual.
    let other = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", LONELY_APP),
            ("client_secret", SECRET),
            ("scope", SCOPE),
        ],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);

    // The app's own secret works again once its window is over.
    time.advance(Duration::from_secs(WINDOW_SECS));
    let again = post_form(&url, &form(SECRET)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_confidential_app_must_authenticate_its_password_grant() {
    let (platform, _world) = start_identity(false).await;
    let url = token_url(&platform.url());
    let bare = post_form(&url, &password_form(LONELY_APP, USER, PASSWORD)).await;
    assert_aad_error(&bare, StatusCode::UNAUTHORIZED, "invalid_client", 7000218);
    let mut with_secret = password_form(LONELY_APP, USER, PASSWORD);
    with_secret.push(("client_secret", SECRET));
    let signed = post_form(&url, &with_secret).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    // The world marks the other app as allowing public client flows.
    let public = post_form(&url, &password_form(SECRET_APP, USER, PASSWORD)).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    platform.shutdown().await.unwrap();
}
