//! FetchXML on the tables the platform serves:
//! `GET /api/data/v9.2/{entityset}?fetchXml={url-encoded xml}`, as
//! dynamics-web-api's `fetch`/`fetchAll` and the Python Dataverse SDK's
//! `query.fetchxml` send it.
//!
//! Served:
//!
//! - `<fetch>`: `top`, `count`, `page` and `paging-cookie`,
//!   `returntotalrecordcount` (also `$count=true`), `distinct`, `aggregate`
//!   and `aggregatelimit`; `no-lock`, `mapping='logical'`, `version`,
//!   `output-format`, `latematerialize`, `options`, `useraworderby` are
//!   accepted and change nothing here.
//! - `<entity name>`, which must be the entity set's table; `<attribute
//!   name [alias]>`, `<all-attributes/>`, `<no-attrs/>`; `<order attribute
//!   [descending] [entityname]>` (`<order alias>` in aggregates).
//! - `<filter type='and|or'>`, nested, with `<condition attribute operator
//!   value [entityname]>` for `eq`, `ne`/`neq`, `gt`, `ge`, `lt`, `le`,
//!   `like`, `not-like`, `begins-with`, `not-begin-with`, `ends-with`,
//!   `not-end-with`, `in`, `not-in`, `between`, `not-between` (with `<value>`
//!   children), `null`, `not-null`, `eq-userid`, `ne-userid`.
//! - `<link-entity name from to [alias] [link-type='inner|outer|exists|in']>`
//!   between any two served tables on any two columns (hashed on the
//!   linked table's `from` column, so a join costs its rows, not their
//!   product), nested, with its own attributes (returned as
//!   `alias.attribute`), orders and filters.
//! - aggregates: `count`, `countcolumn` (with `distinct`), `min`, `max`,
//!   `sum`, `avg`, `groupby`.
//!
//! Refused, each with Dataverse's code ([`codes`]) and a message that says
//! what to write instead: malformed XML, unknown elements and attributes,
//! unknown tables and columns, other operators (dates, hierarchies,
//! fiscal periods), `valueof`, `dategrouping`, `rowaggregate`, the link
//! types `any`/`all`/`not any`/`not all`/`matchfirstrowusingcrossapply`, and
//! link-entities inside filters.
//!
//! Rows are exactly those OData reads: each table's `readable_rows` for the
//! caller, linked tables included, so a join never shows a row the caller
//! could not read on its own.
//!
//! Sources (learn.microsoft.com, power-apps/developer/data-platform; the
//! markdown is MicrosoftDocs/powerapps-docs): "Use FetchXml with Web API"
//! (`webapi/use-fetchxml-web-api`: the `fetchXml` parameter, null values
//! left out), "Page results using FetchXml" (`fetchxml/page-results`: the
//! `@Microsoft.Dynamics.CRM.fetchxmlpagingcookie` annotation, `<cookie
//! pagenumber=... pagingcookie=... istracking="False" />` with the inner
//! cookie URL-encoded twice, and `morerecords`; 5,000 rows a page), "Count
//! rows using FetchXml" (`@odata.count`, `totalrecordcount` up to 5,000 and
//! `totalrecordcountlimitexceeded`; not with `top`), "fetch element"
//! (`top` at most 5,000), "Join tables using FetchXml" (`alias.column`
//! keys, default aliases, at most 15 link-entities, 0x8004430D), "Select
//! columns", "Order rows" (link-entity orders after the entity's), "Filter
//! rows" (`entityname`), "Aggregate data using FetchXml" (50,000 rows,
//! 0x8004E023). Error codes are Dataverse's own (`ErrorCodes`: InvalidXml
//! 0x80040201, the QueryBuilder range 0x80041100..), with the messages users
//! quote ("Entity Name was not specified in FetchXml String.", "'x' entity
//! doesn't contain attribute with Name = 'y'", "The top attribute can't be
//! specified with paging attribute page"). dynamics-web-api (AleksandrRogov)
//! reads the cookie back with `decodeURIComponent` twice and the pattern
//! `pagingcookie="(<cookie page="(\d+)".+</cookie>)`, so the inner cookie
//! starts that way and always holds an element.
//!
//! Choices where the sources are silent or disagree, written down:
//!
//! - The paging cookie and `morerecords` are returned whenever more rows
//!   exist, asked for or not: the docs say a `Prefer` header asks for
//!   them, users see them without one (DynamicsWebApi issue #79), and
//!   `fetchAll` pages only when they are there. Likewise the total counts.
//! - The page number places a page (`(page - 1) * count`); the cookie is
//!   accepted and not needed, as every request reads the tables whole. A
//!   query Dataverse gives no cookie for (ordered by a linked column,
//!   `distinct`, aggregates) gets `pagingcookie=""`, which clients take as
//!   "go on by page number".
//! - A condition's value on a GUID or whole-number column that does not
//!   convert to the column's type is refused as Dataverse refuses it, with
//!   its FormatException sentence (`parse::filter`); no capture shows that
//!   answer's code, which is InvalidArgument's here. Otherwise a value is
//!   read as the type of each row's value
//!   ([`Expr::Text`](super::odata::Expr)); `begins-with` and `ends-with`
//!   take their value literally. A null value matches no condition but
//!   `null`, as in SQL.
//! - An entity set queried with another table's FetchXML is refused with
//!   QueryBuilderEntitiesDontMatch (0x80041128); an unknown attribute on an
//!   element with InvalidArgument (0x80040203), as a schema refusal.
//! - Bounds of the platform's own: the XML's size (a URL's 32,768
//!   characters), depth and element count ([`xml`]), filters nested 32
//!   deep, 2,000 conditions and values (SQL Server takes 2,100 parameters),
//!   `like` patterns of 500 characters, and 50,000 joined rows (the simple
//!   paging and aggregate limit), past which a query is refused rather
//!   than run.

