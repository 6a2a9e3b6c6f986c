//! BAP's view of an environment, where Microsoft's tools find its Dataverse
//! URL: the admin scope for administrators and management apps, the user
//! scope for members, BAP's errors for everyone else.

use padconnect_testkit::Client;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const BAP_SCOPE: &str = "https://service.powerapps.com/.default";

/// App `app`'s token for BAP.
async fn app_token(platform: &padconnect_platform::RunningPlatform, app: &str) -> String {
    app_token_for(platform, app, BAP_SCOPE).await
}

async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    let reply = Client::new(url).token(token).get("").await;
    (reply.status, reply.body)
}

fn environment_url(
    platform: &padconnect_platform::RunningPlatform,
    admin: bool,
    id: &str,
) -> String {
    let scope = if admin { "scopes/admin/" } else { "" };
    format!(
        "{}/bap/providers/Microsoft.BusinessAppPlatform/{scope}environments/{id}?api-version=2023-06-01",
        platform.url()
    )
}

#[tokio::test]
async fn bap_names_an_environments_dataverse_to_whom_may_see_it() {
    let (platform, _world) = start_identity(false).await;
    let member = app_token(&platform, SECRET_APP).await;

    // A member that is no management app: the admin scope refuses it by
    // name, with the fix; the user scope answers.
    let (status, refused) = get(&environment_url(&platform, true, ENVIRONMENT), &member).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["code"], "Forbidden");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "The service principal with id '{SECRET_APP_OID}' for application {SECRET_APP} does not have permission to access the path '{}/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{ENVIRONMENT}?api-version=2023-06-01' in tenant {TENANT_ID}",
            platform.url()
        )),
        "{message}"
    );
    assert!(
        message.contains("pac admin application register"),
        "{message}"
    );

    let (status, environment) = get(&environment_url(&platform, false, ENVIRONMENT), &member).await;
    assert_eq!(status, StatusCode::OK, "{environment}");
    assert_eq!(environment["name"], ENVIRONMENT);
    let linked = &environment["properties"]["linkedEnvironmentMetadata"];
    assert_eq!(
        linked["instanceUrl"],
        format!("{}/orgs/contoso/", platform.url())
    );
    assert_eq!(linked["uniqueName"], "contoso");
    assert_eq!(environment["properties"]["tenantId"], TENANT_ID);

    // The tenant's administrator reads the admin scope.
    let admin = user_token(&platform, BAP_SCOPE).await;
    let (status, environment) = get(&environment_url(&platform, true, ENVIRONMENT), &admin).await;
    assert_eq!(status, StatusCode::OK, "{environment}");
    assert_eq!(
        environment["id"],
        format!("/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{ENVIRONMENT}")
    );

    // An app that is no member sees neither scope.
    let stranger = app_token(&platform, LONELY_APP).await;
    let (status, refused) = get(&environment_url(&platform, false, ENVIRONMENT), &stranger).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

    // An unknown environment and a malformed id are BAP's 404.
    for id in ["00000000-0000-0000-0000-000000000999", "not-an-environment"] {
        let (status, missing) = get(&environment_url(&platform, false, id), &member).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(missing["error"]["code"], "EnvironmentNotFound");
    }
}

