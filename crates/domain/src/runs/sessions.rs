//! Reading and cancelling runs. "Canceling the run and querying the status
//! needs 'Owner' privileges" (desktop-flow-public-apis.md): a session is
//! its flow owner's, and like the other user-owned rows here (flows,
//! system jobs) it does not exist for anyone but its owner and the
//! administrators.

use padconnect_core::desktop_runs::SessionStatus;
use uuid::Uuid;

use super::{RunRefusal, advance};
use crate::keyring::KeyRing;
use crate::solutions::may_read_owned;
use crate::{Error, Record, Scope};
use padconnect_store::FlowSession;

fn not_found(id: Uuid) -> Error {
    Error::NotFound(Record {
        entity: "flowsession",
        id,
    })
}

/// The session `id`, as it is now: a running one whose time is up ends on
/// this read, so a poll never sees a run that is over as running.
pub async fn read(scope: Scope<'_>, keyring: &KeyRing, id: Uuid) -> Result<FlowSession, Error> {
    let store = scope.store;
    let session = owned(scope, id).await?;
    let running = session.statuscode == SessionStatus::Running.code();
    if running && session.due_on.is_some_and(|due| due <= store.now()) {
        advance(store, keyring, id).await?;
        return store.flow_session(id).await?.ok_or_else(|| not_found(id));
    }
    Ok(session)
}

/// The sessions of the environment the actor may read (an
/// administrator's all, anyone else's its own), newest first, at most
/// `limit`; without their inputs and outputs.
pub async fn readable(scope: Scope<'_>, limit: i64) -> Result<Vec<FlowSession>, Error> {
    let owner = (!scope.actor.admin).then_some(scope.actor.user.id);
    Ok(scope
        .store
        .flow_sessions(&scope.environment.id, owner, limit)
        .await?)
}

/// CancelDesktopFlowRun: "cancel a queued/running desktop flow". The
/// session ends Cancelled (the table's label; no source says which status
/// a cancel leaves).
pub async fn cancel(scope: Scope<'_>, id: Uuid) -> Result<(), Error> {
    let store = scope.store;
    owned(scope, id).await?;
    let mut tx = store.begin().await?;
    // A caller's cancel waits for a replica that is moving the run on.
    let Some(mut session) = tx.claim_flow_session(id, false).await? else {
        drop(tx);
        // Over, or deleted meanwhile.
        let session = store.flow_session(id).await?.ok_or_else(|| not_found(id))?;
        let status =
            SessionStatus::from_code(session.statuscode).unwrap_or(SessionStatus::NotSpecified);
        return Err(RunRefusal::AlreadyOver {
            id,
            status: status.label(),
        }
        .into());
    };
    let now = store.now();
    session.statuscode = SessionStatus::Cancelled.code();
    session.completed_on = Some(now);
    session.modified_on = now;
    session.due_on = None;
    tx.update_flow_session(&session).await?;
    tx.commit().await?;
    Ok(())
}

/// A session of the environment that the actor owns or administers.
async fn owned(scope: Scope<'_>, id: Uuid) -> Result<FlowSession, Error> {
    let Scope {
        actor, environment, ..
    } = scope;
    scope
        .store
        .flow_session(id)
        .await?
        .filter(|s| s.environment_id == environment.id && may_read_owned(actor, s.owner_id))
        .ok_or_else(|| not_found(id))
}
