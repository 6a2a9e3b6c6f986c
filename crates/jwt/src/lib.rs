//! JWTs signed one way in both halves: the platform's access tokens and the
//! client's assertions both go through [`sign`], which is `jsonwebtoken`'s
//! `encode` (header and claims encoded as that crate encodes them, the
//! signature made by its aws-lc backend).
//!
//! One thing is added, for speed. jsonwebtoken 11's aws-lc signer parses the
//! private key's DER at every signature (`crypto/aws_lc/rsa.rs`,
//! `try_sign_rsa`), and aws-lc validates the key as it parses: with it, the
//! platform's token endpoint answered half as many requests
//! (docs/benchmarks-log.md, "Signing through jsonwebtoken"). So
//! this crate installs a `CryptoProvider`, the extension point jsonwebtoken
//! offers for backends, whose RSA signers reuse the key an [`RsaSigningKey`]
//! parsed when it was made. Everything else (verifying, other algorithms,
//! keys it does not hold) goes to jsonwebtoken's own aws-lc provider. An
//! [`RsaSigningKey`] holds the PKCS#1 DER that provider reads, so a token is
//! the same whether or not this provider was installed first; only the speed
//! differs.

use std::sync::{Arc, LazyLock, Weak};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{
    KeyPair as _, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
    RSA_PSS_SHA384, RSA_PSS_SHA512, RsaEncoding,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::AlgorithmFamily;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use parking_lot::RwLock;
use serde::Serialize;

pub use jsonwebtoken::{Algorithm, Header};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the private key is not a usable RSA key: {0}")]
    Key(String),
    #[error("the JWT cannot be signed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// An RSA private key that signs JWTs, parsed and checked once, when made.
#[derive(Clone)]
pub struct RsaSigningKey {
    /// PKCS#1 DER, as jsonwebtoken's own RSA signer reads it.
    encoding: EncodingKey,
    pair: Arc<RsaKeyPair>,
}

impl RsaSigningKey {
    /// From a PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let info =
            pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| Error::Key(e.to_string()))?;
        Self::from_pkcs1_der(info.private_key.as_bytes())
    }

    /// From a PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let pair = Arc::new(RsaKeyPair::from_der(der).map_err(|e| Error::Key(e.to_string()))?);
        PARSED.register(der, &pair);
        Ok(Self {
            encoding: EncodingKey::from_rsa_der(der),
            pair,
        })
    }

    /// The public modulus and exponent, big-endian.
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        let components = PublicKeyComponents::<Vec<u8>>::from(self.pair.public_key());
        (components.n, components.e)
    }
}

/// Signs `claims` under `header` (whose `alg` must be an RSA one).
pub fn sign<C: Serialize>(
    header: &Header,
    claims: &C,
    key: &RsaSigningKey,
) -> Result<String, Error> {
    install();
    Ok(jsonwebtoken::encode(header, claims, &key.encoding)?)
}

/// Signs `claims` under a header given as JSON, signed by its `alg`: for a
/// header [`Header`] cannot hold, such as the malformed ones tests send.
pub fn sign_json(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key: &RsaSigningKey,
) -> Result<String, Error> {
    install();
    let algorithm = header["alg"]
        .as_str()
        .unwrap_or_default()
        .parse::<Algorithm>()?;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key.encoding, algorithm)?;
    Ok(format!("{message}.{signature}"))
}

/// Makes this crate's provider jsonwebtoken's for the process, unless some
/// other was chosen first (then tokens are the same, only slower to sign).
/// [`sign`] calls it; a server calls it at start, before anything decodes a
/// token. Returns whether this crate's provider is the one in use.
pub fn install() -> bool {
    static INSTALLED: LazyLock<bool> =
        LazyLock::new(|| CryptoProvider::install_default(&PROVIDER).is_ok());
    *INSTALLED
}

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    ..aws_lc::DEFAULT_PROVIDER.clone()
});

/// The keys [`RsaSigningKey`]s parsed, by the SHA-256 of their DER (not the
/// DER itself: no second copy of a private key). An entry lives as long as
/// one of its key's clones does.
static PARSED: Parsed = Parsed(RwLock::new(Vec::new()));

struct Parsed(RwLock<Vec<([u8; 32], Weak<RsaKeyPair>)>>);

impl Parsed {
    fn register(&self, der: &[u8], pair: &Arc<RsaKeyPair>) {
        let mut keys = self.0.write();
        keys.retain(|(_, weak)| weak.strong_count() > 0);
        keys.push((fingerprint(der), Arc::downgrade(pair)));
    }

    fn find(&self, der: &[u8]) -> Option<Arc<RsaKeyPair>> {
        let wanted = fingerprint(der);
        // The same key may be registered twice, its first copy dropped.
        self.0
            .read()
            .iter()
            .filter(|(print, _)| *print == wanted)
            .find_map(|(_, weak)| weak.upgrade())
    }
}

