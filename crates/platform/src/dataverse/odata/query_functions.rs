//! Dataverse's query functions in `$filter`, `Microsoft.Dynamics.CRM.X(...)`
//! ("Dataverse query functions", Web API reference). The platform runs the
//! two that Microsoft's Python SDK sends for `col(c).in_(...)` and
//! `col(c).not_in(...)`:
//!
//! `Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=["0","1"])`
//!
//! `PropertyValues` is a `Collection(Edm.String)`: each value is text, read
//! as the type of the row's value; one that is not of that type matches
//! nothing (no source shows Dataverse's answer to one). The other
//! functions are refused with a message that names the two.
//!
//! The list is read as Microsoft.OData.Core reads a collection in a URL:
//! as JSON, through its `JsonReader` (`ODataUriConversionUtils.
//! ConvertFromCollectionValue`), which takes a string quoted with `'` as
//! well as with `"` ("COMPAT 45" in `JsonReader.ParseStringPrimitiveValue`),
//! each with JSON's backslash escapes. So `PropertyValues=['a','b']` is
//! the same list as `PropertyValues=["a","b"]`. Before that, the `$filter`
//! is split as the library's lexer splits it, where a `'` always ends a
//! single-quoted string: a quote inside one is written `\u0027`, not `\'`.

use std::iter::Peekable;
use std::str::Chars;

use super::{Expr, Op, Scan, split_top_level};

/// What every query function's name starts with.
pub(super) const PREFIX: &str = "Microsoft.Dynamics.CRM.";

/// The functions run here.
const RUN: &str = "Microsoft.Dynamics.CRM.In and Microsoft.Dynamics.CRM.NotIn";

/// Reads a call's parenthesised arguments, `chars` at its `(`: the text
/// between the parentheses, quoted text kept whole.
pub(super) fn arguments(chars: &mut Peekable<Chars<'_>>) -> Result<String, String> {
    let (mut text, mut scan) = (String::new(), Scan::default());
    for c in chars.by_ref() {
        scan.read(c);
        if scan.closed() {
            // The first character was the `(`, and this is its `)`.
            return Ok(text.split_off(1));
        }
        text.push(c);
    }
    Err("a query function's arguments in $filter are not closed with ')'".into())
}

/// The condition a call of `name` with `arguments` stands for;
/// `column` checks a property name and answers the column it names.
pub(super) fn condition(
    name: &str,
    arguments: &str,
    column: impl Fn(&str) -> Result<String, String>,
) -> Result<Expr, String> {
    let op = match name.strip_prefix(PREFIX) {
        Some("In") => Op::Eq,
        Some("NotIn") => Op::Ne,
        _ => {
            return Err(format!(
                "The query function {name} is not one this platform runs: it runs {RUN}."
            ));
        }
    };
    let mut property = None;
    let mut values = None;
    let arguments = split_top_level(arguments, ',').unwrap_or_default();
    for argument in arguments {
        let (key, value) = argument.split_once('=').unwrap_or((argument, ""));
        let (key, value) = (key.trim(), value.trim());
        let slot_taken = match key {
            "PropertyName" => property.replace(quoted(value, name)?).is_some(),
            "PropertyValues" => values
                .replace(string_list(value).ok_or_else(|| {
                    format!(
                        "PropertyValues of {name} is a list of strings: PropertyValues=[\"a\",\"b\"]"
                    )
                })?)
                .is_some(),
            _ => {
                return Err(format!(
                    "{name} takes PropertyName='column' and PropertyValues=[\"a\",\"b\"], not '{}'",
                    argument.trim()
                ));
            }
        };
        if slot_taken {
            return Err(format!("{name} takes {key} once"));
        }
    }
    let (Some(property), Some(values)) = (property, values) else {
        return Err(format!(
            "{name} needs PropertyName='column' and PropertyValues=[\"a\",\"b\"]"
        ));
    };
    let column = column(&property)?;
    if values.is_empty() {
        return Err(format!("PropertyValues of {name} names no value"));
    }
    let each: Vec<Expr> = values
        .into_iter()
        .map(|value| Expr::Text(column.clone(), op, value))
        .collect();
    Ok(match op {
        // SQL's NOT IN: a null value is in no list, and matches no `ne`
        // either, so NotIn leaves null rows out, as FetchXML's not-in does.
        Op::Ne => Expr::And(each),
        _ => Expr::Or(each),
    })
}

