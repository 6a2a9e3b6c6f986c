//! Hashing of credentials at rest.
//!
//! Client secrets are random and high-entropy, so a SHA-256 is enough and
//! keeps the token endpoint fast; comparison is constant-time. Human
//! passwords are guessable, so they get Argon2id (the `argon2` crate's
//! defaults, OWASP's recommended parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use aws_lc_rs::digest::{SHA256, digest};

pub fn hash_client_secret(value: &str) -> Vec<u8> {
    digest(&SHA256, value.as_bytes()).as_ref().to_vec()
}

/// Whether `value` hashes to `stored`, in constant time.
pub fn client_secret_matches(value: &str, stored: &[u8]) -> bool {
    #[allow(deprecated)] // aws-lc-rs keeps it; it is the constant-time compare we need.
    aws_lc_rs::constant_time::verify_slices_are_equal(&hash_client_secret(value), stored).is_ok()
}

/// The first three characters, as Entra ID shows a secret's "hint".
pub fn secret_hint(value: &str) -> String {
    value.chars().take(3).collect()
}

/// Lower-case hex, for key ids and thumbprints.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs costly credential work (Argon2, PKCS#12 key derivation) off the
/// async workers, at most one job per CPU at a time: each Argon2 run holds
/// 19 MiB, so a burst of sign-ins or joins must queue, not pile up threads
/// and memory. `None` if the job panicked.
pub async fn run_costly<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(cpus)
    });
    let _slot = SLOTS.acquire().await.ok()?;
    tokio::task::spawn_blocking(job).await.ok()
}

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
    use super::*;

    #[test]
    fn client_secrets() {
        let stored = hash_client_secret("s3cr3t-value");
        assert_eq!(stored.len(), 32);
        assert!(client_secret_matches("s3cr3t-value", &stored));
        assert!(!client_secret_matches("s3cr3t-valuf", &stored));
        assert!(!client_secret_matches("s3cr3t-value", &stored[..31]));
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
