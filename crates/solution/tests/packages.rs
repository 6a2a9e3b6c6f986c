//! The package reader against the real zips of Microsoft's Terraform
//! provider (tests/zips/README.md), solutions written by [`SolutionZip`],
//! and the inputs an attacker sends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use padconnect_solution::write::SolutionZip;
use padconnect_solution::{Package, PackageError, Version, WorkflowCategory};
use uuid::Uuid;

fn real(name: &str) -> Package {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/zips")
        .join(name);
    Package::from_zip(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_complex_zip_reads_as_its_stage_answer_lists_it() {
    let package = real("TerraformTestSolution_Complex_1_1_0_0.zip");
    let m = &package.manifest;
    assert_eq!(m.unique_name, "TerraformTestSolution");
    assert_eq!(m.display_name, "Terraform Test Solution");
    assert_eq!(m.version, Version::new(1, 1, 0, 0));
    assert!(!m.managed);
    assert_eq!(m.publisher.unique_name, "Crefda7");
    assert_eq!(m.publisher.display_name, "CDS Default Publisher");
    assert_eq!(m.publisher.prefix, "cra6e");
    assert!(m.missing_dependencies.is_empty());
    let c = &package.components;
    assert_eq!(c.connection_references.len(), 1);
    let reference = &c.connection_references[0];
    assert_eq!(
        reference.logical_name,
        "cra6e_ConnectionReferenceSharePoint"
    );
    assert_eq!(reference.display_name, "ConnectionReferenceSharePoint");
    assert_eq!(
        reference.connector_id,
        "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"
    );
    let names: Vec<(&str, i64)> = c
        .environment_variables
        .iter()
        .map(|v| (v.declaration.schema_name.as_str(), v.declaration.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("cra6e_SolutionVariableDataSource", 100000004),
            ("cra6e_SolutionVariableJson", 100000003),
            ("cra6e_SolutionVariableText", 100000000)
        ]
    );
    let text = &c.environment_variables[2];
    assert_eq!(
        text.declaration.default_value.as_deref(),
        Some("This is a text")
    );
    assert_eq!(text.value.as_ref().unwrap().value, "tet1");
    assert_eq!(
        text.value.as_ref().unwrap().id,
        Some("54f916a1-bc98-ed11-aad1-000d3aba63e9".parse().unwrap())
    );
    let source = &c.environment_variables[0];
    assert_eq!(source.declaration.parameter_key.as_deref(), Some("dataset"));
    assert_eq!(
        source.declaration.display_name,
        "SolutionVariableDataSource"
    );
    assert!(c.environment_variables[1].value.is_none());
    assert!(c.workflows.is_empty());
}

#[test]
fn the_managed_zips_read_as_managed() {
    let simple = real("TerraformSimpleTestSolution_1_0_0_1_managed.zip");
    assert!(simple.manifest.managed);
    assert_eq!(simple.manifest.version, Version::new(1, 0, 0, 1));
    assert!(simple.components.connection_references.is_empty());
    let unmanaged = real("TerraformSolutionExample_1_0_0_1.zip");
    let managed = real("TerraformSolutionExample_1_0_0_1_managed.zip");
    assert!(!unmanaged.manifest.managed && managed.manifest.managed);
    assert_eq!(managed.manifest.unique_name, "TerraformSolutionExample");
    assert_eq!(managed.manifest.publisher.prefix, "terr");
    assert_eq!(
        managed.components.connection_references[0].connector_id,
        "/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps"
    );
    assert_eq!(managed.components.environment_variables.len(), 3);
}

#[test]
fn a_written_desktop_flow_solution_reads_back() {
    let cloud = Uuid::new_v4();
    let desktop = Uuid::new_v4();
    let zip = SolutionZip::new("PayrollBot", Version::new(1, 2, 0, 0))
        .connection_reference("new_sharedUiflow_5a1b2", "shared_uiflow")
        .cloud_flow(cloud, "Run payroll & report", &["new_sharedUiflow_5a1b2"])
        .desktop_flow(desktop, "Payroll export")
        .environment_variable("new_MachineGroupId", 100000000, None)
        .missing_dependency("new_payrolltable", "Payroll Tables (1.0.0.0)")
        .build()
        .unwrap();
    let package = Package::from_zip(&zip).unwrap();
    let flows = &package.components.workflows;
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].id, cloud);
    assert_eq!(flows[0].name, "Run payroll & report");
    assert_eq!(flows[0].category, WorkflowCategory::CloudFlow);
    assert_eq!(flows[0].connection_references, ["new_sharedUiflow_5a1b2"]);
    assert!(
        flows[0]
            .client_data
            .as_deref()
            .unwrap()
            .contains("connectionReferences")
    );
    assert_eq!(flows[1].category, WorkflowCategory::DesktopFlow);
    assert_eq!(flows[1].ui_flow_type, Some(2));
    let missing = &package.manifest.missing_dependencies[0];
    assert_eq!(missing.required.schema_name, "new_payrolltable");
    assert_eq!(
        missing.required.solution,
        Some(("Payroll Tables".to_owned(), Some(Version::new(1, 0, 0, 0))))
    );
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[u8] = b"<Types/>";
const SOLUTION: &[u8] = b"<ImportExportXml><SolutionManifest><UniqueName>x</UniqueName><Version>1.0.0.0</Version><Managed>0</Managed></SolutionManifest></ImportExportXml>";

#[test]
fn what_is_not_a_solution_is_refused_with_the_import_error() {
    let not_zip = Package::from_zip(b"PK\x03\x04 not really").unwrap_err();
    assert_eq!(not_zip.name(), "ImportCustomizationsBadZipFileError");

    let no_customizations = Package::from_zip(&zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
    ]))
    .unwrap_err();
    assert_eq!(
        no_customizations,
        PackageError::MissingFile("customizations.xml")
    );
    assert_eq!(no_customizations.code(), "0x80048060");

    let malformed = Package::from_zip(&zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
        (
            "customizations.xml",
            b"<ImportExportXml><Workflows></ImportExportXml>",
        ),
    ]))
    .unwrap_err();
    assert_eq!(malformed.name(), "ImportInvalidXmlError");
    assert_eq!(malformed.code(), "0x8004802C");

    let bad_version = Package::from_zip(&zip_of(&[
        ("solution.xml", b"<ImportExportXml><SolutionManifest><UniqueName>x</UniqueName><Version>one</Version></SolutionManifest></ImportExportXml>"),
        ("[Content_Types].xml", CONTENT_TYPES),
        ("customizations.xml", b"<ImportExportXml/>"),
    ]))
    .unwrap_err();
    assert!(
        bad_version.to_string().contains("'one' is not a version"),
        "{bad_version}"
    );
}

