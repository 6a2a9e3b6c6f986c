//! Workload identity federation against an external OIDC issuer served here
//! on port 0, the way GitHub Actions' issuer serves its discovery document
//! and keys: the platform fetches them and checks the token as Entra does.

use std::net::SocketAddr;

use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use padconnect_platform::{Platform, RunningPlatform};
use padconnect_testkit::{App, Federated, Tenant, World};
use reqwest::StatusCode;
use serde_json::json;

use crate::identity::{Reply, assert_aad_error, claims, post_form};
use crate::support::*;
use padconnect_core::federation::PLATFORM_ISSUER;

const FEDERATED_APP: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const SUBJECT: &str = "system:serviceaccount:payroll:deployer";
const KID: &str = "issuer-key-1";

/// An issuer with one P-256 key, whose discovery document names it (or,
/// for a liar, another issuer).
struct Issuer {
    url: String,
    key: EncodingKey,
}

async fn start_issuer(lie: bool) -> Issuer {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let point = key.public_key_raw().to_vec(); // 0x04 || x || y
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let claimed = if lie {
        "https://elsewhere.example".to_owned()
    } else {
        url.clone()
    };
    let jwks = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": KID,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]});
    let jwks_uri = format!("{url}/openid/v1/jwks");
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(json!({ "issuer": claimed, "jwks_uri": jwks_uri })) }),
        )
        .route("/openid/v1/jwks", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Issuer {
        url,
        key: EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Issuer {
    fn token(&self, subject: &str, lifetime: i64, kid: &str) -> String {
        let now = now();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        let claims = json!({
            "iss": self.url, "sub": subject, "aud": ["api://AzureADTokenExchange"],
            "iat": now - 5, "nbf": now - 5, "exp": now + lifetime,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    /// A token with exactly this header and these claims, signed ES256.
    fn signed(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, Algorithm::ES256).unwrap();
        format!("{message}.{signature}")
    }
}

fn world(dir: &std::path::Path, issuers: &[&str]) -> std::path::PathBuf {
    let app = issuers.iter().fold(
        App::new("cluster-deployer", FEDERATED_APP),
        |app, issuer| app.federated(Federated::new(*issuer, SUBJECT)),
    );
    World::new()
        .tenant(Tenant::new(TENANT_ID, TENANT_DOMAIN).app(app))
        .write_to(dir)
}

/// A token the platform's own issuer mints now signs the app in.
async fn own_token_signs_in(platform: &RunningPlatform) {
    let own = padconnect_platform::mint_federated_token(
        &platform.state().signing,
        SUBJECT,
        "api://AzureADTokenExchange",
        300,
    )
    .unwrap();
    let reply = sign_in(&platform.url(), &own).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn sign_in(base: &str, assertion: &str) -> Reply {
    post_form(
        &format!("{base}/{TENANT_ID}/oauth2/v2.0/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", FEDERATED_APP),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
            ("scope", "https://api.powerplatform.com/.default"),
        ],
    )
    .await
}

#[tokio::test]
async fn an_external_issuers_token_is_checked_against_its_published_keys() {
    let issuer = start_issuer(false).await;
    let liar = start_issuer(true).await;
    // An issuer that does not answer: a port bound and dropped.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world(dir.path(), &[&issuer.url, &liar.url, &gone]));
    let platform = Platform::start(config).await.unwrap();
    let base = platform.url();

    let signed = sign_in(&base, &issuer.token(SUBJECT, 300, KID)).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    let token = claims(signed.body["access_token"].as_str().unwrap());
    assert_eq!(token["appid"], FEDERATED_APP);
    assert_eq!(token["appidacr"], "2");
    // The same token again, while it lives: Entra takes it again, as the
    // Azure SDKs rely on (see federated.rs on replay).
    let token = issuer.token(SUBJECT, 300, KID);
    for _ in 0..2 {
        let again = sign_in(&base, &token).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    }

    let expired = sign_in(&base, &issuer.token(SUBJECT, -600, KID)).await;
    assert_aad_error(&expired, StatusCode::BAD_REQUEST, "invalid_client", 700024);
    let other_subject = sign_in(&base, &issuer.token("system:serviceaccount:x:y", 300, KID)).await;
    assert_aad_error(
        &other_subject,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700213,
    );
    // A kid the issuer does not publish: its keys were read, and it is not
    // among them (AADSTS7000272, not 50166's "endpoint failed").
    let unknown_kid = sign_in(&base, &issuer.token(SUBJECT, 300, "rotated-away")).await;
    assert_aad_error(
        &unknown_kid,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000272,
    );
    let description = unknown_kid.body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&format!(
            "The certificate with identifier rotated-away used to sign the federated credential could not be found in the metadata of identity provider {}.",
            issuer.url
        )),
        "{description}"
    );
    // A document naming another issuer is not that issuer's.
    let lied = sign_in(&base, &liar.token(SUBJECT, 300, KID)).await;
    assert_aad_error(&lied, StatusCode::BAD_REQUEST, "invalid_request", 50166);
    let unreachable = Issuer {
        url: gone.clone(),
        key: issuer.key.clone(),
    };
    let down = sign_in(&base, &unreachable.token(SUBJECT, 300, KID)).await;
    assert_aad_error(&down, StatusCode::BAD_REQUEST, "invalid_request", 50166);
    // The right issuer's name on a token signed by another key.
    let forged = Issuer {
        url: issuer.url.clone(),
        key: liar.key.clone(),
    };
    let forged = sign_in(&base, &forged.token(SUBJECT, 300, KID)).await;
    assert_aad_error(&forged, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
    // Only a declared issuer is ever fetched.
    let stranger = Issuer {
        url: "https://token.actions.githubusercontent.com".into(),
        key: issuer.key.clone(),
    };
    let stranger = sign_in(&base, &stranger.token(SUBJECT, 300, KID)).await;
    assert_aad_error(
        &stranger,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700211,
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn federated_credentials_in_the_world_are_checked_as_graph_does() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("https://issuer.example/{}", "a".repeat(600));
    let one = |issuer: &str, subject: &str| vec![Federated::new(issuer, subject)];
    let cases = [
        (one("ftp://issuer.example", "s"), "is not an issuer URL"),
        (
            one("http://issuer.example", "s"),
            "http:// only for a loopback issuer",
        ),
        (one("https://issuer.example", " s"), "compared exactly"),
        (
            vec![Federated::new("https://issuer.example", "s").audiences(Vec::<String>::new())],
            "at least one audience",
        ),
        (
            vec![
                Federated::new("https://issuer.example", "s"),
                Federated::new("https://issuer.example", "s"),
            ],
            "declared twice",
        ),
        (one(&long, "s"), "at most 600 characters"),
    ];
    for (credentials, says) in cases {
        let app = credentials
            .into_iter()
            .fold(App::new("a", FEDERATED_APP), App::federated);
        let path = World::new()
            .tenant(Tenant::new(TENANT_ID, TENANT_DOMAIN).app(app))
            .write_to(dir.path());
        let mut config = config(&dir.path().join("data"));
        config.world = Some(path);
        let error = Platform::open(config)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(
            error.contains("federated_credentials[") && error.contains(says),
            "{error}"
        );
    }
}

/// Entra takes an external token whose lifetime (`exp` - `iat`) is at most
/// a day and an hour, and answers AADSTS70023 past it; a token without
/// `iat` counts from 0 (MicrosoftDocs/azure-docs#86916 and #86915,
/// Azure/azure-sdk-for-python#32124).
#[tokio::test]
async fn an_external_token_lives_at_most_a_day_and_an_hour() {
    let issuer = start_issuer(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world(dir.path(), &[&issuer.url]));
    let platform = Platform::start(config).await.unwrap();
    let base = platform.url();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": KID});
    let claims = |iat: Option<i64>, exp: i64| {
        let mut claims = json!({
            "iss": issuer.url, "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
            "nbf": now() - 5, "exp": exp,
        });
        if let Some(iat) = iat {
            claims["iat"] = json!(iat);
        }
        claims
    };
    let iat = now() - 5;

    let longest = sign_in(
        &base,
        &issuer.signed(&header, &claims(Some(iat), iat + 90_000)),
    )
    .await;
    assert_eq!(longest.status, StatusCode::OK, "{}", longest.body);

    let too_long = sign_in(
        &base,
        &issuer.signed(&header, &claims(Some(iat), iat + 90_001)),
    )
    .await;
    assert_aad_error(&too_long, StatusCode::UNAUTHORIZED, "invalid_client", 70023);
    let description = too_long.body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!(
            "AADSTS70023: External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00. Token issued at {iat}. Token expires on {}.",
            iat + 90_001
        )),
        "{description}"
    );

    let ten_years = iat + 10 * 365 * 86_400;
    let decade = sign_in(
        &base,
        &issuer.signed(&header, &claims(Some(iat), ten_years)),
    )
    .await;
    assert_aad_error(&decade, StatusCode::UNAUTHORIZED, "invalid_client", 70023);

    let undated = sign_in(&base, &issuer.signed(&header, &claims(None, iat + 300))).await;
    assert_aad_error(&undated, StatusCode::UNAUTHORIZED, "invalid_client", 70023);
    let description = undated.body["error_description"].as_str().unwrap();
    assert!(description.contains("Token issued at 0."), "{description}");
    platform.shutdown().await.unwrap();
}

/// An assertion's times are read on the platform's clock, as its own
/// tokens' are: an hour on, an outside token of five minutes has lapsed,
/// and one the platform mints then is good.
#[tokio::test]
async fn a_federated_tokens_times_are_read_on_the_platforms_clock() {
    let issuer = start_issuer(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world(dir.path(), &[&issuer.url, PLATFORM_ISSUER]));
    let time = TestClock::new();
    let platform = Platform::start_on(config, time.clock()).await.unwrap();
    let base = platform.url();
    let outside = issuer.token(SUBJECT, 300, KID);
    let reply = sign_in(&base, &outside).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    time.advance(std::time::Duration::from_secs(3_600));
    let lapsed = sign_in(&base, &outside).await;
    assert_aad_error(&lapsed, StatusCode::BAD_REQUEST, "invalid_client", 700024);
    own_token_signs_in(&platform).await;
    platform.shutdown().await.unwrap();
}

/// A `kid` that is not a string is a malformed header (RFC 7515 section
/// 4.1.4), said so rather than "not a well-formed JWT"; a `kid` that names
/// none of the platform issuer's keys gets Entra's AADSTS7000272 too.
#[tokio::test]
async fn a_federated_tokens_kid_gets_an_answer_that_names_the_problem() {
    let issuer = start_issuer(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world(dir.path(), &[&issuer.url, PLATFORM_ISSUER]));
    let platform = Platform::start(config).await.unwrap();
    let base = platform.url();
    let claims = |iss: &str| {
        json!({
            "iss": iss, "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
            "iat": now() - 5, "nbf": now() - 5, "exp": now() + 300,
        })
    };

    let numeric = json!({"alg": "ES256", "typ": "JWT", "kid": 5});
    let reply = sign_in(&base, &issuer.signed(&numeric, &claims(&issuer.url))).await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 50027);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("'kid'")
            && description.contains("5")
            && description.contains("string"),
        "{description}"
    );
    assert!(!description.contains("well-formed"), "{description}");

    let unknown = json!({"alg": "ES256", "typ": "JWT", "kid": "not-a-platform-key"});
    let reply = sign_in(&base, &issuer.signed(&unknown, &claims(PLATFORM_ISSUER))).await;
    assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 7000272);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&format!(
            "The certificate with identifier not-a-platform-key used to sign the federated credential could not be found in the metadata of identity provider {PLATFORM_ISSUER}."
        )),
        "{description}"
    );

    // The platform's own token still signs the app in.
    own_token_signs_in(&platform).await;
    platform.shutdown().await.unwrap();
}
