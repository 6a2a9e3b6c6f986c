//! `padconnect connect` against `padconnect serve` with the example world,
//! the way a pipeline runs it: AZURE_* variables, the password from the
//! environment.

use std::process::Command;

use padconnect_testkit::{Account, Credential, Group, Machine, Share, example};
use serde_json::Value;

use crate::support::{Server, example_world, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";

fn connect(server: &Server, extra: &[&str]) -> Command {
    let mut command = padconnect();
    command
        .args(["connect", "--platform", &server.url])
        .args(extra);
    if !extra.contains(&"--environment") {
        command.args(["--environment", ENVIRONMENT]);
    }
    if !extra.contains(&"--username") {
        command.args(["--username", "CONTOSO\\svc-bot"]);
    }
    command
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env("AZURE_CLIENT_SECRET", "example-secret-value")
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST");
    command
}

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(&stdout(output)).unwrap()
}

#[test]
fn connect_is_idempotent_and_force_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    let first = json(
        &connect(&server, &["--group", GROUP, "--output", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(first["change"], "created");
    assert_eq!(first["status"], "Connected");
    assert!(!first.to_string().contains("Wind0ws-P@ss"));
    let second = json(
        &connect(&server, &["--group", GROUP, "--output", "json"])
            .output()
            .unwrap(),
    );
    // The password given is applied again: no one can read it back to
    // compare, so no rerun claims it is unchanged.
    assert_eq!(second["change"], "password-applied");
    assert_eq!(second["connectionId"], first["connectionId"]);
    let forced = json(
        &connect(&server, &["--group", GROUP, "--output", "json", "--force"])
            .output()
            .unwrap(),
    );
    assert_eq!(forced["change"], "updated");

    let chosen = json(
        &connect(
            &server,
            &[
                "--group",
                GROUP,
                "--output",
                "json",
                "--connection-id",
                "D4E4A6FF-9A67-492A-A1F6-DE854528668C",
            ],
        )
        .output()
        .unwrap(),
    );
    assert_eq!(chosen["connectionId"], "d4e4a6ff9a67492aa1f6de854528668c");

    let table = connect(&server, &["--group", GROUP]).output().unwrap();
    assert!(
        stdout(&table).contains("already has these settings; the password given was applied"),
        "{}",
        stdout(&table)
    );
    assert!(stdout(&table).contains("Deployment settings:"));

    let plan = connect(&server, &["--group", GROUP, "--dry-run"])
        .output()
        .unwrap();
    assert!(
        stdout(&plan).contains("What if (nothing was written)")
            && stdout(&plan).contains("the password given would be applied again"),
        "{}",
        stdout(&plan)
    );
    assert!(stdout(&plan).contains(&format!(
        "PUT {}/environments/{ENVIRONMENT}/connectivity/connectors/shared_uiflow/connections/",
        server.url
    )));
}

#[test]
fn dry_run_says_what_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    let what_if = |extra: &[&str]| {
        let mut args = vec!["--group", GROUP, "--dry-run", "--output", "json"];
        args.extend_from_slice(extra);
        let output = connect(&server, &args).output().unwrap();
        assert!(!stdout(&output).contains("Wind0ws-P@ss"));
        json(&output)
    };
    let new = what_if(&[]);
    assert_eq!(new["action"], "create");
    let values = &new["request"]["body"]["properties"]["connectionParametersSet"]["values"];
    assert_eq!(values["password"]["value"], "***");
    assert_eq!(values["username"]["value"], "CONTOSO\\svc-bot");
    assert_eq!(new["request"]["method"], "PUT");
    let id = new["connectionId"].as_str().unwrap().to_owned();
    // Nothing was written: the connection is not there.
    let mut get = padconnect();
    get.args([
        "connection",
        "get",
        &id,
        "--environment",
        ENVIRONMENT,
        "--platform",
        &server.url,
    ])
    .env("AZURE_TENANT_ID", TENANT)
    .env("AZURE_CLIENT_ID", APP)
    .env("AZURE_CLIENT_SECRET", "example-secret-value");
    assert_eq!(get.output().unwrap().status.code(), Some(3));

    json(
        &connect(&server, &["--group", GROUP, "--output", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(what_if(&[])["action"], "apply-password");
    assert_eq!(what_if(&["--force"])["action"], "update");
    let renamed = what_if(&["--connection-id", &id, "--display-name", "Payroll bots"]);
    assert_eq!(renamed["action"], "update");
    assert_eq!(
        renamed["request"]["body"]["properties"]["displayName"],
        "Payroll bots"
    );
    // Values in any case come out as the service spells them.
    let shouted = what_if(&["--parameter-set", "AZURERELAY"]);
    assert_eq!(
        shouted["request"]["body"]["properties"]["connectionParametersSet"]["name"],
        "azureRelay"
    );

    // A dashed id (New-Guid's, as the seed suggests) is sent as given; what
    // the settings name is the `name` the service answers.
    let dashed = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    let sent = what_if(&["--connection-id", dashed]);
    assert!(
        sent["request"]["url"]
            .as_str()
            .unwrap()
            .contains(&format!("/connections/{dashed}?")),
        "{sent}"
    );
    let made = json(
        &connect(
            &server,
            &[
                "--group",
                GROUP,
                "--connection-id",
                dashed,
                "--output",
                "json",
            ],
        )
        .output()
        .unwrap(),
    );
    let name = made["connection"]["name"].as_str().unwrap();
    assert_eq!(made["connectionId"], name);
    assert_eq!(
        made["deploymentSettings"]["ConnectionReferences"][0]["ConnectionId"],
        name
    );

    // The workflow's inputs from PADCONNECT_* variables name the same connection.
    let mut from_env = padconnect();
    from_env
        .args([
            "connect",
            "--platform",
            &server.url,
            "--dry-run",
            "--output",
            "json",
        ])
        .env("PADCONNECT_ENVIRONMENT", ENVIRONMENT)
        .env("PADCONNECT_GROUP", GROUP)
        .env("PADCONNECT_USERNAME", "CONTOSO\\svc-bot")
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env("AZURE_CLIENT_SECRET", "example-secret-value");
    let from_env = json(&from_env.output().unwrap());
    assert_eq!(from_env["connectionId"], id.as_str());
    assert_eq!(from_env["action"], "apply-password");
}

#[test]
fn wrong_inputs_fail_with_the_cause_and_the_service_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    // Each with its exit code (README, "Exit codes"): 1 refused by the service, 2
    // usage, 3 not found, 4 authentication.
    let cases: Vec<(Command, &str, i32)> = vec![
        (
            connect(&server, &["--group", "not-a-guid"]),
            "'not-a-guid' is not one. To name the group, pass --group-name 'not-a-guid'",
            2,
        ),
        (
            connect(
                &server,
                &["--group", "11111111-2222-3333-4444-555555555555"],
            ),
            "InvalidTargetId",
            1,
        ),
        (
            {
                let mut c = connect(&server, &["--group", GROUP]);
                c.env("AZURE_CLIENT_SECRET", "wrong");
                c
            },
            "AADSTS7000215",
            4,
        ),
        (
            {
                let mut c = connect(&server, &["--group", GROUP]);
                c.env_remove("PADCONNECT_MACHINE_PASSWORD");
                c
            },
            "no Windows password: set PADCONNECT_MACHINE_PASSWORD",
            2,
        ),
        (
            connect(&server, &["--group", GROUP, "--environment", "prod"]),
            "'prod' is not an environment id",
            2,
        ),
        (
            connect(
                &server,
                &[
                    "--group",
                    GROUP,
                    "--environment",
                    "11111111-1111-1111-1111-111111111111",
                ],
            ),
            "EnvironmentNotFound",
            3,
        ),
        (
            connect(&server, &["--group", GROUP, "--username", "svc|bot"]),
            "InvalidParameterValue",
            1,
        ),
        (
            connect(&server, &["--group", GROUP, "--connection-id", "abc"]),
            "'abc' is not a connection id",
            2,
        ),
    ];
    for (mut command, expected, code) in cases {
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{expected}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "expected '{expected}' in: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("Wind0ws-P@ss"));
    }
}

#[test]
fn no_access_to_the_group_is_a_403_that_says_to_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    // The standalone machine's hidden group is not shared with the app.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hidden = rt.block_on(async {
        let store = padconnect_store::Store::open(
            &padconnect_store::Database::in_data_dir(dir.path()),
            padconnect_store::SyncMode::Normal,
        )
        .await
        .unwrap();
        let groups = store
            .machine_groups(&ENVIRONMENT.parse().unwrap())
            .await
            .unwrap();
        groups
            .into_iter()
            .find(|g| g.name == "HR-LAPTOP-07")
            .unwrap()
            .id
            .to_string()
    });
    let output = connect(&server, &["--group", &hidden]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("ConnectionAuthorizationFailed") && err.contains("Share"),
        "{err}"
    );
    // The group is named by the id the caller sent, not by its name, which
    // a caller without access may not read.
    assert!(
        err.contains(&hidden) && !err.contains("HR-LAPTOP-07"),
        "{err}"
    );
}

