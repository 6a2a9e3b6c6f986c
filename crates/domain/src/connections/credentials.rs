//! Windows credentials, checked when a connection is written, as the real
//! service checks them: KB 5021155 ("Connection failed: [Machine <id>].
//! There's an issue with your credentials") and the run-owner document,
//! whose errors come wrapped as `ApiHubsRequestFailed`. The platform knows a
//! machine's accounts only where the world declares them (docs/world.md);
//! a group whose machines declare none takes any account, as before.
//!
//! An account matches in any of its documented forms (KB 4555406): a local
//! account `user`, `.\user` and `MACHINE\user` are one account on MACHINE;
//! names compare without case, as Windows compares them. A Key Vault or
//! CyberArk reference (`@environmentVariables(...)`) is resolved on the
//! machine when a flow runs, so it is not checked here.

use crate::Error;
use crate::secrets::{password_matches, run_costly};
use padconnect_core::uiflow::account_key;
use padconnect_store::{MachineAccount, Store, VerifiedAccount, WriterTarget};

/// Refuses `username`/`password` unless an account declared on one of the
/// target group's machines has them; answers that account (`None`: the
/// group's machines declare none, or the username is resolved on the
/// machine). The accounts are read only where the target says there are
/// some, sparing most PUTs a query.
pub async fn check(
    store: &Store,
    target: &WriterTarget,
    username: &str,
    password: &str,
) -> Result<Option<VerifiedAccount>, Error> {
    if !target.declares_accounts || username.starts_with("@environmentVariables(") {
        return Ok(None);
    }
    let accounts = store.accounts_in_group(target.group.id).await?;
    let Some(first) = accounts.first().map(|(_, a)| a.machine_id) else {
        return Ok(None);
    };
    let candidates: Vec<MachineAccount> = accounts
        .into_iter()
        .filter(|(machine, a)| same_account(&a.username, username, machine))
        .map(|(_, a)| a)
        .collect();
    let password = password.to_owned();
    let matched = run_costly(move || {
        candidates
            .into_iter()
            .find(|a| password_matches(&password, &a.password_hash))
    })
    .await
    .ok_or(Error::Internal("checking Windows credentials"))?;
    match matched {
        Some(account) => Ok(Some(VerifiedAccount {
            machine_id: account.machine_id,
            username_key: MachineAccount::key(&account.username),
            version: account.version,
        })),
        None => Err(Error::Credentials { machine: first }),
    }
}

/// Whether two spellings name one account on `machine`.
pub(crate) fn same_account(declared: &str, given: &str, machine: &str) -> bool {
    account_key(declared, Some(machine)) == account_key(given, Some(machine))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_accounts_have_three_spellings() {
        for given in ["svc", ".\\svc", "PAY-01\\svc", "pay-01\\SVC"] {
            assert!(same_account("PAY-01\\svc", given, "PAY-01"), "{given}");
            assert!(same_account("svc", given, "PAY-01"), "{given}");
        }
        assert!(same_account(
            "FABRIKAM\\payroll",
            "fabrikam\\PAYROLL",
            "PAY-01"
        ));
        assert!(!same_account("FABRIKAM\\payroll", "payroll", "PAY-01"));
        assert!(!same_account("PAY-02\\svc", "PAY-01\\svc", "PAY-01"));
        assert!(!same_account("svc@fabrikam.com", "svc", "PAY-01"));
    }
}
