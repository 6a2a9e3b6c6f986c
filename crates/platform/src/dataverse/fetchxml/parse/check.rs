//! The names a query uses, checked: tables and columns against those
//! served, elements and attributes against FetchXML's, values against
//! their types; each refusal in Dataverse's words.

use super::{Function, LinkKind};
use crate::dataverse::fetchxml::xml::Element;
use crate::dataverse::fetchxml::{Refusal, codes};
use crate::dataverse::served::ENTITY_SETS;
use crate::dataverse::tables::Table;

pub(super) fn link_kind(name: &str) -> Result<LinkKind, Refusal> {
    match name {
        "inner" => Ok(LinkKind::Inner),
        "outer" => Ok(LinkKind::Outer),
        "exists" | "in" => Ok(LinkKind::Exists),
        "any" | "not any" | "all" | "not all" | "matchfirstrowusingcrossapply" => {
            Err(Refusal::new(
                codes::INVALID_LINK_TYPE,
                format!(
                    "The link-type '{name}' is not supported by this platform: use inner, outer, exists or in."
                ),
            ))
        }
        other => Err(Refusal::new(
            codes::INVALID_LINK_TYPE,
            format!("'{other}' is not a link-type: use inner, outer, exists or in."),
        )),
    }
}

pub(super) fn function_named(name: &str) -> Result<Function, Refusal> {
    Ok(match name {
        "count" => Function::Count,
        "countcolumn" => Function::CountColumn,
        "min" => Function::Min,
        "max" => Function::Max,
        "sum" => Function::Sum,
        "avg" => Function::Avg,
        other => {
            return Err(Refusal::new(
                codes::INVALID_AGGREGATE,
                format!(
                    "'{other}' is not an aggregate: use count, countcolumn, min, max, sum or avg."
                ),
            ));
        }
    })
}

/// The served table whose logical name is `name`.
pub(super) fn table_named(name: &str) -> Result<Table, Refusal> {
    all_tables().find(|t| t.logical_name() == name).ok_or_else(|| {
        let served: Vec<&str> = all_tables().map(Table::logical_name).collect();
        Refusal::new(
            codes::NO_ENTITY,
            format!(
                "The entity with a name = '{name}' with namemapping = 'Logical' was not found in the MetadataCache. This platform serves {}.",
                served.join(", ")
            ),
        )
    })
}

/// Every table served (`served::ENTITY_SETS`, the one list).
pub(super) fn all_tables() -> impl Iterator<Item = Table> {
    ENTITY_SETS
        .iter()
        .filter_map(|set| Table::from_entity_set(set.name))
}

/// A column's logical name: a lookup's `_x_value` is `x`.
pub fn logical(column: &str) -> &str {
    column
        .strip_prefix('_')
        .and_then(|c| c.strip_suffix("_value"))
        .unwrap_or(column)
}

/// The row key of `table`'s column with the logical name `name`.
pub(super) fn column(table: Table, name: &str) -> Result<&'static str, Refusal> {
    table.columns().iter().copied().find(|c| logical(c) == name).ok_or_else(|| {
        let names: Vec<&str> = table.columns().iter().map(|c| logical(c)).collect();
        Refusal::new(
            codes::NO_ATTRIBUTE,
            format!(
                "'{}' entity doesn't contain attribute with Name = '{name}' and NameMapping = 'Logical'. Its attributes here: {}.",
                table.logical_name(),
                names.join(", ")
            ),
        )
    })
}

pub(super) fn no_entity() -> Refusal {
    Refusal::new(
        codes::NO_ENTITY,
        "Entity Name was not specified in FetchXml String. Write <fetch><entity name='...'>...</entity></fetch>.",
    )
}

pub(super) fn named<'a>(
    element: &'a Element,
    name: &'a str,
) -> impl Iterator<Item = &'a Element> + 'a {
    element.children.iter().filter(move |c| c.name == name)
}

pub(super) fn required<'a>(element: &'a Element, name: &str) -> Result<&'a str, Refusal> {
    element.attribute(name).ok_or_else(|| {
        Refusal::new(
            codes::BAD_CONDITION,
            format!(
                "<{}> needs the attribute {name}: {}",
                element.name,
                element.shown()
            ),
        )
    })
}

/// A boolean attribute (`xs:boolean`), false when absent.
pub(super) fn flag(element: &Element, name: &str, code: &'static str) -> Result<bool, Refusal> {
    match element.attribute(name) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(Refusal::new(
            code,
            format!("{name} is 'true' or 'false', not '{other}'."),
        )),
    }
}

/// A positive whole-number attribute.
pub(super) fn positive(element: &Element, name: &str) -> Result<Option<usize>, Refusal> {
    let Some(text) = element.attribute(name) else {
        return Ok(None);
    };
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(Refusal::new(
            codes::NOT_POSITIVE,
            format!("{name} must be a whole number greater than zero, not '{text}'."),
        )),
    }
}

pub(super) fn children_known(element: &Element, allowed: &[&str]) -> Result<(), Refusal> {
    match element
        .children
        .iter()
        .find(|c| !allowed.contains(&c.name.as_str()))
    {
        Some(child) => Err(node_refusal(child, allowed)),
        None => Ok(()),
    }
}

/// Dataverse's words for an element where it does not belong.
pub(super) fn node_refusal(element: &Element, allowed: &[&str]) -> Refusal {
    Refusal::new(
        codes::INVALID_NODE,
        format!(
            "Invalid Child Node, valid nodes are {}. NodeName = {} NodeXml = {}",
            allowed.join(", "),
            element.name,
            element.shown()
        ),
    )
}

/// Refuses an attribute the element does not declare, or one declared that
/// this platform does not run (`unsupported`).
pub(super) fn attributes_known(
    element: &Element,
    allowed: &[&str],
    unsupported: &[&str],
) -> Result<(), Refusal> {
    for (name, _) in &element.attributes {
        if unsupported.contains(&name.as_str()) {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!(
                    "The '{name}' attribute of <{}> is not supported by this platform: remove it.",
                    element.name
                ),
            ));
        }
        if !allowed.contains(&name.as_str()) {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!(
                    "The '{name}' attribute is not declared on <{}>: it takes {}.",
                    element.name,
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