#[test]
fn a_group_or_standalone_machine_can_be_named_instead_of_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    let by_name = json(
        &connect(
            &server,
            &[
                "--group-name",
                "Finance bots",
                "--org",
                "contoso",
                "--output",
                "json",
            ],
        )
        .output()
        .unwrap(),
    );
    assert_eq!(
        by_name["connection"]["properties"]["connectionParametersSet"]["values"]["targetId"]["value"],
        GROUP
    );
    let unknown = connect(&server, &["--machine", "HR-LAPTOP-07", "--org", "contoso"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(3));
    assert!(
        stderr(&unknown).contains("no machine group or machine named 'HR-LAPTOP-07'"),
        "{}",
        stderr(&unknown)
    );
    // A typo is answered with the names the caller can see.
    assert!(
        stderr(&unknown).contains("it sees: 'Finance bots'"),
        "{}",
        stderr(&unknown)
    );
    // A name given to --group is refused before signing in, with the flag it meant.
    let named = connect(&server, &["--group", "Finance bots"])
        .output()
        .unwrap();
    assert_eq!(named.status.code(), Some(2), "{}", stderr(&named));
    assert!(
        stderr(&named).contains("pass --group-name 'Finance bots'"),
        "{}",
        stderr(&named)
    );
    assert!(!stderr(&named).contains("signing in"), "{}", stderr(&named));
    // An unquoted DOMAIN\user loses its backslash in the shell: a warning says so.
    let glued = connect(&server, &["--username", "CONTOSOsvc-bot", "--group", GROUP])
        .output()
        .unwrap();
    assert!(
        stderr(&glued).contains("if you meant 'CONTOSO\\svc-bot', the shell removed it"),
        "{}",
        stderr(&glued)
    );
    // A client id that cannot be one is said before "signing in".
    let bad_app = connect(&server, &["--group", GROUP])
        .env("AZURE_CLIENT_ID", "deploy-pipeline")
        .output()
        .unwrap();
    assert_ne!(bad_app.status.code(), Some(0));
    assert!(
        stderr(&bad_app).contains("'deploy-pipeline' is not a client id"),
        "{}",
        stderr(&bad_app)
    );
    assert!(
        !stderr(&bad_app).contains("signing in"),
        "{}",
        stderr(&bad_app)
    );
    // Without --org, the environment's org is found through BAP.
    let no_org = connect(&server, &["--group-name", "Finance bots"])
        .output()
        .unwrap();
    assert!(no_org.status.success(), "{}", stderr(&no_org));
    assert!(
        stderr(&no_org).contains(&format!(
            "environment {ENVIRONMENT} has its Dataverse at contoso"
        )),
        "{}",
        stderr(&no_org)
    );
}

