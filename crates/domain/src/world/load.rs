//! Writing a validated world into the store, idempotently and atomically.

use std::collections::BTreeMap;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use uuid::Uuid;

use super::{
    PrincipalRef, World, WorldAccount, WorldApp, WorldCredential, WorldEnvironment, WorldGroup,
    WorldTenant, WorldUser,
};
use crate::encoding::hex;
use crate::fleet::{group_record, machine_record};
use crate::keyring::KeyRing;
use crate::secrets;
use crate::system_users;
use padconnect_store::*;

/// What a load wrote, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub tenants: usize,
    pub apps: usize,
    pub users: usize,
    pub environments: usize,
    pub machine_groups: usize,
    pub machines: usize,
}

/// "1 tenant, 2 apps, 0 users, ...": what a log line or a banner says.
impl std::fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts = [
            (self.tenants, "tenant"),
            (self.apps, "app"),
            (self.users, "user"),
            (self.environments, "environment"),
            (self.machine_groups, "machine group"),
            (self.machines, "machine"),
        ];
        let parts: Vec<String> = counts
            .iter()
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Writes `world` in one transaction. Passwords keep their stored hash when
/// it still matches, so a reload changes nothing; client secrets are hashed
/// under `keyring`'s active key.
pub async fn load_world(store: &Store, keyring: &KeyRing, world: &World) -> Result<LoadSummary> {
    let mut summary = LoadSummary::default();
    let mut tx = store.begin().await?;
    for tenant in &world.tenants {
        load_tenant(store, keyring, &mut tx, tenant, &mut summary).await?;
    }
    for tenant_id in tx.tenant_ids().await? {
        if !world.tenants.iter().any(|t| t.id == tenant_id) {
            revoke_tenant(store, &mut tx, tenant_id).await?;
        }
    }
    tx.commit().await?;
    Ok(summary)
}

async fn load_tenant(
    store: &Store,
    keyring: &KeyRing,
    tx: &mut Tx,
    t: &WorldTenant,
    summary: &mut LoadSummary,
) -> Result<()> {
    tx.upsert_tenant(&Tenant {
        id: t.id,
        domain: t.domain.clone(),
    })
    .await?;
    for app in &t.apps {
        load_app(tx, keyring, t.id, app).await?;
    }
    for client_id in tx.app_ids(t.id).await? {
        if !t.apps.iter().any(|a| a.client_id == client_id) {
            tx.delete_app(t.id, client_id).await?;
        }
    }
    for user in &t.users {
        let password_hash = kept_password_hash(store, t.id, user).await?;
        tx.upsert_user(&User {
            tenant_id: t.id,
            object_id: user.object_id,
            upn: user.upn.clone(),
            display_name: user.display_name.clone(),
            password_hash,
        })
        .await?;
    }
    for admin in &t.admins {
        tx.add_tenant_admin(t.id, admin).await?;
    }
    for object_id in tx.user_ids(t.id).await? {
        if !t.users.iter().any(|u| u.object_id == object_id) {
            tx.delete_user(t.id, object_id).await?;
        }
    }
    // What the world no longer lists is taken away: it is their only source.
    tx.retain_tenant_admins(t.id, &t.admins).await?;
    for env in &t.environments {
        load_environment(store, tx, t, env, summary).await?;
    }
    for s in &t.subscriptions {
        tx.upsert_subscription(&Subscription {
            tenant_id: t.id,
            id: s.id,
            display_name: s.display_name.clone(),
            state: s.state.clone(),
        })
        .await?;
    }
    let subscriptions: Vec<Uuid> = t.subscriptions.iter().map(|s| s.id).collect();
    tx.retain_subscriptions(t.id, &subscriptions).await?;
    summary.tenants += 1;
    summary.apps += t.apps.len();
    summary.users += t.users.len();
    Ok(())
}

