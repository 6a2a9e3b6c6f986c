//! `GET /api/data/v9.2/{entityset}` and `.../{entityset}({id})`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::access;
use super::annotations::{Names, Requested, annotate};
use super::expand::Expansion;
use super::odata::Query;
use super::prefer::Preferences;
use super::tables::Table;
use super::{API_ROOT, DataverseCaller, DataverseError, served};
use crate::state::AppState;

/// `flowmachinegroups` or `flowmachinegroups(<id>)`.
pub(super) fn parse_segment(segment: &str) -> Result<(Table, Option<Uuid>), DataverseError> {
    let (set, key) = match segment.split_once('(') {
        Some((set, rest)) => {
            let key = rest.strip_suffix(')').ok_or_else(|| {
                DataverseError::bad_request(format!("'{segment}' is not a valid key"))
            })?;
            (set, Some(key))
        }
        None => (segment, None),
    };
    let table = Table::from_entity_set(set).ok_or_else(|| DataverseError::unknown_segment(set))?;
    let id = key
        .map(|k| {
            Uuid::try_parse(k.trim_matches('\'')).map_err(|_| {
                DataverseError::bad_request(format!("'{k}' is not a valid key: use the row's GUID"))
            })
        })
        .transpose()?;
    Ok((table, id))
}

pub async fn get(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
    headers: HeaderMap,
    caller: DataverseCaller,
) -> Result<Response, DataverseError> {
    if segment.starts_with("EntityDefinitions") && served::serves("GET", "EntityDefinitions") {
        return super::metadata::entity_definitions(&segment, &params, &caller).await;
    }
    match access::function_call(&segment) {
        Some((name, _)) if !served::serves("GET", name) => {}
        Some(("RetrieveSharedPrincipalsAndAccess", arguments)) => {
            return Ok(
                access::shared_principals(&state, &caller, arguments, &params)
                    .await?
                    .into_response(),
            );
        }
        Some(("RetrieveSolutionImportResult", arguments)) => {
            return super::solutions::import_result(&state, &caller, arguments).await;
        }
        _ => {}
    }
    let (table, id) = parse_segment(&segment)?;
    if super::fetchxml::requested(&params).is_some() {
        return super::fetchxml::get(&state, &caller, table, id, &params, &headers).await;
    }
    // The next page's link asks for the same expansion.
    let expand_asked = params.get("$expand").cloned();
    let (params, expand) = expansion(params, table)?;
    let query = Query::parse(&params, table.columns(), |c| table.edm_type(c))
        .map_err(DataverseError::bad_request)?;
    let preferences = Preferences::of(&headers);
    let annotations = match Requested::asked(&preferences) {
        Some(requested) => Some((requested, names(&state, &caller).await?)),
        None => None,
    };
    let project = |row: &Value| {
        let mut body = query.project(row, &[table.key()]);
        for navigation in &expand {
            body[navigation.name.as_str()] = navigation.project(&row[navigation.name.as_str()]);
        }
        if let Value::Object(fields) = &mut body {
            fields.retain(|name, _| {
                !table.expandable().iter().any(|(n, _)| n == name)
                    || expand.iter().any(|e| &e.name == name)
            });
        }
        if let Some((requested, names)) = &annotations {
            annotate(table, &mut body, requested, names);
        }
        body
    };
    let context = |suffix: &str| {
        let columns = query
            .select
            .as_ref()
            .map(|s| format!("({})", s.join(",")))
            .unwrap_or_default();
        caller.origin.url(&format!(
            "{API_ROOT}/$metadata#{}{columns}{suffix}",
            table.entity_set()
        ))
    };
    if let Some(id) = id {
        let row = table.row(&state, &caller, id).await?;
        let mut body = project(&row);
        body["@odata.context"] = json!(context("/$entity"));
        let mut response = Json(body).into_response();
        preference_applied(&mut response, None, annotations.as_ref().map(|a| &a.0));
        return Ok(response);
    }

    let rows = query.apply(table.readable_rows(&state, &caller).await?, table.key());
    let total = rows.len();
    let limit = query.top.unwrap_or(usize::MAX).min(total);
    let page_size = preferences.max_page_size().unwrap_or(5_000);
    let start = query.skiptoken.unwrap_or(0).min(limit);
    // Saturating: a page size near usize::MAX is a valid preference.
    let end = start.saturating_add(page_size).min(limit);
    let value: Vec<Value> = rows[start..end].iter().map(project).collect();
    let mut body = json!({ "@odata.context": context(""), "value": value });
    if query.count {
        body["@odata.count"] = json!(total);
    }
    if end < limit {
        let mut next: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| *k != "$skiptoken")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        next.extend(expand_asked.map(|value| ("$expand".to_owned(), value)));
        next.push(("$skiptoken".into(), end.to_string()));
        let query_string = serde_urlencoded::to_string(&next).unwrap_or_default();
        body["@odata.nextLink"] = json!(
            caller
                .origin
                .url(&format!("{API_ROOT}/{}?{query_string}", table.entity_set()))
        );
    }
    let mut response = Json(body).into_response();
    preference_applied(
        &mut response,
        preferences.max_page_size(),
        annotations.as_ref().map(|a| &a.0),
    );
    Ok(response)
}

/// Takes `$expand` out of the query: the navigation properties it names.
fn expansion(
    mut params: HashMap<String, String>,
    table: Table,
) -> Result<(HashMap<String, String>, Vec<Expansion>), DataverseError> {
    let expand = match params.remove("$expand") {
        Some(value) => super::expand::parse(&value, table)?,
        None => Vec::new(),
    };
    Ok((params, expand))
}

/// `Preference-Applied`, naming each preference honoured.
fn preference_applied(
    response: &mut Response,
    page: Option<usize>,
    annotations: Option<&Requested>,
) {
    let applied: Vec<String> = page
        .map(|size| format!("odata.maxpagesize={size}"))
        .into_iter()
        .chain(annotations.map(Requested::applied))
        .collect();
    // A filter with bytes a header cannot carry is simply not echoed.
    if let (false, Ok(value)) = (
        applied.is_empty(),
        HeaderValue::from_str(&applied.join(",")),
    ) {
        response.headers_mut().insert("Preference-Applied", value);
    }
}

/// The names lookups show as formatted values: the environment's users and groups.
pub(super) async fn names(
    state: &AppState,
    caller: &DataverseCaller,
) -> Result<Names, DataverseError> {
    let env = &caller.member.environment.id;
    let users = state.store.system_users(env).await?;
    let groups = state.store.machine_groups(env).await?;
    Ok(Names {
        users: users.into_iter().map(|u| (u.id, u.fullname)).collect(),
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
    })
}

/// `GET {segment}/{operation}`: a row's `Attributes` (metadata) or a function
/// bound to a row.
pub async fn get_operation(
    State(state): State<AppState>,
    Path((segment, operation)): Path<(String, String)>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
    // An unknown operation is a 404 whoever asks, as for unknown segments.
    caller: Result<DataverseCaller, DataverseError>,
) -> Result<Response, DataverseError> {
    if operation == "Attributes" && served::serves("GET", "Attributes") {
        return super::metadata::attributes_of(&segment, &params, &caller?).await;
    }
    match access::function_call(&operation) {
        Some(("RetrievePrincipalAccess", arguments))
            if served::serves("GET", "RetrievePrincipalAccess") =>
        {
            Ok(
                access::principal_access(&state, &caller?, &segment, arguments, &params)
                    .await?
                    .into_response(),
            )
        }
        _ => Err(DataverseError::unknown_segment(&operation)),
    }
}