/// Two files of one name leave which one counts to the reader, so a
/// package with them is refused, whether the names match exactly or only
/// with case ignored, as the Open Packaging Conventions compare them.
#[test]
fn a_file_named_twice_is_refused() {
    let customizations = b"<ImportExportXml/>".as_slice();
    let solution = |second: &'static str| {
        zip_of(&[
            ("solution.xml", SOLUTION),
            ("[Content_Types].xml", CONTENT_TYPES),
            ("customizations.xml", customizations),
            (second, customizations),
        ])
    };
    assert!(Package::from_zip(&solution("Workflows/a.json")).is_ok());

    let by_case = Package::from_zip(&solution("Customizations.XML")).unwrap_err();
    assert_eq!(
        by_case,
        PackageError::DuplicateFile(Some("Customizations.XML".into()))
    );
    assert!(
        by_case
            .to_string()
            .contains("more than one file named Customizations.XML"),
        "{by_case}"
    );
    assert_eq!(
        (by_case.name(), by_case.code()),
        ("ImportCustomizationsBadZipFileError", "0x80048060")
    );

    // The zip writer refuses a name it has written, so the second name is
    // made the first's in the bytes (a zip's checksums do not cover names).
    let mut exact = solution("customizationz.xml");
    let (from, to) = (b"customizationz.xml", b"customizations.xml");
    let mut patched = 0;
    while let Some(at) = exact.windows(from.len()).position(|w| w == from) {
        exact[at..at + from.len()].copy_from_slice(to);
        patched += 1;
    }
    assert_eq!(patched, 2, "the local header and the central directory");
    let exact = Package::from_zip(&exact).unwrap_err();
    assert_eq!(exact, PackageError::DuplicateFile(None));
    assert!(
        exact
            .to_string()
            .contains("one file name twice in its directory"),
        "{exact}"
    );
}

