//! The credential chain a pipeline signs in with (README, "Exit codes"): workload
//! identity federation with the platform as the CI system's issuer, a PFX
//! certificate, the Azure CLI's session, and DefaultAzureCredential's order.

use std::path::Path;
use std::process::{Command, Output};

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use padconnect_testkit::{App, Environment, Federated, Group, Share, Tenant, World};
use serde_json::Value;

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const GITHUB_APP: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const CERT_APP: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const SECRET_APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const SECRET: &str = "example-secret-value";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
const SUBJECT: &str = "repo:contoso/payroll:ref:refs/heads/main";
const PFX_PASSWORD: &str = "pfx-pass-1";
const SCOPE: &str = "https://api.powerplatform.com/.default";

/// A tenant with a GitHub-deployed app that trusts the platform's issuer for
/// one subject and has no secret, a certificate app (its PFX beside the
/// world) and a secret app; a group shared with the first.
fn world(dir: &Path) -> String {
    let made = padconnect_testkit::keys::certificate("cert-pipeline");
    std::fs::write(dir.join("cert.pem"), &made.cert_pem).unwrap();
    let chain = PrivateKeyChain::new(
        vec![7u8; 20],
        PrivateKey::from_der(&made.key_der).unwrap(),
        [Certificate::from_der(&made.cert_der).unwrap()],
    );
    let mut store = KeyStore::new();
    store.add_entry("cert-pipeline", KeyStoreEntry::PrivateKeyChain(chain));
    std::fs::write(
        dir.join("cert.pfx"),
        store.writer(PFX_PASSWORD).write().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("cert-and-key.pem"), made.pem_with_key()).unwrap();
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(
                    App::new("github-deploy", GITHUB_APP).federated(Federated::new(
                        "https://federation.padconnect.localhost",
                        SUBJECT,
                    )),
                )
                .app(App::new("cert-pipeline", CERT_APP).certificate("cert.pem"))
                .app(App::new("deploy-pipeline", SECRET_APP).secret(SECRET))
                .user(
                    "admin@contoso.onmicrosoft.com",
                    "Contoso Admin",
                    "example-password",
                )
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(GITHUB_APP)
                        .maker("admin@contoso.onmicrosoft.com")
                        .group(
                            Group::new(GROUP, "Finance bots", "admin@contoso.onmicrosoft.com")
                                .shared_with(Share::app(GITHUB_APP, "user")),
                        ),
                ),
        )
        .write_to(dir)
        .display()
        .to_string()
}

/// A command with no AZURE_* credential of the caller's own environment.
fn clean(mut command: Command) -> Command {
    for name in [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "PADCONNECT_CREDENTIAL",
    ] {
        command.env_remove(name);
    }
    command.env("AZURE_TENANT_ID", TENANT);
    command
}

fn token(server: &Server, client_id: &str) -> Command {
    let mut command = clean(padconnect());
    command
        .args(["token", "--scope", SCOPE, "--platform", &server.url])
        .env("AZURE_CLIENT_ID", client_id);
    command
}

