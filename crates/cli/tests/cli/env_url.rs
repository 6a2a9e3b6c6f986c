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

/// Microsoft's `PowerPlatformApiDiscovery` splits one character off outside
/// the public cloud.
#[test]
fn other_clouds_split_one_character() {
    for (cloud, label) in [
        ("public", "37520647dbdf49faba016134c14680.c4"),
        ("usgov", "37520647dbdf49faba016134c14680c.4"),
        ("china", "37520647dbdf49faba016134c14680c.4"),
        ("USDOD", "37520647dbdf49faba016134c14680c.4"),
    ] {
        let output = run(&[
            "env-url",
            "37520647-dbdf-49fa-ba01-6134c14680c4",
            "--cloud",
            cloud,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{label}\n"), "{cloud}");
    }
}

#[test]
fn a_bad_id_fails_with_what_to_fix() {
    let output = run(&["env-url", "contoso-prod"]);
    assert_eq!(output.status.code(), Some(2));
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
    assert_eq!(bad.status.code(), Some(2));
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

const CUSTOMIZATIONS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml>
  <connectionreferences>
    <connectionreference connectionreferencelogicalname="new_sharedUiflow_5a1b2">
      <connectorid>/providers/Microsoft.PowerApps/apis/shared_uiflow</connectorid>
    </connectionreference>
    <connectionreference connectionreferencelogicalname="new_sharedsharepointonline_9c">
      <connectorid>/providers/Microsoft.PowerApps/apis/shared_sharepointonline</connectorid>
    </connectionreference>
  </connectionreferences>
</ImportExportXml>"#;
const VARIABLE: &str = r#"<environmentvariabledefinition schemaname="new_MachineGroupId"><type>100000000</type></environmentvariabledefinition>"#;

fn settings_from(
    solution: &std::path::Path,
    file: &std::path::Path,
    extra: &[&str],
) -> serde_json::Value {
    let mut args = vec![
        "settings",
        "--solution",
        solution.to_str().unwrap(),
        "--file",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[test]
fn settings_reads_a_solution_zip_or_folder_as_create_settings_does() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("Desktop_1_0_0_0.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        ("customizations.xml", CUSTOMIZATIONS),
        (
            "environmentvariabledefinitions/new_MachineGroupId/environmentvariabledefinition.xml",
            VARIABLE,
        ),
        ("solution.xml", "<ImportExportXml/>"),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();

    // From the zip: empty entries for each reference and variable.
    let file = dir.path().join("settings.json");
    let written = settings_from(&zip_path, &file, &[]);
    assert_eq!(
        written["ConnectionReferences"],
        serde_json::json!([
            {"LogicalName": "new_sharedUiflow_5a1b2", "ConnectionId": "", "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_uiflow"},
            {"LogicalName": "new_sharedsharepointonline_9c", "ConnectionId": "", "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}
        ])
    );
    assert_eq!(
        written["EnvironmentVariables"],
        serde_json::json!([{"SchemaName": "new_MachineGroupId", "Value": ""}])
    );

    // A value filled in by hand survives; --uiflow-connection fills the uiflow ones.
    let mut edited = written.clone();
    edited["ConnectionReferences"][1]["ConnectionId"] = "sharepoint-connection".into();
    std::fs::write(&file, edited.to_string()).unwrap();
    let filled = settings_from(
        &zip_path,
        &file,
        &[
            "--uiflow-connection",
            "D4E4A6FF-9A67-492A-A1F6-DE854528668C",
            "--environment-variable",
            "new_MachineGroupId=a4f1c3d2",
        ],
    );
    let ids: Vec<&str> = filled["ConnectionReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ConnectionId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["d4e4a6ff9a67492aa1f6de854528668c", "sharepoint-connection"]
    );
    assert_eq!(filled["EnvironmentVariables"][0]["Value"], "a4f1c3d2");

    // The folder `pac solution unpack` makes gives the same entries.
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir_all(unpacked.join("Other")).unwrap();
    std::fs::create_dir_all(unpacked.join("environmentvariabledefinitions/new_MachineGroupId"))
        .unwrap();
    std::fs::write(unpacked.join("Other/Customizations.xml"), CUSTOMIZATIONS).unwrap();
    std::fs::write(
        unpacked.join(
            "environmentvariabledefinitions/new_MachineGroupId/environmentvariabledefinition.xml",
        ),
        VARIABLE,
    )
    .unwrap();
    let from_folder = settings_from(&unpacked, &dir.path().join("folder.json"), &[]);
    assert_eq!(from_folder, written);

    // Not a solution, and no uiflow reference to fill.
    let not_a_solution = run(&[
        "settings",
        "--solution",
        dir.path().join("settings.json").to_str().unwrap(),
    ]);
    assert_eq!(not_a_solution.status.code(), Some(2));
    assert!(
        stderr(&not_a_solution).contains("is not a solution zip"),
        "{}",
        stderr(&not_a_solution)
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let no_customizations = run(&["settings", "--solution", empty.to_str().unwrap()]);
    assert!(
        stderr(&no_customizations).contains("no customizations.xml"),
        "{}",
        stderr(&no_customizations)
    );
}
