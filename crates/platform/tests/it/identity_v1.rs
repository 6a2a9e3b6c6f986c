//! Entra's v1 token endpoint, `/{tenant}/oauth2/token`, as the scripts and
//! ADAL-era modules that still call it expect: `resource` instead of
//! `scope`, numbers written as strings, v1 errors.

use padconnect_testkit::Client;
use reqwest::StatusCode;

use crate::identity::{assert_aad_error, claims, post_form};
use crate::support::*;

fn v1_url(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/oauth2/token")
}

const PP: &str = "https://api.powerplatform.com";

/// The PowerShell script's form, verbatim: client id and secret in the body.
fn script_form<'a>(secret: &'a str, resource: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", SECRET_APP),
        ("client_secret", secret),
        ("resource", resource),
    ]
}

#[tokio::test]
async fn a_script_gets_a_v1_answer_for_each_resource() {
    let (platform, _world) = start_identity(false).await;
    let url = v1_url(&platform.url(), TENANT_ID);
    for (resource, audience) in [
        (PP, PP),
        (
            "https://api.powerplatform.com/",
            "https://api.powerplatform.com/",
        ),
        ("8578e004-a5c6-46e7-913e-12f58912df43", PP),
        (
            "https://contoso.crm.dynamics.com",
            "https://contoso.crm.dynamics.com",
        ),
        (
            "https://contoso.crm.dynamics.com/",
            "https://contoso.crm.dynamics.com/",
        ),
        (
            "https://management.core.windows.net/",
            "https://management.core.windows.net/",
        ),
        (
            "https://management.azure.com",
            "https://management.azure.com",
        ),
    ] {
        let reply = post_form(&url, &script_form(SECRET, resource)).await;
        assert_eq!(reply.status, StatusCode::OK, "{resource}: {}", reply.body);
        assert_eq!(reply.headers["cache-control"], "no-store, no-cache");
        let body = &reply.body;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["resource"], audience, "{body}");
        // v1 writes every number as a string.
        for field in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
            assert!(body[field].is_string(), "{field} in {body}");
        }
        assert_eq!(body["expires_in"], "3599");
        let c = claims(body["access_token"].as_str().unwrap());
        assert_eq!(c["aud"], audience);
        assert_eq!(c["appid"], SECRET_APP);
        assert_eq!(c["tid"], TENANT_ID);
        assert_eq!(body["expires_on"], c["exp"].to_string());
        assert_eq!(body["not_before"], c["nbf"].to_string());
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn v1_tokens_work_on_the_apis_they_name() {
    let (platform, _world) = start_identity(false).await;
    let url = v1_url(&platform.url(), TENANT_DOMAIN);
    let reply = post_form(&url, &script_form(SECRET, "https://api.powerplatform.com/")).await;
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let connections = Client::new(platform.url())
        .token(&token)
        .get("/environments/37520647-dbdf-49fa-ba01-6134c14680c4/connectivity/connections?api-version=1")
        .await;
    assert_eq!(connections.status, StatusCode::OK);
    let reply = post_form(
        &url,
        &script_form(SECRET, "https://contoso.crm.dynamics.com"),
    )
    .await;
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let whoami = Client::new(platform.url())
        .token(&token)
        .get("/orgs/contoso/api/data/v9.2/WhoAmI")
        .await;
    assert_eq!(whoami.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn v1_errors_are_entras() {
    let (platform, _world) = start_identity(false).await;
    let url = v1_url(&platform.url(), TENANT_ID);
    let wrong = post_form(&url, &script_form("wrong-secret", PP)).await;
    assert_aad_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);

    let unknown = post_form(&url, &script_form(SECRET, "https://graph.example.com")).await;
    assert_aad_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
    );

    let other_org = post_form(
        &url,
        &script_form(SECRET, "https://fabrikam.crm.dynamics.com"),
    )
    .await;
    assert_aad_error(
        &other_org,
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
    );

    let mut missing = script_form(SECRET, PP);
    missing.pop();
    missing.push(("scope", "https://api.powerplatform.com/.default"));
    let missing = post_form(&url, &missing).await;
    assert_aad_error(&missing, StatusCode::BAD_REQUEST, "invalid_request", 900144);
    let description = missing.body["error_description"].as_str().unwrap();
    assert!(description.contains("'resource'"), "{description}");

    // The v2 endpoint does not take `resource`.
    let v2 = post_form(
        &format!("{}/{TENANT_ID}/oauth2/v2.0/token", platform.url()),
        &script_form(SECRET, PP),
    )
    .await;
    assert_aad_error(&v2, StatusCode::BAD_REQUEST, "invalid_request", 901002);

    // An app's own sign-in names no tenant on `common` or `organizations`.
    for alias in ["common", "organizations"] {
        let reply = post_form(&v1_url(&platform.url(), alias), &script_form(SECRET, PP)).await;
        assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", 50059);
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn users_sign_in_on_v1_and_on_common() {
    let (platform, _world) = start_identity(false).await;
    let form = |password| {
        vec![
            ("grant_type", "password"),
            ("client_id", SECRET_APP),
            ("client_secret", SECRET),
            ("resource", PP),
            ("scope", "openid"),
            ("username", USER),
            ("password", password),
        ]
    };
    for tenant in [TENANT_ID, "common", "organizations"] {
        let reply = post_form(&v1_url(&platform.url(), tenant), &form(PASSWORD)).await;
        assert_eq!(reply.status, StatusCode::OK, "{tenant}: {}", reply.body);
        let c = claims(reply.body["access_token"].as_str().unwrap());
        assert_eq!(
            (c["upn"].as_str(), c["tid"].as_str()),
            (Some(USER), Some(TENANT_ID))
        );
        assert_eq!(c["scp"], "user_impersonation");
    }
    let wrong = post_form(&v1_url(&platform.url(), "common"), &form("wrong")).await;
    assert_aad_error(&wrong, StatusCode::BAD_REQUEST, "invalid_grant", 50126);
    let mut stranger = form(PASSWORD);
    stranger[5] = ("username", "someone@fabrikam.example");
    let stranger = post_form(&v1_url(&platform.url(), "common"), &stranger).await;
    assert_aad_error(&stranger, StatusCode::BAD_REQUEST, "invalid_grant", 50126);

    // ADAL asks the user's realm first: managed for a known domain.
    let client = Client::new(platform.url());
    let realm = async |user: &str| {
        client
            .get(&format!("/common/UserRealm/{user}?api-version=1.0"))
            .await
    };
    let known = realm(USER).await;
    assert_eq!(known.json()["account_type"], "Managed");
    assert_eq!(known.json()["domain_name"], TENANT_DOMAIN);
    let unknown = realm("x@fabrikam.example").await;
    assert_eq!(unknown.json()["account_type"], "Unknown");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_v1_discovery_document_names_the_v1_endpoint() {
    let (platform, _world) = start_identity(false).await;
    let discovery = Client::new(platform.url())
        .get(&format!(
            "/{TENANT_DOMAIN}/.well-known/openid-configuration"
        ))
        .await;
    let document = discovery.json();
    let endpoint = document["token_endpoint"].as_str().unwrap();
    assert_eq!(endpoint, v1_url(&platform.url(), TENANT_ID));
    assert_eq!(
        document["issuer"],
        format!("https://sts.windows.net/{TENANT_ID}/")
    );
    // And the endpoint it names answers.
    let reply = post_form(endpoint, &script_form(SECRET, PP)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    platform.shutdown().await.unwrap();
}
