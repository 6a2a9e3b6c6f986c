//! The runner: moves each run whose time has come one step on, in one
//! transaction that claims it, so whichever replica gets there first does
//! it and a restart only delays it.
//!
//! - Waiting: a machine of the connection's target takes it, or it waits,
//!   or it fails with the code the service gives for the cause.
//! - Running: once its machine's run time has passed, it succeeds, or it
//!   times out if that is longer than the run's `timeout`.
//!
//! Choices where the sources are silent (docs/evidence/desktop-flow-runs.md,
//! "Evidence silent" 4 and 9): a queued run is Waiting; `startedon` is set
//! when a machine takes it; a failure before or at sign-in is Failed, a run
//! past its timeout TimedOut; a machine holds one run at a time ("Each
//! unattended bot on a machine can carry one unattended desktop flow run at
//! a time", Manage machines), the waiting runs of a group taking the free
//! machines by priority, then by the time they were queued; a run waits at
//! most six hours, or its own timeout when shorter (NoCandidateMachine); no
//! machine of the target online fails at once with NoListenerConnected.

use padconnect_core::ConnectionId;
use padconnect_core::desktop_runs::{
    ACTION_TIMEOUT, GROUP_IS_EMPTY, MACHINE_GROUP_NOT_FOUND, MAX_QUEUED_SECONDS,
    NO_CANDIDATE_MACHINE, NO_LISTENER_CONNECTED, RunMode, SessionStatus, run_error,
};
use uuid::Uuid;

use super::logon;
use crate::Error;
use crate::connections::windows_credentials;
use crate::keyring::KeyRing;
use padconnect_store::{FlowSession, RunnerMachine, Store, Timestamp, Tx};

/// How often a waiting run looks for a free machine again.
const RETRY_SECONDS: i64 = 1;

/// Moves on every run whose time has come (at most `limit`); answers how
/// many were looked at. A run that cannot be moved is logged and left to
/// the next call.
pub async fn advance_due(store: &Store, keyring: &KeyRing, limit: i64) -> Result<usize, Error> {
    let due = store.due_flow_sessions(store.now(), limit).await?;
    for id in &due {
        if let Err(error) = advance(store, keyring, *id).await {
            tracing::warn!(%error, session = %id, "a desktop flow run could not move on");
        }
    }
    Ok(due.len())
}

/// Moves run `id` one step on if its time has come and no other
/// transaction holds it.
pub async fn advance(store: &Store, keyring: &KeyRing, id: Uuid) -> Result<(), Error> {
    // What a waiting run needs that costs time (opening the connection's
    // seal, checking its password) is done before the run is claimed.
    let prepared = match store.flow_session(id).await? {
        Some(s) if s.statuscode == SessionStatus::Waiting.code() => {
            prepare(store, keyring, &s).await?
        }
        Some(_) => Prepared::Nothing,
        None => return Ok(()),
    };
    let mut tx = store.begin().await?;
    let Some(mut session) = tx.claim_flow_session(id, true).await? else {
        return Ok(());
    };
    let status = SessionStatus::from_code(session.statuscode);
    // The group's machines are taken before the time is read: a run placed
    // after waiting here for another run's end starts after that end, not
    // when it began to wait (CI saw a run stamped as started seconds before
    // the run ahead of it ended, on its one machine).
    let machines = match status {
        Some(SessionStatus::Waiting | SessionStatus::Running) => {
            tx.runner_machines(session.machine_group_id, SessionStatus::Running.code())
                .await?
        }
        _ => Vec::new(),
    };
    let now = store.now();
    if session.due_on.is_none_or(|due| due > now) {
        return Ok(());
    }
    match status {
        Some(SessionStatus::Waiting) => {
            place(store, &mut tx, &mut session, prepared, &machines, now).await?
        }
        Some(SessionStatus::Running) => finish(&mut session, &machines, now),
        // Any other status is over: it is not looked at again.
        _ => session.due_on = None,
    }
    session.modified_on = now;
    tx.update_flow_session(&session).await?;
    tx.commit().await?;
    Ok(())
}

/// What placing a waiting run needs, read before its transaction.
enum Prepared {
    Nothing,
    /// The connection was deleted after the run was queued.
    NoConnection,
    SignIn(logon::Precheck),
}

async fn prepare(
    store: &Store,
    keyring: &KeyRing,
    session: &FlowSession,
) -> Result<Prepared, Error> {
    let Some(connection) = connection_of(store, session).await? else {
        return Ok(Prepared::NoConnection);
    };
    let credentials = windows_credentials(keyring, &connection)?;
    let precheck = logon::Precheck::new(store, session.machine_group_id, credentials).await?;
    Ok(Prepared::SignIn(precheck))
}

