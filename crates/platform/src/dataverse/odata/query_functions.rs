//! Dataverse's query functions in `$filter`, `Microsoft.Dynamics.CRM.X(...)`
//! ("Dataverse query functions", Web API reference). The platform runs the
//! two that Microsoft's Python SDK sends for `col(c).in_(...)` and
//! `col(c).not_in(...)`:
//!
//! `Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=["0","1"])`
//!
//! `PropertyValues` is a `Collection(Edm.String)`: each value is text, read
//! as the type of the row's value, as FetchXML's `in` reads its values
//! (Dataverse runs these functions as query conditions). The other
//! functions are refused with a message that names the two.

use std::iter::Peekable;
use std::str::Chars;

use super::{Expr, Op};

/// What every query function's name starts with.
pub(super) const PREFIX: &str = "Microsoft.Dynamics.CRM.";

/// The functions run here.
const RUN: &str = "Microsoft.Dynamics.CRM.In and Microsoft.Dynamics.CRM.NotIn";

/// Reads a call's parenthesised arguments, `chars` at its `(`: the text
/// between the parentheses, quoted text kept whole.
pub(super) fn arguments(chars: &mut Peekable<Chars<'_>>) -> Result<String, String> {
    let mut text = String::new();
    let mut depth = 0usize;
    let mut quote = None;
    for c in chars.by_ref() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 && c == ')' {
                    // The opening parenthesis is not part of the arguments.
                    return Ok(text.split_off(1.min(text.len())));
                }
            }
            _ => {}
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
    let (op, negated) = match name.strip_prefix(PREFIX) {
        Some("In") => (Op::Eq, false),
        Some("NotIn") => (Op::Ne, true),
        _ => {
            return Err(format!(
                "The query function {name} is not one this platform runs: it runs {RUN}."
            ));
        }
    };
    let mut property = None;
    let mut values = None;
    for argument in top_level(arguments) {
        match argument.trim().split_once('=') {
            Some(("PropertyName", value)) => property = Some(quoted(value.trim(), name)?),
            Some(("PropertyValues", value)) => {
                values = Some(serde_json::from_str::<Vec<String>>(value.trim()).map_err(|_| {
                    format!(
                        "PropertyValues of {name} is a list of strings: PropertyValues=[\"a\",\"b\"]"
                    )
                })?);
            }
            _ => {
                return Err(format!(
                    "{name} takes PropertyName='column' and PropertyValues=[\"a\",\"b\"], not '{}'",
                    argument.trim()
                ));
            }
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
    Ok(match negated {
        // Not one of them: a null value is none of them either, but as in
        // SQL's NOT IN, it matches no comparison.
        true => Expr::And(each),
        false => Expr::Or(each),
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

/// The comma-separated arguments, commas inside quotes and brackets kept.
fn top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quote) = (0usize, 0, None);
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}
