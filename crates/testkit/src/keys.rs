//! Certificates for tests, each made once per test binary: an RSA key is
//! the slowest part of a test's setup, and a test needs a certificate of
//! its own only where it says so, by asking for another subject.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A self-signed RSA-2048 certificate and its private key.
pub struct TestCertificate {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    /// PKCS#8.
    pub key_pem: String,
    /// PKCS#8.
    pub key_der: Vec<u8>,
}

impl TestCertificate {
    /// The certificate and its key in one PEM text, as
    /// `AZURE_CLIENT_CERTIFICATE_PATH` names one.
    pub fn pem_with_key(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }
}

/// The certificate whose subject (and DNS name) is `subject`: made at the
/// first call, the same one at every later call in this process.
pub fn certificate(subject: &str) -> Arc<TestCertificate> {
    static MADE: Mutex<Option<HashMap<String, Arc<TestCertificate>>>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    made.get_or_insert_default()
        .entry(subject.to_owned())
        .or_insert_with(|| Arc::new(make(subject)))
        .clone()
}

fn make(subject: &str) -> TestCertificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
    let cert = rcgen::CertificateParams::new(vec![subject.to_owned()])
        .expect("a DNS name")
        .self_signed(&key)
        .expect("a self-signed certificate");
    TestCertificate {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
        key_der: key.serialize_der(),
    }
}
