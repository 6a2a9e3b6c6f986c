//! Sign-in defences, as Entra ID has them:
//!
//! - **Smart lockout** of an account after [`LOCKOUT_THRESHOLD`] wrong
//!   passwords, for [`LOCKOUT_SECS`] (the documented defaults for the public
//!   cloud: 10 attempts, one minute; learn.microsoft.com
//!   entra/identity/authentication/howto-password-smart-lockout). As there,
//!   the same wrong password again does not count (the last three bad
//!   passwords are remembered, as keyed hashes), a correct one resets the
//!   count, and each datacenter (here: each replica) counts on its own.
//! - **Throttling of wrong client secrets** per app: after
//!   [`SECRET_FAILURES_PER_WINDOW`] in [`WINDOW_SECS`], the app's secret
//!   sign-ins answer 429 with `Retry-After` until the window ends, so a
//!   secret cannot be guessed at the speed of the network.
//!
//! State is in memory and bounded: an attacker naming endless accounts or
//! apps cannot grow it past [`MAX_TRACKED`] entries.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use padconnect_core::Clock;

pub const LOCKOUT_THRESHOLD: u32 = 10;
pub const LOCKOUT_SECS: u64 = 60;
pub const SECRET_FAILURES_PER_WINDOW: u32 = 20;
pub const WINDOW_SECS: u64 = 60;
const REMEMBERED_BAD_PASSWORDS: usize = 3;
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
struct Account {
    failures: u32,
    recent_bad: Vec<hmac::Tag>,
    locked_until: Option<Instant>,
}

struct Window {
    started: Instant,
    failures: u32,
}

/// The defences' memory; one per process, shared by every request.
pub struct SignInGuard {
    accounts: Mutex<HashMap<String, Account>>,
    clients: Mutex<HashMap<String, Window>>,
    /// Keys the hashes of remembered bad passwords, never stored anywhere.
    key: hmac::Key,
    /// The platform's: a lockout ends on its time.
    clock: Clock,
}

