//! Windows credentials, checked where the world declares a machine's
//! accounts (docs/world.md): a connection must name one of them with its
//! password, or it is refused as the service refuses it and nothing is kept.

use padconnect_platform::{Platform, RunningPlatform};
use padconnect_testkit::{Account, App, Environment, Group, Machine, Share, Tenant, World};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::connections::{app_token, assert_error, call, connection_path, seed_body};
use crate::support::*;

pub(crate) const PAYROLL_GROUP: &str = "e8b5a7f6-4d3c-4b2e-9a0f-1c2d3e4f5a6b";
const PAY_01: &str = "PAY-01";
const DARK_GROUP: &str = "f9c6b8a7-5e4d-4c3f-8b1a-2d3e4f5a6b7c";

pub(crate) async fn start() -> (RunningPlatform, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new()
        .tenant(
            Tenant::new(TENANT_ID, TENANT_DOMAIN)
                .app(App::new("deploy-pipeline", SECRET_APP).secret(SECRET))
                .user(USER, "Contoso Admin", PASSWORD)
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(SECRET_APP)
                        .maker(USER)
                        .group(
                            Group::new(PAYROLL_GROUP, "Payroll bots", USER)
                                .machine(
                                    Machine::new(PAY_01)
                                        .account(Account::new(
                                            "FABRIKAM\\payroll-svc",
                                            "Payr0ll-Pass!",
                                        ))
                                        .account(Account::new(
                                            format!("{PAY_01}\\local-bot"),
                                            "L0cal-Pass!",
                                        )),
                                )
                                .machine(Machine::new("PAY-02").offline())
                                .shared_with(Share::app(SECRET_APP, "user")),
                        )
                        .group(
                            Group::new(DARK_GROUP, "Dark bots", USER)
                                .machine(Machine::new("DARK-01").offline())
                                .shared_with(Share::app(SECRET_APP, "user")),
                        )
                        .group(
                            Group::new(SHARED_GROUP, "Finance bots", USER)
                                .machine(Machine::new("FIN-VM-01"))
                                .shared_with(Share::app(SECRET_APP, "user")),
                        ),
                ),
        )
        .write_to(dir.path());
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world);
    (Platform::start(config).await.unwrap(), dir)
}

pub(crate) fn body(group: &str, username: &str, password: &str) -> Value {
    let mut body = seed_body(ENVIRONMENT, group);
    let values = &mut body["properties"]["connectionParametersSet"]["values"];
    values["username"] = json!({ "value": username });
    values["password"] = json!({ "value": password });
    body
}

#[tokio::test]
async fn a_connection_names_a_declared_account_or_is_refused_as_the_service_refuses_it() {
    let (platform, _dir) = start().await;
    let token = app_token(&platform, SECRET_APP).await;
    let put = async |group: &str, username: &str, password: &str| {
        let path = connection_path(&uuid::Uuid::new_v4().to_string());
        let body = body(group, username, password);
        call(
            &platform,
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(&body),
        )
        .await
    };

    for (username, password) in [
        ("FABRIKAM\\payroll-svc", "Wrong-Pass!"),
        ("FABRIKAM\\someone-else", "Payr0ll-Pass!"),
        // A local account of PAY-01 has its password, not another's.
        (".\\local-bot", "Payr0ll-Pass!"),
    ] {
        let refused = put(PAYROLL_GROUP, username, password).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "ApiHubsRequestFailed");
        assert_eq!(
            refused.body["error"]["message"],
            "Aggregated detailed message"
        );
        let cause = refused.body["error"]["details"][0]["message"]
            .as_str()
            .unwrap();
        assert!(
            cause.starts_with("Connection failed: [Machine ")
                && cause.contains("There's an issue with your credentials."),
            "{username}: {cause}"
        );
        assert!(
            !refused.text.contains(password),
            "the password is not echoed"
        );
    }
    assert_eq!(
        platform.store().counts().await.unwrap().connections,
        0,
        "a refused connection is not kept"
    );

    // Every spelling of an account, any case; a Key Vault reference is
    // resolved on the machine, not here; a group without declared accounts
    // takes any.
    for (group, username, password) in [
        (PAYROLL_GROUP, "fabrikam\\PAYROLL-SVC", "Payr0ll-Pass!"),
        (PAYROLL_GROUP, "local-bot", "L0cal-Pass!"),
        (PAYROLL_GROUP, ".\\local-bot", "L0cal-Pass!"),
        (PAYROLL_GROUP, "PAY-01\\local-bot", "L0cal-Pass!"),
        (PAYROLL_GROUP, "@environmentVariables(\"new_bot\")", "none"),
        (SHARED_GROUP, "CONTOSO\\anyone", "any-password"),
    ] {
        let created = put(group, username, password).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{username}: {}",
            created.text
        );
    }
    platform.shutdown().await.unwrap();
}

#[test]
fn a_world_account_must_be_a_windows_account_with_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new()
        .tenant(
            Tenant::new(TENANT_ID, TENANT_DOMAIN)
                .user(USER, "Contoso Admin", PASSWORD)
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .maker(USER)
                        .group(
                            Group::new(PAYROLL_GROUP, "Payroll bots", USER).machine(
                                Machine::new("PAY-01")
                                    .account(Account::new("bad|name", "x"))
                                    .account(Account::new("FABRIKAM\\svc", "")),
                            ),
                        ),
                ),
        )
        .write_to(dir.path());
    let error = padconnect_domain::world::World::from_file(&world)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("machines[0].accounts[0].username: 'bad|name' is not a Windows account"),
        "{error}"
    );
    assert!(
        error.contains("machines[0].accounts[1].password: must have 1 to 256 characters"),
        "{error}"
    );
}

/// A PUT that creates a connection answers the status a GET then reads:
/// the answer's facts come from the PUT's own checks and a read of the
/// group's machines, not from the join a GET runs, so both are held to
/// one answer here, for a group whose account was verified, one whose
/// machines are all offline and one that declares no accounts.
#[tokio::test]
async fn a_new_connections_status_is_the_one_a_get_reads() {
    let (platform, _dir) = start().await;
    let token = app_token(&platform, SECRET_APP).await;
    for (group, username, password, expected) in [
        (
            PAYROLL_GROUP,
            "FABRIKAM\\payroll-svc",
            "Payr0ll-Pass!",
            "Connected",
        ),
        (
            DARK_GROUP,
            "CONTOSO\\anyone",
            "any-password",
            "MachineOffline",
        ),
        (SHARED_GROUP, "CONTOSO\\anyone", "any-password", "Connected"),
    ] {
        let path = connection_path(&uuid::Uuid::new_v4().to_string());
        let body = body(group, username, password);
        let put = call(
            &platform,
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(&body),
        )
        .await;
        assert_eq!(put.status, StatusCode::CREATED, "{group}: {}", put.text);
        let get = call(&platform, reqwest::Method::GET, &path, Some(&token), None).await;
        let statuses = &put.body["properties"]["statuses"];
        assert_eq!(statuses, &get.body["properties"]["statuses"], "{group}");
        let shown = statuses[0]["error"]["code"]
            .as_str()
            .or(statuses[0]["status"].as_str());
        assert_eq!(shown, Some(expected), "{group}: {statuses}");
    }
}