/// A new environment (`ready_after_seconds`) answers 404
/// ServiceToServiceEnvironmentNotFound for a while: `connect` waits it out
/// within `--wait-for-environment`, saying so on stderr, and with no wait
/// it fails with the service's code.
#[test]
fn connect_waits_for_a_new_environment() {
    let dir = tempfile::tempdir().unwrap();
    let world_path =
        example::world_with(|environment| environment.ready_after_seconds(3)).write_to(dir.path());
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        world_path.to_str().unwrap(),
    ]);
    let impatient = connect(&server, &["--group", GROUP, "--wait-for-environment", "0"])
        .output()
        .unwrap();
    assert!(!impatient.status.success());
    assert!(
        stderr(&impatient).contains("ServiceToServiceEnvironmentNotFound"),
        "{}",
        stderr(&impatient)
    );

    let patient = connect(
        &server,
        &[
            "--group",
            GROUP,
            "--wait-for-environment",
            "30s",
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    let answer = json(&patient);
    assert_eq!(answer["status"], "Connected");
    assert!(
        stderr(&patient).contains("retry: the environment is not ready yet"),
        "{}",
        stderr(&patient)
    );
}

/// A rerun with a new Windows password applies it: the connection the
/// platform keeps holds the new password afterwards, not the old one.
#[tokio::test]
async fn a_rerun_applies_a_new_password() {
    use padconnect_domain::keyring::KeyRing;
    use padconnect_store::{Database, Store, SyncMode};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    let run = |password: &'static str| {
        let mut command = connect(&server, &["--group", GROUP, "--output", "json"]);
        command.env("PADCONNECT_MACHINE_PASSWORD", password);
        json(&command.output().unwrap())
    };
    let first = run("Old-P@ss-1");
    let second = run("New-P@ss-2");
    assert_eq!(
        (first["change"].as_str(), second["change"].as_str()),
        (Some("created"), Some("password-applied"))
    );

    let id: padconnect_core::ConnectionId =
        second["connectionId"].as_str().unwrap().parse().unwrap();
    let environment: padconnect_core::EnvironmentId = ENVIRONMENT.parse().unwrap();
    let store = Store::open(&Database::in_data_dir(&data), SyncMode::Normal)
        .await
        .unwrap();
    let kept = store.connection(&environment, &id).await.unwrap().unwrap();
    store.close().await;
    let keyring = KeyRing::load(&data).unwrap();
    let secrets = keyring
        .open(
            format!("connection:{environment}:{id}").as_bytes(),
            &kept.sealed_secrets,
        )
        .unwrap();
    let secrets = String::from_utf8(secrets).unwrap();
    assert!(
        secrets.contains("New-P@ss-2") && !secrets.contains("Old-P@ss-1"),
        "the new password is kept"
    );
}

