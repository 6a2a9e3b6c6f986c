//! Machine groups and machines (renamed, moved, deleted; a group's
//! password claimed by its first machine), and what is shared of them with
//! which rights. Reads on [`Store`], writes on [`Tx`].

use padconnect_core::{AccessRights, EnvironmentId};
use uuid::Uuid;

use super::rows::*;
use super::sql::{fetch_all, fetch_one, fetch_row, run, set_changed, texts_in};
use super::{Result, Store, Tx, TxInner, model::*};

/// The columns of a [`RecordStamp`], in `RecordStampRow`'s order: they end
/// both a group's and a machine's column lists.
macro_rules! record_stamp_columns {
    () => {
        "owner_id, created_on, created_by, modified_on, modified_by, versionnumber"
    };
}
macro_rules! machine_group_columns {
    () => {
        concat!(
            "id, environment_id, name, description, flowgrouptype, statecode, statuscode, \
     password_hash, ",
            record_stamp_columns!()
        )
    };
}
macro_rules! machine_columns {
    () => {
        concat!(
            "id, environment_id, group_id, name, description, agentversion, lastheartbeatdate, \
     statecode, statuscode, ",
            record_stamp_columns!()
        )
    };
}

/// `has_machines` and `has_online_machines` of the group whose id is
/// `$group` (a column or a parameter).
macro_rules! machine_presence_columns {
    ($group:literal) => {
        concat!(
            "CAST(CASE WHEN EXISTS (SELECT 1 FROM machines m WHERE m.group_id = ",
            $group,
            ") THEN 1 ELSE 0 END AS BIGINT) AS has_machines, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM machines m WHERE m.group_id = ",
            $group,
            " AND m.online = 1) THEN 1 ELSE 0 END AS BIGINT) AS has_online_machines"
        )
    };
}
pub(crate) use machine_presence_columns;

impl Store {
    pub async fn machine_group(&self, id: Uuid) -> Result<Option<MachineGroup>> {
        let sql = concat!(
            "SELECT ",
            machine_group_columns!(),
            " FROM machine_groups WHERE id = $1"
        );
        fetch_one!(self, MachineGroupRow, sql, text(id))
    }

    pub async fn machine_groups(&self, environment: &EnvironmentId) -> Result<Vec<MachineGroup>> {
        let sql = concat!(
            "SELECT ",
            machine_group_columns!(),
            " FROM machine_groups WHERE environment_id = $1 ORDER BY name, id"
        );
        fetch_all!(self, MachineGroupRow, sql, environment.to_string())
    }

