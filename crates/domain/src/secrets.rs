//! Hashing of credentials at rest.
//!
//! Client secrets are kept as a keyed hash under the key ring (HMAC-SHA-256,
//! `KeyRing::keyed_hash`): fast enough for the token endpoint, and a copied
//! database alone cannot test guesses of a weak world-file secret. Rows
//! from before (a plain SHA-256) still verify until the next world load
//! hashes them anew. Human passwords are guessable, so they get Argon2id
//! (the `argon2` crate's defaults, OWASP's recommended parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use aws_lc_rs::digest::{SHA256, digest};

use crate::keyring::KeyRing;

pub fn hash_client_secret(keyring: &KeyRing, value: &str) -> Vec<u8> {
    keyring.keyed_hash(value.as_bytes())
}

/// Whether `value` hashes to `stored`, in constant time: a keyed hash, or
/// a plain SHA-256 written before secrets were keyed.
pub fn client_secret_matches(keyring: &KeyRing, value: &str, stored: &[u8]) -> bool {
    if stored.len() == LEGACY_HASH_LEN {
        #[allow(deprecated)] // aws-lc-rs keeps it; it is the constant-time compare we need.
        return aws_lc_rs::constant_time::verify_slices_are_equal(
            digest(&SHA256, value.as_bytes()).as_ref(),
            stored,
        )
        .is_ok();
    }
    keyring.keyed_hash_matches(value.as_bytes(), stored)
}

/// Whether a world load may remove the stored client secret hash `stored`
/// that the world's secrets did not hash to: a plain SHA-256 of before, or
/// a keyed hash under a key of this ring. A hash under a key this replica
/// does not hold stays: during a rolling key rotation it is another
/// replica's, and only a replica that holds its key can tell whether the
/// world still lists its secret.
pub fn world_may_remove_secret_hash(keyring: &KeyRing, stored: &[u8]) -> bool {
    stored.len() == LEGACY_HASH_LEN || keyring.holds_key_of(stored)
}

/// A SHA-256, as secrets were kept before they were keyed.
const LEGACY_HASH_LEN: usize = 32;

/// What a world load replaces when it hashes `value` anew: its plain
/// SHA-256 of before, and its keyed hashes under the ring's older keys.
pub fn stale_client_secret_hashes(keyring: &KeyRing, value: &str) -> Vec<Vec<u8>> {
    let mut stale = keyring.older_keyed_hashes(value.as_bytes());
    stale.push(digest(&SHA256, value.as_bytes()).as_ref().to_vec());
    stale
}

/// The first three characters, as Entra ID shows a secret's "hint".
pub fn secret_hint(value: &str) -> String {
    value.chars().take(3).collect()
}

/// Runs costly credential work (Argon2, PKCS#12 key derivation) off the
/// async workers, at most one job per CPU at a time: each Argon2 run holds
/// 19 MiB, so a burst of sign-ins or joins must queue, not pile up threads
/// and memory. The slot goes with the job, not with the caller: a request
/// that times out while its job runs does not free the slot for another
/// job until its own has ended. `None` if the job panicked.
pub async fn run_costly<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static SLOTS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| {
            let cpus = std::thread::available_parallelism().map_or(2, usize::from);
            std::sync::Arc::new(tokio::sync::Semaphore::new(cpus))
        });
    let slot = SLOTS.clone().acquire_owned().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let done = job();
        drop(slot);
        done
    })
    .await
    .ok()
}

#[allow(
    clippy::expect_used,
    reason = "the system random source works, 16 bytes are a valid salt, and Argon2's defaults take any password under 4 GiB"
)]
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).expect("the system random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters accepts any password")
        .to_string()
}

/// Whether `password` matches the Argon2 PHC string `stored`; a malformed
/// stored hash never matches.
pub fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {

    /// The probe's case: callers that give up (a request timeout) while
    /// their job runs must not let more jobs run than there are slots.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_keeps_its_slot_until_its_job_ends() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let slots = std::thread::available_parallelism().map_or(2, usize::from);
        let job = || {
            let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
            MOST.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            RUNNING.fetch_sub(1, Ordering::SeqCst);
        };
        for _ in 0..slots {
            let _ = tokio::time::timeout(Duration::from_millis(20), run_costly(job)).await;
        }
        let later: Vec<_> = (0..slots).map(|_| tokio::spawn(run_costly(job))).collect();
        for handle in later {
            handle.await.unwrap();
        }
        assert!(
            MOST.load(Ordering::SeqCst) <= slots,
            "{} jobs ran at once",
            MOST.load(Ordering::SeqCst)
        );
    }

    use super::*;

    #[test]
    fn client_secrets() {
        let ring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        let stored = hash_client_secret(&ring, "s3cr3t-value");
        assert_ne!(stored, digest(&SHA256, b"s3cr3t-value").as_ref(), "keyed");
        assert!(client_secret_matches(&ring, "s3cr3t-value", &stored));
        assert!(!client_secret_matches(&ring, "s3cr3t-valuf", &stored));
        assert!(!client_secret_matches(&ring, "s3cr3t-value", &stored[..31]));
        // A row from before keyed hashes still verifies.
        let legacy = digest(&SHA256, b"s3cr3t-value").as_ref().to_vec();
        assert!(client_secret_matches(&ring, "s3cr3t-value", &legacy));
        assert!(!client_secret_matches(&ring, "s3cr3t-valuf", &legacy));
        assert_eq!(secret_hint("abcdef"), "abc");
    }

    #[test]
    fn passwords() {
        let stored = hash_password("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("correct horse"));
        assert!(password_matches("correct horse", &stored));
        assert!(!password_matches("correct hors", &stored));
        assert!(!password_matches("correct horse", "not a hash"));
        assert_ne!(hash_password("correct horse"), stored, "salted");
    }
}
