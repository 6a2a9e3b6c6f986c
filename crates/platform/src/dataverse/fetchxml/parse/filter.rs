//! `filter` and `condition` elements translated into the OData engine's
//! [`Expr`]: each operator as the comparison, `LIKE` or null test it is in
//! SQL, so a null value matches no condition but `null`.

use uuid::Uuid;

use super::check::{
    attributes_known, children_known, column, logical, named, node_refusal, required,
};
use super::{MAX_CONDITIONS, MAX_FILTER_DEPTH, MAX_PATTERN, Planner, Within};
use crate::dataverse::fetchxml::xml::Element;
use crate::dataverse::fetchxml::{Refusal, codes};
use crate::dataverse::odata::{Edm, Expr, Op};
use crate::dataverse::tables::Table;

impl Planner {
    pub(super) fn filter(
        &mut self,
        element: &Element,
        within: Within<'_>,
        depth: usize,
    ) -> Result<Expr, Refusal> {
        if depth > MAX_FILTER_DEPTH {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!(
                    "Filters are nested more than {MAX_FILTER_DEPTH} deep: write the condition flatter."
                ),
            ));
        }
        attributes_known(
            element,
            &[
                "type",
                "hint",
                "isquickfindfields",
                "overridequickfindrecordlimitenabled",
                "overridequickfindrecordlimitdisabled",
            ],
            &[],
        )?;
        let or = match element.attribute("type").unwrap_or("and") {
            "and" => false,
            "or" => true,
            other => {
                return Err(Refusal::new(
                    codes::INVALID_FILTER_TYPE,
                    format!("A filter's type is 'and' or 'or', not '{other}'."),
                ));
            }
        };
        let mut parts = Vec::new();
        for child in &element.children {
            match child.name.as_str() {
                "condition" => parts.push(self.condition(child, within)?),
                "filter" => parts.push(self.filter(child, within, depth + 1)?),
                "link-entity" => {
                    return Err(Refusal::new(
                        codes::INVALID_NODE,
                        "A link-entity inside a filter (link-type any, not any, all, not all) is not supported by this platform: join it beside the filter with link-type 'exists' or 'outer' and a condition with entityname.",
                    ));
                }
                _ => return Err(node_refusal(child, &["condition", "filter"])),
            }
        }
        Ok(match (or, parts.is_empty()) {
            (true, false) => Expr::Or(parts),
            _ => Expr::And(parts),
        })
    }

    fn condition(&mut self, element: &Element, within: Within<'_>) -> Result<Expr, Refusal> {
        let table = within.table;
        attributes_known(
            element,
            &[
                "attribute",
                "operator",
                "value",
                "entityname",
                "uiname",
                "uitype",
                "uihidden",
            ],
            &["valueof", "alias", "column"],
        )?;
        children_known(element, &["value"])?;
        let name = required(element, "attribute")?;
        let (key, typed) = match element.attribute("entityname") {
            None => (column(table, name)?.to_owned(), table),
            Some(_) if !within.is_root() => {
                return Err(Refusal::new(
                    codes::INVALID_ARGUMENT,
                    "entityname is read in the root entity's filters: move this condition there.",
                ));
            }
            Some(entity) => (
                self.entity_key(entity, table, name)?,
                self.entity_named(entity, table)?.1,
            ),
        };
        let operator = required(element, "operator")?;
        let values: Vec<String> = named(element, "value")
            .map(|v| v.text.trim().to_owned())
            .collect();
        let attribute = Attribute {
            table: typed,
            column: column(typed, name)?,
        };
        // The operators that read no value, or one of their own.
        if !matches!(operator, "null" | "not-null" | "eq-userid" | "ne-userid") {
            let given = element.attribute("value").into_iter();
            for value in given.chain(values.iter().map(String::as_str)) {
                attribute.converts(value)?;
            }
        }
        self.conditions += 1 + values.len();
        if self.conditions > MAX_CONDITIONS {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!(
                    "The query has more than {MAX_CONDITIONS} conditions and values: split it."
                ),
            ));
        }
        let condition = Condition {
            key,
            operator,
            value: element.attribute("value").map(str::to_owned).or_else(|| {
                match values.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                }
            }),
            values,
            user: self.user,
        };
        condition.expr()
    }
}

/// The column a condition reads, for converting its values to the
/// column's type as Dataverse does before it runs the query.
struct Attribute {
    table: Table,
    column: &'static str,
}

impl Attribute {
    /// Refuses a value Dataverse cannot convert to the column's type, in
    /// the words it answers (`ConvertHelper.FromXmlString`'s
    /// FormatException, quoted by FetchXML users: "...convert input value
    /// 'a%' to attribute 'deac_servicecontract.deac_accountid'. Expected
    /// type of attribute value: System.Guid. Exception raised: Guid should
    /// contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
    /// and "...Expected type of attribute value: System.Int32. Exception
    /// raised: Input string was not in a correct format.",
    /// seanmcne/Microsoft.Xrm.Data.PowerShell#395). Only those two types are
    /// checked: no source shows the words for the others, whose values that
    /// do not convert match nothing. No capture shows the code either: it
    /// is InvalidArgument's.
    fn converts(&self, value: &str) -> Result<(), Refusal> {
        let (expected, why) = match self.table.edm_type(self.column) {
            Edm::Guid if uuid::Uuid::try_parse(value.trim()).is_err() => (
                "System.Guid",
                "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
            ),
            Edm::Int32 if value.trim().parse::<i32>().is_err() => {
                ("System.Int32", "Input string was not in a correct format.")
            }
            _ => return Ok(()),
        };
        Err(Refusal::new(
            codes::INVALID_ARGUMENT,
            format!(
                "An exception System.FormatException was thrown while trying to convert input value '{value}' to attribute '{}.{}'. Expected type of attribute value: {expected}. Exception raised: {why}",
                self.table.logical_name(),
                logical(self.column)
            ),
        ))
    }
}

