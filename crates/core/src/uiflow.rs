//! The desktop-flow connector (`shared_uiflow`) and its parameter sets.

use std::fmt;

/// A run-owner connection's app: the parameter with its client id, and
/// the one with its certificate (a PFX and its password, kept sealed).
pub const RUN_OWNER_CLIENT_ID: &str = "tokenRunOwnerCert:clientId";
pub const RUN_OWNER_CERTIFICATE_SECRET: &str = "tokenRunOwnerCert:clientCertificateSecret";

/// A `shared_uiflow` parameter set that connections can be created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterSet {
    /// "Connect with username and password": a Windows account and the
    /// machine group to run on.
    AzureRelay,
    /// The same, run by a service principal that proves itself with a
    /// certificate (the "run owner").
    AzureRelayRunOwner,
}

impl ParameterSet {
    pub const NAMES: [&'static str; 2] = ["azureRelay", "azureRelayRunOwner"];

    /// Exact name, as the service spells it.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "azureRelay" => Some(Self::AzureRelay),
            "azureRelayRunOwner" => Some(Self::AzureRelayRunOwner),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AzureRelay => "azureRelay",
            Self::AzureRelayRunOwner => "azureRelayRunOwner",
        }
    }

    /// The values a request must give, in order.
    pub fn required_values(self) -> &'static [&'static str] {
        match self {
            Self::AzureRelay => &["username", "password", "targetId"],
            Self::AzureRelayRunOwner => &[
                "username",
                "password",
                "targetId",
                RUN_OWNER_CLIENT_ID,
                RUN_OWNER_CERTIFICATE_SECRET,
            ],
        }
    }

    /// Values that are secret: sealed at rest, never returned.
    pub fn is_secret(value: &str) -> bool {
        matches!(value, "password" | RUN_OWNER_CERTIFICATE_SECRET)
    }

    /// Only run-owner connections may be shared (with service principals).
    pub fn shareable(self) -> bool {
        matches!(self, Self::AzureRelayRunOwner)
    }
}

impl fmt::Display for ParameterSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The longest Windows account a connection takes, in characters: Windows'
/// own bound for a user name in a credential, `CREDUI_MAX_USERNAME_LENGTH`
/// = 513 (256 for the domain, 1 for the backslash, 256 for the name;
/// `wincred.h`, as Microsoft's windows-rs `Win32::Security::Credentials`
/// carries it).
pub const MAX_ACCOUNT_CHARS: usize = 513;

/// The longest Windows password, in characters: `CREDUI_MAX_PASSWORD_LENGTH`
/// = 256 (`wincred.h`, the same source).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The longest connection display name, in characters. No public source
/// names the service's limit; ours is 256, Windows' `CRED_MAX_STRING_LENGTH`,
/// so that a body cannot store a name of a megabyte.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// Characters no Windows account name may hold (Microsoft's naming rules
/// for user accounts: "cannot contain any of the following: " / \ [ ] : ; |
/// = , + * ? < >", the backslash and `@` being read here as separators).
const NOT_IN_ACCOUNT_NAMES: &[char] = &[
    '"', '/', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>',
];

/// What two spellings of one Windows account share, so they compare
/// equal: the name in lower case (Windows ignores case), and a local
/// account, `.\user` or `MACHINE\user` on `machine`, as plain `user`
/// (KB 4555406 lists the three as one account). Without a machine only
/// `.\user` is known to be local.
pub fn account_key(account: &str, machine: Option<&str>) -> String {
    let lower = account.trim().to_lowercase();
    let machine = machine.map(str::to_lowercase);
    match lower.split_once('\\') {
        Some((prefix, user)) if prefix == "." || Some(prefix) == machine.as_deref() => {
            user.to_owned()
        }
        _ => lower,
    }
}

