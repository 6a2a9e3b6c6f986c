//! The domain layer under the surfaces: the rules every surface (Dataverse,
//! the connections API, the portal, the world loader) calls, written once,
//! each answering a [`Error`] that the surface renders in its own format
//! (as kanidm's `WebError` wraps its `OperationError`).
//!
//! This crate sits between the surfaces and the store: it imports
//! `padconnect-store` and `padconnect-core` and nothing that speaks HTTP, so
//! the compiler refuses a rule that reaches for a request or a response.
//!
//! - `fleet`: machine groups, machines, their sharing and membership;
//! - `connections`: who may write which connection, with which credentials;
//! - `sign_in`: a person's password, checked once for every surface;
//! - `solutions`: staging and importing solutions, binding connection
//!   references, turning flows on and off;
//! - `world`: the world file and its loader, which calls the rules above;
//! - `keyring`, `secrets`, `lockout`: the keys that seal what is kept, the
//!   hashing of secrets and passwords, and smart lockout.

pub mod admins;
pub mod assertions;
pub mod connections;
pub mod encoding;
pub mod fleet;
pub mod ids;
pub mod keyring;
pub mod lockout;
pub mod runs;
pub mod secrets;
pub mod sessions;
pub mod sign_in;
pub mod signing_keys;
pub mod solutions;
pub mod system_users;
pub mod world;

use padconnect_core::AccessRights;
use uuid::Uuid;

use padconnect_store::{Environment, Store, StoreError, SystemUser};

/// A member of an environment at work in it: its systemuser there, and
/// whether it is a Power Platform administrator of the tenant. Each surface
/// resolves its caller to one (the Web API from a token, the portal from a
/// session) and asks the rules through it.
#[derive(Debug, Clone)]
pub struct Member {
    pub environment: Environment,
    pub user: SystemUser,
    /// System Administrator: every right on every row.
    pub admin: bool,
}

impl Member {
    /// The member as the fleet's rules see it.
    pub fn actor(&self) -> fleet::Actor<'_> {
        fleet::Actor::new(&self.user, self.admin)
    }

    /// The member, in its environment, on `store`.
    pub fn scope<'a>(&'a self, store: &'a Store) -> Scope<'a> {
        self.actor().scope(store, &self.environment)
    }
}

/// Who acts, in which environment, on which store: what the rules of
/// solutions and runs are asked in. A surface builds it from its caller's
/// [`Member`] ([`Member::scope`]) and hands it to every such rule.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub store: &'a Store,
    pub actor: fleet::Actor<'a>,
    /// The environment the rule reads and writes in: the actor's.
    pub environment: &'a Environment,
}

/// Why a rule refused, in words of the domain, not of a wire format.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.describe())]
    Invalid(Invalid),
    /// The record does not exist in the actor's environment.
    #[error("There is no {} {}.", .0.entity, .0.id)]
    NotFound(Record),
    #[error(transparent)]
    Forbidden(Forbidden),
    #[error(transparent)]
    Conflict(Conflict),
    #[error(transparent)]
    Membership(Membership),
    #[error(transparent)]
    Sharing(connections::sharing::Refusal),
    /// A connection's write refused.
    #[error(transparent)]
    Connection(connections::Refusal),
    /// No account declared on the target's machines has these Windows
    /// credentials; `machine` is the one the service names.
    #[error("Connection failed: [Machine {machine}]. There's an issue with your credentials.")]
    Credentials { machine: Uuid },
    /// A solution import refused or failed.
    #[error(transparent)]
    Import(solutions::ImportError),
    /// A flow cannot be turned on.
    #[error(transparent)]
    FlowOff(solutions::FlowOff),
    /// A desktop flow run refused.
    #[error(transparent)]
    Run(runs::RunRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The platform's own fault, never the caller's: what failed.
    #[error("{0} failed")]
    Internal(&'static str),
}

/// A row of a table, by its table's logical name and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub entity: &'static str,
    pub id: Uuid,
}

/// What the actor lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    /// A privilege that a security role gives.
    #[error("The user {user} lacks the privilege {}.", privilege.name())]
    Privilege { user: Uuid, privilege: Privilege },
    /// Rights on `record` that ownership or sharing of the record named
    /// `group` gives (a machine's rights are its group's; a credential's
    /// its own).
    #[error("The user {user} lacks {missing} on the {} {}.", record.entity, record.id)]
    Rights {
        user: Uuid,
        missing: AccessRights,
        record: Record,
        group: String,
    },
    /// Giving rights on `group` that the giver does not hold itself.
    #[error("The user {user} cannot give {missing} on the {}, not holding it.", record.entity)]
    Escalation {
        user: Uuid,
        missing: AccessRights,
        record: Record,
        group: String,
    },
}

