//! `serve --tls`: a local certificate authority, created once per data dir
//! (`<data-dir>/tls/ca.pem`, its key sealed by the key ring beside it), and a
//! server certificate it signs at each start, valid for localhost, 127.0.0.1,
//! ::1 and every cloud host name the platform answers to (DESIGN.md 4.1).
//! Trust `ca.pem` in a client and it talks to the platform as to the cloud.

use std::path::{Path, PathBuf};

use padconnect_core::Cloud;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::keyring::{KeyRing, write_private_file};

pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key.sealed";
const CA_KEY_CONTEXT: &[u8] = b"tls-ca-key";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS material in {path}: {reason}")]
    Material { path: String, reason: String },
}

/// A server certificate chain and its key, ready for rustls.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
    pub ca_path: PathBuf,
}

/// The data dir's CA (created on first use) and a fresh server certificate.
pub fn server_identity(data_dir: &Path, keyring: &KeyRing) -> Result<ServerIdentity, TlsError> {
    let dir = data_dir.join("tls");
    let fail = |reason: String| TlsError::Material {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
    let (ca_key, ca_der) = load_or_create_ca(&dir, keyring).map_err(fail)?;
    let ca_der = CertificateDer::from(ca_der);
    let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key).map_err(|e| fail(e.to_string()))?;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| fail(e.to_string()))?;
    let mut params = CertificateParams::new(server_names()).map_err(|e| fail(e.to_string()))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "padconnect local platform");
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(397);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| fail(e.to_string()))?;
    Ok(ServerIdentity {
        chain: vec![cert.der().clone(), ca_der],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        ca_path: dir.join(CA_FILE),
    })
}

/// Every name the server answers to. Environment hosts have two labels before
/// `environment` and a wildcard covers one, so there is one wildcard for each
/// two-hex suffix: 256 names per API domain. rustls refuses a certificate
/// past 64 KiB, which all eight clouds' domains would exceed, so environment
/// hosts are covered for the public cloud and `.localhost` (the others'
/// login, API, portal and Dataverse names are all there).
fn server_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "::1",
        "login.localhost",
        "api.localhost",
        "make.localhost",
        "*.crm.localhost",
    ]
    .map(String::from)
    .to_vec();
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
    names
}

/// The CA's key and DER certificate.
fn load_or_create_ca(dir: &Path, keyring: &KeyRing) -> Result<(KeyPair, Vec<u8>), String> {
    let cert_path = dir.join(CA_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        let pem = std::fs::read_to_string(&cert_path).map_err(|e| e.to_string())?;
        let sealed = std::fs::read(&key_path).map_err(|e| e.to_string())?;
        let pkcs8 = keyring
            .open(CA_KEY_CONTEXT, &sealed)
            .map_err(|e| format!("{}: {e}", key_path.display()))?;
        let key = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())?;
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
            .map(|c: CertificateDer<'_>| c.to_vec())
            .map_err(|e| e.to_string())?;
        return Ok((key, der));
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "padconnect local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "padconnect");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3_650);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    write_private_file(
        &key_path,
        &keyring.seal(CA_KEY_CONTEXT, &key.serialize_der()),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(&cert_path, cert.pem()).map_err(|e| e.to_string())?;
    Ok((key, cert.der().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_server_certificate_is_one_rustls_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        let identity = server_identity(dir.path(), &keyring).unwrap();
        let chain = identity.chain.iter().map(|c| c.to_vec()).collect();
        axum_server::tls_rustls::RustlsConfig::from_der(
            chain,
            identity.key.secret_pkcs8_der().to_vec(),
        )
        .await
        .unwrap();
        assert!(server_names().contains(&"*.c4.environment.api.powerplatform.com".to_owned()));
        assert!(server_names().contains(&"login.microsoftonline.us".to_owned()));
    }
}
