//! A streaming walk over an XML file that hands each element's path,
//! attributes and text to a visitor. Streaming keeps memory to the size of
//! the file; the path is capped, so a deeply nested file is refused, not
//! followed.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::PackageError;

/// Deeper than any file a solution export writes (forms are the deepest,
/// at about twenty).
pub const MAX_DEPTH: usize = 128;

/// An element's attributes, by local name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Attributes(Vec<(String, String)>);

impl Attributes {
    /// The value of the attribute `name` (ASCII case ignored, as the
    /// exports are not consistent: `WorkflowId`, `schemaname`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the walk meets, with the path of local names from the root down
/// to the element concerned.
pub enum Step<'a> {
    Open {
        path: &'a [String],
        attributes: Attributes,
    },
    /// Text (CDATA and references resolved) directly inside the element.
    Text {
        path: &'a [String],
        text: &'a str,
    },
    Close {
        path: &'a [String],
    },
}

/// Walks `xml` (the file `file` of the package), calling `visit` for each step.
pub fn walk(
    file: &str,
    xml: &str,
    mut visit: impl FnMut(Step<'_>) -> Result<(), PackageError>,
) -> Result<(), PackageError> {
    let invalid = |detail: String| PackageError::InvalidXml {
        file: file.to_owned(),
        detail,
    };
    let mut reader = Reader::from_str(xml.strip_prefix('\u{feff}').unwrap_or(xml));
    let mut path: Vec<String> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| invalid(format!("at byte {}: {e}", reader.error_position())))?;
        // An empty element (`<a/>`) is one that opens and closes at once.
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(element) | Event::Empty(element) => {
                let attributes = attributes(&element).map_err(&invalid)?;
                open(&mut path, &element).map_err(&invalid)?;
                visit(Step::Open {
                    path: &path,
                    attributes,
                })?;
                if empty {
                    visit(Step::Close { path: &path })?;
                    path.pop();
                }
            }
            Event::End(_) => {
                visit(Step::Close { path: &path })?;
                path.pop();
            }
            Event::Text(text) => text_step(&path, &text.xml10_content(), &mut visit)?,
            Event::CData(text) => text_step(&path, &text.xml10_content(), &mut visit)?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        Cow::Borrowed(resolve_predefined_entity(&name).ok_or_else(|| {
                            invalid(format!("the entity '&{name};' is not one XML predefines"))
                        })?)
                    }
                    Err(e) => return Err(invalid(e.to_string())),
                };
                text_step(&path, &resolved, &mut visit)?;
            }
            Event::DocType(_) => {
                return Err(invalid(
                    "a DOCTYPE declaration: solution files have none".into(),
                ));
            }
            Event::Eof if path.is_empty() => return Ok(()),
            Event::Eof => return Err(invalid(format!("<{}> is never closed", path.join("/")))),
            _ => {}
        }
    }
}

fn open(path: &mut Vec<String>, element: &BytesStart<'_>) -> Result<(), String> {
    if path.len() >= MAX_DEPTH {
        return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
    }
    path.push(element.local_name().as_ref().to_owned());
    Ok(())
}

fn text_step(
    path: &[String],
    text: &str,
    visit: &mut impl FnMut(Step<'_>) -> Result<(), PackageError>,
) -> Result<(), PackageError> {
    if path.is_empty() || text.is_empty() {
        return Ok(());
    }
    visit(Step::Text { path, text })
}

fn attributes(element: &BytesStart<'_>) -> Result<Attributes, String> {
    let mut found = Vec::new();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        found.push((
            attribute.key.local_name().as_ref().to_owned(),
            value.into_owned(),
        ));
    }
    Ok(Attributes(found))
}

/// Whether `path` ends with the names of `tail` (ASCII case ignored).
pub fn ends_with(path: &[String], tail: &[&str]) -> bool {
    path.len() >= tail.len()
        && path[path.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}
