//! Desktop flow runs over HTTP: RunDesktopFlow through a
//! connection and through a connection reference, each way a run fails
//! and the code it fails with, a password rotated under a connection, the
//! bad requests that queue nothing, cancel, who may read a run, and runs
//! across a restart and across PostgreSQL replicas.

use std::path::PathBuf;
use std::time::Duration;

use padconnect_platform::{Platform, PlatformConfig, RunningPlatform};
use padconnect_solution::Version;
use padconnect_testkit::{
    Account, App, Credential, Environment, Group, Machine, Share, Tenant, World,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::connections::{app_token, call};
use crate::dataverse::dv_client;
use crate::solutions::{UIFLOW, binding, dataverse, desktop_solution, dv_token, import};
use crate::support::*;
use crate::windows_accounts::body as connection_body;

pub(crate) const RUN_GROUP: &str = "11111111-2222-4333-8444-555555555501";
const EMPTY_GROUP: &str = "11111111-2222-4333-8444-555555555502";
pub(crate) const OFFLINE_GROUP: &str = "11111111-2222-4333-8444-555555555503";
const DENIED_GROUP: &str = "11111111-2222-4333-8444-555555555504";
const FAILING_GROUP: &str = "11111111-2222-4333-8444-555555555505";
const SLOW_GROUP: &str = "11111111-2222-4333-8444-555555555506";
/// How long SLOW-01 takes a run, on the platform's clock.
const SLOW_RUN_SECONDS: u64 = 4;
/// A Key Vault credential shared with the app, for the tables to show one.
const RUN_CREDENTIAL: &str = "11111111-2222-4333-8444-5555555555c1";
const ACCOUNT: &str = "FABRIKAM\\run-svc";
pub(crate) const FIRST_PASSWORD: &str = "Run-Pass-1!";
const SECOND_PASSWORD: &str = "Run-Pass-2!";
/// The tenant's administrator; USER is a maker only.
pub(crate) const OPS: &str = "ops@contoso.onmicrosoft.com";
pub(crate) const OPS_PASSWORD: &str = "ops-password-1";

/// A world whose machines run flows: RUN-01 with an account (locked out
/// after three bad sign-ins), an empty group, an offline machine, one whose
/// account has no logon right, one that fails every run, a slow one.
pub(crate) struct RunWorld {
    dir: tempfile::TempDir,
    /// The platforms' clock: a test passes a slow run's seconds with it.
    time: TestClock,
}

impl RunWorld {
    pub(crate) fn new(password: &str) -> Self {
        let world = Self {
            dir: tempfile::tempdir().unwrap(),
            time: TestClock::new(),
        };
        world.write(password);
        world
    }

    fn write(&self, password: &str) {
        let group = |id: &str, name: &str| {
            Group::new(id, name, USER).shared_with(Share::app(SECRET_APP, "user"))
        };
        let account = || Account::new(ACCOUNT, password);
        World::new()
            .tenant(
                Tenant::new(TENANT_ID, TENANT_DOMAIN)
                    .admin(OPS)
                    .app(
                        App::new("deploy-pipeline", SECRET_APP)
                            .secret(SECRET)
                            .public_client(),
                    )
                    .user(USER, "Contoso Maker", PASSWORD)
                    .user(OPS, "Contoso Operations", OPS_PASSWORD)
                    .environment(
                        Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                            .application_user(SECRET_APP)
                            .maker(USER)
                            .maker(OPS)
                            .group(
                                group(RUN_GROUP, "Run bots").machine(
                                    Machine::new("RUN-01")
                                        .lockout_threshold(3)
                                        .account(account()),
                                ),
                            )
                            .group(group(EMPTY_GROUP, "Empty bots"))
                            .credential(
                                Credential::new(RUN_CREDENTIAL, "Run vault", USER)
                                    .shared_with(Share::app(SECRET_APP, "user")),
                            )
                            .group(
                                group(OFFLINE_GROUP, "Offline bots")
                                    .machine(Machine::new("OFF-01").offline()),
                            )
                            .group(
                                group(DENIED_GROUP, "Denied bots").machine(
                                    Machine::new("DENY-01").account(account().denied_logon()),
                                ),
                            )
                            .group(
                                group(FAILING_GROUP, "Failing bots").machine(
                                    Machine::new("FAIL-01").fail_with("SessionCreationError"),
                                ),
                            )
                            .group(
                                group(SLOW_GROUP, "Slow bots")
                                    .machine(Machine::new("SLOW-01").run_seconds(SLOW_RUN_SECONDS)),
                            ),
                    ),
            )
            .write_to(self.dir.path());
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("world.toml")
    }

    fn config(&self) -> PlatformConfig {
        let mut config = config(&self.dir.path().join("data"));
        config.world = Some(self.path());
        config
    }

    pub(crate) async fn start(&self) -> RunningPlatform {
        self.start_with(self.config()).await
    }

    /// A platform of `config`, on the world's clock.
    async fn start_with(&self, config: PlatformConfig) -> RunningPlatform {
        Platform::start_on(config, self.time.clock()).await.unwrap()
    }

    /// Passes one of SLOW-01's runs.
    fn pass_a_slow_run(&self) {
        self.time.advance(Duration::from_secs(SLOW_RUN_SECONDS));
    }
}

/// A shared_uiflow connection of the app to `group` with `password`.
pub(crate) async fn connection(platform: &RunningPlatform, id: &str, group: &str, password: &str) {
    let token = app_token(platform, SECRET_APP).await;
    let path = crate::connections::connection_path(id);
    let body = connection_body(group, ACCOUNT, password);
    let reply = call(platform, Method::PUT, &path, Some(&token), Some(&body)).await;
    assert!(reply.status.is_success(), "{}", reply.text);
}

/// The app's desktop flow, imported in a solution whose reference is bound
/// to `connection`: its id.
pub(crate) async fn desktop_flow(
    platform: &RunningPlatform,
    token: &str,
    connection: &str,
) -> Uuid {
    let desktop = Uuid::new_v4();
    let zip = desktop_solution(Version::new(1, 0, 0, 0), Uuid::new_v4(), desktop);
    let (job, _) = import(platform, token, &zip, json!([binding(UIFLOW, connection)])).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    desktop
}

/// A connection of the app to `group`, and the app's desktop flow deployed
/// with its reference bound to it: a Dataverse token, the flow, the
/// connection.
pub(crate) async fn deployed(platform: &RunningPlatform, group: &str) -> (String, Uuid, String) {
    let id = Uuid::new_v4().simple().to_string();
    connection(platform, &id, group, FIRST_PASSWORD).await;
    let token = dv_token(platform, SECRET_APP).await;
    let flow = desktop_flow(platform, &token, &id).await;
    (token, flow, id)
}

async fn start_run(
    platform: &RunningPlatform,
    token: &str,
    flow: Uuid,
    body: Value,
) -> (StatusCode, Value) {
    dataverse(
        platform,
        token,
        Method::POST,
        &format!("workflows({flow})/Microsoft.Dynamics.CRM.RunDesktopFlow"),
        Some(body),
    )
    .await
}

fn unattended(connection: &str) -> Value {
    json!({"runMode": "unattended", "runPriority": "normal", "connectionName": connection, "timeout": 60})
}

/// Runs `flow` through `connection` and follows it to its end.
pub(crate) async fn run_to_end(
    platform: &RunningPlatform,
    token: &str,
    flow: Uuid,
    connection: &str,
) -> Value {
    let (status, started) = start_run(platform, token, flow, unattended(connection)).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    follow(platform, token, started["flowsessionId"].as_str().unwrap()).await
}

/// Polls `flowsessions(id)` as the docs do until the run is over.
async fn follow(platform: &RunningPlatform, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let (status, session) = dataverse(
            platform,
            token,
            Method::GET,
            &format!("flowsessions({id})?$select=statuscode,statecode,startedon,completedon,errorcode,errormessage"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        if !session["completedon"].is_null() {
            return session;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run {id} never ended");
}

fn failed_with(session: &Value, code: &str) {
    assert_eq!(session["statuscode"], 8, "{session}");
    assert_eq!(session["statecode"], 0, "{session}");
    assert_eq!(session["errorcode"], code, "{session}");
    assert!(!session["errormessage"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_deployed_desktop_flow_runs_through_its_connection_and_its_reference() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, connection_id) = deployed(&platform, RUN_GROUP).await;

    let (status, started) = start_run(
        &platform,
        &token,
        flow,
        json!({
            "runMode": "unattended", "connectionName": connection_id, "timeout": 60,
            "inputs": "{\"Input1\":\"Value\"}",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert!(
        started["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#Microsoft.Dynamics.CRM.RunDesktopFlowResponse")
    );
    assert_eq!(started["licenseCheck"]["code"], "ValidLicenseCoverage");
    let id = started["flowsessionId"].as_str().unwrap().to_owned();
    // The session is there at once, the flow's, started by the API.
    let (_, queued) = dataverse(
        &platform,
        &token,
        Method::GET,
        &format!("flowsessions({id})"),
        None,
    )
    .await;
    assert_eq!(queued["_regardingobjectid_value"], flow.to_string());
    assert_eq!(queued["triggertype"], 3);
    assert_eq!(queued["runmode"], 2);

    let session = follow(&platform, &token, &id).await;
    assert_eq!(session["statuscode"], 4, "{session}");
    assert_eq!(session["statecode"], 0);
    assert!(session["errorcode"].is_null());
    assert!(session["startedon"].as_str().unwrap() <= session["completedon"].as_str().unwrap());
    let outputs = dv_client(&platform)
        .token(&token)
        .get(&format!("flowsessions({id})/outputs/$value"))
        .await;
    assert_eq!(outputs.status, StatusCode::OK);
    assert_eq!(*outputs.json(), json!({}));

    // Through the connection reference the solution bound.
    let (status, started) = start_run(
        &platform,
        &token,
        flow,
        json!({
            "runMode": "unattended", "connectionName": UIFLOW, "connectionType": 2,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let session = follow(
        &platform,
        &token,
        started["flowsessionId"].as_str().unwrap(),
    )
    .await;
    assert_eq!(session["statuscode"], 4, "{session}");

    // The runs are listed, newest first, with their machine.
    let (_, list) = dataverse(
        &platform,
        &token,
        Method::GET,
        "flowsessions?$select=flowsessionid,statuscode,_machineid_value",
        None,
    )
    .await;
    let runs = list["value"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{list}");
    assert!(runs.iter().all(|r| r["_machineid_value"].is_string()));

    // The machine beats while it is online.
    let (_, machines) = dataverse(
        &platform,
        &token,
        Method::GET,
        "flowmachines?$select=name,lastheartbeatdate",
        None,
    )
    .await;
    let beat = |name: &str| {
        machines["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["lastheartbeatdate"]
            .clone()
    };
    assert!(beat("RUN-01").is_string(), "{machines}");
    assert!(beat("OFF-01").is_null(), "{machines}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_cause_of_failure_ends_the_run_with_the_services_code() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, run_connection) = deployed(&platform, RUN_GROUP).await;
    let cases = [
        (EMPTY_GROUP, "GroupIsEmpty"),
        (OFFLINE_GROUP, "NoListenerConnected"),
        (DENIED_GROUP, "-1073741477"),
        (FAILING_GROUP, "SessionCreationError"),
    ];
    for (group, code) in cases {
        let id = Uuid::new_v4().simple().to_string();
        connection(&platform, &id, group, FIRST_PASSWORD).await;
        let session = run_to_end(&platform, &token, flow, &id).await;
        failed_with(&session, code);
    }

    // An attended run needs the user signed in; nobody is.
    let (_, started) = start_run(
        &platform,
        &token,
        flow,
        json!({"runMode": "attended", "connectionName": run_connection}),
    )
    .await;
    let session = follow(
        &platform,
        &token,
        started["flowsessionId"].as_str().unwrap(),
    )
    .await;
    failed_with(&session, "AttendedUserNotLoggedIn");

    // A run longer than its timeout times out.
    let slow = Uuid::new_v4().simple().to_string();
    connection(&platform, &slow, SLOW_GROUP, FIRST_PASSWORD).await;
    let (_, started) = start_run(
        &platform,
        &token,
        flow,
        json!({"runMode": "unattended", "connectionName": slow, "timeout": 1}),
    )
    .await;
    let session = follow(
        &platform,
        &token,
        started["flowsessionId"].as_str().unwrap(),
    )
    .await;
    assert_eq!(session["statuscode"], 10, "{session}");
    assert_eq!(session["errorcode"], "DesktopFlowsActionTimeout");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_rotated_password_fails_the_next_run_until_the_connection_is_updated() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, connection_id) = deployed(&platform, RUN_GROUP).await;
    let session = run_to_end(&platform, &token, flow, &connection_id).await;
    assert_eq!(session["statuscode"], 4, "{session}");
    platform.shutdown().await.unwrap();

    // The machine's password changes under the connection.
    world.write(SECOND_PASSWORD);
    let platform = world.start().await;
    let token = dv_token(&platform, SECRET_APP).await;
    let session = run_to_end(&platform, &token, flow, &connection_id).await;
    failed_with(&session, "WindowsIdentityIncorrect");

    connection(&platform, &connection_id, RUN_GROUP, SECOND_PASSWORD).await;
    let session = run_to_end(&platform, &token, flow, &connection_id).await;
    assert_eq!(session["statuscode"], 4, "{session}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_sign_ins_lock_the_account_out_even_for_the_right_password() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (_, flow, connection_id) = deployed(&platform, RUN_GROUP).await;
    platform.shutdown().await.unwrap();
    world.write(SECOND_PASSWORD);
    let platform = world.start().await;
    let token = dv_token(&platform, SECRET_APP).await;

    // RUN-01 locks an account out at the third bad sign-in.
    for _ in 0..3 {
        let session = run_to_end(&platform, &token, flow, &connection_id).await;
        failed_with(&session, "WindowsIdentityIncorrect");
    }
    let session = run_to_end(&platform, &token, flow, &connection_id).await;
    failed_with(&session, "-1073741260");
    connection(&platform, &connection_id, RUN_GROUP, SECOND_PASSWORD).await;
    let session = run_to_end(&platform, &token, flow, &connection_id).await;
    failed_with(&session, "-1073741260");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_request_is_refused_with_its_code_and_queues_nothing() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let mut config = world.config();
    // Room for inputs just over the documented 2 MB.
    config.body_limit = 4 * 1024 * 1024;
    let platform = Platform::start(config).await.unwrap();
    let (token, flow, connection_id) = deployed(&platform, RUN_GROUP).await;
    let (_, flows) = dataverse(
        &platform,
        &token,
        Method::GET,
        "workflows?$filter=category%20eq%205&$select=workflowid",
        None,
    )
    .await;
    let cloud_flow: Uuid = flows["value"][0]["workflowid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let with = |change: Value| {
        let mut body = unattended(&connection_id);
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let cases: Vec<(Uuid, Value, StatusCode, &str, &str)> = vec![
        (
            cloud_flow,
            unattended(&connection_id),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "category 5 (a cloud flow)",
        ),
        (
            Uuid::new_v4(),
            unattended(&connection_id),
            StatusCode::NOT_FOUND,
            "0x80040217",
            "Does Not Exist",
        ),
        (
            flow,
            with(json!({"runMode": null})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "'runMode' is required",
        ),
        (
            flow,
            with(json!({"runMode": "sideways"})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "'attended' or 'unattended'",
        ),
        (
            flow,
            with(json!({"connectionType": 3})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "connectionType must be 1",
        ),
        (
            flow,
            with(json!({"timeout": 86401})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "24 hours",
        ),
        (
            flow,
            with(json!({"inputs": "{not json"})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "JSON object serialized",
        ),
        (
            flow,
            with(json!({"inputs": {"Input1": "Value"}})),
            StatusCode::BAD_REQUEST,
            "0x80060888",
            "Edm.String",
        ),
        (
            flow,
            with(json!({"inputs": big})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "limited to 2 MB",
        ),
        (
            flow,
            with(json!({"callbackUrl": "http://hooks.contoso.com/done"})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "not https",
        ),
        (
            flow,
            with(json!({"callbackUrl": "https://127.0.0.1/done"})),
            StatusCode::BAD_REQUEST,
            "0x80040203",
            "IP address",
        ),
        (
            flow,
            with(json!({"connectionName": Uuid::new_v4().simple().to_string()})),
            StatusCode::NOT_FOUND,
            "0x80040203",
            "Could not find connection",
        ),
        (
            flow,
            with(json!({"connectionName": "new_missing", "connectionType": 2})),
            StatusCode::NOT_FOUND,
            "0x80040203",
            "no connection reference",
        ),
        (
            flow,
            with(json!({"priority": "high"})),
            StatusCode::BAD_REQUEST,
            "0x80060888",
            "'priority' in the request payload is not a valid parameter",
        ),
    ];
    for (workflow, body, status, code, words) in cases {
        let (got, error) = start_run(&platform, &token, workflow, body.clone()).await;
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
    let (_, list) = dataverse(&platform, &token, Method::GET, "flowsessions", None).await;
    assert_eq!(list["value"], json!([]), "a refused run queued a session");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn runs_past_seventy_a_minute_on_one_connection_are_throttled() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, connection_id) = deployed(&platform, RUN_GROUP).await;
    for _ in 0..70 {
        let (status, started) =
            start_run(&platform, &token, flow, unattended(&connection_id)).await;
        assert_eq!(status, StatusCode::OK, "{started}");
    }
    let (status, error) = start_run(&platform, &token, flow, unattended(&connection_id)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{error}");
    assert_eq!(error["error"]["code"], "DesktopFlowsActionThrottled");
    let (_, list) = dataverse(
        &platform,
        &token,
        Method::GET,
        "flowsessions?$count=true&$select=flowsessionid",
        None,
    )
    .await;
    assert_eq!(list["@odata.count"], 70);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_run_is_cancelled_once_and_only_its_owner_reads_it() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, slow) = deployed(&platform, SLOW_GROUP).await;
    let (_, started) = start_run(&platform, &token, flow, unattended(&slow)).await;
    let id = started["flowsessionId"].as_str().unwrap().to_owned();
    let cancel = format!("flowsessions({id})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun");
    let (status, _) = dataverse(&platform, &token, Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let session = follow(&platform, &token, &id).await;
    assert_eq!(session["statuscode"], 7, "{session}");
    let (status, error) = dataverse(&platform, &token, Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Cancelled"),
        "{error}"
    );

    // A maker who neither owns the flow nor administers the environment:
    // the flow's run is refused as the docs show, its session is not there.
    // USER is a maker here, not an administrator (OPS is the one).
    let user_token = crate::dataverse::admin_token(&platform, crate::dataverse::DV_SCOPE).await;
    let (status, error) = start_run(&platform, &user_token, flow, unattended(&slow)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["code"], "0x80040220");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prvReadworkflow")
    );
    let (status, _) = dataverse(
        &platform,
        &user_token,
        Method::GET,
        &format!("flowsessions({id})"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = dataverse(&platform, &user_token, Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("flowsessions({id})"),
        Some(json!({"statuscode": 4})),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{error}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_run_started_before_a_restart_ends_after_it() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, slow) = deployed(&platform, SLOW_GROUP).await;
    let (_, started) = start_run(&platform, &token, flow, unattended(&slow)).await;
    let id = started["flowsessionId"].as_str().unwrap().to_owned();
    // Stopped while the machine runs it.
    let running = until_started(&platform, &token, &id).await;
    assert_eq!(running["statuscode"], 2, "{running}");
    platform.shutdown().await.unwrap();
    let platform = world.start().await;
    world.pass_a_slow_run();
    let session = follow(&platform, &token, &id).await;
    assert_eq!(session["statuscode"], 4, "{session}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn a_run_started_before_a_restart_ends_after_it_on_postgresql() {
    let (url, base, schema) = postgres_url().await.expect(PG_NEEDED);
    let world = RunWorld::new(FIRST_PASSWORD);
    let mut config = world.config();
    config.database = Some(url);
    let platform = world.start_with(config.clone()).await;
    let (token, flow, slow) = deployed(&platform, SLOW_GROUP).await;
    let (_, started) = start_run(&platform, &token, flow, unattended(&slow)).await;
    let id = started["flowsessionId"].as_str().unwrap().to_owned();
    let running = until_started(&platform, &token, &id).await;
    assert_eq!(running["statuscode"], 2, "{running}");
    platform.shutdown().await.unwrap();
    let platform = world.start_with(config).await;
    world.pass_a_slow_run();
    let session = follow(&platform, &token, &id).await;
    assert_eq!(session["statuscode"], 4, "{session}");
    platform.shutdown().await.unwrap();
    drop_schema(&base, &schema).await;
}

/// Polls `flowsessions(id)` until a machine has taken the run.
async fn until_started(platform: &RunningPlatform, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let (_, session) = dataverse(
            platform,
            token,
            Method::GET,
            &format!("flowsessions({id})"),
            None,
        )
        .await;
        if !session["startedon"].is_null() {
            return session;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no machine took the run {id}");
}

async fn session(platform: &RunningPlatform, token: &str, id: &str) -> Value {
    let (status, session) = dataverse(
        platform,
        token,
        Method::GET,
        &format!("flowsessions({id})"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session
}

#[tokio::test]
async fn a_busy_machine_queues_runs_by_priority_and_a_cancel_frees_it() {
    let world = RunWorld::new(FIRST_PASSWORD);
    let platform = world.start().await;
    let (token, flow, slow) = deployed(&platform, SLOW_GROUP).await;
    let run = async |body: Value| {
        let (status, started) = start_run(&platform, &token, flow, body).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        started["flowsessionId"].as_str().unwrap().to_owned()
    };
    // SLOW-01 takes its runs one at a time.
    let first = run(unattended(&slow)).await;
    until_started(&platform, &token, &first).await;
    let normal = run(unattended(&slow)).await;
    let high = run(json!({"runMode": "unattended", "runPriority": "high", "connectionName": slow, "timeout": 60})).await;
    let impatient =
        run(json!({"runMode": "unattended", "connectionName": slow, "timeout": 1})).await;
    let waiting = session(&platform, &token, &normal).await;
    assert_eq!(waiting["statuscode"], 3, "queued: Waiting {waiting}");
    assert!(waiting["startedon"].is_null());

    // Its timeout passes before the machine is free.
    world.time.advance(Duration::from_secs(1));
    let ended = follow(&platform, &token, &impatient).await;
    failed_with(&ended, "NoCandidateMachine");

    // Cancelling the running one frees the machine for the high-priority
    // run, queued after the normal one but taken first.
    let cancel = format!("flowsessions({first})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun");
    let (status, _) = dataverse(&platform, &token, Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(session(&platform, &token, &first).await["statuscode"], 7);
    let high_started = until_started(&platform, &token, &high).await;
    assert_eq!(high_started["statuscode"], 2, "{high_started}");
    assert_eq!(
        session(&platform, &token, &normal).await["statuscode"],
        3,
        "the normal run waits its turn"
    );
    world.pass_a_slow_run();
    let high_done = follow(&platform, &token, &high).await;
    until_started(&platform, &token, &normal).await;
    world.pass_a_slow_run();
    let normal_done = follow(&platform, &token, &normal).await;
    assert_eq!(
        (
            high_done["statuscode"].clone(),
            normal_done["statuscode"].clone()
        ),
        (json!(4), json!(4))
    );
    assert!(high_done["completedon"].as_str() <= normal_done["startedon"].as_str());
    platform.shutdown().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn a_run_started_on_one_replica_is_followed_on_the_other() {
    let (url, base, schema) = postgres_url().await.expect(PG_NEEDED);
    let world = RunWorld::new(FIRST_PASSWORD);
    let mut config = world.config();
    config.database = Some(url);
    let first = world.start_with(config.clone()).await;
    let second = world.start_with(config).await;
    let (token, flow, slow) = deployed(&first, SLOW_GROUP).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, started) = start_run(&first, &token, flow, unattended(&slow)).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        ids.push(started["flowsessionId"].as_str().unwrap().to_owned());
    }
    // Both replicas move runs on at once; SLOW-01 still runs one at a time:
    // each ends, none overlaps another.
    let mut spans = Vec::new();
    for id in &ids {
        until_started(&second, &token, id).await;
        world.pass_a_slow_run();
        let session = follow(&second, &token, id).await;
        assert_eq!(session["statuscode"], 4, "{session}");
        spans.push((
            session["startedon"].as_str().unwrap().to_owned(),
            session["completedon"].as_str().unwrap().to_owned(),
        ));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "two runs overlapped on one machine: {spans:?}"
        );
    }
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    drop_schema(&base, &schema).await;
}
