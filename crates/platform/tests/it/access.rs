//! Reading access (RetrievePrincipalAccess, RetrieveSharedPrincipalsAndAccess)
//! and managing application users through the Web API.

use padconnect_platform::RunningPlatform;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::dataverse::*;
use crate::support::*;

async fn who_am_i(platform: &RunningPlatform, token: &str) -> String {
    get(platform, token, "WhoAmI", None).await.body["UserId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn principal_access(user: &str, target: &str) -> String {
    format!(
        "systemusers({user})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)?@p1={{'@odata.id':'{target}'}}"
    )
}

#[tokio::test]
async fn principal_access_tells_each_principals_rights() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let me = who_am_i(&platform, &app).await;
    let admin_user = who_am_i(&platform, &admin).await;

    // The app was shared Finance bots as User; its machines share the rights.
    for target in [
        format!("flowmachinegroups({SHARED_GROUP})"),
        format!(
            "{}/orgs/contoso/api/data/v9.2/flowmachinegroups({SHARED_GROUP})",
            platform.url()
        ),
    ] {
        let reply = get(&platform, &app, &principal_access(&me, &target), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["AccessRights"], "ReadAccess, AppendToAccess");
        assert!(
            reply.body["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("$metadata#Microsoft.Dynamics.CRM.RetrievePrincipalAccessResponse")
        );
    }
    let machine = get(
        &platform,
        &app,
        "flowmachines?$filter=name eq 'FIN-VM-01'",
        None,
    )
    .await
    .body["value"][0]["flowmachineid"]
        .as_str()
        .unwrap()
        .to_owned();
    let on_machine = get(
        &platform,
        &app,
        &principal_access(&me, &format!("flowmachines({machine})")),
        None,
    )
    .await;
    assert_eq!(
        on_machine.body["AccessRights"],
        "ReadAccess, AppendToAccess"
    );

    // The administrator holds every right, and may ask about anyone.
    let all = get(
        &platform,
        &admin,
        &principal_access(&admin_user, &format!("flowmachinegroups({PRIVATE_GROUP})")),
        None,
    )
    .await;
    assert_eq!(
        all.body["AccessRights"],
        "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess, DeleteAccess, ShareAccess, AssignAccess"
    );
    let none = get(
        &platform,
        &admin,
        &principal_access(&me, &format!("flowmachinegroups({PRIVATE_GROUP})")),
        None,
    )
    .await;
    assert_eq!(none.body["AccessRights"], "None");

    // Nobody reads the access of a record it cannot read.
    let hidden = get(
        &platform,
        &app,
        &principal_access(&me, &format!("flowmachinegroups({PRIVATE_GROUP})")),
        None,
    )
    .await;
    assert_dataverse_error(&hidden, StatusCode::FORBIDDEN, "0x80048306");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn principal_access_refuses_what_it_cannot_read() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let me = who_am_i(&platform, &app).await;
    let missing_group = get(
        &platform,
        &app,
        &principal_access(
            &me,
            "flowmachinegroups(00000000-0000-0000-0000-00000000abcd)",
        ),
        None,
    )
    .await;
    assert_dataverse_error(&missing_group, StatusCode::NOT_FOUND, "0x80040217");
    let missing_user = get(
        &platform,
        &app,
        &principal_access(
            "00000000-0000-0000-0000-00000000abcd",
            &format!("flowmachinegroups({SHARED_GROUP})"),
        ),
        None,
    )
    .await;
    assert_dataverse_error(&missing_user, StatusCode::NOT_FOUND, "0x80040217");
    let no_alias = get(
        &platform,
        &app,
        &format!("systemusers({me})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)"),
        None,
    )
    .await;
    assert_dataverse_error(&no_alias, StatusCode::BAD_REQUEST, "0x80060888");
    assert!(
        no_alias.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("@p1")
    );
    let not_a_reference = get(
        &platform,
        &app,
        &format!(
            "systemusers({me})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)?@p1={SHARED_GROUP}"
        ),
        None,
    )
    .await;
    assert_dataverse_error(&not_a_reference, StatusCode::BAD_REQUEST, "0x80060888");
    let on_a_group = get(
        &platform,
        &app,
        &format!(
            "flowmachinegroups({SHARED_GROUP})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)?@p1={{'@odata.id':'flowmachinegroups({SHARED_GROUP})'}}"
        ),
        None,
    )
    .await;
    assert_dataverse_error(&on_a_group, StatusCode::BAD_REQUEST, "0x80060888");
    let unknown_function = get(
        &platform,
        &app,
        &format!("systemusers({me})/Microsoft.Dynamics.CRM.RetrieveEverything()"),
        None,
    )
    .await;
    assert_dataverse_error(&unknown_function, StatusCode::NOT_FOUND, "0x8006088a");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn shared_principals_list_who_a_group_was_shared_with() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let me = who_am_i(&platform, &app).await;
    let path = format!(
        "RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={{'@odata.id':'flowmachinegroups({SHARED_GROUP})'}}"
    );
    let reply = get(&platform, &admin, &path, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["PrincipalAccesses"],
        json!([{
            "AccessMask": "ReadAccess, AppendToAccess",
            "Principal": {"@odata.type": "#Microsoft.Dynamics.CRM.systemuser", "ownerid": me}
        }])
    );
    // The namespaced spelling answers the same; the group's owner is no share.
    let namespaced = get(
        &platform,
        &app,
        &format!("Microsoft.Dynamics.CRM.{path}"),
        None,
    )
    .await;
    assert_eq!(
        namespaced.body["PrincipalAccesses"],
        reply.body["PrincipalAccesses"]
    );
    let private = get(
        &platform,
        &admin,
        &format!(
            "RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={{'@odata.id':'flowmachinegroups({PRIVATE_GROUP})'}}"
        ),
        None,
    )
    .await;
    assert_eq!(private.body["PrincipalAccesses"], json!([]));
    let denied = get(
        &platform,
        &app,
        &format!(
            "RetrieveSharedPrincipalsAndAccess(Target=@p1)?@p1={{'@odata.id':'flowmachinegroups({PRIVATE_GROUP})'}}"
        ),
        None,
    )
    .await;
    assert_dataverse_error(&denied, StatusCode::FORBIDDEN, "0x80048306");
    platform.shutdown().await.unwrap();
}

async fn lonely_token(platform: &RunningPlatform) -> String {
    app_token_for(platform, LONELY_APP, DV_SCOPE).await
}

#[tokio::test]
async fn administrators_add_and_disable_application_users() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let lonely = lonely_token(&platform).await;
    let body = json!({
        "accessmode": 4,
        "applicationid": LONELY_APP,
        "businessunitid@odata.bind": "/businessunits(00000000-0000-0000-0000-000000000001)",
        "isdisabled": false,
    });

    // Before: the lonely app has no application user, so no entry.
    let outside = get(&platform, &lonely, "WhoAmI", None).await;
    assert_dataverse_error(&outside, StatusCode::FORBIDDEN, "0x80072560");

    // Only an administrator adds one.
    let not_admin = send(
        &platform,
        &app,
        Method::POST,
        "systemusers",
        Some(body.clone()),
        &[],
    )
    .await;
    assert_dataverse_error(&not_admin, StatusCode::FORBIDDEN, "0x80040220");
    assert!(
        not_admin.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prvCreateUser")
    );
    let unknown_app = send(
        &platform,
        &admin,
        Method::POST,
        "systemusers",
        Some(json!({"applicationid": "99999999-8888-4777-8666-555555555555"})),
        &[],
    )
    .await;
    assert_dataverse_error(&unknown_app, StatusCode::BAD_REQUEST, "0x80040203");
    let wrong_mode = send(
        &platform,
        &admin,
        Method::POST,
        "systemusers",
        Some(json!({"applicationid": LONELY_APP, "accessmode": 0})),
        &[],
    )
    .await;
    assert_dataverse_error(&wrong_mode, StatusCode::BAD_REQUEST, "0x80060888");

    let added = send(
        &platform,
        &admin,
        Method::POST,
        "systemusers",
        Some(body.clone()),
        &[("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["applicationid"], LONELY_APP);
    assert_eq!(added.body["accessmode"], 4);
    assert_eq!(added.body["fullname"], "lonely");
    let user_id = added.body["systemuserid"].as_str().unwrap().to_owned();
    assert_eq!(who_am_i(&platform, &lonely).await, user_id);

    // One application user per app and environment.
    let again = send(
        &platform,
        &admin,
        Method::POST,
        "systemusers",
        Some(body),
        &[],
    )
    .await;
    assert_dataverse_error(&again, StatusCode::PRECONDITION_FAILED, "0x80040237");

    // Disabling it shuts the app out; only administrators may.
    let by_app = send(
        &platform,
        &app,
        Method::PATCH,
        &format!("systemusers({user_id})"),
        Some(json!({"isdisabled": true})),
        &[],
    )
    .await;
    assert_dataverse_error(&by_app, StatusCode::FORBIDDEN, "0x80040220");
    let stale = send(
        &platform,
        &admin,
        Method::PATCH,
        &format!("systemusers({user_id})"),
        Some(json!({"isdisabled": true})),
        &[("If-Match", "W/\"7\"")],
    )
    .await;
    assert_dataverse_error(&stale, StatusCode::PRECONDITION_FAILED, "0x80060882");
    let disabled = send(
        &platform,
        &admin,
        Method::PATCH,
        &format!("systemusers({user_id})"),
        Some(json!({"isdisabled": true})),
        &[("If-Match", "W/\"1\""), ("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(disabled.body["isdisabled"], true);
    let shut_out = get(&platform, &lonely, "WhoAmI", None).await;
    assert_dataverse_error(&shut_out, StatusCode::FORBIDDEN, "0x80072560");
    let not_a_flag = send(
        &platform,
        &admin,
        Method::PATCH,
        &format!("systemusers({user_id})"),
        Some(json!({"isdisabled": "yes"})),
        &[],
    )
    .await;
    assert_dataverse_error(&not_a_flag, StatusCode::BAD_REQUEST, "0x80060888");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn machines_are_renamed_by_whoever_may_write_their_group() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let machine = get(
        &platform,
        &admin,
        "flowmachines?$filter=name eq 'FIN-VM-01'",
        None,
    )
    .await
    .body["value"][0]
        .clone();
    let id = machine["flowmachineid"].as_str().unwrap();
    // A User of the group reads the machine but may not change it.
    let denied = send(
        &platform,
        &app,
        Method::PATCH,
        &format!("flowmachines({id})"),
        Some(json!({"description": "mine now"})),
        &[],
    )
    .await;
    assert_dataverse_error(&denied, StatusCode::FORBIDDEN, "0x80048306");
    assert!(
        denied.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("WriteAccess")
    );
    let renamed = send(
        &platform,
        &admin,
        Method::PATCH,
        &format!("flowmachines({id})"),
        Some(json!({"description": "Finance VM"})),
        &[
            ("If-Match", machine["@odata.etag"].as_str().unwrap()),
            ("Prefer", "return=representation"),
        ],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["description"], "Finance VM");
    assert_eq!(renamed.body["name"], "FIN-VM-01");
    assert_eq!(
        renamed.body["versionnumber"].as_i64(),
        machine["versionnumber"].as_i64().map(|v| v + 1)
    );
    let moved = send(
        &platform,
        &admin,
        Method::PATCH,
        &format!("flowmachines({id})"),
        Some(json!({"FlowMachineGroupId@odata.bind": format!("/flowmachinegroups({PRIVATE_GROUP})")})),
        &[],
    )
    .await;
    assert_dataverse_error(&moved, StatusCode::BAD_REQUEST, "0x80060888");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sharer_gives_only_rights_it_holds() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let me = who_am_i(&platform, &app).await;
    let access = |principal: &str, mask: &str| {
        json!({
            "Target": {"flowmachinegroupid": PRIVATE_GROUP, "@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup"},
            "PrincipalAccess": {"AccessMask": mask, "Principal": {"systemuserid": principal, "@odata.type": "Microsoft.Dynamics.CRM.systemuser"}}
        })
    };
    let given = post(
        &platform,
        &admin,
        "ModifyAccess",
        access(&me, "ReadAccess, ShareAccess"),
    )
    .await;
    assert_eq!(given.status, StatusCode::NO_CONTENT, "{}", given.body);

    // It may share what it holds, but not raise itself (or anyone) above it.
    let raised = post(
        &platform,
        &app,
        "GrantAccess",
        access(&me, "WriteAccess, DeleteAccess"),
    )
    .await;
    assert_dataverse_error(&raised, StatusCode::FORBIDDEN, "0x80048306");
    assert!(
        raised.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("WriteAccess, DeleteAccess")
    );
    let modified = post(
        &platform,
        &app,
        "ModifyAccess",
        access(&me, "ReadAccess, WriteAccess, ShareAccess"),
    )
    .await;
    assert_dataverse_error(&modified, StatusCode::FORBIDDEN, "0x80048306");
    let rights = get(
        &platform,
        &admin,
        &principal_access(&me, &format!("flowmachinegroups({PRIVATE_GROUP})")),
        None,
    )
    .await;
    assert_eq!(rights.body["AccessRights"], "ReadAccess, ShareAccess");
    let within = post(&platform, &app, "GrantAccess", access(&me, "ReadAccess")).await;
    assert_eq!(within.status, StatusCode::NO_CONTENT, "{}", within.body);
    platform.shutdown().await.unwrap();
}
