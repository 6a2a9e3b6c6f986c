//! A [`Plan`] run over the rows the caller may read: each node's rows
//! filtered, its link-entities hash-joined, then the root's filter (by the
//! OData engine) and orders applied.
//!
//! A joined row is the index of one row of each table, not a copy: a join
//! that makes many rows of a table with large rows (a flow's definition)
//! costs an index each, and only the page answered is built.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value};

use super::parse::{Link, LinkKind, Node, Plan};
use super::{Refusal, codes};
use crate::dataverse::odata::{Expr, matches, ordering};
use crate::dataverse::tables::Table;

/// The most rows a query's joins may make: Dataverse's limit on simple
/// paging and on aggregates. A query past it is refused, not run.
pub const MAX_JOINED_ROWS: usize = 50_000;

static NULL: Value = Value::Null;

/// Each table's rows the caller may read, read once.
#[derive(Default)]
pub struct Tables(Vec<(Table, Vec<Value>)>);

impl Tables {
    pub fn add(&mut self, table: Table, rows: Vec<Value>) {
        self.0.push((table, rows));
    }

    fn rows(&self, table: Table) -> &[Value] {
        self.0
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(&[], |(_, rows)| rows.as_slice())
    }
}

/// A joined row: for each node of the plan (the root first, then the
/// link-entities depth first), the index of its row among that node's, or
/// `None` where an outer or exists link answers no row.
pub type Joined = Vec<Option<usize>>;

/// The query's rows, joined, filtered and ordered.
pub struct Run<'a> {
    plan: &'a Plan,
    /// Each node's rows, filtered by its own filter.
    nodes: Vec<Vec<&'a Value>>,
    /// Each link-entity's alias and node.
    aliases: Vec<(&'a str, usize)>,
    pub rows: Vec<Joined>,
}

impl<'a> Run<'a> {
    pub fn new(plan: &'a Plan, tables: &'a Tables) -> Result<Self, Refusal> {
        let mut run = Self {
            plan,
            nodes: Vec::new(),
            aliases: Vec::new(),
            rows: Vec::new(),
        };
        let joined = run.node(&plan.root, None, tables)?;
        run.rows = run.filtered_and_ordered(joined);
        Ok(run)
    }

    /// The value a key names in a joined row: `alias.column` a linked
    /// table's, any other the root's.
    pub fn value(&self, row: &Joined, key: &str) -> &'a Value {
        let (node, column) = match key.split_once('.') {
            Some((alias, column)) if !key.starts_with('@') => {
                match self.aliases.iter().find(|(a, _)| *a == alias) {
                    Some((_, node)) => (*node, column),
                    None => return &NULL,
                }
            }
            _ => (0, key),
        };
        match row.get(node).copied().flatten() {
            Some(index) => &self.nodes[node][index][column],
            None => &NULL,
        }
    }

    /// The rows of `node` and of its links, joined.
    fn node(
        &mut self,
        node: &'a Node,
        alias: Option<&'a str>,
        tables: &'a Tables,
    ) -> Result<Vec<Joined>, Refusal> {
        let position = self.nodes.len();
        let rows: Vec<&Value> = tables
            .rows(node.table)
            .iter()
            .filter(|row| node.filter.as_ref().is_none_or(|f| matches(f, row)))
            .collect();
        let mut joined = (0..rows.len()).map(|index| vec![Some(index)]).collect();
        self.nodes.push(rows);
        if let Some(alias) = alias {
            self.aliases.push((alias, position));
        }
        for link in &node.links {
            joined = self.join(joined, position, link, tables)?;
        }
        Ok(joined)
    }

    /// A hash join: the linked rows indexed by their `from` value, each
    /// parent row (of the node at `parent`) looked up by its `to` value.
    fn join(
        &mut self,
        parents: Vec<Joined>,
        parent: usize,
        link: &'a Link,
        tables: &'a Tables,
    ) -> Result<Vec<Joined>, Refusal> {
        let position = self.nodes.len();
        let children = self.node(&link.node, Some(&link.alias), tables)?;
        let width = self.nodes.len() - position;
        let mut index: HashMap<String, Vec<&Joined>> = HashMap::new();
        for child in &children {
            let row = child[0].map_or(&NULL, |i| self.nodes[position][i]);
            if let Some(key) = join_key(&row[link.from]) {
                index.entry(key).or_default().push(child);
            }
        }
        let mut joined = Vec::with_capacity(parents.len());
        for mut row in parents {
            let own = row[0].map_or(&NULL, |i| self.nodes[parent][i]);
            let found = join_key(&own[link.to])
                .and_then(|key| index.get(&key))
                .map_or(&[][..], Vec::as_slice);
            match (link.kind, found) {
                (LinkKind::Inner | LinkKind::Exists, []) => {}
                (LinkKind::Outer, []) | (LinkKind::Exists, _) => {
                    row.resize(row.len() + width, None);
                    joined.push(row);
                }
                (LinkKind::Inner | LinkKind::Outer, found) => {
                    for child in found {
                        let mut both = row.clone();
                        both.extend_from_slice(child);
                        joined.push(both);
                    }
                }
            }
            if joined.len() > MAX_JOINED_ROWS {
                return Err(Refusal::new(
                    codes::INVALID_ARGUMENT,
                    format!(
                        "The link-entity {} makes more than {MAX_JOINED_ROWS} rows: add conditions to its filter or the entity's.",
                        link.alias
                    ),
                ));
            }
        }
        Ok(joined)
    }

    /// The root's filter, then its orders (the root's key last, for a
    /// stable order), as the OData engine's `Query::apply` orders. Each
    /// row is seen through the few columns they read.
    fn filtered_and_ordered(&self, rows: Vec<Joined>) -> Vec<Joined> {
        let mut keys = Vec::new();
        if let Some(filter) = &self.plan.filter {
            keys_of(filter, &mut keys);
        }
        let aggregate = self.plan.aggregate.is_some();
        let orders: &[(String, bool)] = if aggregate { &[] } else { &self.plan.orders };
        keys.extend(orders.iter().map(|(key, _)| key.as_str()));
        let root_key = self.plan.root.table.key();
        keys.push(root_key);
        let mut seen: Vec<(Value, Joined)> = rows
            .into_iter()
            .map(|row| (self.view(&row, &keys), row))
            .filter(|(view, _)| self.plan.filter.as_ref().is_none_or(|f| matches(f, view)))
            .collect();
        if !aggregate {
            seen.sort_by(|(a, _), (b, _)| ordering(a, b, orders, root_key));
        }
        seen.into_iter().map(|(_, row)| row).collect()
    }

    /// A joined row's values of `keys`, as an object the OData engine reads.
    fn view(&self, row: &Joined, keys: &[&str]) -> Value {
        let mut view = Map::new();
        for key in keys {
            view.insert((*key).to_owned(), self.value(row, key).clone());
        }
        Value::Object(view)
    }

    /// A joined row as the answer holds it: the plan's outputs, null values
    /// left out (FetchXML answers omit them), and unless `distinct`, the
    /// root's key and ETag, as Dataverse always returns them.
    pub fn project(&self, row: &Joined) -> Value {
        let mut out = Map::new();
        if !self.plan.distinct {
            for key in ["@odata.etag", self.plan.root.table.key()] {
                match self.value(row, key) {
                    Value::Null => {}
                    value => {
                        out.insert(key.to_owned(), value.clone());
                    }
                }
            }
        }
        for output in &self.plan.outputs {
            match self.value(row, &output.source) {
                Value::Null => {}
                value => {
                    out.insert(output.name.clone(), value.clone());
                }
            }
        }
        Value::Object(out)
    }

    /// The rows whose answers differ, each the first of its kind, in order
    /// (compared by hash: only hashes are kept while reading all of them).
    pub fn distinct(&self) -> Vec<&Joined> {
        let mut seen = HashSet::new();
        self.rows
            .iter()
            .filter(|row| {
                let mut hasher = DefaultHasher::new();
                self.project(row).to_string().hash(&mut hasher);
                seen.insert(hasher.finish())
            })
            .collect()
    }
}

