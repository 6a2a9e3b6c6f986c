//! Azure Resource Manager, as far as `az login --service-principal` goes:
//! the cloud's metadata, the world's subscriptions, the caller's tenant.

use padconnect_testkit::Client;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

async fn arm_token(platform: &padconnect_platform::RunningPlatform) -> String {
    // The scope as the Azure CLI writes it, with the double slash.
    let token = app_token_for(
        platform,
        SECRET_APP,
        "https://management.core.windows.net//.default",
    )
    .await;
    let token = token.as_str();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims;
    assert_eq!(claims["aud"], "https://management.core.windows.net/");
    token.to_owned()
}

async fn get(url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let reply = Client::new(url).maybe_token(token).get("").await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn the_azure_clis_sign_in_calls_answer() {
    let (platform, _world) = start_identity(false).await;
    let arm = format!("{}/arm", platform.url());
    let (status, metadata) = get(
        &format!("{arm}/metadata/endpoints?api-version=2022-09-01"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metadata["name"], "AzureCloud");
    assert_eq!(metadata["resourceManager"], format!("{arm}/"));
    assert_eq!(metadata["authentication"]["loginEndpoint"], platform.url());
    assert_eq!(
        metadata["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert!(metadata["suffixes"].is_object());

    let token = arm_token(&platform).await;
    let (status, subscriptions) = get(
        &format!("{arm}/subscriptions?api-version=2022-12-01"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{subscriptions}");
    let first = &subscriptions["value"][0];
    assert_eq!(first["id"], format!("/subscriptions/{SUBSCRIPTION}"));
    assert_eq!(first["subscriptionId"], SUBSCRIPTION);
    assert_eq!(first["tenantId"], TENANT_ID);
    assert_eq!(first["displayName"], "Contoso Automation");
    assert_eq!(first["state"], "Enabled");

    let (status, tenants) = get(
        &format!("{arm}/tenants?api-version=2022-12-01"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenants["value"][0]["tenantId"], TENANT_ID);
    assert_eq!(tenants["value"][0]["defaultDomain"], TENANT_DOMAIN);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn arm_errors_are_arms() {
    let (platform, _world) = start_identity(false).await;
    let arm = format!("{}/arm", platform.url());
    let (status, body) = get(&format!("{arm}/subscriptions?api-version=2022-12-01"), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("InvalidAuthenticationToken"))
    );

    // A Power Platform token is not an ARM token.
    let pp = app_token_for(
        &platform,
        SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    let (status, _) = get(
        &format!("{arm}/subscriptions?api-version=2022-12-01"),
        Some(&pp),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let token = arm_token(&platform).await;
    let (status, body) = get(&format!("{arm}/subscriptions"), Some(&token)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MissingApiVersionParameter"))
    );
    // Twice is refused in ARM's own format, not in plain text.
    let (status, body) = get(
        &format!("{arm}/subscriptions?api-version=2022-12-01&api-version=2022-12-01"),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidApiVersionParameter"))
    );
    let (status, body) = get(
        &format!("{arm}/resourceGroups?api-version=2022-12-01"),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("InvalidResourceType"))
    );
    platform.shutdown().await.unwrap();
}
