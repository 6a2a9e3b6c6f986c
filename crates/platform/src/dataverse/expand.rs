//! `$expand` on the tables' entity sets: the navigation properties a table
//! has (a solution's `publisherid`, as the Terraform provider reads it),
//! each with its own `$select` when one is nested, as in the Web API's
//! "Join tables using OData" (`$expand=primarycontactid($select=fullname)`).
//! A navigation property here leads to one row, for which Dataverse takes
//! `$select` (and `$expand`) only; the other nested options are refused
//! with a message that says so.

use serde_json::{Map, Value};

use super::DataverseError;
use super::odata::split_top_level;
use super::tables::Table;

/// One navigation property to expand, with the columns it keeps (all
/// when `select` is `None`).
#[derive(Debug)]
pub struct Expansion {
    pub name: String,
    select: Option<Vec<String>>,
    /// The related row's key, which every projection keeps.
    key: &'static str,
}

impl Expansion {
    /// The related row as the answer shows it: its selected columns.
    pub fn project(&self, related: &Value) -> Value {
        match (&self.select, related) {
            (Some(select), Value::Object(fields)) => {
                let kept: Map<String, Value> = fields
                    .iter()
                    .filter(|(name, _)| *name == self.key || select.contains(name))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                Value::Object(kept)
            }
            _ => related.clone(),
        }
    }
}

/// Parses `$expand`'s value for `table`.
pub fn parse(value: &str, table: Table) -> Result<Vec<Expansion>, DataverseError> {
    top_level(value)?
        .into_iter()
        .map(|item| expansion(item.trim(), table))
        .collect()
}

/// The comma-separated items, commas inside parentheses and quotes kept.
fn top_level(value: &str) -> Result<Vec<&str>, DataverseError> {
    split_top_level(value, ',').ok_or_else(|| unbalanced(value))
}

fn unbalanced(value: &str) -> DataverseError {
    DataverseError::bad_request(format!(
        "The parentheses of $expand={value} do not match: write name or name($select=a,b)."
    ))
}

fn expansion(item: &str, table: Table) -> Result<Expansion, DataverseError> {
    let (name, options) = match item.split_once('(') {
        Some((name, rest)) => {
            let options = rest.strip_suffix(')').ok_or_else(|| unbalanced(item))?;
            (name.trim(), Some(options.trim()))
        }
        None => (item, None),
    };
    let Some(&(name, columns)) = table.expandable().iter().find(|(n, _)| *n == name) else {
        return Err(DataverseError::bad_request(format!(
            "Could not find a navigation property named '{name}' on {}: $expand takes {}",
            table.entity_set(),
            match table.expandable() {
                [] => "nothing on this table".to_owned(),
                navigations => navigations
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        )));
    };
    let mut select = None;
    let options = match options {
        Some(options) => split_top_level(options, ';').ok_or_else(|| unbalanced(item))?,
        None => Vec::new(),
    };
    for option in options {
        match option.trim().split_once('=') {
            Some(("$select", list)) => select = Some(selected(list, name, columns)?),
            _ => {
                return Err(DataverseError::bad_request(format!(
                    "'{}' is not taken in $expand of '{name}' by this platform (Dataverse takes $select and $expand in a navigation property that leads to one row): nest $select only, as {name}($select={}).",
                    option.trim(),
                    columns.join(",")
                )));
            }
        }
    }
    Ok(Expansion {
        name: name.to_owned(),
        select,
        key: columns.first().copied().unwrap_or(name),
    })
}

fn selected(list: &str, navigation: &str, columns: &[&str]) -> Result<Vec<String>, DataverseError> {
    list.split(',')
        .map(|column| {
            let column = column.trim();
            match columns.contains(&column) {
                true => Ok(column.to_owned()),
                false => Err(DataverseError::bad_request(format!(
                    "Could not find a property named '{column}' on the row '{navigation}' leads to: select among {}",
                    columns.join(", ")
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataverse::solution_tables::SolutionTable;
    use serde_json::json;

    const SOLUTIONS: Table = Table::Solution(SolutionTable::Solutions);

    #[test]
    fn a_nested_select_keeps_its_columns_and_the_key() {
        let [publisher] = parse("publisherid($select=uniquename, friendlyname)", SOLUTIONS)
            .unwrap()
            .try_into()
            .unwrap();
        let related = json!({"publisherid": "p", "uniquename": "u", "friendlyname": "f", "customizationprefix": "c"});
        assert_eq!(
            publisher.project(&related),
            json!({"publisherid": "p", "uniquename": "u", "friendlyname": "f"})
        );
        let [whole] = parse("publisherid", SOLUTIONS).unwrap().try_into().unwrap();
        assert_eq!(whole.project(&related), related);
    }

    #[test]
    fn what_is_not_served_is_refused_with_what_is() {
        for (value, says) in [
            (
                "publisherid($filter=uniquename eq 'x')",
                "nest $select only",
            ),
            ("publisherid($select=colour)", "'colour'"),
            ("publisherid($select=uniquename", "parentheses"),
            ("publisherid)", "parentheses"),
            ("publisherid($select=uniquename)x", "parentheses"),
            ("owner", "'owner'"),
        ] {
            let error = parse(value, SOLUTIONS).unwrap_err();
            assert!(
                error.body().to_string().contains(says),
                "{value}: {}",
                error.body()
            );
        }
    }
}
