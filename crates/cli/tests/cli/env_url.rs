//! `padconnect env-url`.

use crate::support::{run, stderr, stdout};

#[test]
fn prints_the_seed_vectors() {
    for (id, label) in [
        (
            "37520647-dbdf-49fa-ba01-6134c14680c4",
            "37520647dbdf49faba016134c14680.c4",
        ),
        (
            "00000000-0000-0000-0000-000000000123",
            "000000000000000000000000000001.23",
        ),
        (
            "Default-8a235459-3d2c-415d-8c1e-e2fe133509ad",
            "default8a2354593d2c415d8c1ee2fe133509.ad",
        ),
    ] {
        let output = run(&["env-url", id]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{label}\n"));
    }
}

#[test]
fn a_bad_id_fails_with_what_to_fix() {
    let output = run(&["env-url", "contoso-prod"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert!(
        err.starts_with("error: 'contoso-prod' is not an environment id: expected a GUID"),
        "{err}"
    );
}

#[test]
fn settings_writes_and_updates_a_deployment_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploymentSettings.json");
    std::fs::write(
        &file,
        r#"{"EnvironmentVariables":[],"ConnectionReferences":[{"LogicalName":"new_sharepoint","ConnectionId":"keep","ConnectorId":"/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}]}"#,
    )
    .unwrap();
    let output = run(&[
        "settings",
        "--file",
        file.to_str().unwrap(),
        "--connection-reference",
        "new_sharedUiflow=D4E4A6FF-9A67-492A-A1F6-DE854528668C",
        "--environment-variable",
        "new_Machine=FIN-VM-01",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["ConnectionReferences"][0]["ConnectionId"], "keep");
    assert_eq!(
        written["ConnectionReferences"][1]["ConnectionId"],
        "d4e4a6ff9a67492aa1f6de854528668c"
    );
    assert_eq!(
        written["ConnectionReferences"][1]["ConnectorId"],
        "/providers/Microsoft.PowerApps/apis/shared_uiflow"
    );
    assert_eq!(written["EnvironmentVariables"][0]["Value"], "FIN-VM-01");

    let bad = run(&["settings", "--connection-reference", "new_x=not-a-guid"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("'not-a-guid' is not a connection id"),
        "{}",
        stderr(&bad)
    );
    let printed = run(&[
        "settings",
        "--connection-reference",
        "new_x=d4e4a6ff9a67492aa1f6de854528668c",
    ]);
    assert!(
        stdout(&printed).contains("\"LogicalName\": \"new_x\""),
        "{}",
        stdout(&printed)
    );
}
