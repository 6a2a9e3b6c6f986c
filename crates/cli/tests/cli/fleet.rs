//! `padconnect rotate` and `padconnect report` against `padconnect serve`
//! with three environments whose machines share one Windows account: a
//! rotation refused midway (the account's password not yet changed on one
//! machine), exactly what holds which password, a dry run that writes
//! nothing, the rerun that finishes, and the report with its broken
//! connections, markdown and drift.

use std::path::Path;
use std::process::{Command, Output};

use padconnect_testkit::{
    Account, App, Client, Environment, Group, Machine, Reply, Share, Tenant, World,
};
use serde_json::{Value, json};

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const PROD: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const TEST: &str = "00000000-0000-0000-0000-000000000123";
const DEV: &str = "00000000-0000-0000-0000-000000000456";
const OLD: &str = "Old-Pass-1!";
const NEW: &str = "New-Pass-2!";
const OFFLINE: &str = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a";
/// A group of PROD with no machine, for a connection whose group is deleted.
const SPARE: &str = "c6f3e5d4-2b1a-4f0c-9e7d-8a7f6e5d4c3b";
/// A group of PROD another team's app owns and lends the app as User.
const LENT: &str = "d7a4f6e5-3c2b-4a1d-8f8e-9b8a7f6e5d4c";
const OTHER_APP: &str = "6e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
/// Another team's group named as the app's own group of PROD ("Bots"),
/// shared with the app: the probe's decoy.
const DECOY: &str = "e8b5a7f6-4d3c-4b2e-9a0f-1c2d3e4f5a6b";

fn group_id(environment: &str) -> String {
    format!("a4f1c3d2-0b9e-4f8a-9c7d-{}", &environment[24..])
}

/// The world with the account's password on each environment's machine.
fn world(dir: &Path, passwords: [&str; 3]) -> String {
    let environment = |id: &str, org: &str, machine: &str, password: &str| {
        Environment::new(id, org, org)
            .application_user(APP)
            .application_user(OTHER_APP)
            .group(
                Group::new(group_id(id), "Bots", APP).machine(
                    Machine::new(machine)
                        .account(Account::new("FABRIKAM\\svc-bot", password))
                        .account(Account::new("FABRIKAM\\other", OLD)),
                ),
            )
    };
    let prod = environment(PROD, "contoso", "BOT-P", passwords[0])
        .group(Group::new(OFFLINE, "Night bots", APP).machine(Machine::new("NIGHT-01").offline()))
        .group(Group::new(SPARE, "Spare bots", APP))
        .group(
            Group::new(DECOY, "Bots", OTHER_APP)
                .machine(Machine::new("DECOY-01"))
                .shared_with(Share::app(APP, "user")),
        )
        .group(
            Group::new(LENT, "Lent bots", OTHER_APP)
                .machine(Machine::new("LENT-01"))
                .shared_with(Share::app(APP, "user")),
        );
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(App::new("deploy-pipeline", APP).secret("example-secret-value"))
                .app(App::new("other-team", OTHER_APP).secret("other-secret-value"))
                .environment(prod)
                .environment(environment(TEST, "contosotest", "BOT-T", passwords[1]))
                .environment(environment(DEV, "contosodev", "BOT-D", passwords[2])),
        )
        .write_to(dir)
        .display()
        .to_string()
}

fn serve(dir: &Path, passwords: [&str; 3]) -> Server {
    Server::start(&[
        "--data-dir",
        dir.join("data").to_str().unwrap(),
        "--world",
        &world(dir, passwords),
    ])
}

fn as_app(server: &Server, password: &str, args: &[&str]) -> Command {
    let mut command = padconnect();
    command
        .args(args)
        .args(["--platform", &server.url])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env("AZURE_CLIENT_SECRET", "example-secret-value")
        .env("PADCONNECT_MACHINE_PASSWORD", password)
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("PADCONNECT_ENVIRONMENT");
    command
}

/// A connection as `account` with `password` to `group`: its id.
fn connect(
    server: &Server,
    environment: &str,
    group: &str,
    account: &str,
    password: &str,
) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let output = as_app(
        server,
        password,
        &[
            "connect",
            "--environment",
            environment,
            "--group",
            group,
            "--username",
            account,
            "--connection-id",
            &id,
        ],
    )
    .output()
    .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 6)),
        "{}",
        stderr(&output)
    );
    id
}

