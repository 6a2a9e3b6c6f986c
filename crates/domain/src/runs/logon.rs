//! A run's sign-in on the machine that took it, with the connection's
//! Windows account, as Windows decides it: the account must exist on the
//! machine with that password (KB 5021155), not be locked out, hold the
//! logon right (KB 5021230), and be signed in for an attended run or out
//! for an unattended one (KB 5004537). A machine whose world declares no
//! accounts takes any account, as before.
//!
//! The password is checked against the group's accounts before the run's
//! transaction (`Precheck`): an Argon2 check holds no write lock.

use padconnect_core::desktop_runs::{
    ACCOUNT_LOCKED_OUT, ATTENDED_NOT_LOGGED_IN, LOGON_TYPE_NOT_GRANTED, RunMode,
    SESSION_EXISTS_UNATTENDED, WINDOWS_IDENTITY_INCORRECT,
};
use padconnect_store::{AccountLogon, MachineAccount, RunnerMachine, Store, Timestamp, Tx};
use uuid::Uuid;

use crate::Error;
use crate::connections::credentials::same_account;
use crate::secrets::{password_matches, run_costly};

/// How long a locked-out account stays locked: Windows' default "Account
/// lockout duration" of 10 minutes. A new password (the portal's form, or
/// the world's) unlocks it at once.
const LOCKOUT_SECONDS: i64 = 10 * 60;

/// The connection's account, and whether its password is the one of each
/// account of that name on the group's machines, at the version read.
pub(super) struct Precheck {
    username: String,
    password: String,
    /// (machine, account version, password matches).
    checked: Vec<(Uuid, i64, bool)>,
}

impl Precheck {
    /// Checks `password` against every account of the group that `username`
    /// names, outside any transaction.
    pub(super) async fn new(
        store: &Store,
        group: Uuid,
        (username, password): (String, String),
    ) -> Result<Self, Error> {
        let candidates: Vec<MachineAccount> = store
            .accounts_in_group(group)
            .await?
            .into_iter()
            .filter(|(machine, a)| same_account(&a.username, &username, machine))
            .map(|(_, a)| a)
            .collect();
        let given = password.clone();
        let checked = run_costly(move || {
            candidates
                .iter()
                .map(|a| {
                    (
                        a.machine_id,
                        a.version,
                        password_matches(&given, &a.password_hash),
                    )
                })
                .collect()
        })
        .await
        .ok_or(Error::Internal("checking a run's Windows credentials"))?;
        Ok(Self {
            username,
            password,
            checked,
        })
    }

    /// Whether the password is the account's: as checked, or checked again
    /// when the account got a new password since.
    async fn matches(&self, logon: &AccountLogon) -> Result<bool, Error> {
        let account = &logon.account;
        if let Some((_, _, matches)) = self.checked.iter().find(|(machine, version, _)| {
            *machine == account.machine_id && *version == account.version
        }) {
            return Ok(*matches);
        }
        let (given, hash) = (self.password.clone(), account.password_hash.clone());
        run_costly(move || password_matches(&given, &hash))
            .await
            .ok_or(Error::Internal("checking a run's Windows credentials"))
    }
}

/// Signs the precheck's account in on `machine`; `Err` is the run-time
/// error code the run fails with. A bad password counts towards the
/// account's lockout.
pub(super) async fn sign_in(
    tx: &mut Tx,
    machine: &RunnerMachine,
    precheck: &Precheck,
    mode: RunMode,
    now: Timestamp,
) -> Result<Result<(), &'static str>, Error> {
    // A Key Vault or CyberArk reference is resolved on the machine.
    if precheck.username.starts_with("@environmentVariables(") {
        return Ok(Ok(()));
    }
    let accounts = tx.account_logons(machine.id).await?;
    if accounts.is_empty() {
        return Ok(Ok(()));
    }
    let Some(logon) = accounts
        .into_iter()
        .find(|a| same_account(&a.account.username, &precheck.username, &machine.name))
    else {
        return Ok(Err(WINDOWS_IDENTITY_INCORRECT));
    };
    let lock_over = logon.locked_until.is_some_and(|until| until <= now);
    if logon.locked_until.is_some() && !lock_over {
        return Ok(Err(ACCOUNT_LOCKED_OUT));
    }
    if !precheck.matches(&logon).await? {
        // A lockout that ran out starts the count again, as Windows'
        // "Reset account lockout counter after" does.
        let failures = if lock_over {
            1
        } else {
            logon.failed_logons + 1
        };
        let threshold = machine.runtime.lockout_threshold;
        let locked =
            (threshold > 0 && failures >= threshold).then(|| now.plus_seconds(LOCKOUT_SECONDS));
        tx.record_logon(machine.id, &logon.account.username, failures, locked)
            .await?;
        return Ok(Err(WINDOWS_IDENTITY_INCORRECT));
    }
    if logon.failed_logons > 0 || logon.locked_until.is_some() {
        tx.record_logon(machine.id, &logon.account.username, 0, None)
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
