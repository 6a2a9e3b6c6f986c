//! The token signing keys as rows: which key signs, which are retired, and
//! revoking one. The keys themselves (sealed with the key ring) and their
//! use (signing, the JWKS) are the platform's.

use padconnect_store::{SigningKey, Store, StoreError, Timestamp};

/// When the keys that signed until now stop: they sign no more from `at`,
/// and stay published until `last_expiry`, the last token they may have
/// signed by then.
#[derive(Debug, Clone, Copy)]
pub struct Retirement {
    pub at: Timestamp,
    pub last_expiry: Timestamp,
}

/// Makes `key` the one that signs, retiring the others first when
/// `retiring` says so, in one transaction.
pub async fn add(
    store: &Store,
    key: &SigningKey,
    retiring: Option<Retirement>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    if let Some(Retirement { at, last_expiry }) = retiring {
        tx.retire_signing_keys(at, last_expiry).await?;
    }
    tx.insert_signing_key(key).await?;
    tx.commit().await
}

/// Ends the key `kid` now: it signs nothing more and is published no more.
/// `false` when no live key has this kid.
pub async fn revoke(store: &Store, kid: &str) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let found = tx.revoke_signing_key(kid, store.now()).await?;
    tx.commit().await?;
    Ok(found)
}