/// `'text'` with `''` for a quote.
fn quoted(value: &str, name: &str) -> Result<String, String> {
    value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .map(|v| v.replace("''", "'"))
        .ok_or_else(|| format!("PropertyName of {name} is quoted: PropertyName='column'"))
}

/// A JSON array of strings, each quoted with `"` or `'` (see the module's
/// doc); `None` when `text` is anything else.
fn string_list(text: &str) -> Option<Vec<String>> {
    let mut chars = text.trim().chars().peekable();
    let mut values = Vec::new();
    let skip_spaces = |chars: &mut Peekable<Chars<'_>>| {
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
    };
    (chars.next()? == '[').then_some(())?;
    skip_spaces(&mut chars);
    if chars.next_if_eq(&']').is_none() {
        loop {
            skip_spaces(&mut chars);
            let quote = chars.next().filter(|c| matches!(c, '"' | '\''))?;
            values.push(json_string(&mut chars, quote)?);
            skip_spaces(&mut chars);
            match chars.next()? {
                ',' => continue,
                ']' => break,
                _ => return None,
            }
        }
    }
    chars.next().is_none().then_some(values)
}

/// The rest of a JSON string opened by `quote`, up to and without the
/// same quote, its escapes read.
fn json_string(chars: &mut Peekable<Chars<'_>>, quote: char) -> Option<String> {
    let mut value = String::new();
    loop {
        match chars.next()? {
            c if c == quote => return Some(value),
            '\\' => value.push(match chars.next()? {
                'u' => utf16_escape(chars)?,
                c => simple_escape(c)?,
            }),
            c => value.push(c),
        }
    }
}

/// The character `\c` stands for, of the ones JSON's reader knows.
fn simple_escape(c: char) -> Option<char> {
    Some(match c {
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        '\\' | '"' | '\'' | '/' => c,
        _ => return None,
    })
}

/// The character of `\uXXXX`, `chars` after the `u`; a high surrogate
/// takes the `\uXXXX` of its low half with it.
fn utf16_escape(chars: &mut Peekable<Chars<'_>>) -> Option<char> {
    let first = hex_unit(chars)?;
    let mut units = vec![first];
    if (0xD800..=0xDBFF).contains(&first) {
        (chars.next()? == '\\' && chars.next()? == 'u').then_some(())?;
        units.push(hex_unit(chars)?);
    }
    let mut decoded = char::decode_utf16(units);
    let c = decoded.next()?.ok()?;
    decoded.next().is_none().then_some(c)
}

/// Four hex digits.
fn hex_unit(chars: &mut Peekable<Chars<'_>>) -> Option<u16> {
    let hex: String = chars.by_ref().take(4).collect();
    let is_hex = hex.len() == 4 && hex.chars().all(|c| c.is_ascii_hexdigit());
    is_hex.then(|| u16::from_str_radix(&hex, 16).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lists_read_as_odatas_json_reader_reads_them() {
        let cases: [(&str, Option<&[&str]>); 14] = [
            (r#"["a","b"]"#, Some(&["a", "b"])),
            ("['a', 'b']", Some(&["a", "b"])),
            (r#" [ "a" ,'b' ] "#, Some(&["a", "b"])),
            ("[]", Some(&[])),
            (r#"["it's", 'say "hi"']"#, Some(&["it's", "say \"hi\""])),
            (
                r#"['\u0027', "\'\"", "\\\/\b\f\n\r\t"]"#,
                Some(&["'", "'\"", "\\/\u{8}\u{c}\n\r\t"]),
            ),
            (r#"["\u00e9\ud83d\ude00"]"#, Some(&["é😀"])),
            (r#"["\ud83d"]"#, None),
            (r#"["\ude00"]"#, None),
            (r#"["\u00g9"]"#, None),
            (r#"["\x"]"#, None),
            (r#"["a",]"#, None),
            ("['a' 'b']", None),
            (r#"["a"] x"#, None),
        ];
        for (text, expected) in cases {
            let expected = expected.map(|values| values.iter().map(|v| v.to_string()).collect());
            assert_eq!(string_list(text), expected, "{text}");
        }
        for not_a_list in ["", "[", r#"["a""#, "['a]", "[1]", "[null]", "a"] {
            assert_eq!(string_list(not_a_list), None, "{not_a_list}");
        }
    }
}
