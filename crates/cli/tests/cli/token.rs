//! `padconnect token` and `padconnect keys rotate` against a running platform.

use std::io::Write;
use std::process::{Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use padconnect_testkit::{App, Tenant, World};
use serde_json::Value;

use crate::support::{Server, padconnect, stderr, stdout};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const CERT_APP: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const SECRET: &str = "example-secret-value";
const SCOPE: &str = "https://api.powerplatform.com/.default";

/// A data dir with a world of one tenant, a secret app and a certificate app.
fn world(dir: &std::path::Path) -> String {
    let made = padconnect_testkit::keys::certificate("cert-pipeline");
    std::fs::write(dir.join("cert.pem"), &made.cert_pem).unwrap();
    std::fs::write(dir.join("cert-and-key.pem"), made.pem_with_key()).unwrap();
    World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(App::new("deploy-pipeline", APP).secret(SECRET))
                .app(App::new("cert-pipeline", CERT_APP).certificate("cert.pem")),
        )
        .write_to(dir)
        .display()
        .to_string()
}

fn token_command(server: &Server) -> std::process::Command {
    token_for(server, SCOPE)
}

fn token_for(server: &Server, scope: &str) -> std::process::Command {
    let mut command = padconnect();
    command
        .args(["token", "--scope", scope, "--platform", &server.url])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST");
    command
}

fn claims(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    let token = stdout(output);
    let payload = token.trim().split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn kid(output: &Output) -> String {
    let token = stdout(output);
    let header = token.trim().split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn prints_a_token_with_the_secret_from_env_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);

    let from_env = token_command(&server)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(claims(&from_env)["appid"], APP);

    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let from_file = token_command(&server)
        .arg("--client-secret-file")
        .arg(&secret_file)
        .output()
        .unwrap();
    assert_eq!(claims(&from_file)["aud"], "https://api.powerplatform.com");

    let mut child = token_command(&server)
        .arg("--client-secret-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SECRET.as_bytes())
        .unwrap();
    let from_stdin = child.wait_with_output().unwrap();
    assert_eq!(claims(&from_stdin)["tid"], TENANT);
}

#[test]
fn prints_a_token_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);
    let output = token_command(&server)
        .env("AZURE_CLIENT_ID", CERT_APP)
        .env(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            dir.path().join("cert-and-key.pem"),
        )
        .output()
        .unwrap();
    let claims = claims(&output);
    assert_eq!(
        (claims["appid"].as_str(), claims["appidacr"].as_str()),
        (Some(CERT_APP), Some("2"))
    );
}

#[test]
fn failures_name_the_service_code_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--world",
        &world(dir.path()),
    ]);

    let wrong = token_command(&server)
        .env("AZURE_CLIENT_SECRET", "wrong-secret-123")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(4));
    let err = stderr(&wrong);
    // The credential is named first, then the error.
    assert!(
        err.starts_with("padconnect: signing in with secret"),
        "{err}"
    );
    assert!(
        err.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("error: AADSTS7000215: Invalid client secret provided.")),
        "{err}"
    );
    assert!(
        err.contains("(HTTP 401)") && !err.contains("wrong-secret-123"),
        "{err}"
    );
    assert!(stdout(&wrong).is_empty());

    // No credential at all, and no Azure CLI to fall back on.
    let none = token_command(&server).env("PATH", "").output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("no credential: set AZURE_CLIENT_SECRET"),
        "{}",
        stderr(&none)
    );

    let no_tenant = token_command(&server)
        .env_remove("AZURE_TENANT_ID")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        stderr(&no_tenant).contains("no tenant: set AZURE_TENANT_ID"),
        "{}",
        stderr(&no_tenant)
    );

    let bad_scope = token_for(&server, "https://api.powerplatform.com/user_impersonation")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        stderr(&bad_scope).contains("\nerror: AADSTS1002012: "),
        "{}",
        stderr(&bad_scope)
    );
}

#[test]
fn works_over_tls_with_the_platform_ca() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--world",
        &world(dir.path()),
        "--tls",
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let output = token_command(&server)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .arg("--ca-cert")
        .arg(data.join("tls/ca.pem"))
        .output()
        .unwrap();
    assert_eq!(claims(&output)["appid"], APP);

    let untrusted = token_command(&server)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(untrusted.status.code(), Some(5));
    assert!(
        stderr(&untrusted).contains("cannot reach"),
        "{}",
        stderr(&untrusted)
    );
}

#[test]
fn keys_rotate_makes_a_new_key_and_keeps_the_old_one_published() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = data.to_str().unwrap();
    let server = Server::start(&["--data-dir", data_dir, "--world", &world(dir.path())]);
    let before = token_command(&server)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    let old_kid = kid(&before);
    assert_eq!(server.terminate(), Some(0));

    let rotated = padconnect()
        .args(["keys", "rotate", "--data-dir", data_dir])
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let new_kid = stdout(&rotated).trim().to_owned();
    assert_ne!(new_kid, old_kid);

    let server = Server::start(&["--data-dir", data_dir]);
    let after = token_command(&server)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(kid(&after), new_kid);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jwks = rt.block_on(server.get(&format!("/{TENANT}/discovery/v2.0/keys")));
    let kids: Vec<&str> = jwks.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
}
