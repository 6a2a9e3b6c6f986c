//! `padconnect deploy` and `padconnect settings check` against `padconnect
//! serve` with a world of two environments and two pipelines' apps, as a
//! pipeline runs them: each problem a settings file can have, seen before
//! the import and as the import's outcome.

use std::path::Path;
use std::process::{Command, Output};

use padconnect_solution::Version;
use padconnect_solution::write::SolutionZip;
use padconnect_testkit::{App, Environment, Group, Machine, Share, Tenant, World};
use serde_json::{Value, json};

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const APP_OID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const OTHER_APP: &str = "6e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
const PROD: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const TEST: &str = "00000000-0000-0000-0000-000000000123";
const BOTS: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
const OFFLINE: &str = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a";
const TEST_BOTS: &str = "d7a4f6e5-3c2b-4a1d-8f8e-9b8a7f6e5d4c";
const REFERENCE: &str = "new_sharedUiflow_5a1b2";
const UIFLOW: &str = "/providers/Microsoft.PowerApps/apis/shared_uiflow";

fn world(dir: &Path) -> String {
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(
                    App::new("deploy-pipeline", APP)
                        .object_id(APP_OID)
                        .secret("example-secret-value"),
                )
                .app(App::new("other-team", OTHER_APP).secret("other-secret-value"))
                .environment(
                    Environment::new(PROD, "Contoso Production", "contoso")
                        .application_user(APP)
                        .application_user(OTHER_APP)
                        .group(
                            Group::new(BOTS, "Finance bots", APP)
                                .machine(Machine::new("FIN-VM-01"))
                                .shared_with(Share::app(OTHER_APP, "user")),
                        )
                        .group(
                            Group::new(OFFLINE, "Night bots", APP)
                                .machine(Machine::new("NIGHT-VM-01").offline()),
                        ),
                )
                .environment(
                    Environment::new(TEST, "Contoso Test", "contosotest")
                        .application_user(APP)
                        .group(
                            Group::new(TEST_BOTS, "Test bots", APP)
                                .machine(Machine::new("TEST-VM-01")),
                        ),
                ),
        )
        .write_to(dir)
        .display()
        .to_string()
}

/// A command as the app (or the other team's app) on the platform.
fn as_app(server: &Server, other: bool, args: &[&str]) -> Command {
    let mut command = padconnect();
    command
        .args(args)
        .args(["--platform", &server.url])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", if other { OTHER_APP } else { APP })
        .env(
            "AZURE_CLIENT_SECRET",
            if other {
                "other-secret-value"
            } else {
                "example-secret-value"
            },
        )
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("PADCONNECT_ENVIRONMENT");
    command
}

fn connection(server: &Server, other: bool, environment: &str, group: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let output = as_app(
        server,
        other,
        &[
            "connect",
            "--environment",
            environment,
            "--group",
            group,
            "--username",
            "CONTOSO\\svc-bot",
            "--output",
            "json",
            "--connection-id",
            &id,
        ],
    )
    .output()
    .unwrap();
    let body: Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|_| panic!("{}", stderr(&output)));
    body["connectionId"].as_str().unwrap().to_owned()
}

fn solution(dir: &Path, version: Version) -> String {
    let zip = SolutionZip::new("DesktopFlows", version)
        .connection_reference(REFERENCE, "shared_uiflow")
        .cloud_flow(
            uuid::Uuid::from_u128(0x3f2a_9c41_7d6e_4b58_a1c2_d3e4_f5a6_b7c8),
            "Run the payroll export",
            &[REFERENCE],
        )
        .desktop_flow(uuid::Uuid::from_u128(7), "Payroll export")
        .environment_variable("new_Retries", 100000001, Some("3"))
        .build()
        .unwrap();
    let path = dir.join(format!("DesktopFlows_{version}.zip"));
    std::fs::write(&path, zip).unwrap();
    path.display().to_string()
}

fn settings(dir: &Path, name: &str, connection_id: &str, retries: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        json!({
            "EnvironmentVariables": [{"SchemaName": "new_Retries", "Value": retries}],
            "ConnectionReferences": [{"LogicalName": REFERENCE, "ConnectionId": connection_id, "ConnectorId": UIFLOW}],
        })
        .to_string(),
    )
    .unwrap();
    path.display().to_string()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

