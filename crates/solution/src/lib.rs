//! A Power Platform solution package, read as Dataverse reads it on import
//! and as `pac solution create-settings` reads it: the zip a solution export
//! makes, or the folder `pac solution unpack` makes.
//!
//! - [`Files`]: the package's files this crate reads, taken from a zip or a
//!   folder within a budget of bytes, so a zip bomb stops at the budget;
//! - [`Manifest`] (`solution.xml`): name, version, managed or not,
//!   publisher, and the dependencies the export declared missing;
//! - [`Components`] (`customizations.xml`, `environmentvariabledefinitions/`,
//!   `Workflows/*.json`): connection references, environment variables and
//!   flows with the connection references each uses.
//!
//! The format is documented in docs/evidence/solution-import.md, section 4,
//! read from the five real zips of Microsoft's Terraform provider and an
//! unpacked solution of Microsoft's CoE starter kit.

mod components;
mod files;
mod manifest;
mod version;
pub mod write;
pub mod xml;

pub use components::{
    Components, ConnectionReference, EnvironmentVariable, MAX_COMPONENTS, PackagedValue, Workflow,
    WorkflowCategory, connector_name, references_used, value_fits,
};
pub use files::{Files, MAX_ENTRIES, MAX_UNPACKED_BYTES};
pub use manifest::{Dependency, DependencyComponent, Manifest, Publisher};
pub use version::Version;

/// A whole package, as an import needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub manifest: Manifest,
    pub components: Components,
}

impl Package {
    /// Reads a solution zip held in memory.
    pub fn from_zip(bytes: &[u8]) -> Result<Self, PackageError> {
        Self::from_files(&Files::from_zip(bytes)?)
    }

    /// Reads the files of a package: `solution.xml`, `customizations.xml`
    /// and `[Content_Types].xml` must be at its root (Dataverse's
    /// ImportCustomizationsBadZipFileError names these three).
    pub fn from_files(files: &Files) -> Result<Self, PackageError> {
        for required in [files::SOLUTION, files::CUSTOMIZATIONS, files::CONTENT_TYPES] {
            if !files.has(required) {
                return Err(PackageError::MissingFile(required));
            }
        }
        Ok(Self {
            manifest: Manifest::read(files)?,
            components: Components::read(files)?,
        })
    }
}

/// Why a package cannot be read. Each kind is one of Dataverse's import
/// errors (web-service-error-codes, docs/evidence/solution-import.md 2.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// Not a zip at all (ImportCustomizationsBadZipFileError).
    #[error("The solution file is invalid: it is not a zip file ({0}).")]
    NotAZip(String),
    /// A file every package has is missing (ImportCustomizationsBadZipFileError).
    #[error(
        "The solution file is invalid. The compressed file must contain the following files at its root: solution.xml, customizations.xml, and [Content_Types].xml. It has no {0}."
    )]
    MissingFile(&'static str),
    /// Two files of one name, ASCII case ignored (ImportCustomizationsBadZipFileError).
    ///
    /// It holds the name where the names differ by case: the zip reader
    /// keeps one entry of each exact name, and says only that it dropped some.
    #[error("{}", duplicate_file(.0.as_deref()))]
    DuplicateFile(Option<String>),
    /// More than the budget once unpacked, or too many entries: a zip bomb
    /// or not a solution.
    #[error("The solution file is invalid: {0}.")]
    TooLarge(String),
    /// A file that is not well-formed XML or JSON (ImportInvalidXmlError).
    #[error(
        "This solution package cannot be imported because it contains invalid XML: {file}: {detail}"
    )]
    InvalidXml { file: String, detail: String },
    /// Well-formed, but a value the import needs is missing or wrong.
    #[error("The solution file is invalid: {file}: {detail}")]
    Invalid { file: String, detail: String },
}

fn duplicate_file(name: Option<&str>) -> String {
    let what = match name {
        Some(name) => format!("more than one file named {name}, names compared ignoring case"),
        None => "one file name twice in its directory".to_owned(),
    };
    format!(
        "The solution file is invalid: it holds {what}. Export the solution again, or pack it with each file once."
    )
}

impl PackageError {
    /// Dataverse's name of the error: `ImportCustomizationsBadZipFileError`,
    /// `ImportInvalidXmlError`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotAZip(_)
            | Self::MissingFile(_)
            | Self::DuplicateFile(_)
            | Self::TooLarge(_) => "ImportCustomizationsBadZipFileError",
            Self::InvalidXml { .. } | Self::Invalid { .. } => "ImportInvalidXmlError",
        }
    }

    /// Dataverse's code of the error, as the Web API writes it.
    pub fn code(&self) -> &'static str {
        match self.name() {
            "ImportCustomizationsBadZipFileError" => "0x80048060",
            _ => "0x8004802C",
        }
    }

    pub(crate) fn invalid(file: &str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            file: file.to_owned(),
            detail: detail.into(),
        }
    }
}
