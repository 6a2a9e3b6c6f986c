//! The answer: one page of rows in Dataverse's collection format, with its
//! paging cookie and counts ("Page results using FetchXml", "Count rows
//! using FetchXml").

use std::ops::Range;

use quick_xml::escape::escape;
use serde_json::{Value, json};

use super::Refusal;
use super::parse::{Plan, logical};
use super::run::{Joined, Run, Tables};
use crate::dataverse::annotations::{Names, Requested, annotate};

/// Dataverse's default and largest page.
const PAGE_SIZE: usize = 5_000;
/// `totalrecordcount` counts up to this many.
const MOST_COUNTED: usize = 5_000;

const PAGING_COOKIE: &str = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie";
const MORE_RECORDS: &str = "@Microsoft.Dynamics.CRM.morerecords";
const TOTAL: &str = "@Microsoft.Dynamics.CRM.totalrecordcount";
const TOTAL_EXCEEDED: &str = "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded";

/// Runs `plan` and answers its page. `context` makes `@odata.context` from
/// the columns suffix (`(a,b)` or nothing).
pub fn answer(
    plan: &Plan,
    tables: &Tables,
    context: impl Fn(&str) -> String,
    annotations: Option<&(Requested, Names)>,
) -> Result<Value, Refusal> {
    let run = Run::new(plan, tables)?;
    let (value, total, cookie) = match (&plan.aggregate, plan.distinct) {
        (Some(aggregation), _) => {
            let rows = super::aggregate::rows(plan, aggregation, &run)?;
            let (range, more) = slice(plan, rows.len());
            (rows[range].to_vec(), rows.len(), more.then(String::new))
        }
        (None, true) => {
            let rows = run.distinct();
            let (range, more) = slice(plan, rows.len());
            let page = rows[range].iter().map(|row| run.project(row)).collect();
            (page, rows.len(), more.then(String::new))
        }
        (None, false) => {
            let (range, more) = slice(plan, run.rows.len());
            let page = &run.rows[range];
            let cookie = more.then(|| inner_cookie(plan, &run, page));
            let mut value: Vec<Value> = page.iter().map(|row| run.project(row)).collect();
            if let Some((requested, names)) = annotations {
                for row in &mut value {
                    annotate(plan.root.table, row, requested, names);
                }
            }
            (value, run.rows.len(), cookie)
        }
    };
    let columns = match (&plan.selected, &plan.aggregate, plan.distinct) {
        (Some(columns), None, false) => format!("({})", columns.join(",")),
        _ => String::new(),
    };
    let mut body = json!({ "@odata.context": context(&columns) });
    if plan.total_count {
        body["@odata.count"] = json!(total.min(MOST_COUNTED));
        body[TOTAL] = json!(total.min(MOST_COUNTED));
        body[TOTAL_EXCEEDED] = json!(total > MOST_COUNTED);
    }
    if let Some(inner) = cookie {
        body[PAGING_COOKIE] = json!(format!(
            "<cookie pagenumber=\"{}\" pagingcookie=\"{}\" istracking=\"False\" />",
            plan.page.saturating_add(1),
            encode(&encode(&inner))
        ));
        body[MORE_RECORDS] = json!(true);
    }
    body["value"] = Value::Array(value);
    Ok(body)
}

/// The rows of the page asked for, and whether more follow. `top` answers
/// its rows and no more pages.
fn slice(plan: &Plan, len: usize) -> (Range<usize>, bool) {
    if let Some(top) = plan.top {
        return (0..top.min(len), false);
    }
    let size = plan.count.unwrap_or(PAGE_SIZE);
    let start = plan.page.saturating_sub(1).saturating_mul(size).min(len);
    let end = start.saturating_add(size).min(len);
    (start..end, end < len)
}

/// Dataverse's paging cookie for a page: each root order column and the
/// key, with the page's last and first values (GUIDs braced, in capitals),
/// or nothing where Dataverse gives none (ordered by a linked column).
fn inner_cookie(plan: &Plan, run: &Run<'_>, page: &[Joined]) -> String {
    if plan.orders_by_link {
        return String::new();
    }
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return String::new();
    };
    let key = plan.root.table.key();
    let mut columns: Vec<&str> = plan.orders.iter().map(|(c, _)| c.as_str()).collect();
    columns.retain(|c| *c != key);
    columns.push(key);
    let mut cookie = format!("<cookie page=\"{}\">", plan.page);
    for column in columns {
        cookie.push_str(&format!(
            "<{}{}{} />",
            logical(column),
            bound("last", run.value(last, column), column == key),
            bound("first", run.value(first, column), column == key)
        ));
    }
    cookie.push_str("</cookie>");
    cookie
}

/// ` last="..."`, or ` lastnull="1"` for a null value.
fn bound(name: &str, value: &Value, braced: bool) -> String {
    let text = match value {
        Value::Null => return format!(" {name}null=\"1\""),
        Value::String(s) if braced => format!("{{{}}}", s.to_uppercase()),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!(" {name}=\"{}\"", escape(text.as_str()))
}

/// Percent-encoding as Dataverse writes the cookie: lowercase hex, only
/// letters, digits and `-_.` kept (the documented example's bytes).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_encoded_twice_as_the_docs_show() {
        // page-results.md: `<cookie page="1"><fullname last="Susanna Stubberod (sample)" ...`
        // becomes `%253ccookie%2520page%253d%25221%2522%253e%253cfullname%2520last...`.
        let inner = "<cookie page=\"1\"><fullname last=\"Susanna Stubberod (sample)\"";
        assert_eq!(
            encode(&encode(inner)),
            "%253ccookie%2520page%253d%25221%2522%253e%253cfullname%2520last%253d%2522Susanna%2520Stubberod%2520%2528sample%2529%2522"
        );
    }

    #[test]
    fn bounds_are_escaped_braced_or_null() {
        assert_eq!(
            bound("last", &json!("a\"b<"), false),
            " last=\"a&quot;b&lt;\""
        );
        assert_eq!(
            bound(
                "first",
                &json!("a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d"),
                true
            ),
            " first=\"{A4F1C3D2-0B9E-4F8A-9C7D-6E5F4A3B2C1D}\""
        );
        assert_eq!(bound("last", &Value::Null, false), " lastnull=\"1\"");
        assert_eq!(bound("last", &json!(7), false), " last=\"7\"");
    }
}