fn fingerprint(der: &[u8]) -> [u8; 32] {
    let mut print = [0; 32];
    print.copy_from_slice(digest(&SHA256, der).as_ref());
    print
}

fn new_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if let Some(padding) = rsa_padding(*algorithm)
        && key.family() == AlgorithmFamily::Rsa
        && let Some(pair) = PARSED.find(key.as_bytes())
    {
        return Ok(Box::new(ParsedRsa {
            algorithm: *algorithm,
            padding,
            pair,
        }));
    }
    (aws_lc::DEFAULT_PROVIDER.signer_factory)(algorithm, key)
}

fn rsa_padding(algorithm: Algorithm) -> Option<&'static dyn RsaEncoding> {
    Some(match algorithm {
        Algorithm::RS256 => &RSA_PKCS1_SHA256,
        Algorithm::RS384 => &RSA_PKCS1_SHA384,
        Algorithm::RS512 => &RSA_PKCS1_SHA512,
        Algorithm::PS256 => &RSA_PSS_SHA256,
        Algorithm::PS384 => &RSA_PSS_SHA384,
        Algorithm::PS512 => &RSA_PSS_SHA512,
        _ => return None,
    })
}

/// An RSA signer over a key parsed once.
struct ParsedRsa {
    algorithm: Algorithm,
    padding: &'static dyn RsaEncoding,
    pair: Arc<RsaKeyPair>,
}

impl signature::Signer<Vec<u8>> for ParsedRsa {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(self.padding, &SystemRandom::new(), message, &mut signature)
            .map_err(signature::Error::from_source)?;
        Ok(signature)
    }
}

impl JwtSigner for ParsedRsa {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::{Value, json};

    fn new_key() -> RsaSigningKey {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der = pair.as_der().unwrap();
        RsaSigningKey::from_pkcs8_der(der.as_ref()).unwrap()
    }

    fn decoding(key: &RsaSigningKey) -> DecodingKey {
        let (n, e) = key.public_components();
        DecodingKey::from_rsa_raw_components(&n, &e)
    }

    fn verify(token: &str, key: &RsaSigningKey, algorithm: Algorithm) -> Value {
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(token, &decoding(key), &validation)
            .unwrap()
            .claims
    }

    #[test]
    fn the_provider_is_installed_and_uses_the_parsed_key() {
        let key = new_key();
        assert!(install());
        assert!(PARSED.find(key.encoding.as_bytes()).is_some());
    }

    #[test]
    fn rs256_signatures_are_jsonwebtokens_own_byte_for_byte() {
        // PKCS#1 v1.5 is deterministic: the parsed-key signer and
        // jsonwebtoken's aws-lc signer must give the same bytes.
        let key = new_key();
        let ours = new_signer(&Algorithm::RS256, &key.encoding).unwrap();
        let theirs =
            (aws_lc::DEFAULT_PROVIDER.signer_factory)(&Algorithm::RS256, &key.encoding).unwrap();
        assert_eq!(
            ours.try_sign(b"a.b").unwrap(),
            theirs.try_sign(b"a.b").unwrap()
        );
    }

    #[test]
    fn tokens_verify_with_the_public_components() {
        let key = new_key();
        for algorithm in [Algorithm::RS256, Algorithm::PS256] {
            let mut header = Header::new(algorithm);
            header.kid = Some("k1".into());
            let token = sign(&header, &json!({ "sub": "s" }), &key).unwrap();
            assert_eq!(verify(&token, &key, algorithm)["sub"], "s");
            assert_eq!(
                jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
                Some("k1")
            );
        }
    }

    #[test]
    fn any_json_header_is_signed_as_given() {
        let key = new_key();
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": 7 });
        let token = sign_json(&header, &json!({ "sub": "s" }), &key).unwrap();
        let first = token.split('.').next().unwrap();
        let sent: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(first).unwrap()).unwrap();
        assert_eq!(sent, header);
        let message = token.rsplit_once('.').unwrap();
        assert!(
            jsonwebtoken::crypto::verify(
                message.1,
                message.0.as_bytes(),
                &decoding(&key),
                Algorithm::RS256
            )
            .unwrap()
        );
    }

    #[test]
    fn an_unknown_alg_is_refused() {
        let key = new_key();
        assert!(sign_json(&json!({ "alg": "none" }), &json!({}), &key).is_err());
        assert!(sign(&Header::new(Algorithm::HS256), &json!({}), &key).is_err());
    }

    #[test]
    fn a_key_held_nowhere_leaves_the_registry() {
        let key = new_key();
        let der = key.encoding.clone();
        drop(key);
        assert!(PARSED.find(der.as_bytes()).is_none());
        // Still signs, parsed by jsonwebtoken's own signer.
        assert!(new_signer(&Algorithm::RS256, &der).is_ok());
    }

    #[test]
    fn a_key_that_is_not_rsa_is_refused() {
        assert!(RsaSigningKey::from_pkcs8_der(b"not a key").is_err());
        assert!(RsaSigningKey::from_pkcs1_der(b"not a key").is_err());
    }
}
