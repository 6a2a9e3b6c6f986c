//! `padconnect group list|show` and `padconnect share`, as service principals.

use padconnect_testkit::{App, Environment, Group, Machine, StandaloneMachine, Tenant, World};
use std::process::Command;

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const OWNER_APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const PIPELINE_APP: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";

/// The machine admin's app owns a group; the pipeline's app has an
/// application user and no access yet.
fn world(dir: &std::path::Path) -> String {
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(App::new("machine-admin", OWNER_APP).secret("owner-secret"))
                .app(App::new("deploy-pipeline", PIPELINE_APP).secret("pipeline-secret"))
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(OWNER_APP)
                        .application_user(PIPELINE_APP)
                        .group(
                            Group::new(GROUP, "Finance bots", OWNER_APP)
                                .machine(Machine::new("FIN-VM-01")),
                        )
                        .machine(StandaloneMachine::new("HR-LAPTOP-07", OWNER_APP)),
                ),
        )
        .write_to(dir)
        .display()
        .to_string()
}

fn as_app(server: &Server, app: &str, secret: &str, args: &[&str]) -> Command {
    let mut command = padconnect();
    command
        .args(args)
        .args(["--platform", &server.url])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", app)
        .env("AZURE_CLIENT_SECRET", secret)
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws!")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH");
    command
}

#[test]
fn the_owner_shares_a_group_and_the_pipeline_then_connects() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);

    let listed = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &["group", "list", "--org", "contoso"],
    )
    .output()
    .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains(&format!("{GROUP}  Finance bots  (machine group)")),
        "{}",
        stdout(&listed)
    );
    assert!(
        stdout(&listed).contains("HR-LAPTOP-07  (standalone machine (hidden group))"),
        "{}",
        stdout(&listed)
    );

    let show = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &[
            "group",
            "show",
            "HR-LAPTOP-07",
            "--org",
            "contoso",
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    let hidden: serde_json::Value = serde_json::from_str(&stdout(&show)).unwrap();
    assert_eq!(hidden["flowgrouptype"], 545_940_002);

    let nothing = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &["group", "list", "--org", "contoso"],
    )
    .output()
    .unwrap();
    assert!(
        stdout(&nothing).trim().is_empty(),
        "the pipeline sees no group yet: {}",
        stdout(&nothing)
    );
    let denied = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &["group", "show", GROUP, "--org", "contoso"],
    )
    .output()
    .unwrap();
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("0x80048306"),
        "{}",
        stderr(&denied)
    );

    let connect = |expect_ok: bool| {
        let output = as_app(
            &server,
            PIPELINE_APP,
            "pipeline-secret",
            &[
                "connect",
                "--environment",
                ENVIRONMENT,
                "--group",
                GROUP,
                "--username",
                "CONTOSO\\bot",
            ],
        )
        .output()
        .unwrap();
        assert_eq!(output.status.success(), expect_ok, "{}", stderr(&output));
        stderr(&output)
    };
    assert!(connect(false).contains("ConnectionAuthorizationFailed"));

    let self_share = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &[
            "share",
            "--group",
            GROUP,
            "--app",
            PIPELINE_APP,
            "--org",
            "contoso",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        self_share.status.code(),
        Some(1),
        "a principal without ShareAccess cannot share"
    );
    assert!(
        stderr(&self_share).contains("ShareAccess"),
        "{}",
        stderr(&self_share)
    );

    let shared = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &[
            "share",
            "--group",
            GROUP,
            "--app",
            PIPELINE_APP,
            "--role",
            "user",
            "--org",
            "contoso",
        ],
    )
    .output()
    .unwrap();
    assert!(shared.status.success(), "{}", stderr(&shared));
    assert!(
        stdout(&shared).contains("shared with deploy-pipeline as user"),
        "{}",
        stdout(&shared)
    );
    connect(true);

    let unknown = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &[
            "share",
            "--group",
            GROUP,
            "--app",
            "11111111-2222-3333-4444-555555555555",
            "--org",
            "contoso",
        ],
    )
    .output()
    .unwrap();
    assert!(
        stderr(&unknown).contains("has no user in this environment"),
        "{}",
        stderr(&unknown)
    );
    let bad_role = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &[
            "share",
            "--group",
            GROUP,
            "--app",
            PIPELINE_APP,
            "--role",
            "owner",
        ],
    )
    .output()
    .unwrap();
    assert!(
        stderr(&bad_role).contains("'user' or 'co-owner'"),
        "{}",
        stderr(&bad_role)
    );
}

