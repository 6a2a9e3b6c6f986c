//! A service principal's credentials: a client secret, or a certificate
//! whose key signs a client assertion.

use std::fmt;

use std::sync::Arc;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use crate::ClientError;

/// A secret value that never shows in `Debug` or `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A certificate and its private key (a PEM file with both, as
/// `AZURE_CLIENT_CERTIFICATE_PATH` names).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    key: Arc<RsaKeyPair>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t", &self.x5t())
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// From PEM text holding a CERTIFICATE and an RSA PRIVATE KEY (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &[u8]) -> Result<Self, ClientError> {
        let der = CertificateDer::from_pem_slice(pem)
            .map_err(|_| {
                ClientError::Credential("the certificate file holds no PEM CERTIFICATE".into())
            })?
            .to_vec();
        let key = PrivateKeyDer::from_pem_slice(pem).map_err(|_| {
            ClientError::Credential("the certificate file holds no PEM PRIVATE KEY".into())
        })?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(ClientError::Credential(
                    "the certificate's private key is not an RSA key".into(),
                ));
            }
        }
        .map_err(|e| {
            ClientError::Credential(format!(
                "the certificate's private key is not a usable RSA key: {e}"
            ))
        })?;
        Ok(Self {
            der,
            key: Arc::new(key),
        })
    }

    /// Base64url SHA-1 thumbprint.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &self.der))
    }

    /// Base64url SHA-256 thumbprint.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, &self.der))
    }

    /// A client assertion for `audience` (the token endpoint): PS256 with
    /// `x5t#S256`, as Microsoft's current guidance has it, or RS256 with `x5t`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        pss: bool,
    ) -> Result<String, ClientError> {
        let header = match pss {
            true => json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256() }),
            false => json!({ "alg": "RS256", "typ": "JWT", "x5t": self.x5t() }),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims = json!({
            "aud": audience, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4(),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        self.sign_jwt(&header, &claims)
    }

    /// Signs a JWT with this certificate's key, by the header's `alg`
    /// (RS256 or PS256).
    pub fn sign_jwt(&self, header: &Value, claims: &Value) -> Result<String, ClientError> {
        let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match header["alg"].as_str() {
            Some("RS256") => &RSA_PKCS1_SHA256,
            Some("PS256") => &RSA_PSS_SHA256,
            other => {
                return Err(ClientError::Credential(format!(
                    "cannot sign a JWT with alg {other:?}"
                )));
            }
        };
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                padding,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|_| ClientError::Credential("cannot sign the client assertion".into()))?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// How a service principal proves who it is.
#[derive(Debug, Clone)]
pub enum ClientCredential {
    Secret(Secret),
    Certificate(Certificate),
}
