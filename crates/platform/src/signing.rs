//! Token signing keys: RSA-2048, each with a self-signed certificate whose
//! SHA-1 thumbprint is its `kid` (as Entra ID's are), kept in the store with
//! the private half sealed by the key ring, so tokens survive a restart and
//! every replica on one database signs and verifies with the same keys.
//!
//! A key signs for its lifetime (`--signing-key-lifetime`), then retires and
//! stays published until the last token it signed has expired. A replica
//! re-reads the keys every [`REFRESH_EVERY`], and at once when it meets a
//! `kid` it does not know, so a key made, rotated or revoked elsewhere is
//! seen within that time.
//!
//! Rotation (`keys rotate`) retires every key at once: the process that
//! rotated signs with the new key from then on, other replicas within
//! [`REFRESH_EVERY`]. A retired key still verifies the tokens it signed
//! before it retired (their `iat` at most [`SIGNING_GRACE_SECS`] after), until
//! their own expiry, and then leaves the JWKS. Revocation (`keys revoke`) ends
//! a key outright: every token it signed fails, here at once and on other
//! replicas at their next re-read.

use std::sync::Arc;

use parking_lot::RwLock;
use std::time::Duration;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::auth::{LEEWAY_SECS, TOKEN_LIFETIME_SECS};
use padconnect_domain::keyring::KeyRing;
use padconnect_domain::signing_keys::{self, Retirement};
use padconnect_jwt::{Algorithm, Header, RsaSigningKey};
use padconnect_store::{SigningKey, Store, StoreError, Timestamp};

/// The longest a token lives, plus the verifier's clock skew: how long a
/// retired key stays published.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = TOKEN_LIFETIME_SECS + LEEWAY_SECS as i64;
/// How often a replica re-reads the keys (one small query): the bound on how
/// long another replica may go on signing with a retired key, or accepting a
/// revoked one.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// How long after its retirement a key's tokens may still have been issued:
/// another replica's re-read, plus clock skew between replicas.
pub const SIGNING_GRACE_SECS: i64 = REFRESH_EVERY.as_secs() as i64 + 5;
/// At most this often does an unknown `kid` trigger a re-read.
const MISS_REFRESH_MIN_INTERVAL_SECS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create a signing key: {0}")]
    Generate(String),
    #[error("cannot sign a token: {0}")]
    Sign(String),
    #[error("signing key {kid} cannot be opened: {reason}")]
    Unreadable { kid: String, reason: String },
    #[error(
        "no live signing key has the kid '{0}': the JWKS (/{{tenant}}/discovery/v2.0/keys) lists every published key's kid"
    )]
    UnknownKey(String),
}

/// A key that may sign.
struct ActiveKey {
    kid: String,
    key: RsaSigningKey,
    /// RS256 with `kid` and `x5t`, as Entra ID's v1 tokens carry.
    header: Header,
    retire_at: Timestamp,
}

/// A key in the JWKS.
pub struct PublishedKey {
    pub kid: String,
    /// Base64url modulus and exponent.
    pub n: String,
    pub e: String,
    /// Base64 DER certificate.
    pub x5c: String,
    pub decoding: DecodingKey,
    /// Unix seconds after which the key signs nothing (its retirement).
    pub signs_until: i64,
}

struct KeySet {
    active: Arc<ActiveKey>,
    published: Vec<Arc<PublishedKey>>,
    /// Every key opened, by kid: a refresh reuses them instead of unsealing
    /// and parsing RSA keys again.
    opened: Vec<(RsaSigningKey, Arc<PublishedKey>)>,
    loaded_at: Timestamp,
}

/// The signing keys, cached; cheap to share.
pub struct SigningKeys {
    store: Store,
    keyring: Arc<KeyRing>,
    lifetime_secs: i64,
    current: RwLock<Arc<KeySet>>,
    /// Serialises re-reads and key creation within this process.
    reload: Mutex<()>,
}

impl SigningKeys {
    /// Now on the store's clock: what tokens are stamped with.
    pub fn now(&self) -> Timestamp {
        self.store.now()
    }

    /// Loads the keys, creating one if none may sign.
    pub async fn open(
        store: Store,
        keyring: Arc<KeyRing>,
        lifetime_secs: i64,
    ) -> Result<Self, SigningError> {
        // Before any token is decoded here, so that jsonwebtoken takes the
        // provider that signs with keys parsed once (padconnect_jwt).
        if !padconnect_jwt::install() {
            tracing::debug!("jsonwebtoken's provider was chosen before; tokens sign slower");
        }
        let set = load_or_create(&store, &keyring, lifetime_secs, false, None).await?;
        Ok(Self {
            store,
            keyring,
            lifetime_secs,
            current: RwLock::new(Arc::new(set)),
            reload: Mutex::new(()),
        })
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.current.read().clone()
    }

