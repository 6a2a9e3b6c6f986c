//! Formatted values and lookup annotations, returned only when the request
//! asks with `Prefer: odata.include-annotations="..."` (Dataverse Web API,
//! learn.microsoft.com power-apps/developer/data-platform/webapi/query/select-columns
//! "Formatted values", and .../compose-http-requests-handle-errors "Request
//! annotations"): `*`, a name such as
//! `OData.Community.Display.V1.FormattedValue`, a namespace wildcard
//! (`Microsoft.Dynamics.CRM.*`), several of them comma-separated, `-` to
//! leave one out. The answer names what it applied in `Preference-Applied`.
//!
//! - option sets and booleans get their label (`statecode` 0 → "Active");
//! - dates get the user's local text, here en-US in UTC ("12/1/2026 10:47 PM");
//! - lookups get the related row's primary name, and with the CRM
//!   annotations its table (`lookuplogicalname`) and navigation property
//!   (`associatednavigationproperty`).
//!
//! Labels are those of the tables' reference pages (powerapps-docs
//! `reference/entities/flowmachine.md`, `flowmachinegroup.md`, `systemuser.md`).

use std::collections::HashMap;

use padconnect_core::{CredentialType, GroupType};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::column_types::AttributeType;
use super::prefer::Preferences;
use super::tables::Table;

pub const FORMATTED_VALUE: &str = "OData.Community.Display.V1.FormattedValue";
const LOOKUP_LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
const NAVIGATION_PROPERTY: &str = "Microsoft.Dynamics.CRM.associatednavigationproperty";
const INCLUDE_ANNOTATIONS: &str = "odata.include-annotations";

/// The annotation filter a request asked for, as it wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    filter: String,
}

impl Requested {
    /// The `odata.include-annotations` preference, if the request has one.
    pub fn asked(preferences: &Preferences) -> Option<Self> {
        preferences.value(INCLUDE_ANNOTATIONS).map(|filter| Self {
            filter: filter.to_owned(),
        })
    }

    /// `odata.include-annotations="..."` for `Preference-Applied`, the
    /// filter quoted again as it was sent.
    pub fn applied(&self) -> String {
        let quoted = self.filter.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{INCLUDE_ANNOTATIONS}=\"{quoted}\"")
    }

    /// Whether the filter takes `annotation`: the last matching term wins,
    /// as an exclusion after `*` leaves that one out.
    fn includes(&self, annotation: &str) -> bool {
        let mut included = false;
        for term in self.filter.split(',').map(str::trim) {
            let (exclude, pattern) = match term.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, term),
            };
            let matches = match pattern.strip_suffix('*') {
                Some(prefix) => annotation.starts_with(prefix),
                None => pattern == annotation,
            };
            if matches {
                included = !exclude;
            }
        }
        included
    }
}

/// The primary names lookups point at: system users' full names and
/// machine groups' names, by id.
#[derive(Default)]
pub struct Names {
    pub users: HashMap<Uuid, String>,
    pub groups: HashMap<Uuid, String>,
}

/// Adds to a projected row the annotations `requested` asks for, for the
/// columns it holds.
pub fn annotate(table: Table, row: &mut Value, requested: &Requested, names: &Names) {
    let Some(object) = row.as_object_mut() else {
        return;
    };
    let formatted = requested.includes(FORMATTED_VALUE);
    let lookups = requested.includes(LOOKUP_LOGICAL_NAME);
    let navigation = requested.includes(NAVIGATION_PROPERTY);
    let mut added = Vec::new();
    for (column, value) in object.iter() {
        if let Some((logical_name, property)) = lookup_target(table, column) {
            let Some(id) = value.as_str().and_then(|v| Uuid::try_parse(v).ok()) else {
                continue;
            };
            let names = match logical_name {
                "systemuser" => &names.users,
                _ => &names.groups,
            };
            if let (true, Some(name)) = (formatted, names.get(&id)) {
                added.push((format!("{column}@{FORMATTED_VALUE}"), json!(name)));
            }
            if navigation {
                added.push((format!("{column}@{NAVIGATION_PROPERTY}"), json!(property)));
            }
            if lookups {
                added.push((
                    format!("{column}@{LOOKUP_LOGICAL_NAME}"),
                    json!(logical_name),
                ));
            }
        } else if let (true, Some(text)) = (formatted, formatted_value(table, column, value)) {
            added.push((format!("{column}@{FORMATTED_VALUE}"), json!(text)));
        }
    }
    object.extend(added);
}

/// A lookup column's table and navigation property.
fn lookup_target(table: Table, column: &str) -> Option<(&'static str, &'static str)> {
    match (table, column) {
        (_, "_ownerid_value") => Some(("systemuser", "ownerid")),
        (_, "_owninguser_value") => Some(("systemuser", "owninguser")),
        (_, "_createdby_value") => Some(("systemuser", "createdby")),
        (_, "_modifiedby_value") => Some(("systemuser", "modifiedby")),
        (Table::Machines, "_flowmachinegroupid_value") => {
            Some(("flowmachinegroup", "FlowMachineGroupId"))
        }
        _ => None,
    }
}

fn formatted_value(table: Table, column: &str, value: &Value) -> Option<String> {
    if let Some(text) = value.as_str() {
        let dated = table.attribute_type(column) == AttributeType::DateTime;
        return dated.then(|| local_time(text)).flatten();
    }
    // A yes/no column's labels are its own (a solution's ismanaged reads
    // Managed or Unmanaged): only isdisabled's are known here.
    if let Some(flag) = value.as_bool() {
        return (column == "isdisabled").then(|| if flag { "Yes" } else { "No" }.to_owned());
    }
    let label = option_label(table, column, value.as_i64()?)?;
    Some(label.to_owned())
}