/// A Windows account as desktop flows take it (KB 4555406, "troubleshoot
/// desktop flows": a local account `user` or `.\user`, `MACHINE\user`,
/// `DOMAIN\user`, a UPN `user@domain`, and `AzureAD\user@domain` on an
/// Entra-joined machine). Key Vault and CyberArk references
/// (`@environmentVariables("...")`) are accepted too, as the run-owner
/// document shows them.
pub fn is_windows_account(username: &str) -> bool {
    if username.starts_with("@environmentVariables(") && username.ends_with(')') {
        return true;
    }
    let name = |s: &str| {
        !s.is_empty()
            && s.trim() == s
            && !s
                .chars()
                .any(|c| c.is_control() || NOT_IN_ACCOUNT_NAMES.contains(&c))
    };
    let upn = |s: &str| match s.split_once('@') {
        Some((user, domain)) => {
            name(user)
                && !user.contains(' ')
                && !domain.contains(['@', ' '])
                && domain.contains('.')
                && name(domain)
        }
        None => false,
    };
    match username.split_once('\\') {
        Some((prefix, user)) if prefix.eq_ignore_ascii_case("AzureAD") => upn(user) || name(user),
        Some((prefix, user)) => {
            (prefix == "." || (name(prefix) && !prefix.contains(['@', ' '])))
                && name(user)
                && !user.contains(['\\', '@'])
        }
        None if username.contains('@') => upn(username),
        None => name(username),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn group_types_are_dataverse_options() {
        assert_eq!(GroupType::from_code(545_940_002), Some(GroupType::Default));
        assert_eq!(GroupType::Standard.code(), 545_940_001);
        assert_eq!(GroupType::Keyless.label(), "Keyless");
        assert_eq!(GroupType::from_code(545_940_003), None);
        assert_eq!(GroupType::from_code(0), None);
    }

    #[test]
    fn parameter_sets() {
        for name in ParameterSet::NAMES {
            assert_eq!(ParameterSet::parse(name).unwrap().name(), name);
        }
        assert_eq!(ParameterSet::parse("azurerelay"), None);
        assert!(!ParameterSet::AzureRelay.shareable());
        assert!(ParameterSet::AzureRelayRunOwner.shareable());
        assert!(ParameterSet::is_secret("password"));
        assert!(!ParameterSet::is_secret("username"));
    }

    #[test]
    fn windows_accounts() {
        for good in [
            "CONTOSO\\bot",
            "bot@contoso.com",
            ".\\localadmin",
            "@environmentVariables(\"new_user\")",
            // KB 4555406's forms: a bare local account, the machine's own
            // name, and an Entra-joined machine's AzureAD\ prefix.
            "bot",
            "John Smith",
            "FIN-VM-01\\bot",
            "AzureAD\\bot@contoso.com",
            "azuread\\bot@contoso.onmicrosoft.com",
        ] {
            assert!(is_windows_account(good), "{good}");
        }
        for bad in [
            "",
            " bot",
            "bot:1",
            "a|b",
            "AzureAD\\",
            "CONTOSO\\",
            "\\bot",
            "a\\b\\c",
            "bot@",
            "bot@contoso",
            "a b@contoso.com",
            "a@b@c.com",
            "CONTOSO\\a@b.com",
        ] {
            assert!(!is_windows_account(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn domain_accounts_are_accepted(domain in "[A-Za-z0-9.-]{1,15}", user in "[A-Za-z0-9._-]{1,20}") {
            let account = format!("{domain}\\{user}");
            prop_assert!(is_windows_account(&account));
        }
    }
}

crate::enum_with_all! {
/// The `flowgrouptype` option set of Dataverse's `flowmachinegroup` table,
/// shared by the platform that writes it and the client that reads it
/// (powerapps-docs `reference/entities/flowmachinegroup.md`, "FlowGroupType
/// Choices/Options": 545940000 Keyless, 545940001 Standard, 545940002 Default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupType {
    Keyless,
    Standard,
    /// The hidden group Power Automate creates for each standalone machine.
    Default,
}
}

impl GroupType {
    /// The option's value, as the Web API writes it.
    pub const fn code(self) -> i64 {
        match self {
            Self::Keyless => 545_940_000,
            Self::Standard => 545_940_001,
            Self::Default => 545_940_002,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The option's label, as Dataverse's metadata gives it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Keyless => "Keyless",
            Self::Standard => "Standard",
            Self::Default => "Default",
        }
    }
}

crate::enum_with_all! {
/// The `connectiontype` option set of Dataverse's `credential` table: where
/// a desktop flow's Windows credentials come from (powerapps-docs
/// `reference/entities/credential.md`, "connectiontype Choices/Options":
/// 1 UsernamePassword, 2 UsernamePasswordList, 3
/// UsernamePasswordListWithGroupMapping, 4 CyberArkIdentity, 5
/// CertificateBasedAuthentication). Azure Key Vault credentials are the
/// first and the last; CyberArk the fourth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialType {
    UsernamePassword,
    UsernamePasswordList,
    UsernamePasswordListWithGroupMapping,
    CyberArkIdentity,
    CertificateBasedAuthentication,
}
}

impl CredentialType {
    /// The option's value, as the Web API writes it.
    pub const fn code(self) -> i64 {
        match self {
            Self::UsernamePassword => 1,
            Self::UsernamePasswordList => 2,
            Self::UsernamePasswordListWithGroupMapping => 3,
            Self::CyberArkIdentity => 4,
            Self::CertificateBasedAuthentication => 5,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The option's label, as Dataverse's metadata gives it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::UsernamePassword => "UsernamePassword",
            Self::UsernamePasswordList => "UsernamePasswordList",
            Self::UsernamePasswordListWithGroupMapping => "UsernamePasswordListWithGroupMapping",
            Self::CyberArkIdentity => "CyberArkIdentity",
            Self::CertificateBasedAuthentication => "CertificateBasedAuthentication",
        }
    }

    /// A label in any case.
    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.label().eq_ignore_ascii_case(label))
    }
}
