//! Evaluating a parsed query over rows (JSON objects): which rows an
//! [`Expr`] keeps, and the order `$orderby` and FetchXML's `<order>` give.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Expr, Op, like};

/// Whether `row` (a JSON object) satisfies `expr`.
pub fn matches(expr: &Expr, row: &Value) -> bool {
    match expr {
        Expr::Compare(column, op, literal) => {
            let value = &row[column];
            holds(
                *op,
                compare(value, literal),
                value.is_null() && literal.is_null(),
            )
        }
        Expr::At(column, op, at) => holds(*op, instant(&row[column]).map(|v| v.cmp(at)), false),
        Expr::Text(column, op, text) => text_matches(&row[column], *op, text),
        Expr::Like(column, pattern) => row[column].as_str().is_some_and(|text| like(text, pattern)),
        Expr::Contains(column, needle) => text_test(&row[column], needle, |s, n| s.contains(n)),
        Expr::StartsWith(column, prefix) => {
            text_test(&row[column], prefix, |s, p| s.starts_with(p))
        }
        Expr::EndsWith(column, suffix) => text_test(&row[column], suffix, |s, x| s.ends_with(x)),
        Expr::And(all) => all.iter().all(|e| matches(e, row)),
        Expr::Or(any) => any.iter().any(|e| matches(e, row)),
        Expr::Not(a) => !matches(a, row),
    }
}

/// `contains`, `startswith` and `endswith`: a text value against `text`,
/// case ignored as Dataverse's collation ignores it; any other value fails.
fn text_test(value: &Value, text: &str, test: fn(&str, &str) -> bool) -> bool {
    value
        .as_str()
        .is_some_and(|s| test(&s.to_lowercase(), &text.to_lowercase()))
}

/// [`Expr::Text`]: `text` read as the type of `value`, then compared.
fn text_matches(value: &Value, op: Op, text: &str) -> bool {
    let text = text.trim();
    let literal = match value {
        Value::Null => return false,
        Value::Number(_) => match text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(number) => Value::Number(number),
            None => return false,
        },
        Value::Bool(_) => match text.to_ascii_lowercase().as_str() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => return false,
        },
        // FetchXML writes GUIDs as `{...}` (paging cookies, tools) or bare.
        _ => Value::String(
            text.strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .filter(|t| uuid::Uuid::try_parse(t).is_ok())
                .unwrap_or(text)
                .to_owned(),
        ),
    };
    match compare(value, &literal) {
        Some(ordering) => holds(op, Some(ordering), false),
        None => false,
    }
}

/// Whether `op` holds between a value and a literal that compare as
/// `ordering` (`None`: they do not compare); `both_null`: `null eq null`.
/// `ne` holds where `eq` does not, a null value included.
fn holds(op: Op, ordering: Option<Ordering>, both_null: bool) -> bool {
    let equal = ordering == Some(Ordering::Equal) || both_null;
    match (op, ordering) {
        (Op::Eq, _) => equal,
        (Op::Ne, _) => !equal,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
        (_, None) => false,
    }
}

/// A row's date and time, written as RFC 3339 text.
fn instant(value: &Value) -> Option<time::OffsetDateTime> {
    let text = value.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Orders two rows by `orders` (column, descending) then by `key`, so that
/// rows equal in every order keep a stable place. OData's `$orderby` and
/// FetchXML's `<order>` sort by it alike.
pub fn ordering(a: &Value, b: &Value, orders: &[(String, bool)], key: &str) -> Ordering {
    for (column, descending) in orders {
        let ordering = compare(&a[column], &b[column]).unwrap_or(Ordering::Equal);
        let ordering = if *descending {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    compare(&a[key], &b[key]).unwrap_or(Ordering::Equal)
}

/// Strings compare without case, as Dataverse's collation does.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_read_as_the_rows_type() {
        let row = json!({"n": 5, "b": true, "s": "Finance", "g": "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d", "z": null});
        let holds = |column: &str, op: Op, text: &str| {
            matches(&Expr::Text(column.into(), op, text.into()), &row)
        };
        assert!(
            holds("n", Op::Eq, "5") && holds("n", Op::Gt, " 4.5 ") && !holds("n", Op::Eq, "five")
        );
        assert!(
            holds("b", Op::Eq, "1") && holds("b", Op::Eq, "True") && !holds("b", Op::Eq, "yes")
        );
        assert!(holds("s", Op::Eq, "FINANCE") && holds("s", Op::Lt, "g"));
        assert!(holds("g", Op::Eq, "{A4F1C3D2-0B9E-4F8A-9C7D-6E5F4A3B2C1D}"));
        // SQL: null matches neither a comparison nor its negation.
        assert!(
            !holds("z", Op::Eq, "x") && !holds("z", Op::Ne, "x") && !holds("missing", Op::Ne, "x")
        );
    }
}