#[tokio::test]
async fn bap_refuses_what_is_not_addressed_to_it() {
    let (platform, _world) = start_identity(false).await;
    let member = app_token(&platform, SECRET_APP).await;
    let url = environment_url(&platform, false, ENVIRONMENT);

    let without_version = url.split('?').next().unwrap();
    let (status, missing) = get(without_version, &member).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["error"]["code"], "MissingApiVersionParameter");

    // A token for the Power Platform API is not one for BAP.
    let api = app_token_for(
        &platform,
        SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    let response = Client::new(&url).token(&api).get("").await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let challenge = response.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("resource_id=\"https://service.powerapps.com/\""),
        "{challenge}"
    );
    assert_eq!(
        response.json()["error"]["code"],
        "InvalidAuthenticationToken"
    );

    let (status, unknown) = get(
        &format!(
            "{}/bap/providers/Microsoft.BusinessAppPlatform/environmentGroups",
            platform.url()
        ),
        &member,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown["error"]["code"], "ResourceNotFound");
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/terraform_environment")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `powerplatform_environments` data source, call by call
/// (`api_environment.go`: `GetEnvironments`, then per environment
/// `GetDefaultCurrencyForEnvironment`), each answer in the recorded shape.
#[tokio::test]
async fn the_terraform_environments_data_source_reads_the_list_and_each_currency() {
    let (platform, _world) = start_identity(false).await;
    let admin = user_token(&platform, BAP_SCOPE).await;
    let list_url = format!(
        "{}/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?%24expand=properties%2FbillingPolicy%2Cproperties%2FcopilotPolicies&api-version=2023-06-01",
        platform.url()
    );
    let (status, list) = get(&list_url, &admin).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    crate::solutions::assert_shape(&list, &fixture("get_environments.json"), "environments");
    let environments = list["value"].as_array().unwrap();
    assert!(environments.len() >= 2, "{list}");
    let production = environments
        .iter()
        .find(|e| e["name"] == ENVIRONMENT)
        .unwrap();
    let properties = &production["properties"];
    for (field, value) in [
        ("environmentSku", "Production"),
        ("azureRegion", "westus"),
        ("provisioningState", "Succeeded"),
    ] {
        assert_eq!(properties[field], value, "{field}");
    }
    assert_eq!(properties["updateCadence"]["id"], "Frequent");
    assert_eq!(
        properties["linkedEnvironmentMetadata"]["baseLanguage"],
        1033
    );
    let organization_id = properties["linkedEnvironmentMetadata"]["resourceId"].clone();

    // The member scope lists what the caller is a member of; the admin
    // scope refuses a member that administers nothing.
    let member = app_token(&platform, SECRET_APP).await;
    let (status, _) = get(&list_url, &member).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, mine) = get(
        &format!(
            "{}/bap/providers/Microsoft.BusinessAppPlatform/environments?api-version=2023-06-01",
            platform.url()
        ),
        &member,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let names = |list: &Value| -> Vec<String> {
        let mut names: Vec<String> = list["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let mut both = vec![ENVIRONMENT.to_owned(), OTHER_ENV.to_owned()];
    both.sort();
    assert_eq!(
        names(&mine),
        both,
        "the app is a member of both, and only of them"
    );
    // An app that is a member of no environment sees none of them.
    let lonely = app_token(&platform, LONELY_APP).await;
    let (status, none) = get(
        &format!(
            "{}/bap/providers/Microsoft.BusinessAppPlatform/environments?api-version=2023-06-01",
            platform.url()
        ),
        &lonely,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert!(names(&none).is_empty(), "{none}");

    // Dataverse: the organization, then its base currency by id.
    let dataverse = crate::dataverse::admin_token(&platform, crate::dataverse::DV_SCOPE).await;
    let org_url = format!("{}/orgs/contoso/api/data/v9.2", platform.url());
    let (status, organizations) = get(&format!("{org_url}/organizations"), &dataverse).await;
    assert_eq!(status, StatusCode::OK, "{organizations}");
    let organization = &organizations["value"][0];
    assert_eq!(organization["organizationid"], organization_id);
    assert!(organization["@odata.etag"].is_string());
    let currency_id = organization["_basecurrencyid_value"].as_str().unwrap();
    let (status, currencies) = get(
        &format!(
            "{org_url}/transactioncurrencies?%24filter=transactioncurrencyid%20eq%20{currency_id}"
        ),
        &dataverse,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{currencies}");
    crate::solutions::assert_shape(
        &json!({"value": [{"isocurrencycode": currencies["value"][0]["isocurrencycode"]}]}),
        &fixture("get_transactioncurrencies.json"),
        "transactioncurrencies",
    );
    assert_eq!(currencies["value"][0]["isocurrencycode"], "USD");
    assert_eq!(
        currencies["value"][0]["_organizationid_value"],
        organization_id
    );
}