async fn load_app(tx: &mut Tx, keyring: &KeyRing, tenant_id: Uuid, app: &WorldApp) -> Result<()> {
    tx.upsert_app(&App {
        tenant_id,
        client_id: app.client_id,
        object_id: app.object_id,
        display_name: app.display_name.clone(),
        public_client: app.public_client,
    })
    .await?;
    // Each secret rehashed under the active key; every other hash goes,
    // its older hashes and the secrets the world no longer lists alike.
    let mut kept = Vec::new();
    for secret in &app.secrets {
        let stored = AppSecret {
            hash: secrets::hash_client_secret(keyring, &secret.value),
            hint: secrets::secret_hint(&secret.value),
            expires_at: secret.expires,
        };
        tx.put_app_secret(tenant_id, app.client_id, &stored).await?;
        kept.push(stored.hash);
    }
    for hash in tx.app_secret_hashes(tenant_id, app.client_id).await? {
        if !kept.contains(&hash) && secrets::world_may_remove_secret_hash(keyring, &hash) {
            tx.delete_app_secret(tenant_id, app.client_id, &hash)
                .await?;
        }
    }
    let mut thumbprints = Vec::new();
    for der in &app.certificates {
        let cert = AppCertificate {
            thumbprint_sha256: hex(digest(&SHA256, der).as_ref()),
            thumbprint_sha1: hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref()),
            der: der.clone(),
        };
        tx.put_app_certificate(tenant_id, app.client_id, &cert)
            .await?;
        thumbprints.push(cert.thumbprint_sha256);
    }
    tx.retain_app_certificates(tenant_id, app.client_id, &thumbprints)
        .await?;
    tx.set_federated_credentials(tenant_id, app.client_id, &app.federated_credentials)
        .await?;
    Ok(())
}

/// A machine's account as stored: its hash and version kept while the
/// world's password still matches, else a new hash and the next version
/// (so connections written with the old password say so).
fn kept_account(stored: &[MachineAccount], machine_id: Uuid, a: &WorldAccount) -> MachineAccount {
    let key = MachineAccount::key(&a.username);
    let existing = stored
        .iter()
        .find(|s| s.machine_id == machine_id && MachineAccount::key(&s.username) == key);
    let (password_hash, version) = match existing {
        Some(s) if secrets::password_matches(&a.password, &s.password_hash) => {
            (s.password_hash.clone(), s.version)
        }
        Some(s) => (secrets::hash_password(&a.password), s.version + 1),
        None => (secrets::hash_password(&a.password), 1),
    };
    MachineAccount {
        machine_id,
        username: a.username.clone(),
        password_hash,
        version,
    }
}

/// The stored hash if the world's password still matches it, else a new one.
async fn kept_password_hash(store: &Store, tenant_id: Uuid, user: &WorldUser) -> Result<String> {
    let existing = store.user_by_upn(tenant_id, &user.upn).await?;
    Ok(match existing {
        Some(u)
            if u.object_id == user.object_id
                && secrets::password_matches(&user.password, &u.password_hash) =>
        {
            u.password_hash
        }
        _ => secrets::hash_password(&user.password),
    })
}

async fn load_environment(
    store: &Store,
    tx: &mut Tx,
    t: &WorldTenant,
    env: &WorldEnvironment,
    summary: &mut LoadSummary,
) -> Result<()> {
    let ready_at = env.ready_after_seconds.map(|secs| {
        store
            .now()
            .plus_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
    });
    tx.upsert_environment(&Environment {
        id: env.id,
        tenant_id: t.id,
        display_name: env.display_name.clone(),
        org: env.org.clone(),
        ready_at,
        import_seconds: env.import_seconds.unwrap_or_default(),
    })
    .await?;
    let now = store.now();
    let mut members: BTreeMap<PrincipalRef, Uuid> = BTreeMap::new();
    for client_id in &env.application_users {
        // Validation made every application user an app of the tenant.
        let Some(app) = t.apps.iter().find(|a| a.client_id == *client_id) else {
            continue;
        };
        let row =
            system_users::application_user(env.id, &env.org, app.client_id, &app.display_name, now);
        members.insert(
            PrincipalRef::App(*client_id),
            tx.upsert_system_user(&row).await?,
        );
    }
    for upn in &env.makers {
        // Validation made every maker a user of the tenant.
        let Some(user) = t.users.iter().find(|u| &u.upn == upn) else {
            continue;
        };
        let row = maker(env, user, now);
        members.insert(
            PrincipalRef::User(upn.clone()),
            tx.upsert_system_user(&row).await?,
        );
    }
    let declared: Vec<Uuid> = members.values().copied().collect();
    tx.disable_world_system_users(&env.id, &declared).await?;
    for group in &env.machine_groups {
        load_group(store, tx, env, group, &members, now).await?;
        summary.machine_groups += usize::from(!group.hidden);
        summary.machines += group.machines.len();
    }
    for credential in &env.credentials {
        load_credential(tx, env, credential, &members).await?;
    }
    summary.environments += 1;
    Ok(())
}

