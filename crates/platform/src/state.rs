//! What every handler may reach: the store and the caches layered over it,
//! the key ring, the signing keys and the configuration. Nothing here knows a
//! surface, so every surface can import it without a circle.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::config::PlatformConfig;
use crate::oidc::ExternalIssuers;
use crate::signing::SigningKeys;
use crate::verified::VerifiedTokens;
use padconnect_domain::keyring::KeyRing;
use padconnect_domain::lockout::SignInGuard;
use padconnect_store::{Directory, Store};

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub keyring: Arc<KeyRing>,
    pub signing: Arc<SigningKeys>,
    /// The token endpoint's in-memory view of tenants, apps and secrets.
    pub directory: Arc<Directory>,
    /// Bearer tokens whose signature was checked already.
    pub verified: Arc<VerifiedTokens>,
    /// External OIDC issuers' keys, for workload identity federation.
    pub issuers: ExternalIssuers,
    /// Smart lockout and secret throttling (per replica, as per datacenter).
    pub sign_ins: SignInGuard,
    pub config: PlatformConfig,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

/// What checking a bearer token and finding the caller's environment need:
/// the substate the APIs' extractors take through `FromRef` (axum's
/// `examples/oauth`), so none of them names the whole state.
#[derive(Clone)]
pub struct Verifier {
    pub store: Store,
    pub directory: Arc<Directory>,
    pub verified: Arc<VerifiedTokens>,
    pub signing: Arc<SigningKeys>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        Self {
            store: state.store.clone(),
            directory: state.directory.clone(),
            verified: state.verified.clone(),
            signing: state.signing.clone(),
        }
    }
}

/// The store alone: what the portal's session extractors need.
impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}
