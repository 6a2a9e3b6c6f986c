//! FetchXML's elements read into a [`Plan`]: tables and columns checked
//! against those served, conditions translated into the OData engine's
//! [`Expr`], and every count a caller controls bounded.

mod aggregate;
mod check;
mod filter;
mod order;
#[cfg(test)]
mod tests;

use uuid::Uuid;

use self::check::{
    attributes_known, children_known, column, flag, link_kind, named, no_entity, node_refusal,
    positive, required, table_named,
};
use super::xml::Element;
use super::{Refusal, codes};
use crate::dataverse::odata::Expr;
use crate::dataverse::tables::Table;

pub use self::check::logical;

/// Dataverse's limit on link-entities in one query ("Join tables").
pub const MAX_LINKS: usize = 15;
/// Filters nested deeper are refused (Dataverse documents no limit).
pub const MAX_FILTER_DEPTH: usize = 32;
/// Conditions and values in one query: below SQL Server's 2,100 parameters,
/// which Dataverse's queries become.
pub const MAX_CONDITIONS: usize = 2_000;
/// `top` and `count` ("fetch element", "Page results").
pub const MAX_PAGE_SIZE: usize = 5_000;
/// Rows an aggregate may read ("Aggregate data": `aggregatelimit` cannot
/// exceed it).
pub const AGGREGATE_LIMIT: usize = 50_000;
/// The longest `like` pattern: matching costs the text's length times it.
pub const MAX_PATTERN: usize = 500;

/// A query, ready to run.
#[derive(Debug)]
pub struct Plan {
    pub root: Node,
    /// The root entity's filter, over the joined rows: a condition with
    /// `entityname` reads a link-entity's column there.
    pub filter: Option<Expr>,
    /// Keys of the joined rows (or of the aggregated ones), descending or not.
    pub orders: Vec<(String, bool)>,
    /// What each answered row holds.
    pub outputs: Vec<Output>,
    /// The root's columns for `@odata.context`; `None` for all of them.
    pub selected: Option<Vec<String>>,
    pub top: Option<usize>,
    pub count: Option<usize>,
    pub page: usize,
    pub total_count: bool,
    pub distinct: bool,
    pub aggregate: Option<Aggregation>,
    /// Ordered by a linked table's column: Dataverse gives no paging cookie.
    pub orders_by_link: bool,
}

/// A table's rows, filtered, with its link-entities joined.
#[derive(Debug)]
pub struct Node {
    pub table: Table,
    pub filter: Option<Expr>,
    pub links: Vec<Link>,
}

#[derive(Debug)]
pub struct Link {
    pub alias: String,
    /// The linked table's column.
    pub from: &'static str,
    /// The parent's column.
    pub to: &'static str,
    pub kind: LinkKind,
    pub node: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Parent rows with a match, once per match.
    Inner,
    /// Every parent row, once per match or once alone.
    Outer,
    /// `exists` and `in`: parent rows with a match, once, no columns.
    Exists,
}

/// A key of the joined row and the name it is answered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub source: String,
    pub name: String,
}

#[derive(Debug)]
pub struct Aggregation {
    pub groups: Vec<Output>,
    pub measures: Vec<Measure>,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub source: String,
    pub alias: String,
    pub function: Function,
    pub distinct: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Count,
    CountColumn,
    Min,
    Max,
    Sum,
    Avg,
}

impl Plan {
    /// The tables the query reads, each once.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        let mut pending = vec![&self.root];
        while let Some(node) = pending.pop() {
            if !tables.contains(&node.table) {
                tables.push(node.table);
            }
            pending.extend(node.links.iter().map(|link| &link.node));
        }
        tables
    }
}

