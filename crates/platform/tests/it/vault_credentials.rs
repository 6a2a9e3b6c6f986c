//! Key Vault and CyberArk credentials (Dataverse's `credential` table): a
//! connection may name one in `properties.credentialId`, which must be a
//! credential of the environment that the writer owns or that was shared
//! with it (set-runowner-desktopflowconnection.md).

use padconnect_platform::{Platform, RunningPlatform};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::connections::{app_token, assert_error, call, connection_path, seed_body};
use crate::support::*;
use crate::windows_accounts::PAYROLL_GROUP;

const SHARED_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000001";
const PRIVATE_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000002";
const OWN_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000003";
const ELSEWHERE_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000004";

fn world() -> String {
    format!(
        r#"
[[tenants]]
id = "{TENANT_ID}"
domain = "{TENANT_DOMAIN}"

[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "{SECRET_APP}"
secrets = ["{SECRET}"]

[[tenants.users]]
upn = "{USER}"
display_name = "Contoso Admin"
password = "{PASSWORD}"

[[tenants.environments]]
id = "{ENVIRONMENT}"
display_name = "Contoso Production"
org = "contoso"
application_users = ["{SECRET_APP}"]
makers = ["{USER}"]

[[tenants.environments.machine_groups]]
id = "{PAYROLL_GROUP}"
name = "Payroll bots"
owner = "{USER}"
machines = [{{ name = "PAY-01", accounts = [{{ username = "FABRIKAM\\payroll-svc", password = "Payr0ll-Pass!" }}] }}]
shared_with = [{{ client_id = "{SECRET_APP}", role = "user" }}]

[[tenants.environments.credentials]]
id = "{SHARED_CREDENTIAL}"
name = "Payroll vault"
owner = "{USER}"
shared_with = [{{ client_id = "{SECRET_APP}", role = "user" }}]

[[tenants.environments.credentials]]
id = "{PRIVATE_CREDENTIAL}"
name = "Treasury vault"
owner = "{USER}"
type = "CyberArkIdentity"

[[tenants.environments.credentials]]
id = "{OWN_CREDENTIAL}"
name = "Pipeline certificate"
owner = "{SECRET_APP}"
type = "certificatebasedauthentication"

[[tenants.environments]]
id = "{OTHER_ENV}"
display_name = "Contoso Test"
org = "contoso-test"
makers = ["{USER}"]

[[tenants.environments.credentials]]
id = "{ELSEWHERE_CREDENTIAL}"
name = "Test vault"
owner = "{USER}"
"#
    )
}

async fn start() -> (RunningPlatform, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.toml");
    std::fs::write(&path, world()).unwrap();
    let mut config = config(&dir.path().join("data"));
    config.world = Some(path);
    (Platform::start(config).await.unwrap(), dir)
}

/// The run-owner document's Key Vault body, without the run owner: the
/// account and password are environment variables resolved on the machine.
fn body(credential: Value) -> Value {
    let mut body = seed_body(ENVIRONMENT, PAYROLL_GROUP);
    let values = &mut body["properties"]["connectionParametersSet"]["values"];
    values["username"] = json!({ "value": "@environmentVariables(\"new_PayrollLogin\")" });
    values["password"] = json!({ "value": "none" });
    body["properties"]["credentialId"] = credential;
    body
}

#[tokio::test]
async fn a_connection_names_a_credential_that_is_its_own_or_shared_with_it() {
    let (platform, _dir) = start().await;
    let token = app_token(&platform, SECRET_APP).await;
    for credential in [SHARED_CREDENTIAL, OWN_CREDENTIAL] {
        let path = connection_path(&uuid::Uuid::new_v4().to_string());
        let created = call(
            &platform,
            Method::PUT,
            &path,
            Some(&token),
            Some(&body(json!(credential))),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["properties"]["credentialId"], credential);
        let read = call(&platform, Method::GET, &path, Some(&token), None).await;
        assert_eq!(read.body["properties"]["credentialId"], credential);
        assert_eq!(
            read.body["properties"]["statuses"][0]["status"], "Connected",
            "{}",
            read.text
        );
    }

    // Without one, the connection says nothing of credentials.
    let path = connection_path(&uuid::Uuid::new_v4().to_string());
    let mut plain = body(Value::Null);
    plain["properties"]
        .as_object_mut()
        .unwrap()
        .remove("credentialId");
    let created = call(&platform, Method::PUT, &path, Some(&token), Some(&plain)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(created.body["properties"].get("credentialId").is_none());
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unshared_unknown_or_malformed_credential_is_refused_and_nothing_is_kept() {
    let (platform, _dir) = start().await;
    let token = app_token(&platform, SECRET_APP).await;
    let put = async |credential: Value| {
        let path = connection_path(&uuid::Uuid::new_v4().to_string());
        call(
            &platform,
            Method::PUT,
            &path,
            Some(&token),
            Some(&body(credential)),
        )
        .await
    };

    let unshared = put(json!(PRIVATE_CREDENTIAL)).await;
    assert_error(
        &unshared,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    let message = unshared.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Treasury vault") && message.contains("shared with the service principal"),
        "{message}"
    );

    for credential in [
        json!("9f9f9f9f-0000-4000-8000-000000000000"),
        json!(ELSEWHERE_CREDENTIAL),
        json!("not-a-guid"),
        json!(42),
    ] {
        let refused = put(credential.clone()).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "InvalidCredentialId");
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(ENVIRONMENT),
            "{credential}: {}",
            refused.text
        );
    }
    assert_eq!(
        platform.store().counts().await.unwrap().connections,
        0,
        "a refused connection is not kept"
    );
    platform.shutdown().await.unwrap();
}

#[test]
fn a_world_credential_has_a_name_a_known_type_and_an_owner_of_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.toml");
    let long = "v".repeat(101);
    let world = world()
        .replace("name = \"Payroll vault\"", &format!("name = \"{long}\""))
        .replace("type = \"CyberArkIdentity\"", "type = \"HashiCorp\"")
        .replace(
            &format!("name = \"Pipeline certificate\"\nowner = \"{SECRET_APP}\""),
            "name = \"Pipeline certificate\"\nowner = \"nobody@contoso.onmicrosoft.com\"",
        );
    std::fs::write(&path, world).unwrap();
    let error = padconnect_platform::world::World::from_file(&path)
        .unwrap_err()
        .to_string();
    for expected in [
        "environments[0].credentials[0].name: must be at most 100 characters",
        "environments[0].credentials[1].type: 'HashiCorp' is not a credential type",
        "environments[0].credentials[2].owner: 'nobody@contoso.onmicrosoft.com' must be one of the environment's makers",
    ] {
        assert!(error.contains(expected), "{expected}\n{error}");
    }
}
