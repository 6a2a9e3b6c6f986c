//! The data dir's local certificate authority: `<data-dir>/tls/ca.pem`, its
//! key sealed by the key ring beside it (`ca.key.sealed`).
//!
//! The CA is limited by X.509 name constraints (RFC 5280 4.2.1.10) to the
//! names the platform serves (`padconnect_core::host::served_dns_subtrees`,
//! plus loopback addresses), so trusting it vouches for no other site: a
//! certificate it signed for any other name fails verification in every
//! client that checks constraints (rustls/webpki, OpenSSL, Go, .NET, NSS).
//!
//! A CA from an older data dir without those constraints (or with another
//! list of names) is replaced at the next start: its key is deleted, so
//! nothing can be issued under it again, and its certificate is kept as
//! `ca.pem.replaced` so a user who trusted it can find and remove it.

use std::path::Path;

use padconnect_core::host::served_dns_subtrees;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, GeneralSubtree, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, NameConstraints, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use time::{Duration, OffsetDateTime};

use padconnect_domain::keyring::{KeyRing, write_private_file};

pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key.sealed";
const REPLACED_FILE: &str = "ca.pem.replaced";
const CA_KEY_CONTEXT: &[u8] = b"tls-ca-key";

/// The CA: its certificate and the issuer that signs with its key.
pub struct LocalCa {
    pub der: CertificateDer<'static>,
    pub issuer: Issuer<'static, KeyPair>,
}

/// The CA of `dir` (the data dir's `tls/`), created on first use, replaced
/// when its name constraints are not today's.
pub fn load_or_create(dir: &Path, keyring: &KeyRing) -> Result<LocalCa, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (key, der) = match load(dir, keyring)? {
        Some((key, der)) if has_current_constraints(&der) => (key, der),
        Some(_) => {
            tracing::warn!(
                dir = %dir.display(),
                "the local CA here is not limited to the platform's names: a constrained CA replaces it. \
                 Its key is deleted; remove the old CA (kept as {REPLACED_FILE}) from your trust stores and trust the new {CA_FILE}"
            );
            std::fs::rename(dir.join(CA_FILE), dir.join(REPLACED_FILE))
                .map_err(|e| e.to_string())?;
            std::fs::remove_file(dir.join(CA_KEY_FILE)).map_err(|e| e.to_string())?;
            create(dir, keyring)?
        }
        None => create(dir, keyring)?,
    };
    let der = CertificateDer::from(der);
    let issuer = Issuer::from_ca_cert_der(&der, key).map_err(|e| e.to_string())?;
    Ok(LocalCa { der, issuer })
}

fn load(dir: &Path, keyring: &KeyRing) -> Result<Option<(KeyPair, Vec<u8>)>, String> {
    let (cert_path, key_path) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
    if !(cert_path.exists() && key_path.exists()) {
        return Ok(None);
    }
    let pem = std::fs::read(&cert_path).map_err(|e| e.to_string())?;
    let sealed = std::fs::read(&key_path).map_err(|e| e.to_string())?;
    let pkcs8 = keyring
        .open(CA_KEY_CONTEXT, &sealed)
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    let key = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())?;
    let der = CertificateDer::from_pem_slice(&pem)
        .map(|c| c.to_vec())
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    Ok(Some((key, der)))
}

/// The subtrees the CA may vouch for: the served DNS names and loopback.
fn permitted_subtrees() -> Vec<GeneralSubtree> {
    let mut subtrees: Vec<GeneralSubtree> = served_dns_subtrees()
        .into_iter()
        .map(GeneralSubtree::DnsName)
        .collect();
    subtrees.push(GeneralSubtree::IpAddress(CidrSubnet::V4(
        [127, 0, 0, 0],
        [255, 0, 0, 0],
    )));
    subtrees.push(GeneralSubtree::IpAddress(CidrSubnet::V6(
        std::net::Ipv6Addr::LOCALHOST.octets(),
        [0xff; 16],
    )));
    subtrees
}

/// Whether a CA certificate carries exactly today's permitted DNS subtrees.
fn has_current_constraints(der: &[u8]) -> bool {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return false;
    };
    let Ok(Some(constraints)) = cert.name_constraints() else {
        return false;
    };
    let Some(permitted) = &constraints.value.permitted_subtrees else {
        return false;
    };
    let dns: Vec<String> = permitted
        .iter()
        .filter_map(|s| match s.base {
            GeneralName::DNSName(name) => Some(name.to_owned()),
            _ => None,
        })
        .collect();
    dns == served_dns_subtrees()
}

fn create(dir: &Path, keyring: &KeyRing) -> Result<(KeyPair, Vec<u8>), String> {
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
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted_subtrees(),
        excluded_subtrees: Vec::new(),
    });
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3_650);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    write_private_file(
        &dir.join(CA_KEY_FILE),
        &keyring.seal(CA_KEY_CONTEXT, &key.serialize_der()),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(dir.join(CA_FILE), cert.pem()).map_err(|e| e.to_string())?;
    Ok((key, cert.der().to_vec()))
}