mod aggregate;
mod page;
mod parse;
mod run;
mod xml;

use std::collections::HashMap;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::annotations::Requested;
use super::prefer::Preferences;
use super::tables::Table;
use super::{API_ROOT, DataverseCaller, DataverseError};
use crate::state::AppState;

/// Dataverse's error codes for refused queries (`ErrorCodes`, the web
/// service error codes reference).
pub(super) mod codes {
    /// InvalidXml.
    pub const INVALID_XML: &str = "0x80040201";
    /// InvalidArgument: a value out of range, an attribute the schema has not.
    pub const INVALID_ARGUMENT: &str = "0x80040203";
    /// QueryBuilderNoEntity.
    pub const NO_ENTITY: &str = "0x80041102";
    /// QueryBuilderNoAttribute.
    pub const NO_ATTRIBUTE: &str = "0x80041103";
    /// QueryBuilderBad_Condition.
    pub const BAD_CONDITION: &str = "0x80041106";
    /// QueryBuilderAttribute_With_Aggregate.
    pub const ATTRIBUTE_WITH_AGGREGATE: &str = "0x80041107";
    /// QueryBuilderInvalid_Alias.
    pub const INVALID_ALIAS: &str = "0x80041109";
    /// QueryBuilderAlias_Does_Not_Exist.
    pub const ALIAS_DOES_NOT_EXIST: &str = "0x8004110a";
    /// QueryBuilderNoAlias.
    pub const NO_ALIAS: &str = "0x8004110b";
    /// QueryBuilderDeserializeInvalidDistinct.
    pub const INVALID_DISTINCT: &str = "0x80041115";
    /// QueryBuilderDeserializeInvalidMapping.
    pub const INVALID_MAPPING: &str = "0x80041116";
    /// QueryBuilderDeserializeInvalidLinkType.
    pub const INVALID_LINK_TYPE: &str = "0x80041117";
    /// QueryBuilderDeserializeInvalidDescending.
    pub const INVALID_DESCENDING: &str = "0x80041119";
    /// QueryBuilderDeserializeInvalidAggregate.
    pub const INVALID_AGGREGATE: &str = "0x8004111a";
    /// QueryBuilderDeserializeInvalidNode.
    pub const INVALID_NODE: &str = "0x8004111c";
    /// QueryBuilderInvalidConditionOperator.
    pub const INVALID_OPERATOR: &str = "0x80041120";
    /// QueryBuilderInvalidFilterType.
    pub const INVALID_FILTER_TYPE: &str = "0x80041122";
    /// QueryBuilderTopCountGreaterThanZero.
    pub const NOT_POSITIVE: &str = "0x80041127";
    /// QueryBuilderEntitiesDontMatch.
    pub const ENTITIES_DONT_MATCH: &str = "0x80041128";
    /// "Number of link entities in query exceeded maximum limit."
    pub const TOO_MANY_LINKS: &str = "0x8004430d";
    /// AggregateQueryRecordLimit exceeded.
    pub const AGGREGATE_LIMIT: &str = "0x8004e023";
}

