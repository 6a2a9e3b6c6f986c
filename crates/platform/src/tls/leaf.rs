//! Certificates for the names clients CONNECT to (docs/transparent-mode.md): one leaf
//! per host, for exactly that name, signed by the local CA when first asked
//! for and kept in memory. Leaves share one P-256 key made at start, so
//! minting is one ECDSA signature; the cache is bounded (a client may name
//! any number of environment hosts) and starts over when full.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::ca::LocalCa;

/// Past this many hosts the cache is cleared.
const CAPACITY: usize = 1_024;

pub struct LeafCertificates {
    ca: Arc<LocalCa>,
    key: KeyPair,
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl LeafCertificates {
    pub fn new(ca: Arc<LocalCa>) -> Result<Self, String> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
        Ok(Self {
            ca,
            key,
            configs: Mutex::default(),
        })
    }

    /// A TLS configuration that presents a certificate for `host` alone
    /// (lower case, no port), speaking HTTP/1.1.
    pub fn config_for(&self, host: &str) -> Result<Arc<ServerConfig>, String> {
        if let Some(config) = self.configs.lock().get(host) {
            return Ok(config.clone());
        }
        let config = Arc::new(self.mint(host)?);
        let mut configs = self.configs.lock();
        if configs.len() >= CAPACITY {
            configs.clear();
        }
        configs.insert(host.to_owned(), config.clone());
        Ok(config)
    }

    fn mint(&self, host: &str) -> Result<ServerConfig, String> {
        let chain = vec![self.certificate(host)?, self.ca.der.clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()));
        server_config(chain, key)
    }

    /// A leaf for `host`, signed by the CA: whatever the name, the CA's
    /// constraints decide whether a client accepts it.
    pub(super) fn certificate(&self, host: &str) -> Result<CertificateDer<'static>, String> {
        let mut params =
            CertificateParams::new(vec![host.to_owned()]).map_err(|e| e.to_string())?;
        params.distinguished_name.push(DnType::CommonName, host);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(90);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&self.key, &self.ca.issuer)
            .map_err(|e| e.to_string())?;
        Ok(cert.der().clone())
    }
}

/// rustls on aws-lc-rs (the one crypto stack), HTTP/1.1 only: the platform
/// speaks no HTTP/2, on its listener or inside tunnels.
pub(super) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