#[test]
fn connection_update_changes_the_password_or_account_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &example_world(),
    ]);
    let created = json(
        &connect(
            &server,
            &[
                "--group",
                GROUP,
                "--display-name",
                "Payroll",
                "--output",
                "json",
            ],
        )
        .output()
        .unwrap(),
    );
    let id = created["connectionId"].as_str().unwrap().to_owned();
    let update = |extra: &[&str], password: Option<&str>| {
        let mut command = padconnect();
        command
            .args(["connection", "update", &id, "--platform", &server.url])
            .args(["--environment", ENVIRONMENT, "--output", "json"])
            .args(extra)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", APP)
            .env("AZURE_CLIENT_SECRET", "example-secret-value")
            .env_remove("PADCONNECT_MACHINE_PASSWORD");
        if let Some(password) = password {
            command.env("PADCONNECT_MACHINE_PASSWORD", password);
        }
        command.output().unwrap()
    };
    let values = |output: &std::process::Output| {
        let connection = json(output);
        assert!(!connection.to_string().contains("N3w-P@ss"));
        connection["properties"].clone()
    };
    let rotated = values(&update(&[], Some("N3w-P@ss")));
    assert_eq!(rotated["displayName"], "Payroll");
    let set = &rotated["connectionParametersSet"]["values"];
    assert_eq!(set["username"]["value"], "CONTOSO\\svc-bot");
    assert_eq!(set["targetId"]["value"], GROUP);
    let renamed = values(&update(
        &["--username", "CONTOSO\\svc-bot2"],
        Some("N3w-P@ss"),
    ));
    assert_eq!(
        renamed["connectionParametersSet"]["values"]["username"]["value"],
        "CONTOSO\\svc-bot2"
    );

    let no_password = update(&[], None);
    assert_eq!(no_password.status.code(), Some(2));
    assert!(
        stderr(&no_password).contains("an update sends the password"),
        "{}",
        stderr(&no_password)
    );
    let unknown = {
        let mut command = padconnect();
        command
            .args([
                "connection",
                "update",
                "00000000-0000-0000-0000-0000000000aa",
            ])
            .args(["--platform", &server.url, "--environment", ENVIRONMENT])
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", APP)
            .env("AZURE_CLIENT_SECRET", "example-secret-value")
            .env("PADCONNECT_MACHINE_PASSWORD", "x");
        command.output().unwrap()
    };
    assert_eq!(unknown.status.code(), Some(3), "{}", stderr(&unknown));
}

