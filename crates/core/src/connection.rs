//! Connection ids, connectors and the resource ids the connections API writes.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ParseError;
use crate::environment::parse_hyphenated_guid;

/// A connection id: the seed asks for "a valid GUID" (`New-Guid` gives the
/// dashed form), the Terraform provider sends 32 hex digits
/// (`strings.ReplaceAll(uuid.New().String(), "-", "")`). Both spellings, any
/// case, name the same connection; the canonical form (`Display`), used for
/// storage and written back as the connection's `name`, is 32 lower-case hex
/// digits. Whether the cloud keeps a dashed id as the `name` is not public,
/// so a client sends the id as it was given ([`ConnectionId::as_given`]) and
/// takes the `name` the service answers; equality ignores the spelling.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionId {
    uuid: Uuid,
    /// Given in the 8-4-4-4-12 form.
    dashed: bool,
}

impl PartialEq for ConnectionId {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}

impl Eq for ConnectionId {}

impl std::hash::Hash for ConnectionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}

impl PartialOrd for ConnectionId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConnectionId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uuid.cmp(&other.uuid)
    }
}

impl ConnectionId {
    pub fn new_random() -> Self {
        Self::from_uuid(Uuid::new_v4())
    }

    /// In the canonical 32-digit spelling.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self {
            uuid,
            dashed: false,
        }
    }

    pub fn as_uuid(&self) -> Uuid {
        self.uuid
    }

    /// The id spelled as it was given (lower case): dashed or 32 digits.
    pub fn as_given(&self) -> String {
        match self.dashed {
            true => self.uuid.hyphenated().to_string(),
            false => self.uuid.simple().to_string(),
        }
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
        match (simple, parse_hyphenated_guid(s)) {
            (Some(uuid), _) => Ok(Self::from_uuid(uuid)),
            (None, Some(uuid)) => Ok(Self { uuid, dashed: true }),
            (None, None) => Err(ParseError::ConnectionId(s.to_owned())),
        }
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uuid.simple())
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
            let id = ConnectionId::from_uuid(Uuid::from_u128(n));
            let dashed = id.uuid.hyphenated().to_string();
            let simple = id.to_string();
            for text in [dashed, simple] {
                let given = if upper { text.to_uppercase() } else { text.clone() };
                let parsed = given.parse::<ConnectionId>().unwrap();
                prop_assert_eq!(parsed, id);
                // Canonical for storage; as given (lower case) for sending.
                prop_assert_eq!(parsed.to_string(), id.to_string());
                prop_assert_eq!(parsed.as_given(), text);
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<ConnectionId>();
        }
    }
}
