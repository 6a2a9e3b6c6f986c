//! The text columns of machines and machine groups and what they may hold.
//!
//! Column sizes are Dataverse's own (powerapps-docs
//! `reference/entities/flowmachinegroup.md`: `name` String, MaxLength 100;
//! `description` Memo, MaxLength 2000; `reference/entities/flowmachine.md`:
//! `name` String, MaxLength 100). A machine's description is held to the
//! group's 2,000. Every surface trims surrounding white space and refuses
//! control characters, which no name or description needs (a NUL, say, ends
//! the string in a C API and breaks a log line).

use crate::{Invalid, Reason};

/// One text column of a fleet table and what it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextColumn {
    pub entity: &'static str,
    pub field: &'static str,
    /// In characters, as Dataverse counts its MaxLength.
    pub max: usize,
    pub required: bool,
}

pub const GROUP_NAME: TextColumn = TextColumn::required("flowmachinegroup", "name", 100);
pub const GROUP_DESCRIPTION: TextColumn =
    TextColumn::optional("flowmachinegroup", "description", 2000);
pub const MACHINE_NAME: TextColumn = TextColumn::required("flowmachine", "name", 100);
pub const MACHINE_DESCRIPTION: TextColumn =
    TextColumn::optional("flowmachine", "description", 2000);

impl TextColumn {
    /// A column Dataverse marks ApplicationRequired: blank is refused.
    pub const fn required(entity: &'static str, field: &'static str, max: usize) -> Self {
        Self {
            entity,
            field,
            max,
            required: true,
        }
    }

    /// A column that may be left blank.
    pub const fn optional(entity: &'static str, field: &'static str, max: usize) -> Self {
        let column = Self::required(entity, field, max);
        Self {
            required: false,
            ..column
        }
    }

    /// The value as it is kept: trimmed, and within the column's rules.
    pub fn check(&self, value: &str) -> Result<String, Invalid> {
        let value = value.trim();
        let refuse = |reason| {
            Err(Invalid {
                entity: self.entity,
                field: self.field,
                reason,
            })
        };
        if self.required && value.is_empty() {
            return refuse(Reason::Missing);
        }
        if value.chars().count() > self.max {
            return refuse(Reason::TooLong { max: self.max });
        }
        if value.chars().any(char::is_control) {
            return refuse(Reason::ControlCharacter);
        }
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(column: TextColumn, value: &str) -> Option<Reason> {
        column.check(value).err().map(|invalid| invalid.reason)
    }

    #[test]
    fn columns_hold_what_dataverse_holds() {
        assert_eq!(GROUP_NAME.check("  Finance bots ").unwrap(), "Finance bots");
        assert_eq!(
            reason(GROUP_NAME, &"é".repeat(100)),
            None,
            "characters, not bytes"
        );
        assert_eq!(
            reason(GROUP_NAME, &"x".repeat(101)),
            Some(Reason::TooLong { max: 100 })
        );
        assert_eq!(reason(GROUP_NAME, "   "), Some(Reason::Missing));
        assert_eq!(reason(GROUP_NAME, "a\0b"), Some(Reason::ControlCharacter));
        assert_eq!(reason(GROUP_DESCRIPTION, ""), None);
        assert_eq!(
            reason(GROUP_DESCRIPTION, &"x".repeat(2001)),
            Some(Reason::TooLong { max: 2000 })
        );
        assert_eq!(
            reason(MACHINE_NAME, &"x".repeat(101)),
            Some(Reason::TooLong { max: 100 })
        );
    }
}
