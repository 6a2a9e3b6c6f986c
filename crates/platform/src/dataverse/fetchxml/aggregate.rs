//! `aggregate='true'`: the joined rows grouped by the `groupby` attributes,
//! each group one row of its groups' values and its aggregates, under their
//! aliases ("Aggregate data using FetchXml"). Null values are not counted
//! or computed; `count` counts rows, `countcolumn` values.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::parse::{Aggregation, Function, Measure, Plan};
use super::run::{Joined, Run};
use super::{Refusal, codes};
use crate::dataverse::odata::{Query, compare};

/// The aggregated rows, ordered by the plan's aliases.
pub fn rows(plan: &Plan, aggregation: &Aggregation, run: &Run<'_>) -> Result<Vec<Value>, Refusal> {
    let rows = &run.rows;
    if rows.len() > aggregation.limit {
        return Err(Refusal::new(
            codes::AGGREGATE_LIMIT,
            format!(
                "AggregateQueryRecordLimit exceeded. Cannot perform this operation. The maximum record limit is exceeded ({} rows, at most {}): reduce the number of records with a filter.",
                rows.len(),
                aggregation.limit
            ),
        ));
    }
    let grouped = groups(aggregation, run)
        .into_iter()
        .map(|(values, members)| {
            let mut out = Map::new();
            for (group, value) in aggregation.groups.iter().zip(values) {
                if !value.is_null() {
                    out.insert(group.name.clone(), value);
                }
            }
            for measure in &aggregation.measures {
                let value = compute(measure, &members, run);
                if !value.is_null() {
                    out.insert(measure.alias.clone(), value);
                }
            }
            Value::Object(out)
        })
        .collect();
    let order = Query {
        orderby: plan.orders.clone(),
        ..Query::default()
    };
    // No key to end ties: rows without an order keep the groups' order.
    Ok(order.apply(grouped, ""))
}

/// The rows of each group, in the order groups are first met; without
/// `groupby`, one group of all the rows, even none (as SQL answers one row).
fn groups<'r>(aggregation: &Aggregation, run: &'r Run<'_>) -> Vec<(Vec<Value>, Vec<&'r Joined>)> {
    if aggregation.groups.is_empty() {
        return vec![(Vec::new(), run.rows.iter().collect())];
    }
    let mut found: Vec<(Vec<Value>, Vec<&Joined>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in &run.rows {
        let values: Vec<Value> = aggregation
            .groups
            .iter()
            .map(|g| run.value(row, &g.source).clone())
            .collect();
        // Strings group without case, as Dataverse's collation compares them.
        let key: Vec<Value> = values
            .iter()
            .map(|v| match v {
                Value::String(s) => Value::String(s.to_lowercase()),
                other => other.clone(),
            })
            .collect();
        let at = *index.entry(json!(key).to_string()).or_insert_with(|| {
            found.push((values, Vec::new()));
            found.len() - 1
        });
        found[at].1.push(row);
    }
    found
}

fn compute(measure: &Measure, rows: &[&Joined], run: &Run<'_>) -> Value {
    let values: Vec<&Value> = rows
        .iter()
        .map(|row| run.value(row, &measure.source))
        .filter(|v| !v.is_null())
        .collect();
    match measure.function {
        Function::Count => json!(rows.len()),
        Function::CountColumn if measure.distinct => {
            let unique: HashSet<String> = values
                .iter()
                .map(|v| v.to_string().to_lowercase())
                .collect();
            json!(unique.len())
        }
        Function::CountColumn => json!(values.len()),
        Function::Min => extreme(&values, Ordering::Less),
        Function::Max => extreme(&values, Ordering::Greater),
        Function::Sum => sum(&values).map_or(Value::Null, |(sum, _)| sum),
        Function::Avg => average(&values),
    }
}

/// The value that compares `wanted` to every other.
fn extreme(values: &[&Value], wanted: Ordering) -> Value {
    values
        .iter()
        .copied()
        .reduce(|best, v| match compare(v, best) {
            Some(o) if o == wanted => v,
            _ => best,
        })
        .cloned()
        .unwrap_or(Value::Null)
}

/// The numbers' sum and how many there were: whole while they all are and
/// it fits, otherwise a float. Values that are not numbers are left out.
fn sum(values: &[&Value]) -> Option<(Value, usize)> {
    let numbers: Vec<&serde_json::Number> = values.iter().filter_map(|v| v.as_number()).collect();
    if numbers.is_empty() {
        return None;
    }
    let whole = numbers
        .iter()
        .try_fold(0_i64, |sum, n| sum.checked_add(n.as_i64()?));
    let value = match whole {
        Some(total) => json!(total),
        None => json!(numbers.iter().filter_map(|n| n.as_f64()).sum::<f64>()),
    };
    Some((value, numbers.len()))
}

/// As SQL Server's `AVG`: whole numbers average to a whole number (the
/// quotient truncated), others to a float.
fn average(values: &[&Value]) -> Value {
    let Some((total, count)) = sum(values) else {
        return Value::Null;
    };
    match (total.as_i64(), i64::try_from(count)) {
        (Some(total), Ok(count)) if count > 0 => json!(total / count),
        _ => json!(total.as_f64().unwrap_or_default() / count as f64),
    }
}
