//! The key ring that seals secrets at rest (Windows passwords inside
//! connections, private signing keys).
//!
//! AES-256-GCM with a random nonce per message. A ring holds one active key,
//! which seals, and any number of older keys, which still open what they
//! sealed; rotating means putting a new key first. A key's id is the first
//! eight bytes of its SHA-256, so keys need no names and every replica given
//! the same keys agrees on the ids.
//!
//! Each key also keys a hash (HMAC-SHA-256 under a key derived from it) for
//! values that are checked, never read back: client secrets. Without the
//! ring, a copied database cannot be used to test guesses of them offline.
//!
//! Keys come from `PADCONNECT_MASTER_KEY` (base64 keys separated by commas,
//! the active one first) or, when that is unset, from `master.key` in the data
//! dir (one base64 key a line, active first), created with mode 0600 on first
//! start. Replicas that share a database must share the keys: give them the
//! variable.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::encoding::hex;

pub const MASTER_KEY_ENV: &str = "PADCONNECT_MASTER_KEY";
pub const KEY_FILE: &str = "master.key";
const KEY_LEN: usize = 32;
const KID_LEN: usize = 8;
const FORMAT_V1: u8 = 1;
/// A keyed hash: this byte, the key id, the HMAC.
const KEYED_HASH_V1: u8 = 0x68;
/// Separates the hash keys from the sealing keys they are derived from.
const HASH_KEY_LABEL: &[u8] = b"padconnect keyed hash v1";

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("{source_name}: entry {index} is not a base64-encoded 32-byte key")]
    BadKey { source_name: String, index: usize },
    #[error("{source_name} holds no key")]
    Empty { source_name: String },
    #[error("cannot read or create the key file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value was sealed by key {kid}, which is not in the key ring")]
    UnknownKey { kid: String },
    #[error("sealed value failed authentication: wrong key or context, or tampered")]
    Unauthentic,
}

struct RingKey {
    kid: [u8; KID_LEN],
    key: RandomizedNonceKey,
    hash_key: hmac::Key,
}

pub struct KeyRing {
    /// The active key first.
    keys: Vec<RingKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self.keys.iter().map(|k| hex(&k.kid)).collect();
        f.debug_struct("KeyRing").field("kids", &kids).finish()
    }
}

impl KeyRing {
    /// The ring from `PADCONNECT_MASTER_KEY` if it is set, else from the data
    /// dir's key file, created on first use.
    pub fn load(data_dir: &Path) -> Result<Self, KeyRingError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(value) => Self::parse(&value, MASTER_KEY_ENV),
            Err(_) => Self::from_key_file(&data_dir.join(KEY_FILE)),
        }
    }

    /// Keys as base64 separated by commas or newlines, the active one first.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, KeyRingError> {
        let keys = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(index, entry)| {
                let bad = || KeyRingError::BadKey {
                    source_name: source_name.to_owned(),
                    index: index + 1,
                };
                let bytes = STANDARD.decode(entry).map_err(|_| bad())?;
                RingKey::new(&bytes).ok_or_else(bad)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(KeyRingError::Empty {
                source_name: source_name.to_owned(),
            });
        }
        Ok(Self { keys })
    }

    /// A new random key, base64, for a key file or the environment variable.
    #[allow(
        clippy::expect_used,
        reason = "the system random source failing leaves nothing safe to do; std panics there too"
    )]
    pub fn generate_key() -> String {
        let mut key = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut key).expect("the system random source works");
        STANDARD.encode(key)
    }

    fn from_key_file(path: &Path) -> Result<Self, KeyRingError> {
        let io = |error| KeyRingError::Io {
            path: path.display().to_string(),
            error,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate_key();
                write_private_file(path, format!("{key}\n").as_bytes()).map_err(io)?;
                Self::parse(&key, &path.display().to_string())
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The active key's id, hex.
    pub fn active_kid(&self) -> String {
        hex(&self.keys[0].kid)
    }

    /// Seals `plaintext` under the active key. `context` is authenticated, not
    /// stored: opening needs the same context, so a sealed value copied to
    /// another row does not open there.
    #[allow(
        clippy::expect_used,
        reason = "AES-GCM fails only past 64 GiB, far beyond every body limit"
    )]
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let active = &self.keys[0];
        let mut body = plaintext.to_vec();
        let nonce = active
            .key
            .seal_in_place_append_tag(Aad::from(context), &mut body)
            .expect("AES-GCM sealing cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + KID_LEN + NONCE_LEN + body.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&active.kid);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&body);
        out
    }

    /// A keyed hash of `value` under the active key, naming that key.
    pub fn keyed_hash(&self, value: &[u8]) -> Vec<u8> {
        self.keys[0].keyed_hash(value)
    }

    /// Whether `stored` is a keyed hash of `value` under a key of the ring,
    /// checked in constant time.
    pub fn keyed_hash_matches(&self, value: &[u8], stored: &[u8]) -> bool {
        let Some((&KEYED_HASH_V1, rest)) = stored.split_first() else {
            return false;
        };
        let Some((kid, tag)) = rest.split_at_checked(KID_LEN) else {
            return false;
        };
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .is_some_and(|k| hmac::verify(&k.hash_key, value, tag).is_ok())
    }

    /// Whether `stored` is a keyed hash under a key this ring holds (a
    /// hash under a key it does not hold may be another replica's newer one).
    pub fn holds_key_of(&self, stored: &[u8]) -> bool {
        stored.first() == Some(&KEYED_HASH_V1)
            && stored
                .get(1..=KID_LEN)
                .is_some_and(|kid| self.keys.iter().any(|k| k.kid == kid))
    }

    /// Whether `stored` was hashed under the active key (else the next
    /// write hashes it anew).
    pub fn is_current_hash(&self, stored: &[u8]) -> bool {
        stored.first() == Some(&KEYED_HASH_V1)
            && stored.get(1..=KID_LEN) == Some(&self.keys[0].kid[..])
    }

    /// The keyed hashes of `value` under the ring's older keys: what a
    /// rehash under the active key replaces.
    pub fn older_keyed_hashes(&self, value: &[u8]) -> Vec<Vec<u8>> {
        self.keys[1..]
            .iter()
            .map(|key| key.keyed_hash(value))
            .collect()
    }

    /// Opens a value sealed by any key of the ring with the same `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KeyRingError> {
        let (&version, rest) = sealed.split_first().ok_or(KeyRingError::Malformed)?;
        if version != FORMAT_V1 || rest.len() < KID_LEN + NONCE_LEN {
            return Err(KeyRingError::Malformed);
        }
        let (kid, rest) = rest.split_at(KID_LEN);
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| KeyRingError::UnknownKey { kid: hex(kid) })?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyRingError::Malformed)?;
        let mut body = body.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| KeyRingError::Unauthentic)?;
        Ok(plain.to_vec())
    }
}