/// The privileges the fleet's rules ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// `prvCreate{entity}`: the Environment Maker role gives it.
    Create(&'static str),
    /// `prvRead{entity}` on a user-owned row: its owner holds it, and the
    /// administrators.
    Read(&'static str),
    /// A privilege only the System Administrator role gives: `prvCreateUser`.
    Administrator(&'static str),
}

impl Privilege {
    /// Dataverse's name for it: `prvCreateflowmachinegroup`.
    pub fn name(self) -> String {
        match self {
            Self::Create(entity) => format!("prvCreate{entity}"),
            Self::Read(entity) => format!("prvRead{entity}"),
            Self::Administrator(name) => name.to_owned(),
        }
    }
}

/// The record's state forbids the change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another row of the environment has that name.
    #[error("A {entity} named '{name}' exists already.")]
    NameTaken { entity: &'static str, name: String },
    /// A group that still holds machines cannot be deleted.
    #[error("The machine group '{group}' still holds machines.")]
    NotEmpty { group: String },
    /// The caller read another version of the row than the one stored.
    #[error("The row is at version {version}, not the one read.")]
    VersionMismatch { version: i64 },
    /// The row changed or went away between the read and the write.
    #[error("The {} {} changed meanwhile.", .0.entity, .0.id)]
    ChangedMeanwhile(Record),
}

/// Refuses a write whose caller read another version of the row than the
/// stored `version`; `expected` is the version it read (`If-Match`), when
/// it names one.
pub(crate) fn require_version(expected: Option<i64>, version: i64) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != version => {
            Err(Error::Conflict(Conflict::VersionMismatch { version }))
        }
        _ => Ok(()),
    }
}

/// Why a machine cannot join or leave a group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Membership {
    #[error("The machine '{machine}' is in the group '{group}' already.")]
    AlreadyInGroup { machine: String, group: String },
    #[error("The group {id} is the hidden group of the standalone machine '{machine}'.")]
    HiddenGroup { id: Uuid, machine: String },
    #[error("The machine '{machine}' is in no group.")]
    NotInGroup { machine: String },
    /// The first machine's password becomes the group's, so it must be long enough.
    #[error("The first machine to join '{group}' sets its password: at least {min} characters.")]
    FirstPasswordTooShort { group: String, min: usize },
    #[error("A group password has at most {max} characters.")]
    PasswordTooLong { max: usize },
    #[error("That is not the password of the group '{group}'.")]
    WrongPassword { group: String },
    /// Another machine set the group's first password meanwhile.
    #[error("Another machine set the password of the group '{group}' a moment ago.")]
    PasswordClaimed { group: String },
    #[error("The group '{group}' holds {max} machines, the most a group can hold.")]
    GroupFull { group: String, max: usize },
    #[error("The machine '{machine}' was moved or deleted meanwhile.")]
    MovedMeanwhile { machine: String },
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

/// A value that breaks a column's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The table's logical name: `flowmachinegroup`.
    pub entity: &'static str,
    /// The column's logical name: `name`.
    pub field: &'static str,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Required, and empty or absent.
    Missing,
    /// Longer than the column holds, in characters.
    TooLong { max: usize },
    /// A control character (U+0000–U+001F, U+007F–U+009F).
    ControlCharacter,
    /// Outside a range of lengths, in characters.
    Length { min: usize, max: usize },
    /// The column has no meaning for this row; the sentence says why.
    NotApplicable(&'static str),
}

impl Invalid {
    /// A sentence for any surface that has no wording of its own.
    pub fn describe(&self) -> String {
        let Self { entity, field, .. } = self;
        match self.reason {
            Reason::Missing => format!("The '{field}' of a {entity} is required."),
            Reason::TooLong { max } => {
                format!("The '{field}' of a {entity} is at most {max} characters long.")
            }
            Reason::ControlCharacter => {
                format!("The '{field}' of a {entity} cannot contain control characters.")
            }
            Reason::Length { min, max } => {
                format!("The '{field}' of a {entity} has {min} to {max} characters.")
            }
            Reason::NotApplicable(why) => why.to_owned(),
        }
    }
}
