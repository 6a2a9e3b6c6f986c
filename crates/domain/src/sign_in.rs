//! A person's password, checked once for every surface that takes one (the
//! token endpoint's password grant, the portal's sign-in form): smart
//! lockout first (`lockout.rs`), then Argon2 against the stored hash, or
//! against a hash of nothing for an unknown user, so that the answer's
//! timing does not tell which UPNs exist.

use std::sync::LazyLock;
use std::time::Duration;

use uuid::Uuid;

use crate::lockout::SignInGuard;
use crate::secrets::{hash_password, password_matches, run_costly};
use padconnect_store::{Store, StoreError, User};

/// Why a password sign-in was refused.
pub enum Refusal {
    /// Smart lockout: wait this long.
    Locked(Duration),
    /// No such user, or the wrong password: the caller must not say which.
    BadCredentials,
}

/// The Argon2 hash an unknown user's password is checked against.
static NOBODY: LazyLock<String> = LazyLock::new(|| hash_password(&Uuid::new_v4().to_string()));

/// The user of `tenant` that `upn` and `password` sign in, if any.
pub async fn check_password(
    store: &Store,
    guard: &SignInGuard,
    tenant: Uuid,
    upn: &str,
    password: &str,
) -> Result<Result<User, Refusal>, StoreError> {
    let account = format!("{tenant}/{}", upn.trim().to_lowercase());
    if let Some(wait) = guard.locked_for(&account) {
        return Ok(Err(Refusal::Locked(wait)));
    }
    let user = store.user_by_upn(tenant, upn.trim()).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let given = password.to_owned();
    // NOBODY's first use hashes too: off the async workers, with the rest.
    let matched =
        run_costly(move || password_matches(&given, stored.as_deref().unwrap_or(&NOBODY)))
            .await
            .unwrap_or(false);
    match user.filter(|_| matched) {
        Some(user) => {
            guard.password_succeeded(&account);
            Ok(Ok(user))
        }
        None => {
            guard.password_failed(&account, password);
            Ok(Err(Refusal::BadCredentials))
        }
    }
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHash;

    use super::NOBODY;
    use crate::secrets::{hash_password, password_matches};

    /// What an Argon2 check costs is set by its algorithm, version,
    /// parameters and output length. Every stored password hash is made by
    /// `hash_password` (`world::load`, the fleet's Windows accounts), and so
    /// is the hash of nobody, and `check_password` checks exactly one of
    /// them per attempt: an unknown user's sign-in does the work of a wrong
    /// password. (This replaces a wall-clock comparison, flaky on a busy
    /// machine and blind to a small leak.)
    #[test]
    fn an_unknown_user_is_checked_at_the_cost_of_a_known_one() {
        let user = hash_password("correct horse");
        let cost = |phc: &str| {
            let hash = PasswordHash::new(phc).unwrap();
            (
                hash.algorithm.to_string(),
                hash.version,
                hash.params.to_string(),
                hash.hash.map(|h| h.len()),
            )
        };
        assert_eq!(cost(&NOBODY), cost(&user));
        assert!(!password_matches("correct horse", &NOBODY));
    }
}
