//! Solution import over HTTP: the Terraform provider's call sequence
//! against its recorded answers, a desktop-flow solution deployed with its
//! flow on, each broken binding, versions and modes, bad input, and the
//! import job across a restart and across PostgreSQL replicas.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use padconnect_platform::{Platform, RunningPlatform};
use padconnect_solution::Version;
use padconnect_solution::write::SolutionZip;
use padconnect_testkit::{Client, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::connections::{call_raw, connection_path, seed_body};
use crate::dataverse::{DV_SCOPE, dv_client};
use crate::support::*;

const FIXTURES: &str = "tests/it/fixtures/terraform_solution";
pub(crate) const UIFLOW: &str = "new_sharedUiflow_5a1b2";
const OTHER_ENV_HOST: &str = "000000000000000000000000000001.23.environment.api.powerplatform.com";

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURES)
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn real_zip(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../solution/tests/zips")
        .join(name);
    std::fs::read(path).unwrap()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every key of `ours` is one the service answers in `recorded`, object by
/// object (the first element of arrays); `path` names where.
pub(crate) fn assert_shape(ours: &Value, recorded: &Value, path: &str) {
    match (ours, recorded) {
        (Value::Object(ours), Value::Object(recorded)) => {
            for (key, value) in ours {
                let Some(theirs) = recorded.get(key) else {
                    panic!("{path}.{key} is not in the recorded answer");
                };
                assert_shape(value, theirs, &format!("{path}.{key}"));
            }
        }
        (Value::Array(ours), Value::Array(recorded)) => {
            if let (Some(a), Some(b)) = (ours.first(), recorded.first()) {
                assert_shape(a, b, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

/// A Dataverse call as the Terraform provider sends it: `Content-Type` on
/// every method, no `Accept` or `OData-*` headers, the path as Go's
/// `net/url` escapes it.
pub(crate) async fn dataverse(
    platform: &RunningPlatform,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let reply = dv_client(platform)
        .token(token)
        .header("Content-Type", "application/json")
        .header("x-ms-useragent", "terraform-provider-power-platform")
        .send(method, path, &[], body.as_ref())
        .await;
    (reply.status, reply.body)
}

pub(crate) async fn dv_token(platform: &RunningPlatform, client_id: &str) -> String {
    app_token_for(platform, client_id, DV_SCOPE).await
}

/// A shared_uiflow connection made through the connections API by the app
/// (`admin` false) or the administrator, in the environment at `host`.
async fn connection(
    platform: &RunningPlatform,
    host: &str,
    env: &str,
    group: &str,
    admin: bool,
) -> String {
    let token = match admin {
        true => crate::connections::admin_token(platform).await,
        false => crate::connections::app_token(platform, SECRET_APP).await,
    };
    let id = Uuid::new_v4().simple().to_string();
    let reply = call_raw(
        platform,
        Method::PUT,
        host,
        &connection_path(&id),
        Some(&token),
        Some(seed_body(env, group).to_string().into_bytes()),
    )
    .await;
    assert!(reply.status.is_success(), "{}", reply.text);
    id
}

/// Stages `zip`, imports it with `parameters`, and waits for the job:
/// the job's row and the import result.
pub async fn import(
    platform: &RunningPlatform,
    token: &str,
    zip: &[u8],
    parameters: Value,
) -> (Value, Value) {
    let (status, staged) = dataverse(
        platform,
        token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(zip)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{staged}");
    let upload = &staged["StageSolutionResults"]["StageSolutionUploadId"];
    let (status, started) = dataverse(
        platform,
        token,
        Method::POST,
        "ImportSolutionAsync",
        Some(json!({
            "PublishWorkflows": true,
            "OverwriteUnmanagedCustomizations": false,
            "ComponentParameters": parameters,
            "SolutionParameters": {"StageSolutionUploadId": upload},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let job = wait(
        platform,
        token,
        started["AsyncOperationId"].as_str().unwrap(),
    )
    .await;
    let (status, result) = dataverse(
        platform,
        token,
        Method::GET,
        &format!(
            "RetrieveSolutionImportResult%28ImportJobId={}%29",
            started["ImportJobKey"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    (job, result)
}

/// Polls `asyncoperations(id)` until `completedon` is set, as Terraform does.
async fn wait(platform: &RunningPlatform, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let (status, job) = dataverse(
            platform,
            token,
            Method::GET,
            &format!("asyncoperations%28{id}%29"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if !job["completedon"].is_null() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import job {id} never completed");
}

pub(crate) fn binding(logical_name: &str, connection_id: &str) -> Value {
    json!({
        "@odata.type": "Microsoft.Dynamics.CRM.connectionreference",
        "connectionreferencedisplayname": "",
        "connectionreferencelogicalname": logical_name,
        "description": "",
        "connectorid": "/providers/Microsoft.PowerApps/apis/shared_uiflow",
        "connectionid": connection_id,
    })
}

/// A solution with a cloud flow that runs a desktop flow through a
/// shared_uiflow reference, and the desktop flow.
pub fn desktop_solution(version: Version, cloud: Uuid, desktop: Uuid) -> Vec<u8> {
    SolutionZip::new("PayrollBot", version)
        .connection_reference(UIFLOW, "shared_uiflow")
        .cloud_flow(cloud, "Run payroll export", &[UIFLOW])
        .desktop_flow(desktop, "Payroll export")
        .environment_variable("new_MachineGroupId", 100000000, None)
        .build()
        .unwrap()
}

async fn flow(platform: &RunningPlatform, token: &str, id: Uuid) -> Value {
    let (status, row) = dataverse(
        platform,
        token,
        Method::GET,
        &format!("workflows({id})"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{row}");
    row
}

#[tokio::test]
async fn the_terraform_providers_solution_calls_get_the_recorded_shapes() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let zip = real_zip("TerraformTestSolution_Complex_1_1_0_0.zip");

    // 1. StageSolution, with nothing but the file.
    let (status, staged) = dataverse(
        &platform,
        &token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(&zip)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{staged}");
    assert_shape(
        &staged,
        &fixture("post_stage_solution.json"),
        "StageSolution",
    );
    let results = &staged["StageSolutionResults"];
    assert_eq!(results["StageSolutionStatus"], "Passed");
    let recorded = fixture("post_stage_solution.json");
    let names = |v: &Value| -> Vec<(String, String)> {
        v["StageSolutionResults"]["SolutionComponentsDetails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ComponentTypeName"] != "entity")
            .map(|c| {
                (
                    c["ComponentTypeName"].as_str().unwrap().to_owned(),
                    c["ComponentName"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    // The same components as the service listed, tables aside (the
    // platform keeps no tables).
    assert_eq!(names(&staged), names(&recorded));
    assert_eq!(
        results["SolutionDetails"],
        recorded["StageSolutionResults"]["SolutionDetails"]
    );

    // 2. ImportSolutionAsync with the provider's body: every settings-file
    // reference, an empty connection id among them, and a variable.
    let (status, started) = dataverse(
        &platform,
        &token,
        Method::POST,
        "ImportSolutionAsync",
        Some(json!({
            "PublishWorkflows": true,
            "OverwriteUnmanagedCustomizations": false,
            "ComponentParameters": [
                {"@odata.type": "Microsoft.Dynamics.CRM.connectionreference", "connectionreferencedisplayname": "",
                 "connectionreferencelogicalname": "cra6e_ConnectionReferenceSharePoint", "description": "",
                 "connectorid": "/providers/Microsoft.PowerApps/apis/shared_sharepointonline", "connectionid": ""},
                {"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue",
                 "schemaname": "cra6e_SolutionVariableText", "value": "from the settings file"}
            ],
            "SolutionParameters": {"StageSolutionUploadId": results["StageSolutionUploadId"]},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_shape(
        &started,
        &fixture("post_import_solution_async.json"),
        "ImportSolutionAsync",
    );
    assert!(Uuid::try_parse(started["ImportJobKey"].as_str().unwrap()).is_ok());

    // 3. asyncoperations(id) until completedon.
    let job = wait(
        &platform,
        &token,
        started["AsyncOperationId"].as_str().unwrap(),
    )
    .await;
    assert_shape(
        &job,
        &fixture("get_async_operations.json"),
        "asyncoperation",
    );
    assert_eq!(
        (job["statecode"].clone(), job["statuscode"].clone()),
        (json!(3), json!(30))
    );
    assert_eq!(job["operationtype"], 54);
    assert_eq!(job["messagename"], "ImportSolutionAsync");

    // 4. RetrieveSolutionImportResult.
    let (status, result) = dataverse(
        &platform,
        &token,
        Method::GET,
        &format!(
            "RetrieveSolutionImportResult%28ImportJobId={}%29",
            started["ImportJobKey"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_shape(
        &result,
        &fixture("get_solution_import_result.json"),
        "RetrieveSolutionImportResult",
    );
    assert_eq!(result["SolutionOperationResult"]["Status"], "Passed");
    assert!(
        result["SolutionOperationResult"]["FormattedResults"]
            .as_str()
            .unwrap()
            .contains("TerraformTestSolution")
    );

    // A staged upload is imported once: its job forgot it.
    let (status, again) = dataverse(
        &platform,
        &token,
        Method::POST,
        "ImportSolutionAsync",
        Some(json!({"SolutionParameters": {"StageSolutionUploadId": results["StageSolutionUploadId"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Call StageSolution first")
    );

    // 5. The solution by unique name, with its publisher.
    let (status, found) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?%24expand=publisherid&%24filter=uniquename+eq+%27TerraformTestSolution%27",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_shape(&found, &fixture("get_solution.json"), "solutions");
    let solution = &found["value"][0];
    assert_eq!(solution["version"], "1.1.0.0");
    assert_eq!(solution["ismanaged"], false);
    assert_eq!(solution["publisherid"]["uniquename"], "Crefda7");
    assert_eq!(solution["publisherid"]["customizationprefix"], "cra6e");
    // A nested $select keeps the publisher's columns it names, and its key.
    let (status, selected) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?$select=uniquename&$expand=publisherid($select=uniquename,friendlyname)&$filter=uniquename eq 'TerraformTestSolution'",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{selected}");
    let publisher = selected["value"][0]["publisherid"].as_object().unwrap();
    let mut kept: Vec<&str> = publisher.keys().map(String::as_str).collect();
    kept.sort_unstable();
    assert_eq!(
        kept,
        ["friendlyname", "publisherid", "uniquename"],
        "{selected}"
    );
    assert_eq!(publisher["uniquename"], "Crefda7");
    let (status, refused) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?$expand=publisherid($top=1)",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["code"], "0x80060888", "{refused}");

    // What the import kept: the reference unbound, the settings' value
    // over the packaged one, the packaged value where none was given.
    let (_, references) =
        dataverse(&platform, &token, Method::GET, "connectionreferences", None).await;
    assert_eq!(
        references["value"][0]["connectionreferencelogicalname"],
        "cra6e_ConnectionReferenceSharePoint"
    );
    assert!(references["value"][0]["connectionid"].is_null());
    let (_, values) = dataverse(
        &platform,
        &token,
        Method::GET,
        "environmentvariablevalues?$select=schemaname,value&$orderby=schemaname",
        None,
    )
    .await;
    let values: Vec<(&str, &str)> = values["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["schemaname"].as_str().unwrap(),
                v["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("cra6e_SolutionVariableDataSource", "test"),
            ("cra6e_SolutionVariableText", "from the settings file")
        ]
    );

    // 6. Delete, as the provider does: an unmanaged solution leaves its
    // components behind.
    let id = solution["solutionid"].as_str().unwrap();
    let (status, _) = dataverse(
        &platform,
        &token,
        Method::DELETE,
        &format!("solutions%28{id}%29"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = dataverse(&platform, &token, Method::GET, "solutions", None).await;
    assert_eq!(after["value"], json!([]));
    let (_, references) =
        dataverse(&platform, &token, Method::GET, "connectionreferences", None).await;
    assert_eq!(references["value"].as_array().unwrap().len(), 1);
    let (status, again) = dataverse(
        &platform,
        &token,
        Method::DELETE,
        &format!("solutions({id})"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
    assert_eq!(again["error"]["code"], "0x80040217");
}

#[tokio::test]
async fn every_real_zip_imports() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    for name in [
        "TerraformSimpleTestSolution_1_0_0_1_managed.zip",
        "TerraformSolutionExample_1_0_0_1_managed.zip",
        "TerraformTestSolution_Complex_1_1_0_0.zip",
    ] {
        let (job, result) = import(&platform, &token, &real_zip(name), Value::Null).await;
        assert_eq!(job["statuscode"], 30, "{name}: {job}");
        assert_eq!(
            result["SolutionOperationResult"]["Status"], "Passed",
            "{name}"
        );
    }
    let (_, solutions) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?$select=uniquename,ismanaged&$orderby=uniquename",
        None,
    )
    .await;
    let installed: Vec<(&str, bool)> = solutions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["uniquename"].as_str().unwrap(),
                s["ismanaged"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        installed,
        [
            ("TerraformSimpleTestSolution", true),
            ("TerraformSolutionExample", true),
            ("TerraformTestSolution", false)
        ]
    );
    // The next page's link asks for the same expansion.
    let first = crate::dataverse::get(
        &platform,
        &token,
        "solutions?$select=uniquename&$expand=publisherid($select=uniquename)&$orderby=uniquename",
        Some("odata.maxpagesize=2"),
    )
    .await;
    let next = first.body["@odata.nextLink"].as_str().unwrap();
    let path = next.split("/api/data/v9.2/").nth(1).unwrap();
    let second = crate::dataverse::get(&platform, &token, path, Some("odata.maxpagesize=2")).await;
    let last = &second.body["value"][0];
    assert_eq!(
        last["uniquename"], "TerraformTestSolution",
        "{}",
        second.body
    );
    let publisher: Vec<&String> = last["publisherid"].as_object().unwrap().keys().collect();
    assert_eq!(publisher, ["publisherid", "uniquename"], "{}", second.body);
    // The unmanaged example over its managed install: the modes differ.
    let (job, result) = import(
        &platform,
        &token,
        &real_zip("TerraformSolutionExample_1_0_0_1.zip"),
        Value::Null,
    )
    .await;
    assert_eq!(job["statuscode"], 31, "{job}");
    assert_eq!(job["errorcode"], i64::from(0x8004_8041_u32 as i32));
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("installed on this system as a managed solution")
    );
    assert_eq!(result["SolutionOperationResult"]["Status"], "Failed");
}

#[tokio::test]
async fn a_desktop_flow_solution_deploys_with_its_flow_on() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let connection = connection(&platform, ENV_HOST, ENVIRONMENT, SHARED_GROUP, false).await;
    let (cloud, desktop) = (Uuid::new_v4(), Uuid::new_v4());
    let zip = desktop_solution(Version::new(1, 0, 0, 0), cloud, desktop);
    let (job, result) = import(
        &platform,
        &token,
        &zip,
        json!([
            binding(UIFLOW, &connection),
            {"@odata.type": "#Microsoft.Dynamics.CRM.environmentvariablevalue", "schemaname": "new_MachineGroupId", "value": SHARED_GROUP}
        ]),
    )
    .await;
    assert_eq!(job["statuscode"], 30, "{job}");
    assert_eq!(
        result["SolutionOperationResult"]["WarningMessages"],
        json!([])
    );
    let row = flow(&platform, &token, cloud).await;
    assert_eq!(
        (row["statecode"].clone(), row["statuscode"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(row["category"], 5);
    assert!(row["clientdata"].as_str().unwrap().contains(UIFLOW));
    let row = flow(&platform, &token, desktop).await;
    assert_eq!(
        (
            row["category"].clone(),
            row["uiflowtype"].clone(),
            row["statecode"].clone()
        ),
        (json!(6), json!(2), json!(1))
    );
    let (_, references) = dataverse(
        &platform,
        &token,
        Method::GET,
        &format!("connectionreferences?$filter=connectionreferencelogicalname eq '{UIFLOW}'"),
        None,
    )
    .await;
    assert_eq!(references["value"][0]["connectionid"], connection);

    // The same version again: the import runs again and changes nothing.
    let (job, _) = import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let (_, references) =
        dataverse(&platform, &token, Method::GET, "connectionreferences", None).await;
    assert_eq!(references["value"][0]["connectionid"], connection);
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 1);

    // A lower version is refused; a higher one upgrades.
    let (job, _) = import(
        &platform,
        &token,
        &desktop_solution(Version::new(0, 9, 0, 0), cloud, desktop),
        Value::Null,
    )
    .await;
    assert_eq!(job["statuscode"], 31, "{job}");
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("version 0.9.0.0 is lower"),
        "{job}"
    );
    let (job, _) = import(
        &platform,
        &token,
        &desktop_solution(Version::new(1, 1, 0, 0), cloud, desktop),
        Value::Null,
    )
    .await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let (_, solutions) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?$select=version",
        None,
    )
    .await;
    assert_eq!(solutions["value"][0]["version"], "1.1.0.0");
}

#[tokio::test]
async fn each_broken_binding_fails_the_import_or_leaves_the_flow_off() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let mine = connection(&platform, ENV_HOST, ENVIRONMENT, SHARED_GROUP, false).await;
    let admins = connection(&platform, ENV_HOST, ENVIRONMENT, SHARED_GROUP, true).await;
    let elsewhere = connection(&platform, OTHER_ENV_HOST, OTHER_ENV, OTHER_ENV_GROUP, false).await;
    let cloud = Uuid::new_v4();
    let zip = desktop_solution(Version::new(1, 0, 0, 0), cloud, Uuid::new_v4());

    // Ids the connection check does not find fail the import, and keep nothing.
    let ghost = Uuid::new_v4().simple().to_string();
    for (given, why) in [
        (ghost.as_str(), "an id of no connection"),
        (elsewhere.as_str(), "a connection of another environment"),
        (&*format!("shared_uiflow/{mine}"), "the shared_x/<id> form"),
    ] {
        let (job, result) = import(&platform, &token, &zip, json!([binding(UIFLOW, given)])).await;
        assert_eq!(job["statuscode"], 31, "{why}: {job}");
        assert_eq!(
            job["message"],
            format!("Could not find connection '{given}' for API 'shared_uiflow'."),
            "{why}"
        );
        assert_eq!(result["SolutionOperationResult"]["Status"], "Failed");
        let (_, solutions) = dataverse(&platform, &token, Method::GET, "solutions", None).await;
        assert_eq!(solutions["value"], json!([]), "{why}: nothing is kept");
    }

    // A connection of another connector: a SharePoint reference given a
    // desktop-flow connection.
    let sharepoint = SolutionZip::new("Lists", Version::new(1, 0, 0, 0))
        .connection_reference("new_sharepoint", "shared_sharepointonline")
        .build()
        .unwrap();
    let mut wrong = binding("new_sharepoint", &mine);
    wrong["connectorid"] = json!("/providers/Microsoft.PowerApps/apis/shared_sharepointonline");
    let (job, _) = import(&platform, &token, &sharepoint, json!([wrong])).await;
    assert_eq!(
        job["message"],
        format!("Could not find connection '{mine}' for API 'shared_sharepointonline'.")
    );

    // No binding: the import succeeds and the flow stays off, with the reason.
    let (job, result) = import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let warnings = result["SolutionOperationResult"]["WarningMessages"].to_string();
    assert!(
        warnings.contains("XrmConnectionReferenceMissingConnection"),
        "{warnings}"
    );
    assert!(
        warnings.contains(&format!(
            "Connection Id missing for connection reference logical name '{UIFLOW}'."
        )),
        "{warnings}"
    );
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 0);

    // Turning it on by hand says the same.
    let (status, refused) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("workflows({cloud})"),
        Some(json!({"statecode": 1, "statuscode": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["code"], "0x80040265");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Flow client error returned with status code \"BadRequest\"")
    );

    // Bound to the administrator's connection, not shared with the app:
    // the import succeeds, the flow stays off with the 403's words.
    let (job, result) = import(&platform, &token, &zip, json!([binding(UIFLOW, &admins)])).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let warnings = result["SolutionOperationResult"]["WarningMessages"].to_string();
    assert!(
        warnings.contains("ConnectionAuthorizationFailed"),
        "{warnings}"
    );
    assert!(
        warnings.contains(&format!("The caller object id is '{SECRET_APP_OID}'")),
        "{warnings}"
    );
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 0);
    let (status, refused) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("workflows({cloud})"),
        Some(json!({"statecode": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("status code \\\"Forbidden\\\"")
            || refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("status code \"Forbidden\""),
        "{refused}"
    );

    // Fixed the way ALM scripts fix it: bind the reference, turn the flow on.
    let (_, references) = dataverse(
        &platform,
        &token,
        Method::GET,
        "connectionreferences?$select=connectionreferenceid",
        None,
    )
    .await;
    let reference = references["value"][0]["connectionreferenceid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, refused) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("connectionreferences({reference})"),
        Some(json!({"connectionid": ghost})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        format!("Could not find connection '{ghost}' for API 'shared_uiflow'.")
    );
    let (status, _) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("connectionreferences({reference})"),
        Some(json!({"connectionid": mine})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("workflows({cloud})"),
        Some(json!({"statecode": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 1);
    let (status, _) = dataverse(
        &platform,
        &token,
        Method::PATCH,
        &format!("workflows({cloud})"),
        Some(json!({"statecode": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 0);

    // If-Match holds a flow and a reference to the version read, as it
    // holds a machine group: a stale one is refused and changes nothing.
    let patch = |path: String, etag: String, body: Value| {
        let client = dv_client(&platform).token(&token);
        async move {
            let headers = [("If-Match", etag.as_str())];
            client
                .send(Method::PATCH, &path, &headers, Some(&body))
                .await
        }
    };
    let stale = || "W/\"1\"".to_owned();
    let refused_as_stale = |reply: Reply| {
        assert_eq!(
            reply.status,
            StatusCode::PRECONDITION_FAILED,
            "{}",
            reply.body
        );
        assert_eq!(reply.body["error"]["code"], "0x80060882");
    };
    let on = json!({"statecode": 1});
    refused_as_stale(patch(format!("workflows({cloud})"), stale(), on.clone()).await);
    let read = flow(&platform, &token, cloud).await;
    assert_eq!(read["statecode"], 0, "a refused PATCH changes nothing");
    let etag = read["@odata.etag"].as_str().unwrap().to_owned();
    let done = patch(format!("workflows({cloud})"), etag, on).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    assert_eq!(flow(&platform, &token, cloud).await["statecode"], 1);
    let reference_path = format!("connectionreferences({reference})");
    refused_as_stale(patch(reference_path, stale(), json!({"connectionid": null})).await);
}

#[tokio::test]
async fn value_types_another_solutions_flow_environment_bindings_and_other_environments() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let connection = connection(&platform, ENV_HOST, ENVIRONMENT, SHARED_GROUP, false).await;
    let cloud = Uuid::new_v4();
    let zip = desktop_solution(Version::new(1, 0, 0, 0), cloud, Uuid::new_v4());
    let (job, _) = import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 30, "{job}");

    // A value not of its variable's type fails the import.
    let numbers = SolutionZip::new("Numbers", Version::new(1, 0, 0, 0))
        .environment_variable("new_Retries", 100000001, Some("3"))
        .build()
        .unwrap();
    let (job, _) = import(&platform, &token, &numbers, json!([{"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue", "schemaname": "new_Retries", "value": "three"}])).await;
    assert_eq!(job["statuscode"], 31, "{job}");
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("'three' is not a number"),
        "{job}"
    );

    // Another solution that names the same flow is refused, and the flow
    // keeps its solution.
    let thief = SolutionZip::new("Thief", Version::new(1, 0, 0, 0))
        .desktop_flow(cloud, "Taken")
        .build()
        .unwrap();
    let (job, _) = import(&platform, &token, &thief, Value::Null).await;
    assert_eq!(job["statuscode"], 31, "{job}");
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("is a component of the solution 'PayrollBot'"),
        "{job}"
    );
    assert_eq!(
        flow(&platform, &token, cloud).await["name"],
        "Run payroll export"
    );

    // A settings entry for a reference the environment has from another
    // solution binds it.
    let (job, _) = import(
        &platform,
        &token,
        &numbers,
        json!([binding(UIFLOW, &connection)]),
    )
    .await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let (_, references) =
        dataverse(&platform, &token, Method::GET, "connectionreferences", None).await;
    assert_eq!(references["value"][0]["connectionid"], connection);

    // A job of this environment is not there for a caller of another.
    let zip = SolutionZip::new("Elsewhere", Version::new(1, 0, 0, 0))
        .build()
        .unwrap();
    let (_, staged) = dataverse(
        &platform,
        &token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(&zip)})),
    )
    .await;
    let (_, started) = dataverse(&platform, &token, Method::POST, "ImportSolutionAsync", Some(json!({
        "SolutionParameters": {"StageSolutionUploadId": staged["StageSolutionResults"]["StageSolutionUploadId"]},
    }))).await;
    let other = app_token_for(
        &platform,
        SECRET_APP,
        "https://contosotest.crm.dynamics.com/.default",
    )
    .await;
    let id = started["AsyncOperationId"].as_str().unwrap();
    let reply = Client::new(format!("{}/orgs/contosotest/api/data/v9.2", platform.url()))
        .token(&other)
        .get(&format!("asyncoperations({id})"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let job = wait(&platform, &token, id).await;
    assert_eq!(job["statuscode"], 30);
}

#[tokio::test]
async fn missing_dependencies_fail_the_stage_and_the_import() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let zip = SolutionZip::new("Payroll", Version::new(1, 0, 0, 0))
        .missing_dependency("new_payrolltable", "PayrollTables (1.2.0.0)")
        .build()
        .unwrap();
    let (status, staged) = dataverse(
        &platform,
        &token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(&zip)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let results = &staged["StageSolutionResults"];
    assert_eq!(results["StageSolutionStatus"], "Failed");
    assert_eq!(
        results["MissingDependencies"][0]["RequiredComponentSchemaName"],
        "new_payrolltable"
    );
    assert_eq!(
        results["MissingDependencies"][0]["RequiredSolutionName"],
        "PayrollTables"
    );
    let (job, _) = import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 31);
    assert_eq!(job["errorcode"], i64::from(0x8004_801D_u32 as i32));
    assert!(job["message"].as_str().unwrap().starts_with(
        "The following solution cannot be imported: Payroll. Some dependencies are missing."
    ));

    // Once the solution it needs is there, it imports.
    let tables = SolutionZip::new("PayrollTables", Version::new(1, 2, 0, 0))
        .build()
        .unwrap();
    assert_eq!(
        import(&platform, &token, &tables, Value::Null).await.0["statuscode"],
        30
    );
    let (job, _) = import(&platform, &token, &zip, Value::Null).await;
    assert_eq!(job["statuscode"], 30, "{job}");
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let (platform, _world) = start_identity(false).await;
    let token = dv_token(&platform, SECRET_APP).await;
    let stage = |body: Value| {
        let token = token.clone();
        let platform = &platform;
        async move { dataverse(platform, &token, Method::POST, "StageSolution", Some(body)).await }
    };
    let (status, body) = stage(json!({"CustomizationFile": "not base64!"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("base64"),
        "{body}"
    );
    let (status, body) = stage(json!({"CustomizationFile": base64(b"plain text")})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "0x80048060", "{body}");
    let (status, body) = stage(json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A bomb: 65 MiB of spaces in a small zip.
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    bomb.start_file(
        "customizations.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..65 {
        std::io::Write::write_all(&mut bomb, &block).unwrap();
    }
    let bomb = bomb.finish().unwrap().into_inner();
    let (status, body) = stage(json!({"CustomizationFile": base64(&bomb)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "0x80048060", "{body}");

    // Deep XML.
    let mut deep = SolutionZip::new("Deep", Version::new(1, 0, 0, 0))
        .build()
        .unwrap();
    let deep_xml = format!("{}{}", "<a>".repeat(500), "</a>".repeat(500));
    deep = replace_file(&deep, "customizations.xml", deep_xml.as_bytes());
    let (status, body) = stage(json!({"CustomizationFile": base64(&deep)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "0x8004802C", "{body}");

    // ComponentParameters that are not references or values, or that name
    // what the solution lacks.
    let zip = SolutionZip::new("Small", Version::new(1, 0, 0, 0))
        .build()
        .unwrap();
    let (_, staged) = stage(json!({"CustomizationFile": base64(&zip)})).await;
    let upload = staged["StageSolutionResults"]["StageSolutionUploadId"].clone();
    let (status, body) = dataverse(
        &platform,
        &token,
        Method::POST,
        "ImportSolutionAsync",
        Some(json!({
            "ComponentParameters": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "x"}],
            "SolutionParameters": {"StageSolutionUploadId": upload},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = dataverse(
        &platform,
        &token,
        Method::POST,
        "ImportSolutionAsync",
        Some(json!({
            "SolutionParameters": {"StageSolutionUploadId": Uuid::new_v4()},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Call StageSolution first"),
        "{body}"
    );
    let (job, _) = import(
        &platform,
        &token,
        &zip,
        json!([binding("new_nosuchreference", "")]),
    )
    .await;
    assert_eq!(job["statuscode"], 31);
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("'new_nosuchreference'"),
        "{job}"
    );
    let (job, _) = import(&platform, &token, &zip, json!([{"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue", "schemaname": "new_nosuchvariable", "value": "1"}])).await;
    assert_eq!(job["statuscode"], 31);

    // Rows are written by importing, not by POST.
    let (status, body) = dataverse(
        &platform,
        &token,
        Method::POST,
        "workflows",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (_, solutions) = dataverse(&platform, &token, Method::GET, "solutions", None).await;
    assert_eq!(solutions["value"], json!([]));
}

/// `zip` with the file `name` replaced by `bytes`.
fn replace_file(zip: &[u8], name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let entry_name = entry.name().unwrap().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        out.start_file(entry_name.clone(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(if entry_name == name { bytes } else { &content })
            .unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A world whose environment takes `seconds` per import.
fn slow_world(seconds: u64) -> IdentityWorld {
    let world = identity_world();
    let text = std::fs::read_to_string(&world.world).unwrap().replacen(
        "org = \"contoso\"\n",
        &format!("org = \"contoso\"\nimport_seconds = {seconds}\n"),
        1,
    );
    std::fs::write(&world.world, text).unwrap();
    world
}

#[tokio::test]
async fn an_import_takes_its_time_and_a_restart_loses_none() {
    let world = slow_world(2);
    let data = world.dir.path().join("data");
    let mut config = config(&data);
    config.world = Some(world.world.clone());
    let platform = Platform::start(config.clone()).await.unwrap();
    let token = dv_token(&platform, SECRET_APP).await;
    let zip = SolutionZip::new("Slow", Version::new(1, 0, 0, 0))
        .build()
        .unwrap();
    let (_, staged) = dataverse(
        &platform,
        &token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(&zip)})),
    )
    .await;
    let (_, started) = dataverse(&platform, &token, Method::POST, "ImportSolutionAsync", Some(json!({
        "PublishWorkflows": true, "OverwriteUnmanagedCustomizations": false,
        "SolutionParameters": {"StageSolutionUploadId": staged["StageSolutionResults"]["StageSolutionUploadId"]},
    }))).await;
    let id = started["AsyncOperationId"].as_str().unwrap().to_owned();
    let (_, job) = dataverse(
        &platform,
        &token,
        Method::GET,
        &format!("asyncoperations({id})"),
        None,
    )
    .await;
    assert_eq!(
        (job["statecode"].clone(), job["statuscode"].clone()),
        (json!(2), json!(20)),
        "{job}"
    );
    assert!(job["completedon"].is_null());

    // Stopped mid-import, and started again: the job ends all the same.
    platform.shutdown().await.unwrap();
    let platform = Platform::start(config).await.unwrap();
    let token = dv_token(&platform, SECRET_APP).await;
    let job = wait(&platform, &token, &id).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    let (_, solutions) = dataverse(
        &platform,
        &token,
        Method::GET,
        "solutions?$select=uniquename",
        None,
    )
    .await;
    assert_eq!(solutions["value"][0]["uniquename"], "Slow");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn an_import_started_on_one_replica_ends_on_the_other() {
    let (url, base, schema) = postgres_url().await.expect(PG_NEEDED);
    let world = slow_world(1);
    let data = world.dir.path().join("data");
    let mut config = config(&data);
    config.world = Some(world.world.clone());
    config.database = Some(url);
    let first = Platform::start(config.clone()).await.unwrap();
    let second = Platform::start(config).await.unwrap();
    let token = dv_token(&first, SECRET_APP).await;
    let zip = SolutionZip::new("Replicated", Version::new(1, 0, 0, 0))
        .build()
        .unwrap();
    let (_, staged) = dataverse(
        &first,
        &token,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": base64(&zip)})),
    )
    .await;
    let (_, started) = dataverse(&first, &token, Method::POST, "ImportSolutionAsync", Some(json!({
        "SolutionParameters": {"StageSolutionUploadId": staged["StageSolutionResults"]["StageSolutionUploadId"]},
    }))).await;
    let id = started["AsyncOperationId"].as_str().unwrap().to_owned();
    first.shutdown().await.unwrap();
    let job = wait(&second, &token, &id).await;
    assert_eq!(job["statuscode"], 30, "{job}");
    second.shutdown().await.unwrap();
    drop_schema(&base, &schema).await;
}

#[tokio::test]
async fn a_connection_api_caller_is_not_a_dataverse_caller() {
    // The connections API's token is refused by Dataverse: the solution
    // actions check the audience like every Dataverse call.
    let (platform, _world) = start_identity(false).await;
    let pp = crate::connections::app_token(&platform, SECRET_APP).await;
    let (status, _) = dataverse(
        &platform,
        &pp,
        Method::POST,
        "StageSolution",
        Some(json!({"CustomizationFile": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
