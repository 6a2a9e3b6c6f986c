//! A run owner's PFX, read once before p12-keystore opens it, so what a
//! caller sends cannot make the platform spend minutes of CPU or gigabytes
//! of memory: every password-based key derivation in it (the MAC, each
//! encrypted safe, each shrouded key) is counted and its cost capped.
//!
//! The caps are above what the tools that write PFX files use:
//!
//! | producer | encryption | iterations | MAC iterations |
//! |---|---|---|---|
//! | Windows (Export-PfxCertificate, certmgr) | 3DES or AES-256 | 2,000 | 2,000 |
//! | OpenSSL 3 (`pkcs12 -export`) | AES-256, PBKDF2-SHA256 | 2,048 (`PKCS12_DEFAULT_ITER`) | 2,048 |
//! | Java keytool, JDK 12 and later (JDK-8153005) | AES-256, PBKDF2-SHA256 | 10,000 | 10,000 |
//! | Java keytool before JDK 12 | 3DES / RC2-40 | 50,000 | 100,000 |
//!
//! so an iteration count above [`MAX_ITERATIONS`] (100,000) is refused.
//! None of them writes scrypt into a PFX; OpenSSL writes it into PKCS#8
//! (`pkcs8 -scrypt`) with N = 16384, r = 8, p = 1 (16 MiB), which is the
//! cap here. A PFX these tools write needs three derivations (MAC, the
//! certificates' safe, the key); [`MAX_DERIVATIONS`] allows one more.
//! p12-keystore's own caps (1,000,000 iterations, 1 GiB scrypt, any number
//! of items) let one 64 KiB file cost minutes.
//!
//! An encrypted safe may hold shrouded keys of its own, seen only once it
//! is decrypted: it is decrypted here (within the caps) and its bags
//! checked too.

use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use pkcs5::pbes2;
use pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12::pfx::Pfx;
use pkcs12::safe_bag::SafeContents;

/// The most PBKDF2 or PKCS#12-KDF iterations of one derivation.
pub const MAX_ITERATIONS: u64 = 100_000;
/// The most memory one scrypt derivation may take (128 · N · r bytes).
pub const MAX_SCRYPT_BYTES: u64 = 16 << 20;
/// The most password-based derivations in one PFX.
pub const MAX_DERIVATIONS: usize = 4;

const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBE_SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PBE_SHA1_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

/// Why a PFX is refused before it is opened; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PfxRefusal {
    #[error("the PFX is not a PKCS#12 file: check that 'value.pfx' is the file's base64.")]
    Malformed,
    #[error(
        "the PFX cannot be opened: check that 'value.pfx' is the file's base64 and 'value.password' its password."
    )]
    CannotOpen,
    #[error(
        "the PFX uses {iterations} key-derivation iterations; at most {MAX_ITERATIONS} are accepted (Windows and OpenSSL export with about 2,000): export it again with the defaults."
    )]
    TooManyIterations { iterations: u64 },
    #[error(
        "the PFX uses scrypt with N={n}, r={r}, p={p}; at most 16 MiB (N=16384, r=8) and p=1 are accepted: export it again with PBKDF2 (the default of Windows and OpenSSL)."
    )]
    CostlyScrypt { n: u64, r: u16, p: u16 },
    #[error(
        "the PFX holds more than {MAX_DERIVATIONS} password-protected items; a certificate with its private key needs three: export only the run owner's certificate and key."
    )]
    TooManyItems,
    #[error(
        "the PFX uses an encryption scheme that is not accepted ({0}): export it again with AES-256 or 3DES."
    )]
    UnknownScheme(String),
}

