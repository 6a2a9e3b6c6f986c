//! Dataverse's systemuser rows that padconnect makes itself: an app's
//! application user, the same whether the world file declares it or an
//! administrator adds it through the Web API.

use padconnect_core::EnvironmentId;
use padconnect_store::{
    ACCESS_MODE_NON_INTERACTIVE, Store, StoreError, SystemUser, SystemUserKind, Timestamp,
};
use uuid::Uuid;

use crate::ids::derived_id;
use crate::{Conflict, Error, Record};

/// The caller's systemuser in an environment, if it has one and it is
/// enabled: a disabled user is refused as one who is not a user there
/// (every surface asks this before anything else).
pub async fn member(
    store: &Store,
    environment: &EnvironmentId,
    kind: SystemUserKind,
) -> Result<Option<SystemUser>, StoreError> {
    Ok(store
        .system_user_for(environment, kind)
        .await?
        .filter(|user| !user.isdisabled))
}

/// Adds an application user; `false` when the environment has one for that
/// app already (Dataverse allows one per app).
pub async fn add_application_user(store: &Store, user: &SystemUser) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let added = tx.insert_system_user(user).await?;
    tx.commit().await?;
    Ok(added)
}

/// Enables or disables `user`, as read, for a caller that holds
/// `prvWriteUser`. `expected` is the version the caller read (`If-Match`),
/// if it named one; the write is made only if the row is still at the
/// version read, so two writers cannot both win (as a group's rename).
pub async fn set_disabled(
    store: &Store,
    user: &SystemUser,
    expected: Option<i64>,
    isdisabled: bool,
) -> Result<(), Error> {
    let version = user.versionnumber;
    crate::require_version(expected, version)?;
    // Nothing changes, so nothing is written and the version stays.
    if user.isdisabled == isdisabled {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    if !tx
        .set_system_user_disabled(user.id, version, isdisabled, store.now())
        .await?
    {
        let record = Record {
            entity: "systemuser",
            id: user.id,
        };
        return Err(Error::Conflict(Conflict::ChangedMeanwhile(record)));
    }
    tx.commit().await?;
    Ok(())
}

/// Guess, written down: Dataverse gives an application user the app's name
/// as `fullname`; its `domainname` is not documented, so we use
/// `{client_id}@{org}`, unique as Dataverse requires. The id is derived from
/// the environment and the app, so loading a world twice finds the same row.
pub fn application_user(
    environment: EnvironmentId,
    org: &str,
    client_id: Uuid,
    display_name: &str,
    now: Timestamp,
) -> SystemUser {
    SystemUser {
        id: derived_id(&[
            "systemuser",
            &environment.to_string(),
            &client_id.to_string(),
        ]),
        environment_id: environment,
        kind: SystemUserKind::Application { client_id },
        fullname: display_name.to_owned(),
        domainname: format!("{client_id}@{org}"),
        accessmode: ACCESS_MODE_NON_INTERACTIVE,
        isdisabled: false,
        maker: true,
        created_on: now,
        modified_on: now,
        versionnumber: 1,
    }
}
