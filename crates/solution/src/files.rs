//! The files of a package that this crate reads, from a zip or a folder,
//! under one budget of bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use crate::PackageError;

pub const SOLUTION: &str = "solution.xml";
pub const CUSTOMIZATIONS: &str = "customizations.xml";
pub const CONTENT_TYPES: &str = "[Content_Types].xml";
pub const VARIABLES: &str = "environmentvariabledefinitions/";

/// The most bytes read out of a package, all files together: the XML and
/// JSON of a solution are far smaller; a zip bomb stops here.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

/// The most entries a zip may list: a solution of ten thousand flows has
/// about twenty thousand.
pub const MAX_ENTRIES: usize = 50_000;

/// A package's files that this crate reads, by their path in the zip with
/// `/` separators and no leading `/`; looked up ignoring ASCII case, as
/// exports differ (`Other/Customizations.xml` unpacked, `customizations.xml`
/// zipped).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Files {
    by_lower_name: BTreeMap<String, (String, String)>,
}

impl Files {
    /// The file at `name`, ASCII case ignored.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.by_lower_name
            .get(&name.to_ascii_lowercase())
            .map(|(_, text)| text.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.by_lower_name.contains_key(&name.to_ascii_lowercase())
    }

    /// `(name as written, text)` of the files under `folder` (lower case,
    /// ending in `/`).
    pub fn under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.by_lower_name
            .range(folder.to_owned()..)
            .take_while(move |(lower, _)| lower.starts_with(folder))
            .map(|(_, (name, text))| (name.as_str(), text.as_str()))
    }

    fn insert(&mut self, name: String, text: String) {
        self.by_lower_name
            .insert(name.to_ascii_lowercase(), (name, text));
    }

    /// Reads a solution zip held in memory.
    pub fn from_zip(bytes: &[u8]) -> Result<Self, PackageError> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| PackageError::NotAZip(e.to_string()))?;
        if archive.len() > MAX_ENTRIES {
            return Err(PackageError::TooLarge(format!(
                "it lists {} files, more than the {MAX_ENTRIES} a solution has",
                archive.len()
            )));
        }
        // A package holds each part name once, ASCII case ignored (Open
        // Packaging Conventions, ECMA-376 Part 2, M1.12), and .NET's
        // System.IO.Packaging refuses one that does not: two files of one
        // name would leave which one is imported to the reader. The zip
        // reader keeps one entry of each exact name and says it dropped
        // some; names that differ by case are compared below.
        if archive.has_duplicate_names() {
            return Err(PackageError::DuplicateFile(None));
        }
        let mut files = Self::default();
        let mut budget = Budget(MAX_UNPACKED_BYTES);
        let mut parts = BTreeSet::new();
        for index in 0..archive.len() {
            let entry = archive
                .by_index(index)
                .map_err(|e| PackageError::NotAZip(e.to_string()))?;
            let Some(name) = entry.name().ok().map(|n| normalize(&n)) else {
                continue;
            };
            if !entry.is_file() {
                continue;
            }
            if !parts.insert(name.to_ascii_lowercase()) {
                return Err(PackageError::DuplicateFile(Some(name)));
            }
            if !wanted(&name) {
                continue;
            }
            let mut bytes = Vec::new();
            entry
                .take(budget.0 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| PackageError::NotAZip(format!("cannot unpack {name}: {e}")))?;
            budget.spend(bytes.len() as u64)?;
            files.insert(name.clone(), text(&name, bytes)?);
        }
        Ok(files)
    }

    /// Reads the folder `pac solution unpack` makes: `Other/Solution.xml`
    /// and `Other/Customizations.xml` stand for the zip's root files.
    pub fn from_folder(root: &Path) -> Result<Self, PackageError> {
        let mut files = Self::default();
        let mut budget = Budget(MAX_UNPACKED_BYTES);
        let mut read = |zip_name: &str, path: &Path| -> Result<(), PackageError> {
            let size = std::fs::metadata(path)
                .map_err(|e| PackageError::invalid(zip_name, e.to_string()))?
                .len();
            budget.spend(size)?;
            let bytes =
                std::fs::read(path).map_err(|e| PackageError::invalid(zip_name, e.to_string()))?;
            files.insert(zip_name.to_owned(), text(zip_name, bytes)?);
            Ok(())
        };
        for (zip_name, candidates) in [
            (SOLUTION, ["solution.xml", "Other/Solution.xml"]),
            (
                CUSTOMIZATIONS,
                ["customizations.xml", "Other/Customizations.xml"],
            ),
        ] {
            if let Some(path) = candidates
                .iter()
                .map(|c| root.join(c))
                .find(|p| p.is_file())
            {
                read(zip_name, &path)?;
            }
        }
        for folder in ["environmentvariabledefinitions", "Workflows"] {
            for path in files_below(&root.join(folder), 2) {
                let Ok(relative) = path.strip_prefix(root) else {
                    continue;
                };
                let name = normalize(&relative.to_string_lossy());
                if wanted(&name) {
                    read(&name, &path)?;
                }
            }
        }
        Ok(files)
    }
}

struct Budget(u64);

impl Budget {
    fn spend(&mut self, bytes: u64) -> Result<(), PackageError> {
        self.0 = self.0.checked_sub(bytes).ok_or_else(|| {
            PackageError::TooLarge(format!(
                "its XML and JSON files hold more than {} MiB once unpacked",
                MAX_UNPACKED_BYTES / (1024 * 1024)
            ))
        })?;
        Ok(())
    }
}

/// `\` to `/`, no leading `/`.
fn normalize(name: &str) -> String {
    name.replace('\\', "/").trim_start_matches('/').to_owned()
}

/// Whether a file is one the package's readers look at.
fn wanted(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == SOLUTION
        || lower == CUSTOMIZATIONS
        || lower == CONTENT_TYPES.to_ascii_lowercase()
        || (lower.starts_with(VARIABLES)
            && (lower.ends_with("/environmentvariabledefinition.xml")
                || lower.ends_with("/environmentvariablevalues.json")))
        || (lower.starts_with("workflows/") && lower.ends_with(".json"))
}

/// UTF-8 text, without a byte-order mark.
fn text(name: &str, bytes: Vec<u8>) -> Result<String, PackageError> {
    let text = String::from_utf8(bytes).map_err(|_| PackageError::InvalidXml {
        file: name.to_owned(),
        detail: "not UTF-8".into(),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Regular files at most `depth` folders below `folder`, in name order.
fn files_below(folder: &Path, depth: usize) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_file() => found.push(path),
            Ok(kind) if kind.is_dir() && depth > 1 => found.extend(files_below(&path, depth - 1)),
            _ => {}
        }
    }
    found.sort();
    found
}