/// Checks every key derivation of `pfx` against the caps, decrypting its
/// encrypted safes (within them) to check the keys inside.
pub fn check(pfx: &[u8], password: &str) -> Result<(), PfxRefusal> {
    let pfx = Pfx::from_der(pfx).map_err(|_| PfxRefusal::Malformed)?;
    let mut budget = Budget(0);
    if let Some(mac) = &pfx.mac_data {
        budget.spend()?;
        iterations_within(u64::try_from(mac.iterations).unwrap_or(u64::MAX))?;
    }
    if pfx.auth_safe.content_type != DATA {
        return Err(PfxRefusal::Malformed);
    }
    let safes: Vec<ContentInfo> =
        Vec::from_der(octets(&pfx.auth_safe)?.as_bytes()).map_err(|_| PfxRefusal::Malformed)?;
    for safe in &safes {
        match safe.content_type {
            DATA => check_bags(octets(safe)?.as_bytes(), &mut budget)?,
            // Under a wrong password a safe's padding still checks out about
            // once in 256, and what it decrypts to is no list of bags: a
            // password that cannot open the file, not a malformed file.
            ENCRYPTED_DATA => {
                let bags = decrypt_safe(safe, password, &mut budget)?;
                check_bags(&bags, &mut budget).map_err(|refusal| match refusal {
                    PfxRefusal::Malformed => PfxRefusal::CannotOpen,
                    other => other,
                })?
            }
            _ => return Err(PfxRefusal::Malformed),
        }
    }
    Ok(())
}

/// Counts derivations against [`MAX_DERIVATIONS`].
struct Budget(usize);

impl Budget {
    fn spend(&mut self) -> Result<(), PfxRefusal> {
        self.0 += 1;
        match self.0 > MAX_DERIVATIONS {
            true => Err(PfxRefusal::TooManyItems),
            false => Ok(()),
        }
    }
}

fn octets(info: &ContentInfo) -> Result<OctetString, PfxRefusal> {
    let der = info.content.to_der().map_err(|_| PfxRefusal::Malformed)?;
    OctetString::from_der(&der).map_err(|_| PfxRefusal::Malformed)
}

/// The shrouded keys of a safe's bags, each within the caps.
fn check_bags(safe_contents: &[u8], budget: &mut Budget) -> Result<(), PfxRefusal> {
    let bags = SafeContents::from_der(safe_contents).map_err(|_| PfxRefusal::Malformed)?;
    for bag in bags.iter().filter(|b| b.bag_id == SHROUDED_KEY_BAG) {
        budget.spend()?;
        // The bag's value is `[0] EXPLICIT EncryptedPrivateKeyInfo`.
        let value = der::asn1::ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(&bag.bag_value)
            .map_err(|_| PfxRefusal::Malformed)?;
        scheme_within(&value.value.encryption_algorithm)?;
    }
    Ok(())
}

/// The bags of an encrypted safe, decrypted once its scheme is within the caps.
fn decrypt_safe(
    safe: &ContentInfo,
    password: &str,
    budget: &mut Budget,
) -> Result<Vec<u8>, PfxRefusal> {
    budget.spend()?;
    let der = safe.content.to_der().map_err(|_| PfxRefusal::Malformed)?;
    let encrypted = EncryptedData::from_der(&der).map_err(|_| PfxRefusal::Malformed)?;
    let info = &encrypted.enc_content_info;
    let algorithm = &info.content_enc_alg;
    scheme_within(algorithm)?;
    let Some(ciphertext) = info.encrypted_content.as_ref() else {
        return Ok(Vec::new());
    };
    decrypt(algorithm, ciphertext.as_bytes(), password)
}

/// Whether an encryption scheme's key derivation is within the caps.
fn scheme_within(algorithm: &AlgorithmIdentifierOwned) -> Result<(), PfxRefusal> {
    let params = params_der(algorithm)?;
    match algorithm.oid {
        PBES2 => match pbes2::Parameters::from_der(&params)
            .map_err(|_| PfxRefusal::Malformed)?
            .kdf
        {
            pbes2::Kdf::Pbkdf2(pbkdf2) => iterations_within(u64::from(pbkdf2.iteration_count)),
            pbes2::Kdf::Scrypt(scrypt) => scrypt_within(&scrypt),
            other => Err(PfxRefusal::UnknownScheme(format!("{:?}", other.oid()))),
        },
        PBE_SHA1_3DES | PBE_SHA1_RC2_40 => {
            let params = Pkcs12PbeParams::from_der(&params).map_err(|_| PfxRefusal::Malformed)?;
            iterations_within(u64::try_from(params.iterations).unwrap_or(u64::MAX))
        }
        other => Err(PfxRefusal::UnknownScheme(other.to_string())),
    }
}