fn federated(data_dir: &Path, subject: &str, extra: &[&str]) -> String {
    let output = padconnect()
        .args(["token", "--federated", "--subject", subject, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().to_owned()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn assert_fails(output: &Output, code: i32, says: &str) {
    assert_eq!(output.status.code(), Some(code), "{}", stderr(output));
    assert!(stderr(output).contains(says), "{}", stderr(output));
}

#[test]
fn workload_identity_runs_the_workflow_with_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);

    // The CI system's step: the platform, as the issuer, hands the job a token.
    let jwt = federated(&data, SUBJECT, &[]);
    let issued = claims(&jwt);
    assert_eq!(issued["iss"], "https://federation.padconnect.localhost");
    assert_eq!(issued["sub"], SUBJECT);
    assert_eq!(issued["aud"], "api://AzureADTokenExchange");
    assert_eq!(
        issued["exp"].as_i64().unwrap() - issued["iat"].as_i64().unwrap(),
        600
    );
    let token_file = dir.path().join("federated-token");
    std::fs::write(&token_file, &jwt).unwrap();

    let mut connect = clean(padconnect());
    connect
        .args([
            "connect",
            "--platform",
            &server.url,
            "--environment",
            ENVIRONMENT,
        ])
        .args([
            "--group",
            GROUP,
            "--username",
            "CONTOSO\\svc-bot",
            "--output",
            "json",
            "--credential",
            "workload",
        ])
        .env("AZURE_CLIENT_ID", GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .env("PADCONNECT_MACHINE_PASSWORD", "Wind0ws-P@ss");
    let connected = connect.output().unwrap();
    assert!(connected.status.success(), "{}", stderr(&connected));
    assert!(
        stderr(&connected).contains("signing in with workload"),
        "{}",
        stderr(&connected)
    );
    let result: Value = serde_json::from_str(&stdout(&connected)).unwrap();
    assert_eq!(result["status"], "Connected");
    let id = result["connectionId"].as_str().unwrap().to_owned();

    // docs/pipelines.md's next step.
    let file = dir.path().join("settings.json");
    let settings = padconnect()
        .args(["settings", "--file"])
        .arg(&file)
        .arg("--connection-reference")
        .arg(format!("new_sharedUiflow={id}"))
        .output()
        .unwrap();
    assert!(settings.status.success(), "{}", stderr(&settings));
    let settings: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        settings["ConnectionReferences"][0]["ConnectionId"],
        id.as_str()
    );

    // The token is reusable while it lives, as a projected token is.
    let again = token(&server, GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(claims(stdout(&again).trim())["appidacr"], "2");

    // Another branch's token, another audience, and a token the app's
    // issuer did not sign are each refused with Entra's code.
    std::fs::write(
        &token_file,
        federated(&data, "repo:contoso/payroll:ref:refs/heads/dev", &[]),
    )
    .unwrap();
    let other_subject = token(&server, GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_fails(&other_subject, 4, "AADSTS700213");
    assert!(stderr(&other_subject).contains("refs/heads/dev"));
    std::fs::write(
        &token_file,
        federated(&data, SUBJECT, &["--audience", "api://other"]),
    )
    .unwrap();
    let other_audience = token(&server, GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_fails(&other_audience, 4, "AADSTS70021");
    let mut forged = jwt.clone();
    forged.truncate(jwt.len() - 4);
    forged.push_str("AAAA");
    std::fs::write(&token_file, forged).unwrap();
    let forged = token(&server, GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_fails(&forged, 4, "signature");
    // An app that trusts no issuer.
    std::fs::write(&token_file, &jwt).unwrap();
    let untrusted = token(&server, SECRET_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_fails(&untrusted, 4, "AADSTS700211");
    std::fs::remove_file(&token_file).unwrap();
    let missing = token(&server, GITHUB_APP)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_fails(&missing, 4, "cannot read the federated token file");
}

#[test]
fn a_pfx_certificate_signs_in_with_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let pfx = dir.path().join("cert.pfx");
    let signed = token(&server, CERT_APP)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pfx)
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", stderr(&signed));
    assert!(
        stderr(&signed).contains("signing in with certificate"),
        "{}",
        stderr(&signed)
    );
    assert_eq!(claims(stdout(&signed).trim())["appidacr"], "2");
    let wrong = token(&server, CERT_APP)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pfx)
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", "not-it")
        .output()
        .unwrap();
    assert_fails(&wrong, 4, "check AZURE_CLIENT_CERTIFICATE_PASSWORD");
    assert!(!stderr(&wrong).contains("not-it"));
}

#[test]
fn credentials_are_taken_in_default_azure_credential_order_or_as_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let pem = dir.path().join("cert-and-key.pem");
    // Secret before certificate, as EnvironmentCredential has it: the
    // secret app has no certificate, so only the secret can succeed.
    let both = token(&server, SECRET_APP)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pem)
        .output()
        .unwrap();
    assert!(both.status.success(), "{}", stderr(&both));
    assert!(
        stderr(&both).contains("signing in with secret"),
        "{}",
        stderr(&both)
    );
    let chosen = token(&server, CERT_APP)
        .args(["--credential", "Certificate"])
        .env("AZURE_CLIENT_SECRET", "not-the-cert-apps")
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pem)
        .output()
        .unwrap();
    assert!(chosen.status.success(), "{}", stderr(&chosen));

    let no_file = token(&server, GITHUB_APP)
        .args(["--credential", "workload"])
        .output()
        .unwrap();
    assert_fails(&no_file, 2, "set AZURE_FEDERATED_TOKEN_FILE");
    let nothing = token(&server, SECRET_APP).env("PATH", "").output().unwrap();
    assert_fails(&nothing, 2, "no credential: set AZURE_CLIENT_SECRET");
    assert!(
        stderr(&nothing).contains("az login"),
        "{}",
        stderr(&nothing)
    );
    let no_az = token(&server, SECRET_APP)
        .args(["--credential", "azurecli"])
        .env("PATH", "")
        .output()
        .unwrap();
    assert_fails(&no_az, 2, "not on PATH");
}

/// An `az` on PATH that records its arguments and answers as `az account
/// get-access-token --output json` does, with a token the platform issued.
fn fake_az(dir: &Path, access_token: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let answer = serde_json::json!({
        "accessToken": access_token,
        "expiresOn": "2026-12-02 03:00:00.000000",
        "expires_on": 1_900_000_000,
        "subscription": "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
        "tenant": TENANT,
        "tokenType": "Bearer",
    });
    // Shell built-ins only: PATH holds nothing else.
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\nprintf '%s\\n' '{answer}'\n",
        log = dir.join("az-args").display(),
    );
    let az = bin.join("az");
    std::fs::write(&az, script).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn the_azure_cli_session_is_the_last_resort_and_needs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let issued = token(&server, SECRET_APP)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(issued.status.success(), "{}", stderr(&issued));
    let bin = fake_az(dir.path(), stdout(&issued).trim());

    // No AZURE_* credential and no tenant or client id: az's account is used.
    let mut command = clean(padconnect());
    command
        .args(["token", "--scope", SCOPE, "--platform", &server.url])
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env("PATH", &bin);
    let via_az = command.output().unwrap();
    assert!(via_az.status.success(), "{}", stderr(&via_az));
    assert!(
        stderr(&via_az).contains("signing in with azurecli"),
        "{}",
        stderr(&via_az)
    );
    assert_eq!(stdout(&via_az).trim(), stdout(&issued).trim());
    let args = std::fs::read_to_string(dir.path().join("az-args")).unwrap();
    assert_eq!(
        args.trim(),
        "account get-access-token --output json --resource https://api.powerplatform.com"
    );
}
