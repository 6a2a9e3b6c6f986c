//! `GET /api/data/v9.2/WhoAmI`.

use axum::Json;
use serde_json::{Value, json};

use super::{API_ROOT, DataverseCaller};
use padconnect_domain::ids::{business_unit_id, organization_id};

pub async fn who_am_i(caller: DataverseCaller) -> Json<Value> {
    let env = &caller.member.environment.id;
    Json(json!({
        "@odata.context": caller.origin.url(&format!("{API_ROOT}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")),
        "BusinessUnitId": business_unit_id(env),
        "UserId": caller.member.user.id,
        "OrganizationId": organization_id(env),
    }))
}
