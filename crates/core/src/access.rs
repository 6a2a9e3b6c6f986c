//! Dataverse access rights, and the portal's sharing roles mapped onto them.

use std::fmt;
use std::str::FromStr;

use crate::ParseError;

bitflags::bitflags! {
    /// Dataverse `AccessRights`: flags, written as comma-separated names
    /// (`"ReadAccess, AppendToAccess"`), with the values of the Web API
    /// reference.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AccessRights: u32 {
        const READ = 1;
        const WRITE = 2;
        const APPEND = 4;
        const APPEND_TO = 16;
        const CREATE = 32;
        const DELETE = 65_536;
        const SHARE = 262_144;
        const ASSIGN = 524_288;
    }
}

const RIGHTS: [(AccessRights, &str); 8] = [
    (AccessRights::READ, "ReadAccess"),
    (AccessRights::WRITE, "WriteAccess"),
    (AccessRights::APPEND, "AppendAccess"),
    (AccessRights::APPEND_TO, "AppendToAccess"),
    (AccessRights::CREATE, "CreateAccess"),
    (AccessRights::DELETE, "DeleteAccess"),
    (AccessRights::SHARE, "ShareAccess"),
    (AccessRights::ASSIGN, "AssignAccess"),
];

/// Every name Dataverse accepts, `None` included.
pub const RIGHT_NAMES: [&str; 9] = [
    "None",
    "ReadAccess",
    "WriteAccess",
    "AppendAccess",
    "AppendToAccess",
    "CreateAccess",
    "DeleteAccess",
    "ShareAccess",
    "AssignAccess",
];

impl FromStr for AccessRights {
    type Err = ParseError;

    /// Names separated by commas, any case, spaces around them ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .try_fold(Self::empty(), |acc, name| {
                if name.eq_ignore_ascii_case("None") {
                    return Ok(acc);
                }
                RIGHTS
                    .iter()
                    .find(|(_, n)| n.eq_ignore_ascii_case(name))
                    .map(|(flag, _)| acc | *flag)
                    .ok_or_else(|| ParseError::AccessRight(name.to_owned()))
            })
    }
}

impl fmt::Display for AccessRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("None");
        }
        let names: Vec<&str> = RIGHTS
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        f.write_str(&names.join(", "))
    }
}

/// The roles of the portal's Share panel for machines and machine groups.
///
/// Microsoft does not document the access mask behind each role, so this is
/// our mapping, chosen from what each role may do in the portal:
/// - `user` runs desktop flows on the group: it must see the group and its
///   machines (ReadAccess) and point a connection at them (AppendToAccess, the
///   right to be the target of a lookup). Nothing more: no edit, no share.
/// - `co-owner` may edit, delete, share, add or remove machines: every right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShareRole {
    User,
    CoOwner,
}

impl ShareRole {
    pub fn rights(self) -> AccessRights {
        match self {
            Self::User => AccessRights::READ | AccessRights::APPEND_TO,
            Self::CoOwner => AccessRights::all(),
        }
    }

    /// The strongest role whose rights `rights` holds, if any.
    pub fn from_rights(rights: AccessRights) -> Option<Self> {
        [Self::CoOwner, Self::User]
            .into_iter()
            .find(|role| rights.contains(role.rights()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::CoOwner => "co-owner",
        }
    }
}

impl FromStr for ShareRole {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Ok(Self::User),
            "co-owner" | "coowner" => Ok(Self::CoOwner),
            _ => Err(ParseError::ShareRole(s.to_owned())),
        }
    }
}

impl fmt::Display for ShareRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

serde_as_text!(ShareRole);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_values_and_names() {
        assert_eq!(
            AccessRights::all().bits(),
            1 + 2 + 4 + 16 + 32 + 65_536 + 262_144 + 524_288
        );
        let rights: AccessRights = "ReadAccess,WriteAccess".parse().unwrap();
        assert_eq!(rights.bits(), 3);
        assert_eq!(rights.to_string(), "ReadAccess, WriteAccess");
        assert_eq!(AccessRights::empty().to_string(), "None");
        assert_eq!(
            "None".parse::<AccessRights>().unwrap(),
            AccessRights::empty()
        );
        assert_eq!(
            AccessRights::all().to_string(),
            "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess, DeleteAccess, ShareAccess, AssignAccess"
        );
        let err = "ReadAccess, Everything"
            .parse::<AccessRights>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'Everything'") && err.contains("AppendToAccess"),
            "{err}"
        );
    }

    #[test]
    fn roles() {
        assert_eq!(
            ShareRole::User.rights(),
            AccessRights::READ | AccessRights::APPEND_TO
        );
        assert_eq!(
            ShareRole::from_rights(AccessRights::all()),
            Some(ShareRole::CoOwner)
        );
        assert_eq!(
            ShareRole::from_rights(ShareRole::User.rights() | AccessRights::WRITE),
            Some(ShareRole::User)
        );
        assert_eq!(ShareRole::from_rights(AccessRights::READ), None);
        assert_eq!("Co-Owner".parse::<ShareRole>().unwrap(), ShareRole::CoOwner);
        assert!(
            "owner"
                .parse::<ShareRole>()
                .unwrap_err()
                .to_string()
                .contains("'user' or 'co-owner'")
        );
    }

    proptest! {
        #[test]
        fn names_round_trip(bits in any::<u32>()) {
            let rights = AccessRights::from_bits_truncate(bits);
            prop_assert_eq!(rights.to_string().parse::<AccessRights>().unwrap(), rights);
        }

        #[test]
        fn role_names_round_trip(co_owner in any::<bool>()) {
            let role = if co_owner { ShareRole::CoOwner } else { ShareRole::User };
            prop_assert_eq!(role.to_string().parse::<ShareRole>().unwrap(), role);
            prop_assert_eq!(ShareRole::from_rights(role.rights()), Some(role));
        }
    }
}