/// Reads the FetchXML `root` sent to the entity set of `table`, for the
/// systemuser `user` (`eq-userid`).
pub fn plan(root: &Element, table: Table, user: Uuid) -> Result<Plan, Refusal> {
    if root.name != "fetch" {
        return Err(node_refusal(root, &["fetch"]));
    }
    attributes_known(root, FETCH_ATTRIBUTES, &["datasource"])?;
    children_known(root, &["entity"])?;
    let entity = match root.children.as_slice() {
        [entity] => entity,
        [] => return Err(no_entity()),
        [_, extra, ..] => {
            return Err(Refusal::new(
                codes::INVALID_NODE,
                format!(
                    "A fetch has one entity; this one has another: {}",
                    extra.shown()
                ),
            ));
        }
    };
    let mut planner = Planner {
        user,
        aggregate: flag(root, "aggregate", codes::INVALID_ARGUMENT)?,
        ..Planner::default()
    };
    attributes_known(
        entity,
        &["name", "enableprefiltering", "prefilterparametername"],
        &[],
    )?;
    let name = entity.attribute("name").ok_or_else(no_entity)?;
    let found = table_named(name)?;
    if found != table {
        return Err(Refusal::new(
            codes::ENTITIES_DONT_MATCH,
            format!(
                "The fetch's entity is {name}, but the request is for {}: send it to {} (its entity set), or name {} in <entity name>.",
                table.entity_set(),
                found.entity_set(),
                table.logical_name()
            ),
        ));
    }
    let root_entity = Within { table, link: None };
    let (root_node, filter) = planner.entity(entity, root_entity)?;
    planner.finish(root, root_node, filter)
}

const FETCH_ATTRIBUTES: &[&str] = &[
    "version",
    "output-format",
    "mapping",
    "distinct",
    "no-lock",
    "top",
    "count",
    "page",
    "paging-cookie",
    "returntotalrecordcount",
    "aggregate",
    "aggregatelimit",
    "latematerialize",
    "options",
    "useraworderby",
    "min-active-row-version",
];

/// An entity of the query: its table, and its alias when it is a
/// link-entity (`None` for the root). The elements inside an entity are
/// read within it.
#[derive(Clone, Copy)]
struct Within<'a> {
    table: Table,
    link: Option<&'a str>,
}

impl Within<'_> {
    fn is_root(self) -> bool {
        self.link.is_none()
    }

    /// The row key of the column with the logical name `name`.
    fn key(self, name: &str) -> Result<String, Refusal> {
        Ok(self.qualify(column(self.table, name)?))
    }

    /// A row key of this entity's table as the joined rows name it: under
    /// the link-entity's alias (`alias.column`), bare at the root.
    fn qualify(self, column: &str) -> String {
        match self.link {
            Some(link) => format!("{link}.{column}"),
            None => column.to_owned(),
        }
    }
}

/// What reading the elements has gathered so far.
#[derive(Default)]
struct Planner {
    user: Uuid,
    aggregate: bool,
    links: usize,
    conditions: usize,
    aliases: Vec<(String, Table)>,
    outputs: Vec<Output>,
    selected: Option<Vec<String>>,
    root_orders: Vec<(String, bool)>,
    link_orders: Vec<(String, bool)>,
    groups: Vec<Output>,
    measures: Vec<Measure>,
}

