//! What every environment page establishes first: the signed-in user, the
//! environment in the URL, and who the user is there (their systemuser), as
//! the Dataverse API would see them.

use std::collections::HashMap;

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use padconnect_core::EnvironmentId;
use padconnect_domain::Member;
use padconnect_domain::system_users;
use uuid::Uuid;

use super::PortalError;
use super::csrf::SessionBound;
use super::layout::{Chrome, Section};
use super::session::SignedIn;
use padconnect_store::{Environment, Store, SystemUser, SystemUserKind, Timestamp};

/// Who acts in an environment: the user's systemuser there, whether they
/// are a tenant administrator (every right, as in Dataverse), and who they
/// are in Entra.
pub struct Actor {
    pub member: Member,
    /// The person's Entra object id (connections record their creators by it).
    pub object_id: Uuid,
}

/// An environment page's context.
pub struct EnvPage {
    pub signed_in: SignedIn,
    pub actor: Actor,
    /// The environments the user may switch to.
    pub environments: Vec<Environment>,
    /// When the page is drawn, on the platform's clock (a machine's
    /// status depends on its last heartbeat's age).
    pub now: Timestamp,
    params: HashMap<String, String>,
}

impl EnvPage {
    /// A GUID from the route, or a 404: a malformed id names no page.
    pub fn id_param(&self, name: &str, what: &str) -> Result<Uuid, PortalError> {
        let raw = self
            .params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default();
        Uuid::try_parse(raw)
            .map_err(|_| PortalError::not_found(format!("There is no {what} '{raw}'.")))
    }

    pub fn raw_param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn chrome(&self, section: Section) -> Chrome<'_> {
        Chrome {
            user_name: &self.signed_in.user.display_name,
            csrf: &self.signed_in.csrf,
            environment: Some(&self.actor.member.environment),
            environments: &self.environments,
            section,
        }
    }

    /// `/environments/{id}` + `rest`.
    pub fn link(&self, rest: &str) -> String {
        format!("/environments/{}{rest}", self.actor.member.environment.id)
    }
}

/// The tenant's environments where the user has an enabled systemuser.
pub async fn environments_of(
    store: &Store,
    signed_in: &SignedIn,
) -> Result<Vec<Environment>, PortalError> {
    let mut mine = Vec::new();
    for env in store.environments(signed_in.user.tenant_id).await? {
        if member(store, &env.id, signed_in).await?.is_some() {
            mine.push(env);
        }
    }
    Ok(mine)
}

async fn member(
    store: &Store,
    env: &EnvironmentId,
    signed_in: &SignedIn,
) -> Result<Option<SystemUser>, PortalError> {
    let kind = SystemUserKind::Person {
        object_id: signed_in.user.object_id,
    };
    Ok(system_users::member(store, env, kind).await?)
}

async fn actor(store: &Store, signed_in: &SignedIn, env_text: &str) -> Result<Actor, PortalError> {
    // Unknown, malformed, another tenant's, or one the user is not a user of:
    // all the same 404, so the page tells nothing about other tenants.
    let missing = || {
        PortalError::not_found(format!(
            "There is no environment '{env_text}' that you are a user of."
        ))
    };
    let id: EnvironmentId = env_text.parse().map_err(|_| missing())?;
    let environment = store
        .environment(&id)
        .await?
        .filter(|e| e.tenant_id == signed_in.user.tenant_id)
        .ok_or_else(missing)?;
    let user = member(store, &id, signed_in).await?.ok_or_else(missing)?;
    let admin = crate::auth::is_admin(store, &signed_in.caller()).await?;
    Ok(Actor {
        member: Member {
            environment,
            user,
            admin,
        },
        object_id: signed_in.user.object_id,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for EnvPage
where
    Store: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let store = Store::from_ref(state);
        let params: HashMap<String, String> = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| PortalError::not_found("There is no such page.").into_response())?
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let env_text = params.get("env").cloned().unwrap_or_default();
        let actor = actor(&store, &signed_in, &env_text)
            .await
            .map_err(IntoResponse::into_response)?;
        let environments = environments_of(&store, &signed_in)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            signed_in,
            actor,
            environments,
            now: store.now(),
            params,
        })
    }
}

impl SessionBound for EnvPage {
    fn signed_in(&self) -> &SignedIn {
        &self.signed_in
    }
}
