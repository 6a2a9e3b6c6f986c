//! Machines joining and leaving machine groups (silent registration's
//! `-joinmachinegroup`): the group password, the rights, the 50-machine
//! limit, and what joining does to connections that targeted the machine.

use padconnect_client::{ConnectionsClient, DesktopFlowConnection, Secret, Target};
use padconnect_core::{ConnectionId, EnvironmentId};
use padconnect_platform::RunningPlatform;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dataverse::*;
use crate::support::*;

const GROUP_PASSWORD: &str = "pool-password-1";

/// Registers a standalone machine as `token`'s principal; its id and hidden group.
async fn register(platform: &RunningPlatform, token: &str, name: &str) -> (String, String) {
    let reply = send(
        platform,
        token,
        Method::POST,
        "flowmachines",
        Some(json!({ "name": name })),
        &[("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (
        reply.body["flowmachineid"].as_str().unwrap().to_owned(),
        reply.body["_flowmachinegroupid_value"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn join(
    platform: &RunningPlatform,
    token: &str,
    machine: &str,
    group: &str,
    password: &str,
) -> Reply {
    send(
        platform,
        token,
        Method::POST,
        &format!("flowmachines({machine})/Microsoft.Dynamics.CRM.JoinGroup"),
        Some(json!({ "GroupId": group, "GroupPassword": password })),
        &[],
    )
    .await
}

async fn group_of(platform: &RunningPlatform, token: &str, machine: &str) -> String {
    get(platform, token, &format!("flowmachines({machine})"), None)
        .await
        .body["_flowmachinegroupid_value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A new group, created by the administrator and shared with the app with `mask`.
async fn pool(platform: &RunningPlatform, admin: &str, app_user: &str, mask: &str) -> String {
    let created = send(
        platform,
        admin,
        Method::POST,
        "flowmachinegroups",
        Some(json!({"name": "Pipeline pool"})),
        &[("Prefer", "return=representation")],
    )
    .await;
    let group = created.body["flowmachinegroupid"]
        .as_str()
        .unwrap()
        .to_owned();
    let granted = post(
        platform,
        admin,
        "GrantAccess",
        json!({
            "Target": {"flowmachinegroupid": group, "@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup"},
            "PrincipalAccess": {"AccessMask": mask, "Principal": {"systemuserid": app_user, "@odata.type": "Microsoft.Dynamics.CRM.systemuser"}}
        }),
    )
    .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.body);
    group
}

async fn me(platform: &RunningPlatform, token: &str) -> String {
    get(platform, token, "WhoAmI", None).await.body["UserId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn connections(platform: &RunningPlatform) -> ConnectionsClient {
    let token = app_token_for(
        platform,
        SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    ConnectionsClient::new(
        padconnect_testkit::http(),
        Target::platform(&platform.url()),
        token,
    )
}

fn status(connection: &Value) -> (&str, Option<&str>) {
    let status = &connection["properties"]["statuses"][0];
    (
        status["status"].as_str().unwrap(),
        status["error"]["code"].as_str(),
    )
}

#[tokio::test]
async fn the_first_machine_sets_the_group_password_and_later_ones_must_match() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let group = pool(
        &platform,
        &admin,
        &me(&platform, &app).await,
        "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, ShareAccess",
    )
    .await;
    let (first, first_hidden) = register(&platform, &app, "POOL-01").await;
    let (second, _) = register(&platform, &app, "POOL-02").await;

    // A connection to the standalone machine works until it joins a group.
    let env: EnvironmentId = ENVIRONMENT.parse().unwrap();
    let id: ConnectionId = uuid::Uuid::new_v4().to_string().parse().unwrap();
    let client = connections(&platform).await;
    let standalone = DesktopFlowConnection {
        display_name: None,
        parameter_set: padconnect_core::ParameterSet::AzureRelay,
        username: "CONTOSO\\pool-bot".into(),
        password: Secret::new("windows-password"),
        group_id: first_hidden.clone(),
        credential_id: None,
        run_owner: None,
    };
    let (_, created) = client.put(&env, &id, &standalone).await.unwrap();
    assert_eq!(status(&created), ("Connected", None));

    let short = join(&platform, &app, &first, &group, "short").await;
    assert_dataverse_error(&short, StatusCode::BAD_REQUEST, "0x80040203");
    assert!(
        short.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    let joined = join(&platform, &app, &first, &group, GROUP_PASSWORD).await;
    assert_eq!(joined.status, StatusCode::NO_CONTENT, "{}", joined.body);
    assert_eq!(group_of(&platform, &app, &first).await, group);
    // Joining again is harmless.
    assert_eq!(
        join(&platform, &app, &first, &group, "anything at all")
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let after = client.get(&env, &id).await.unwrap().unwrap();
    assert_eq!(status(&after), ("Error", Some("MachineJoinedGroup")));

    let wrong = join(&platform, &app, &second, &group, "not-the-password").await;
    assert_dataverse_error(&wrong, StatusCode::FORBIDDEN, "0x80040203");
    assert!(!wrong.body.to_string().contains("not-the-password"));
    assert_ne!(group_of(&platform, &app, &second).await, group);
    let right = join(&platform, &app, &second, &group, GROUP_PASSWORD).await;
    assert_eq!(right.status, StatusCode::NO_CONTENT, "{}", right.body);

    // A machine in a group leaves before it joins another.
    let other = pool(
        &platform,
        &admin,
        &me(&platform, &app).await,
        "ReadAccess, WriteAccess",
    )
    .await;
    let busy = join(&platform, &app, &second, &other, GROUP_PASSWORD).await;
    assert_dataverse_error(&busy, StatusCode::BAD_REQUEST, "0x80040203");
    assert!(
        busy.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LeaveGroup")
    );

    // Leaving makes it standalone again, in a new hidden group.
    let left = send(
        &platform,
        &app,
        Method::POST,
        &format!("flowmachines({second})/Microsoft.Dynamics.CRM.LeaveGroup"),
        None,
        &[],
    )
    .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.body);
    let hidden = group_of(&platform, &app, &second).await;
    assert_ne!(hidden, group);
    let hidden_row = get(
        &platform,
        &app,
        &format!("flowmachinegroups({hidden})"),
        None,
    )
    .await;
    assert_eq!(hidden_row.body["flowgrouptype"], 545_940_002);
    assert_eq!(hidden_row.body["name"], "POOL-02");
    let not_in_group = send(
        &platform,
        &app,
        Method::POST,
        &format!("flowmachines({second})/Microsoft.Dynamics.CRM.LeaveGroup"),
        None,
        &[],
    )
    .await;
    assert_dataverse_error(&not_in_group, StatusCode::BAD_REQUEST, "0x80040203");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn joining_takes_write_access_and_a_real_group() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let (machine, _) = register(&platform, &app, "BOT-11").await;

    // User on Finance bots: read and target, but not add machines.
    let as_user = join(&platform, &app, &machine, SHARED_GROUP, GROUP_PASSWORD).await;
    assert_dataverse_error(&as_user, StatusCode::FORBIDDEN, "0x80048306");
    assert!(
        as_user.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("WriteAccess")
    );
    // A standalone machine's hidden group is not a group to join.
    let hidden = join(
        &platform,
        &admin,
        &machine,
        STANDALONE_GROUP,
        GROUP_PASSWORD,
    )
    .await;
    assert_dataverse_error(&hidden, StatusCode::BAD_REQUEST, "0x80040203");
    let missing = join(
        &platform,
        &app,
        &machine,
        "00000000-0000-0000-0000-00000000abcd",
        GROUP_PASSWORD,
    )
    .await;
    assert_dataverse_error(&missing, StatusCode::NOT_FOUND, "0x80040217");
    let no_machine = join(
        &platform,
        &app,
        "00000000-0000-0000-0000-00000000abcd",
        SHARED_GROUP,
        GROUP_PASSWORD,
    )
    .await;
    assert_dataverse_error(&no_machine, StatusCode::NOT_FOUND, "0x80040217");
    let no_password = send(
        &platform,
        &app,
        Method::POST,
        &format!("flowmachines({machine})/Microsoft.Dynamics.CRM.JoinGroup"),
        Some(json!({ "GroupId": SHARED_GROUP })),
        &[],
    )
    .await;
    assert_dataverse_error(&no_password, StatusCode::BAD_REQUEST, "0x80060888");
    let on_group = send(
        &platform,
        &app,
        Method::POST,
        &format!("flowmachinegroups({SHARED_GROUP})/Microsoft.Dynamics.CRM.JoinGroup"),
        Some(json!({ "GroupId": SHARED_GROUP, "GroupPassword": GROUP_PASSWORD })),
        &[],
    )
    .await;
    assert_dataverse_error(&on_group, StatusCode::BAD_REQUEST, "0x80060888");
    let unknown_action = send(
        &platform,
        &app,
        Method::POST,
        &format!("flowmachines({machine})/Microsoft.Dynamics.CRM.Explode"),
        None,
        &[],
    )
    .await;
    assert_dataverse_error(&unknown_action, StatusCode::NOT_FOUND, "0x8006088a");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_group_holds_at_most_fifty_machines() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let group = pool(
        &platform,
        &admin,
        &me(&platform, &app).await,
        "ReadAccess, WriteAccess",
    )
    .await;
    for n in 0..50 {
        let (machine, _) = register(&platform, &app, &format!("FARM-{n:02}")).await;
        let joined = join(&platform, &app, &machine, &group, GROUP_PASSWORD).await;
        assert_eq!(
            joined.status,
            StatusCode::NO_CONTENT,
            "machine {n}: {}",
            joined.body
        );
    }
    let (extra, hidden) = register(&platform, &app, "FARM-50").await;
    let full = join(&platform, &app, &extra, &group, GROUP_PASSWORD).await;
    assert_dataverse_error(&full, StatusCode::BAD_REQUEST, "0x80040203");
    assert!(
        full.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50")
    );
    assert_eq!(group_of(&platform, &app, &extra).await, hidden);
    platform.shutdown().await.unwrap();
}
