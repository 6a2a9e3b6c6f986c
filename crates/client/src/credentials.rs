//! A service principal's credentials, as azure-identity's
//! DefaultAzureCredential finds them: a client secret, a certificate whose
//! key signs a client assertion (PEM or PFX), a workload identity's
//! federated token file, or the Azure CLI's signed-in account.

use std::fmt;
use std::path::PathBuf;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use padconnect_jwt::{Algorithm, Header, RsaSigningKey};
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
    key: RsaSigningKey,
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
            PrivateKeyDer::Pkcs8(k) => RsaSigningKey::from_pkcs8_der(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaSigningKey::from_pkcs1_der(k.secret_pkcs1_der()),
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
        Ok(Self { der, key })
    }

    /// From a PKCS#12 (PFX) file and its password, which may be empty, as
    /// azure-identity's CertificateCredential reads one
    /// (`AZURE_CLIENT_CERTIFICATE_PASSWORD`).
    pub fn from_pfx(pfx: &[u8], password: &str) -> Result<Self, ClientError> {
        use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
        let store = KeyStore::from_pkcs12(pfx, password, Pkcs12ImportPolicy::Relaxed).map_err(|_| {
            ClientError::Credential(
                "the PFX certificate file cannot be opened: check AZURE_CLIENT_CERTIFICATE_PASSWORD".into(),
            )
        })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| {
            ClientError::Credential(
                "the PFX certificate file holds no private key: export it with its key".into(),
            )
        })?;
        let der = chain
            .certs()
            .first()
            .ok_or_else(|| {
                ClientError::Credential("the PFX certificate file holds no certificate".into())
            })?
            .as_der()
            .to_vec();
        let key = RsaSigningKey::from_pkcs8_der(chain.key().as_der()).map_err(|_| {
            ClientError::Credential(
                "the PFX's private key is not an RSA key, as Entra ID certificate credentials are"
                    .into(),
            )
        })?;
        Ok(Self { der, key })
    }

    /// From a file's bytes: PEM text, else PKCS#12 with `password`.
    pub fn from_file_bytes(bytes: &[u8], password: &str) -> Result<Self, ClientError> {
        match bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            true => Self::from_pem(bytes),
            false => Self::from_pfx(bytes, password),
        }
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
            true => Header {
                x5t_s256: Some(self.x5t_s256()),
                ..Header::new(Algorithm::PS256)
            },
            false => Header {
                x5t: Some(self.x5t()),
                ..Header::new(Algorithm::RS256)
            },
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims = json!({
            "aud": audience, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4(),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        padconnect_jwt::sign(&header, &claims, &self.key).map_err(signing_failed)
    }

    /// Signs a JWT with this certificate's key under any header, by its
    /// `alg` (an RSA one: RS256 to RS512, PS256 to PS512): for assertions
    /// [`Header`] cannot hold, such as the malformed ones tests send.
    pub fn sign_jwt(&self, header: &Value, claims: &Value) -> Result<String, ClientError> {
        padconnect_jwt::sign_json(header, claims, &self.key).map_err(signing_failed)
    }
}

fn signing_failed(error: padconnect_jwt::Error) -> ClientError {
    ClientError::Credential(format!("cannot sign the client assertion: {error}"))
}

/// How a service principal proves who it is.
#[derive(Debug, Clone)]
pub enum ClientCredential {
    Secret(Secret),
    Certificate(Certificate),
    /// Workload identity federation: the JWT in this file (written by the
    /// CI system or Kubernetes, and renewed there) is the client assertion.
    /// It is read again at each sign-in, as azure-identity's
    /// WorkloadIdentityCredential does (`AZURE_FEDERATED_TOKEN_FILE`).
    FederatedTokenFile(PathBuf),
    /// The account `az login` signed in: `az account get-access-token`
    /// gives the token, no secret needed here.
    AzureCli,
}

impl ClientCredential {
    /// The credential's name as `--credential` spells it, and where it came from.
    pub fn describe(&self) -> String {
        match self {
            Self::Secret(_) => "secret (a client secret)".into(),
            Self::Certificate(c) => format!("certificate (thumbprint {})", c.x5t()),
            Self::FederatedTokenFile(path) => {
                format!("workload (the federated token in {})", path.display())
            }
            Self::AzureCli => "azurecli (the account `az login` signed in)".into(),
        }
    }
}