/// An org outside North America is named by its URL. Under the cloud's own
/// host names (transparent mode, docs/transparent-mode.md: `padconnect env`'s proxy and
/// CA, no `--platform`), the client asks for a token for
/// `https://contoso.crm4.dynamics.com/.default` and calls that host; for a
/// host that is no Dataverse region's, Entra gives no token (AADSTS500011).
#[test]
fn a_regional_org_is_reached_by_its_url_under_the_clouds_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let _server = Server::start(&["--data-dir", data, "--world", &example_world()]);
    let exports = transparent_exports(data);
    let transparent = |org: &str| {
        let mut command = padconnect();
        command
            .args([
                "connect",
                "--environment",
                ENVIRONMENT,
                "--group-name",
                "Finance bots",
            ])
            .args([
                "--org",
                org,
                "--username",
                "CONTOSO\\svc-bot",
                "--output",
                "json",
            ])
            .envs(exports.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", APP)
            .env("AZURE_CLIENT_SECRET", "example-secret-value")
            .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
            .env_remove("AZURE_AUTHORITY_HOST");
        command.output().unwrap()
    };
    let emea = json(&transparent("https://contoso.crm4.dynamics.com"));
    assert_eq!(
        emea["connection"]["properties"]["connectionParametersSet"]["values"]["targetId"]["value"],
        GROUP
    );
    let nowhere = transparent("https://contoso.crm4.example.com");
    assert_eq!(nowhere.status.code(), Some(4), "{}", stderr(&nowhere));
    assert!(
        stderr(&nowhere).contains(
            "AADSTS500011: The resource principal named https://contoso.crm4.example.com"
        ),
        "{}",
        stderr(&nowhere)
    );

    // A malformed org is a usage error that shows both accepted forms.
    let bad = padconnect()
        .args([
            "group",
            "list",
            "--org",
            "https://contoso.crm4.dynamics.com/api/data/v9.2",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("with no path"), "{}", stderr(&bad));
}

/// What `padconnect env` exports for transparent mode, as pairs.
fn transparent_exports(data: &str) -> Vec<(String, String)> {
    let printed = padconnect()
        .args(["env", "--data-dir", data])
        .output()
        .unwrap();
    let exports: Vec<(String, String)> = stdout(&printed)
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.trim_matches('\'').to_owned()))
        .collect();
    assert!(
        exports.iter().any(|(name, _)| name == "HTTPS_PROXY"),
        "{exports:?}"
    );
    exports
}

#[test]
fn without_org_the_environment_finds_its_dataverse_through_bap() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let _server = Server::start(&["--data-dir", data, "--world", &example_world()]);
    let exports = transparent_exports(data);
    let cloud = |args: &[&str]| {
        padconnect()
            .args(args)
            .envs(exports.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", APP)
            .env("AZURE_CLIENT_SECRET", "example-secret-value")
            .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
            .env_remove("AZURE_AUTHORITY_HOST")
            .output()
            .unwrap()
    };
    // The app is no management app, so BAP's admin view refuses it and its
    // user view (the app is a member of the environment) answers.
    let connected = cloud(&[
        "connect",
        "--environment",
        ENVIRONMENT,
        "--group-name",
        "Finance bots",
        "--username",
        "CONTOSO\\svc-bot",
        "--output",
        "json",
    ]);
    assert!(connected.status.success(), "{}", stderr(&connected));
    assert!(
        stderr(&connected).contains(&format!(
            "environment {ENVIRONMENT} has its Dataverse at https://contoso.crm.dynamics.com"
        )),
        "{}",
        stderr(&connected)
    );
    assert_eq!(
        json(&connected)["connection"]["properties"]["connectionParametersSet"]["values"]["targetId"]
            ["value"],
        GROUP
    );
    let listed = cloud(&[
        "group",
        "list",
        "--environment",
        ENVIRONMENT,
        "--output",
        "json",
    ]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains("Finance bots"),
        "{}",
        stdout(&listed)
    );

    // An environment BAP does not know is the service's 404, exit 3.
    let unknown = cloud(&[
        "group",
        "list",
        "--environment",
        "00000000-0000-0000-0000-000000000001",
    ]);
    assert_eq!(unknown.status.code(), Some(3), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("EnvironmentNotFound"),
        "{}",
        stderr(&unknown)
    );
    // Neither an org nor an environment: the usage names both.
    let neither = cloud(&["group", "list"]);
    assert!(
        stderr(&neither).contains("--environment ID to look it up"),
        "{}",
        stderr(&neither)
    );
}

