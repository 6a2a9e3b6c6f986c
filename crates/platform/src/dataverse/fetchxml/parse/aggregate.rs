//! Aggregate queries: an attribute's `aggregate` and `groupby` (its
//! `dategrouping` and `rowaggregate` refused), and the aggregation they plan.

use super::check::{attributes_known, flag, function_named, positive, required};
use super::{AGGREGATE_LIMIT, Aggregation, Measure, Output, Planner, Within};
use crate::dataverse::fetchxml::xml::Element;
use crate::dataverse::fetchxml::{Refusal, codes};

impl Planner {
    pub(super) fn aggregate_attribute(
        &mut self,
        element: &Element,
        within: Within<'_>,
    ) -> Result<(), Refusal> {
        attributes_known(
            element,
            &[
                "name",
                "alias",
                "aggregate",
                "groupby",
                "distinct",
                "usertimezone",
            ],
            &["dategrouping", "rowaggregate"],
        )?;
        let source = within.key(required(element, "name")?)?;
        let alias = element.attribute("alias").ok_or_else(|| {
            Refusal::new(
                codes::NO_ALIAS,
                format!("An attribute of an aggregate query needs an alias, the name its value is answered under: {}", element.shown()),
            )
        })?;
        if self.groups.iter().any(|g| g.name == alias)
            || self.measures.iter().any(|m| m.alias == alias)
        {
            return Err(Refusal::new(
                codes::INVALID_ALIAS,
                format!("The alias '{alias}' names two attributes: give each its own."),
            ));
        }
        let grouped = flag(element, "groupby", codes::INVALID_ARGUMENT)?;
        match (element.attribute("aggregate"), grouped) {
            (Some(function), false) => self.measures.push(Measure {
                source,
                alias: alias.to_owned(),
                function: function_named(function)?,
                distinct: flag(element, "distinct", codes::INVALID_DISTINCT)?,
            }),
            (None, true) => self.groups.push(Output {
                source,
                name: alias.to_owned(),
            }),
            _ => {
                return Err(Refusal::new(
                    codes::ATTRIBUTE_WITH_AGGREGATE,
                    format!(
                        "In an aggregate query each attribute has aggregate='count|countcolumn|min|max|sum|avg' or groupby='true', one of them: {}",
                        element.shown()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn aggregation(&self, fetch: &Element) -> Result<Option<Aggregation>, Refusal> {
        if !self.aggregate {
            if fetch.attribute("aggregatelimit").is_some() {
                return Err(Refusal::new(
                    codes::INVALID_AGGREGATE,
                    "aggregatelimit limits an aggregate query: add aggregate='true'.",
                ));
            }
            return Ok(None);
        }
        if self.measures.is_empty() && self.groups.is_empty() {
            return Err(Refusal::new(
                codes::INVALID_AGGREGATE,
                "An aggregate query needs an attribute with aggregate='count|countcolumn|min|max|sum|avg' or groupby='true'.",
            ));
        }
        for (alias, _) in &self.root_orders {
            if !self.groups.iter().any(|g| &g.name == alias)
                && !self.measures.iter().any(|m| &m.alias == alias)
            {
                return Err(Refusal::new(
                    codes::ALIAS_DOES_NOT_EXIST,
                    format!("No group or aggregate has the alias '{alias}' this order names."),
                ));
            }
        }
        let limit = positive(fetch, "aggregatelimit")?.unwrap_or(AGGREGATE_LIMIT);
        if limit > AGGREGATE_LIMIT {
            return Err(Refusal::new(
                codes::INVALID_ARGUMENT,
                format!("aggregatelimit is at most {AGGREGATE_LIMIT}."),
            ));
        }
        Ok(Some(Aggregation {
            groups: self.groups.clone(),
            measures: self.measures.clone(),
            limit,
        }))
    }
}