const ALL: [&str; 6] = [
    "--environment",
    PROD,
    "--environment",
    TEST,
    "--environment",
    DEV,
];

fn rotate(server: &Server, extra: &[&str]) -> Output {
    let mut args = vec!["rotate", "--username", "fabrikam\\SVC-BOT"];
    args.extend(ALL);
    args.extend(extra);
    as_app(server, NEW, &args).output().unwrap()
}

/// A Dataverse call to PROD's org as `client_id` (with its secret).
fn dataverse(
    server: &Server,
    client_id: &str,
    secret: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let token = padconnect()
        .args([
            "token",
            "--scope",
            "https://contoso.crm.dynamics.com/.default",
            "--platform",
            &server.url,
        ])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", client_id)
        .env("AZURE_CLIENT_SECRET", secret)
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr(&token));
    let token = stdout(&token).trim().to_owned();
    let dataverse = Client::new(format!("{}/orgs/contoso/api/data/v9.2", server.url)).token(&token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let Reply {
            status, text, body, ..
        } = dataverse
            .send(method.parse().unwrap(), path, &[], body.as_ref())
            .await;
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        body
    })
}

fn report(server: &Server, args: &[&str]) -> Output {
    let mut all = vec!["report"];
    all.extend(args);
    as_app(server, NEW, &all).output().unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

/// Each connection's status code in a JSON report, by id.
fn statuses(report: &Value) -> std::collections::BTreeMap<String, String> {
    report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let code = c["errorCode"].as_str().unwrap_or("Connected");
            (c["id"].as_str().unwrap().to_owned(), code.to_owned())
        })
        .collect()
}

