//! The Dataverse Web API subset: tables, OData queries, sharing, rights.

use padconnect_client::Secret;
use padconnect_platform::RunningPlatform;
use padconnect_testkit::Client;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

pub const DV_SCOPE: &str = "https://contoso.crm.dynamics.com/.default";

/// The secret app's token for Dataverse.
pub async fn app_token(platform: &RunningPlatform) -> String {
    app_token_for(platform, SECRET_APP, DV_SCOPE).await
}

/// The administrator's token for `scope`.
pub async fn admin_token(platform: &RunningPlatform, scope: &str) -> String {
    user_token(platform, scope).await
}

pub use padconnect_testkit::Reply;

/// The contoso org's Web API.
pub fn dv_client(platform: &RunningPlatform) -> Client {
    Client::new(format!("{}/orgs/contoso/api/data/v9.2", platform.url()))
}

/// `GET path` with `OData-Version` and, when given, `Prefer`.
pub async fn get(
    platform: &RunningPlatform,
    token: &str,
    path: &str,
    prefer: Option<&str>,
) -> Reply {
    let mut client = dv_client(platform)
        .token(token)
        .header("OData-Version", "4.0");
    if let Some(prefer) = prefer {
        client = client.header("Prefer", prefer);
    }
    client.get(path).await
}

pub async fn post(platform: &RunningPlatform, token: &str, action: &str, body: Value) -> Reply {
    dv_client(platform)
        .token(token)
        .post_json(action, &body)
        .await
}

pub async fn send(
    platform: &RunningPlatform,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    dv_client(platform)
        .token(token)
        .send(method, path, headers, body.as_ref())
        .await
}

pub fn names(reply: &Reply) -> Vec<&str> {
    reply.body["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", reply.body))
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

pub fn assert_dataverse_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
}

