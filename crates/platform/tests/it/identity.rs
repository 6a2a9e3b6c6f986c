//! The token service over HTTP: grants, credentials, each error code,
//! discovery, keys across restarts and rotation, TLS.

use padconnect_client::{Certificate, ClientCredential, Secret, TokenClient};
use padconnect_platform::Platform;
use padconnect_testkit::Client;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::support::*;

pub use padconnect_testkit::Reply;

/// `form` posted to the token endpoint at `url`.
pub async fn post_form(url: &str, form: &(impl Serialize + ?Sized)) -> Reply {
    token_reply(&Client::new(url), form).await
}

/// `form` posted by `client`, whose requests go to a token endpoint: every
/// answer of the token service is JSON.
async fn token_reply(client: &Client, form: &(impl Serialize + ?Sized)) -> Reply {
    let reply = client.post_form("", form).await;
    reply.json();
    reply
}

fn token_url(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/oauth2/v2.0/token")
}

pub fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

pub fn assert_aad_error(reply: &Reply, status: StatusCode, error: &str, code: u64) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"], error, "{}", reply.body);
    assert_eq!(reply.body["error_codes"][0], code, "{}", reply.body);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(
        description.contains("\r\nTrace ID: ") && description.contains("\r\nCorrelation ID: "),
        "{description}"
    );
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(reply.body[field].is_string(), "{field} in {}", reply.body);
    }
}

const PP_SCOPE: &str = "https://api.powerplatform.com/.default";

