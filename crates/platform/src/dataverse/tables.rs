//! The tables the seed touches (and `credential`, which a connection may
//! name), as the Web API shows their rows, and which rows a caller may read;
//! the solution tables are `solution_tables`'.

use serde_json::{Value, json};
use uuid::Uuid;

use super::desktop_runs;
use super::org_tables;
use super::served;
use super::solution_tables::SolutionTable;
use super::{DataverseCaller, DataverseError};
use crate::state::AppState;
use padconnect_domain::connections::vault;
use padconnect_domain::fleet;
use padconnect_domain::runs;
use padconnect_store::{
    Credential, Machine, MachineGroup, RecordStamp, SystemUser, SystemUserKind, Timestamp,
};

/// The most runs a `flowsessions` listing reads, newest first: Dataverse's
/// largest page. Older runs stay readable by id.
const MOST_LISTED_RUNS: i64 = 5_000;

/// The columns of a user-owned record that the fleet's tables show after
/// their own.
const OWNED_RECORD: [&str; 7] = [
    "versionnumber",
    "_ownerid_value",
    "_owninguser_value",
    "createdon",
    "modifiedon",
    "_createdby_value",
    "_modifiedby_value",
];

/// A table's own columns, then [`OWNED_RECORD`]'s; `ALL` is how many there
/// are in all (a wrong count does not compile).
const fn with_owned_record<const OWN: usize, const ALL: usize>(
    own: [&'static str; OWN],
) -> [&'static str; ALL] {
    assert!(ALL == OWN + OWNED_RECORD.len());
    let mut all = [""; ALL];
    let mut i = 0;
    while i < ALL {
        all[i] = if i < OWN {
            own[i]
        } else {
            OWNED_RECORD[i - OWN]
        };
        i += 1;
    }
    all
}

const MACHINE_GROUP_COLUMNS: [&str; 13] = with_owned_record([
    "flowmachinegroupid",
    "name",
    "description",
    "flowgrouptype",
    "statecode",
    "statuscode",
]);

const MACHINE_COLUMNS: [&str; 15] = with_owned_record([
    "flowmachineid",
    "name",
    "description",
    "_flowmachinegroupid_value",
    "agentversion",
    "lastheartbeatdate",
    "statecode",
    "statuscode",
]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    MachineGroups,
    Machines,
    SystemUsers,
    Credentials,
    /// Desktop flow runs (`desktop_runs`).
    FlowSessions,
    /// The environment's organization and its base currency (`org_tables`).
    Organizations,
    TransactionCurrencies,
    /// A table of solutions and what they bring (`solution_tables`).
    Solution(SolutionTable),
}

impl Table {
    /// The table of a served entity set (`served::ENTITY_SETS`, the one
    /// list): a table that is not there is not served.
    pub fn from_entity_set(name: &str) -> Option<Self> {
        let name = served::entity_set(name)?.name;
        match name {
            "flowmachinegroups" => Some(Self::MachineGroups),
            "flowmachines" => Some(Self::Machines),
            "systemusers" => Some(Self::SystemUsers),
            "credentials" => Some(Self::Credentials),
            "flowsessions" => Some(Self::FlowSessions),
            "organizations" => Some(Self::Organizations),
            "transactioncurrencies" => Some(Self::TransactionCurrencies),
            other => SolutionTable::from_entity_set(other).map(Self::Solution),
        }
    }

    pub fn entity_set(self) -> &'static str {
        match self {
            Self::MachineGroups => "flowmachinegroups",
            Self::Machines => "flowmachines",
            Self::SystemUsers => "systemusers",
            Self::Credentials => "credentials",
            Self::FlowSessions => "flowsessions",
            Self::Organizations => "organizations",
            Self::TransactionCurrencies => "transactioncurrencies",
            Self::Solution(table) => table.entity_set(),
        }
    }

    /// The writes the table takes (`POST`, `PATCH`, `DELETE`), from the one list.
    pub fn writes(self) -> &'static [&'static str] {
        served::entity_set(self.entity_set()).map_or(&[], |set| set.writes)
    }

    pub fn logical_name(self) -> &'static str {
        match self {
            Self::MachineGroups => "flowmachinegroup",
            Self::Machines => "flowmachine",
            Self::SystemUsers => "systemuser",
            Self::Credentials => "credential",
            Self::FlowSessions => "flowsession",
            Self::Organizations => "organization",
            Self::TransactionCurrencies => "transactioncurrency",
            Self::Solution(table) => table.logical_name(),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::MachineGroups => "flowmachinegroupid",
            Self::Machines => "flowmachineid",
            Self::SystemUsers => "systemuserid",
            Self::Credentials => "credentialid",
            Self::FlowSessions => "flowsessionid",
            Self::Organizations => "organizationid",
            Self::TransactionCurrencies => "transactioncurrencyid",
            Self::Solution(table) => table.key(),
        }
    }

    /// The navigation properties `$expand` may name.
    pub fn expandable(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Solution(table) => table.expandable(),
            _ => &[],
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::MachineGroups => &MACHINE_GROUP_COLUMNS,
            Self::Machines => &MACHINE_COLUMNS,
            Self::SystemUsers => &[
                "systemuserid",
                "fullname",
                "domainname",
                "applicationid",
                "azureactivedirectoryobjectid",
                "accessmode",
                "isdisabled",
                "createdon",
                "modifiedon",
                "versionnumber",
            ],
            // powerapps-docs `reference/entities/credential.md`; the
            // environment-variable lookups and CyberArk's columns are not
            // kept here.
            Self::Credentials => &[
                "credentialid",
                "name",
                "connectiontype",
                "credentialtype",
                "usagetype",
                "statecode",
                "statuscode",
                OWNED_RECORD[1],
                OWNED_RECORD[2],
            ],
            Self::FlowSessions => desktop_runs::COLUMNS,
            Self::Organizations => org_tables::ORGANIZATION_COLUMNS,
            Self::TransactionCurrencies => org_tables::CURRENCY_COLUMNS,
            Self::Solution(table) => table.columns(),
        }
    }

    /// The rows of the caller's environment that the caller may read.
    pub async fn readable_rows(
        self,
        state: &AppState,
        caller: &DataverseCaller,
    ) -> Result<Vec<Value>, DataverseError> {
        let env = &caller.member.environment.id;
        match self {
            Self::Solution(table) => table.readable_rows(caller.member.scope(&state.store)).await,
            Self::SystemUsers => Ok(rows(&state.store.system_users(env).await?, system_user_row)),
            Self::Credentials => Ok(rows(
                &vault::readable(&state.store, caller.member.actor()).await?,
                credential_row,
            )),
            Self::FlowSessions => Ok(rows(
                &runs::readable(caller.member.scope(&state.store), MOST_LISTED_RUNS).await?,
                desktop_runs::session_row,
            )),
            Self::Organizations => Ok(vec![org_tables::organization_row(
                &caller.member.environment,
            )]),
            Self::TransactionCurrencies => {
                Ok(vec![org_tables::currency_row(&caller.member.environment)])
            }
            Self::MachineGroups => Ok(rows(
                &fleet::readable_groups(&state.store, caller.member.actor()).await?,
                |(group, _)| group_row(group),
            )),
            Self::Machines => {
                let mut found = Vec::new();
                for (group, _) in
                    fleet::readable_groups(&state.store, caller.member.actor()).await?
                {
                    let machines = state.store.machines_in_group(group.id).await?;
                    found.extend(rows(&machines, machine_row));
                }
                Ok(found)
            }
        }
    }

    /// One row by key, or the error Dataverse gives: missing, or not readable.
    pub async fn row(
        self,
        state: &AppState,
        caller: &DataverseCaller,
        id: Uuid,
    ) -> Result<Value, DataverseError> {
        let env = caller.member.environment.id;
        let missing = || DataverseError::does_not_exist(self.logical_name(), id);
        match self {
            Self::Solution(table) => table.row(caller.member.scope(&state.store), id).await,
            Self::SystemUsers => {
                let user = state
                    .store
                    .system_user(id)
                    .await?
                    .filter(|u| u.environment_id == env);
                user.map(|u| system_user_row(&u)).ok_or_else(missing)
            }
            Self::MachineGroups => {
                let (group, _) = fleet::read_group(&state.store, caller.member.actor(), id).await?;
                Ok(group_row(&group))
            }
            Self::Machines => {
                let (machine, ..) =
                    fleet::read_machine(&state.store, caller.member.actor(), id).await?;
                Ok(machine_row(&machine))
            }
            Self::Credentials => {
                let credential = vault::read(&state.store, caller.member.actor(), id).await?;
                Ok(credential_row(&credential))
            }
            Self::Organizations | Self::TransactionCurrencies => {
                self.readable_row(state, caller, id).await
            }
            Self::FlowSessions => {
                let session = desktop_runs::read(state, caller, id).await?;
                Ok(desktop_runs::session_row(&session))
            }
        }
    }

    /// One row by key, found among the rows the caller may read: for the
    /// tables without a lookup of their own, or 0x80040217.
    async fn readable_row(
        self,
        state: &AppState,
        caller: &DataverseCaller,
        id: Uuid,
    ) -> Result<Value, DataverseError> {
        row_with_key(self, self.readable_rows(state, caller).await?, id)
    }
}