#[tokio::test]
async fn a_service_principal_reads_the_groups_shared_with_it() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let all = get(
        &platform,
        &token,
        "flowmachinegroups?$select=name,flowgrouptype&$orderby=name",
        None,
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        names(&all),
        vec!["Finance bots", "LAPTOP-07"],
        "not HR bots, which is not shared"
    );
    assert_eq!(
        all.body["@odata.context"],
        format!(
            "{}/orgs/contoso/api/data/v9.2/$metadata#flowmachinegroups(name,flowgrouptype)",
            platform.url()
        )
    );
    let row = &all.body["value"][0];
    assert_eq!(
        row["flowmachinegroupid"], SHARED_GROUP,
        "the key is always returned"
    );
    assert_eq!(row["flowgrouptype"], 545_940_001);
    assert!(row["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert!(row["description"].is_null(), "only the selected columns");

    // The seed's way to a standalone machine's group id.
    let machine = get(
        &platform,
        &token,
        "flowmachines?$filter=name eq 'LAPTOP-07'&$select=name,_flowmachinegroupid_value",
        None,
    )
    .await;
    assert_eq!(
        machine.body["value"][0]["_flowmachinegroupid_value"], STANDALONE_GROUP,
        "{}",
        machine.body
    );
    let group = get(
        &platform,
        &token,
        &format!("flowmachinegroups({STANDALONE_GROUP})"),
        None,
    )
    .await;
    assert_eq!(
        group.body["flowgrouptype"], 545_940_002,
        "the hidden Default group"
    );
    assert!(
        group.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#flowmachinegroups/$entity")
    );

    let me = get(
        &platform,
        &token,
        &format!("systemusers?$filter=applicationid eq {SECRET_APP}"),
        None,
    )
    .await;
    assert_eq!(me.body["value"].as_array().unwrap().len(), 1, "{}", me.body);
    assert_eq!(me.body["value"][0]["accessmode"], 4);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn rows_without_rights_and_missing_rows_get_dataverse_errors() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let private = get(
        &platform,
        &token,
        &format!("flowmachinegroups({PRIVATE_GROUP})"),
        None,
    )
    .await;
    assert_dataverse_error(&private, StatusCode::FORBIDDEN, "0x80048306");
    assert!(
        private.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not have ReadAccess")
    );
    let missing = get(
        &platform,
        &token,
        "flowmachinegroups(11111111-2222-3333-4444-555555555555)",
        None,
    )
    .await;
    assert_dataverse_error(&missing, StatusCode::NOT_FOUND, "0x80040217");
    assert_eq!(
        missing.body["error"]["message"],
        "flowmachinegroup With Id = 11111111-2222-3333-4444-555555555555 Does Not Exist"
    );

    for (path, code, status) in [
        (
            "flowmachinegroups?$expand=owninguser",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        (
            "flowmachinegroups?$select=name,colour",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        (
            "flowmachinegroups?$filter=name like 'x'",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        (
            "flowmachinegroups(not-a-guid)",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        (
            "flowmachinegroups?savedQuery=00000000-0000-0000-00aa-000010001002",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        // A parameter Dataverse does not know is refused, not ignored
        // (which would answer every row): the Python SDK's `query.sql`.
        (
            "flowmachinegroups?sql=SELECT%20TOP%201%20name%20FROM%20flowmachinegroup",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        (
            "flowmachinegroups?utm_source=x",
            "0x80060888",
            StatusCode::BAD_REQUEST,
        ),
        ("accounts", "0x8006088a", StatusCode::NOT_FOUND),
    ] {
        assert_dataverse_error(&get(&platform, &token, path, None).await, status, code);
    }
    platform.shutdown().await.unwrap();
}

/// A `$filter` nested thousands deep once overflowed the worker's stack and
/// took the whole process down; now it is refused as Dataverse refuses it,
/// and the platform goes on answering.
#[tokio::test]
async fn deep_filters_are_refused_and_the_platform_stays_up() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let nested = |depth: usize, condition: &str| {
        format!("{}{condition}{}", "(".repeat(depth), ")".repeat(depth))
    };
    for path in [
        format!("flowmachinegroups?$filter={}", nested(2_500, "name eq 'x'")),
        format!(
            "flowmachinegroups?$filter={}",
            "not ".repeat(5_000) + "name eq 'x'"
        ),
        format!(
            "EntityDefinitions?$filter={}",
            nested(2_500, "LogicalName eq 'x'")
        ),
    ] {
        let reply = get(&platform, &token, &path, None).await;
        assert_dataverse_error(&reply, StatusCode::BAD_REQUEST, "0x80060888");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Recursion depth exceeded allowed limit."),
            "{message}"
        );
    }
    // Just inside the limit still works, on a worker thread's stack.
    let reply = get(
        &platform,
        &token,
        &format!("flowmachinegroups?$filter={}", nested(250, "name eq 'x'")),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn administrators_see_everything_in_pages() {
    let (platform, _world) = start_identity(false).await;
    let token = admin_token(&platform, DV_SCOPE).await;
    let first = get(
        &platform,
        &token,
        "flowmachinegroups?$select=name&$count=true&$orderby=name desc",
        // Preference names compare without case, as the OData library's.
        Some("ODATA.MaxPageSize=2, odata.include-annotations=\"*\""),
    )
    .await;
    assert_eq!(first.body["@odata.count"], 3);
    assert_eq!(names(&first), vec!["LAPTOP-07", "HR bots"]);
    // Both preferences were honoured, and say so.
    assert_eq!(
        first.headers["preference-applied"],
        "odata.maxpagesize=2,odata.include-annotations=\"*\""
    );
    let next = first.body["@odata.nextLink"].as_str().unwrap();
    let path = next.split("/api/data/v9.2/").nth(1).unwrap();
    let second = get(&platform, &token, path, Some("odata.maxpagesize=2")).await;
    assert_eq!(names(&second), vec!["Finance bots"]);
    assert!(second.body["@odata.nextLink"].is_null());
    // The largest page size a client can write, from the second row on.
    let huge = get(
        &platform,
        &token,
        path,
        Some("odata.maxpagesize=18446744073709551615"),
    )
    .await;
    assert_eq!(huge.status, StatusCode::OK, "{}", huge.body);
    assert_eq!(names(&huge), vec!["Finance bots"]);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn sharing_a_group_lets_the_service_principal_connect_and_revoking_breaks_it() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let me = get(&platform, &app, "WhoAmI", None).await.body["UserId"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = |group: &str, principal: &str, mask: &str| {
        json!({
            "Target": {"flowmachinegroupid": group, "@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup"},
            "PrincipalAccess": {"AccessMask": mask, "Principal": {"systemuserid": principal, "@odata.type": "Microsoft.Dynamics.CRM.systemuser"}}
        })
    };

    // A User of a group may not share it further.
    let denied = post(
        &platform,
        &app,
        "GrantAccess",
        grant(SHARED_GROUP, &me, "ReadAccess"),
    )
    .await;
    assert_dataverse_error(&denied, StatusCode::FORBIDDEN, "0x80048306");
    assert!(
        denied.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ShareAccess")
    );
    let bad_mask = post(
        &platform,
        &admin,
        "GrantAccess",
        grant(PRIVATE_GROUP, &me, "ReadAccess, Everything"),
    )
    .await;
    assert_dataverse_error(&bad_mask, StatusCode::BAD_REQUEST, "0x80060888");
    let nobody = post(
        &platform,
        &admin,
        "GrantAccess",
        grant(
            PRIVATE_GROUP,
            "11111111-2222-3333-4444-555555555555",
            "ReadAccess",
        ),
    )
    .await;
    assert_dataverse_error(&nobody, StatusCode::NOT_FOUND, "0x80040217");

    // The owner side (an administrator) shares HR bots with the app as User.
    let granted = post(
        &platform,
        &admin,
        "GrantAccess",
        grant(PRIVATE_GROUP, &me, "ReadAccess, AppendToAccess"),
    )
    .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.body);
    assert_eq!(
        get(
            &platform,
            &app,
            &format!("flowmachinegroups({PRIVATE_GROUP})"),
            None
        )
        .await
        .status,
        StatusCode::OK
    );

    let api_token = app_token_for(
        &platform,
        SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    let connections = padconnect_client::ConnectionsClient::new(
        padconnect_testkit::http(),
        padconnect_client::Target::platform(&platform.url()),
        api_token,
    );
    let id: padconnect_core::ConnectionId = uuid::Uuid::new_v4().to_string().parse().unwrap();
    let connection = padconnect_client::DesktopFlowConnection {
        display_name: None,
        parameter_set: padconnect_core::ParameterSet::AzureRelay,
        username: "CONTOSO\\hr-bot".into(),
        password: Secret::new("x"),
        group_id: PRIVATE_GROUP.into(),
        credential_id: None,
        run_owner: None,
    };
    let env: padconnect_core::EnvironmentId = ENVIRONMENT.parse().unwrap();
    let (_, created) = connections.put(&env, &id, &connection).await.unwrap();
    assert_eq!(created["properties"]["statuses"][0]["status"], "Connected");

    let revoke = json!({
        "Target": {"flowmachinegroupid": PRIVATE_GROUP, "@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup"},
        "Revokee": {"systemuserid": me, "@odata.type": "Microsoft.Dynamics.CRM.systemuser"}
    });
    assert_eq!(
        post(&platform, &admin, "RevokeAccess", revoke).await.status,
        StatusCode::NO_CONTENT
    );
    let after = connections.get(&env, &id).await.unwrap().unwrap();
    assert_eq!(
        after["properties"]["statuses"][0]["error"]["code"],
        "MachineGroupAccessRevoked"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn entity_definitions_resolve_the_tables() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let by_filter = get(&platform, &token, "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'flowmachinegroup'", None).await;
    assert_eq!(by_filter.status, StatusCode::OK, "{}", by_filter.body);
    let definition = &by_filter.body["value"][0];
    assert_eq!(definition["EntitySetName"], "flowmachinegroups");
    assert_eq!(definition["PrimaryIdAttribute"], "flowmachinegroupid");
    assert!(definition["MetadataId"].is_string() && definition["PrimaryNameAttribute"].is_null());
    assert_eq!(by_filter.body["value"].as_array().unwrap().len(), 1);

    let by_key = get(
        &platform,
        &token,
        "EntityDefinitions(LogicalName='flowmachine')",
        None,
    )
    .await;
    assert_eq!(
        (
            by_key.body["EntitySetName"].as_str(),
            by_key.body["PrimaryNameAttribute"].as_str()
        ),
        (Some("flowmachines"), Some("name"))
    );
    let metadata_id = by_key.body["MetadataId"].as_str().unwrap();
    let by_id = get(
        &platform,
        &token,
        &format!("EntityDefinitions({metadata_id})"),
        None,
    )
    .await;
    assert_eq!(by_id.body["LogicalName"], "flowmachine");

    let attributes = get(&platform, &token, "EntityDefinitions(LogicalName='flowmachine')/Attributes?$filter=AttributeType eq 'Lookup'&$select=LogicalName", None).await;
    let names: Vec<&str> = attributes.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["LogicalName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"flowmachinegroupid") && !names.contains(&"ownerid"),
        "{names:?}"
    );
    // The owner is a lookup of its own kind (AttributeTypeCode.Owner).
    let owner = get(&platform, &token, "EntityDefinitions(LogicalName='flowmachine')/Attributes?$filter=AttributeType eq 'Owner'&$select=LogicalName", None).await;
    assert_eq!(
        owner.body["value"][0]["LogicalName"], "ownerid",
        "{}",
        owner.body
    );
    assert_eq!(
        owner.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        owner.body
    );

    let unknown = get(
        &platform,
        &token,
        "EntityDefinitions(LogicalName='account')",
        None,
    )
    .await;
    assert_dataverse_error(&unknown, StatusCode::NOT_FOUND, "0x80060888");
    let all = get(
        &platform,
        &token,
        "EntityDefinitions?$select=LogicalName",
        None,
    )
    .await;
    let logical: Vec<&str> = all.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["LogicalName"].as_str().unwrap())
        .collect();
    assert_eq!(
        logical,
        [
            "credential",
            "flowmachine",
            "flowmachinegroup",
            "systemuser"
        ]
    );
    platform.shutdown().await.unwrap();
}

/// `Prefer` is read as a list of preferences (the OData library's lexer):
/// a name in any case counts, text inside another preference's quoted
/// value does not.
#[tokio::test]
async fn return_representation_is_a_preference_not_a_substring() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let shouted = create_group(&platform, &app, "Shouted bots", "RETURN=Representation").await;
    assert_eq!(shouted.status, StatusCode::CREATED, "{}", shouted.body);
    assert_eq!(shouted.body["name"], "Shouted bots");
    let prefer = "odata.include-annotations=\"return=representation\"";
    let quoted = create_group(&platform, &app, "Quoted bots", prefer).await;
    assert_eq!(quoted.status, StatusCode::NO_CONTENT, "{}", quoted.body);
    assert!(quoted.headers.contains_key("odata-entityid"));
    platform.shutdown().await.unwrap();
}

async fn create_group(platform: &RunningPlatform, token: &str, name: &str, prefer: &str) -> Reply {
    let body = json!({ "name": name });
    let headers = [("Prefer", prefer)];
    send(
        platform,
        token,
        Method::POST,
        "flowmachinegroups",
        Some(body),
        &headers,
    )
    .await
}

#[tokio::test]
async fn machines_register_groups_change_and_deletes_follow_the_rules() {
    let (platform, _world) = start_identity(false).await;
    let app = app_token(&platform).await;
    let admin = admin_token(&platform, DV_SCOPE).await;

    // Silent registration of a standalone machine as the service principal.
    let registered = send(
        &platform,
        &app,
        Method::POST,
        "flowmachines",
        Some(json!({"name": "BOT-02", "description": "registered silently"})),
        &[],
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::NO_CONTENT,
        "{}",
        registered.body
    );
    let location = registered.headers["odata-entityid"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with(&format!(
            "{}/orgs/contoso/api/data/v9.2/flowmachines(",
            platform.url()
        )),
        "{location}"
    );
    let machine = get(
        &platform,
        &app,
        "flowmachines?$filter=name eq 'BOT-02'",
        None,
    )
    .await
    .body["value"][0]
        .clone();
    let hidden = machine["_flowmachinegroupid_value"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = get(
        &platform,
        &app,
        &format!("flowmachinegroups({hidden})"),
        None,
    )
    .await;
    assert_eq!(group.body["flowgrouptype"], 545_940_002);

    let with_row = send(
        &platform,
        &app,
        Method::POST,
        "flowmachinegroups",
        Some(json!({"name": "Pipeline bots"})),
        &[("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(with_row.status, StatusCode::CREATED, "{}", with_row.body);
    assert_eq!(with_row.body["name"], "Pipeline bots");
    let own_group = with_row.body["flowmachinegroupid"]
        .as_str()
        .unwrap()
        .to_owned();
    let unknown = send(
        &platform,
        &app,
        Method::POST,
        "flowmachinegroups",
        Some(json!({"name": "x", "colour": "red"})),
        &[],
    )
    .await;
    assert_dataverse_error(&unknown, StatusCode::BAD_REQUEST, "0x80060888");
    let unnamed = send(
        &platform,
        &app,
        Method::POST,
        "flowmachines",
        Some(json!({"description": "no name"})),
        &[],
    )
    .await;
    assert_dataverse_error(&unnamed, StatusCode::BAD_REQUEST, "0x80060888");
    // Each column holds what Dataverse's holds (name 100, description 2,000
    // characters), the same rule the portal and the world file apply.
    for (set, body, field, entity, max) in [
        (
            "flowmachinegroups",
            json!({"name": "x".repeat(101)}),
            "name",
            "flowmachinegroup",
            100,
        ),
        (
            "flowmachinegroups",
            json!({"name": "ok", "description": "x".repeat(900_000)}),
            "description",
            "flowmachinegroup",
            2000,
        ),
        (
            "flowmachines",
            json!({"name": "x".repeat(101)}),
            "name",
            "flowmachine",
            100,
        ),
    ] {
        let long = send(&platform, &app, Method::POST, set, Some(body), &[]).await;
        assert_dataverse_error(&long, StatusCode::BAD_REQUEST, "0x80044331");
        assert_eq!(
            long.body["error"]["message"],
            format!(
                "A validation error occurred. The length of the '{field}' attribute of the '{entity}' entity exceeded the maximum allowed length of '{max}'."
            )
        );
    }
    let nul = send(
        &platform,
        &app,
        Method::POST,
        "flowmachinegroups",
        Some(json!({"name": "a\u{0}b"})),
        &[],
    )
    .await;
    assert_dataverse_error(&nul, StatusCode::BAD_REQUEST, "0x80044331");
    let renamed_long = send(
        &platform,
        &app,
        Method::PATCH,
        &format!("flowmachinegroups({own_group})"),
        Some(json!({"name": "y".repeat(101)})),
        &[],
    )
    .await;
    assert_dataverse_error(&renamed_long, StatusCode::BAD_REQUEST, "0x80044331");
    // Surrounding white space is trimmed, as in the portal.
    let padded = send(
        &platform,
        &app,
        Method::POST,
        "flowmachinegroups",
        Some(json!({"name": "  Padded bots  "})),
        &[("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(padded.body["name"], "Padded bots", "{}", padded.body);

    // Machines join groups with JoinGroup and the group password, never by
    // binding the lookup at registration.
    let bind = json!({"name": "FIN-VM-09", "FlowMachineGroupId@odata.bind": format!("/flowmachinegroups({SHARED_GROUP})")});
    let bound = send(
        &platform,
        &admin,
        Method::POST,
        "flowmachines",
        Some(bind),
        &[],
    )
    .await;
    assert_dataverse_error(&bound, StatusCode::BAD_REQUEST, "0x80060888");
    assert!(
        bound.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JoinGroup")
    );

    // Renames check the version.
    let stale = send(
        &platform,
        &app,
        Method::PATCH,
        &format!("flowmachinegroups({own_group})"),
        Some(json!({"name": "Renamed"})),
        &[("If-Match", "W/\"99\"")],
    )
    .await;
    assert_dataverse_error(&stale, StatusCode::PRECONDITION_FAILED, "0x80060882");
    let renamed = send(
        &platform,
        &app,
        Method::PATCH,
        &format!("flowmachinegroups({own_group})"),
        Some(json!({"name": "Renamed"})),
        &[("If-Match", "W/\"1\""), ("Prefer", "return=representation")],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(
        (
            renamed.body["name"].as_str(),
            renamed.body["versionnumber"].as_i64()
        ),
        (Some("Renamed"), Some(2))
    );

    // A group with machines cannot be deleted; an empty one and a machine can.
    let restricted = send(
        &platform,
        &admin,
        Method::DELETE,
        &format!("flowmachinegroups({SHARED_GROUP})"),
        None,
        &[],
    )
    .await;
    assert_dataverse_error(&restricted, StatusCode::BAD_REQUEST, "0x80040227");
    let not_theirs = send(
        &platform,
        &app,
        Method::DELETE,
        &format!("flowmachinegroups({PRIVATE_GROUP})"),
        None,
        &[],
    )
    .await;
    assert_dataverse_error(&not_theirs, StatusCode::FORBIDDEN, "0x80048306");
    assert_eq!(
        send(
            &platform,
            &app,
            Method::DELETE,
            &format!("flowmachinegroups({own_group})"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let machine_id = machine["flowmachineid"].as_str().unwrap();
    assert_eq!(
        send(
            &platform,
            &app,
            Method::DELETE,
            &format!("flowmachines({machine_id})"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let gone = get(
        &platform,
        &app,
        &format!("flowmachinegroups({hidden})"),
        None,
    )
    .await;
    assert_dataverse_error(&gone, StatusCode::NOT_FOUND, "0x80040217");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn formatted_values_come_when_the_prefer_header_asks() {
    const FORMATTED: &str = "@OData.Community.Display.V1.FormattedValue";
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let path = "flowmachinegroups?$select=name,flowgrouptype,statecode,createdon,_ownerid_value&$orderby=name";
    let plain = get(&platform, &token, path, None).await;
    assert!(
        !plain.body.to_string().contains(FORMATTED),
        "{}",
        plain.body
    );

    let asked = get(
        &platform,
        &token,
        path,
        Some("odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\""),
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(
        asked.headers["preference-applied"],
        "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\""
    );
    let group = &asked.body["value"][0];
    assert_eq!(group["name"], "Finance bots");
    assert_eq!(group[format!("flowgrouptype{FORMATTED}")], "Standard");
    assert_eq!(group[format!("statecode{FORMATTED}")], "Active");
    assert_eq!(group[format!("_ownerid_value{FORMATTED}")], "Contoso Admin");
    let created = group[format!("createdon{FORMATTED}")].as_str().unwrap();
    assert!(
        created.ends_with(" AM") || created.ends_with(" PM"),
        "{created}"
    );
    assert!(
        group
            .get("_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname")
            .is_none()
    );
    assert_eq!(
        asked.body["value"][1][format!("flowgrouptype{FORMATTED}")],
        "Default"
    );

    // `*` adds the lookups' table and navigation property, on one row too,
    // next to a page size.
    let machine = get(
        &platform,
        &token,
        "flowmachines?$select=name,_flowmachinegroupid_value,statuscode&$orderby=name",
        Some("odata.maxpagesize=1, odata.include-annotations=\"*\""),
    )
    .await;
    assert_eq!(
        machine.headers["preference-applied"],
        "odata.maxpagesize=1,odata.include-annotations=\"*\""
    );
    let row = &machine.body["value"][0];
    let lookup = "_flowmachinegroupid_value";
    assert_eq!(row[format!("{lookup}{FORMATTED}")], "Finance bots");
    assert_eq!(
        row[format!("{lookup}@Microsoft.Dynamics.CRM.lookuplogicalname")],
        "flowmachinegroup"
    );
    assert_eq!(
        row[format!("{lookup}@Microsoft.Dynamics.CRM.associatednavigationproperty")],
        "FlowMachineGroupId"
    );
    assert_eq!(row[format!("statuscode{FORMATTED}")], "Active");
    let one = get(
        &platform,
        &token,
        &format!("flowmachinegroups({SHARED_GROUP})?$select=name,statecode"),
        Some("odata.include-annotations=\"*\""),
    )
    .await;
    assert_eq!(
        one.body[format!("statecode{FORMATTED}")],
        "Active",
        "{}",
        one.body
    );
}

#[tokio::test]
async fn a_tables_choice_columns_are_read_with_their_options_as_the_python_sdk_reads_them() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let path = "EntityDefinitions(LogicalName='flowmachinegroup')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata";
    let reply = get(
        &platform,
        &token,
        &format!("{path}?$select=LogicalName&$expand=OptionSet($select=Options)"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let columns = reply.body["value"].as_array().unwrap();
    let [group_type] = columns.as_slice() else {
        panic!("{}", reply.body)
    };
    assert_eq!(group_type["LogicalName"], "flowgrouptype");
    let options: Vec<(i64, &str)> = group_type["OptionSet"]["Options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["Value"].as_i64().unwrap(),
                o["Label"]["LocalizedLabels"][0]["Label"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        options.len() >= 2 && options.iter().all(|(_, label)| !label.is_empty()),
        "{options:?}"
    );

    let unknown = get(
        &platform,
        &token,
        &format!("{path}?$expand=Attributes"),
        None,
    )
    .await;
    assert_dataverse_error(&unknown, StatusCode::BAD_REQUEST, "0x80060888");
}

/// Every value a served table shows filters its row back when written as
/// the OData library types it (a GUID, a date and time, a number or a
/// boolean bare; text quoted), and the same value quoted, where the column
/// is not text, is refused as Dataverse refuses it: 400, 0x80060888, "A
/// binary operator with incompatible types was detected", naming the
/// column's type. Dates and times also compare in order, and with a date.
#[tokio::test]
async fn every_value_a_table_shows_filters_its_row_back() {
    use crate::runs::{FIRST_PASSWORD, RUN_GROUP, RunWorld, deployed, run_to_end};
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, connection) = deployed(&platform, RUN_GROUP).await;
    run_to_end(&platform, &token, flow, &connection).await;
    let mut compared = 0;
    for set in [
        "flowmachinegroups",
        "flowmachines",
        "systemusers",
        "credentials",
        "flowsessions",
        "organizations",
        "transactioncurrencies",
        "solutions",
        "connectionreferences",
        "workflows",
        "environmentvariabledefinitions",
        "asyncoperations",
    ] {
        let listed = get(&platform, &token, set, None).await;
        let rows = listed.body["value"].as_array().cloned().unwrap_or_default();
        assert!(!rows.is_empty(), "{set}: {}", listed.body);
        // Each column once, with the first row that has a value in it.
        let mut seen = std::collections::HashSet::new();
        for row in &rows {
            for (column, value) in row.as_object().unwrap() {
                if column.starts_with('@') || value.is_null() || value.is_object() {
                    continue;
                }
                if !seen.insert(column.clone()) {
                    continue;
                }
                let holds = |found: &Reply| {
                    found.body["value"]
                        .as_array()
                        .is_some_and(|v| v.contains(row))
                };
                let literal = Literal::of(value);
                let found = filtered(&platform, &token, set, column, "eq", &literal.bare).await;
                assert_eq!(
                    found.status,
                    StatusCode::OK,
                    "{set} {column} eq {}: {}",
                    literal.bare,
                    found.body
                );
                assert!(
                    holds(&found),
                    "{set} {column} eq {} did not find its row",
                    literal.bare
                );
                if let Some(types) = literal.types {
                    let quoted = format!("'{}'", literal.bare.replace('\'', "''"));
                    let refused = filtered(&platform, &token, set, column, "eq", &quoted).await;
                    assert_dataverse_error(&refused, StatusCode::BAD_REQUEST, "0x80060888");
                    let message = refused.body["error"]["message"].as_str().unwrap();
                    assert!(
                        types.iter().any(|t| message == format!("A binary operator with incompatible types was detected. Found operand types '{t}' and 'Edm.String' for operator kind 'Equal'.")),
                        "{set} {column} eq {quoted}: {message}"
                    );
                }
                if literal.types == Some(&["Edm.DateTimeOffset"]) {
                    let later = filtered(&platform, &token, set, column, "gt", &literal.bare).await;
                    assert!(!holds(&later), "{set} {column} gt its own value");
                    let day = &literal.bare[..10];
                    let since = filtered(&platform, &token, set, column, "ge", day).await;
                    assert!(holds(&since), "{set} {column} ge {day}: {}", since.body);
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "{compared} values compared");
}

/// A value as a `$filter` literal: text quoted, anything else bare, with
/// the types Dataverse may give its column when it is not text.
struct Literal {
    bare: String,
    types: Option<&'static [&'static str]>,
}

impl Literal {
    fn of(value: &Value) -> Self {
        let (bare, types): (String, Option<&'static [&'static str]>) = match value {
            Value::String(text) if text.len() == 36 && uuid::Uuid::try_parse(text).is_ok() => {
                (text.clone(), Some(&["Edm.Guid"]))
            }
            Value::String(text)
                if time::OffsetDateTime::parse(
                    text,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok() =>
            {
                (text.clone(), Some(&["Edm.DateTimeOffset"]))
            }
            Value::String(text) => (format!("'{}'", text.replace('\'', "''")), None),
            Value::Bool(flag) => (flag.to_string(), Some(&["Edm.Boolean"])),
            Value::Number(n) if n.is_i64() => (n.to_string(), Some(&["Edm.Int32", "Edm.Int64"])),
            other => (other.to_string(), Some(&["Edm.Decimal", "Edm.Double"])),
        };
        Self { bare, types }
    }
}

async fn filtered(
    platform: &RunningPlatform,
    token: &str,
    set: &str,
    column: &str,
    op: &str,
    literal: &str,
) -> Reply {
    let filter = format!("{column} {op} {literal}");
    let encoded =
        percent_encoding::utf8_percent_encode(&filter, percent_encoding::NON_ALPHANUMERIC);
    get(platform, token, &format!("{set}?$filter={encoded}"), None).await
}