fn maker(env: &WorldEnvironment, user: &WorldUser, now: Timestamp) -> SystemUser {
    SystemUser {
        id: super::derived_id(&[
            "systemuser",
            &env.id.to_string(),
            &user.object_id.to_string(),
        ]),
        environment_id: env.id,
        kind: SystemUserKind::Person {
            object_id: user.object_id,
        },
        fullname: user.display_name.clone(),
        domainname: user.upn.clone(),
        accessmode: ACCESS_MODE_READ_WRITE,
        isdisabled: false,
        maker: true,
        created_on: now,
        modified_on: now,
        versionnumber: 1,
    }
}

async fn load_credential(
    tx: &mut Tx,
    env: &WorldEnvironment,
    c: &WorldCredential,
    members: &BTreeMap<PrincipalRef, Uuid>,
) -> Result<()> {
    tx.upsert_credential(&Credential {
        id: c.id,
        environment_id: env.id,
        name: c.name.clone(),
        connectiontype: c.kind,
        owner_id: member(members, &c.owner)?,
    })
    .await?;
    load_shares(tx, RecordRef::Credential(c.id), &c.shared_with, members).await?;
    Ok(())
}

/// The systemuser loaded for `principal`. Validation made every owner and
/// sharee an application user or maker of the environment, so a miss is
/// a fault of the loader, answered as an error rather than a panic.
fn member(members: &BTreeMap<PrincipalRef, Uuid>, principal: &PrincipalRef) -> Result<Uuid> {
    members.get(principal).copied().ok_or_else(|| {
        StoreError::Corrupt(format!(
            "the world names {principal:?}, who is no application user or maker of the environment"
        ))
    })
}

/// The shares the world declares on `record`; those it declared before and
/// no longer does go, the ones callers made through the APIs stay.
async fn load_shares(
    tx: &mut Tx,
    record: RecordRef,
    shared_with: &[(PrincipalRef, padconnect_core::ShareRole)],
    members: &BTreeMap<PrincipalRef, Uuid>,
) -> Result<()> {
    let mut principals = Vec::new();
    for (principal, role) in shared_with {
        let share = Share {
            record,
            principal_id: member(members, principal)?,
            rights: role.rights(),
        };
        tx.set_world_share(&share).await?;
        principals.push(share.principal_id);
    }
    tx.retain_world_shares(record, &principals).await
}

/// A tenant the world no longer lists: nobody of it signs in any more (its
/// apps with their credentials, its users, administrators and
/// subscriptions go, and the systemusers the world gave it are disabled);
/// its environments keep what callers made in them.
async fn revoke_tenant(store: &Store, tx: &mut Tx, tenant_id: Uuid) -> Result<()> {
    for client_id in tx.app_ids(tenant_id).await? {
        tx.delete_app(tenant_id, client_id).await?;
    }
    for object_id in tx.user_ids(tenant_id).await? {
        tx.delete_user(tenant_id, object_id).await?;
    }
    tx.retain_tenant_admins(tenant_id, &[]).await?;
    tx.retain_subscriptions(tenant_id, &[]).await?;
    for environment in store.environments(tenant_id).await? {
        tx.disable_world_system_users(&environment.id, &[]).await?;
    }
    Ok(())
}

async fn load_group(
    store: &Store,
    tx: &mut Tx,
    env: &WorldEnvironment,
    g: &WorldGroup,
    members: &BTreeMap<PrincipalRef, Uuid>,
    now: Timestamp,
) -> Result<()> {
    let owner_id = member(members, &g.owner)?;
    let kind = match g.hidden {
        true => GroupType::Default,
        false => GroupType::Standard,
    };
    let columns = (g.name.clone(), g.description.clone());
    let group = group_record(g.id, env.id, owner_id, columns, kind, now);
    tx.upsert_machine_group(&group).await?;
    let stored: Vec<MachineAccount> = store
        .accounts_in_group(g.id)
        .await?
        .into_iter()
        .map(|(_, account)| account)
        .collect();
    for m in &g.machines {
        let columns = (m.name.clone(), m.description.clone());
        tx.upsert_machine(&machine_record(m.id, &group, columns, now))
            .await?;
        let accounts: Vec<MachineAccount> = m
            .accounts
            .iter()
            .map(|a| kept_account(&stored, m.id, a))
            .collect();
        tx.set_machine_accounts(m.id, &accounts).await?;
        for a in &m.accounts {
            tx.set_account_session(m.id, &a.username, a.can_log_on, a.signed_in)
                .await?;
        }
        tx.set_machine_runtime(m.id, &m.runtime).await?;
    }
    load_shares(tx, RecordRef::MachineGroup(g.id), &g.shared_with, members).await?;
    Ok(())
}
