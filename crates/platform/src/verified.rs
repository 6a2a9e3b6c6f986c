//! Tokens already verified, so a client that sends the same bearer token on
//! every call (as SDKs do, for its hour) costs one RSA verification, not one
//! per request.
//!
//! Entries are keyed by the SHA-256 of the token (the token itself is not
//! kept) and hold the claims its signature proved. A hit is still checked
//! against the clock, so an expired token fails as before. Keys stay
//! published until their last token expires (signing.rs), so a cached
//! verification never outlives the key that made it valid. The cache is
//! bounded: when full, it starts over.
//!
//! What it buys (docs/benchmarks-log.md, "The caches, measured", 2026-12-04, one
//! sitting, SQLite): connection GETs at 64 connections did 0.60 of
//! `/healthz`'s rate with it and 0.24 without (the RSA verification on
//! every request), below the 0.5 docs/benchmarks.md sets; GET p99 3.98 ms against 7.82 ms.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use aws_lc_rs::digest::{SHA256, digest};

use crate::auth::check_times;
use crate::claims::AccessClaims;

/// Past this many distinct tokens the cache is cleared.
const CAPACITY: usize = 10_000;

/// A token's claims and the `kid` of the key that signed them.
type Verified = (Arc<AccessClaims>, String);

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], Verified>>,
}

fn key(token: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    // SHA-256 fills all 32.
    for (to, from) in key
        .iter_mut()
        .zip(digest(&SHA256, token.as_bytes()).as_ref())
    {
        *to = *from;
    }
    key
}

impl VerifiedTokens {
    /// The claims of a token verified before, if its times still hold at
    /// `now` (Unix seconds; [`check_times`]).
    pub fn get(&self, token: &str, now: i64) -> Option<Verified> {
        let key = key(token);
        let entries = self.entries.lock();
        let (claims, kid) = entries.get(&key)?;
        check_times(claims.exp as f64, Some(claims.nbf as f64), now as f64)
            .is_ok()
            .then(|| (claims.clone(), kid.clone()))
    }

    pub fn insert(&self, token: &str, claims: Arc<AccessClaims>, kid: String) {
        let key = key(token);
        let mut entries = self.entries.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (claims, kid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(nbf: i64, exp: i64) -> AccessClaims {
        serde_json::from_value(serde_json::json!({
            "aud": "https://api.powerplatform.com", "iss": "i", "iat": nbf, "nbf": nbf, "exp": exp,
            "tid": uuid::Uuid::nil(), "oid": uuid::Uuid::nil(), "sub": "s", "appid": uuid::Uuid::nil(),
            "appidacr": "1", "idp": "i", "idtyp": "app", "uti": "u", "ver": "1.0"
        }))
        .unwrap()
    }

    #[test]
    fn a_hit_is_still_checked_against_the_clock() {
        let cache = VerifiedTokens::default();
        cache.insert("token-a", Arc::new(claims(1_000, 2_000)), "k".into());
        assert!(cache.get("token-a", 1_500).is_some());
        assert!(cache.get("token-a", 2_300).is_some(), "within the leeway");
        assert!(cache.get("token-a", 2_301).is_none(), "expired");
        assert!(cache.get("token-a", 700).is_some(), "within the leeway");
        assert!(cache.get("token-a", 699).is_none(), "not yet valid");
        assert!(cache.get("token-b", 1_500).is_none(), "another token");
    }

    #[test]
    fn it_never_grows_past_its_capacity() {
        let cache = VerifiedTokens::default();
        for n in 0..CAPACITY + 5 {
            cache.insert(&format!("token-{n}"), Arc::new(claims(0, 10)), "k".into());
        }
        assert!(cache.entries.lock().len() <= CAPACITY);
    }
}
