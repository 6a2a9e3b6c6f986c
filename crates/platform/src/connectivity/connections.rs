//! The connections endpoints: thin handlers over the service rules.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use padconnect_core::{ConnectionId, ConnectorName};
use padconnect_domain::connections::{self, DeleteRefusal};

use super::context::{API_VERSION, ApiContext};
use super::{ApiError, render, service};
use crate::state::AppState;

/// The default and largest page of a listing.
const PAGE_SIZE: u32 = 250;
const MAX_PAGE_SIZE: u32 = 1_000;

/// `{connector}/connections/{id}` from the path, both checked.
pub(super) fn target(params: &[(String, String)]) -> Result<ConnectionId, ApiError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let connector = param("connector");
    if ConnectorName::parse(connector)
        .as_ref()
        .map(ConnectorName::as_str)
        != Some(ConnectorName::UIFLOW)
    {
        return Err(ApiError::connector_not_found(connector));
    }
    let id = param("id");
    id.parse().map_err(|_| ApiError::invalid_connection_id(id))
}

pub async fn put(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    ctx: ApiContext,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body =
        body.map_err(|e| ApiError::new(e.status(), "RequestEntityTooLarge", e.body_text()))?;
    let id = target(&params)?;
    let request = service::parse_request(&body, &ctx)?;
    let written = service::put(&state, &ctx, id, request).await?;
    let code = if written.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    render::json(
        code,
        &render::connection(&written.connection, &written.status, ctx.caller.tenant_id),
    )
}

pub async fn get(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    ctx: ApiContext,
) -> Result<Response, ApiError> {
    let id = target(&params)?;
    let read = state
        .store
        .connection_with_target(&ctx.environment.id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let connection = &read.connection;
    if !service::may_see(&state, &ctx, connection).await? {
        return Err(not_found(&id));
    }
    let status = service::status_of(connection, read.target.as_ref());
    render::json(
        StatusCode::OK,
        &render::connection(connection, &status, ctx.caller.tenant_id),
    )
}

pub async fn delete(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    ctx: ApiContext,
) -> Result<Response, ApiError> {
    let id = target(&params)?;
    let connection = stored(&state, &ctx, &id).await?;
    let standing = service::standing(&state, &ctx, &connection).await?;
    match connections::delete(&state.store, &connection, standing).await? {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(DeleteRefusal::Unseen) => Err(not_found(&id)),
        Err(DeleteRefusal::NotEditor) => Err(ApiError::forbidden(format!(
            "Only the owner of connection '{id}', an editor or an administrator may delete it."
        ))),
    }
}

/// The connection if the caller may see it; otherwise it does not exist.
pub(super) async fn visible(
    state: &AppState,
    ctx: &ApiContext,
    id: &ConnectionId,
) -> Result<padconnect_store::Connection, ApiError> {
    let connection = stored(state, ctx, id).await?;
    match service::may_see(state, ctx, &connection).await? {
        true => Ok(connection),
        false => Err(not_found(id)),
    }
}

/// Connection `id` of the caller's environment, whoever may see it.
async fn stored(
    state: &AppState,
    ctx: &ApiContext,
    id: &ConnectionId,
) -> Result<padconnect_store::Connection, ApiError> {
    state
        .store
        .connection(&ctx.environment.id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// The service's answer for a connection that is not there, or that the
/// caller may not see.
fn not_found(id: &ConnectionId) -> ApiError {
    ApiError::connection_not_found(&id.to_string(), ConnectorName::UIFLOW)
}

/// `GET .../connections?api-version=1[&$top=N][&$skiptoken=T]`: one page of
/// what the caller may see, with `nextLink` when there is more.
pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    ctx: ApiContext,
) -> Result<Response, ApiError> {
    let top = match ctx.query.get("$top") {
        None => PAGE_SIZE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_content(format!(
                    "$top must be a number from 1 to {MAX_PAGE_SIZE}, not '{text}'."
                ))
            })?,
    };
    let after = ctx.query.get("$skiptoken").map(String::as_str);
    let admin = ctx.admin(&state.store).await?;
    let (env, caller) = (&ctx.environment.id, ctx.caller.object_id);
    let page = connections::visible_page(&state.store, env, caller, admin, after, top).await?;
    let mut statuses = Vec::with_capacity(page.items.len());
    for connection in &page.items {
        statuses.push(service::status(&state, connection).await?);
    }
    let value = page
        .items
        .iter()
        .zip(&statuses)
        .map(|(connection, status)| {
            render::connection(connection, status, ctx.caller.tenant_id)
                .with_owner_permission(connection, ctx.caller.tenant_id)
        })
        .collect();
    let next_link = page.next.map(|next| {
        // The path as the client sent it, path-style prefix and all.
        format!(
            "{}://{}{}?api-version={API_VERSION}&$top={top}&$skiptoken={next}",
            ctx.origin.scheme,
            ctx.origin.authority,
            uri.path()
        )
    });
    let body = render::Page { value, next_link };
    render::json(StatusCode::OK, &body)
}
