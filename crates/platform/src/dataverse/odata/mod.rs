//! The OData query subset Dataverse clients use on these tables: `$select`,
//! `$filter` (eq, ne, gt, ge, lt, le, and, or, not, contains, startswith,
//! endswith, Dataverse's query functions In and NotIn, parentheses;
//! strings, numbers, GUIDs, booleans, dates, dates and times, null, each
//! typed and checked against its column's type as `types` says),
//! `$orderby`, `$top` and `$count`, evaluated over rows as JSON objects
//! (`eval`). Anything outside the subset is refused with a message that
//! names it.
//!
//! Nesting is bounded as Dataverse's OData library bounds it: Microsoft.OData
//! counts every recursive call of its `$filter` parser (`RecurseEnter` in
//! `UriQueryExpressionParser`) against `QueryParserSettings.DefaultFilterLimit
//! = 800` and refuses a deeper query with "Recursion depth exceeded allowed
//! limit." (OData/odata.net, Microsoft.OData.Core). Chains of `and`/`or` are
//! kept flat, so no evaluation or drop recurses deeper than the parser did.
//!
//! FetchXML's conditions (`fetchxml`) are translated into the same [`Expr`]
//! and evaluated by `eval` too, so one engine decides which rows match either
//! query language. Two variants are theirs: [`Expr::Text`], a value written
//! as text and read as the type of the row's value, and [`Expr::Like`],
//! SQL's `LIKE`; both follow SQL in that a null value matches neither.

use std::collections::HashMap;

use serde_json::Value;

mod eval;
mod filter;
mod like;
mod query_functions;
mod scan;
mod types;

pub(super) use eval::{compare, matches, ordering};
use filter::parse_filter;
pub(super) use like::like;
use scan::Scan;
pub use scan::split_top_level;
pub use types::Edm;

/// A parsed query.
#[derive(Debug, Default)]
pub struct Query {
    pub select: Option<Vec<String>>,
    pub filter: Option<Expr>,
    pub orderby: Vec<(String, bool)>,
    pub top: Option<usize>,
    pub count: bool,
    pub skiptoken: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare(String, Op, Value),
    /// A column of dates and times (RFC 3339 text) against an instant; a
    /// value that is not one (null) matches only `ne`, as in [`Expr::Compare`].
    At(String, Op, time::OffsetDateTime),
    /// A FetchXML condition's value: text, read as the type of the row's
    /// value (a number, a boolean `1`/`0`/`true`/`false`, a GUID with or
    /// without braces, a string without case). A null value, or text that
    /// is not of the value's type, matches no comparison, as in SQL.
    Text(String, Op, String),
    /// SQL's `LIKE` without case: `%` any run of characters, `_` one, `[a-c]`
    /// and `[^a-c]` one of a set or not. Only strings match.
    Like(String, String),
    Contains(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
    /// Every operand holds; `a and b and c` is one node, not a chain.
    And(Vec<Expr>),
    /// One operand holds.
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

const SUPPORTED: [&str; 6] = [
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$count",
    "$skiptoken",
];

/// Dataverse's own query parameters for queries this platform does not run
/// (saved and user views: "Retrieve and execute predefined queries",
/// learn.microsoft.com, Dataverse Web API). Refused rather than ignored:
/// ignoring one would answer every row as if the query had matched them all.
const UNSUPPORTED_QUERIES: [&str; 2] = ["savedQuery", "userQuery"];

/// FetchXML, which the tables' entity sets run (`fetchxml`) before any
/// OData option is parsed: reaching here, it was sent to another resource.
const FETCH_XML: &str = "fetchXml";

impl Query {
    /// Parses the query options; `columns` are the table's, for checking
    /// names, and `type_of` their types, for checking `$filter`'s values.
    pub fn parse(
        params: &HashMap<String, String>,
        columns: &[&str],
        type_of: impl Fn(&str) -> Edm,
    ) -> Result<Self, String> {
        let mut query = Self::default();
        for (name, value) in params {
            if name.starts_with('$') && !SUPPORTED.contains(&name.as_str()) {
                return Err(format!("The query parameter {name} is not supported"));
            }
            if FETCH_XML.eq_ignore_ascii_case(name) {
                return Err(format!(
                    "The query parameter {name} is served on the tables' entity sets (GET {}/{{entityset}}?fetchXml=...), not on this resource",
                    super::API_ROOT
                ));
            }
            if UNSUPPORTED_QUERIES
                .iter()
                .any(|q| q.eq_ignore_ascii_case(name))
            {
                return Err(format!(
                    "The query parameter {name} is not supported by this platform: query with $filter, $select, $orderby and $top"
                ));
            }
            // Anything else that is neither an OData option nor a
            // parameter alias (`@p1`) is refused, as Dataverse refuses it
            // ("The query parameter utm_source is not supported",
            // rappen/FetchXMLBuilder#437): served as if absent, `?sql=`
            // (the Python SDK's `query.sql`) would answer every row.
            if !name.starts_with(['$', '@']) {
                return Err(format!("The query parameter {name} is not supported"));
            }
            let column = |c: &str| -> Result<String, String> {
                let c = c.trim();
                match columns.contains(&c) {
                    true => Ok(c.to_owned()),
                    false => Err(format!("Could not find a property named '{c}'")),
                }
            };
            match name.as_str() {
                "$select" => {
                    query.select = Some(value.split(',').map(column).collect::<Result<_, _>>()?)
                }
                "$filter" => query.filter = Some(parse_filter(value, columns, &type_of)?),
                "$orderby" => {
                    for part in value.split(',') {
                        let mut words = part.split_whitespace();
                        let name = column(words.next().unwrap_or_default())?;
                        let descending = match words.next() {
                            None | Some("asc") => false,
                            Some("desc") => true,
                            Some(other) => {
                                return Err(format!("'{other}' is not asc or desc in $orderby"));
                            }
                        };
                        query.orderby.push((name, descending));
                    }
                }
                "$top" => {
                    query.top = Some(
                        value
                            .parse()
                            .map_err(|_| format!("$top must be a whole number, not '{value}'"))?,
                    )
                }
                "$count" => {
                    query.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("$count must be true or false, not '{value}'")),
                    }
                }
                "$skiptoken" => {
                    query.skiptoken = Some(
                        value
                            .parse()
                            .map_err(|_| format!("The $skiptoken '{value}' is not valid"))?,
                    )
                }
                _ => {}
            }
        }
        Ok(query)
    }

