//! `connect --grant`, run-owner connections from a PFX file, and
//! `connection share`, against `padconnect serve`.

use std::path::Path;
use std::process::{Command, Output};

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use padconnect_testkit::{App, Environment, Group, Machine, Tenant, World};
use serde_json::Value;

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const OWNER_APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const ADMIN_APP: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const VIEWER_APP: &str = "7b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
const VIEWER_OID: &str = "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
const PFX_PASSWORD: &str = "pfx-export-password";

/// A tenant whose automation app is a Power Platform administrator with a
/// certificate, a group it was not given, and a third app to share with.
/// Writes the world and the admin app's PFX; returns the world's path.
fn world(dir: &Path) -> String {
    let made = padconnect_testkit::keys::certificate("automation");
    std::fs::write(dir.join("automation.pem"), &made.cert_pem).unwrap();
    let chain = PrivateKeyChain::new(
        vec![7u8; 20],
        PrivateKey::from_der(&made.key_der).unwrap(),
        [Certificate::from_der(&made.cert_der).unwrap()],
    );
    let mut store = KeyStore::new();
    store.add_entry("automation", KeyStoreEntry::PrivateKeyChain(chain));
    std::fs::write(
        dir.join("automation.pfx"),
        store.writer(PFX_PASSWORD).write().unwrap(),
    )
    .unwrap();
    // The same key and certificate in a PFX without a password.
    std::fs::write(
        dir.join("automation-open.pfx"),
        store.writer("").write().unwrap(),
    )
    .unwrap();
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .admin(ADMIN_APP)
                .app(App::new("machine-owner", OWNER_APP).secret("owner-secret"))
                .app(
                    App::new("automation", ADMIN_APP)
                        .secret("admin-secret")
                        .certificate("automation.pem"),
                )
                .app(
                    App::new("flow-runner", VIEWER_APP)
                        .object_id(VIEWER_OID)
                        .secret("viewer-secret"),
                )
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(OWNER_APP)
                        .application_user(ADMIN_APP)
                        .application_user(VIEWER_APP)
                        .group(
                            Group::new(GROUP, "Finance bots", OWNER_APP)
                                .machine(Machine::new("FIN-VM-01")),
                        ),
                ),
        )
        .write_to(dir)
        .display()
        .to_string()
}

fn as_admin(server: &Server, args: &[&str]) -> Command {
    let mut command = padconnect();
    command
        .args(args)
        .args(["--platform", &server.url, "--output", "json"])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", ADMIN_APP)
        .env("AZURE_CLIENT_SECRET", "admin-secret")
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss")
        .env_remove("PADCONNECT_PFX_PASSWORD")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH");
    command
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(&stdout(output)).unwrap()
}

fn connect_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "connect",
        "--environment",
        ENVIRONMENT,
        "--group",
        GROUP,
        "--org",
        "contoso",
        "--username",
        "CONTOSO\\svc-bot",
    ];
    args.extend_from_slice(extra);
    args
}

fn start(dir: &Path) -> Server {
    Server::start(&["--data-dir", dir.to_str().unwrap(), "--world", &world(dir)])
}

#[test]
fn an_administrator_grants_itself_the_group_with_grant() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());

    // Administrators see every group, but a connection needs a share.
    let refused = as_admin(&server, &connect_args(&[])).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("warning: Dataverse shows no User access to machine group")
            && stderr(&refused).contains("--grant"),
        "{}",
        stderr(&refused)
    );
    let granted = json(
        &as_admin(&server, &connect_args(&["--grant"]))
            .output()
            .unwrap(),
    );
    assert_eq!(granted["change"], "created");
    assert_eq!(granted["status"], "Connected");
    let again = json(
        &as_admin(&server, &connect_args(&["--grant"]))
            .output()
            .unwrap(),
    );
    assert_eq!(again["change"], "password-applied");

    // --grant without --org shares through the org BAP names.
    let no_org = as_admin(
        &server,
        &[
            "connect",
            "--environment",
            ENVIRONMENT,
            "--group",
            GROUP,
            "--username",
            "CONTOSO\\svc-bot",
            "--grant",
        ],
    )
    .output()
    .unwrap();
    assert!(no_org.status.success(), "{}", stderr(&no_org));
    assert!(
        stderr(&no_org).contains("has its Dataverse at contoso"),
        "{}",
        stderr(&no_org)
    );
}