/// `flowgrouptype`'s options, from core's one list of them.
const GROUP_TYPES: [(i64, &str); 3] = {
    let [a, b, c] = GroupType::ALL;
    [
        (a.code(), a.label()),
        (b.code(), b.label()),
        (c.code(), c.label()),
    ]
};

/// `connectiontype`'s options, from core's one list of them.
const CREDENTIAL_TYPES: [(i64, &str); 5] = {
    let [a, b, c, d, e] = CredentialType::ALL;
    [
        (a.code(), a.label()),
        (b.code(), b.label()),
        (c.code(), c.label()),
        (d.code(), d.label()),
        (e.code(), e.label()),
    ]
};

/// A column's option set: its values and their labels (for `FormattedValue`
/// and for the `PicklistAttributeMetadata` the SDKs read).
pub fn options(table: Table, column: &str) -> Option<&'static [(i64, &'static str)]> {
    Some(match (table, column) {
        (Table::Machines | Table::MachineGroups, "statecode") => {
            &[(0, "Active"), (1, "Inactive"), (2, "Maintenance")]
        }
        (Table::Machines, "statuscode") => &[
            (1, "Active"),
            (2, "Inactive"),
            (3, "RequiresReconnection"),
            (4, "ManualMaintenance"),
            (5, "DrainMode"),
            (6, "ToDelete"),
            (7, "Temporary"),
            (8, "Error"),
            (9, "Disabled"),
            (10, "Provisioning"),
            (11, "RequiresGroupKey"),
            (12, "ProvisionedWithError"),
            (13, "HostedMachineOvercapacity"),
            (14, "HostedMachineOvercapacityDeleted"),
            (15, "HostedMachineOvercapacityDisabled"),
        ],
        (Table::MachineGroups, "statuscode") => &[
            (1, "Active"),
            (2, "Inactive"),
            (3, "ManualMaintenance"),
            (4, "KeyExpired"),
            (5, "HmgIslandMove"),
            (6, "Quarantined"),
            (7, "HmgCmkOperation"),
        ],
        (Table::MachineGroups, "flowgrouptype") => &GROUP_TYPES,
        (Table::Credentials, "connectiontype") => &CREDENTIAL_TYPES,
        (Table::Credentials, "credentialtype") => {
            &[(1, "SingleCredential"), (2, "ListOfCredentials")]
        }
        (Table::Credentials, "statecode") => &[(0, "Active"), (1, "Inactive")],
        (Table::Credentials, "statuscode") => &[(1, "Active"), (2, "Inactive")],
        (Table::SystemUsers, "accessmode") => &[
            (0, "Read-Write"),
            (1, "Administrative"),
            (2, "Read"),
            (3, "Support User"),
            (4, "Non-interactive"),
            (5, "Delegated Admin"),
        ],
        _ => return None,
    })
}

fn option_label(table: Table, column: &str, value: i64) -> Option<&'static str> {
    options(table, column)?
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, label)| *label)
}

/// An ISO time as Dataverse formats it for an en-US user in UTC.
fn local_time(iso: &str) -> Option<String> {
    let at = OffsetDateTime::parse(iso, &Rfc3339).ok()?;
    let (hour, half) = match at.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    Some(format!(
        "{}/{}/{} {hour}:{:02} {half}",
        u8::from(at.month()),
        at.day(),
        at.year(),
        at.minute()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn requested(filter: &str) -> Requested {
        let mut headers = HeaderMap::new();
        let value = format!("odata.maxpagesize=10, odata.include-annotations=\"{filter}\"");
        headers.insert("prefer", value.parse().unwrap());
        Requested::asked(&Preferences::of(&headers)).unwrap()
    }

    #[test]
    fn filters_take_names_wildcards_and_exclusions() {
        assert!(requested("*").includes(FORMATTED_VALUE));
        assert!(requested(FORMATTED_VALUE).includes(FORMATTED_VALUE));
        assert!(!requested(FORMATTED_VALUE).includes(LOOKUP_LOGICAL_NAME));
        let crm = requested("Microsoft.Dynamics.CRM.*");
        assert!(crm.includes(LOOKUP_LOGICAL_NAME) && !crm.includes(FORMATTED_VALUE));
        let most = requested("*,-Microsoft.Dynamics.CRM.lookuplogicalname");
        assert!(most.includes(FORMATTED_VALUE) && !most.includes(LOOKUP_LOGICAL_NAME));
        let two = requested(
            "OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname",
        );
        assert!(two.includes(FORMATTED_VALUE) && two.includes(LOOKUP_LOGICAL_NAME));
        assert_eq!(
            two.applied(),
            "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname\""
        );
        assert!(Requested::asked(&Preferences::of(&HeaderMap::new())).is_none());
        // Echoed as a quoted string that reads back as the filter it was.
        let odd = requested(r#"a\"b\\c"#);
        assert_eq!(odd.filter, r#"a"b\c"#);
        assert_eq!(odd.applied(), r#"odata.include-annotations="a\"b\\c""#);
    }

    #[test]
    fn times_read_as_an_en_us_user_in_utc_sees_them() {
        assert_eq!(
            local_time("2026-12-01T22:47:00Z").unwrap(),
            "12/1/2026 10:47 PM"
        );
        assert_eq!(
            local_time("2027-01-05T00:05:00Z").unwrap(),
            "1/5/2027 12:05 AM"
        );
        assert_eq!(
            local_time("2027-01-05T12:00:00Z").unwrap(),
            "1/5/2027 12:00 PM"
        );
        assert_eq!(local_time("not a time"), None);
    }
}