fn secret_form<'a>(secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", SECRET_APP),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn a_secret_gets_an_app_token_shaped_like_entras() {
    let (platform, _world) = start_identity(false).await;
    let mut form = secret_form(SECRET, PP_SCOPE);
    form.extend([
        ("client_info", "1"),
        ("x-client-SKU", "MSAL.Python"),
        ("claims", "{\"access_token\":{}}"),
    ]);
    let reply = post_form(&token_url(&platform.url(), TENANT_ID), &form).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store, no-cache");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3599);
    assert_eq!(reply.body["ext_expires_in"], 3599);
    let token = reply.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert!(header.kid.is_some() && header.kid == header.x5t);
    let c = claims(token);
    assert_eq!(c["aud"], "https://api.powerplatform.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{TENANT_ID}/"));
    assert_eq!(c["idp"], c["iss"]);
    assert_eq!(c["appid"], SECRET_APP);
    assert_eq!(c["appidacr"], "1");
    assert_eq!(c["oid"], SECRET_APP_OID);
    assert_eq!(c["sub"], SECRET_APP_OID);
    assert_eq!(c["tid"], TENANT_ID);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["ver"], "1.0");
    assert!(c["uti"].is_string() && c["scp"].is_null());
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3599
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn basic_auth_and_tenant_domains_work_too() {
    let (platform, _world) = start_identity(false).await;
    let request = Client::new(token_url(&platform.url(), TENANT_DOMAIN))
        .request(Method::POST, "")
        .basic_auth(SECRET_APP, Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", PP_SCOPE)]);
    let reply = Reply::read(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        claims(reply.json()["access_token"].as_str().unwrap())["tid"],
        TENANT_ID
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn certificates_sign_assertions_with_either_algorithm_once() {
    let (platform, world) = start_identity(false).await;
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let url = token_url(&platform.url(), TENANT_ID);
    for pss in [true, false] {
        let assertion = cert.assertion(CERT_APP, &url, pss).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", CERT_APP),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
            ("scope", PP_SCOPE),
        ];
        let reply = post_form(&url, &form).await;
        assert_eq!(reply.status, StatusCode::OK, "pss={pss}: {}", reply.body);
        assert_eq!(
            claims(reply.body["access_token"].as_str().unwrap())["appidacr"],
            "2"
        );
        let replay = post_form(&url, &form).await;
        assert_aad_error(&replay, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
        assert!(
            replay.body["error_description"]
                .as_str()
                .unwrap()
                .contains("already used")
        );
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn thumbprints_in_standard_base64_are_accepted() {
    // The Rust azure_identity SDK sends x5t in standard, padded base64.
    use base64::Engine;
    let (platform, world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cert.x5t())
        .unwrap();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": base64::engine::general_purpose::STANDARD.encode(raw)});
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({"aud": url, "iss": CERT_APP, "sub": CERT_APP, "jti": "j-1", "nbf": now, "exp": now + 300});
    let assertion = cert.sign_jwt(&header, &claims).unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CERT_APP),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
        ("scope", PP_SCOPE),
    ];
    assert_eq!(post_form(&url, &form).await.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_error_has_entras_code_and_status() {
    let (platform, world) = start_identity(false).await;
    let base = platform.url();
    let url = token_url(&base, TENANT_ID);
    let cc = ("grant_type", "client_credentials");

    let wrong = post_form(&url, &secret_form("not-the-secret", PP_SCOPE)).await;
    assert_aad_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    assert!(
        !wrong.body.to_string().contains("not-the-secret"),
        "the secret is never echoed"
    );

    let expired = post_form(&url, &secret_form(EXPIRED_SECRET, PP_SCOPE)).await;
    assert_aad_error(
        &expired,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000222,
    );

    let unknown_app = [
        cc,
        ("client_id", "11111111-2222-3333-4444-555555555555"),
        ("client_secret", SECRET),
        ("scope", PP_SCOPE),
    ];
    assert_aad_error(
        &post_form(&url, &unknown_app).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
    );

    let unknown_tenant = post_form(
        &token_url(&base, "fabrikam.onmicrosoft.com"),
        &secret_form(SECRET, PP_SCOPE),
    )
    .await;
    assert_aad_error(
        &unknown_tenant,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
    );
    let guid_tenant = post_form(
        &token_url(&base, "00000000-0000-0000-0000-000000000001"),
        &secret_form(SECRET, PP_SCOPE),
    )
    .await;
    assert_aad_error(
        &guid_tenant,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
    );

    let no_default = post_form(
        &url,
        &secret_form(SECRET, "https://api.powerplatform.com/user_impersonation"),
    )
    .await;
    assert_aad_error(
        &no_default,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        1002012,
    );

    let invalid_scope = post_form(&url, &secret_form(SECRET, "openid")).await;
    assert_aad_error(
        &invalid_scope,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        70011,
    );

    let unknown_resource = post_form(
        &url,
        &secret_form(SECRET, "https://graph.microsoft.com/.default"),
    )
    .await;
    assert_aad_error(
        &unknown_resource,
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
    );
    let other_org = post_form(
        &url,
        &secret_form(SECRET, "https://fabrikam.crm.dynamics.com/.default"),
    )
    .await;
    assert_aad_error(
        &other_org,
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
    );

    let two = post_form(
        &url,
        &secret_form(
            SECRET,
            "https://api.powerplatform.com/.default https://contoso.crm.dynamics.com/.default",
        ),
    )
    .await;
    assert_aad_error(&two, StatusCode::BAD_REQUEST, "invalid_scope", 700022);

    let grant = post_form(
        &url,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", SECRET_APP),
        ],
    )
    .await;
    assert_aad_error(
        &grant,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
    );

    let missing_scope = post_form(
        &url,
        &[cc, ("client_id", SECRET_APP), ("client_secret", SECRET)],
    )
    .await;
    assert_aad_error(
        &missing_scope,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
    );
    assert!(
        missing_scope.body["error_description"]
            .as_str()
            .unwrap()
            .contains("'scope'")
    );
    let missing_grant = post_form(&url, &[("client_id", SECRET_APP)]).await;
    assert_aad_error(
        &missing_grant,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
    );

    let no_credential =
        post_form(&url, &[cc, ("client_id", SECRET_APP), ("scope", PP_SCOPE)]).await;
    assert_aad_error(
        &no_credential,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
    );

    let stranger = Certificate::from_pem(world.stranger_pem.as_bytes()).unwrap();
    let forged = stranger.assertion(CERT_APP, &url, true).unwrap();
    let assertion = |jwt: &str| {
        [
            cc,
            ("client_id", CERT_APP),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
            ("scope", PP_SCOPE),
        ]
        .map(|(k, v)| (k, v.to_owned()))
    };
    let reply = post_form(&url, &assertion(&forged)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error_codes"][0], 700027);

    // The right certificate's thumbprint on a signature by another key.
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let genuine = cert.assertion(CERT_APP, &url, true).unwrap();
    let forged_sig: Vec<&str> = forged.split('.').collect();
    let genuine_parts: Vec<&str> = genuine.split('.').collect();
    let spliced = format!(
        "{}.{}.{}",
        genuine_parts[0], genuine_parts[1], forged_sig[2]
    );
    let body = post_form(&url, &assertion(&spliced)).await.body;
    assert_eq!(body["error_codes"][0], 700027);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("signature validation"),
        "{body}"
    );

    let wrong_audience = cert
        .assertion(
            CERT_APP,
            "https://login.microsoftonline.com/other/oauth2/v2.0/token",
            true,
        )
        .unwrap();
    let body = post_form(&url, &assertion(&wrong_audience)).await.body;
    assert_eq!(body["error_codes"][0], 700023);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("audience"),
        "{body}"
    );

    let malformed_tenant = post_form(
        &token_url(&base, "not a tenant"),
        &secret_form(SECRET, PP_SCOPE),
    )
    .await;
    assert_aad_error(
        &malformed_tenant,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900023,
    );
    platform.shutdown().await.unwrap();
}

/// Every cloud's Power Platform API scope, as Microsoft's
/// `PowerPlatformApiDiscovery` and the Terraform provider's constants name
/// them; each token is for the resource asked, and the connections API
/// takes it.
#[tokio::test]
async fn every_clouds_power_platform_scope_gets_a_token_the_api_takes() {
    let (platform, _world) = start_identity(false).await;
    let api = format!(
        "{}/environments/{ENVIRONMENT}/connectivity/connections?api-version=1",
        platform.url()
    );
    let resources = [
        "https://api.powerplatform.com",
        "https://api.gov.powerplatform.microsoft.us",
        "https://api.high.powerplatform.microsoft.us",
        "https://api.appsplatform.us",
        "https://api.powerplatform.partner.microsoftonline.cn",
        "https://api.powerplatform.eaglex.ic.gov",
        "https://api.powerplatform.microsoft.scloud",
    ];
    for resource in resources {
        scope_gets_a_token_taken_at(&platform, resource, resource, &api).await;
    }
    platform.shutdown().await.unwrap();
}

/// Every cloud's BAP (PowerApps) scope, as the Terraform provider's
/// `*_POWERAPPS_SCOPE` constants (`internal/constants/constants.go`) name
/// them, gets a token whose `aud` keeps the slash, as Entra's does for
/// `https://service.powerapps.com/.default`, and BAP takes it.
#[tokio::test]
async fn every_clouds_bap_scope_gets_a_token_bap_takes() {
    let (platform, _world) = start_identity(false).await;
    let bap = format!(
        "{}/bap/providers/Microsoft.BusinessAppPlatform/environments?api-version=2023-06-01",
        platform.url()
    );
    let resources = [
        "https://service.powerapps.com",
        "https://service.powerapps.us",
        "https://high.service.apps.appsplatform.us",
        "https://service.apps.appsplatform.us",
        "https://service.powerapps.cn",
        "https://service.powerapps.eaglex.ic.gov",
        "https://service.powerapps.microsoft.scloud",
    ];
    for resource in resources {
        let aud = format!("{resource}/");
        scope_gets_a_token_taken_at(&platform, resource, &aud, &bap).await;
    }
    platform.shutdown().await.unwrap();
}

/// `{resource}/.default` gets the secret app a token whose `aud` is `aud`,
/// and a GET of `api` with it answers 200.
async fn scope_gets_a_token_taken_at(
    platform: &padconnect_platform::RunningPlatform,
    resource: &str,
    aud: &str,
    api: &str,
) {
    let url = token_url(&platform.url(), TENANT_ID);
    let scope = format!("{resource}/.default");
    let reply = post_form(&url, &secret_form(SECRET, &scope)).await;
    assert_eq!(reply.status, StatusCode::OK, "{scope}: {}", reply.body);
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["aud"], aud);
    let answered = Client::new(api).token(&token).get("").await;
    assert_eq!(answered.status, StatusCode::OK, "{resource}");
}

#[tokio::test]
async fn dataverse_scopes_by_cloud_or_platform_url() {
    let (platform, _world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    let platform_scope = format!("{}/orgs/contoso/.default", platform.url());
    for (scope, aud) in [
        (
            "https://contoso.crm.dynamics.com/.default",
            "https://contoso.crm.dynamics.com",
        ),
        (
            "https://contoso.crm.dynamics.com//.default",
            "https://contoso.crm.dynamics.com",
        ),
        (
            platform_scope.as_str(),
            platform_scope.trim_end_matches("/.default"),
        ),
    ] {
        let reply = post_form(&url, &secret_form(SECRET, scope)).await;
        assert_eq!(reply.status, StatusCode::OK, "{scope}: {}", reply.body);
        assert_eq!(
            claims(reply.body["access_token"].as_str().unwrap())["aud"],
            aud
        );
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn people_get_delegated_tokens_with_their_password() {
    let (platform, _world) = start_identity(false).await;
    let client = TokenClient::new(padconnect_testkit::http(), &platform.url());
    let token = client
        .password(
            TENANT_ID,
            SECRET_APP,
            USER,
            &Secret::new(PASSWORD),
            "https://api.powerplatform.com/.default openid profile offline_access",
        )
        .await
        .unwrap();
    let c = claims(&token.token);
    assert_eq!(c["upn"], USER);
    assert_eq!(c["name"], "Contoso Admin");
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["scp"], "user_impersonation");
    assert_eq!(c["appidacr"], "0");

    let err = client
        .password(TENANT_ID, SECRET_APP, USER, &Secret::new("wrong"), PP_SCOPE)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AADSTS50126"));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn discovery_documents_lead_back_to_the_platform() {
    let (platform, _world) = start_identity(false).await;
    let base = platform.url();
    let client = Client::new(&base);
    let discovery = client
        .get(&format!(
            "/{TENANT_DOMAIN}/v2.0/.well-known/openid-configuration"
        ))
        .await;
    let v2 = discovery.json();
    assert_eq!(
        v2["token_endpoint"],
        format!("{base}/{TENANT_ID}/oauth2/v2.0/token")
    );
    assert_eq!(
        v2["jwks_uri"],
        format!("{base}/{TENANT_ID}/discovery/v2.0/keys")
    );
    assert_eq!(
        v2["issuer"],
        format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0")
    );
    assert_eq!(
        v2["token_endpoint_auth_methods_supported"][1],
        "private_key_jwt"
    );

    let response = Client::new(&base)
        .host("login.microsoftonline.com")
        .get(&format!("/{TENANT_ID}/.well-known/openid-configuration"))
        .await;
    assert_eq!(response.headers["cache-control"], "max-age=86400, private");
    let v1 = response.json();
    assert_eq!(
        v1["issuer"],
        format!("https://sts.windows.net/{TENANT_ID}/")
    );
    assert_eq!(
        v1["jwks_uri"],
        format!("http://login.microsoftonline.com/{TENANT_ID}/discovery/keys")
    );

    let unknown = client
        .get("/fabrikam.com/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["error"], "invalid_tenant");

    let instance = client
        .get("/common/discovery/instance?api-version=1.1&authorization_endpoint=x")
        .await;
    let instance = instance.json();
    assert_eq!(instance["api-version"], "1.1");
    assert_eq!(
        instance["metadata"][0]["aliases"][0],
        platform.addr.to_string()
    );

    let token = post_form(&token_url(&base, TENANT_ID), &secret_form(SECRET, PP_SCOPE))
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    for path in ["discovery/v2.0/keys", "discovery/keys"] {
        let jwks = client.get(&format!("/{TENANT_ID}/{path}")).await;
        let key = jwks.json()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the token's key is published");
        assert_eq!(
            (key["kty"].as_str(), key["use"].as_str(), key["e"].as_str()),
            (Some("RSA"), Some("sig"), Some("AQAB"))
        );
        assert_eq!(key["x5t"], key["kid"]);
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["https://api.powerplatform.com"]);
        jsonwebtoken::decode::<Value>(&token, &decoding, &validation)
            .expect("the JWKS verifies the token");
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn keys_survive_restarts_and_rotation_keeps_old_tokens_valid() {
    let (platform, world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    let token = post_form(&url, &secret_form(SECRET, PP_SCOPE)).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    platform.shutdown().await.unwrap();

    let mut config = config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    let again = Platform::start(config).await.unwrap();
    let url = token_url(&again.url(), TENANT_ID);
    let after = post_form(&url, &secret_form(SECRET, PP_SCOPE)).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        jsonwebtoken::decode_header(&after).unwrap().kid.unwrap(),
        kid,
        "the same key signs after a restart"
    );

    let new_kid = again.state().signing.rotate().await.unwrap();
    assert_ne!(new_kid, kid);
    let rotated = post_form(&url, &secret_form(SECRET, PP_SCOPE)).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        jsonwebtoken::decode_header(&rotated).unwrap().kid.unwrap(),
        new_kid
    );
    let jwks = Client::new(again.url())
        .get(&format!("/{TENANT_ID}/discovery/v2.0/keys"))
        .await;
    let kids: Vec<&str> = jwks.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_serves_the_cloud_names_under_the_local_ca() {
    let (platform, world) = start_identity(true).await;
    assert!(platform.url().starts_with("https://"));
    let ca = std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap();
    let port = platform.addr.port();
    let http = padconnect_testkit::http_builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve("login.microsoftonline.com", platform.addr)
        .resolve(
            "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com",
            platform.addr,
        )
        .build()
        .unwrap();
    for authority in [
        format!("https://localhost:{port}"),
        format!("https://127.0.0.1:{port}"),
        format!("https://login.microsoftonline.com:{port}"),
    ] {
        let client = TokenClient::new(http.clone(), &authority);
        let token = client
            .client_credentials(
                TENANT_ID,
                SECRET_APP,
                &ClientCredential::Secret(Secret::new(SECRET)),
                PP_SCOPE,
            )
            .await
            .unwrap_or_else(|e| panic!("{authority}: {e}"));
        assert_eq!(claims(&token.token)["appid"], SECRET_APP);
    }
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let client = TokenClient::new(
        http.clone(),
        &format!("https://login.microsoftonline.com:{port}"),
    );
    client
        .client_credentials(
            TENANT_ID,
            CERT_APP,
            &ClientCredential::Certificate(cert),
            PP_SCOPE,
        )
        .await
        .unwrap();
    let env_host = format!(
        "https://37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com:{port}/healthz"
    );
    let login = Client::with(http, format!("https://login.microsoftonline.com:{port}"));
    assert_eq!(login.get(&env_host).await.status, StatusCode::OK);
    let v2 = login
        .get(&format!(
            "/{TENANT_ID}/v2.0/.well-known/openid-configuration"
        ))
        .await;
    assert_eq!(
        v2.json()["token_endpoint"],
        format!("https://login.microsoftonline.com:{port}/{TENANT_ID}/oauth2/v2.0/token")
    );
    platform.shutdown().await.unwrap();

    // The CA is made once per data dir.
    let mut config = config(&world.dir.path().join("data"));
    config.tls = true;
    let again = Platform::start(config).await.unwrap();
    assert_eq!(
        std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap(),
        ca
    );
    again.shutdown().await.unwrap();
}

/// Times may have fractions (MSAL for Python writes them so). An expired
/// assertion gets Entra's AADSTS700024 with its times; a long one is taken,
/// as Entra takes it: "Microsoft Entra ID doesn't place restrictions on the
/// exp time currently" (learn.microsoft.com/entra/identity-platform/certificate-credentials).
#[tokio::test]
async fn assertion_times_may_have_fractions_and_are_checked() {
    let (platform, world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": cert.x5t()});
    let now = jsonwebtoken::get_current_timestamp() as f64 + 0.25;
    let post = async |exp: f64, jti: &str| {
        let claims = serde_json::json!({"aud": url, "iss": CERT_APP, "sub": CERT_APP, "jti": jti, "iat": now, "exp": exp});
        let assertion = cert.sign_jwt(&header, &claims).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", CERT_APP),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
            ("scope", PP_SCOPE),
        ];
        post_form(&url, &form).await
    };
    assert_eq!(post(now + 600.5, "fraction").await.status, StatusCode::OK);
    let ten_years = now + 10.0 * 365.0 * 86_400.0;
    let long = post(ten_years, "ten-years").await;
    assert_eq!(long.status, StatusCode::OK, "{}", long.body);
    let expired = post(now - 301.0, "expired").await;
    assert_aad_error(&expired, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    let description = expired.body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(
            "AADSTS700024: Client assertion is not within its valid time range. Current time: "
        ) && description.contains(", assertion valid from 1970-01-01T00:00:00")
            && description.contains(", expiry time of assertion ")
            && description.contains("certificate-credentials"),
        "{description}"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_secret_added_elsewhere_works_at_once() {
    // Another replica (here: the store directly) adds a secret after this
    // one has cached the app.
    let (platform, _world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    assert_eq!(
        post_form(&url, &secret_form(SECRET, PP_SCOPE)).await.status,
        StatusCode::OK
    );
    let rotated = "a-brand-new-secret";
    assert_eq!(
        post_form(&url, &secret_form(rotated, PP_SCOPE))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let secret = padconnect_store::AppSecret {
        hash: padconnect_domain::secrets::hash_client_secret(&platform.state().keyring, rotated),
        hint: "a-b".into(),
        expires_at: None,
    };
    let mut tx = platform.store().begin().await.unwrap();
    tx.put_app_secret(
        TENANT_ID.parse().unwrap(),
        SECRET_APP.parse().unwrap(),
        &secret,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        post_form(&url, &secret_form(rotated, PP_SCOPE))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        post_form(&url, &secret_form(SECRET, PP_SCOPE)).await.status,
        StatusCode::OK
    );
    platform.shutdown().await.unwrap();
}

/// A certificate's client assertion for the certificate app, posted to
/// `url` with `host` as the `Host` header when one is given.
async fn post_assertion(url: &str, host: Option<&str>, assertion: &str) -> Reply {
    let mut client = Client::new(url);
    if let Some(host) = host {
        client = client.host(host);
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CERT_APP),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", PP_SCOPE),
    ];
    token_reply(&client, &form).await
}

/// A client assertion's audience is this platform's token endpoint: at the
/// address and port a request reached it on (the cloud's login names and
/// `localhost` there too), at `--public-url`, or at the cloud's own login
/// names (transparent mode). The request's `Host` is the client's word, so
/// an assertion made for another instance (another port, another address)
/// is refused here even when it comes with that instance's `Host`
/// (issue 33; AADSTS700023, as Entra refuses an assertion for another
/// authority: AzureAD/microsoft-authentication-library-for-dotnet#2746).
#[tokio::test]
async fn an_assertion_made_for_another_instance_is_refused_whatever_the_host() {
    let world = identity_world();
    let mut config = config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    config.public_url = Some("https://padconnect.internal:8443".into());
    let platform = Platform::start(config).await.unwrap();
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let url = token_url(&platform.url(), TENANT_ID);
    let port = platform.addr.port();
    let other = if port == u16::MAX { port - 1 } else { port + 1 };

    let refused = [
        (
            format!("http://127.0.0.1:{other}/{TENANT_ID}/oauth2/v2.0/token"),
            format!("127.0.0.1:{other}"),
        ),
        (
            format!("http://localhost:{other}/{TENANT_ID}/oauth2/v2.0/token"),
            format!("localhost:{other}"),
        ),
        (
            format!("http://10.1.2.3:{port}/{TENANT_ID}/oauth2/v2.0/token"),
            format!("10.1.2.3:{port}"),
        ),
        (
            format!("http://padconnect.internal:8443/{TENANT_ID}/oauth2/v2.0/token"),
            "padconnect.internal:8443".to_owned(),
        ),
    ];
    for (audience, host) in refused {
        let assertion = cert.assertion(CERT_APP, &audience, true).unwrap();
        let reply = post_assertion(&url, Some(&host), &assertion).await;
        assert_aad_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client", 700023);
        let description = reply.body["error_description"].as_str().unwrap();
        assert!(
            description.contains("audience") && description.contains(&audience),
            "{description}"
        );
    }
    let accepted = [
        (url.clone(), None),
        (
            format!("http://localhost:{port}/{TENANT_DOMAIN}/oauth2/v2.0/token"),
            Some(format!("localhost:{port}")),
        ),
        (
            format!("http://login.localhost:{port}/{TENANT_ID}/oauth2/token"),
            Some(format!("login.localhost:{port}")),
        ),
        (
            format!("http://login.microsoftonline.com:{port}/{TENANT_ID}/v2.0"),
            Some(format!("login.microsoftonline.com:{port}")),
        ),
        (
            format!("https://padconnect.internal:8443/{TENANT_ID}/oauth2/v2.0/token"),
            Some("padconnect.internal:8443".to_owned()),
        ),
        (
            format!("https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token"),
            None,
        ),
        (
            format!("https://login.microsoftonline.us/{TENANT_ID}/v2.0"),
            None,
        ),
    ];
    for (audience, host) in accepted {
        let assertion = cert.assertion(CERT_APP, &audience, true).unwrap();
        let reply = post_assertion(&url, host.as_deref(), &assertion).await;
        assert_eq!(reply.status, StatusCode::OK, "{audience}: {}", reply.body);
    }

    platform.shutdown().await.unwrap();
}

/// A certificate is named by `x5t` or `x5t#S256` (Entra's certificate
/// credentials page), never by `kid`: a `kid` beside the right thumbprint
/// is not read, a header with only a `kid` is told to send a thumbprint,
/// a `kid` that is not a string is a malformed header (RFC 7515 section
/// 4.1.4), and each answer says which.
#[tokio::test]
async fn a_certificate_assertions_kid_gets_an_answer_that_names_the_problem() {
    let (platform, world) = start_identity(false).await;
    let url = token_url(&platform.url(), TENANT_ID);
    let cert = Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let post = async |header: Value| {
        let claims = serde_json::json!({"aud": url, "iss": CERT_APP, "sub": CERT_APP, "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "exp": now + 300});
        let assertion = cert.sign_jwt(&header, &claims).unwrap();
        post_assertion(&url, None, &assertion).await
    };

    let numeric =
        post(serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": cert.x5t(), "kid": 5})).await;
    assert_aad_error(&numeric, StatusCode::UNAUTHORIZED, "invalid_client", 50027);
    let description = numeric.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("'kid'")
            && description.contains("5")
            && description.contains("string"),
        "{description}"
    );
    assert!(!description.contains("well-formed"), "{description}");

    let kid_only =
        post(serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "no-such-key"})).await;
    assert_aad_error(&kid_only, StatusCode::UNAUTHORIZED, "invalid_client", 50027);
    let description = kid_only.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("No certificate thumbprint specified in token header")
            && description.contains("x5t")
            && description.contains("no-such-key"),
        "{description}"
    );

    let unread = post(serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": cert.x5t_s256(), "kid": "no-such-key"})).await;
    assert_eq!(unread.status, StatusCode::OK, "{}", unread.body);

    let stranger = Certificate::from_pem(world.stranger_pem.as_bytes()).unwrap();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": stranger.x5t()});
    let claims = serde_json::json!({"aud": url, "iss": CERT_APP, "sub": CERT_APP, "jti": "stranger", "nbf": now, "exp": now + 300});
    let unregistered =
        post_assertion(&url, None, &stranger.sign_jwt(&header, &claims).unwrap()).await;
    assert_aad_error(
        &unregistered,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700027,
    );
    let description = unregistered.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("is not registered on application")
            && description.contains("Reason - The key was not found.")
            && description.contains("Thumbprint of key used by client: '"),
        "{description}"
    );
    platform.shutdown().await.unwrap();
}
