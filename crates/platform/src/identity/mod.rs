//! The Entra ID surface (`login.microsoftonline.com`): the token endpoint,
//! OpenID discovery, signing keys and MSAL's instance discovery.

mod assertion;
mod discovery;
mod error;
mod federated;
mod grant;
mod tenant;
mod token;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Router};

use grant::Endpoint;

pub use error::AadError;
pub use federated::mint as mint_federated_token;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post_only(token::token).layer(Extension(Endpoint::V2)),
        )
        .route(
            "/{tenant}/oauth2/token",
            post_only(token::token).layer(Extension(Endpoint::V1)),
        )
        .route("/common/UserRealm/{user}", get_only(tenant::user_realm))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get_only(discovery::openid_configuration).layer(Extension(Endpoint::V2)),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get_only(discovery::openid_configuration).layer(Extension(Endpoint::V1)),
        )
        .route("/{tenant}/discovery/v2.0/keys", get_only(discovery::keys))
        .route("/{tenant}/discovery/keys", get_only(discovery::keys))
        .route("/common/discovery/instance", get_only(discovery::instance))
        .fallback(not_found)
        .with_state(state)
}

/// A POST route that answers any other method with Entra's AADSTS900561.
fn post_only<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(handler).fallback(accepts("POST"))
}

/// A GET route that answers any other method with Entra's AADSTS900561.
fn get_only<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    get(handler).fallback(accepts("GET"))
}

/// The handler for a method the route does not take (axum adds `Allow`).
fn accepts(
    accepted: &'static str,
) -> impl Fn(Method) -> std::future::Ready<AadError> + Clone + Send + Sync + 'static {
    move |method| std::future::ready(AadError::wrong_method(accepted, &method))
}

async fn not_found(uri: axum::http::Uri) -> AadError {
    AadError::not_found(uri.path())
}
