//! Portal sessions: a random token that only the browser's cookie holds,
//! kept in the store (shared by every replica) under its SHA-256, so a copy
//! of the database signs no one in.

use base64::Engine;
use padconnect_store::{PortalSession, Store, StoreError, User};

use crate::encoding::hex;

/// A session lasts a working day, then the user signs in again.
pub const LIFETIME_SECS: i64 = 8 * 3600;

/// A fresh random token: 256 bits, URL-safe.
#[allow(
    clippy::expect_used,
    reason = "the system random source failing leaves nothing safe to do; std panics there too"
)]
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a session token.
pub fn token_hash(token: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

/// Starts a session for `user`; returns its token, for the cookie only.
pub async fn start(store: &Store, user: &User) -> Result<String, StoreError> {
    let token = new_token();
    let now = store.now();
    let session = PortalSession {
        tenant_id: user.tenant_id,
        user_object_id: user.object_id,
        created_at: now,
        expires_at: now.plus_seconds(LIFETIME_SECS),
    };
    let mut tx = store.begin().await?;
    tx.insert_portal_session(&token_hash(&token), &session)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Ends a session: it is deleted from the store, so the cookie is worthless
/// even if a copy of it survives.
pub async fn end(store: &Store, token: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.delete_portal_session(&token_hash(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// The live session `token` names, if any.
pub async fn find(store: &Store, token: &str) -> Result<Option<PortalSession>, StoreError> {
    store.portal_session(&token_hash(token), store.now()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a));
    }
}
