//! What a Power Platform solution needs configured at deployment: its
//! connection references and environment variables, read from the solution
//! zip or from the folder `pac solution unpack` makes, as
//! `pac solution create-settings` reads them.
//!
//! - Connection references are `<connectionreference
//!   connectionreferencelogicalname="...">` elements of `customizations.xml`
//!   (`Other/Customizations.xml` when unpacked), each with a `<connectorid>`.
//! - Environment variables are `environmentvariabledefinitions/<schema>/environmentvariabledefinition.xml`
//!   files whose root `<environmentvariabledefinition schemaname="...">` names them.

use std::io::Read;
use std::path::Path;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// A solution's XML files are small: past this many bytes in all (a zip
/// bomb, say), reading stops with an error.
const MAX_XML_BYTES: u64 = 64 * 1024 * 1024;

fn too_big(path: &Path) -> String {
    format!(
        "{}: its XML files hold more than {} MiB: not a solution this tool reads",
        path.display(),
        MAX_XML_BYTES / (1024 * 1024)
    )
}

/// The entries a deployment settings file needs for a solution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SolutionSettings {
    /// `(LogicalName, ConnectorId)` of each connection reference.
    pub connection_references: Vec<(String, String)>,
    /// The SchemaName of each environment variable.
    pub environment_variables: Vec<String>,
}

/// Reads a solution zip or an unpacked solution folder.
pub fn read(path: &Path) -> Result<SolutionSettings, String> {
    let files = if path.is_dir() {
        folder_files(path)?
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        zip_files(file, path)?
    };
    settings_of(files, path)
}

/// Reads a solution zip held in memory; errors name it `solution.zip`.
pub fn read_zip(bytes: &[u8]) -> Result<SolutionSettings, String> {
    let shown = Path::new("solution.zip");
    settings_of(zip_files(std::io::Cursor::new(bytes), shown)?, shown)
}

/// The settings of a solution's `(name, text)` files; `path` names it in errors.
fn settings_of(files: Vec<(String, String)>, path: &Path) -> Result<SolutionSettings, String> {
    let mut settings = SolutionSettings::default();
    let mut found_customizations = false;
    for (name, text) in files {
        let lower = name.to_ascii_lowercase();
        if lower == "customizations.xml" || lower == "other/customizations.xml" {
            found_customizations = true;
            settings
                .connection_references
                .extend(connection_references(&text).map_err(|e| format!("{name}: {e}"))?);
        } else if lower.ends_with("/environmentvariabledefinition.xml")
            && let Some(schema) = environment_variable(&text).map_err(|e| format!("{name}: {e}"))?
        {
            settings.environment_variables.push(schema);
        }
    }
    if !found_customizations {
        return Err(format!(
            "{} is not a solution: it has no customizations.xml (Other/Customizations.xml when unpacked)",
            path.display()
        ));
    }
    settings.connection_references.sort();
    settings.connection_references.dedup();
    settings.environment_variables.sort();
    settings.environment_variables.dedup();
    Ok(settings)
}

/// Whether a file inside a solution is one this module reads.
fn wanted(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "customizations.xml"
        || lower == "other/customizations.xml"
        || (lower.starts_with("environmentvariabledefinitions/")
            && lower.ends_with("/environmentvariabledefinition.xml"))
}

fn zip_files(zip: impl Read + std::io::Seek, path: &Path) -> Result<Vec<(String, String)>, String> {
    let mut archive = zip::ZipArchive::new(zip)
        .map_err(|e| format!("{} is not a solution zip: {e}", path.display()))?;
    let mut files = Vec::new();
    let mut budget = MAX_XML_BYTES;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let name = entry
            .name()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .replace('\\', "/");
        if !entry.is_file() || !wanted(&name) {
            continue;
        }
        let mut text = String::new();
        let read = entry
            .take(budget + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: cannot read {name}: {e}", path.display()))?;
        budget = budget
            .checked_sub(read as u64)
            .ok_or_else(|| too_big(path))?;
        files.push((name, text));
    }
    Ok(files)
}

