//! A tenant's Power Platform administrators (the world's `admins`): who
//! holds every right on every row of its environments.

use padconnect_store::{Store, StoreError, SystemUser, SystemUserKind};
use uuid::Uuid;

/// Who may be named an administrator: an app by its client id, a person by
/// UPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    App(Uuid),
    Person(&'a str),
}

impl<'a> Principal<'a> {
    /// The principal a systemuser stands for: an application user's app,
    /// or a person by their `domainname` (the UPN).
    pub fn of(user: &'a SystemUser) -> Self {
        match user.kind {
            SystemUserKind::Application { client_id } => Self::App(client_id),
            SystemUserKind::Person { .. } => Self::Person(&user.domainname),
        }
    }

    /// How the tenant's list names it: a client id, or a UPN in lower case.
    fn listed_as(self) -> String {
        match self {
            Self::App(client_id) => client_id.to_string(),
            Self::Person(upn) => upn.to_ascii_lowercase(),
        }
    }
}

/// Whether `principal` is one of the tenant's Power Platform administrators.
pub async fn is_admin(
    store: &Store,
    tenant_id: Uuid,
    principal: Principal<'_>,
) -> Result<bool, StoreError> {
    Ok(store
        .tenant_admins(tenant_id)
        .await?
        .contains(&principal.listed_as()))
}
