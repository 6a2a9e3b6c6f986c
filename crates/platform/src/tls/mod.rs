//! TLS material: the data dir's local CA (`ca`), created at the first start
//! of any data dir; the server certificate `serve --tls` presents, valid for
//! localhost, 127.0.0.1, ::1 and every cloud host name the platform answers
//! to (docs/platform.md, "Hosts and routes"); and the per-host leaves of CONNECT tunnels (`leaf`).
//! Trust `ca.pem` in a client and it talks to the platform as to the cloud.

mod ca;
mod leaf;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use padconnect_core::Cloud;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub use ca::{CA_FILE, LocalCa};
pub use leaf::LeafCertificates;

use padconnect_domain::keyring::KeyRing;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS material in {path}: {reason}")]
    Material { path: String, reason: String },
}

/// The data dir's CA, opened (or created, or replaced: see `ca`).
pub struct Authority {
    pub ca: Arc<LocalCa>,
    pub ca_path: PathBuf,
}

impl Authority {
    pub fn open(data_dir: &Path, keyring: &KeyRing) -> Result<Self, TlsError> {
        let dir = data_dir.join("tls");
        let ca = ca::load_or_create(&dir, keyring).map_err(|reason| TlsError::Material {
            path: dir.display().to_string(),
            reason,
        })?;
        Ok(Self {
            ca: Arc::new(ca),
            ca_path: dir.join(CA_FILE),
        })
    }

    fn fail(&self, reason: impl ToString) -> TlsError {
        TlsError::Material {
            path: self.ca_path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// Leaves for the hosts clients CONNECT to.
    pub fn leaves(&self) -> Result<LeafCertificates, TlsError> {
        LeafCertificates::new(self.ca.clone()).map_err(|e| self.fail(e))
    }

    /// A fresh server certificate for `serve --tls`.
    pub fn server_identity(&self) -> Result<ServerIdentity, TlsError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| self.fail(e))?;
        let mut params = CertificateParams::new(server_names()).map_err(|e| self.fail(e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "padconnect local platform");
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(397);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&key, &self.ca.issuer)
            .map_err(|e| self.fail(e))?;
        Ok(ServerIdentity {
            chain: vec![cert.der().clone(), self.ca.der.clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            ca_path: self.ca_path.clone(),
        })
    }
}

/// A server certificate chain and its key, ready for rustls.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
    pub ca_path: PathBuf,
}

impl ServerIdentity {
    /// The listener's rustls configuration: HTTP/1.1, as inside tunnels.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        leaf::server_config(self.chain.clone(), self.key.clone_key().into())
            .map(Arc::new)
            .map_err(|reason| TlsError::Material {
                path: self.ca_path.display().to_string(),
                reason,
            })
    }
}

/// Every name the server answers to. Environment hosts have two labels before
/// `environment` and a wildcard covers one, so there is one wildcard for each
/// two-hex suffix: 256 names per API domain. rustls refuses a certificate
/// past 64 KiB, which all eight clouds' domains would exceed, so environment
/// hosts are covered for the public cloud and `.localhost` (the others'
/// login, API, portal and Dataverse names are all there). Through a CONNECT
/// tunnel every served name gets a certificate of its own instead.
fn server_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "::1",
        "login.localhost",
        "api.localhost",
        "make.localhost",
        "management.localhost",
        "*.crm.localhost",
    ]
    .map(String::from)
    .to_vec();
    names.extend(padconnect_core::host::ARM_CLOUDS.map(|cloud| cloud.host.to_owned()));
    for cloud in Cloud::ALL {
        let hosts = cloud.hosts();
        names.extend([
            hosts.login.to_owned(),
            hosts.api.to_owned(),
            hosts.portal.to_owned(),
            format!("*.{}", hosts.dataverse),
        ]);
    }
    let api_domains = ["api.localhost", Cloud::Public.hosts().api];
    names.sort();
    names.dedup();
    for api in api_domains {
        names.extend((0..=255u8).map(|n| format!("*.{n:02x}.environment.{api}")));
    }
    // Microsoft's Local cluster splits one character off.
    let local = padconnect_core::host::LOCAL_API;
    names.push(local.to_owned());
    names.extend((0..16u8).map(|n| format!("*.{n:x}.environment.{local}")));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_certificate_is_one_rustls_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        let identity = Authority::open(dir.path(), &keyring)
            .unwrap()
            .server_identity()
            .unwrap();
        let config = identity.server_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(server_names().contains(&"*.c4.environment.api.powerplatform.com".to_owned()));
        assert!(server_names().contains(&"login.microsoftonline.us".to_owned()));
    }

    /// Even a certificate the CA signs for another site fails verification:
    /// the name constraints hold in a real verifier (rustls-webpki).
    #[test]
    fn the_ca_cannot_vouch_for_other_sites() {
        use rustls::client::WebPkiServerVerifier;
        use rustls::client::danger::ServerCertVerifier;
        let dir = tempfile::tempdir().unwrap();
        let keyring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        let authority = Authority::open(dir.path(), &keyring).unwrap();
        let leaves = authority.leaves().unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(authority.ca.der.clone()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
            .build()
            .unwrap();
        let verify = |host: &str| {
            let leaf = leaves.certificate(host).unwrap();
            let name = rustls_pki_types::ServerName::try_from(host.to_owned()).unwrap();
            verifier.verify_server_cert(&leaf, &[], &name, &[], rustls_pki_types::UnixTime::now())
        };
        for served in [
            "login.microsoftonline.com",
            "contoso.crm4.dynamics.com",
            "management.azure.com",
        ] {
            verify(served).unwrap_or_else(|e| panic!("{served}: {e}"));
        }
        for foreign in [
            "example.com",
            "www.dynamics.com",
            "login.microsoftonline.com.evil.example",
        ] {
            let error = verify(foreign).unwrap_err().to_string();
            assert!(
                error.contains("name constraint") || error.contains("NameConstraint"),
                "{foreign}: {error}"
            );
        }
    }

    /// A data dir from before name constraints gets a constrained CA, and
    /// the old one's key is gone.
    #[test]
    fn an_unconstrained_ca_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        let tls = dir.path().join("tls");
        std::fs::create_dir_all(&tls).unwrap();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        let old = params.self_signed(&key).unwrap();
        std::fs::write(tls.join(CA_FILE), old.pem()).unwrap();
        std::fs::write(
            tls.join("ca.key.sealed"),
            keyring.seal(b"tls-ca-key", &key.serialize_der()),
        )
        .unwrap();
        let authority = Authority::open(dir.path(), &keyring).unwrap();
        assert_ne!(authority.ca.der.as_ref(), old.der().as_ref());
        assert_eq!(
            std::fs::read_to_string(tls.join("ca.pem.replaced")).unwrap(),
            old.pem()
        );
        // Opened again, the new CA stays.
        let again = Authority::open(dir.path(), &keyring).unwrap();
        assert_eq!(again.ca.der, authority.ca.der);
    }
}