impl RingKey {
    fn keyed_hash(&self, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + KID_LEN + 32);
        out.push(KEYED_HASH_V1);
        out.extend_from_slice(&self.kid);
        out.extend_from_slice(hmac::sign(&self.hash_key, value).as_ref());
        out
    }

    fn new(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        let mut kid = [0u8; KID_LEN];
        kid.copy_from_slice(&digest(&SHA256, bytes).as_ref()[..KID_LEN]);
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).ok()?;
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), HASH_KEY_LABEL);
        let hash_key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
        Some(Self { kid, key, hash_key })
    }
}

/// Creates `path` with mode 0600 (owner only), failing if it exists, so a
/// secret is never readable by others, not even for a moment.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_need_the_ring_and_survive_rotation() {
        let old = KeyRing::generate_key();
        let first = ring(&[&old]);
        let stored = first.keyed_hash(b"example-secret-value");
        assert!(first.keyed_hash_matches(b"example-secret-value", &stored));
        assert!(!first.keyed_hash_matches(b"example-secret-valuf", &stored));
        assert!(!first.keyed_hash_matches(b"example-secret-value", &stored[..stored.len() - 1]));
        assert!(first.is_current_hash(&stored));
        // Another ring cannot check it: a guess needs the key.
        let stranger = ring(&[&KeyRing::generate_key()]);
        assert!(!stranger.keyed_hash_matches(b"example-secret-value", &stored));
        // After a rotation the old key still checks; it is no longer current.
        let rotated = ring(&[&KeyRing::generate_key(), &old]);
        assert!(rotated.keyed_hash_matches(b"example-secret-value", &stored));
        assert!(!rotated.is_current_hash(&stored));
        assert_eq!(
            rotated.older_keyed_hashes(b"example-secret-value"),
            vec![stored.clone()]
        );
        assert_ne!(stored, first.keyed_hash(b"other"));
    }

    fn ring(keys: &[&str]) -> KeyRing {
        KeyRing::parse(&keys.join(","), "test").unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let key = KeyRing::generate_key();
        let ring = ring(&[&key]);
        let sealed = ring.seal(b"conn/1", b"Pa55w0rd!");
        assert!(!sealed.windows(9).any(|w| w == b"Pa55w0rd!"));
        assert_eq!(ring.open(b"conn/1", &sealed).unwrap(), b"Pa55w0rd!");
        assert!(matches!(
            ring.open(b"conn/2", &sealed),
            Err(KeyRingError::Unauthentic)
        ));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            ring.open(b"conn/1", &tampered),
            Err(KeyRingError::Unauthentic)
        ));
        assert!(matches!(
            ring.open(b"conn/1", &sealed[..10]),
            Err(KeyRingError::Malformed)
        ));
        assert_ne!(
            ring.seal(b"c", b"same"),
            ring.seal(b"c", b"same"),
            "nonces are random"
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let (old, new) = (KeyRing::generate_key(), KeyRing::generate_key());
        let before = ring(&[&old]);
        let sealed_old = before.seal(b"ctx", b"secret");
        let after = ring(&[&new, &old]);
        assert_eq!(after.open(b"ctx", &sealed_old).unwrap(), b"secret");
        let sealed_new = after.seal(b"ctx", b"secret");
        assert_eq!(&sealed_new[1..9], &after.keys[0].kid);
        let err = before.open(b"ctx", &sealed_new).unwrap_err();
        assert!(matches!(err, KeyRingError::UnknownKey { .. }), "{err}");
    }

    #[test]
    fn bad_key_material_is_named() {
        let err = KeyRing::parse("bm90LWEta2V5", "PADCONNECT_MASTER_KEY")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "PADCONNECT_MASTER_KEY: entry 1 is not a base64-encoded 32-byte key"
        );
        assert!(matches!(
            KeyRing::parse(" , ", "x"),
            Err(KeyRingError::Empty { .. })
        ));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = KeyRing::from_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = KeyRing::from_key_file(&path).unwrap();
        assert_eq!(first.active_kid(), second.active_kid());
        let sealed = first.seal(b"c", b"v");
        assert_eq!(second.open(b"c", &sealed).unwrap(), b"v");
    }
}
