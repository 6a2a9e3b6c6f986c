//! padconnect's domain rules, with no I/O.
//!
//! Everything here is shared by the local platform and the client: the
//! identifiers of the Power Platform (environments, connections, connectors),
//! the host names of each cloud and the way back from a host to what it
//! names, and Dataverse access rights with the portal's sharing roles.

/// Serializes a type as its `Display` text and reads it back through its
/// `FromStr`, the one spelling of the type everywhere (JSON, URLs, the
/// store). A macro: the two trait impls are what each type needs.
macro_rules! serde_as_text {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Declares a fieldless enum and `ALL`, its variants in the order they are
/// declared: the list is written once, so a new variant cannot be left out
/// of a lookup, a table or a test that walks them all.
#[macro_export]
macro_rules! enum_with_all {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident $(= $value:expr)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$variant_meta])* $variant $(= $value)? ),+
        }

        impl $name {
            /// Every variant, in the order declared.
            pub const ALL: [Self; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];
        }
    };
}

pub mod access;
pub mod clock;
pub mod cloud;
pub mod connection;
pub mod desktop_runs;
pub mod environment;
pub mod environment_variable;
pub mod federation;
pub mod host;
pub mod uiflow;

pub use access::{AccessRights, ShareRole};
pub use clock::{Clock, TestClock};
pub use cloud::Cloud;
pub use connection::{ConnectionId, ConnectorName};
pub use environment::EnvironmentId;
pub use environment_variable::VariableDeclaration;
pub use host::{Surface, classify_host};
pub use uiflow::{CredentialType, GroupType, ParameterSet};

/// A value that failed to parse, with what was wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "'{0}' is not an environment id: expected a GUID such as 37520647-dbdf-49fa-ba01-6134c14680c4, or Default-{{GUID}}"
    )]
    EnvironmentId(String),
    #[error(
        "'{0}' is not an environment host label: expected the environment id without dashes, its last characters after a period (two in the public cloud, 37520647dbdf49faba016134c14680.c4; one elsewhere, 37520647dbdf49faba016134c14680c.4)"
    )]
    EnvironmentUrl(String),
    #[error(
        "'{0}' is not a connection id: expected a GUID, with or without dashes (for example from New-Guid)"
    )]
    ConnectionId(String),
    #[error("'{0}' is not an access right: expected one of {names}", names = access::RIGHT_NAMES.join(", "))]
    AccessRight(String),
    #[error("'{0}' is not a sharing role: expected 'user' or 'co-owner'")]
    ShareRole(String),
    #[error("'{0}' is not a cloud: expected one of {names}", names = cloud::Cloud::NAMES.join(", "))]
    Cloud(String),
}
