//! `organizations` and `transactioncurrencies`: the two reads Microsoft's
//! Terraform provider makes of each environment for its
//! `powerplatform_environments` data source (`GetDefaultCurrencyForEnvironment`:
//! `organizations`, then `transactioncurrencies?$filter=transactioncurrencyid
//! eq <_basecurrencyid_value>` for `isocurrencycode`). One row each, readable
//! by every member; the currency is US dollars, the organization's base.

use serde_json::{Value, json};

use super::tables::{etag, time};
use padconnect_domain::ids::{base_currency_id, organization_id};
use padconnect_store::Environment;

pub const ORGANIZATION_COLUMNS: &[&str] = &[
    "organizationid",
    "name",
    "_basecurrencyid_value",
    "languagecode",
    "createdon",
    "versionnumber",
];

pub const CURRENCY_COLUMNS: &[&str] = &[
    "transactioncurrencyid",
    "isocurrencycode",
    "currencyname",
    "currencysymbol",
    "currencyprecision",
    "exchangerate",
    "_organizationid_value",
    "statecode",
    "statuscode",
    "createdon",
    "versionnumber",
];

pub fn organization_row(env: &Environment) -> Value {
    json!({
        "@odata.etag": etag(1),
        "organizationid": organization_id(&env.id),
        "name": env.org,
        "_basecurrencyid_value": base_currency_id(&env.id),
        "languagecode": 1033,
        "createdon": env.ready_at.map(time),
        "versionnumber": 1,
    })
}

pub fn currency_row(env: &Environment) -> Value {
    json!({
        "@odata.etag": etag(1),
        "transactioncurrencyid": base_currency_id(&env.id),
        "isocurrencycode": "USD",
        "currencyname": "US Dollar",
        "currencysymbol": "$",
        "currencyprecision": 2,
        "exchangerate": 1.0,
        "_organizationid_value": organization_id(&env.id),
        "statecode": 0,
        "statuscode": 1,
        "createdon": env.ready_at.map(time),
        "versionnumber": 1,
    })
}