    pub async fn machine(&self, id: Uuid) -> Result<Option<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE id = $1"
        );
        fetch_one!(self, MachineRow, sql, text(id))
    }

    pub async fn machines_in_group(&self, group_id: Uuid) -> Result<Vec<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE group_id = $1 ORDER BY name, id"
        );
        fetch_all!(self, MachineRow, sql, text(group_id))
    }

    /// The Windows accounts declared on the machines of a group, each with
    /// its machine's name.
    pub async fn accounts_in_group(&self, group_id: Uuid) -> Result<Vec<(String, MachineAccount)>> {
        fetch_all!(
            self,
            GroupAccountRow,
            "SELECT m.name AS machine_name, a.machine_id, a.username, a.password_hash, a.version FROM machine_accounts a \
             JOIN machines m ON m.id = a.machine_id WHERE m.group_id = $1 ORDER BY m.name, a.username_key",
            text(group_id)
        )
    }

    /// What a connection's writer needs of group `id`, in one read: the
    /// group, the rights `principal` was given on it by sharing, whether it
    /// has machines and online ones, and whether they declare accounts. A
    /// connection PUT checks the first two, reads the accounts only where
    /// there are some, and answers with a status made of the group and its
    /// machines.
    pub async fn target_for_writer(
        &self,
        id: Uuid,
        principal: Uuid,
    ) -> Result<Option<WriterTarget>> {
        let sql = concat!(
            "SELECT ",
            machine_group_columns!(),
            ", COALESCE((SELECT s.access_mask FROM shares s WHERE s.record_type = $3 \
             AND s.record_id = machine_groups.id AND s.principal_id = $2), 0) AS shared_rights, ",
            machine_presence_columns!("machine_groups.id"),
            ", CAST(CASE WHEN EXISTS (SELECT 1 FROM machines m JOIN machine_accounts a \
             ON a.machine_id = m.id WHERE m.group_id = machine_groups.id) THEN 1 ELSE 0 END \
             AS BIGINT) AS declares_accounts \
             FROM machine_groups WHERE id = $1"
        );
        let record_type = RecordRef::MachineGroup(id).logical_name();
        fetch_one!(
            self,
            WriterTargetRow,
            sql,
            text(id),
            text(principal),
            record_type
        )
    }

    /// A machine of the environment by name, any case (machine names are
    /// Windows computer names, which ignore case).
    pub async fn machine_named(
        &self,
        environment: &EnvironmentId,
        name: &str,
    ) -> Result<Option<Machine>> {
        let sql = concat!(
            "SELECT ",
            machine_columns!(),
            " FROM machines WHERE environment_id = $1 AND LOWER(name) = LOWER($2) LIMIT 1"
        );
        fetch_one!(
            self,
            MachineRow,
            sql,
            environment.to_string(),
            name.to_owned()
        )
    }

    /// Who a record is shared with, and with which rights.
    pub async fn shares_of(&self, record: RecordRef) -> Result<Vec<Share>> {
        fetch_all!(
            self,
            ShareRow,
            "SELECT record_type, record_id, principal_id, access_mask FROM shares \
             WHERE record_type = $1 AND record_id = $2 ORDER BY principal_id",
            record.logical_name(),
            text(record.id())
        )
    }

    /// The rights a principal holds on a record by sharing (none if not shared).
    pub async fn share_rights(
        &self,
        record: RecordRef,
        principal_id: Uuid,
    ) -> Result<AccessRights> {
        let row: Option<(i64,)> = fetch_row!(
            self,
            (i64,),
            "SELECT access_mask FROM shares WHERE record_type = $1 AND record_id = $2 AND principal_id = $3",
            record.logical_name(),
            text(record.id()),
            text(principal_id)
        )?;
        Ok(row
            .and_then(|(mask,)| u32::try_from(mask).ok())
            .map_or(AccessRights::empty(), AccessRights::from_bits_truncate))
    }
}

impl Tx {
    /// Inserts the group, or updates what the caller owns of it (name,
    /// description, type, state, owner), bumping its version only when one
    /// of them changed. The password and creation columns are kept.
    pub async fn upsert_machine_group(&mut self, group: &MachineGroup) -> Result<()> {
        run!(
            self,
            concat!(
                "INSERT INTO machine_groups (id, environment_id, name, description, flowgrouptype, statecode, statuscode, \
                 password_hash, owner_id, created_on, created_by, modified_on, modified_by, versionnumber) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) \
                 ON CONFLICT (id) DO UPDATE SET ",
                set_changed!(machine_groups: name, description, flowgrouptype, statecode, statuscode, owner_id)
            ),
            text(group.id),
            group.environment_id.to_string(),
            group.name.clone(),
            group.description.clone(),
            group.flowgrouptype.code(),
            group.statecode,
            group.statuscode,
            group.password_hash.clone(),
            text(group.stamp.owner_id),
            group.stamp.created_on.0,
            text(group.stamp.created_by),
            group.stamp.modified_on.0,
            text(group.stamp.modified_by)
        )?;
        Ok(())
    }

    /// Inserts the machine, or updates its group, name, description and owner,
    /// bumping its version only when one of them changed.
    pub async fn upsert_machine(&mut self, machine: &Machine) -> Result<()> {
        run!(
            self,
            concat!(
                "INSERT INTO machines (id, environment_id, group_id, name, description, agentversion, lastheartbeatdate, \
                 statecode, statuscode, owner_id, created_on, created_by, modified_on, modified_by, versionnumber) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) \
                 ON CONFLICT (id) DO UPDATE SET ",
                set_changed!(machines: group_id, name, description, owner_id)
            ),
            text(machine.id),
            machine.environment_id.to_string(),
            text(machine.group_id),
            machine.name.clone(),
            machine.description.clone(),
            machine.agentversion.clone(),
            machine.lastheartbeatdate.map(|t| t.0),
            machine.statecode,
            machine.statuscode,
            text(machine.stamp.owner_id),
            machine.stamp.created_on.0,
            text(machine.stamp.created_by),
            machine.stamp.modified_on.0,
            text(machine.stamp.modified_by)
        )?;
        Ok(())
    }