/// The row of `table` among `rows` whose key is `id`, or 0x80040217.
pub(super) fn row_with_key(
    table: Table,
    rows: Vec<Value>,
    id: Uuid,
) -> Result<Value, DataverseError> {
    let id_text = id.to_string();
    rows.into_iter()
        .find(|row| row[table.key()].as_str() == Some(id_text.as_str()))
        .ok_or_else(|| DataverseError::does_not_exist(table.logical_name(), id))
}

/// A machine group of the caller's environment, or 0x80040217.
pub async fn group_in(
    state: &AppState,
    caller: &DataverseCaller,
    id: Uuid,
) -> Result<MachineGroup, DataverseError> {
    Ok(fleet::find_group(&state.store, caller.member.actor(), id).await?)
}

/// A machine of the caller's environment and the group that holds its
/// rights, or 0x80040217 for the machine.
pub async fn machine_in(
    state: &AppState,
    caller: &DataverseCaller,
    id: Uuid,
) -> Result<(Machine, MachineGroup), DataverseError> {
    Ok(fleet::find_machine(&state.store, caller.member.actor(), id).await?)
}

/// Dataverse writes times to the second, in UTC.
pub(super) fn time(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    format!("{}Z", text.get(..19).unwrap_or(&text))
}

pub(super) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn group_row(g: &MachineGroup) -> Value {
    stamped(
        json!({
            "flowmachinegroupid": g.id,
            "name": g.name,
            "description": g.description,
            "flowgrouptype": g.flowgrouptype.code(),
            "statecode": g.statecode,
            "statuscode": g.statuscode,
        }),
        &g.stamp,
    )
}

