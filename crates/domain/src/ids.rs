//! Ids that padconnect derives rather than draws, so that loading a world
//! twice, or answering the same question on two replicas, gives the same id.

use uuid::Uuid;

/// The namespace of the UUID v5 ids that padconnect derives.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b5e_8d3a_4e7f_9a10_c4d2_e5b6_f7a8);

/// A stable id derived from the names that identify an object.
pub fn derived_id(parts: &[&str]) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        parts.join("\u{1f}").to_ascii_lowercase().as_bytes(),
    )
}

/// An environment's Dataverse organization id: BAP's
/// `linkedEnvironmentMetadata.resourceId` and `organizations`' key.
pub fn organization_id(environment: &padconnect_core::EnvironmentId) -> Uuid {
    derived_id(&["organization", &environment.to_string()])
}

/// An environment's root business unit, which every systemuser belongs to.
pub fn business_unit_id(environment: &padconnect_core::EnvironmentId) -> Uuid {
    derived_id(&["businessunit", &environment.to_string()])
}

/// An environment's base currency (`transactioncurrencies`' one row).
pub fn base_currency_id(environment: &padconnect_core::EnvironmentId) -> Uuid {
    derived_id(&["transactioncurrency", &environment.to_string()])
}