/// A waiting run: a free online machine of its target takes it and signs
/// the connection's account in, or the run waits its turn, or fails.
async fn place(
    store: &Store,
    tx: &mut Tx,
    session: &mut FlowSession,
    prepared: Prepared,
    machines: &[RunnerMachine],
    now: Timestamp,
) -> Result<(), Error> {
    // Whatever keeps it waiting, it waits no longer than this.
    let limit = MAX_QUEUED_SECONDS.min(session.timeout_seconds);
    if session.created_on.plus_seconds(limit) <= now {
        end_with(session, SessionStatus::Failed, NO_CANDIDATE_MACHINE, now);
        return Ok(());
    }
    let precheck = match prepared {
        Prepared::SignIn(precheck) => precheck,
        Prepared::NoConnection => {
            end_with(session, SessionStatus::Failed, "ConnectionNotFound", now);
            session.error_message = Some(format!(
                "Could not find connection '{}' for API 'shared_uiflow': it was deleted after the run was queued.",
                session.connection_id
            ));
            return Ok(());
        }
        // Read as waiting a moment ago, claimed as something else: look
        // again next time.
        Prepared::Nothing => return Ok(()),
    };
    if store
        .machine_group(session.machine_group_id)
        .await?
        .is_none()
    {
        end_with(session, SessionStatus::Failed, MACHINE_GROUP_NOT_FOUND, now);
        return Ok(());
    }
    if machines.is_empty() {
        end_with(session, SessionStatus::Failed, GROUP_IS_EMPTY, now);
        return Ok(());
    }
    let online: Vec<&RunnerMachine> = machines.iter().filter(|m| m.runtime.online).collect();
    if online.is_empty() {
        end_with(session, SessionStatus::Failed, NO_LISTENER_CONNECTED, now);
        return Ok(());
    }
    let free: Vec<&RunnerMachine> = online.into_iter().filter(|m| m.running == 0).collect();
    let ahead = tx
        .runs_ahead(session, SessionStatus::Waiting.code())
        .await?;
    let turn = usize::try_from(ahead).unwrap_or(usize::MAX);
    // The runs ahead take the first free machines, this one the next.
    let Some(machine) = free.get(turn) else {
        session.due_on = Some(now.plus_seconds(RETRY_SECONDS));
        return Ok(());
    };
    session.machine_id = Some(machine.id);
    if let Some(code) = machine.runtime.fail_with.as_deref() {
        end_with(session, SessionStatus::Failed, code, now);
        return Ok(());
    }
    let mode = RunMode::from_code(session.run_mode).unwrap_or(RunMode::Unattended);
    if let Err(code) = logon::sign_in(tx, machine, &precheck, mode, now).await? {
        end_with(session, SessionStatus::Failed, code, now);
        return Ok(());
    }
    session.statuscode = SessionStatus::Running.code();
    session.started_on = Some(now);
    let runs_for = machine.runtime.run_seconds.min(session.timeout_seconds);
    session.due_on = Some(now.plus_seconds(runs_for));
    Ok(())
}

/// A running run whose time is up: it succeeded, unless its machine takes
/// longer than its timeout allows.
fn finish(session: &mut FlowSession, machines: &[RunnerMachine], now: Timestamp) {
    let run_seconds = machines
        .iter()
        .find(|m| Some(m.id) == session.machine_id)
        .map_or(0, |m| m.runtime.run_seconds);
    if run_seconds > session.timeout_seconds {
        end_with(session, SessionStatus::TimedOut, ACTION_TIMEOUT, now);
        return;
    }
    session.statuscode = SessionStatus::Succeeded.code();
    session.completed_on = Some(now);
    session.due_on = None;
    session.outputs = Some("{}".to_owned());
}

/// Ends a run with `status` and the error `code`, its message the one the
/// service documents for it.
fn end_with(session: &mut FlowSession, status: SessionStatus, code: &str, now: Timestamp) {
    session.statuscode = status.code();
    session.error_code = Some(code.to_owned());
    session.error_message = Some(run_error(code).map_or_else(
        || format!("The run failed with {code}."),
        |e| e.meaning.to_owned(),
    ));
    session.completed_on = Some(now);
    session.due_on = None;
}

async fn connection_of(
    store: &Store,
    session: &FlowSession,
) -> Result<Option<padconnect_store::Connection>, Error> {
    let Ok(id) = session.connection_id.parse::<ConnectionId>() else {
        return Ok(None);
    };
    Ok(store.connection(&session.environment_id, &id).await?)
}

/// The heartbeat of every online machine: their `lastheartbeatdate` is now.
pub async fn heartbeat(store: &Store) -> Result<u64, Error> {
    let mut tx = store.begin().await?;
    let beaten = tx.beat_online_machines(store.now()).await?;
    tx.commit().await?;
    Ok(beaten)
}
