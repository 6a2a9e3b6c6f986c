//! `solution.xml`: `ImportExportXml/SolutionManifest`, its name, version,
//! managed flag, publisher, and the `MissingDependencies` the export wrote.

use crate::PackageError;
use crate::files::{Files, SOLUTION};
use crate::version::Version;
use crate::xml::{self, Attributes, Step, ends_with};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `UniqueName`: the solution's key in an environment.
    pub unique_name: String,
    /// The first `LocalizedNames/LocalizedName@description`, else the unique name.
    pub display_name: String,
    pub version: Version,
    /// `Managed` 1 (managed) or 0 (unmanaged).
    pub managed: bool,
    pub publisher: Publisher,
    pub missing_dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publisher {
    pub unique_name: String,
    pub display_name: String,
    /// `CustomizationPrefix`: `cra6e`.
    pub prefix: String,
}

/// A `MissingDependency`: a component this solution needs (`Required`) for
/// one of its own (`Dependent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub required: DependencyComponent,
    pub dependent: DependencyComponent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DependencyComponent {
    /// The component type code (`1` a table, `29` a flow).
    pub kind: String,
    pub schema_name: String,
    pub display_name: String,
    /// `solution="Name (1.0.0.0)"`: the solution that brings it, and its version.
    pub solution: Option<(String, Option<Version>)>,
}

impl DependencyComponent {
    fn from_attributes(attributes: &Attributes) -> Self {
        let text = |name| attributes.get(name).unwrap_or_default().to_owned();
        Self {
            kind: text("type"),
            schema_name: attributes
                .get("schemaName")
                .or_else(|| attributes.get("id"))
                .unwrap_or_default()
                .to_owned(),
            display_name: text("displayName"),
            solution: attributes.get("solution").map(solution_and_version),
        }
    }
}

/// `Name (1.0.0.0)` or `Name`.
fn solution_and_version(text: &str) -> (String, Option<Version>) {
    match text.trim().rsplit_once(" (") {
        Some((name, version)) => (
            name.trim().to_owned(),
            version.trim_end_matches(')').parse().ok(),
        ),
        None => (text.trim().to_owned(), None),
    }
}

impl Manifest {
    pub fn read(files: &Files) -> Result<Self, PackageError> {
        let xml = files
            .get(SOLUTION)
            .ok_or(PackageError::MissingFile(SOLUTION))?;
        let mut fields = Fields::default();
        xml::walk(SOLUTION, xml, |step| {
            fields.take(step);
            Ok(())
        })?;
        fields.into_manifest()
    }
}

#[derive(Default)]
struct Fields {
    unique_name: String,
    display_name: Option<String>,
    version: String,
    managed: String,
    publisher: Publisher,
    publisher_display: Option<String>,
    dependencies: Vec<Dependency>,
    /// The `Required` of the `MissingDependency` being read.
    required: Option<DependencyComponent>,
    seen_manifest: bool,
}

impl Fields {
    fn take(&mut self, step: Step<'_>) {
        const MANIFEST: [&str; 2] = ["ImportExportXml", "SolutionManifest"];
        match step {
            Step::Open { path, .. } if path.len() == 2 && ends_with(path, &MANIFEST) => {
                self.seen_manifest = true;
            }
            Step::Open { path, attributes } if path.len() == 4 || path.len() == 5 => {
                let description = attributes.get("description").map(str::to_owned);
                if path.len() == 4
                    && ends_with(
                        path,
                        &["SolutionManifest", "LocalizedNames", "LocalizedName"],
                    )
                {
                    self.display_name = self.display_name.take().or(description);
                } else if ends_with(path, &["Publisher", "LocalizedNames", "LocalizedName"]) {
                    self.publisher_display = self.publisher_display.take().or(description);
                } else if ends_with(
                    path,
                    &["MissingDependencies", "MissingDependency", "Required"],
                ) {
                    self.required = Some(DependencyComponent::from_attributes(&attributes));
                } else if ends_with(
                    path,
                    &["MissingDependencies", "MissingDependency", "Dependent"],
                ) && let Some(required) = self.required.take()
                {
                    self.dependencies.push(Dependency {
                        required,
                        dependent: DependencyComponent::from_attributes(&attributes),
                    });
                }
            }
            Step::Text { path, text } if path.len() == 3 => {
                let slot = match path[2].as_str() {
                    "UniqueName" => &mut self.unique_name,
                    "Version" => &mut self.version,
                    "Managed" => &mut self.managed,
                    _ => return,
                };
                slot.push_str(text);
            }
            Step::Text { path, text } if path.len() == 4 && path[2] == "Publisher" => {
                let slot = match path[3].as_str() {
                    "UniqueName" => &mut self.publisher.unique_name,
                    "CustomizationPrefix" => &mut self.publisher.prefix,
                    _ => return,
                };
                slot.push_str(text);
            }
            _ => {}
        }
    }

    fn into_manifest(self) -> Result<Manifest, PackageError> {
        let invalid = |detail: &str| PackageError::invalid(SOLUTION, detail);
        if !self.seen_manifest {
            return Err(invalid("it has no ImportExportXml/SolutionManifest"));
        }
        let unique_name = self.unique_name.trim().to_owned();
        if unique_name.is_empty() {
            return Err(invalid("the manifest has no UniqueName"));
        }
        let version = self
            .version
            .parse()
            .map_err(|e: String| invalid(&format!("Version: {e}")))?;
        let managed = match self.managed.trim() {
            "0" | "" => false,
            "1" | "2" => true,
            other => return Err(invalid(&format!("Managed is '{other}', not 0 or 1"))),
        };
        let mut publisher = self.publisher;
        publisher.unique_name = publisher.unique_name.trim().to_owned();
        publisher.prefix = publisher.prefix.trim().to_owned();
        publisher.display_name = self
            .publisher_display
            .unwrap_or_else(|| publisher.unique_name.clone());
        Ok(Manifest {
            display_name: self.display_name.unwrap_or_else(|| unique_name.clone()),
            unique_name,
            version,
            managed,
            publisher,
            missing_dependencies: self.dependencies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_names_its_solution_and_version() {
        assert_eq!(
            solution_and_version("Base Tables (1.2.0.0)"),
            ("Base Tables".to_owned(), Some(Version::new(1, 2, 0, 0)))
        );
        assert_eq!(solution_and_version("Active"), ("Active".to_owned(), None));
    }
}
