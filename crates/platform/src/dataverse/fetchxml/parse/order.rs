//! `order` elements, and the link-entity an `entityname` names.

use super::check::{attributes_known, flag, required};
use super::{Planner, Within};
use crate::dataverse::fetchxml::xml::Element;
use crate::dataverse::fetchxml::{Refusal, codes};
use crate::dataverse::tables::Table;

impl Planner {
    pub(super) fn order(&mut self, element: &Element, within: Within<'_>) -> Result<(), Refusal> {
        attributes_known(
            element,
            &["attribute", "alias", "descending", "entityname"],
            &[],
        )?;
        let descending = flag(element, "descending", codes::INVALID_DESCENDING)?;
        if self.aggregate {
            let alias = element.attribute("alias").ok_or_else(|| {
                Refusal::new(
                    codes::ALIAS_DOES_NOT_EXIST,
                    format!("An aggregate query orders by the alias of a group or aggregate: <order alias='...'/>, not {}", element.shown()),
                )
            })?;
            self.root_orders.push((alias.to_owned(), descending));
            return Ok(());
        }
        if element.attribute("alias").is_some() {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                "<order alias> orders an aggregate query: order this one by attribute.",
            ));
        }
        let name = required(element, "attribute")?;
        let key = match (within.link, element.attribute("entityname")) {
            (None, Some(entity)) => self.entity_key(entity, within.table, name)?,
            _ => within.key(name)?,
        };
        match within.link {
            Some(_) => self.link_orders.push((key, descending)),
            None => self.root_orders.push((key, descending)),
        }
        Ok(())
    }

    /// The row key of attribute `name` of the entity `entity` names (see
    /// [`Self::entity_named`]).
    pub(super) fn entity_key(
        &self,
        entity: &str,
        root: Table,
        name: &str,
    ) -> Result<String, Refusal> {
        let (link, table) = self.entity_named(entity, root)?;
        let link = link.as_deref();
        Within { table, link }.key(name)
    }

    /// The link-entity `entityname` names (its alias, or its table when it
    /// has none), or the root itself.
    pub(super) fn entity_named(
        &self,
        entity: &str,
        root: Table,
    ) -> Result<(Option<String>, Table), Refusal> {
        if let Some((alias, table)) = self.aliases.iter().find(|(a, _)| a == entity) {
            return Ok((Some(alias.clone()), *table));
        }
        if let Some((alias, table)) = self
            .aliases
            .iter()
            .find(|(_, t)| t.logical_name() == entity)
        {
            return Ok((Some(alias.clone()), *table));
        }
        if entity == root.logical_name() {
            return Ok((None, root));
        }
        let known: Vec<&str> = self.aliases.iter().map(|(a, _)| a.as_str()).collect();
        Err(Refusal::new(
            codes::ALIAS_DOES_NOT_EXIST,
            format!(
                "No link-entity is named '{entity}': entityname takes a link-entity's alias ({}).",
                if known.is_empty() {
                    "this query has none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ))
    }
}