impl SignInGuard {
    /// Defences with nothing counted yet, timed on `clock`.
    #[allow(
        clippy::expect_used,
        reason = "the system random source failing leaves nothing safe to do; std panics there too"
    )]
    pub fn new(clock: Clock) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Self {
            accounts: Mutex::default(),
            clients: Mutex::default(),
            key: hmac::Key::generate(hmac::HMAC_SHA256, &rng)
                .expect("the system random source works"),
            clock,
        }
    }

    /// How long `account` stays locked, if it is.
    pub fn locked_for(&self, account: &str) -> Option<Duration> {
        let accounts = self.accounts.lock();
        let until = accounts.get(account)?.locked_until?;
        until.checked_duration_since(self.clock.instant())
    }

    /// Counts a wrong password for `account` (unless it is one of the last
    /// few wrong ones); true when this one locks the account.
    pub fn password_failed(&self, account: &str, password: &str) -> bool {
        let tag = hmac::sign(&self.key, password.as_bytes());
        let now = self.clock.instant();
        let mut accounts = self.accounts.lock();
        bound(&mut accounts, |a| a.locked_until.is_some_and(|t| t > now));
        let entry = accounts.entry(account.to_owned()).or_default();
        if entry.locked_until.is_some_and(|t| t <= now) {
            *entry = Account::default();
        }
        if entry.recent_bad.iter().any(|t| t.as_ref() == tag.as_ref()) {
            return false;
        }
        entry.recent_bad.push(tag);
        if entry.recent_bad.len() > REMEMBERED_BAD_PASSWORDS {
            entry.recent_bad.remove(0);
        }
        entry.failures += 1;
        if entry.failures >= LOCKOUT_THRESHOLD {
            entry.locked_until = Some(now + Duration::from_secs(LOCKOUT_SECS));
            return true;
        }
        false
    }

    /// A correct password: the count starts again.
    pub fn password_succeeded(&self, account: &str) {
        self.accounts.lock().remove(account);
    }

    /// How long `client`'s secret sign-ins are held back, if they are.
    pub fn throttled_for(&self, client: &str) -> Option<Duration> {
        let clients = self.clients.lock();
        let window = clients.get(client)?;
        let ends = window.started + Duration::from_secs(WINDOW_SECS);
        (window.failures >= SECRET_FAILURES_PER_WINDOW)
            .then(|| ends.checked_duration_since(self.clock.instant()))
            .flatten()
    }

    /// Counts a wrong secret for `client`.
    pub fn secret_failed(&self, client: &str) {
        let now = self.clock.instant();
        let mut clients = self.clients.lock();
        let window_open = |w: &Window| {
            now.saturating_duration_since(w.started) < Duration::from_secs(WINDOW_SECS)
        };
        bound(&mut clients, window_open);
        let window = clients.entry(client.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if !window_open(window) {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }
}

/// Keeps `map` under [`MAX_TRACKED`]: drops entries that no longer matter,
/// then, if an attacker still fills it, everything but what `keep` holds.
fn bound<V>(map: &mut HashMap<String, V>, keep: impl Fn(&V) -> bool) {
    if map.len() >= MAX_TRACKED {
        map.retain(|_, v| keep(v));
    }
    if map.len() >= MAX_TRACKED {
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use padconnect_core::TestClock;

    #[test]
    fn ten_different_wrong_passwords_lock_and_a_repeat_does_not_count() {
        let guard = SignInGuard::new(Clock::system());
        for _ in 0..20 {
            assert!(!guard.password_failed("a@contoso", "same-wrong"));
        }
        assert!(guard.locked_for("a@contoso").is_none());
        // "same-wrong" counted once: nine other wrong ones make ten.
        for i in 1..LOCKOUT_THRESHOLD {
            let locked = guard.password_failed("a@contoso", &format!("wrong-{i}"));
            assert_eq!(locked, i == LOCKOUT_THRESHOLD - 1, "attempt {i}");
        }
        assert!(
            guard.locked_for("a@contoso").is_some(),
            "the tenth distinct one locks"
        );
        assert!(guard.locked_for("b@contoso").is_none(), "per account");
        guard.password_succeeded("a@contoso");
        assert!(guard.locked_for("a@contoso").is_none());
    }

    #[test]
    fn wrong_secrets_are_throttled_per_client() {
        let guard = SignInGuard::new(Clock::system());
        for _ in 0..SECRET_FAILURES_PER_WINDOW - 1 {
            guard.secret_failed("tenant/app");
        }
        assert!(guard.throttled_for("tenant/app").is_none());
        guard.secret_failed("tenant/app");
        let wait = guard.throttled_for("tenant/app").unwrap();
        assert!(wait <= Duration::from_secs(WINDOW_SECS) && wait > Duration::from_secs(50));
        assert!(guard.throttled_for("tenant/other").is_none());
    }

    /// Ten distinct wrong passwords for `account`.
    fn lock(guard: &SignInGuard, account: &str) {
        for i in 0..LOCKOUT_THRESHOLD {
            guard.password_failed(account, &format!("wrong-{i}"));
        }
        assert!(guard.locked_for(account).is_some());
    }

    #[test]
    fn a_lockout_ends_after_its_minute_and_the_count_starts_again() {
        let time = TestClock::new();
        let guard = SignInGuard::new(time.clock());
        lock(&guard, "a@contoso");
        time.advance(Duration::from_secs(LOCKOUT_SECS - 5));
        let left = guard.locked_for("a@contoso").expect("still locked");
        assert!(left <= Duration::from_secs(5), "{left:?}");
        time.advance(Duration::from_secs(5));
        assert!(guard.locked_for("a@contoso").is_none(), "unlocked");
        // Counted from nothing again: even a password wrong before counts.
        for i in 0..LOCKOUT_THRESHOLD - 1 {
            assert!(!guard.password_failed("a@contoso", &format!("wrong-{i}")));
        }
        assert!(guard.password_failed("a@contoso", "one-more"));
    }

    #[test]
    fn a_throttled_client_may_try_again_when_its_window_ends() {
        let time = TestClock::new();
        let guard = SignInGuard::new(time.clock());
        for _ in 0..SECRET_FAILURES_PER_WINDOW {
            guard.secret_failed("tenant/app");
        }
        time.advance(Duration::from_secs(WINDOW_SECS - 5));
        let left = guard.throttled_for("tenant/app").expect("still throttled");
        assert!(left <= Duration::from_secs(5), "{left:?}");
        time.advance(Duration::from_secs(5));
        assert!(guard.throttled_for("tenant/app").is_none());
        // A new window: one failure is far from the limit.
        guard.secret_failed("tenant/app");
        assert!(guard.throttled_for("tenant/app").is_none());
    }

    #[test]
    fn the_memory_stays_bounded() {
        let guard = SignInGuard::new(Clock::system());
        for i in 0..MAX_TRACKED + 10 {
            guard.secret_failed(&format!("tenant/app-{i}"));
            guard.password_failed(&format!("user-{i}@contoso"), "x");
        }
        assert!(guard.clients.lock().len() <= MAX_TRACKED);
        assert!(guard.accounts.lock().len() <= MAX_TRACKED);
    }
}
