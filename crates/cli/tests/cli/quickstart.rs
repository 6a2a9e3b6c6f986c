//! `padconnect quickstart`, the main job, and the data dir it leaves.

use serde_json::Value;

use crate::support::{padconnect, run, stderr, stdout};

#[test]
fn quickstart_creates_a_connected_connection_as_a_service_principal() {
    let output = run(&["quickstart"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json = run(&["quickstart", "--json"]);
    let json: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        json["dataDir"],
        Value::Null,
        "the temporary dir is removed: no path to it"
    );
    let text = stdout(&output);
    assert!(text.contains("created as service principal"), "{text}");
    assert!(text.contains("status Connected"), "{text}");
    assert!(
        text.contains("\"ConnectorId\": \"/providers/Microsoft.PowerApps/apis/shared_uiflow\""),
        "{text}"
    );
}

#[test]
fn a_data_dir_keeps_the_platform_for_later_commands_and_reruns_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let first = run(&["quickstart", "--json", "--data-dir", data_dir]);
    assert!(first.status.success(), "{}", stderr(&first));
    let first: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(first["change"], "created");
    assert_eq!(first["status"], "Connected");
    let id = first["connectionId"].as_str().unwrap();
    assert_eq!(
        first["deploymentSettings"]["ConnectionReferences"][0]["ConnectionId"],
        id
    );

    let again = run(&["quickstart", "--json", "--data-dir", data_dir]);
    let again: Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(
        (again["change"].as_str(), again["connectionId"].as_str()),
        (Some("unchanged"), Some(id))
    );

    assert_eq!(again["dataDir"], data_dir);

    // `token` takes --data-dir like every other command.
    let token = run(&[
        "token",
        "--scope",
        "https://api.powerplatform.com/.default",
        "--data-dir",
        data_dir,
    ]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert_eq!(stdout(&token).trim().split('.').count(), 3, "a JWT");

    let get = run(&[
        "connection",
        "get",
        id,
        "--data-dir",
        data_dir,
        "--output",
        "json",
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    let connection: Value = serde_json::from_str(&stdout(&get)).unwrap();
    assert_eq!(
        connection["properties"]["statuses"][0]["status"],
        "Connected"
    );
    assert_eq!(
        connection["properties"]["createdBy"]["type"],
        "ServicePrincipal"
    );

    let table = run(&["connection", "list", "--data-dir", data_dir]);
    let listing = stdout(&table);
    let lines: Vec<&str> = listing.lines().collect();
    assert!(
        lines[0].starts_with("CONNECTION") && lines[0].contains("  STATUS"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!("{id}  Connected")),
        "{lines:?}"
    );

    let deleted = run(&["connection", "delete", id, "--data-dir", data_dir]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    // A rerun has nothing to delete: it succeeds and says so.
    let again = run(&["connection", "delete", id, "--data-dir", data_dir]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("is already gone"),
        "{}",
        stdout(&again)
    );
    let gone = run(&["connection", "get", id, "--data-dir", data_dir]);
    assert_eq!(gone.status.code(), Some(3));
    assert!(
        stderr(&gone).contains("ConnectionNotFound"),
        "{}",
        stderr(&gone)
    );

    // Secrets stay out of the data dir's plain files.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && path
                .extension()
                .is_none_or(|e| e != "db" && e != "db-wal" && e != "db-shm")
        {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("svc-desktopflows"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn a_data_dir_without_quickstart_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let output = padconnect()
        .args(["connection", "list", "--data-dir"])
        .arg(dir.path())
        .env_remove("AZURE_CLIENT_ID")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("run `padconnect quickstart --data-dir"),
        "{}",
        stderr(&output)
    );
}