/// An encryption scheme's parameters, as DER.
fn params_der(algorithm: &AlgorithmIdentifierOwned) -> Result<Vec<u8>, PfxRefusal> {
    algorithm
        .parameters
        .as_ref()
        .ok_or(PfxRefusal::Malformed)?
        .to_der()
        .map_err(|_| PfxRefusal::Malformed)
}

fn iterations_within(iterations: u64) -> Result<(), PfxRefusal> {
    match iterations > MAX_ITERATIONS {
        true => Err(PfxRefusal::TooManyIterations { iterations }),
        false => Ok(()),
    }
}

fn scrypt_within(params: &pbes2::ScryptParams) -> Result<(), PfxRefusal> {
    let (n, r, p) = (
        params.cost_parameter,
        params.block_size,
        params.parallelization,
    );
    let bytes = 128u64
        .checked_mul(n)
        .and_then(|b| b.checked_mul(u64::from(r)));
    match bytes.is_some_and(|b| b <= MAX_SCRYPT_BYTES) && p == 1 {
        true => Ok(()),
        false => Err(PfxRefusal::CostlyScrypt { n, r, p }),
    }
}

/// Decrypts a safe: PBES2 with pkcs5, the PKCS#12 PBES1 schemes with the
/// PKCS#12 key derivation (RFC 7292 appendix B) and CBC, as p12-keystore does.
fn decrypt(
    algorithm: &AlgorithmIdentifierOwned,
    ciphertext: &[u8],
    password: &str,
) -> Result<Vec<u8>, PfxRefusal> {
    let params = params_der(algorithm)?;
    match algorithm.oid {
        PBES2 => pbes2::Parameters::from_der(&params)
            .map_err(|_| PfxRefusal::Malformed)?
            .decrypt(password.as_bytes(), ciphertext)
            .map_err(|_| PfxRefusal::CannotOpen),
        oid => {
            let params = Pkcs12PbeParams::from_der(&params).map_err(|_| PfxRefusal::Malformed)?;
            pbes1::decrypt(oid == PBE_SHA1_3DES, &params, ciphertext, password)
        }
    }
}