/// A condition's parts, to translate.
struct Condition<'a> {
    key: String,
    operator: &'a str,
    /// The `value` attribute, or the only `<value>`.
    value: Option<String>,
    values: Vec<String>,
    user: Uuid,
}

/// The operators translated below, named in refusals.
const OPERATORS: &str = "eq, ne, gt, ge, lt, le, like, not-like, begins-with, not-begin-with, ends-with, not-end-with, in, not-in, between, not-between, null, not-null, eq-userid, ne-userid";

impl Condition<'_> {
    fn expr(&self) -> Result<Expr, Refusal> {
        let key = || self.key.clone();
        let text = |op| Ok(Expr::Text(key(), op, self.single()?));
        Ok(match self.operator {
            "eq" => text(Op::Eq)?,
            "ne" | "neq" => text(Op::Ne)?,
            "gt" => text(Op::Gt)?,
            "ge" => text(Op::Ge)?,
            "lt" => text(Op::Lt)?,
            "le" => text(Op::Le)?,
            "null" => Expr::Compare(key(), Op::Eq, serde_json::Value::Null),
            "not-null" => self.not_null(),
            "eq-userid" => Expr::Text(key(), Op::Eq, self.user.to_string()),
            "ne-userid" => Expr::Text(key(), Op::Ne, self.user.to_string()),
            "like" => Expr::Like(key(), self.pattern(|v| v.to_owned())?),
            "not-like" => self.unlike(self.pattern(|v| v.to_owned())?),
            "begins-with" => Expr::Like(key(), self.pattern(|v| format!("{}%", literal(v)))?),
            "not-begin-with" => self.unlike(self.pattern(|v| format!("{}%", literal(v)))?),
            "ends-with" => Expr::Like(key(), self.pattern(|v| format!("%{}", literal(v)))?),
            "not-end-with" => self.unlike(self.pattern(|v| format!("%{}", literal(v)))?),
            "in" => Expr::Or(self.each(Op::Eq, 1..)?),
            "not-in" => Expr::And(self.each(Op::Ne, 1..)?),
            "between" => Expr::And(self.range(Op::Ge, Op::Le)?),
            "not-between" => Expr::Or(self.range(Op::Lt, Op::Gt)?),
            other => {
                return Err(Refusal::new(
                    codes::INVALID_OPERATOR,
                    format!(
                        "The condition operator '{other}' is not one this platform runs: use one of {OPERATORS}."
                    ),
                ));
            }
        })
    }

    fn single(&self) -> Result<String, Refusal> {
        self.value.clone().ok_or_else(|| {
            Refusal::new(
                codes::BAD_CONDITION,
                format!(
                    "The condition on {} with operator '{}' needs a value: value='...'.",
                    self.key, self.operator
                ),
            )
        })
    }

    /// A `like` pattern made of the value, bounded.
    fn pattern(&self, make: impl Fn(&str) -> String) -> Result<String, Refusal> {
        let value = self.single()?;
        if value.chars().count() > MAX_PATTERN {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!(
                    "The {} value of the condition on {} is longer than {MAX_PATTERN} characters.",
                    self.operator, self.key
                ),
            ));
        }
        Ok(make(&value))
    }

    /// SQL: `x NOT LIKE p` is not true for a null `x`.
    fn unlike(&self, pattern: String) -> Expr {
        Expr::And(vec![
            self.not_null(),
            Expr::Not(Box::new(Expr::Like(self.key.clone(), pattern))),
        ])
    }

    fn not_null(&self) -> Expr {
        Expr::Compare(self.key.clone(), Op::Ne, serde_json::Value::Null)
    }

    /// One comparison for each `<value>`, at least `counts.start` of them.
    fn each(&self, op: Op, counts: std::ops::RangeFrom<usize>) -> Result<Vec<Expr>, Refusal> {
        if !counts.contains(&self.values.len()) {
            return Err(Refusal::new(
                codes::BAD_CONDITION,
                format!(
                    "The condition on {} with operator '{}' needs <value> elements: <condition ...><value>a</value><value>b</value></condition>.",
                    self.key, self.operator
                ),
            ));
        }
        Ok(self
            .values
            .iter()
            .map(|v| Expr::Text(self.key.clone(), op, v.clone()))
            .collect())
    }

    fn range(&self, low: Op, high: Op) -> Result<Vec<Expr>, Refusal> {
        match self.values.as_slice() {
            [from, to] => Ok(vec![
                Expr::Text(self.key.clone(), low, from.clone()),
                Expr::Text(self.key.clone(), high, to.clone()),
            ]),
            _ => Err(Refusal::new(
                codes::BAD_CONDITION,
                format!(
                    "The condition on {} with operator '{}' needs two <value> elements, the range's ends.",
                    self.key, self.operator
                ),
            )),
        }
    }
}

/// `value` matched literally inside a `LIKE` pattern.
fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' | '_' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}
