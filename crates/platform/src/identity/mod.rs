//! The Entra ID surface (`login.microsoftonline.com`): the token endpoint,
//! OpenID discovery, signing keys and MSAL's instance discovery.

mod assertion;
mod discovery;
mod error;
mod federated;
mod grant;
mod tenant;
mod token;

use axum::routing::{get, post};
use axum::{Extension, Router};

use grant::Endpoint;

pub use error::AadError;
pub use federated::mint as mint_federated_token;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token).layer(Extension(Endpoint::V2)),
        )
        .route(
            "/{tenant}/oauth2/token",
            post(token::token).layer(Extension(Endpoint::V1)),
        )
        .route("/common/UserRealm/{user}", get(tenant::user_realm))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration).layer(Extension(Endpoint::V2)),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_configuration).layer(Extension(Endpoint::V1)),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .route("/common/discovery/instance", get(discovery::instance))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> AadError {
    AadError::not_found(uri.path())
}