#[test]
fn a_run_owner_connection_from_a_pfx_is_shared_with_another_service_principal() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let pfx = dir.path().join("automation.pfx");
    let pfx = pfx.to_str().unwrap();
    let run_owner = |extra: &[&str]| {
        let mut args = vec!["--grant", "--parameter-set", "azureRelayRunOwner"];
        args.extend_from_slice(extra);
        as_admin(&server, &connect_args(&args))
    };

    let no_pfx = run_owner(&[]).output().unwrap();
    assert!(
        stderr(&no_pfx).contains("--run-owner-pfx FILE"),
        "{}",
        stderr(&no_pfx)
    );
    // No password given: the PFX is opened without one, which this one refuses.
    let no_password = run_owner(&["--run-owner-pfx", pfx]).output().unwrap();
    assert_eq!(
        no_password.status.code(),
        Some(1),
        "{}",
        stderr(&no_password)
    );
    assert!(
        stderr(&no_password).contains("the PFX cannot be opened"),
        "{}",
        stderr(&no_password)
    );
    let wrong = run_owner(&["--run-owner-pfx", pfx])
        .env("PADCONNECT_PFX_PASSWORD", "guess")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("InvalidParameterValue"),
        "{}",
        stderr(&wrong)
    );
    assert!(!stderr(&wrong).contains("guess"));

    let created = json(
        &run_owner(&["--run-owner-pfx", pfx])
            .env("PADCONNECT_PFX_PASSWORD", PFX_PASSWORD)
            .output()
            .unwrap(),
    );
    assert_eq!(created["change"], "created");
    let set = &created["connection"]["properties"]["connectionParametersSet"];
    assert_eq!(set["name"], "azureRelayRunOwner");
    assert_eq!(
        set["values"]["tokenRunOwnerCert:clientId"]["value"],
        ADMIN_APP
    );
    assert!(!created.to_string().contains(PFX_PASSWORD));
    let id = created["connectionId"].as_str().unwrap().to_owned();

    let share = |extra: &[&str]| {
        let mut args = vec![
            "connection",
            "share",
            id.as_str(),
            "--environment",
            ENVIRONMENT,
        ];
        args.extend_from_slice(extra);
        as_admin(&server, &args).output().unwrap()
    };
    let shared = json(&share(&["--principal", VIEWER_OID, "--role", "CanView"]));
    let roles: Vec<(&str, &str)> = shared["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["properties"]["roleName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(roles[1], (VIEWER_OID, "CanView"));
    assert_eq!(roles[0].1, "Owner");

    // The flow runner now sees it.
    let seen = padconnect()
        .args([
            "connection",
            "get",
            &id,
            "--environment",
            ENVIRONMENT,
            "--platform",
            &server.url,
        ])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", VIEWER_APP)
        .env("AZURE_CLIENT_SECRET", "viewer-secret")
        .output()
        .unwrap();
    assert!(seen.status.success(), "{}", stderr(&seen));

    let removed = json(&share(&["--principal", VIEWER_OID, "--remove"]));
    assert_eq!(removed["value"].as_array().unwrap().len(), 1);
    let not_an_id = share(&["--principal", VIEWER_APP.split('-').next().unwrap()]);
    assert!(
        stderr(&not_an_id).contains("is not an object id"),
        "{}",
        stderr(&not_an_id)
    );
    let stranger = share(&["--principal", "12345678-1234-4234-8234-123456789012"]);
    assert!(
        stderr(&stranger).contains("PrincipalNotFound"),
        "{}",
        stderr(&stranger)
    );

    // The run-owner document on the PFX password: "Can be left empty if
    // null". A PFX without one needs no PADCONNECT_PFX_PASSWORD.
    let open_pfx = dir.path().join("automation-open.pfx");
    let open = run_owner(&["--run-owner-pfx", open_pfx.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(open.status.success(), "{}", stderr(&open));
}
