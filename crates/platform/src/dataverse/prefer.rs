//! The `Prefer` request header (RFC 7240), read once for every preference
//! the Web API honours: `return=representation`, `odata.maxpagesize`,
//! `odata.include-annotations` and `odata.continue-on-error`.
//!
//! It is read as Dataverse's OData library reads it (Microsoft.OData.Core,
//! `HttpHeaderValueLexer` into `HttpHeaderValue`): a comma-separated list of
//! preferences, each a token, perhaps `=` a token or a quoted string, then
//! perhaps `;` parameters; names compare without case ("case-insensitive for
//! tokens"), and of two preferences with one name the first counts. Every
//! `Prefer` header of a request is read, in order, as one list.
//!
//! Where the sources differ: ASP.NET OData's `RequestPreferenceHelpers`
//! looks for `return=representation` anywhere in the header's text, so a
//! quoted `odata.include-annotations="return=representation"` would ask for
//! the row too; the lexer above does not, and neither does this reader.
//! Where the library throws on a header it cannot lex, this reader skips
//! the element it cannot read: RFC 7240 §2 says a server ignores a
//! preference it does not understand, and no capture shows Dataverse
//! refusing one.

use axum::http::HeaderMap;

/// One preference: its name and its value, unquoted (`None` if it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Preference {
    name: String,
    value: Option<String>,
}

/// The preferences of a request's `Prefer` headers, in the order sent.
#[derive(Debug, Default)]
pub struct Preferences(Vec<Preference>);

impl Preferences {
    pub fn of(headers: &HeaderMap) -> Self {
        Self(
            headers
                .get_all("prefer")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| split_unquoted(v, ','))
                .filter_map(preference)
                .collect(),
        )
    }

    /// Whether `name` was asked for, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.first(name).is_some()
    }

    /// The value of the first preference called `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.first(name)?.value.as_deref()
    }

    /// `return=representation`: answer the written row, not just its id.
    pub fn return_representation(&self) -> bool {
        self.value("return")
            .is_some_and(|v| v.eq_ignore_ascii_case("representation"))
    }

    /// `odata.maxpagesize=N`, N at least 1.
    pub fn max_page_size(&self) -> Option<usize> {
        self.value("odata.maxpagesize")?
            .parse()
            .ok()
            .filter(|n| *n > 0)
    }

    fn first(&self, name: &str) -> Option<&Preference> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// One element of the list: `name[=value]` before any `;` parameter.
fn preference(element: &str) -> Option<Preference> {
    let head = split_unquoted(element, ';').next()?;
    let (name, value) = match head.split_once('=') {
        Some((name, value)) => (name.trim(), Some(unquote(value.trim())?)),
        None => (head.trim(), None),
    };
    is_token(name).then(|| Preference {
        name: name.to_owned(),
        value,
    })
}

/// The parts of `text` between `delimiter`s outside quoted strings.
fn split_unquoted(text: &str, delimiter: char) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in text.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                c if c == delimiter && !quoted => {
                    rest = Some(&text[i + c.len_utf8()..]);
                    return Some(&text[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(text)
    })
}

/// A token as it is, a quoted string without its quotes and escapes;
/// `None` for neither (an unclosed quote, a space inside a token).
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return is_token(value).then(|| value.to_owned());
    };
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(text),
            c => text.push(c),
        }
    }
    None
}

/// RFC 9110's `token`: one or more of its visible characters.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn read(headers: &[&str]) -> Preferences {
        let mut map = HeaderMap::new();
        for h in headers {
            map.append("prefer", HeaderValue::from_str(h).unwrap());
        }
        Preferences::of(&map)
    }

    /// Headers sent, a name, and what was read of it: `None` absent,
    /// `Some(None)` present without a value.
    type Case<'a> = (&'a [&'a str], &'a str, Option<Option<&'a str>>);

    #[test]
    fn preferences_read_as_the_odata_lexer_reads_them() {
        let annotations = "odata.include-annotations";
        let cases: &[Case] = &[
            (
                &["return=representation"],
                "return",
                Some(Some("representation")),
            ),
            (
                &["Return=Representation"],
                "return",
                Some(Some("Representation")),
            ),
            (
                &["ODATA.MAXPAGESIZE=5"],
                "odata.maxpagesize",
                Some(Some("5")),
            ),
            (
                &[r#"odata.include-annotations="*""#],
                annotations,
                Some(Some("*")),
            ),
            // A comma inside quotes belongs to the value.
            (
                &[r#"odata.include-annotations="a.*,-b.c", return=minimal"#],
                annotations,
                Some(Some("a.*,-b.c")),
            ),
            (
                &[r#"odata.include-annotations="a.*,-b.c", return=minimal"#],
                "return",
                Some(Some("minimal")),
            ),
            // An escaped quote, then a comma, inside one quoted string.
            (
                &[r#"odata.include-annotations="a\"b,c",x"#],
                annotations,
                Some(Some(r#"a"b,c"#)),
            ),
            // The first of two wins, across headers too.
            (
                &["odata.maxpagesize=2, odata.maxpagesize=9"],
                "odata.maxpagesize",
                Some(Some("2")),
            ),
            (
                &["odata.maxpagesize=3", "odata.maxpagesize=4"],
                "odata.maxpagesize",
                Some(Some("3")),
            ),
            // Parameters after `;` are not the value.
            (
                &["odata.continue-on-error; level=1"],
                "odata.continue-on-error",
                Some(None),
            ),
            (
                &["respond-async; wait=10, odata.track-changes"],
                "odata.track-changes",
                Some(None),
            ),
            // Text inside a quoted value is not a preference.
            (
                &[r#"odata.include-annotations="return=representation""#],
                "return",
                None,
            ),
            // An element that cannot be read is skipped, not the header.
            (
                &["=x, odata.maxpagesize=4"],
                "odata.maxpagesize",
                Some(Some("4")),
            ),
            (
                &[r#"return="unclosed, odata.maxpagesize=4"#],
                "odata.maxpagesize",
                None,
            ),
            (&["return=two words, odata.maxpagesize=4"], "return", None),
            (
                &["return=two words, odata.maxpagesize=4"],
                "odata.maxpagesize",
                Some(Some("4")),
            ),
            (
                &[r#"odata.include-annotations="*"trailing"#],
                annotations,
                None,
            ),
            (&["", " , ,"], "return", None),
        ];
        for (headers, name, expected) in cases {
            let read = read(headers);
            let found = read.first(name).map(|p| p.value.as_deref());
            assert_eq!(found, *expected, "{headers:?} {name}");
        }
    }

    #[test]
    fn the_web_apis_preferences() {
        assert!(read(&["RETURN=REPRESENTATION"]).return_representation());
        assert!(!read(&["return=minimal"]).return_representation());
        assert!(
            !read(&[r#"odata.include-annotations="return=representation""#])
                .return_representation()
        );
        assert_eq!(read(&["odata.maxpagesize=25"]).max_page_size(), Some(25));
        for refused in [
            "odata.maxpagesize=0",
            "odata.maxpagesize=-1",
            "odata.maxpagesize=x",
            "odata.maxpagesize",
        ] {
            assert_eq!(read(&[refused]).max_page_size(), None, "{refused}");
        }
        assert!(read(&["odata.continue-on-error"]).has("odata.continue-on-error"));
        assert!(!read(&["odata.continue-on-errors"]).has("odata.continue-on-error"));
    }
}