#[test]
fn settings_check_names_each_problem_and_deploy_reports_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let mine = connection(&server, false, PROD, BOTS);
    let elsewhere = connection(&server, false, TEST, TEST_BOTS);
    let theirs = connection(&server, true, PROD, BOTS);
    let offline = connection(&server, false, PROD, OFFLINE);
    let zip = solution(dir.path(), Version::new(1, 0, 0, 0));
    let check = |file: &str| {
        as_app(
            &server,
            false,
            &[
                "settings",
                "check",
                file,
                "--solution",
                &zip,
                "--environment",
                PROD,
                "--output",
                "json",
            ],
        )
        .output()
        .unwrap()
    };

    // Each problem, with its fix.
    let ghost = "0123456789abcdef0123456789abcdef";
    for (connection_id, retries, expected) in [
        ("", "3", "ConnectionId is empty"),
        (
            ghost,
            "3",
            "no connection 0123456789abcdef0123456789abcdef in environment",
        ),
        (&elsewhere, "3", "belongs to another environment"),
        (&theirs, "3", "not shared with this identity"),
        (
            &format!("shared_uiflow/{mine}"),
            "3",
            "not in the form the service takes",
        ),
        (&offline, "3", "is Error"),
        (&mine, "three", "'three' is not a number"),
    ] {
        let file = settings(dir.path(), "check.json", connection_id, retries);
        let output = check(&file);
        assert_eq!(
            output.status.code(),
            Some(7),
            "{expected}: {}",
            stderr(&output)
        );
        let problems = json_of(&output)["problems"].to_string();
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
    // A settings file for another solution, and a connector mismatch.
    std::fs::write(
        dir.path().join("other.json"),
        json!({"ConnectionReferences": [
            {"LogicalName": "new_sharepoint", "ConnectionId": mine, "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}
        ]})
        .to_string(),
    )
    .unwrap();
    let output = check(dir.path().join("other.json").to_str().unwrap());
    let problems = json_of(&output)["problems"].to_string();
    assert!(problems.contains("is a shared_uiflow connection, but the reference's connector is shared_sharepointonline"), "{problems}");
    assert!(problems.contains("is not in the solution"), "{problems}");
    assert!(
        problems.contains("is not in the settings file"),
        "{problems}"
    );

    // A good file passes.
    let good = settings(dir.path(), "good.json", &mine, "5");
    let output = check(&good);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(json_of(&output)["problems"], json!([]));

    // deploy --check stops before importing.
    let bad = settings(dir.path(), "bad.json", &theirs, "3");
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &bad,
            "--environment",
            PROD,
            "--check",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(7));
    assert!(
        stderr(&output).contains("nothing was imported"),
        "{}",
        stderr(&output)
    );

    // Without --check: another environment's connection fails the import.
    let wrong_env = settings(dir.path(), "env.json", &elsewhere, "3");
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &wrong_env,
            "--environment",
            PROD,
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "Could not find connection '{elsewhere}' for API 'shared_uiflow'"
        )),
        "{}",
        stderr(&output)
    );

    // A connection the app does not own and was not shared with: imported,
    // the cloud flow off with the service's reason, exit 7.
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &bad,
            "--environment",
            PROD,
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["action"], "imported");
    let cloud = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "cloud flow")
        .unwrap();
    assert_eq!(cloud["on"], false);
    assert!(
        cloud["reason"]
            .as_str()
            .unwrap()
            .starts_with("ConnectionAuthorizationFailed: The caller object id is"),
        "{cloud}"
    );
    assert!(
        stderr(&output).contains("1 flow(s) stayed off: Run the payroll export"),
        "{}",
        stderr(&output)
    );

    // The same version with the good file: installed already, so nothing
    // is imported, and the flow stays off until --force binds it.
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &good,
            "--environment",
            PROD,
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(json_of(&output)["action"], "unchanged");
    assert_eq!(output.status.code(), Some(7));
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &good,
            "--environment",
            PROD,
            "--force",
        ],
    )
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let table = stdout(&output);
    assert!(
        table.contains(&format!("{REFERENCE}  shared_uiflow  {mine}  Connected")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("Run the payroll export") && l.ends_with("on")),
        "{table}"
    );

    // A dry run of the next version changes nothing.
    let next = solution(dir.path(), Version::new(1, 1, 0, 0));
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &next,
            "--settings",
            &good,
            "--environment",
            PROD,
            "--dry-run",
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(
        (
            report["action"].as_str(),
            report["previous_version"].as_str()
        ),
        (Some("dry-run"), Some("1.0.0.0"))
    );
    let output = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &next,
            "--settings",
            &good,
            "--environment",
            PROD,
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(json_of(&output)["previous_version"], "1.0.0.0");
    assert_eq!(json_of(&output)["version"], "1.1.0.0");
}

