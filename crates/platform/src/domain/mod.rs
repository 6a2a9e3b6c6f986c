//! The domain layer under the surfaces: the rules every surface (Dataverse,
//! the connections API, the portal, the world loader) calls, written once,
//! each answering a [`Error`] that the surface renders in its own format
//! (as kanidm's `WebError` wraps its `OperationError`).

pub mod fleet;
pub mod sign_in;

use crate::store::StoreError;

/// Why a rule refused, in words of the domain, not of a wire format.
#[derive(Debug, thiserror::Error)]
///
/// The services that move here next (sharing, membership, connections)
/// bring `Forbidden`, `NotFound` and `Conflict` with them.
pub enum Error {
    #[error("{}", .0.describe())]
    Invalid(Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
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
        }
    }
}