#[test]
fn deep_nesting_and_entities_are_refused() {
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let error = Package::from_zip(&zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
        ("customizations.xml", deep.as_bytes()),
    ]))
    .unwrap_err();
    assert!(
        error.to_string().contains("nested more than 128 deep"),
        "{error}"
    );

    let entity = Package::from_zip(&zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
        (
            "customizations.xml",
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        ),
    ]))
    .unwrap_err();
    assert_eq!(entity.name(), "ImportInvalidXmlError");
}

#[test]
fn a_zip_bomb_stops_at_the_budget() {
    // 65 MiB of spaces deflate to about 65 KiB.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "customizations.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..65 {
        zip.write_all(&block).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let error = Package::from_zip(&bomb).unwrap_err();
    assert!(matches!(error, PackageError::TooLarge(_)), "{error}");
}

#[test]
fn a_connector_id_may_be_cdata_and_text_may_hold_references() {
    let package = Package::from_zip(&zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
        (
            "customizations.xml",
            br#"<ImportExportXml><connectionreferences><connectionreference connectionreferencelogicalname="new_x"><connectionreferencedisplayname>R&amp;D &#x263A;</connectionreferencedisplayname><connectorid><![CDATA[/providers/Microsoft.PowerApps/apis/shared_uiflow]]></connectorid></connectionreference></connectionreferences></ImportExportXml>"#,
        ),
    ]))
    .unwrap();
    let reference = &package.components.connection_references[0];
    assert_eq!(
        reference.connector_id,
        "/providers/Microsoft.PowerApps/apis/shared_uiflow"
    );
    assert_eq!(reference.display_name, "R&D \u{263a}");
}

#[test]
fn a_flow_id_or_definition_file_given_twice_is_refused() {
    let id = Uuid::new_v4();
    let twice = SolutionZip::new("Twice", Version::new(1, 0, 0, 0))
        .desktop_flow(id, "One")
        .desktop_flow(id, "Two")
        .build()
        .unwrap();
    let error = Package::from_zip(&twice).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("is given to two <Workflow> elements"),
        "{error}"
    );

    let package = SolutionZip::new("Files", Version::new(1, 0, 0, 0))
        .desktop_flow(Uuid::new_v4(), "One")
        .build()
        .unwrap();
    let files = Package::from_zip(&package).unwrap();
    let file = format!(
        "/Workflows/One-{}.json",
        files.components.workflows[0]
            .id
            .to_string()
            .to_ascii_uppercase()
    );
    let xml = format!(
        r#"<ImportExportXml><Workflows><Workflow WorkflowId="{{{}}}" Name="a"><JsonFileName>{file}</JsonFileName><Category>6</Category></Workflow><Workflow WorkflowId="{{{}}}" Name="b"><JsonFileName>{file}</JsonFileName><Category>6</Category></Workflow></Workflows></ImportExportXml>"#,
        Uuid::new_v4(),
        Uuid::new_v4()
    );
    let json = files.components.workflows[0].client_data.clone().unwrap();
    let shared = zip_of(&[
        ("solution.xml", SOLUTION),
        ("[Content_Types].xml", CONTENT_TYPES),
        ("customizations.xml", xml.as_bytes()),
        (&file[1..], json.as_bytes()),
    ]);
    let error = Package::from_zip(&shared).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("two flows name the definition file"),
        "{error}"
    );
}

#[test]
fn values_are_checked_against_their_type() {
    use padconnect_solution::value_fits;
    assert!(value_fits(100000001, "n", "3.5").is_ok());
    assert!(
        value_fits(100000001, "n", "three")
            .unwrap_err()
            .contains("not a number")
    );
    assert!(value_fits(100000002, "b", "Yes").is_ok());
    assert!(value_fits(100000002, "b", "maybe").is_err());
    assert!(value_fits(100000003, "j", "{\"a\":1}").is_ok());
    assert!(value_fits(100000003, "j", "{a").is_err());
    assert!(
        value_fits(
            100000005,
            "s",
            "/subscriptions/1/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/secrets/x"
        )
        .is_ok()
    );
    assert!(value_fits(100000005, "s", "hunter2").is_err());
    assert!(value_fits(100000000, "t", "anything").is_ok());
    assert!(value_fits(100000001, "n", "").is_ok());
}
