//! Azure Resource Manager, only what the Azure CLI's service-principal
//! sign-in needs (docs/transparent-mode.md): `/metadata/endpoints` (what
//! `az cloud register --endpoint-resource-manager` reads), `/subscriptions`
//! and `/tenants`. Anything else answers ARM's own error format.
//!
//! What `az login --service-principal --tenant T --allow-no-subscriptions`
//! calls, read from azure-cli-core 2.91 (`_profile.py`: `SubscriptionFinder.
//! find_using_specific_tenant` lists `/subscriptions?api-version=2022-12-01`
//! with a token for `https://management.core.windows.net//.default`; with
//! `--tenant` it lists no `/tenants`; an empty list becomes the "N/A(tenant
//! level account)" account). `/tenants` is there for `az login` without
//! `--tenant` and `az account tenant list`.

mod error;
mod metadata;
mod query;
mod subscriptions;

use axum::Router;
use axum::routing::get;

pub use error::ArmError;

use crate::power_platform_error;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metadata/endpoints", get(metadata::endpoints))
        .route("/subscriptions", get(subscriptions::subscriptions))
        .route("/tenants", get(subscriptions::tenants))
        .method_not_allowed_fallback(power_platform_error::method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ArmError {
    ArmError::not_found(uri.path())
}