/// The keys a filter reads.
fn keys_of<'e>(expr: &'e Expr, keys: &mut Vec<&'e str>) {
    match expr {
        Expr::Compare(key, ..)
        | Expr::At(key, ..)
        | Expr::Text(key, ..)
        | Expr::Like(key, _)
        | Expr::Contains(key, _)
        | Expr::StartsWith(key, _)
        | Expr::EndsWith(key, _) => keys.push(key),
        Expr::And(all) | Expr::Or(all) => all.iter().for_each(|e| keys_of(e, keys)),
        Expr::Not(inner) => keys_of(inner, keys),
    }
}

/// What two values are joined on: strings without case (GUIDs are written
/// in either), other values as JSON; null joins nothing.
fn join_key(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => n.as_f64().map(|f| f.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::dataverse::fetchxml::{parse, xml};

    fn groups(count: usize) -> Tables {
        let rows = (0..count)
            .map(|n| json!({"flowmachinegroupid": Uuid::new_v4(), "name": format!("g{n:03}"), "statecode": 0}))
            .collect();
        let mut tables = Tables::default();
        tables.add(Table::MachineGroups, rows);
        tables
    }

    fn planned(text: &str) -> Plan {
        parse::plan(
            &xml::parse(text).unwrap(),
            Table::MachineGroups,
            Uuid::nil(),
        )
        .unwrap()
    }

    #[test]
    fn a_join_that_multiplies_rows_is_bounded() {
        // Every row matches every row: 300 × 300 rows, past the bound.
        let plan = planned(
            "<fetch><entity name='flowmachinegroup'><attribute name='name'/><link-entity name='flowmachinegroup' from='statecode' to='statecode' alias='b'><attribute name='name'/></link-entity></entity></fetch>",
        );
        let refusal = Run::new(&plan, &groups(300)).err().unwrap();
        assert!(
            refusal.message.contains("more than 50000 rows"),
            "{refusal:?}"
        );
        // 200 × 200 is within it: indexes, and each answer built only for the page.
        let tables = groups(200);
        let run = Run::new(&plan, &tables).unwrap();
        assert_eq!(run.rows.len(), 40_000);
        let first = run.project(&run.rows[0]);
        assert!(
            first["name"].is_string() && first["b.name"].is_string(),
            "{first}"
        );
    }
}