    /// Filters and sorts rows (the primary key last, for a stable order).
    pub fn apply(&self, mut rows: Vec<Value>, key: &str) -> Vec<Value> {
        if let Some(filter) = &self.filter {
            rows.retain(|row| matches(filter, row));
        }
        rows.sort_by(|a, b| ordering(a, b, &self.orderby, key));
        rows
    }

    /// Keeps the selected columns (all when none), and those always returned.
    pub fn project(&self, row: &Value, always: &[&str]) -> Value {
        let Some(select) = &self.select else {
            return row.clone();
        };
        let mut out = serde_json::Map::new();
        if let Some(object) = row.as_object() {
            for (name, value) in object {
                if select.iter().any(|s| s == name)
                    || always.contains(&name.as_str())
                    || name.starts_with('@')
                {
                    out.insert(name.clone(), value.clone());
                }
            }
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COLUMNS: [&str; 5] = [
        "name",
        "statecode",
        "flowgrouptype",
        "_ownerid_value",
        "createdon",
    ];

    fn type_of(column: &str) -> Edm {
        match column {
            "name" => Edm::String,
            "_ownerid_value" => Edm::Guid,
            "createdon" => Edm::DateTimeOffset,
            _ => Edm::Int32,
        }
    }

    fn filter(text: &str) -> Result<Expr, String> {
        parse_filter(text, &COLUMNS, &type_of)
    }

    #[test]
    fn filters_evaluate() {
        let rows = [
            json!({"name": "Finance bots", "statecode": 0, "flowgrouptype": 545940001, "_ownerid_value": "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d", "createdon": "2026-12-01T22:47:00Z"}),
            json!({"name": "HR-LAPTOP", "statecode": 1, "flowgrouptype": 545940002, "_ownerid_value": null, "createdon": null}),
        ];
        let cases = [
            ("name eq 'finance BOTS'", vec![0]),
            ("name ne 'Finance bots'", vec![1]),
            ("statecode eq 0 and flowgrouptype eq 545940001", vec![0]),
            ("statecode eq 1 or contains(name, 'bot')", vec![0, 1]),
            ("not (statecode eq 0)", vec![1]),
            ("startswith(name, 'hr')", vec![1]),
            ("endswith(name, 'BOTS')", vec![0]),
            ("not endswith(name, 'laptop')", vec![0]),
            // Dataverse's query functions, as Microsoft's Python SDK writes them.
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=["1","7"])"#,
                vec![1],
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=["hr-laptop","O'Brien, (x)"])"#,
                vec![1],
            ),
            // Single quotes too, and JSON's escapes, as Microsoft.OData's
            // JSON reader reads a collection.
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[ 'x' , "Finance\u0020bots"])"#,
                vec![0],
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['HR-\u004cAPTOP'])"#,
                vec![1],
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['O\u0027Brien','hr-laptop'])"#,
                vec![1],
            ),
            (
                r#"Microsoft.Dynamics.CRM.NotIn(PropertyName='_ownerid_value',PropertyValues=["A4F1C3D2-0B9E-4F8A-9C7D-6E5F4A3B2C1D"])"#,
                vec![],
            ),
            (
                r#"statecode eq 0 or Microsoft.Dynamics.CRM.NotIn(PropertyName='flowgrouptype',PropertyValues=["545940001"])"#,
                vec![0, 1],
            ),
            (
                "_ownerid_value eq A4F1C3D2-0B9E-4F8A-9C7D-6E5F4A3B2C1D",
                vec![0],
            ),
            ("_ownerid_value eq null", vec![1]),
            ("flowgrouptype gt 545940001", vec![1]),
            ("name eq 'O''Brien'", vec![]),
            ("statecode lt 0.5", vec![0]),
            ("flowgrouptype ge 545940001.5", vec![1]),
            // Dates and times compare as instants, a date as its midnight UTC.
            ("createdon gt 2026-12-01T22:46:59Z", vec![0]),
            ("createdon eq 2026-12-01T23:47:00+01:00", vec![0]),
            ("createdon lt 2026-12-01T22:47:00.5Z", vec![0]),
            ("createdon ge 2026-12-02", vec![]),
            ("createdon ge 2026-12-01", vec![0]),
            ("createdon eq null", vec![1]),
            ("createdon ne 2026-12-01T22:47:00Z", vec![1]),
            // Microsoft.OData pads a time written without its seconds.
            ("createdon eq 2026-12-01T22:47Z", vec![0]),
            ("createdon lt 2026-12-01T23:47+01:00", vec![]),
        ];
        for (text, expected) in cases {
            let expr = filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| matches(&expr, r))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn values_of_another_type_are_refused_as_dataverse_refuses_them() {
        let incompatible = |column: &str, literal: &str, kind: &str| {
            format!(
                "A binary operator with incompatible types was detected. Found operand types '{column}' and '{literal}' for operator kind '{kind}'."
            )
        };
        for (text, expected) in [
            ("statecode eq '0'", incompatible("Edm.Int32", "Edm.String", "Equal")),
            (
                "_ownerid_value eq 'a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d'",
                incompatible("Edm.Guid", "Edm.String", "Equal"),
            ),
            ("name eq 5", incompatible("Edm.String", "Edm.Int32", "Equal")),
            (
                "name ne a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d",
                incompatible("Edm.String", "Edm.Guid", "NotEqual"),
            ),
            (
                "createdon gt '2026-12-01'",
                incompatible("Edm.DateTimeOffset", "Edm.String", "GreaterThan"),
            ),
            ("statecode ge true", incompatible("Edm.Int32", "Edm.Boolean", "GreaterThanOrEqual")),
            ("statecode lt 2026-12-01", incompatible("Edm.Int32", "Edm.Date", "LessThan")),
            ("statecode le 2L", String::new()),
            (
                "contains(statecode, '1')",
                "No function signature for the function with name 'contains' matches the specified arguments. The function signatures considered are: contains(Edm.String Nullable=true, Edm.String Nullable=true).".to_owned(),
            ),
            (
                "createdon gt 2025-11-24T01:11:04",
                "The DateTimeOffset text '2025-11-24T01:11:04' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.".to_owned(),
            ),
        ] {
            match filter(text) {
                Ok(_) => assert!(expected.is_empty(), "{text} parsed"),
                Err(error) => assert_eq!(error, expected, "{text}"),
            }
        }
        for (text, says) in [
            (
                "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
                "not one this platform runs",
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='colour',PropertyValues=["red"])"#,
                "'colour'",
            ),
            (
                "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[1])",
                "list of strings",
            ),
            (
                "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['O''Brien'])",
                "list of strings",
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['O\'Brien'])"#,
                "not closed",
            ),
            (
                "Microsoft.Dynamics.CRM.In(PropertyName='name')",
                "needs PropertyName",
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[])"#,
                "no value",
            ),
            (
                r#"Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=["a"]"#,
                "not closed",
            ),
        ] {
            let error = filter(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
        assert_eq!(
            filter("createdon gt 2025-13-45").unwrap_err(),
            "'2025-13-45' is not a date in $filter: write a date as yyyy-mm-dd"
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert!(filter("colour eq 'red'").unwrap_err().contains("'colour'"));
        assert!(filter("name like 'x'").unwrap_err().contains("'like'"));
        assert!(filter("name eq 'open").unwrap_err().contains("not closed"));
        assert!(filter("name eq red").unwrap_err().contains("quote strings"));
        assert!(filter("(name eq 'x'").is_err());
        let params = HashMap::from([("$expand".to_owned(), "x".to_owned())]);
        assert!(
            Query::parse(&params, &COLUMNS, type_of)
                .unwrap_err()
                .contains("$expand")
        );
        for refused in ["savedQuery", "userQuery"] {
            let params = HashMap::from([(refused.to_owned(), "x".to_owned())]);
            let error = Query::parse(&params, &COLUMNS, type_of).unwrap_err();
            assert!(
                error.contains(refused) && error.contains("$filter"),
                "{error}"
            );
        }
        // The entity sets take FetchXML before any OData option is parsed.
        for elsewhere in ["fetchXml", "FETCHXML"] {
            let params = HashMap::from([(elsewhere.to_owned(), "<fetch/>".to_owned())]);
            let error = Query::parse(&params, &COLUMNS, type_of).unwrap_err();
            assert!(error.contains("entity sets"), "{error}");
        }
        let params = HashMap::from([("$select".to_owned(), "name,colour".to_owned())]);
        assert!(
            Query::parse(&params, &COLUMNS, type_of)
                .unwrap_err()
                .contains("'colour'")
        );
    }

    #[test]
    fn nesting_is_bounded_not_a_stack_overflow() {
        let deep = |n: usize| format!("{}name eq 'x'{}", "(".repeat(n), ")".repeat(n));
        assert!(filter(&deep(100)).is_ok());
        for text in [
            deep(2_500),
            deep(200_000),
            format!("{}name eq 'x'", "not ".repeat(100_000)),
        ] {
            let error = filter(&text).unwrap_err();
            assert!(error.starts_with("Recursion depth exceeded"), "{error}");
        }
        // A long flat chain parses without recursion and evaluates without it.
        let chain = vec!["name eq 'x'"; 50_000].join(" and ");
        let expr = filter(&chain).unwrap();
        assert!(!matches(&expr, &json!({"name": "y"})));
    }

    #[test]
    fn like_is_sqls() {
        for (text, pattern, expected) in [
            ("Finance bots", "fin%", true),
            ("Finance bots", "%BOTS", true),
            ("Finance bots", "%nce%", true),
            ("Finance bots", "f_nance bots", true),
            ("Finance bots", "f_nance", false),
            ("FIN-VM-01", "fin-vm-0[1-3]", true),
            ("FIN-VM-04", "fin-vm-0[1-3]", false),
            ("FIN-VM-04", "fin-vm-0[^1-3]", true),
            ("a[b", "a[b", true),
            ("50%", "50[%]", true),
            ("", "%", true),
            ("", "_", false),
            ("abc", "a%%c", true),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%a%c", false),
        ] {
            assert_eq!(like(text, pattern), expected, "{text} LIKE {pattern}");
        }
        let row = json!({"name": "x", "n": 1});
        assert!(!matches(&Expr::Like("n".into(), "%".into()), &row));
        assert!(!matches(&Expr::Like("absent".into(), "%".into()), &row));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,60}") {
            let _ = filter(&text);
        }

        #[test]
        fn like_never_panics(text in "\\PC{0,30}", pattern in "[%_\\[\\]^a-c-]{0,12}") {
            let _ = like(&text, &pattern);
        }
    }
}