mod pbes1 {
    use cbc::cipher::block_padding::Pkcs7;
    use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit};
    use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
    use pkcs12::pbe_params::Pkcs12PbeParams;
    use sha1::Sha1;

    use super::PfxRefusal;

    /// pbeWithSHAAnd3-KeyTripleDES-CBC (`triple_des`) or
    /// pbeWithSHAAnd40BitRC2-CBC.
    pub fn decrypt(
        triple_des: bool,
        params: &Pkcs12PbeParams,
        ciphertext: &[u8],
        password: &str,
    ) -> Result<Vec<u8>, PfxRefusal> {
        match triple_des {
            true => cbc::<des::TdesEde3>(params, ciphertext, password, 24),
            false => cbc::<rc2::Rc2>(params, ciphertext, password, 5),
        }
    }

    fn cbc<C: KeyInit + BlockCipherDecrypt>(
        params: &Pkcs12PbeParams,
        ciphertext: &[u8],
        password: &str,
        key_len: usize,
    ) -> Result<Vec<u8>, PfxRefusal> {
        let salt = params.salt.as_bytes();
        let derive = |kind, len| {
            derive_key_utf8::<Sha1>(password, salt, kind, params.iterations, len)
                .map_err(|_| PfxRefusal::CannotOpen)
        };
        let key = derive(Pkcs12KeyType::EncryptionKey, key_len)?;
        let iv = derive(Pkcs12KeyType::Iv, 8)?;
        cbc::Decryptor::<C>::new_from_slices(&key, &iv)
            .map_err(|_| PfxRefusal::CannotOpen)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|_| PfxRefusal::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrypt(n: u64, r: u16, p: u16) -> pbes2::ScryptParams {
        pbes2::ScryptParams {
            salt: pbes2::Salt::new([7u8; 16]).unwrap(),
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: Some(32),
        }
    }

    /// The probe's item (N = 2^20, r = 8: 1 GiB) and p = 16 are refused;
    /// OpenSSL's `pkcs8 -scrypt` defaults pass.
    #[test]
    fn scrypt_is_held_to_openssl_s_defaults() {
        assert_eq!(scrypt_within(&scrypt(16_384, 8, 1)), Ok(()));
        for (n, r, p) in [
            (1 << 20, 8, 1),
            (16_384, 8, 16),
            (32_768, 8, 1),
            (u64::MAX, 8, 1),
        ] {
            assert_eq!(
                scrypt_within(&scrypt(n, r, p)),
                Err(PfxRefusal::CostlyScrypt { n, r, p })
            );
        }
    }

    #[test]
    fn iterations_above_the_cap_are_refused() {
        assert_eq!(iterations_within(2_048), Ok(()));
        assert_eq!(iterations_within(MAX_ITERATIONS), Ok(()));
        assert_eq!(
            iterations_within(MAX_ITERATIONS + 1),
            Err(PfxRefusal::TooManyIterations {
                iterations: MAX_ITERATIONS + 1
            })
        );
    }

    /// A PFX of one encrypted safe (PBES2, PBKDF2-SHA256, AES-256-CBC)
    /// whose plaintext, under `password`, is `plaintext`.
    fn pfx_with_encrypted_safe(password: &str, plaintext: &[u8]) -> Vec<u8> {
        use cms::content_info::CmsVersion;
        use cms::enveloped_data::EncryptedContentInfo;
        use der::Any;

        let params =
            pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2_048, &[9; 16], [3; 16]).unwrap();
        let ciphertext = params.encrypt(password, plaintext).unwrap();
        let encrypted = EncryptedData {
            version: CmsVersion::V0,
            enc_content_info: EncryptedContentInfo {
                content_type: DATA,
                content_enc_alg: AlgorithmIdentifierOwned {
                    oid: PBES2,
                    parameters: Some(Any::encode_from(&params).unwrap()),
                },
                encrypted_content: Some(OctetString::new(ciphertext).unwrap()),
            },
            unprotected_attrs: None,
        };
        let safes = vec![ContentInfo {
            content_type: ENCRYPTED_DATA,
            content: Any::encode_from(&encrypted).unwrap(),
        }];
        let auth_safe = OctetString::new(safes.to_der().unwrap()).unwrap();
        Pfx {
            version: pkcs12::pfx::Version::V3,
            auth_safe: ContentInfo {
                content_type: DATA,
                content: Any::encode_from(&auth_safe).unwrap(),
            },
            mac_data: None,
        }
        .to_der()
        .unwrap()
    }

    /// A wrong password whose decryption happens to end in valid padding
    /// (about once in 256) yields bytes that are no list of bags: made
    /// certain here by encrypting such bytes under the password tried.
    #[test]
    fn a_safe_that_decrypts_to_no_bags_cannot_be_opened() {
        let pfx = pfx_with_encrypted_safe("tried", b"no SafeContents here");
        assert_eq!(check(&pfx, "tried"), Err(PfxRefusal::CannotOpen));
        assert_eq!(check(&pfx, "other"), Err(PfxRefusal::CannotOpen));
        let empty_bags = Vec::<pkcs12::safe_bag::SafeBag>::new().to_der().unwrap();
        let pfx = pfx_with_encrypted_safe("right", &empty_bags);
        assert_eq!(check(&pfx, "right"), Ok(()), "the right password opens it");
    }

    #[test]
    fn what_is_not_a_pfx_is_said_so() {
        assert_eq!(check(b"not der", "x"), Err(PfxRefusal::Malformed));
        assert_eq!(check(&[], "x"), Err(PfxRefusal::Malformed));
    }
}
