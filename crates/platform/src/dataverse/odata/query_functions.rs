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
                .replace(serde_json::from_str::<Vec<String>>(value).map_err(|_| {
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
