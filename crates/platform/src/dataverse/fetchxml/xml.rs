//! FetchXML read into a small element tree, bounded: the text's length, the
//! nesting depth and the number of elements are capped before anything is
//! interpreted, so a hostile query costs at most a bounded parse.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{Refusal, codes};

/// The longest FetchXML taken: Dataverse's limit on a request's URL. A GET
/// with a longer query is refused before it is read (414); one inside a
/// `$batch` body, where URLs may be longer, reaches this limit.
pub const MAX_LENGTH: usize = crate::dataverse::MAX_URL_CHARS;
/// Deeper than any query Dataverse runs: `fetch`, `entity`, 15
/// `link-entity` levels, then the filters of [`super::parse::MAX_FILTER_DEPTH`].
pub const MAX_DEPTH: usize = 64;
/// More elements than a query of [`MAX_LENGTH`] written sensibly holds.
pub const MAX_ELEMENTS: usize = 4_096;

/// One element: its name, attributes in document order, child elements,
/// and its text (CDATA and references resolved) joined.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The element as Dataverse quotes a node in its errors (`NodeXml`),
    /// without its children.
    pub fn shown(&self) -> String {
        let attributes: String = self
            .attributes
            .iter()
            .map(|(k, v)| format!(" {k}=\"{}\"", quick_xml::escape::escape(v.as_str())))
            .collect();
        format!("<{}{attributes} />", self.name)
    }
}

fn invalid(detail: impl std::fmt::Display) -> Refusal {
    Refusal::new(codes::INVALID_XML, format!("Invalid XML. {detail}"))
}

/// Parses `text` into its one root element.
pub fn parse(text: &str) -> Result<Element, Refusal> {
    if text.trim().is_empty() {
        return Err(Refusal::new(
            codes::INVALID_ARGUMENT,
            "Expected non-empty string. The fetchXml parameter is empty: send <fetch><entity name='...'/></fetch>, URL-encoded.",
        ));
    }
    if text.len() > MAX_LENGTH {
        return Err(Refusal::new(
            codes::INVALID_ARGUMENT,
            format!(
                "The fetchXml parameter is {} characters long; a request URL holds at most {MAX_LENGTH}: select fewer columns or conditions.",
                text.len()
            ),
        ));
    }
    let mut reader = Reader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut builder = Builder::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| invalid(format!("At byte {}: {e}.", reader.error_position())))?;
        match event {
            Event::Start(element) => builder.open(&element)?,
            Event::Empty(element) => {
                builder.open(&element)?;
                builder.close();
            }
            Event::End(_) => builder.close(),
            Event::Text(text) => builder.text(&text.xml10_content())?,
            Event::CData(text) => builder.text(&text.xml10_content())?,
            Event::GeneralRef(reference) => builder.text(&resolve(&reference)?)?,
            Event::DocType(_) => {
                return Err(invalid(
                    "A DOCTYPE declaration: FetchXML has none, and its entities are not expanded.",
                ));
            }
            Event::Eof => return builder.finish(),
            _ => {}
        }
    }
}

/// A character reference or one of XML's five predefined entities.
fn resolve(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, Refusal> {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => {
            let name = reference.xml10_content();
            resolve_predefined_entity(&name)
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("The entity '&{name};' is not one XML predefines.")))
        }
        Err(e) => Err(invalid(e)),
    }
}

/// The open elements, innermost last, and the finished root.
#[derive(Default)]
struct Builder {
    open: Vec<Element>,
    root: Option<Element>,
    elements: usize,
}

impl Builder {
    fn open(&mut self, start: &BytesStart<'_>) -> Result<(), Refusal> {
        if self.root.is_some() {
            return Err(invalid(
                "More than one root element: FetchXML has one, <fetch>.",
            ));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(invalid(format!(
                "Elements are nested more than {MAX_DEPTH} deep: write the filters flatter."
            )));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(invalid(format!(
                "More than {MAX_ELEMENTS} elements: split the query."
            )));
        }
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(invalid)?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(invalid)?;
            attributes.push((
                attribute.key.local_name().as_ref().to_owned(),
                value.into_owned(),
            ));
        }
        self.open.push(Element {
            name: start.local_name().as_ref().to_owned(),
            attributes,
            ..Element::default()
        });
        Ok(())
    }

    /// Ends the innermost element (quick-xml has checked the end tag's name).
    fn close(&mut self) {
        let Some(done) = self.open.pop() else {
            return;
        };
        match self.open.last_mut() {
            Some(parent) => parent.children.push(done),
            None => self.root = Some(done),
        }
    }

    fn text(&mut self, text: &str) -> Result<(), Refusal> {
        match self.open.last_mut() {
            Some(element) => element.text.push_str(text),
            None if text.trim().is_empty() => {}
            None => return Err(invalid("Text outside the root element.")),
        }
        Ok(())
    }

    fn finish(self) -> Result<Element, Refusal> {
        match (self.open.last(), self.root) {
            (Some(open), _) => Err(invalid(format!("<{}> is never closed.", open.name))),
            (None, Some(root)) => Ok(root),
            (None, None) => Err(invalid("No root element: send <fetch>...</fetch>.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_are_read() {
        let root = parse(
            "<?xml version='1.0'?><fetch top='2'><entity name='a&amp;b'><x>1&#65;<![CDATA[<]]></x></entity></fetch>",
        )
        .unwrap();
        assert_eq!(root.name, "fetch");
        assert_eq!(root.attribute("top"), Some("2"));
        let entity = &root.children[0];
        assert_eq!(entity.attribute("name"), Some("a&b"));
        assert_eq!(entity.children[0].text, "1A<");
    }

    #[test]
    fn malformed_xml_is_refused_as_invalid() {
        for text in [
            "<fetch>",
            "<fetch></entity>",
            "<fetch/><fetch/>",
            "<fetch a='1' a='2'/>",
            "<!DOCTYPE x [<!ENTITY e 'y'>]><fetch>&e;</fetch>",
            "<fetch>&nope;</fetch>",
            "text<fetch/>",
            "<fetch",
        ] {
            let refusal = parse(text).unwrap_err();
            assert_eq!(refusal.code, codes::INVALID_XML, "{text}: {refusal:?}");
        }
        assert_eq!(parse("  ").unwrap_err().code, codes::INVALID_ARGUMENT);
    }

    #[test]
    fn size_depth_and_count_are_bounded() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert!(parse(&many).unwrap_err().message.contains("elements"));
        let long = format!("<a>{}</a>", " ".repeat(MAX_LENGTH));
        assert!(
            parse(&long)
                .unwrap_err()
                .message
                .contains("characters long")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }
    }
}