    /// Signs `claims` as a JWT with the active key (RS256, `kid` and `x5t`
    /// in the header, as Entra ID's v1 tokens carry). It fails only on a
    /// broken random source: the key was opened and checked when loaded.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, SigningError> {
        let active = self.snapshot().active.clone();
        padconnect_jwt::sign(&active.header, claims, &active.key)
            .map_err(|e| SigningError::Sign(e.to_string()))
    }

    /// The published keys, for the JWKS.
    pub fn published(&self) -> Vec<Arc<PublishedKey>> {
        self.snapshot().published.clone()
    }

    /// The published key of this `kid`, re-reading the store once if it is
    /// unknown here (another replica may have made it).
    pub async fn find(&self, kid: &str) -> Option<Arc<PublishedKey>> {
        let lookup = |set: &KeySet| set.published.iter().find(|k| k.kid == kid).cloned();
        if let Some(key) = lookup(&self.snapshot()) {
            return Some(key);
        }
        let recent = self
            .snapshot()
            .loaded_at
            .plus_seconds(MISS_REFRESH_MIN_INTERVAL_SECS)
            > self.store.now();
        if recent {
            return None;
        }
        self.refresh().await.ok()?;
        lookup(&self.snapshot())
    }

    /// Re-reads the keys, creating one if none may sign any more.
    pub async fn refresh(&self) -> Result<(), SigningError> {
        let _guard = self.reload.lock().await;
        self.reload_now(false).await.map(|_| ())
    }

    /// Makes a new key that signs from now on; the others retire now and stay
    /// published until their tokens expire. Returns the new `kid`.
    pub async fn rotate(&self) -> Result<String, SigningError> {
        let _guard = self.reload.lock().await;
        self.reload_now(true).await
    }

    /// Loads the keys (a new one first with `force_new`) and makes them the
    /// current set; returns the kid that signs. The caller holds `reload`.
    async fn reload_now(&self, force_new: bool) -> Result<String, SigningError> {
        let set = load_or_create(
            &self.store,
            &self.keyring,
            self.lifetime_secs,
            force_new,
            Some(&self.snapshot()),
        )
        .await?;
        let kid = set.active.kid.clone();
        *self.current.write() = Arc::new(set);
        Ok(kid)
    }

    /// Ends `kid` outright: it leaves the JWKS and no token it signed
    /// verifies any more (here at once, elsewhere at the next re-read). When
    /// it was the key that signs, a new one takes over.
    pub async fn revoke(&self, kid: &str) -> Result<(), SigningError> {
        let _guard = self.reload.lock().await;
        if !signing_keys::revoke(&self.store, kid).await? {
            return Err(SigningError::UnknownKey(kid.to_owned()));
        }
        self.reload_now(false).await.map(|_| ())
    }

    /// Whether `kid` is published now (a token it signed may verify).
    pub fn is_published(&self, kid: &str) -> bool {
        self.snapshot().published.iter().any(|k| k.kid == kid)
    }

    /// When the active key stops signing.
    pub fn active_retires_at(&self) -> Timestamp {
        self.snapshot().active.retire_at
    }
}