/// A query refused, with Dataverse's code: answered 400.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<Refusal> for DataverseError {
    fn from(refusal: Refusal) -> Self {
        Self::bad_request_code(refusal.code, refusal.message)
    }
}

/// The FetchXML of a request, if it sends one (the name without case, as
/// the OData options).
pub(super) fn requested(params: &HashMap<String, String>) -> Option<&str> {
    params
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("fetchXml"))
        .map(|(_, xml)| xml.as_str())
}

/// Answers `GET {entityset}?fetchXml=...`.
pub(super) async fn get(
    state: &AppState,
    caller: &DataverseCaller,
    table: Table,
    id: Option<Uuid>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, DataverseError> {
    if id.is_some() {
        return Err(DataverseError::bad_request(format!(
            "fetchXml queries an entity set, not one row: GET {API_ROOT}/{}?fetchXml=... with a condition on {}",
            table.entity_set(),
            table.key()
        )));
    }
    let count = odata_count(params)?;
    let xml = requested(params).unwrap_or_default();
    let mut plan = parse::plan(&xml::parse(xml)?, table, caller.member.user.id)?;
    plan.total_count |= count;
    let mut data = run::Tables::default();
    for table in plan.tables() {
        data.add(table, table.readable_rows(state, caller).await?);
    }
    let annotations = match Requested::asked(&Preferences::of(headers)) {
        Some(requested) => Some((requested, super::entities::names(state, caller).await?)),
        None => None,
    };
    let context = |columns: &str| {
        caller.origin.url(&format!(
            "{API_ROOT}/$metadata#{}{columns}",
            table.entity_set()
        ))
    };
    let body = page::answer(&plan, &data, context, annotations.as_ref())?;
    let mut response = Json(body).into_response();
    if let Some((requested, _)) = &annotations
        && let Ok(value) = HeaderValue::from_str(&requested.applied())
    {
        response.headers_mut().insert("Preference-Applied", value);
    }
    Ok(response)
}

/// `$count=true` beside FetchXML, which Dataverse takes as
/// `returntotalrecordcount`; every other OData option is refused, as the
/// FetchXML says the whole query.
fn odata_count(params: &HashMap<String, String>) -> Result<bool, DataverseError> {
    let mut count = false;
    for (name, value) in params.iter().filter(|(n, _)| n.starts_with('$')) {
        match (name.as_str(), value.as_str()) {
            ("$count", "true") => count = true,
            ("$count", "false") => {}
            _ => {
                return Err(DataverseError::bad_request(format!(
                    "The query parameter {name} cannot be combined with fetchXml: say it in the FetchXML (<attribute>, <filter>, <order>, top or count)"
                )));
            }
        }
    }
    Ok(count)
}
