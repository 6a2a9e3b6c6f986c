//! Power Platform environment ids and their `ENVIRONMENT_ID_URL` form.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ParseError;

const DEFAULT_PREFIX: &str = "default-";

/// An environment id: a GUID, or `Default-{tenant GUID}` for a tenant's
/// default environment. Parsing accepts any case; display is canonical
/// (lower-case GUID, `Default-` capitalised as the service writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnvironmentId {
    Guid(Uuid),
    Default(Uuid),
}

impl EnvironmentId {
    /// The `ENVIRONMENT_ID_URL` of the seed document, for the public cloud:
    /// the id with its dashes removed, lower case, and the last two
    /// characters split off by a period. `37520647-dbdf-49fa-ba01-6134c14680c4`
    /// gives `37520647dbdf49faba016134c14680.c4`. Other clouds split off one
    /// character ([`crate::Cloud::environment_label`]).
    pub fn url_label(&self) -> String {
        self.url_label_split(2)
    }

    /// The label with the last `suffix_len` characters split off.
    pub fn url_label_split(&self, suffix_len: usize) -> String {
        let flat = self.flat();
        let (head, tail) = flat.split_at(flat.len() - suffix_len);
        format!("{head}.{tail}")
    }

    /// Inverse of [`EnvironmentId::url_label`].
    pub fn from_url_label(label: &str) -> Result<Self, ParseError> {
        Self::from_url_label_split(label, 2)
    }

    /// Inverse of [`EnvironmentId::url_label_split`].
    pub fn from_url_label_split(label: &str, suffix_len: usize) -> Result<Self, ParseError> {
        let bad = || ParseError::EnvironmentUrl(label.to_owned());
        let (head, tail) = label.rsplit_once('.').ok_or_else(bad)?;
        if tail.len() != suffix_len || head.contains('.') {
            return Err(bad());
        }
        let flat = format!("{head}{tail}").to_ascii_lowercase();
        let (default, hex) = match flat.strip_prefix("default") {
            Some(rest) => (true, rest),
            None => (false, flat.as_str()),
        };
        let guid = parse_simple_guid(hex).ok_or_else(bad)?;
        Ok(if default {
            Self::Default(guid)
        } else {
            Self::Guid(guid)
        })
    }

    /// The resource id the APIs use: `/providers/Microsoft.PowerApps/environments/{id}`.
    pub fn resource_id(&self) -> String {
        format!("/providers/Microsoft.PowerApps/environments/{self}")
    }

    /// Parses the resource id written by [`EnvironmentId::resource_id`], any case.
    pub fn from_resource_id(value: &str) -> Result<Self, ParseError> {
        const PREFIX: &str = "/providers/microsoft.powerapps/environments/";
        let lower = value.to_ascii_lowercase();
        match lower.strip_prefix(PREFIX) {
            Some(_) => value[PREFIX.len()..].parse(),
            None => Err(ParseError::EnvironmentId(value.to_owned())),
        }
    }

    fn flat(&self) -> String {
        match self {
            Self::Guid(g) => g.simple().to_string(),
            Self::Default(g) => format!("default{}", g.simple()),
        }
    }
}

/// A GUID written as 32 hex digits, nothing else.
fn parse_simple_guid(hex: &str) -> Option<Uuid> {
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Uuid::try_parse(hex).ok())
        .flatten()
}

/// A GUID written with its four dashes (8-4-4-4-12), nothing else.
pub(crate) fn parse_hyphenated_guid(text: &str) -> Option<Uuid> {
    (text.len() == 36)
        .then(|| Uuid::try_parse(text).ok())
        .flatten()
}

impl FromStr for EnvironmentId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::EnvironmentId(s.to_owned());
        let lower = s.to_ascii_lowercase();
        match lower.strip_prefix(DEFAULT_PREFIX) {
            Some(rest) => parse_hyphenated_guid(rest)
                .map(Self::Default)
                .ok_or_else(bad),
            None => parse_hyphenated_guid(&lower)
                .map(Self::Guid)
                .ok_or_else(bad),
        }
    }
}

impl fmt::Display for EnvironmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guid(g) => write!(f, "{}", g.hyphenated()),
            Self::Default(g) => write!(f, "Default-{}", g.hyphenated()),
        }
    }
}