impl Planner {
    /// An `entity` or `link-entity`'s children. Link-entities first, so the
    /// root's filters and orders can name their aliases wherever they stand.
    fn entity(
        &mut self,
        element: &Element,
        within: Within<'_>,
    ) -> Result<(Node, Option<Expr>), Refusal> {
        let table = within.table;
        children_known(
            element,
            &[
                "attribute",
                "all-attributes",
                "no-attrs",
                "order",
                "filter",
                "link-entity",
            ],
        )?;
        let mut links = Vec::new();
        for child in named(element, "link-entity") {
            links.push(self.link(child, table)?);
        }
        self.columns(element, within)?;
        for order in named(element, "order") {
            self.order(order, within)?;
        }
        let mut filters = Vec::new();
        for filter in named(element, "filter") {
            filters.push(self.filter(filter, within, 1)?);
        }
        let filter = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(Expr::And(filters)),
        };
        let node = Node {
            table,
            filter: None,
            links,
        };
        Ok((node, filter))
    }

    fn link(&mut self, element: &Element, parent: Table) -> Result<Link, Refusal> {
        attributes_known(
            element,
            &[
                "name",
                "from",
                "to",
                "alias",
                "link-type",
                "intersect",
                "visible",
                "enableprefiltering",
                "prefilterparametername",
            ],
            &[],
        )?;
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(Refusal::new(
                codes::TOO_MANY_LINKS,
                format!(
                    "Number of link entities in query exceeded maximum limit. A query joins at most {MAX_LINKS} link-entities."
                ),
            ));
        }
        let name = element.attribute("name").ok_or_else(|| {
            Refusal::new(
                codes::NO_ENTITY,
                format!("A link-entity needs a name: {}", element.shown()),
            )
        })?;
        let table = table_named(name)?;
        let from = match element.attribute("from") {
            Some(from) => column(table, from)?,
            None => table.key(),
        };
        let to = match element.attribute("to") {
            Some(to) => column(parent, to)?,
            None => parent.key(),
        };
        let kind = link_kind(element.attribute("link-type").unwrap_or("inner"))?;
        let columns = named(element, "attribute").chain(named(element, "all-attributes"));
        if kind == LinkKind::Exists && columns.count() > 0 {
            return Err(Refusal::new(
                codes::INVALID_NODE,
                format!(
                    "A link-entity of link-type 'exists' or 'in' returns no columns: use link-type 'inner' to read {name}'s attributes."
                ),
            ));
        }
        let alias = self.alias_for(element.attribute("alias"), table, from)?;
        let within = Within {
            table,
            link: Some(&alias),
        };
        let (mut node, filter) = self.entity(element, within)?;
        node.filter = filter;
        Ok(Link {
            alias,
            from,
            to,
            kind,
            node,
        })
    }

    /// The alias given, or Dataverse's default: the table's logical name
    /// for a many-to-one link (on the linked table's key), otherwise the
    /// name and a number.
    fn alias_for(
        &mut self,
        given: Option<&str>,
        table: Table,
        from: &str,
    ) -> Result<String, Refusal> {
        let used = |aliases: &[(String, Table)], name: &str| aliases.iter().any(|(a, _)| a == name);
        let alias = match given {
            Some(alias) if alias.is_empty() || alias.contains('.') || alias.contains('@') => {
                return Err(Refusal::new(
                    codes::INVALID_ALIAS,
                    format!("'{alias}' is not an alias: use letters, digits and '_'."),
                ));
            }
            Some(alias) if used(&self.aliases, alias) => {
                return Err(Refusal::new(
                    codes::INVALID_ALIAS,
                    format!("The alias '{alias}' names two link-entities: give each its own."),
                ));
            }
            Some(alias) => alias.to_owned(),
            None => {
                let name = table.logical_name();
                match from == table.key() && !used(&self.aliases, name) {
                    true => name.to_owned(),
                    false => (1..=MAX_LINKS + 1)
                        .map(|n| format!("{name}{n}"))
                        .find(|a| !used(&self.aliases, a))
                        .unwrap_or_else(|| name.to_owned()),
                }
            }
        };
        self.aliases.push((alias.clone(), table));
        Ok(alias)
    }

    /// `attribute`, `all-attributes` and `no-attrs`: what the answer holds.
    /// A root entity that names none answers all its columns.
    fn columns(&mut self, element: &Element, within: Within<'_>) -> Result<(), Refusal> {
        let table = within.table;
        let all = named(element, "all-attributes").next().is_some();
        let attributes: Vec<&Element> = named(element, "attribute").collect();
        if self.aggregate {
            if all {
                return Err(Refusal::new(
                    codes::ATTRIBUTE_WITH_AGGREGATE,
                    "An aggregate query returns only its aggregates and groups: remove <all-attributes/>.",
                ));
            }
            return attributes
                .iter()
                .try_for_each(|a| self.aggregate_attribute(a, within));
        }
        let none = named(element, "no-attrs").next().is_some();
        let everything = all || (within.is_root() && attributes.is_empty() && !none);
        if within.is_root() {
            self.selected = (!everything).then(|| vec![table.key().to_owned()]);
        }
        if everything {
            for column in table.columns() {
                self.output(column, None, within);
            }
        }
        for attribute in attributes {
            if attribute.attribute("aggregate").is_some()
                || attribute.attribute("groupby").is_some()
            {
                return Err(Refusal::new(
                    codes::INVALID_AGGREGATE,
                    format!(
                        "aggregate and groupby need an aggregate query: <fetch aggregate='true'>. {}",
                        attribute.shown()
                    ),
                ));
            }
            attributes_known(
                attribute,
                &["name", "alias", "build", "addedby", "usertimezone"],
                &["distinct", "dategrouping", "rowaggregate"],
            )?;
            let column = column(table, required(attribute, "name")?)?;
            self.output(column, attribute.attribute("alias"), within);
            if let (true, Some(selected)) = (within.is_root(), self.selected.as_mut())
                && !selected.iter().any(|c| c == column)
            {
                selected.push(column.to_owned());
            }
        }
        Ok(())
    }

    /// Answers `column` of the entity it is read within, under `name`, or
    /// under Dataverse's default.
    fn output(&mut self, column: &str, name: Option<&str>, within: Within<'_>) {
        // Dataverse names a linked column `alias.logicalname` by default.
        let default = match within.link {
            None => column.to_owned(),
            Some(link) => format!("{link}.{}", logical(column)),
        };
        let output = Output {
            source: within.qualify(column),
            name: name.map_or(default, str::to_owned),
        };
        if !self.outputs.contains(&output) {
            self.outputs.push(output);
        }
    }

    /// The plan, once every element has been read.
    fn finish(self, fetch: &Element, root: Node, filter: Option<Expr>) -> Result<Plan, Refusal> {
        let top = positive(fetch, "top")?;
        let count = positive(fetch, "count")?;
        let page = positive(fetch, "page")?;
        let total_count = flag(fetch, "returntotalrecordcount", codes::INVALID_ARGUMENT)?;
        for (name, given) in [
            ("page", page.is_some()),
            ("count", count.is_some()),
            ("returntotalrecordcount", total_count),
        ] {
            if top.is_some() && given {
                return Err(Refusal::new(
                    codes::INVALID_ARGUMENT,
                    format!(
                        "The top attribute can't be specified with paging attribute {name}: use count and page to page, or top alone."
                    ),
                ));
            }
        }
        for (name, value) in [("top", top), ("count", count)] {
            if value.is_some_and(|v| v > MAX_PAGE_SIZE) {
                return Err(Refusal::new(
                    codes::INVALID_ARGUMENT,
                    format!(
                        "{name} is at most {MAX_PAGE_SIZE}: page through larger results with count and page."
                    ),
                ));
            }
        }
        if let Some(mapping) = fetch.attribute("mapping").filter(|m| *m != "logical") {
            return Err(Refusal::new(
                codes::INVALID_MAPPING,
                format!("mapping is 'logical', not '{mapping}'."),
            ));
        }
        for boolean in ["no-lock", "latematerialize", "useraworderby"] {
            flag(fetch, boolean, codes::INVALID_ARGUMENT)?;
        }
        let aggregate = self.aggregation(fetch)?;
        let mut orders = self.root_orders;
        let orders_by_link =
            !self.link_orders.is_empty() || orders.iter().any(|(k, _)| k.contains('.'));
        orders.extend(self.link_orders);
        Ok(Plan {
            root,
            filter,
            orders,
            outputs: self.outputs,
            selected: self.selected,
            top,
            count,
            page: page.unwrap_or(1),
            total_count,
            distinct: flag(fetch, "distinct", codes::INVALID_DISTINCT)?,
            aggregate,
            orders_by_link,
        })
    }
}
