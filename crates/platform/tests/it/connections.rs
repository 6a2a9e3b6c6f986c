//! The seed's request and the connections API around it.

use padconnect_client::{ClientCredential, Secret, TokenClient};
use padconnect_core::ConnectionId;
use padconnect_platform::RunningPlatform;
use padconnect_store::{RecordRef, Share, SystemUserKind};
use padconnect_testkit::{App, Client, Environment, Tenant, World};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

pub const PP_SCOPE: &str = "https://api.powerplatform.com/.default";
pub const WINDOWS_PASSWORD: &str = "Wind0ws-P@ssw0rd!";

/// App `client_id`'s token for the connections API.
pub async fn app_token(platform: &RunningPlatform, client_id: &str) -> String {
    app_token_for(platform, client_id, PP_SCOPE).await
}

/// The administrator's token for the connections API.
pub async fn admin_token(platform: &RunningPlatform) -> String {
    user_token(platform, PP_SCOPE).await
}

/// The seed's body, exactly, with the ids filled in.
pub fn seed_body(environment: &str, group: &str) -> Value {
    json!({
        "properties": {
            "environment": {
                "id": format!("/providers/Microsoft.PowerApps/environments/{environment}"),
                "name": environment
            },
            "connectionParametersSet": {
                "name": "azureRelay",
                "values": {
                    "username": {"value": "CONTOSO\\svc-bot"},
                    "password": {"value": WINDOWS_PASSWORD},
                    "targetId": {"value": group}
                }
            }
        }
    })
}

pub use padconnect_testkit::Reply;

/// A request to the environment host, as the seed sends it.
pub async fn call(
    platform: &RunningPlatform,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    call_raw(
        platform,
        method,
        ENV_HOST,
        path,
        token,
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

pub async fn call_raw(
    platform: &RunningPlatform,
    method: reqwest::Method,
    host: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = Client::new(platform.url())
        .host(host)
        .header("Accept", "application/json")
        .maybe_token(token)
        .request(method, path);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body);
    }
    Reply::read(request).await
}

pub fn connection_path(id: &str) -> String {
    format!("/connectivity/connectors/shared_uiflow/connections/{id}?api-version=1")
}

pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.text);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn the_seed_request_creates_the_connection_as_the_service_principal() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let id = uuid::Uuid::new_v4().to_string();
    let created = call(
        &platform,
        reqwest::Method::PUT,
        &connection_path(&id),
        Some(&token),
        Some(&seed_body(ENVIRONMENT, SHARED_GROUP)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let c = &created.body;
    let simple = id.replace('-', "");
    assert_eq!(c["name"], simple);
    assert_eq!(
        c["id"],
        format!("/providers/Microsoft.PowerApps/apis/shared_uiflow/connections/{simple}")
    );
    assert_eq!(c["type"], "Microsoft.PowerApps/apis/connections");
    let p = &c["properties"];
    assert_eq!(
        p["apiId"],
        "/providers/Microsoft.PowerApps/apis/shared_uiflow"
    );
    assert_eq!(p["statuses"], json!([{"status": "Connected"}]));
    assert_eq!(p["connectionParametersSet"]["name"], "azureRelay");
    assert_eq!(
        p["connectionParametersSet"]["values"]["username"]["value"],
        "CONTOSO\\svc-bot"
    );
    assert_eq!(
        p["connectionParametersSet"]["values"]["targetId"]["value"],
        SHARED_GROUP
    );
    assert!(p["connectionParametersSet"]["values"]["password"].is_null());
    assert_eq!(p["createdBy"]["id"], SECRET_APP_OID);
    assert_eq!(p["createdBy"]["type"], "ServicePrincipal");
    assert_eq!(p["createdBy"]["tenantId"], TENANT_ID);
    assert_eq!(p["createdBy"]["displayName"], "deploy-pipeline");
    assert_eq!(p["environment"]["name"], ENVIRONMENT);
    assert_eq!(p["allowSharing"], false);
    assert!(
        !created.text.contains(WINDOWS_PASSWORD),
        "the password is never returned"
    );

    // The same request again by its owner updates it.
    let again = call(
        &platform,
        reqwest::Method::PUT,
        &connection_path(&simple.to_uppercase()),
        Some(&token),
        Some(&seed_body(ENVIRONMENT, SHARED_GROUP)),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["properties"]["createdTime"], p["createdTime"]);

    // Stored: the password sealed, not in the row's values.
    let stored = platform
        .store()
        .connection(
            &ENVIRONMENT.parse().unwrap(),
            &id.parse::<ConnectionId>().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .parameter_values
            .to_string()
            .contains(WINDOWS_PASSWORD)
    );
    assert!(
        !stored
            .sealed_secrets
            .windows(WINDOWS_PASSWORD.len())
            .any(|w| w == WINDOWS_PASSWORD.as_bytes())
    );
    assert_eq!(platform.store().counts().await.unwrap().connections, 1);

    // GET on both hosts and path-style, with the Terraform provider's $filter.
    let filter = format!("&$filter=environment%20eq%20%27{ENVIRONMENT}%27");
    let by_env_host = call(
        &platform,
        reqwest::Method::GET,
        &format!("{}{filter}", connection_path(&id)),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(by_env_host.status, StatusCode::OK, "{}", by_env_host.text);
    let tenant_path = format!(
        "/connectivity/environments/{ENVIRONMENT}/connectors/shared_uiflow/connections/{id}?api-version=1"
    );
    let by_tenant_host = call_raw(
        &platform,
        reqwest::Method::GET,
        "api.powerplatform.com",
        &tenant_path,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        by_tenant_host.status,
        StatusCode::OK,
        "{}",
        by_tenant_host.text
    );
    let path_style = format!("/environments/{ENVIRONMENT}{}", connection_path(&id));
    let host = platform.addr.to_string();
    let by_path = call_raw(
        &platform,
        reqwest::Method::GET,
        &host,
        &path_style,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(by_path.status, StatusCode::OK, "{}", by_path.text);
    assert_eq!(by_path.body["name"], simple);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_rule_has_its_error_and_stores_nothing() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let id = uuid::Uuid::new_v4().to_string();
    let path = connection_path(&id);
    let put = async |path: &str, token: Option<&str>, body: Value| {
        call(&platform, reqwest::Method::PUT, path, token, Some(&body)).await
    };
    let body = || seed_body(ENVIRONMENT, SHARED_GROUP);

    let no_version = format!("/connectivity/connectors/shared_uiflow/connections/{id}");
    assert_error(
        &put(&no_version, Some(&token), body()).await,
        StatusCode::BAD_REQUEST,
        "MissingApiVersionParameter",
    );
    assert_error(
        &put(
            &format!("{no_version}?api-version=2022-03-01"),
            Some(&token),
            body(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "InvalidApiVersionParameter",
    );
    let unauthenticated = put(&path, None, body()).await;
    assert_error(
        &unauthenticated,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert_error(
        &put(&connection_path("my-connection"), Some(&token), body()).await,
        StatusCode::BAD_REQUEST,
        "InvalidConnectionId",
    );
    let other_connector = path.replace("shared_uiflow", "shared_office365");
    assert_error(
        &put(&other_connector, Some(&token), body()).await,
        StatusCode::NOT_FOUND,
        "ConnectorNotFound",
    );

    let wrong_env_id = seed_body(OTHER_ENV, SHARED_GROUP);
    assert_error(
        &put(&path, Some(&token), wrong_env_id).await,
        StatusCode::BAD_REQUEST,
        "EnvironmentMismatch",
    );
    let mut wrong_name = body();
    wrong_name["properties"]["environment"]["name"] = json!("99999999-0000-0000-0000-000000000000");
    assert_error(
        &put(&path, Some(&token), wrong_name).await,
        StatusCode::BAD_REQUEST,
        "EnvironmentMismatch",
    );

    let unknown_env = call_raw(
        &platform,
        reqwest::Method::PUT,
        "111111111111111111111111111111.11.environment.api.powerplatform.com",
        &path,
        Some(&token),
        Some(body().to_string().into_bytes()),
    )
    .await;
    assert_error(&unknown_env, StatusCode::NOT_FOUND, "EnvironmentNotFound");
    let unknown_env = call_raw(
        &platform,
        reqwest::Method::PUT,
        "111111111111111111111111111111.11.environment.api.powerplatform.com",
        &path,
        Some(&token),
        Some(
            seed_body("11111111-1111-1111-1111-111111111111", SHARED_GROUP)
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_error(&unknown_env, StatusCode::NOT_FOUND, "EnvironmentNotFound");

    assert_error(
        &put(
            &path,
            Some(&token),
            seed_body(ENVIRONMENT, "11111111-2222-3333-4444-555555555555"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "InvalidTargetId",
    );
    assert_error(
        &put(&path, Some(&token), seed_body(ENVIRONMENT, OTHER_ENV_GROUP)).await,
        StatusCode::BAD_REQUEST,
        "InvalidTargetId",
    );
    assert_error(
        &put(&path, Some(&token), seed_body(ENVIRONMENT, "FIN-VM-01")).await,
        StatusCode::BAD_REQUEST,
        "InvalidTargetId",
    );

    let no_access = put(&path, Some(&token), seed_body(ENVIRONMENT, PRIVATE_GROUP)).await;
    assert_error(
        &no_access,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    assert!(
        no_access.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no access to machine group"),
        "a 403 names the group by the id sent, not by a name the caller may not read"
    );
    assert!(
        !no_access.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HR bots")
    );
    let lonely = app_token(&platform, LONELY_APP).await;
    let no_app_user = put(&path, Some(&lonely), body()).await;
    assert_error(
        &no_app_user,
        StatusCode::FORBIDDEN,
        "ConnectionAuthorizationFailed",
    );
    assert!(
        no_app_user.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application user")
    );

    let mut bad_set = body();
    bad_set["properties"]["connectionParametersSet"]["name"] = json!("windowsAuth");
    let reply = put(&path, Some(&token), bad_set).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "InvalidParameterSet");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("azureRelay, azureRelayRunOwner")
    );

    for missing in ["username", "password", "targetId"] {
        let mut partial = body();
        partial["properties"]["connectionParametersSet"]["values"]
            .as_object_mut()
            .unwrap()
            .remove(missing);
        let reply = put(&path, Some(&token), partial).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "MissingParameterValue");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("'{missing}'"))
        );
    }
    let mut extra = body();
    extra["properties"]["connectionParametersSet"]["values"]["token:clientId"] =
        json!({"value": "x"});
    assert_error(
        &put(&path, Some(&token), extra).await,
        StatusCode::BAD_REQUEST,
        "ParameterNotDefined",
    );
    let mut bad_user = body();
    // A bare `svc-bot` is a local account (KB 4555406); `|` is in no account name.
    bad_user["properties"]["connectionParametersSet"]["values"]["username"] =
        json!({"value": "svc|bot"});
    assert_error(
        &put(&path, Some(&token), bad_user).await,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
    );

    // Lengths: Windows' own bounds for an account (513) and a password
    // (256), ours for a display name (256), which holds no control character.
    let limits = [
        (
            "username",
            format!("CONTOSO\\{}", "u".repeat(510)),
            "InvalidParameterValue",
        ),
        ("password", "p".repeat(257), "InvalidParameterValue"),
    ];
    for (key, value, code) in limits {
        let mut long = body();
        long["properties"]["connectionParametersSet"]["values"][key] = json!({ "value": value });
        let answer = put(&path, Some(&token), long).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("longer than"),
            "{key}: {}",
            answer.body
        );
    }
    for name in ["n".repeat(257), "line\nbreak".to_owned()] {
        let mut named = body();
        named["properties"]["displayName"] = json!(name);
        assert_error(
            &put(&path, Some(&token), named).await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
        );
    }
    let mut longest = body();
    longest["properties"]["connectionParametersSet"]["values"]["password"] =
        json!({ "value": "p".repeat(256) });
    longest["properties"]["displayName"] = json!("n".repeat(256));
    let fits = put(
        &connection_path(&uuid::Uuid::new_v4().to_string()),
        Some(&token),
        longest,
    )
    .await;
    assert!(fits.status.is_success(), "{}", fits.body);

    let malformed = call_raw(
        &platform,
        reqwest::Method::PUT,
        ENV_HOST,
        &path,
        Some(&token),
        Some(b"{\"properties\": ".to_vec()),
    )
    .await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "InvalidRequestContent");
    let too_big = call_raw(
        &platform,
        reqwest::Method::PUT,
        ENV_HOST,
        &path,
        Some(&token),
        Some(vec![b' '; 2 * 1024 * 1024]),
    )
    .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.body["error"]["code"], "RequestEntityTooLarge");

    let mut filtered = path.clone();
    filtered.push_str(&format!("&$filter=environment%20eq%20%27{OTHER_ENV}%27"));
    assert_error(
        &put(&filtered, Some(&token), body()).await,
        StatusCode::BAD_REQUEST,
        "EnvironmentMismatch",
    );

    assert_eq!(
        platform.store().counts().await.unwrap().connections,
        1,
        "no failed request stored anything (the one that fits its limits is stored)"
    );
    let missing = call(&platform, reqwest::Method::GET, &path, Some(&token), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "ConnectionNotFound");
    let id = path
        .split("/connections/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap();
    assert_eq!(
        missing.body["error"]["message"],
        format!(
            "Could not find connection '{}' for API 'shared_uiflow'.",
            id.replace('-', "")
        ),
        "the service's words, the id without dashes as there (microsoft/powerplatform-build-tools#533)"
    );
    let wrong_method = call(&platform, reqwest::Method::PATCH, &path, Some(&token), None).await;
    assert_error(
        &wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn visibility_paging_and_deletion() {
    let (platform, world) = start_identity(false).await;
    let owner = app_token(&platform, SECRET_APP).await;
    let certificate = padconnect_client::Certificate::from_pem(world.cert_pem.as_bytes()).unwrap();
    let other = TokenClient::new(padconnect_testkit::http(), &platform.url())
        .client_credentials(
            TENANT_ID,
            CERT_APP,
            &ClientCredential::Certificate(certificate),
            PP_SCOPE,
        )
        .await
        .unwrap()
        .token;
    let admin = admin_token(&platform).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let reply = call(
            &platform,
            reqwest::Method::PUT,
            &connection_path(&id),
            Some(&owner),
            Some(&seed_body(ENVIRONMENT, SHARED_GROUP)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        ids.push(id);
    }
    ids.sort();

    let list = "/connectivity/connections?api-version=1";
    let theirs = call(&platform, reqwest::Method::GET, list, Some(&other), None).await;
    assert_eq!(
        theirs.body["value"],
        json!([]),
        "another principal sees none of them"
    );
    let hidden = call(
        &platform,
        reqwest::Method::GET,
        &connection_path(&ids[0]),
        Some(&other),
        None,
    )
    .await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "ConnectionNotFound");
    let not_theirs = call(
        &platform,
        reqwest::Method::DELETE,
        &connection_path(&ids[0]),
        Some(&other),
        None,
    )
    .await;
    assert_error(&not_theirs, StatusCode::NOT_FOUND, "ConnectionNotFound");

    // The owner pages through its connections with $top and nextLink.
    let mut seen = Vec::new();
    let as_owner = Client::new(platform.url()).host(ENV_HOST).token(&owner);
    let mut next = format!("{}{list}&$top=2", platform.url());
    loop {
        let reply = as_owner.get(&next).await;
        let page = reply.json();
        seen.extend(
            page["value"]
                .as_array()
                .unwrap_or_else(|| panic!("{page}"))
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
        match page["nextLink"].as_str() {
            Some(link) => next = link.replace(&format!("http://{ENV_HOST}"), &platform.url()),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // An administrator sees all, by the tenant host too.
    let tenant_list = format!("/connectivity/environments/{ENVIRONMENT}/connections?api-version=1");
    let all = call_raw(
        &platform,
        reqwest::Method::GET,
        "api.powerplatform.com",
        &tenant_list,
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        all.body["value"].as_array().unwrap().len(),
        5,
        "{}",
        all.text
    );
    let other_env = call_raw(
        &platform,
        reqwest::Method::GET,
        "api.powerplatform.com",
        &format!("/connectivity/environments/{OTHER_ENV}/connections?api-version=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(other_env.body["value"], json!([]));

    let deleted = call(
        &platform,
        reqwest::Method::DELETE,
        &connection_path(&ids[0]),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let gone = call(
        &platform,
        reqwest::Method::GET,
        &connection_path(&ids[0]),
        Some(&owner),
        None,
    )
    .await;
    assert_error(&gone, StatusCode::NOT_FOUND, "ConnectionNotFound");
    let by_admin = call(
        &platform,
        reqwest::Method::DELETE,
        &connection_path(&ids[1]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(by_admin.status, StatusCode::OK);
    assert_eq!(platform.store().counts().await.unwrap().connections, 3);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn statuses_follow_the_target() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let env = ENVIRONMENT.parse().unwrap();
    let to_group = uuid::Uuid::new_v4().to_string();
    let to_machine = uuid::Uuid::new_v4().to_string();
    for (id, group) in [(&to_group, SHARED_GROUP), (&to_machine, STANDALONE_GROUP)] {
        let reply = call(
            &platform,
            reqwest::Method::PUT,
            &connection_path(id),
            Some(&token),
            Some(&seed_body(ENVIRONMENT, group)),
        )
        .await;
        assert_eq!(
            reply.body["properties"]["statuses"][0]["status"], "Connected",
            "{}",
            reply.text
        );
        // Read once, so that what changes below must reach a kept answer.
        let read = call(
            &platform,
            reqwest::Method::GET,
            &connection_path(id),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(
            read.body["properties"]["statuses"][0]["status"], "Connected",
            "{}",
            read.text
        );
    }
    let store = platform.store();
    let app_user = store
        .system_user_for(
            &env,
            SystemUserKind::Application {
                client_id: SECRET_APP.parse().unwrap(),
            },
        )
        .await
        .unwrap()
        .unwrap();

    // The share is revoked: the connection can no longer reach its group.
    let mut tx = store.begin().await.unwrap();
    tx.set_share(&Share {
        record: RecordRef::MachineGroup(SHARED_GROUP.parse().unwrap()),
        principal_id: app_user.id,
        rights: padconnect_core::AccessRights::empty(),
    })
    .await
    .unwrap();
    // The standalone machine joins the shared group.
    let laptop = store
        .machines_in_group(STANDALONE_GROUP.parse().unwrap())
        .await
        .unwrap()
        .remove(0);
    tx.upsert_machine(&padconnect_store::Machine {
        group_id: SHARED_GROUP.parse().unwrap(),
        ..laptop
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let revoked = call(
        &platform,
        reqwest::Method::GET,
        &connection_path(&to_group),
        Some(&token),
        None,
    )
    .await;
    let status = &revoked.body["properties"]["statuses"][0];
    assert_eq!(status["status"], "Error", "{}", revoked.text);
    assert_eq!(status["target"], "targetId");
    assert_eq!(status["error"]["code"], "MachineGroupAccessRevoked");
    let joined = call(
        &platform,
        reqwest::Method::GET,
        &connection_path(&to_machine),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        joined.body["properties"]["statuses"][0]["error"]["code"], "MachineJoinedGroup",
        "{}",
        joined.text
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_puts_of_one_id_leave_one_whole_connection() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let id = uuid::Uuid::new_v4().to_string();
    let (path, body) = (connection_path(&id), seed_body(ENVIRONMENT, SHARED_GROUP));
    let requests = (0..8).map(|_| {
        call(
            &platform,
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(&body),
        )
    });
    let replies = futures::future::join_all(requests).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let updated = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!((created, updated), (1, 7));
    assert_eq!(platform.store().counts().await.unwrap().connections, 1);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn permissions_show_the_owner_and_azure_relay_connections_cannot_be_shared() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform, SECRET_APP).await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    call(
        &platform,
        reqwest::Method::PUT,
        &connection_path(&id),
        Some(&token),
        Some(&seed_body(ENVIRONMENT, SHARED_GROUP)),
    )
    .await;
    let base = format!("/connectivity/connectors/shared_uiflow/connections/{id}");

    let permissions = call(
        &platform,
        reqwest::Method::GET,
        &format!("{base}/permissions?api-version=1"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(permissions.status, StatusCode::OK, "{}", permissions.text);
    let owner = &permissions.body["value"][0];
    assert_eq!(owner["name"], SECRET_APP_OID);
    assert_eq!(
        owner["type"],
        "Microsoft.PowerApps/apis/connections/permissions"
    );
    assert_eq!(owner["properties"]["roleName"], "Owner");
    assert_eq!(owner["properties"]["principal"]["type"], "ServicePrincipal");
    // Terraform's share lookups need a display name on every principal.
    assert_eq!(
        owner["properties"]["principal"]["displayName"],
        "deploy-pipeline"
    );

    let share = json!({"put": [{"properties": {"roleName": "CanView", "principal": {"id": SECRET_APP_OID, "type": "ServicePrincipal", "tenantId": null}}}], "delete": []});
    let modify = format!("{base}/modifyPermissions?api-version=1");
    let refused = call(
        &platform,
        reqwest::Method::POST,
        &modify,
        Some(&token),
        Some(&share),
    )
    .await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "ConnectionNotShareable");
    let malformed = call(
        &platform,
        reqwest::Method::POST,
        &modify,
        Some(&token),
        Some(&json!({"share": true})),
    )
    .await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "InvalidRequestContent");
    let lonely = app_token(&platform, LONELY_APP).await;
    let hidden = call(
        &platform,
        reqwest::Method::GET,
        &format!("{base}/permissions?api-version=1"),
        Some(&lonely),
        None,
    )
    .await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "ConnectionNotFound");
    platform.shutdown().await.unwrap();
}

/// A token of another tenant for this tenant's environment gets the
/// service's own answer, word for word as the Terraform provider recorded
/// it (`put_connection_environment_not_found.json`): the environment could
/// not be found in the caller's tenant.
#[tokio::test]
async fn another_tenants_token_is_told_the_environment_is_not_in_its_tenant() {
    const FABRIKAM: &str = "2b3c4d5e-6f70-4a81-9b2c-3d4e5f607182";
    const FABRIKAM_APP: &str = "3c4d5e6f-7081-4b92-8c3d-4e5f60718293";
    let dir = tempfile::tempdir().unwrap();
    let world = World::new()
        .tenant(
            Tenant::new(TENANT_ID, TENANT_DOMAIN)
                .app(App::new("deploy-pipeline", SECRET_APP).secret(SECRET))
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(SECRET_APP),
                ),
        )
        .tenant(
            Tenant::new(FABRIKAM, "fabrikam.onmicrosoft.com")
                .app(App::new("fabrikam-pipeline", FABRIKAM_APP).secret(SECRET)),
        )
        .write_to(dir.path());
    let mut config = config(&dir.path().join("data"));
    config.world = Some(world);
    let platform = padconnect_platform::Platform::start(config).await.unwrap();
    let token = TokenClient::new(padconnect_testkit::http(), &platform.url())
        .client_credentials(
            FABRIKAM,
            FABRIKAM_APP,
            &ClientCredential::Secret(Secret::new(SECRET)),
            PP_SCOPE,
        )
        .await
        .unwrap()
        .token;
    let reply = call(
        &platform,
        reqwest::Method::PUT,
        &connection_path(&uuid::Uuid::new_v4().simple().to_string()),
        Some(&token),
        Some(&seed_body(ENVIRONMENT, SHARED_GROUP)),
    )
    .await;
    assert_error(
        &reply,
        StatusCode::NOT_FOUND,
        "ServiceToServiceEnvironmentNotFound",
    );
    assert_eq!(
        reply.body["error"]["message"],
        format!("The environment '{ENVIRONMENT}' could not be found in the tenant '{FABRIKAM}'.")
    );
    platform.shutdown().await.unwrap();
}
