//! Access tokens for tests: from a platform's token endpoint, through the
//! client's own `TokenClient`, the one way every test crate gets a token.

use padconnect_client::{ClientCredential, Secret, TokenClient};

/// A token for `scope` as app `client_id` of `tenant`, signed in with
/// `secret` at the platform whose base URL is `platform`.
pub async fn app_token(
    platform: &str,
    tenant: &str,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> String {
    let credential = ClientCredential::Secret(Secret::new(secret));
    TokenClient::new(crate::http(), platform)
        .client_credentials(tenant, client_id, &credential, scope)
        .await
        .unwrap_or_else(|e| panic!("no token for app {client_id}, {scope}: {e}"))
        .token
}

/// A token for `scope` as the user `upn` of `tenant`, signed in with its
/// password through the public client app `client_id`.
pub async fn user_token(
    platform: &str,
    tenant: &str,
    client_id: &str,
    (upn, password): (&str, &str),
    scope: &str,
) -> String {
    TokenClient::new(crate::http(), platform)
        .password(tenant, client_id, upn, &Secret::new(password), scope)
        .await
        .unwrap_or_else(|e| panic!("no token for {upn}, {scope}: {e}"))
        .token
}