fn machine_row(m: &Machine) -> Value {
    stamped(
        json!({
            "flowmachineid": m.id,
            "name": m.name,
            "description": m.description,
            "_flowmachinegroupid_value": m.group_id,
            "agentversion": m.agentversion,
            "lastheartbeatdate": m.lastheartbeatdate.map(time),
            "statecode": m.statecode,
            "statuscode": m.statuscode,
        }),
        &m.stamp,
    )
}

/// `row` with the system columns of its stamp (its etag among them), which
/// a group's row and a machine's show alike.
fn stamped(mut row: Value, s: &RecordStamp) -> Value {
    let stamp = json!({
        "@odata.etag": etag(s.versionnumber),
        "versionnumber": s.versionnumber,
        "_ownerid_value": s.owner_id,
        "_owninguser_value": s.owner_id,
        "createdon": time(s.created_on),
        "modifiedon": time(s.modified_on),
        "_createdby_value": s.created_by,
        "_modifiedby_value": s.modified_by,
    });
    if let (Some(columns), Value::Object(stamp)) = (row.as_object_mut(), stamp) {
        columns.extend(stamp);
    }
    row
}

fn system_user_row(u: &SystemUser) -> Value {
    let (application, object) = match u.kind {
        SystemUserKind::Application { client_id } => (Some(client_id), None),
        SystemUserKind::Person { object_id } => (None, Some(object_id)),
    };
    json!({
        "@odata.etag": etag(u.versionnumber),
        "systemuserid": u.id,
        "fullname": u.fullname,
        "domainname": u.domainname,
        "applicationid": application,
        "azureactivedirectoryobjectid": object,
        "accessmode": u.accessmode,
        "isdisabled": u.isdisabled,
        "createdon": time(u.created_on),
        "modifiedon": time(u.modified_on),
        "versionnumber": u.versionnumber,
    })
}

/// A credential's row. Its type of credential follows from where the
/// credentials come from (lists are `ListOfCredentials`, 2; the others
/// `SingleCredential`, 1); it serves connections (`usagetype` 280920000),
/// and is active (statecode 0, statuscode 1).
fn credential_row(c: &Credential) -> Value {
    use padconnect_core::CredentialType;
    let list = matches!(
        c.connectiontype,
        CredentialType::UsernamePasswordList | CredentialType::UsernamePasswordListWithGroupMapping
    );
    json!({
        "credentialid": c.id,
        "name": c.name,
        "connectiontype": c.connectiontype.code(),
        "credentialtype": if list { 2 } else { 1 },
        "usagetype": "280920000",
        "statecode": 0,
        "statuscode": 1,
        "_ownerid_value": c.owner_id,
        "_owninguser_value": c.owner_id,
    })
}

/// Each record as the Web API answers it.
pub(super) fn rows<T>(records: &[T], row: impl Fn(&T) -> Value) -> Vec<Value> {
    records.iter().map(row).collect()
}