#[test]
fn what_is_not_a_solution_or_a_settings_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("x.zip");
    std::fs::write(&not_zip, "not a zip").unwrap();
    let output = padconnect()
        .args([
            "deploy",
            "--solution",
            not_zip.to_str().unwrap(),
            "--platform",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a solution Dataverse imports"),
        "{}",
        stderr(&output)
    );

    let zip = solution(dir.path(), Version::new(1, 0, 0, 0));
    let not_json = dir.path().join("s.json");
    std::fs::write(&not_json, "{ConnectionReferences").unwrap();
    let output = padconnect()
        .args([
            "deploy",
            "--solution",
            &zip,
            "--settings",
            not_json.to_str().unwrap(),
            "--platform",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not JSON"),
        "{}",
        stderr(&output)
    );

    let unknown = dir.path().join("u.json");
    std::fs::write(
        &unknown,
        json!({"ConnectionReferences": [{"LogicalName": "new_other", "ConnectionId": ""}]})
            .to_string(),
    )
    .unwrap();
    let output = padconnect()
        .args([
            "deploy",
            "--solution",
            &zip,
            "--settings",
            unknown.to_str().unwrap(),
            "--platform",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the connection reference 'new_other'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_example_solution_deploys_on_quickstarts_platform() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let quickstart = padconnect()
        .args(["quickstart", "--json", "--data-dir", data_dir])
        .output()
        .unwrap();
    assert!(quickstart.status.success(), "{}", stderr(&quickstart));
    let id = json_of(&quickstart)["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/DesktopFlows_1_0_0_0.zip");
    let example = example.to_str().unwrap();
    let file = dir.path().join("settings.json");
    let written = padconnect()
        .args([
            "settings",
            "--solution",
            example,
            "--uiflow-connection",
            &id,
            "--file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(written.status.success(), "{}", stderr(&written));
    let deployed = padconnect()
        .args([
            "deploy",
            "--solution",
            example,
            "--settings",
            file.to_str().unwrap(),
            "--check",
            "--data-dir",
            data_dir,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(deployed.status.success(), "{}", stderr(&deployed));
    let report = json_of(&deployed);
    assert_eq!(
        report["connection_references"][0]["connection_id"],
        id.as_str()
    );
    assert!(
        report["flows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["on"] == true),
        "{report}"
    );
    // The README tour's verify step: the desktop flow runs through the connection.
    let verified = padconnect()
        .args([
            "verify",
            "--connection",
            &id,
            "--flow",
            "Payroll export",
            "--data-dir",
            data_dir,
        ])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(stdout(&verified).contains("'Payroll export' through connection"));
    assert!(
        stdout(&verified).contains(": Succeeded"),
        "{}",
        stdout(&verified)
    );
}

#[test]
fn verify_runs_the_deployed_desktop_flow_and_names_the_fix_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let mine = connection(&server, false, PROD, BOTS);
    let offline = connection(&server, false, PROD, OFFLINE);
    let zip = solution(dir.path(), Version::new(1, 0, 0, 0));
    let file = settings(dir.path(), "settings.json", &mine, "3");

    // deploy --verify: the import, then a run through the bound reference.
    let deployed = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--settings",
            &file,
            "--environment",
            PROD,
            "--verify",
            "Payroll export",
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert!(deployed.status.success(), "{}", stderr(&deployed));
    let report = json_of(&deployed);
    assert_eq!(report["verify"]["status"], "Succeeded", "{report}");
    assert_eq!(report["verify"]["connection"], REFERENCE);
    assert!(
        stderr(&deployed).contains(": Succeeded"),
        "the progress line: {}",
        stderr(&deployed)
    );

    let verify = |connection: &str, flow: &str, format: &str| {
        as_app(
            &server,
            false,
            &[
                "verify",
                "--connection",
                connection,
                "--flow",
                flow,
                "--environment",
                PROD,
                "--timeout",
                "60",
                "--output",
                format,
            ],
        )
        .output()
        .unwrap()
    };
    let ok = verify(&mine, "00000000-0000-0000-0000-000000000007", "json");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(json_of(&ok)["succeeded"], true);

    // No machine of the group is online: exit 8, the code, its meaning and fix.
    let failed = verify(&offline, "Payroll export", "table");
    assert_eq!(failed.status.code(), Some(8), "{}", stderr(&failed));
    let printed = stdout(&failed);
    for words in [
        ": Failed",
        "code     NoListenerConnected",
        "fix      Start the machine",
        "see      https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/",
    ] {
        assert!(printed.contains(words), "{words}: {printed}");
    }
    assert!(
        stderr(&failed).contains("did not succeed: NoListenerConnected"),
        "{}",
        stderr(&failed)
    );

    let missing = verify(&mine, "No such flow", "table");
    assert_eq!(missing.status.code(), Some(3), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("no desktop flow 'No such flow'"));

    // --verify needs the solution's desktop flow reference to be named when
    // it is not the only one: a usage error, before anything is imported.
    let wrong = as_app(
        &server,
        false,
        &[
            "deploy",
            "--solution",
            &zip,
            "--environment",
            PROD,
            "--verify",
            "Payroll export",
            "--verify-reference",
            "new_nothing",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("has no such connection reference"));
}
