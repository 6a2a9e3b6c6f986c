//! What a Power Platform solution needs configured at deployment: its
//! connection references and environment variables, read from the solution
//! zip or from the folder `pac solution unpack` makes, as
//! `pac solution create-settings` reads them.
//!
//! The package is read by `padconnect-solution`, as the platform reads it
//! on import.

use std::path::Path;

use padconnect_solution::{Components, Files, PackageError};

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
        Files::from_folder(path)
    } else {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Files::from_zip(&bytes)
    };
    settings_of(files, path)
}

/// Reads a solution zip held in memory; errors name it `solution.zip`.
pub fn read_zip(bytes: &[u8]) -> Result<SolutionSettings, String> {
    settings_of(Files::from_zip(bytes), Path::new("solution.zip"))
}

fn settings_of(
    files: Result<Files, PackageError>,
    path: &Path,
) -> Result<SolutionSettings, String> {
    let shown = path.display();
    let components = files.and_then(|files| Components::read(&files)).map_err(|e| match e {
        PackageError::NotAZip(detail) => format!("{shown} is not a solution zip: {detail}"),
        PackageError::MissingFile(_) => format!(
            "{shown} is not a solution: it has no customizations.xml (Other/Customizations.xml when unpacked)"
        ),
        other => format!("{shown}: {other}"),
    })?;
    Ok(SolutionSettings {
        connection_references: components
            .connection_references
            .into_iter()
            .map(|r| (r.logical_name, r.connector_id))
            .collect(),
        environment_variables: components
            .environment_variables
            .into_iter()
            .map(|v| v.declaration.schema_name)
            .collect(),
    })
}
