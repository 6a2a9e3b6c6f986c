//! Connection ids, connectors and the resource ids the connections API writes.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ParseError;
use crate::environment::parse_hyphenated_guid;

/// A connection id: the seed asks for "a valid GUID" (`New-Guid` gives the
/// dashed form), the Terraform provider sends 32 hex digits. Both spellings,
/// any case, name the same connection; the canonical form, used for storage
/// and written back as the connection's `name`, is 32 lower-case hex digits,
/// as in the service's own responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Uuid);

impl ConnectionId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// `/providers/Microsoft.PowerApps/apis/{connector}/connections/{id}`.
    pub fn resource_id(&self, connector: &ConnectorName) -> String {
        format!("{}/connections/{self}", connector.api_id())
    }
}

impl FromStr for ConnectionId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let simple = (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Uuid::try_parse(s).ok())
            .flatten();
        simple
            .or_else(|| parse_hyphenated_guid(s))
            .map(Self)
            .ok_or_else(|| ParseError::ConnectionId(s.to_owned()))
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

/// A connector's name, such as `shared_uiflow`: the last segment of a
/// connection's `properties.apiId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectorName(String);

impl ConnectorName {
    /// The desktop-flows connector, through which cloud flows reach machines.
    pub const UIFLOW: &'static str = "shared_uiflow";

    pub fn uiflow() -> Self {
        Self(Self::UIFLOW.to_owned())
    }

    /// Connector names are path segments of lower-case letters, digits and `_`;
    /// `None` for anything else. Case-insensitive, stored lower case.
    pub fn parse(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| Self(name.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/providers/Microsoft.PowerApps/apis/{connector}`.
    pub fn api_id(&self) -> String {
        format!("/providers/Microsoft.PowerApps/apis/{}", self.0)
    }
}

impl fmt::Display for ConnectorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_spellings_name_one_connection() {
        let dashed: ConnectionId = "D4E4A6FF-9A67-492A-A1F6-DE854528668C".parse().unwrap();
        let simple: ConnectionId = "d4e4a6ff9a67492aa1f6de854528668c".parse().unwrap();
        assert_eq!(dashed, simple);
        assert_eq!(dashed.to_string(), "d4e4a6ff9a67492aa1f6de854528668c");
    }

    #[test]
    fn rejects_what_is_not_a_guid() {
        for bad in [
            "",
            "my-connection",
            "{d4e4a6ff-9a67-492a-a1f6-de854528668c}",
            "urn:uuid:d4e4a6ff-9a67-492a-a1f6-de854528668c",
            "d4e4a6ff9a67492aa1f6de854528668",
            "d4e4a6ff-9a67492a-a1f6-de854528668c0",
        ] {
            let err = bad.parse::<ConnectionId>().unwrap_err();
            assert!(err.to_string().contains("not a connection id"), "{err}");
        }
    }

    #[test]
    fn resource_ids() {
        let id: ConnectionId = "d4e4a6ff9a67492aa1f6de854528668c".parse().unwrap();
        let uiflow = ConnectorName::uiflow();
        assert_eq!(
            uiflow.api_id(),
            "/providers/Microsoft.PowerApps/apis/shared_uiflow"
        );
        assert_eq!(
            id.resource_id(&uiflow),
            "/providers/Microsoft.PowerApps/apis/shared_uiflow/connections/d4e4a6ff9a67492aa1f6de854528668c"
        );
        assert_eq!(ConnectorName::parse("Shared_UIFlow"), Some(uiflow));
        assert_eq!(ConnectorName::parse("shared/uiflow"), None);
    }

    proptest! {
        #[test]
        fn round_trip_in_every_spelling(n in any::<u128>(), upper in any::<bool>()) {
            let id = ConnectionId(Uuid::from_u128(n));
            let dashed = id.0.hyphenated().to_string();
            let simple = id.to_string();
            for text in [dashed, simple] {
                let text = if upper { text.to_uppercase() } else { text };
                prop_assert_eq!(text.parse::<ConnectionId>().unwrap(), id);
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<ConnectionId>();
        }
    }
}