#[test]
fn a_rotation_stops_at_the_first_refusal_and_a_rerun_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), [OLD, OLD, OLD]);
    let prod = [
        connect(&server, PROD, &group_id(PROD), "FABRIKAM\\svc-bot", OLD),
        connect(&server, PROD, &group_id(PROD), "fabrikam\\svc-bot", OLD),
    ];
    let other = connect(&server, PROD, &group_id(PROD), "FABRIKAM\\other", OLD);
    let test = connect(&server, TEST, &group_id(TEST), "FABRIKAM\\svc-bot", OLD);
    let dev = connect(&server, DEV, &group_id(DEV), "FABRIKAM\\svc-bot", OLD);
    server.terminate();

    // The password changed on PROD's and DEV's machines; TEST's not yet.
    let server = serve(dir.path(), [NEW, OLD, NEW]);
    let before = report(&server, &[&ALL[..], &["--output", "json"]].concat());
    assert_eq!(before.status.code(), Some(6), "{}", stderr(&before));
    let before = statuses(&json_of(&before));
    assert_eq!(before[&prod[0]], "MachineCredentialsChanged");
    assert_eq!(before[&other], "Connected");

    // A dry run names the four, and writes nothing.
    let dry = rotate(&server, &["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    for id in [&prod[0], &prod[1], &test, &dev] {
        assert!(
            stdout(&dry).contains(&format!("would update {id}")),
            "{id}: {}",
            stdout(&dry)
        );
    }
    assert!(!stdout(&dry).contains(&other));

    let stopped = rotate(&server, &[]);
    assert_eq!(stopped.status.code(), Some(1), "{}", stderr(&stopped));
    let printed = stdout(&stopped);
    for line in [
        format!("updated {} in {PROD}: holds the new password", prod[0]),
        format!("updated {} in {PROD}: holds the new password", prod[1]),
        format!("REFUSED {test} in {TEST}: ApiHubsRequestFailed"),
        format!("not reached {dev} in {DEV}: holds the old password"),
    ] {
        assert!(printed.contains(&line), "{line}: {printed}");
    }
    assert!(
        stderr(&stopped).contains("2 connection(s) hold the new password, 2 still the old one"),
        "{}",
        stderr(&stopped)
    );
    let after = json_of(&report(
        &server,
        &[&ALL[..], &["--output", "json"]].concat(),
    ));
    let after = statuses(&after);
    assert_eq!(after[&prod[0]], "Connected");
    assert_eq!(after[&prod[1]], "Connected");
    assert_eq!(
        after[&dev], "MachineCredentialsChanged",
        "the one not reached is untouched"
    );
    server.terminate();

    // TEST's machine gets the new password too; the rerun finishes.
    let server = serve(dir.path(), [NEW, NEW, NEW]);
    let done = rotate(&server, &["--output", "json"]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(json_of(&done)["updated"].as_array().unwrap().len(), 4);
    // Without --environment: every environment the app is a member of, as BAP lists them.
    let all = report(&server, &[]);
    assert!(all.status.success(), "{}{}", stdout(&all), stderr(&all));
    assert!(
        stdout(&all).contains("5 connection(s) in 3 environment(s): 5 Connected"),
        "{}",
        stdout(&all)
    );
}

#[test]
fn the_report_names_each_broken_connection_in_markdown_and_its_drift() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), [OLD, OLD, OLD]);
    let good = connect(&server, TEST, &group_id(TEST), "FABRIKAM\\svc-bot", OLD);
    let offline = connect(&server, PROD, OFFLINE, "FABRIKAM\\svc-bot", OLD);

    let orphan = connect(&server, PROD, SPARE, "FABRIKAM\\svc-bot", OLD);
    let borrowed = connect(&server, PROD, LENT, "FABRIKAM\\svc-bot", OLD);
    // The spare group is deleted; the lent one is no longer shared with the app.
    dataverse(
        &server,
        APP,
        "example-secret-value",
        "DELETE",
        &format!("flowmachinegroups({SPARE})"),
        None,
    );
    let users = dataverse(
        &server,
        OTHER_APP,
        "other-secret-value",
        "GET",
        &format!("systemusers?$filter=applicationid%20eq%20{APP}&$select=systemuserid"),
        None,
    );
    let app_user = users["value"][0]["systemuserid"]
        .as_str()
        .unwrap()
        .to_owned();
    dataverse(
        &server,
        OTHER_APP,
        "other-secret-value",
        "POST",
        "RevokeAccess",
        Some(json!({
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.flowmachinegroup", "flowmachinegroupid": LENT},
            "Revokee": {"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": app_user},
        })),
    );
    // A display name a pipeline's job summary must not read as markup.
    let odd = uuid::Uuid::new_v4().simple().to_string();
    let created = as_app(
        &server,
        OLD,
        &[
            "connect",
            "--environment",
            PROD,
            "--group",
            &group_id(PROD),
            "--username",
            "FABRIKAM\\svc-bot",
            "--connection-id",
            &odd,
            "--display-name",
            "<img src=x>|a\\b*c*",
        ],
    )
    .output()
    .unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    let listed = statuses(&json_of(&report(
        &server,
        &["--environment", PROD, "--output", "json"],
    )));
    assert_eq!(listed[&orphan], "MachineGroupNotFound");
    assert_eq!(listed[&borrowed], "MachineGroupAccessRevoked");

    let markdown = report(
        &server,
        &[
            "--environment",
            PROD,
            "--environment",
            TEST,
            "--output",
            "markdown",
        ],
    );
    assert_eq!(markdown.status.code(), Some(6), "{}", stderr(&markdown));
    let text = stdout(&markdown);
    assert!(text.starts_with("### Desktop flow connections\n\n5 connection(s) in 2 environment(s): 2 Connected, 3 not (MachineGroupAccessRevoked 1, MachineGroupNotFound 1, MachineOffline 1)"), "{text}");
    assert!(
        text.contains("| Environment | Connection | Name | Owner | Status |"),
        "{text}"
    );
    assert!(text.contains(&format!("| {PROD} | {offline} |")), "{text}");
    assert!(
        text.contains("Error (MachineOffline: No machine of 'Night bots' is online"),
        "{text}"
    );
    assert!(text.contains(&format!("| {TEST} | {good} |")), "{text}");
    assert!(
        text.contains(&format!(
            "| {PROD} | {odd} | \\<img src=x\\>\\|a\\\\b\\*c\\* |"
        )),
        "{text}"
    );
    assert!(!text.replace("\\<", "").contains('<'), "{text}");

    // Drift against what should exist in TEST.
    let expect = dir.path().join("expect.json");
    std::fs::write(
        &expect,
        json!([
            {"environment": TEST, "id": good, "username": "FABRIKAM\\someone-else"},
            {"environment": TEST, "id": "0123456789abcdef0123456789abcdef"},
        ])
        .to_string(),
    )
    .unwrap();
    let drift = report(
        &server,
        &["--environment", TEST, "--expect", expect.to_str().unwrap()],
    );
    assert_eq!(drift.status.code(), Some(7), "{}", stderr(&drift));
    let text = stdout(&drift);
    assert!(
        text.contains(&format!("missing: {TEST}/0123456789abcdef0123456789abcdef")),
        "{text}"
    );
    assert!(
        text.contains("username 'FABRIKAM\\someone-else' != 'FABRIKAM\\svc-bot'"),
        "{text}"
    );

    // A name two visible groups have is refused, both listed: the
    // credentials go to no group by the luck of the order.
    let ambiguous = as_app(
        &server,
        OLD,
        &[
            "connect",
            "--environment",
            PROD,
            "--group-name",
            "Bots",
            "--username",
            "FABRIKAM\\svc-bot",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(ambiguous.status.code(), Some(2), "{}", stderr(&ambiguous));
    let said = stderr(&ambiguous);
    assert!(
        said.contains("2 machine groups visible to this identity are named 'Bots'"),
        "{said}"
    );
    assert!(
        said.contains(DECOY) && said.contains(&group_id(PROD)),
        "{said}"
    );
    assert!(said.contains("--group ID"), "{said}");

    // Bad input, refused before anything is read or written.
    let bad_account = as_app(
        &server,
        NEW,
        &[
            "rotate",
            "--username",
            "FABRIKAM\\svc:bot",
            "--environment",
            TEST,
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        bad_account.status.code(),
        Some(2),
        "{}",
        stderr(&bad_account)
    );
    assert!(stderr(&bad_account).contains("is not a Windows account"));
    let long = "x".repeat(257);
    let bad_password = as_app(
        &server,
        &long,
        &[
            "rotate",
            "--username",
            "FABRIKAM\\svc-bot",
            "--environment",
            TEST,
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        bad_password.status.code(),
        Some(2),
        "{}",
        stderr(&bad_password)
    );
    assert!(stderr(&bad_password).contains("at most 256"));
    let nowhere = as_app(
        &server,
        NEW,
        &[
            "report",
            "--environment",
            "11111111-1111-1111-1111-111111111111",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(nowhere.status.code(), Some(3), "{}", stderr(&nowhere));
    let nobody = as_app(
        &server,
        NEW,
        &[
            "rotate",
            "--username",
            "FABRIKAM\\nobody",
            "--environment",
            TEST,
        ],
    )
    .output()
    .unwrap();
    assert_eq!(nobody.status.code(), Some(3), "{}", stderr(&nobody));

    // A rotation in PROD passes over the orphaned connections, writes the
    // rest, and exits 6: two still hold the old password.
    let rotate_prod = |extra: &[&str]| {
        let mut args = vec![
            "rotate",
            "--username",
            "FABRIKAM\\svc-bot",
            "--environment",
            PROD,
        ];
        args.extend(extra);
        as_app(&server, OLD, &args).output().unwrap()
    };
    let partial = rotate_prod(&["--exclude", &offline]);
    assert_eq!(partial.status.code(), Some(6), "{}", stderr(&partial));
    let printed = stdout(&partial);
    assert!(
        printed.contains(&format!("updated {odd} in {PROD}")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("skipped {orphan} in {PROD}: MachineGroupNotFound")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "skipped {borrowed} in {PROD}: MachineGroupAccessRevoked"
        )),
        "{printed}"
    );
    assert!(
        !printed.contains(&offline),
        "an excluded connection is left out: {printed}"
    );
    assert!(
        stderr(&partial).contains("2 skipped one(s) still hold the old password"),
        "{}",
        stderr(&partial)
    );
    // --connection narrows it to one, and one that is not the account's is refused.
    let one = rotate_prod(&["--connection", &odd]);
    assert!(one.status.success(), "{}", stderr(&one));
    assert!(!stdout(&one).contains(&orphan), "{}", stdout(&one));
    let elsewhere = rotate_prod(&["--connection", &good]);
    assert_eq!(elsewhere.status.code(), Some(3), "{}", stderr(&elsewhere));
    assert!(
        stderr(&elsewhere).contains(&format!("--connection {good}")),
        "{}",
        stderr(&elsewhere)
    );
    let typo = rotate_prod(&["--exclude", "not-an-id"]);
    assert_eq!(typo.status.code(), Some(2), "{}", stderr(&typo));

    // An expected connection of an environment the report does not list.
    let unlisted = report(
        &server,
        &["--environment", PROD, "--expect", expect.to_str().unwrap()],
    );
    assert_eq!(unlisted.status.code(), Some(2), "{}", stderr(&unlisted));
    assert!(
        stderr(&unlisted).contains(&format!("add --environment {TEST}")),
        "{}",
        stderr(&unlisted)
    );
}
