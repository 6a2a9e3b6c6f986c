//! The authenticated caller of a Dataverse request, as its systemuser.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::DataverseError;
use crate::auth::{Audience, Caller, CallerKind, is_admin, verify_bearer};
use crate::origin::{OrgScope, RequestOrigin};
use crate::state::Verifier;
use padconnect_domain::Member;
use padconnect_domain::system_users;

/// A verified token for this org, the org's environment, and the caller's
/// systemuser there. A service principal without an application user, or a
/// person who is not a user of the environment, is refused with 403.
pub struct DataverseCaller {
    pub member: Member,
    pub origin: RequestOrigin,
}

impl<S> FromRequestParts<S> for DataverseCaller
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = DataverseError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, DataverseError> {
        let state = Verifier::from_ref(state);
        let org = parts
            .extensions
            .get::<OrgScope>()
            .map(|o| o.0.clone())
            .unwrap_or_default();
        let origin = RequestOrigin::of(parts).ok_or_else(DataverseError::unrouted)?;
        // A challenge names the org's URL as the client used it.
        let resource = origin.url("/");
        let audience = Audience::Dataverse {
            org: &org,
            resource: &resource,
        };
        let caller = verify_bearer(&state, &parts.headers, audience)
            .await
            .map_err(|failure| DataverseError::unauthorized(&failure, &audience))?;
        let environment = state
            .directory
            .environment_by_org(&state.store, &org)
            .await?
            .filter(|env| env.tenant_id == caller.tenant_id)
            .ok_or_else(|| DataverseError::not_a_member(&describe(&caller)))?;
        let kind = caller.system_user_kind();
        let user = system_users::member(&state.store, &environment.id, kind)
            .await?
            .ok_or_else(|| DataverseError::not_a_member(&describe(&caller)))?;
        let admin = is_admin(&state.store, &caller).await?;
        let member = Member {
            environment,
            user,
            admin,
        };
        Ok(Self { member, origin })
    }
}

fn describe(caller: &Caller) -> String {
    match &caller.kind {
        CallerKind::ServicePrincipal => format!("the service principal of app {}", caller.app_id),
        CallerKind::User { upn, .. } => format!("user {upn}"),
    }
}