serde_as_text!(EnvironmentId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_vectors() {
        let cases = [
            (
                "37520647-dbdf-49fa-ba01-6134c14680c4",
                "37520647dbdf49faba016134c14680.c4",
            ),
            (
                "00000000-0000-0000-0000-000000000123",
                "000000000000000000000000000001.23",
            ),
        ];
        for (id, label) in cases {
            let env: EnvironmentId = id.parse().unwrap();
            assert_eq!(env.url_label(), label);
            assert_eq!(EnvironmentId::from_url_label(label).unwrap(), env);
        }
    }

    #[test]
    fn default_environment_any_case() {
        let env: EnvironmentId = "DEFAULT-8A235459-3D2C-415D-8C1E-E2FE133509AD"
            .parse()
            .unwrap();
        assert_eq!(
            env.to_string(),
            "Default-8a235459-3d2c-415d-8c1e-e2fe133509ad"
        );
        assert_eq!(env.url_label(), "default8a2354593d2c415d8c1ee2fe133509.ad");
        assert_eq!(
            EnvironmentId::from_url_label(&env.url_label()).unwrap(),
            env
        );
    }

    #[test]
    fn rejects_what_is_not_an_environment_id() {
        for bad in [
            "",
            "contoso",
            "37520647dbdf49faba016134c14680c4",
            "{37520647-dbdf-49fa-ba01-6134c14680c4}",
            "Default-",
            "Default37520647-dbdf-49fa-ba01-6134c14680c4",
            "37520647-dbdf-49fa-ba01-6134c14680c",
            "37520647-dbdf-49fa-ba01-6134c14680cg",
        ] {
            let err = bad.parse::<EnvironmentId>().unwrap_err();
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
        for bad in [
            "37520647dbdf49faba016134c14680c4",
            "3752.0647dbdf49faba016134c14680.c4",
            "x.c4",
            "37520647dbdf49faba016134c1468.0c4",
        ] {
            assert!(EnvironmentId::from_url_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_id_round_trip() {
        let env: EnvironmentId = "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap();
        let rid = env.resource_id();
        assert_eq!(
            rid,
            "/providers/Microsoft.PowerApps/environments/37520647-dbdf-49fa-ba01-6134c14680c4"
        );
        assert_eq!(
            EnvironmentId::from_resource_id(&rid.to_uppercase()).unwrap(),
            env
        );
        assert!(EnvironmentId::from_resource_id("/providers/Microsoft.PowerApps/apis/x").is_err());
    }

    fn any_env() -> impl Strategy<Value = EnvironmentId> {
        (any::<u128>(), any::<bool>()).prop_map(|(n, default)| {
            let g = Uuid::from_u128(n);
            if default {
                EnvironmentId::Default(g)
            } else {
                EnvironmentId::Guid(g)
            }
        })
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(env in any_env(), upper in any::<bool>()) {
            let text = if upper { env.to_string().to_uppercase() } else { env.to_string() };
            prop_assert_eq!(text.parse::<EnvironmentId>().unwrap(), env);
        }

        #[test]
        fn url_label_round_trip(env in any_env()) {
            let label = env.url_label();
            prop_assert_eq!(label.rfind('.'), Some(label.len() - 3));
            prop_assert!(!label.contains('-'));
            prop_assert_eq!(EnvironmentId::from_url_label(&label).unwrap(), env);
            prop_assert_eq!(EnvironmentId::from_url_label(&label.to_uppercase()).unwrap(), env);
        }

        #[test]
        fn one_character_labels_round_trip(env in any_env()) {
            let label = env.url_label_split(1);
            prop_assert_eq!(label.rfind('.'), Some(label.len() - 2));
            prop_assert_eq!(EnvironmentId::from_url_label_split(&label, 1).unwrap(), env);
            prop_assert!(EnvironmentId::from_url_label_split(&label, 2).is_err());
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,50}") {
            let _ = text.parse::<EnvironmentId>();
            let _ = EnvironmentId::from_url_label(&text);
            let _ = EnvironmentId::from_resource_id(&text);
        }
    }
}
