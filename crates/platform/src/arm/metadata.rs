//! `GET /metadata/endpoints?api-version=...`: the cloud's endpoints, as
//! `az cloud register --endpoint-resource-manager URL` reads them
//! (azure-cli `command_modules/cloud/custom.py` fetches
//! `{URL}/metadata/endpoints?api-version=2022-09-01`; azure-cli-core
//! `cloud.py` `_arm_to_cli_mapper` needs `name`, `authentication.loginEndpoint`,
//! `authentication.audiences[0]` and a `suffixes` object, and reads
//! `resourceManager` and the rest when present). Each URL points back at the
//! platform: under the cloud's names when asked under them (through a
//! tunnel), else at the address the client used.

use axum::Json;
use padconnect_core::host::{ARM_CLOUDS, arm_cloud};
use padconnect_core::{Surface, classify_host};
use serde_json::{Value, json};

use super::ArmError;
use super::query::ApiVersion;
use crate::origin::RequestOrigin;

pub async fn endpoints(
    _version: ApiVersion,
    axum::Extension(origin): axum::Extension<RequestOrigin>,
) -> Result<Json<Value>, ArmError> {
    let host = origin.authority.to_ascii_lowercase();
    let by_name = matches!(classify_host(&host), Some(Surface::Arm));
    // Another name (a bare address) is the public cloud's ARM.
    let cloud = arm_cloud(host.split(':').next().unwrap_or_default()).unwrap_or(&ARM_CLOUDS[0]);
    // Under a bare address the identity surface is path-style at the root.
    let login = match by_name {
        true => cloud.login.to_owned(),
        false => format!("{}://{}", origin.scheme, origin.authority),
    };
    Ok(Json(json!({
        "name": cloud.name,
        "resourceManager": origin.url("/"),
        "authentication": {
            "loginEndpoint": login,
            "audiences": cloud.audiences.map(|audience| format!("{audience}/")),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {},
    })))
}
