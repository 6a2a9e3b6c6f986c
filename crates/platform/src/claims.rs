//! The claims of the access tokens the platform signs and verifies: Entra
//! ID's v1 token shape, shared by the token service, the key ring of
//! verified tokens and every API's bearer check.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token (Entra ID's v1 shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub appid: Uuid,
    /// "0" public client, "1" secret, "2" certificate.
    pub appidacr: String,
    pub idp: String,
    /// "app" or "user".
    pub idtyp: String,
    pub oid: Uuid,
    pub sub: String,
    pub tid: Uuid,
    pub uti: String,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
}
