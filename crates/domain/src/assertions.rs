//! Client assertions (a JWT in place of a secret) are good for one use:
//! Entra refuses an assertion whose `jti` it has seen from that client.
//! What was seen is kept in the store until the assertion would have
//! expired anyway, so every replica refuses the replay.

use padconnect_store::{Store, StoreError, Timestamp};

/// Whether this is the first use of assertion `jti` by `client_id`; it is
/// remembered until `expires`.
pub async fn first_use(
    store: &Store,
    client_id: &str,
    jti: &str,
    expires: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let first = tx
        .remember_assertion(&format!("{client_id}:{jti}"), expires)
        .await?;
    tx.commit().await?;
    Ok(first)
}
