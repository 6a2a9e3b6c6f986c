//! Key Vault and CyberArk credentials (Dataverse's `credential` table): a
//! connection may name one in `properties.credentialId`, which must be a
//! credential of the environment that the writer owns or that was shared
//! with it (set-runowner-desktopflowconnection.md).

use padconnect_platform::{Platform, RunningPlatform};
use padconnect_testkit::{
    Account, App, Credential, Environment, Group, Machine, Share, Tenant, World,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::connections::{app_token, assert_error, call, connection_path, seed_body};
use crate::dataverse::{DV_SCOPE, admin_token, assert_dataverse_error, get, names, post, send};
use crate::support::*;
use crate::windows_accounts::PAYROLL_GROUP;

const SHARED_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000001";
const PRIVATE_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000002";
const OWN_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000003";
const ELSEWHERE_CREDENTIAL: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000004";

fn world() -> World {
    world_with("Payroll vault", "CyberArkIdentity", SECRET_APP)
}

/// The world, with the first credential's name, the second's type and the
/// third's owner as given.
fn world_with(payroll_name: &str, treasury_kind: &str, pipeline_owner: &str) -> World {
    World::new().tenant(
        Tenant::new(TENANT_ID, TENANT_DOMAIN)
            // A public client: the maker signs in through it with a password.
            .app(
                App::new("deploy-pipeline", SECRET_APP)
                    .secret(SECRET)
                    .public_client(),
            )
            .user(USER, "Contoso Admin", PASSWORD)
            .environment(
                Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                    .application_user(SECRET_APP)
                    .maker(USER)
                    .group(
                        Group::new(PAYROLL_GROUP, "Payroll bots", USER)
                            .machine(
                                Machine::new("PAY-01").account(Account::new(
                                    "FABRIKAM\\payroll-svc",
                                    "Payr0ll-Pass!",
                                )),
                            )
                            .shared_with(Share::app(SECRET_APP, "user")),
                    )
                    .credential(
                        Credential::new(SHARED_CREDENTIAL, payroll_name, USER)
                            .shared_with(Share::app(SECRET_APP, "user")),
                    )
                    .credential(
                        Credential::new(PRIVATE_CREDENTIAL, "Treasury vault", USER)
                            .kind(treasury_kind),
                    )
                    .credential(
                        Credential::new(OWN_CREDENTIAL, "Pipeline certificate", pipeline_owner)
                            .kind("certificatebasedauthentication"),
                    ),
            )
            .environment(
                Environment::new(OTHER_ENV, "Contoso Test", "contoso-test")
                    .maker(USER)
                    .credential(Credential::new(ELSEWHERE_CREDENTIAL, "Test vault", USER)),
            ),
    )
}

async fn start() -> (RunningPlatform, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = world().write_to(dir.path());
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
        !message.contains("Treasury vault")
            && message.contains("shared with the service principal"),
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
    let long = "v".repeat(101);
    let path =
        world_with(&long, "HashiCorp", "nobody@contoso.onmicrosoft.com").write_to(dir.path());
    let error = padconnect_domain::world::World::from_file(&path)
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

/// `GrantAccess` of `mask` on a credential to a systemuser.
fn grant(credential: &str, principal: &str, mask: &str) -> Value {
    json!({
        "Target": { "@odata.type": "Microsoft.Dynamics.CRM.credential", "credentialid": credential },
        "PrincipalAccess": {
            "Principal": { "@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": principal },
            "AccessMask": mask,
        },
    })
}

#[tokio::test]
async fn dataverse_serves_credentials_to_read_and_share() {
    let (platform, _dir) = start().await;
    let maker = admin_token(&platform, DV_SCOPE).await;
    let app = crate::dataverse::app_token(&platform).await;

    // Each sees what it owns or was shared with it.
    let mine = get(
        &platform,
        &maker,
        "credentials?$select=name,connectiontype",
        None,
    )
    .await;
    assert_eq!(names(&mine), ["Payroll vault", "Treasury vault"]);
    let seen = get(&platform, &app, "credentials", None).await;
    assert_eq!(names(&seen), ["Payroll vault", "Pipeline certificate"]);
    let one = get(
        &platform,
        &maker,
        &format!("credentials({PRIVATE_CREDENTIAL})"),
        Some("odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\""),
    )
    .await;
    assert_eq!(one.body["connectiontype"], 4, "{}", one.body);
    assert_eq!(
        one.body["connectiontype@OData.Community.Display.V1.FormattedValue"],
        "CyberArkIdentity"
    );
    let hidden = get(
        &platform,
        &app,
        &format!("credentials({PRIVATE_CREDENTIAL})"),
        None,
    )
    .await;
    assert_dataverse_error(&hidden, StatusCode::FORBIDDEN, "0x80048306");
    let elsewhere = get(
        &platform,
        &maker,
        &format!("credentials({ELSEWHERE_CREDENTIAL})"),
        None,
    )
    .await;
    assert_dataverse_error(&elsewhere, StatusCode::NOT_FOUND, "0x80040217");
    let created = send(
        &platform,
        &maker,
        Method::POST,
        "credentials",
        Some(json!({ "name": "x" })),
        &[],
    )
    .await;
    assert_dataverse_error(&created, StatusCode::METHOD_NOT_ALLOWED, "0x80060888");

    // The app holds only Read on the shared one: it cannot share it on.
    let who = get(&platform, &app, "WhoAmI", None).await;
    let app_user = who.body["UserId"].as_str().unwrap().to_owned();
    let on = post(
        &platform,
        &app,
        "GrantAccess",
        grant(SHARED_CREDENTIAL, &app_user, "ReadAccess"),
    )
    .await;
    assert_dataverse_error(&on, StatusCode::FORBIDDEN, "0x80048306");

    // Until the owner shares it, a connection cannot use it; then it can.
    let token = app_token(&platform, SECRET_APP).await;
    let path = connection_path(&uuid::Uuid::new_v4().to_string());
    let put = async || {
        call(
            &platform,
            Method::PUT,
            &path,
            Some(&token),
            Some(&body(json!(PRIVATE_CREDENTIAL))),
        )
        .await
    };
    assert_error(
        &put().await,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    let granted = post(
        &platform,
        &maker,
        "GrantAccess",
        grant(PRIVATE_CREDENTIAL, &app_user, "ReadAccess"),
    )
    .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.body);
    let shared = get(
        &platform,
        &maker,
        &format!(
            "RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={{'@odata.id':'credentials({PRIVATE_CREDENTIAL})'}}"
        ),
        None,
    )
    .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    assert_eq!(
        shared.body["PrincipalAccesses"][0]["Principal"]["ownerid"],
        app_user
    );
    assert_eq!(
        shared.body["PrincipalAccesses"][0]["AccessMask"],
        "ReadAccess"
    );
    assert_eq!(put().await.status, StatusCode::CREATED);
    platform.shutdown().await.unwrap();
}
