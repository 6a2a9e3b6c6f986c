//! A run's sign-in on the machine that took it, with the connection's
//! Windows account, as Windows decides it: the account must exist on the
//! machine with that password (KB 5021155), not be locked out, hold the
//! logon right (KB 5021230), and be signed in for an attended run or out
//! for an unattended one (KB 5004537). A machine whose world declares no
//! accounts takes any account, as before.

use padconnect_core::desktop_runs::{
    ACCOUNT_LOCKED_OUT, ATTENDED_NOT_LOGGED_IN, LOGON_TYPE_NOT_GRANTED, RunMode,
    SESSION_EXISTS_UNATTENDED, WINDOWS_IDENTITY_INCORRECT,
};

use crate::Error;
use crate::connections::credentials::same_account;
use crate::secrets::{password_matches, run_costly};
use padconnect_store::{AccountLogon, RunnerMachine, Timestamp, Tx};

/// How long a locked-out account stays locked: Windows' default "Account
/// lockout duration" of 10 minutes. An administrator's new password (the
/// portal's form) unlocks it at once.
const LOCKOUT_SECONDS: i64 = 10 * 60;

/// Signs `username` in on `machine`; `Err` is the run-time error code the
/// run fails with. A bad password counts towards the account's lockout.
pub(super) async fn sign_in(
    tx: &mut Tx,
    machine: &RunnerMachine,
    (username, password): (String, String),
    mode: RunMode,
    now: Timestamp,
) -> Result<Result<(), &'static str>, Error> {
    // A Key Vault or CyberArk reference is resolved on the machine.
    if username.starts_with("@environmentVariables(") {
        return Ok(Ok(()));
    }
    let accounts = tx.account_logons(machine.id).await?;
    if accounts.is_empty() {
        return Ok(Ok(()));
    }
    let Some(logon) = accounts
        .into_iter()
        .find(|a| same_account(&a.account.username, &username, &machine.name))
    else {
        return Ok(Err(WINDOWS_IDENTITY_INCORRECT));
    };
    if logon.locked_until.is_some_and(|until| until > now) {
        return Ok(Err(ACCOUNT_LOCKED_OUT));
    }
    let hash = logon.account.password_hash.clone();
    let matches = run_costly(move || password_matches(&password, &hash))
        .await
        .ok_or(Error::Internal("checking a run's Windows credentials"))?;
    if !matches {
        let failures = logon.failed_logons + 1;
        let threshold = machine.runtime.lockout_threshold;
        let locked =
            (threshold > 0 && failures >= threshold).then(|| now.plus_seconds(LOCKOUT_SECONDS));
        tx.record_logon(machine.id, &logon.account.username, true, locked)
            .await?;
        return Ok(Err(WINDOWS_IDENTITY_INCORRECT));
    }
    if logon.failed_logons > 0 || logon.locked_until.is_some() {
        tx.record_logon(machine.id, &logon.account.username, false, None)
            .await?;
    }
    Ok(session_rule(&logon, mode))
}

/// The rights and sessions a signed-in account still needs.
fn session_rule(logon: &AccountLogon, mode: RunMode) -> Result<(), &'static str> {
    if !logon.can_log_on {
        return Err(LOGON_TYPE_NOT_GRANTED);
    }
    match (mode, logon.signed_in) {
        (RunMode::Attended, false) => Err(ATTENDED_NOT_LOGGED_IN),
        (RunMode::Unattended, true) => Err(SESSION_EXISTS_UNATTENDED),
        _ => Ok(()),
    }
}