fn folder_files(root: &Path) -> Result<Vec<(String, String)>, String> {
    let budget = std::cell::Cell::new(MAX_XML_BYTES);
    let read = |relative: &str, path: &Path| -> Result<(String, String), String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .len();
        budget.set(
            budget
                .get()
                .checked_sub(size)
                .ok_or_else(|| too_big(root))?,
        );
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok((relative.to_owned(), text))
    };
    let mut files = Vec::new();
    for relative in [
        "customizations.xml",
        "Other/Customizations.xml",
        "Other/customizations.xml",
    ] {
        let path = root.join(relative);
        if path.is_file()
            && !files
                .iter()
                .any(|(n, _): &(String, String)| n.eq_ignore_ascii_case(relative))
        {
            files.push(read(relative, &path)?);
        }
    }
    let variables = root.join("environmentvariabledefinitions");
    if let Ok(entries) = std::fs::read_dir(&variables) {
        for entry in entries.flatten() {
            let path = entry.path().join("environmentvariabledefinition.xml");
            if path.is_file() {
                let relative = format!(
                    "environmentvariabledefinitions/{}/environmentvariabledefinition.xml",
                    entry.file_name().to_string_lossy()
                );
                files.push(read(&relative, &path)?);
            }
        }
    }
    Ok(files)
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        if attribute.key.as_ref().eq_ignore_ascii_case(name) {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// `(LogicalName, ConnectorId)` of each `<connectionreference>`.
fn connection_references(xml: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_str(xml);
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    let mut in_connector = false;
    let mut connector = String::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(element) if element.local_name().as_ref() == "connectionreference" => {
                current = attribute(&element, "connectionreferencelogicalname")?;
            }
            Event::Start(element) if element.local_name().as_ref() == "connectorid" => {
                in_connector = current.is_some();
            }
            Event::Text(text) if in_connector => connector.push_str(&text.xml10_content()),
            Event::CData(text) if in_connector => connector.push_str(&text.into_inner()),
            Event::End(element) if element.local_name().as_ref() == "connectorid" => {
                if let Some(name) = current.take().filter(|_| in_connector) {
                    found.push((name, connector.trim().to_owned()));
                }
                connector.clear();
                in_connector = false;
            }
            Event::End(element) if element.local_name().as_ref() == "connectionreference" => {
                current = None;
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
    }
}

/// The `schemaname` of an `<environmentvariabledefinition>` root.
fn environment_variable(xml: &str) -> Result<Option<String>, String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(element) | Event::Empty(element)
                if element.local_name().as_ref() == "environmentvariabledefinition" =>
            {
                return attribute(&element, "schemaname");
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMIZATIONS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Entities />
  <connectionreferences>
    <connectionreference connectionreferencelogicalname="new_sharedUiflow_5a1b2">
      <connectionreferencedisplayname>Desktop flows</connectionreferencedisplayname>
      <connectorid>/providers/Microsoft.PowerApps/apis/shared_uiflow</connectorid>
      <iscustomizable>1</iscustomizable>
    </connectionreference>
    <connectionreference connectionreferencelogicalname="new_sharedsharepointonline_9c">
      <connectorid>/providers/Microsoft.PowerApps/apis/shared_sharepointonline</connectorid>
    </connectionreference>
  </connectionreferences>
</ImportExportXml>"#;

    #[test]
    fn reads_connection_references_with_their_connectors() {
        assert_eq!(
            connection_references(CUSTOMIZATIONS).unwrap(),
            [
                (
                    "new_sharedUiflow_5a1b2".to_owned(),
                    "/providers/Microsoft.PowerApps/apis/shared_uiflow".to_owned()
                ),
                (
                    "new_sharedsharepointonline_9c".to_owned(),
                    "/providers/Microsoft.PowerApps/apis/shared_sharepointonline".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn reads_an_environment_variables_schema_name() {
        let xml = r#"<environmentvariabledefinition schemaname="new_MachineGroupId" xmlns:xsi="x"><type>100000000</type></environmentvariabledefinition>"#;
        assert_eq!(
            environment_variable(xml).unwrap().as_deref(),
            Some("new_MachineGroupId")
        );
    }

    #[test]
    fn a_connector_id_may_be_cdata() {
        let xml = r#"<a><connectionreference connectionreferencelogicalname="new_x"><connectorid><![CDATA[/providers/Microsoft.PowerApps/apis/shared_uiflow]]></connectorid></connectionreference></a>"#;
        assert_eq!(
            connection_references(xml).unwrap(),
            [(
                "new_x".to_owned(),
                "/providers/Microsoft.PowerApps/apis/shared_uiflow".to_owned()
            )]
        );
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        assert!(connection_references("<a><b></a>").is_err());
    }
}