#[test]
fn bad_windows_credentials_are_refused_with_the_services_own_cause() {
    const PAYROLL: &str = "e8b5a7f6-4d3c-4b2e-9a0f-1c2d3e4f5a6b";
    let dir = tempfile::tempdir().unwrap();
    let world = example::world_with(|environment| {
        environment.group(
            Group::new(PAYROLL, "Payroll bots", example::ADMIN)
                .machine(
                    Machine::new("PAY-01")
                        .account(Account::new("FABRIKAM\\payroll-svc", "Payr0ll-Pass!")),
                )
                .shared_with(Share::app(APP, "user")),
        )
    })
    .write_to(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--world",
        world.to_str().unwrap(),
    ]);
    let attempt = |password: &str| {
        connect(
            &server,
            &["--group", PAYROLL, "--username", "FABRIKAM\\payroll-svc"],
        )
        .env("PADCONNECT_MACHINE_PASSWORD", password)
        .output()
        .unwrap()
    };
    let refused = attempt("Wrong-Pass!");
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(said.contains("ApiHubsRequestFailed"), "{said}");
    assert!(
        said.contains("There's an issue with your credentials"),
        "the nested cause reaches the user: {said}"
    );
    assert!(!said.contains("Wrong-Pass!"), "{said}");
    let accepted = attempt("Payr0ll-Pass!");
    assert!(accepted.status.success(), "{}", stderr(&accepted));
}

#[test]
fn a_key_vault_credential_is_sent_as_credential_id_and_must_be_shared() {
    const SHARED: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000001";
    const PRIVATE: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000002";
    const ROTATED: &str = "1b2c3d4e-0000-4a5b-8c6d-000000000003";
    let dir = tempfile::tempdir().unwrap();
    let world = example::world_with(|environment| {
        environment
            .credential(
                Credential::new(SHARED, "Payroll vault", example::ADMIN)
                    .shared_with(Share::app(APP, "user")),
            )
            .credential(Credential::new(PRIVATE, "Treasury vault", example::ADMIN))
            .credential(
                Credential::new(ROTATED, "Payroll vault 2", APP)
                    .kind("CertificateBasedAuthentication"),
            )
    })
    .write_to(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--world",
        world.to_str().unwrap(),
    ]);
    let with = |credential: &str, extra: &[&str]| {
        let mut args = vec![
            "--group",
            GROUP,
            "--username",
            "@environmentVariables(\"new_PayrollLogin\")",
            "--credential-id",
            credential,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        connect(&server, &args)
            .env("PADCONNECT_MACHINE_PASSWORD", "none")
            .output()
            .unwrap()
    };

    let refused = with(PRIVATE, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(
        said.contains("ConnectionAuthorizationFailed")
            && said.contains("no access to credential")
            && !said.contains("Treasury vault"),
        "{said}"
    );

    let plan = json(&with(SHARED, &["--dry-run"]));
    assert_eq!(plan["action"], "create");
    assert_eq!(
        plan["request"]["body"]["properties"]["credentialId"],
        SHARED
    );

    let created = json(&with(SHARED, &[]));
    assert_eq!(created["change"], "created", "{created}");
    assert_eq!(created["status"], "Connected");
    let again = json(&with(SHARED, &[]));
    assert_eq!(again["change"], "password-applied", "{again}");
    let moved = json(&with(ROTATED, &[]));
    assert_eq!(moved["change"], "updated", "another credential is a change");
    assert_eq!(moved["connectionId"], created["connectionId"]);

    let id = created["connectionId"].as_str().unwrap();
    let read = padconnect()
        .args(["connection", "get", id, "--platform", &server.url])
        .args(["--environment", ENVIRONMENT, "--output", "json"])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env("AZURE_CLIENT_SECRET", "example-secret-value")
        .output()
        .unwrap();
    assert_eq!(json(&read)["properties"]["credentialId"], ROTATED);
}