#[test]
fn a_registered_machine_can_be_connected_to_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let output = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &[
            "machine", "register", "--name", "BOT-11", "--org", "contoso", "--output", "json",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let machine: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(machine["name"], "BOT-11");
    let group = machine["_flowmachinegroupid_value"].as_str().unwrap();
    let connected = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &[
            "connect",
            "--environment",
            ENVIRONMENT,
            "--machine",
            "BOT-11",
            "--org",
            "contoso",
            "--username",
            "CONTOSO\\bot",
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert!(connected.status.success(), "{}", stderr(&connected));
    assert!(stdout(&connected).contains(group), "{}", stdout(&connected));

    // A rerun finds the machine registered (any case): nothing to do. Only
    // --force registers it anew.
    let register = [
        "machine", "register", "--name", "bot-11", "--org", "contoso", "--output", "json",
    ];
    let rerun = as_app(&server, PIPELINE_APP, "pipeline-secret", &register)
        .output()
        .unwrap();
    assert!(
        stderr(&rerun).contains("Machine 'bot-11' is already registered"),
        "{}",
        stderr(&rerun)
    );
    assert_eq!(
        machine_json(&rerun)["flowmachineid"],
        machine["flowmachineid"]
    );
    let forced = as_app(&server, PIPELINE_APP, "pipeline-secret", &register)
        .arg("--force")
        .output()
        .unwrap();
    let replaced = machine_json(&forced);
    assert_ne!(replaced["flowmachineid"], machine["flowmachineid"]);
    assert_ne!(replaced["_flowmachinegroupid_value"], group);

    // The connection to the replaced machine's old group still exists but is
    // not Connected: exit code 6, after printing it.
    let id =
        serde_json::from_str::<serde_json::Value>(&stdout(&connected)).unwrap()["connectionId"]
            .as_str()
            .unwrap()
            .to_owned();
    let broken = as_app(
        &server,
        PIPELINE_APP,
        "pipeline-secret",
        &[
            "connection",
            "get",
            &id,
            "--environment",
            ENVIRONMENT,
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(broken.status.code(), Some(6), "{}", stderr(&broken));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&broken)).unwrap();
    assert_eq!(shown["properties"]["statuses"][0]["status"], "Error");
    assert!(stderr(&broken).contains("is Error"), "{}", stderr(&broken));
}

fn machine_json(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(&stdout(output)).unwrap()
}

#[test]
fn machines_join_a_group_with_its_password_and_leave_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let pipeline = |args: &[&str]| {
        let mut command = as_app(&server, PIPELINE_APP, "pipeline-secret", args);
        command.args(["--org", "contoso", "--output", "json"]);
        command
    };
    for name in ["BOT-21", "BOT-22"] {
        machine_json(
            &pipeline(&["machine", "register", "--name", name])
                .output()
                .unwrap(),
        );
    }
    let shared = as_app(
        &server,
        OWNER_APP,
        "owner-secret",
        &[
            "share",
            "--group",
            GROUP,
            "--app",
            PIPELINE_APP,
            "--role",
            "co-owner",
            "--org",
            "contoso",
        ],
    )
    .output()
    .unwrap();
    assert!(shared.status.success(), "{}", stderr(&shared));

    let join = [
        "machine",
        "join-group",
        "--machine",
        "BOT-21",
        "--group",
        "Finance bots",
    ];
    let no_password = pipeline(&join).output().unwrap();
    assert_eq!(no_password.status.code(), Some(2));
    assert!(
        stderr(&no_password).contains("no group password: set PADCONNECT_GROUP_PASSWORD"),
        "{}",
        stderr(&no_password)
    );
    let joined = machine_json(
        &pipeline(&join)
            .env("PADCONNECT_GROUP_PASSWORD", "finance-pool-1")
            .output()
            .unwrap(),
    );
    assert_eq!(joined["_flowmachinegroupid_value"], GROUP);

    // A later machine must give the password the first one set.
    let mut wrong = pipeline(&[
        "machine",
        "join-group",
        "--machine",
        "BOT-22",
        "--group",
        GROUP,
        "--group-password-stdin",
    ]);
    let mut child = wrong
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"guessed-password\n")
        .unwrap();
    let wrong = child.wait_with_output().unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("0x80040203"), "{}", stderr(&wrong));
    assert!(!stderr(&wrong).contains("guessed-password"));

    let left = machine_json(
        &pipeline(&["machine", "leave-group", "--machine", "BOT-21"])
            .output()
            .unwrap(),
    );
    assert_ne!(left["_flowmachinegroupid_value"], GROUP);
    let again = pipeline(&["machine", "leave-group", "--machine", "BOT-21"])
        .output()
        .unwrap();
    assert_eq!(
        machine_json(&again)["_flowmachinegroupid_value"],
        left["_flowmachinegroupid_value"]
    );
    assert!(
        stderr(&again).contains("already in no machine group"),
        "{}",
        stderr(&again)
    );
    let unknown = pipeline(&["machine", "leave-group", "--machine", "NO-SUCH-VM"])
        .output()
        .unwrap();
    assert!(
        stderr(&unknown).contains("no machine named 'NO-SUCH-VM'"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn registration_against_the_cloud_names_the_machines_own_tool() {
    for (args, says) in [
        (
            vec!["machine", "register", "--name", "BOT-1", "--org", "contoso"],
            "PAD.MachineRegistration.Silent.exe -register -applicationid",
        ),
        (
            vec![
                "machine",
                "join-group",
                "--machine",
                "BOT-1",
                "--group",
                "Finance bots",
                "--org",
                "contoso",
            ],
            "PAD.MachineRegistration.Silent.exe -joinmachinegroup -groupid",
        ),
    ] {
        // No --platform and no --data-dir: the Microsoft cloud, refused
        // before any sign-in or secret is read.
        let output = crate::support::padconnect()
            .args(&args)
            .env_remove("PADCONNECT_PLATFORM")
            .env("PADCONNECT_GROUP_PASSWORD", "group-secret")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("local platform"),
            "{}",
            stderr(&output)
        );
    }
}
