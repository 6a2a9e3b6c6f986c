//! The run owner of an `azureRelayRunOwner` connection: a service principal
//! that authenticates with a certificate, given as a PFX (PKCS#12) and its
//! password in `tokenRunOwnerCert:clientCertificateSecret`.
//!
//! The run-owner document says the run owner must use certificate
//! authentication; the platform checks what that implies and can be
//! checked at creation: the app is one of the tenant's, the PFX opens with
//! the password, holds a private key and the certificate that key belongs
//! to, and that certificate is registered for the app. RSA keys only, as
//! Entra ID certificate credentials are.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use uuid::Uuid;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::Refusal;
use crate::Error;
use crate::encoding::hex;
use padconnect_store::Store;

pub use padconnect_core::uiflow::{
    RUN_OWNER_CERTIFICATE_SECRET as CERTIFICATE_SECRET, RUN_OWNER_CLIENT_ID as CLIENT_ID,
};

/// A PFX over this many bytes (base64-decoded) is refused: a certificate
/// with its chain is a few kilobytes.
const MAX_PFX_BYTES: usize = 64 * 1024;

/// The run owner as the request gave it; the PFX and its password are
/// secrets and are only kept sealed.
pub struct RunOwner {
    pub client_id: Uuid,
    pub pfx_base64: String,
    pub pfx_password: String,
}

/// A run-owner value the service would refuse, and why.
fn invalid(parameter: &'static str, why: impl Into<String>) -> Error {
    Refusal::RunOwner {
        parameter,
        why: why.into(),
    }
    .into()
}

/// Checks that the PFX proves the app's certificate credential.
pub async fn verify(store: &Store, tenant_id: Uuid, owner: &RunOwner) -> Result<(), Error> {
    let client_id = owner.client_id;
    let app = store.app(tenant_id, client_id).await?.ok_or_else(|| {
        invalid(
            CLIENT_ID,
            format!("no app with client id {client_id} is registered in this tenant."),
        )
    })?;
    let registered = store.app_certificates(tenant_id, client_id).await?;
    if registered.is_empty() {
        return Err(invalid(
            CLIENT_ID,
            format!(
                "app '{}' has no certificate credential: a run owner authenticates with a certificate, so upload one to the app registration first.",
                app.display_name
            ),
        ));
    }
    let pfx = STANDARD
        .decode(owner.pfx_base64.trim())
        .ok()
        .filter(|bytes| bytes.len() <= MAX_PFX_BYTES)
        .ok_or_else(|| {
            invalid(
                CERTIFICATE_SECRET,
                format!("'value.pfx' must be a base64 PFX file of at most {MAX_PFX_BYTES} bytes."),
            )
        })?;
    let password = owner.pfx_password.clone();
    // PBKDF2 with thousands of rounds: off the async workers, bounded.
    let thumbprint = crate::secrets::run_costly(move || certificate_thumbprint(&pfx, &password))
        .await
        .ok_or(Error::Internal("opening the PFX"))??;
    if !registered.iter().any(|c| c.thumbprint_sha1 == thumbprint) {
        return Err(invalid(
            CERTIFICATE_SECRET,
            format!(
                "the PFX holds certificate {} which is not registered for app '{}' ({client_id}): upload it to the app registration, or give the PFX of a certificate that is.",
                thumbprint.to_ascii_uppercase(),
                app.display_name
            ),
        ));
    }
    Ok(())
}

/// The SHA-1 thumbprint (lower-case hex) of the certificate whose private
/// key the PFX holds, once the key is shown to be that certificate's.
fn certificate_thumbprint(pfx: &[u8], password: &str) -> Result<String, Error> {
    // Its costs checked first: p12-keystore's own limits allow minutes.
    super::pfx_limits::check(pfx, password)
        .map_err(|refusal| invalid(CERTIFICATE_SECRET, refusal.to_string()))?;
    let invalid = |why: &str| invalid(CERTIFICATE_SECRET, why);
    let store = KeyStore::from_pkcs12(pfx, password, Pkcs12ImportPolicy::Strict).map_err(|_| {
        invalid("the PFX cannot be opened: check that 'value.pfx' is the file's base64 and 'value.password' its password.")
    })?;
    let (_, chain) = store.private_key_chain().ok_or_else(|| {
        invalid("the PFX holds no private key: export the certificate with its private key.")
    })?;
    let leaf = chain
        .certs()
        .first()
        .ok_or_else(|| invalid("the PFX holds a private key without its certificate."))?;
    let key = RsaKeyPair::from_pkcs8(chain.key().as_der()).map_err(|_| {
        invalid("the PFX's private key is not an RSA key, as Entra ID certificate credentials are.")
    })?;
    let (_, certificate) = X509Certificate::from_der(leaf.as_der())
        .map_err(|_| invalid("the PFX's certificate cannot be read."))?;
    if certificate.public_key().subject_public_key.data.as_ref() != key.public_key().as_ref() {
        return Err(invalid(
            "the PFX's private key does not belong to its certificate.",
        ));
    }
    Ok(hex(
        digest(&SHA1_FOR_LEGACY_USE_ONLY, leaf.as_der()).as_ref()
    ))
}