    /// Deletes a group that holds no machine, and what was shared of it
    /// (Dataverse restricts deleting a group with machines); `false` when
    /// it is gone or still holds machines. The emptiness is checked by the
    /// DELETE itself, so a machine joining meanwhile keeps the group.
    pub async fn delete_machine_group(&mut self, id: Uuid) -> Result<bool> {
        let deleted = run!(
            self,
            "DELETE FROM machine_groups WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM machines WHERE group_id = $1)",
            text(id)
        )?;
        if deleted == 1 {
            run!(
                self,
                "DELETE FROM shares WHERE record_type = 'flowmachinegroup' AND record_id = $1",
                text(id)
            )?;
        }
        Ok(deleted == 1)
    }

    /// Renames a group or a machine if it is still at the version read,
    /// bumping it; `false` when the
    /// row changed or went away since it was read.
    pub async fn rename(
        &mut self,
        RowVersion { table, id, version }: RowVersion,
        name: &str,
        description: &str,
        by: Uuid,
        at: Timestamp,
    ) -> Result<bool> {
        let sql = match table {
            RenameTable::MachineGroups => {
                "UPDATE machine_groups SET name = $3, description = $4, modified_by = $5, modified_on = $6, \
                 versionnumber = versionnumber + 1 WHERE id = $1 AND versionnumber = $2"
            }
            RenameTable::Machines => {
                "UPDATE machines SET name = $3, description = $4, modified_by = $5, modified_on = $6, \
                 versionnumber = versionnumber + 1 WHERE id = $1 AND versionnumber = $2"
            }
        };
        Ok(run!(
            self,
            sql,
            text(id),
            version,
            name.to_owned(),
            description.to_owned(),
            text(by),
            at.0
        )? == 1)
    }