fn sealing_context(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

async fn load_or_create(
    store: &Store,
    keyring: &KeyRing,
    lifetime_secs: i64,
    force_new: bool,
    previous: Option<&KeySet>,
) -> Result<KeySet, SigningError> {
    let now = store.now();
    let mut rows: Vec<SigningKey> = store
        .signing_keys()
        .await?
        .into_iter()
        .filter(|k| k.expire_at > now)
        .collect();
    let signing = rows
        .iter()
        .filter(|k| k.retire_at > now)
        .max_by_key(|k| k.created_at)
        .cloned();
    let active_row = match signing {
        Some(row) if !force_new => row,
        _ => {
            let row = generate(keyring, now, lifetime_secs)?;
            // Retired now; published until the tokens signed meanwhile
            // (here, or elsewhere before the next re-read) have expired.
            let retiring = force_new.then(|| Retirement {
                at: now,
                last_expiry: now.plus_seconds(SIGNING_GRACE_SECS + MAX_TOKEN_LIFETIME_SECS),
            });
            signing_keys::add(store, &row, retiring).await?;
            if let Some(Retirement { at, last_expiry }) = retiring {
                for key in &mut rows {
                    key.retire_at = key.retire_at.min(at);
                    key.expire_at = key.expire_at.min(last_expiry);
                }
            }
            rows.push(row.clone());
            row
        }
    };
    let mut opened = Vec::new();
    let mut active = None;
    for row in &rows {
        // Reused only while its signing window is the same (a rotation
        // elsewhere moves it).
        let known = previous
            .and_then(|set| {
                set.opened.iter().find(|(_, p)| {
                    p.kid == row.kid && p.signs_until == row.retire_at.unix_seconds()
                })
            })
            .cloned();
        let key = match known {
            Some(key) => Ok(key),
            None => open_key(keyring, row).and_then(|key| {
                let published = publish(row, &key)?;
                Ok((key, Arc::new(published)))
            }),
        };
        match key {
            Ok((key, published)) => {
                if row.kid == active_row.kid {
                    active = Some(ActiveKey {
                        kid: row.kid.clone(),
                        key: key.clone(),
                        header: header_for(&row.kid),
                        retire_at: row.retire_at,
                    });
                }
                opened.push((key, published));
            }
            // A key sealed under a master key this replica lacks cannot be
            // published (its modulus is inside); say so, keep the others.
            Err(error) if row.kid != active_row.kid => {
                tracing::warn!(%error, "signing key skipped")
            }
            Err(error) => return Err(error),
        }
    }
    let active = active.ok_or_else(|| SigningError::Unreadable {
        kid: active_row.kid.clone(),
        reason: "the active key is not among the stored keys".into(),
    })?;
    Ok(KeySet {
        active: Arc::new(active),
        published: opened
            .iter()
            .map(|(_, published)| published.clone())
            .collect(),
        opened,
        loaded_at: now,
    })
}

/// The header of every token `kid` signs: RS256 with `kid` and `x5t` (both
/// the certificate's SHA-1 thumbprint), as Entra ID's v1 tokens carry.
fn header_for(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.x5t = Some(kid.to_owned());
    header
}

fn open_key(keyring: &KeyRing, row: &SigningKey) -> Result<RsaSigningKey, SigningError> {
    let unreadable = |reason: String| SigningError::Unreadable {
        kid: row.kid.clone(),
        reason,
    };
    let pkcs8 = keyring
        .open(&sealing_context(&row.kid), &row.sealed_private)
        .map_err(|e| unreadable(e.to_string()))?;
    RsaSigningKey::from_pkcs8_der(&pkcs8).map_err(|e| unreadable(e.to_string()))
}

/// A new RSA-2048 key and its self-signed certificate, sealed for the store.
fn generate(
    keyring: &KeyRing,
    now: Timestamp,
    lifetime_secs: i64,
) -> Result<SigningKey, SigningError> {
    let fail = |e: rcgen::Error| SigningError::Generate(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(fail)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "padconnect token signing");
    params.not_before = now.to_datetime() - time::Duration::days(1);
    params.not_after = now
        .plus_seconds(lifetime_secs + MAX_TOKEN_LIFETIME_SECS)
        .to_datetime()
        + time::Duration::days(1);
    let certificate = params.self_signed(&key).map_err(fail)?.der().to_vec();
    let kid = URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate));
    let retire_at = now.plus_seconds(lifetime_secs);
    Ok(SigningKey {
        sealed_private: keyring.seal(&sealing_context(&kid), &key.serialize_der()),
        kid,
        certificate,
        created_at: now,
        retire_at,
        expire_at: retire_at.plus_seconds(MAX_TOKEN_LIFETIME_SECS),
    })
}

fn publish(row: &SigningKey, key: &RsaSigningKey) -> Result<PublishedKey, SigningError> {
    let (n, e) = key.public_components();
    let n = URL_SAFE_NO_PAD.encode(n);
    let e = URL_SAFE_NO_PAD.encode(e);
    let decoding =
        DecodingKey::from_rsa_components(&n, &e).map_err(|error| SigningError::Unreadable {
            kid: row.kid.clone(),
            reason: error.to_string(),
        })?;
    Ok(PublishedKey {
        kid: row.kid.clone(),
        n,
        e,
        x5c: STANDARD.encode(&row.certificate),
        decoding,
        signs_until: row.retire_at.unix_seconds(),
    })
}
