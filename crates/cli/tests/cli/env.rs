//! `padconnect env`: the lines that point a shell at a running platform, a
//! clear error for a data dir that is not serving, and the lines that undo.

use crate::support::{Server, example_world, run, stderr, stdout};

#[test]
fn prints_the_proxy_and_trust_of_a_serving_data_dir_then_refuses_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let server = Server::start(&["--data-dir", data, "--world", &example_world()]);
    let printed = run(&["env", "--data-dir", data]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let lines = stdout(&printed);
    assert!(
        lines.contains(&format!("export HTTPS_PROXY='{}'", server.url)),
        "{lines}"
    );
    assert!(lines.contains(&format!("export https_proxy='{}'", server.url)));
    assert!(lines.contains("export NO_PROXY='localhost,127.0.0.1,::1'"));
    for name in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] {
        assert!(
            lines.contains(&format!("export {name}='")),
            "{name} in {lines}"
        );
    }
    assert!(lines.contains("tls/ca.pem'"), "{lines}");

    let pwsh = stdout(&run(&["env", "--data-dir", data, "--shell", "pwsh"]));
    assert!(
        pwsh.contains(&format!("$env:HTTPS_PROXY = '{}'", server.url)),
        "{pwsh}"
    );

    // Once the server is gone, its record says so.
    assert_eq!(server.terminate(), Some(0));
    let stale = run(&["env", "--data-dir", data]);
    assert!(!stale.status.success());
    assert!(
        stderr(&stale).contains("no platform is serving"),
        "{}",
        stderr(&stale)
    );

    let missing = run(&[
        "env",
        "--data-dir",
        dir.path().join("typo").to_str().unwrap(),
    ]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );

    let undo = stdout(&run(&["env", "--unset"]));
    assert!(
        undo.contains("unset HTTPS_PROXY") && undo.contains("unset NODE_EXTRA_CA_CERTS"),
        "{undo}"
    );
}

/// A record left by a server killed with SIGKILL (no clean stop) is stale.
#[test]
fn a_record_whose_server_does_not_answer_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_str = data.to_str().unwrap();
    let server = Server::start(&["--data-dir", data_str]);
    let url = server.url.clone();
    drop(server); // SIGKILL: the record stays behind
    let record = std::fs::read_to_string(data.join("serve.json")).unwrap();
    assert!(record.contains(&url), "{record}");
    let stale = run(&["env", "--data-dir", data_str]);
    assert!(!stale.status.success());
    assert!(
        stderr(&stale).contains(&format!("no platform answers at {url}")),
        "{}",
        stderr(&stale)
    );
}