    /// Sets a group's password unless one is set already: the first machine
    /// to join a group chooses it. `false` when another one was first.
    pub async fn claim_group_password(&mut self, group_id: Uuid, hash: &str) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE machine_groups SET password_hash = $2 WHERE id = $1 AND password_hash IS NULL",
            text(group_id),
            hash.to_owned()
        )? == 1)
    }

    /// Moves a machine from one group into another unless the target already
    /// holds `limit` machines or the machine is no longer in `from`; `false`
    /// then. The count is taken by the same
    /// statement, so concurrent joins cannot overfill a group on SQLite's
    /// single writer.
    pub async fn move_machine(
        &mut self,
        machine_id: Uuid,
        from: Uuid,
        to: Uuid,
        limit: usize,
        by: Uuid,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(run!(
            self,
            "UPDATE machines SET group_id = $2, modified_by = $3, modified_on = $4, \
             versionnumber = versionnumber + 1 \
             WHERE id = $1 AND group_id = $6 AND (SELECT COUNT(*) FROM machines WHERE group_id = $2) < $5",
            text(machine_id),
            text(to),
            text(by),
            at.0,
            limit as i64,
            text(from)
        )? == 1)
    }

    pub async fn delete_machine(&mut self, id: Uuid) -> Result<bool> {
        run!(
            self,
            "DELETE FROM machine_accounts WHERE machine_id = $1",
            text(id)
        )?;
        Ok(run!(self, "DELETE FROM machines WHERE id = $1", text(id))? == 1)
    }

    /// Makes `accounts` the machine's whole list: the world file is its
    /// source. An account kept with its password keeps its bad sign-ins
    /// and lockout, so a restart does not unlock it; a new password
    /// (a new version) unlocks it, as an administrator's reset does.
    pub async fn set_machine_accounts(
        &mut self,
        machine_id: Uuid,
        accounts: &[MachineAccount],
    ) -> Result<()> {
        let keys: Vec<String> = accounts
            .iter()
            .map(|a| MachineAccount::key(&a.username))
            .collect();
        let stored: Vec<(String,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT username_key FROM machine_accounts WHERE machine_id = $1",
        )
        .bind(text(machine_id))
        .fetch_all(&mut *conn)
        .await)?;
        for (key,) in stored.iter().filter(|(key,)| !keys.contains(key)) {
            run!(
                self,
                "DELETE FROM machine_accounts WHERE machine_id = $1 AND username_key = $2",
                text(machine_id),
                key.clone()
            )?;
        }
        for account in accounts {
            run!(
                self,
                "INSERT INTO machine_accounts (machine_id, username, username_key, password_hash, version) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (machine_id, username_key) DO UPDATE SET \
                 username = excluded.username, password_hash = excluded.password_hash, version = excluded.version, \
                 failed_logons = CASE WHEN machine_accounts.version = excluded.version THEN machine_accounts.failed_logons ELSE 0 END, \
                 locked_until = CASE WHEN machine_accounts.version = excluded.version THEN machine_accounts.locked_until ELSE NULL END",
                text(machine_id),
                account.username.clone(),
                MachineAccount::key(&account.username),
                account.password_hash.clone(),
                account.version
            )?;
        }
        Ok(())
    }

    /// Gives an account a new password (its Argon2 hash), moving its
    /// version on and unlocking it, as an administrator's reset on the
    /// machine does; `false` when the machine has no such account.
    pub async fn set_account_password(
        &mut self,
        machine_id: Uuid,
        username: &str,
        password_hash: &str,
    ) -> Result<bool> {
        let changed = run!(
            self,
            "UPDATE machine_accounts SET password_hash = $3, version = version + 1, failed_logons = 0, \
             locked_until = NULL WHERE machine_id = $1 AND username_key = $2",
            text(machine_id),
            MachineAccount::key(username),
            password_hash.to_owned()
        )?;
        Ok(changed == 1)
    }

    /// Adds `share.rights` to what the principal holds on the record, in
    /// one statement, so two grants at once both count (a read, then a
    /// write of the sum, would lose one). The share is the caller's from
    /// then on, not the world file's.
    pub async fn grant_share(&mut self, share: &Share) -> Result<()> {
        if share.rights.is_empty() {
            return Ok(());
        }
        run!(
            self,
            "INSERT INTO shares (record_type, record_id, principal_id, access_mask) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (record_type, record_id, principal_id) \
             DO UPDATE SET access_mask = shares.access_mask | excluded.access_mask, from_world = FALSE",
            share.record.logical_name(),
            text(share.record.id()),
            text(share.principal_id),
            i64::from(share.rights.bits())
        )?;
        Ok(())
    }

    /// Sets the rights a principal holds on a record by sharing, as a
    /// caller of the APIs does; no rights removes the share.
    pub async fn set_share(&mut self, share: &Share) -> Result<()> {
        self.put_share(share, false).await
    }

    /// [`Tx::set_share`] for a share the world file declares.
    pub async fn set_world_share(&mut self, share: &Share) -> Result<()> {
        self.put_share(share, true).await
    }

    /// Removes the shares of `record` that the world file declared and no
    /// longer does (its principals not in `keep`); the callers' own stay.
    pub async fn retain_world_shares(&mut self, record: RecordRef, keep: &[Uuid]) -> Result<()> {
        let stored = texts_in!(
            self,
            "SELECT principal_id FROM shares WHERE record_type = $1 AND record_id = $2 AND from_world",
            record.logical_name(),
            text(record.id())
        );
        for principal in not_kept(stored, keep)? {
            run!(
                self,
                "DELETE FROM shares WHERE record_type = $1 AND record_id = $2 AND principal_id = $3",
                record.logical_name(),
                text(record.id()),
                principal
            )?;
        }
        Ok(())
    }

    async fn put_share(&mut self, share: &Share, from_world: bool) -> Result<()> {
        if share.rights.is_empty() {
            run!(
                self,
                "DELETE FROM shares WHERE record_type = $1 AND record_id = $2 AND principal_id = $3",
                share.record.logical_name(),
                text(share.record.id()),
                text(share.principal_id)
            )?;
        } else {
            run!(
                self,
                "INSERT INTO shares (record_type, record_id, principal_id, access_mask, from_world) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (record_type, record_id, principal_id) DO UPDATE SET access_mask = excluded.access_mask, from_world = excluded.from_world",
                share.record.logical_name(),
                text(share.record.id()),
                text(share.principal_id),
                i64::from(share.rights.bits()),
                from_world
            )?;
        }
        Ok(())
    }
}
