//! The store's conformance suite: every test runs on each backend.

use padconnect_core::desktop_runs::SessionStatus;
use padconnect_core::{
    AccessRights, ConnectionId, ConnectorName, EnvironmentId, ShareRole, TestClock,
};
use padconnect_store::*;
use serde_json::json;
use uuid::Uuid;

use crate::support::backends;

const TENANT: Uuid = Uuid::from_u128(0x8a235459_3d2c_415d_8c1e_e2fe133509ad);
const CLIENT: Uuid = Uuid::from_u128(0x5f0e9a1c_6b7d_4c1e_9f3a_2b8c7d6e5f40);
const OBJECT: Uuid = Uuid::from_u128(0x0c1d2e3f_4a5b_4c6d_8e7f_9a0b1c2d3e4f);
const GROUP: Uuid = Uuid::from_u128(0xa4f1c3d2_0b9e_4f8a_9c7d_6e5f4a3b2c1d);

fn env() -> EnvironmentId {
    "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap()
}

fn system_user(id: u128, kind: SystemUserKind, name: &str) -> SystemUser {
    SystemUser {
        id: Uuid::from_u128(id),
        environment_id: env(),
        kind,
        fullname: name.into(),
        domainname: format!("{name}@contoso.onmicrosoft.com"),
        accessmode: ACCESS_MODE_NON_INTERACTIVE,
        isdisabled: false,
        maker: true,
        created_on: Timestamp(1_700_000_000_000_000),
        modified_on: Timestamp(1_700_000_000_000_000),
        versionnumber: 1,
    }
}

fn group(owner: Uuid, name: &str) -> MachineGroup {
    let at = Timestamp(1_700_000_000_123_456);
    MachineGroup {
        id: GROUP,
        environment_id: env(),
        name: name.into(),
        description: "bots".into(),
        flowgrouptype: GroupType::Standard,
        statecode: 0,
        statuscode: 1,
        password_hash: None,
        stamp: RecordStamp::new(owner, at),
    }
}

fn connection(id: ConnectionId, name: &str) -> Connection {
    Connection {
        environment_id: env(),
        id,
        connector: ConnectorName::uiflow(),
        display_name: name.into(),
        parameter_set: padconnect_core::ParameterSet::AzureRelay,
        parameter_values: json!({"username": "CONTOSO\\bot", "targetId": GROUP.to_string()}),
        sealed_secrets: vec![1, 2, 3, 0, 255],
        target_group_id: Some(GROUP),
        credential_id: None,
        created_by: Principal {
            id: OBJECT,
            kind: PrincipalType::ServicePrincipal,
            display_name: "deploy-pipeline".into(),
        },
        created_at: Timestamp(1_700_000_000_000_001),
        modified_at: Timestamp(1_700_000_000_000_001),
    }
}

/// A tenant with one app and one environment, committed.
async fn seed(store: &Store) -> Uuid {
    let mut tx = store.begin().await.unwrap();
    tx.upsert_tenant(&Tenant {
        id: TENANT,
        domain: "Contoso.onmicrosoft.com".into(),
    })
    .await
    .unwrap();
    tx.upsert_app(&App {
        tenant_id: TENANT,
        client_id: CLIENT,
        object_id: OBJECT,
        display_name: "deploy-pipeline".into(),
        public_client: false,
    })
    .await
    .unwrap();
    tx.upsert_environment(&Environment {
        id: env(),
        tenant_id: TENANT,
        display_name: "Prod".into(),
        org: "Contoso".into(),
        ready_at: None,
        import_seconds: 0,
    })
    .await
    .unwrap();
    let owner = tx
        .upsert_system_user(&system_user(
            1,
            SystemUserKind::Application { client_id: CLIENT },
            "deploy-pipeline",
        ))
        .await
        .unwrap();
    tx.upsert_machine_group(&group(owner, "Finance bots"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    owner
}

async fn each(test: impl AsyncFn(&Store)) {
    for backend in backends().await {
        backend.store.ping().await.expect("the database answers");
        test(&backend.store).await;
        backend.finish().await;
    }
}

#[tokio::test]
async fn tenants_apps_and_credentials_round_trip() {
    each(async |store| {
        seed(store).await;
        let tenant = store
            .tenant_by_domain("CONTOSO.onmicrosoft.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            tenant,
            Tenant {
                id: TENANT,
                domain: "contoso.onmicrosoft.com".into()
            }
        );
        assert_eq!(store.tenant(TENANT).await.unwrap(), Some(tenant));
        assert_eq!(store.tenant(Uuid::nil()).await.unwrap(), None);
        let app = store.app(TENANT, CLIENT).await.unwrap().unwrap();
        assert_eq!(app.object_id, OBJECT);
        assert_eq!(store.apps(TENANT).await.unwrap(), vec![app]);

        let secret = AppSecret {
            hash: vec![7; 32],
            hint: "exa".into(),
            expires_at: Some(Timestamp(5)),
        };
        let cert = AppCertificate {
            thumbprint_sha256: "ab".into(),
            thumbprint_sha1: "cd".into(),
            der: vec![0x30, 0x82],
        };
        let user = User {
            tenant_id: TENANT,
            object_id: Uuid::from_u128(9),
            upn: "Admin@Contoso.onmicrosoft.com".into(),
            display_name: "Admin".into(),
            password_hash: "$argon2id$x".into(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.put_app_secret(TENANT, CLIENT, &secret).await.unwrap();
        tx.put_app_secret(
            TENANT,
            CLIENT,
            &AppSecret {
                expires_at: None,
                ..secret.clone()
            },
        )
        .await
        .unwrap();
        tx.put_app_certificate(TENANT, CLIENT, &cert).await.unwrap();
        tx.put_app_certificate(TENANT, CLIENT, &cert).await.unwrap();
        tx.upsert_user(&user).await.unwrap();
        tx.add_tenant_admin(TENANT, "Admin@Contoso.onmicrosoft.com")
            .await
            .unwrap();
        tx.add_tenant_admin(TENANT, "admin@contoso.onmicrosoft.com")
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            store.app_secrets(TENANT, CLIENT).await.unwrap(),
            vec![AppSecret {
                expires_at: None,
                ..secret
            }]
        );
        assert_eq!(
            store.app_certificates(TENANT, CLIENT).await.unwrap(),
            vec![cert]
        );
        let found = store
            .user_by_upn(TENANT, "ADMIN@contoso.onmicrosoft.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.upn, "admin@contoso.onmicrosoft.com");
        assert_eq!(found.password_hash, "$argon2id$x");
        assert_eq!(
            store.tenant_admins(TENANT).await.unwrap(),
            vec!["admin@contoso.onmicrosoft.com".to_owned()]
        );
    })
    .await;
}

#[tokio::test]
async fn environments_and_system_users() {
    each(async |store| {
        let owner = seed(store).await;
        let env_row = store.environment_by_org("CONTOSO").await.unwrap().unwrap();
        assert_eq!(env_row.id, env());
        assert_eq!(
            store.environment(&env()).await.unwrap(),
            Some(env_row.clone())
        );
        assert_eq!(store.environments(TENANT).await.unwrap(), vec![env_row]);

        let app_user = store
            .system_user_for(&env(), SystemUserKind::Application { client_id: CLIENT })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app_user.id, owner);
        assert_eq!(app_user.versionnumber, 1);

        // The same principal under another id keeps the first row; a change bumps the version.
        let mut tx = store.begin().await.unwrap();
        let mut renamed = system_user(
            2,
            SystemUserKind::Application { client_id: CLIENT },
            "renamed",
        );
        assert_eq!(tx.upsert_system_user(&renamed).await.unwrap(), owner);
        renamed.fullname = "renamed".into();
        assert_eq!(tx.upsert_system_user(&renamed).await.unwrap(), owner);
        tx.commit().await.unwrap();
        let after = store.system_user(owner).await.unwrap().unwrap();
        assert_eq!(
            (after.fullname.as_str(), after.versionnumber),
            ("renamed", 2)
        );
        assert_eq!(store.system_user(Uuid::from_u128(2)).await.unwrap(), None);

        let person = Uuid::from_u128(77);
        let mut tx = store.begin().await.unwrap();
        tx.upsert_system_user(&system_user(
            3,
            SystemUserKind::Person { object_id: person },
            "Ada",
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let found = store
            .system_user_for(&env(), SystemUserKind::Person { object_id: person })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.kind, SystemUserKind::Person { object_id: person });
        assert_eq!(store.system_users(&env()).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn groups_machines_and_shares() {
    each(async |store| {
        let owner = seed(store).await;
        let stored = store.machine_group(GROUP).await.unwrap().unwrap();
        assert_eq!(stored, group(owner, "Finance bots"));

        let mut tx = store.begin().await.unwrap();
        tx.upsert_machine_group(&group(owner, "Finance bots"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .machine_group(GROUP)
                .await
                .unwrap()
                .unwrap()
                .stamp
                .versionnumber,
            1,
            "no change, no new version"
        );

        let machine = Machine {
            id: Uuid::from_u128(5),
            environment_id: env(),
            group_id: GROUP,
            name: "FIN-VM-01".into(),
            description: String::new(),
            agentversion: Some("2.50".into()),
            lastheartbeatdate: Some(Timestamp(42)),
            statecode: 0,
            statuscode: 1,
            stamp: RecordStamp::new(owner, Timestamp(1)),
        };
        let reader = system_user(
            4,
            SystemUserKind::Person {
                object_id: Uuid::from_u128(88),
            },
            "Reader",
        );
        let mut tx = store.begin().await.unwrap();
        tx.upsert_machine_group(&group(owner, "Finance robots"))
            .await
            .unwrap();
        tx.upsert_machine(&machine).await.unwrap();
        let reader = tx.upsert_system_user(&reader).await.unwrap();
        let share = Share {
            record: RecordRef::MachineGroup(GROUP),
            principal_id: reader,
            rights: ShareRole::User.rights(),
        };
        tx.set_share(&share).await.unwrap();
        tx.commit().await.unwrap();

        let renamed = store.machine_group(GROUP).await.unwrap().unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.stamp.versionnumber),
            ("Finance robots", 2)
        );
        assert_eq!(
            store.machines_in_group(GROUP).await.unwrap(),
            vec![machine.clone()]
        );
        assert_eq!(store.machine(machine.id).await.unwrap(), Some(machine));
        assert_eq!(
            store
                .shares_of(RecordRef::MachineGroup(GROUP))
                .await
                .unwrap(),
            vec![share.clone()]
        );
        assert_eq!(store.machine_groups(&env()).await.unwrap().len(), 1);

        let mut tx = store.begin().await.unwrap();
        tx.set_share(&Share {
            rights: AccessRights::all(),
            ..share.clone()
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let shares = store
            .shares_of(RecordRef::MachineGroup(GROUP))
            .await
            .unwrap();
        assert_eq!(shares[0].rights, AccessRights::all());

        let mut tx = store.begin().await.unwrap();
        tx.set_share(&Share {
            rights: AccessRights::empty(),
            ..share
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(
            store
                .shares_of(RecordRef::MachineGroup(GROUP))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

/// Grants made at once each add their rights: none is lost to another's
/// read of what the principal held before.
#[tokio::test]
async fn concurrent_grants_all_count() {
    each(async |store| {
        let owner = seed(store).await;
        let grants = AccessRights::all().iter().map(|rights| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                tx.grant_share(&Share {
                    record: RecordRef::MachineGroup(GROUP),
                    principal_id: owner,
                    rights,
                })
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        });
        futures::future::join_all(grants).await;
        let held = store
            .share_rights(RecordRef::MachineGroup(GROUP), owner)
            .await
            .unwrap();
        assert_eq!(held, AccessRights::all());
    })
    .await;
}

#[tokio::test]
async fn rolled_back_writes_leave_nothing() {
    each(async |store| {
        seed(store).await;
        let before = store.counts().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.upsert_tenant(&Tenant {
            id: Uuid::from_u128(1),
            domain: "fabrikam.com".into(),
        })
        .await
        .unwrap();
        assert!(
            tx.insert_connection(&connection(ConnectionId::new_random(), "c"))
                .await
                .unwrap()
        );
        drop(tx);
        assert_eq!(store.counts().await.unwrap(), before);
        assert_eq!(before.tenants, 1);
        assert_eq!(before.machine_groups, 1);
    })
    .await;
}

/// A waiting run of `GROUP`, as a trigger writes it.
fn waiting_run(owner: Uuid) -> FlowSession {
    let now = Timestamp(1_800_000_000_000);
    FlowSession {
        id: Uuid::new_v4(),
        environment_id: env(),
        workflow_id: Uuid::from_u128(7),
        name: "Invoices".into(),
        owner_id: owner,
        connection_id: "c".into(),
        connection_reference: None,
        machine_group_id: GROUP,
        machine_id: None,
        run_mode: 2,
        priority: "normal".into(),
        timeout_seconds: 7200,
        inputs: None,
        outputs: None,
        callback_url: None,
        statuscode: SessionStatus::Waiting.code(),
        error_code: None,
        error_message: None,
        created_on: now,
        started_on: None,
        completed_on: None,
        modified_on: now,
        due_on: Some(now),
        versionnumber: 1,
    }
}

/// Whatever the runner decided, the database never lets two runs be
/// Running on one machine: the second placement fails and changes nothing,
/// and the machine takes the next run once the first is over.
#[tokio::test]
async fn a_machine_runs_one_run_at_a_time() {
    each(async |store| {
        let owner = seed(store).await;
        let machine = Uuid::from_u128(42);
        let (mut first, mut second) = (waiting_run(owner), waiting_run(owner));
        let mut tx = store.begin().await.unwrap();
        tx.insert_flow_session(&first).await.unwrap();
        tx.insert_flow_session(&second).await.unwrap();
        tx.commit().await.unwrap();

        let running = SessionStatus::Running.code();
        for run in [&mut first, &mut second] {
            run.machine_id = Some(machine);
            run.statuscode = running;
        }
        let mut tx = store.begin().await.unwrap();
        tx.update_flow_session(&first).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(tx.update_flow_session(&second).await.is_err());
        drop(tx);
        let stored = store.flow_session(second.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.statuscode, stored.machine_id),
            (SessionStatus::Waiting.code(), None)
        );

        first.statuscode = SessionStatus::Succeeded.code();
        let mut tx = store.begin().await.unwrap();
        tx.update_flow_session(&first).await.unwrap();
        tx.update_flow_session(&second).await.unwrap();
        tx.commit().await.unwrap();
        let stored = store.flow_session(second.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.statuscode, stored.machine_id),
            (running, Some(machine))
        );
    })
    .await;
}

#[tokio::test]
async fn connections_insert_update_delete() {
    each(async |store| {
        seed(store).await;
        let id: ConnectionId = "D4E4A6FF-9A67-492A-A1F6-DE854528668C".parse().unwrap();
        let first = connection(id, "first");
        let mut tx = store.begin().await.unwrap();
        assert!(tx.insert_connection(&first).await.unwrap());
        assert!(
            !tx.insert_connection(&connection(id, "second"))
                .await
                .unwrap(),
            "an id is taken once"
        );
        tx.commit().await.unwrap();
        let same_id: ConnectionId = "d4e4a6ff9a67492aa1f6de854528668c".parse().unwrap();
        assert_eq!(
            store.connection(&env(), &same_id).await.unwrap(),
            Some(first.clone())
        );

        let mut changed = first.clone();
        changed.display_name = "renamed".into();
        changed.sealed_secrets = vec![9; 40];
        changed.modified_at = Timestamp(1_800_000_000_000_000);
        let mut tx = store.begin().await.unwrap();
        assert!(tx.update_connection(&changed).await.unwrap());
        assert!(
            !tx.update_connection(&connection(ConnectionId::new_random(), "x"))
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        assert_eq!(store.connection(&env(), &id).await.unwrap(), Some(changed));

        let mut tx = store.begin().await.unwrap();
        assert!(tx.delete_connection(&env(), &id).await.unwrap());
        assert!(!tx.delete_connection(&env(), &id).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(store.connection(&env(), &id).await.unwrap(), None);
    })
    .await;
}

/// A change of a connection's sharing takes the connection first and holds
/// it until its transaction ends, so another change reads what it wrote:
/// on PostgreSQL by locking the connection's row, on SQLite by its one
/// writer.
#[tokio::test]
async fn a_sharing_change_holds_the_connection_until_its_transaction_ends() {
    each(async |store| {
        seed(store).await;
        let id = ConnectionId::new_random();
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.insert_connection(&connection(id, "shared"))
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let permission = ConnectionPermission {
            principal_id: Uuid::from_u128(7),
            principal_type: PrincipalType::User,
            role_name: "CanEdit".into(),
        };

        let mut first = store.begin().await.unwrap();
        first.lock_connection(&env(), &id).await.unwrap();
        assert_eq!(
            first.connection_permissions(&env(), &id).await.unwrap(),
            vec![]
        );
        let second = async {
            let mut tx = store.begin().await.unwrap();
            tx.lock_connection(&env(), &id).await.unwrap();
            let seen = tx.connection_permissions(&env(), &id).await.unwrap();
            tx.commit().await.unwrap();
            seen
        };
        tokio::pin!(second);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(300), &mut second).await;
        assert!(
            waited.is_err(),
            "a second sharing change waits for the first transaction"
        );
        first
            .set_connection_permission(&env(), &id, &permission)
            .await
            .unwrap();
        first.commit().await.unwrap();
        assert_eq!(second.await, vec![permission], "then reads what it wrote");
    })
    .await;
}

#[tokio::test]
async fn concurrent_inserts_of_one_id_store_one_connection() {
    each(async |store| {
        seed(store).await;
        let id = ConnectionId::new_random();
        let attempts = (0..8).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let inserted = tx
                    .insert_connection(&connection(id, &format!("writer {i}")))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                inserted
            })
        });
        let mut winners = 0;
        for attempt in attempts {
            winners += usize::from(attempt.await.unwrap());
        }
        assert_eq!(winners, 1);
        assert_eq!(store.counts().await.unwrap().connections, 1);
    })
    .await;
}

#[tokio::test]
async fn connection_pages_cover_everything_once() {
    each(async |store| {
        seed(store).await;
        let mut tx = store.begin().await.unwrap();
        let mut ids: Vec<String> = Vec::new();
        for i in 0..23 {
            let id = ConnectionId::new_random();
            ids.push(id.to_string());
            tx.insert_connection(&connection(id, &format!("c{i}")))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        ids.sort();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store
                .visible_connections_page(&env(), None, after.as_deref(), 10)
                .await
                .unwrap();
            pages += 1;
            seen.extend(page.items.iter().map(|c| c.id.to_string()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ids);
        let exact = store
            .visible_connections_page(&env(), None, Some(&ids[12]), 10)
            .await
            .unwrap();
        assert_eq!((exact.items.len(), exact.next), (10, None));
    })
    .await;
}

#[tokio::test]
async fn signing_keys_round_trip() {
    each(async |store| {
        let key = SigningKey {
            kid: "k1".into(),
            sealed_private: vec![1; 64],
            certificate: vec![2; 300],
            created_at: Timestamp(10),
            retire_at: Timestamp(20),
            expire_at: Timestamp(30),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_signing_key(&key).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.signing_keys().await.unwrap(), vec![key.clone()]);
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.insert_signing_key(&key).await.is_err(),
            "a kid is unique"
        );
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    for backend in backends().await {
        seed(&backend.store).await;
        let again = Store::open(&backend.database, SyncMode::Normal)
            .await
            .unwrap();
        assert_eq!(again.counts().await.unwrap().machine_groups, 1);
        again.close().await;
        backend.finish().await;
    }
}

#[tokio::test]
async fn target_facts_read_the_group_and_its_creators_standing_at_once() {
    each(async |store| {
        let owner = seed(store).await;
        let by_app = connection(ConnectionId::new_random(), "by the app");
        let facts = store.target_facts(&by_app).await.unwrap().unwrap();
        assert_eq!(facts.group_name, "Finance bots");
        assert_eq!(facts.flowgrouptype, GroupType::Standard);
        assert!(!facts.has_machines);
        assert!(
            facts.creator_is_member && facts.creator_owns,
            "the app owns the group"
        );

        // A person with no systemuser, then one with a share.
        let person = Uuid::from_u128(77);
        let mut by_person = by_app.clone();
        by_person.created_by = Principal {
            id: person,
            kind: PrincipalType::User,
            display_name: "Ann".into(),
        };
        let facts = store.target_facts(&by_person).await.unwrap().unwrap();
        assert!(!facts.creator_is_member && !facts.creator_owns);
        let mut tx = store.begin().await.unwrap();
        let ann = tx
            .upsert_system_user(&system_user(
                2,
                SystemUserKind::Person { object_id: person },
                "Ann",
            ))
            .await
            .unwrap();
        tx.set_share(&Share {
            record: RecordRef::MachineGroup(GROUP),
            principal_id: ann,
            rights: AccessRights::READ | AccessRights::APPEND_TO,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let facts = store.target_facts(&by_person).await.unwrap().unwrap();
        assert!(facts.creator_is_member && !facts.creator_owns);
        assert_eq!(
            facts.creator_rights,
            AccessRights::READ | AccessRights::APPEND_TO
        );
        assert_ne!(ann, owner);

        let mut elsewhere = by_app.clone();
        elsewhere.target_group_id = Some(Uuid::from_u128(999));
        assert_eq!(store.target_facts(&elsewhere).await.unwrap(), None);

        // What a GET reads: the stored connection and the same facts, at once.
        assert!(store.insert_connection(&by_app).await.unwrap());
        let facts = store.target_facts(&by_app).await.unwrap();
        assert!(facts.is_some());
        assert_eq!(
            read(store, &by_app.id).await,
            Some(ConnectionWithTarget {
                connection: by_app.clone(),
                target: facts
            })
        );
        elsewhere.id = ConnectionId::new_random();
        assert!(store.insert_connection(&elsewhere).await.unwrap());
        assert_eq!(
            read(store, &elsewhere.id).await.unwrap().target,
            None,
            "its group is gone"
        );
        assert_eq!(read(store, &ConnectionId::new_random()).await, None);
    })
    .await;
}

/// SQLite reads find each column where the row's field order puts it: a
/// row read after another (a connection, then its target's facts) starts
/// where the first one's columns end. When a count was written by hand and
/// fell behind a new column, every such read fell back to a search by name;
/// this sees that.
#[tokio::test]
async fn sqlite_reads_find_every_connection_column_by_position() {
    let backend = crate::support::sqlite().await;
    let store = &backend.store;
    seed(store).await;
    let stored = connection(ConnectionId::new_random(), "by position");
    assert!(store.insert_connection(&stored).await.unwrap());

    let before = missed_column_guesses();
    let read = read(store, &stored.id)
        .await
        .expect("the connection reads back");
    assert!(read.target.is_some(), "with its group's facts");
    let alone = store.connection(&env(), &stored.id).await.unwrap();
    assert_eq!(alone.as_ref(), Some(&stored));
    assert_eq!(
        missed_column_guesses() - before,
        0,
        "every column was where its row's fields said"
    );
    backend.finish().await;
}

/// Under a steady stream of writes, with a reader reading all along, the
/// WAL is started over again and again rather than appended to without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_starts_its_wal_over_under_steady_writes() {
    const WRITERS: usize = 8;
    // Each round of writes puts over 4 MiB through the WAL.
    const ROWS_A_ROUND: usize = 1_000;
    // Without restarts the WAL would by then hold over 240 MiB; the
    // background checkpoint looks at it every quarter second.
    const MOST_ROUNDS: usize = 60;
    let backend = crate::support::sqlite().await;
    let Database::Sqlite(path) = &backend.database else {
        panic!("a SQLite store")
    };
    let wal = path.with_extension("db-wal");
    seed(&backend.store).await;
    let read_back = connection(ConnectionId::new_random(), "read all along");
    assert!(backend.store.insert_connection(&read_back).await.unwrap());
    let restarts_before = wal_restarts(&wal);

    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = tokio::spawn({
        let (store, writing) = (backend.store.clone(), writing.clone());
        async move {
            let mut reads = 0_u64;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                let read = store.connection(&env(), &read_back.id).await.unwrap();
                assert!(read.is_some());
                reads += 1;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            reads
        }
    });
    // 4 KiB of parameters a row: a page of its own at least, however the
    // writer batches the rows.
    let filler = "x".repeat(4_096);
    let mut restarts = 0;
    let mut rounds = 0;
    while restarts < 3 && rounds < MOST_ROUNDS {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (store, filler) = (backend.store.clone(), filler.clone());
                tokio::spawn(async move {
                    for _ in 0..ROWS_A_ROUND / WRITERS {
                        let mut row = connection(ConnectionId::new_random(), "steady");
                        row.parameter_values["filler"] = json!(filler);
                        assert!(store.insert_connection(&row).await.unwrap());
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        rounds += 1;
        restarts = wal_restarts(&wal) - restarts_before;
    }
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(
        reader.await.unwrap() > 0,
        "the reader read while rows were written"
    );

    let counts = backend.store.counts().await.unwrap();
    assert_eq!(
        counts.connections,
        i64::try_from(1 + rounds * ROWS_A_ROUND).unwrap()
    );
    let wal_bytes = std::fs::metadata(&wal).unwrap().len();
    assert!(
        restarts >= 3,
        "the WAL was started over {restarts} times in {rounds} rounds of 4 MiB, and holds {wal_bytes} bytes"
    );
    backend.finish().await;
}

/// How many times SQLite has started this WAL over: the checkpoint
/// sequence number of its header, a big-endian u32 at byte 12, which moves
/// on at each restart (SQLite's "WAL File Format").
fn wal_restarts(wal: &std::path::Path) -> u32 {
    use std::io::Read;
    let mut header = [0_u8; 16];
    let mut file = std::fs::File::open(wal).unwrap();
    file.read_exact(&mut header).unwrap();
    u32::from_be_bytes([header[12], header[13], header[14], header[15]])
}

/// What a GET reads of a connection, by value.
async fn read(store: &Store, id: &ConnectionId) -> Option<ConnectionWithTarget> {
    let read = store.connection_with_target(&env(), id).await.unwrap();
    read.as_deref().cloned()
}

#[tokio::test]
async fn what_a_get_read_is_not_used_after_any_write() {
    each(async |store| {
        seed(store).await;
        let first = connection(ConnectionId::new_random(), "first");
        assert!(store.insert_connection(&first).await.unwrap());
        let before = read(store, &first.id).await.unwrap();
        assert_eq!(before.connection.display_name, "first");
        assert!(before.target.is_some());

        // The connection itself changes.
        let renamed = Connection {
            display_name: "renamed".into(),
            ..first.clone()
        };
        let mut tx = store.begin().await.unwrap();
        assert!(tx.update_connection(&renamed).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(read(store, &first.id).await.unwrap().connection, renamed);

        // Another table changes: the group it targets is deleted.
        let mut tx = store.begin().await.unwrap();
        assert!(tx.delete_machine_group(GROUP).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(read(store, &first.id).await.unwrap().target, None);

        // Deleted, it is gone; created again, it is read again (nothing is
        // kept of a connection that was not found).
        let mut tx = store.begin().await.unwrap();
        assert!(tx.delete_connection(&env(), &first.id).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(read(store, &first.id).await, None);
        assert!(store.insert_connection(&first).await.unwrap());
        assert_eq!(read(store, &first.id).await.unwrap().connection, first);
    })
    .await;
}

/// Another replica's write reaches what this one kept as soon as its
/// `NOTIFY` arrives, well before the cache's age limit.
#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn another_replicas_write_reaches_what_a_get_kept_on_postgres() {
    let backend = crate::support::postgres()
        .await
        .expect(crate::support::PG_NEEDED);
    let ours = &backend.store;
    let theirs = Store::open(&backend.database, SyncMode::Normal)
        .await
        .unwrap();
    seed(ours).await;
    let kept = connection(ConnectionId::new_random(), "kept");
    assert!(ours.insert_connection(&kept).await.unwrap());
    assert!(read(ours, &kept.id).await.is_some());

    let mut tx = theirs.begin().await.unwrap();
    assert!(tx.delete_connection(&env(), &kept.id).await.unwrap());
    tx.commit().await.unwrap();
    let committed = std::time::Instant::now();
    let limit = CONNECTION_CACHE_MAX_AGE * 9 / 10;
    while read(ours, &kept.id).await.is_some() {
        assert!(
            committed.elapsed() < limit,
            "the other replica's delete did not show within {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    theirs.close().await;
    backend.finish().await;
}

#[tokio::test]
async fn another_process_writing_the_sqlite_file_shows_within_the_cache_age() {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::Sqlite(dir.path().join("platform.db"));
    let time = TestClock::new();
    let ours = Store::open_on(&database, SyncMode::Normal, time.clock())
        .await
        .unwrap();
    let theirs = Store::open(&database, SyncMode::Normal).await.unwrap();
    seed(&ours).await;
    let kept = connection(ConnectionId::new_random(), "kept");
    assert!(ours.insert_connection(&kept).await.unwrap());
    assert!(read(&ours, &kept.id).await.is_some());

    let mut tx = theirs.begin().await.unwrap();
    assert!(tx.delete_connection(&env(), &kept.id).await.unwrap());
    tx.commit().await.unwrap();
    // The kept read is read again once its age is up: no other way tells
    // this process of the other's write.
    time.advance(CONNECTION_CACHE_MAX_AGE);
    assert_eq!(read(&ours, &kept.id).await, None);
    ours.close().await;
    theirs.close().await;
}

#[tokio::test]
async fn queued_inserts_write_each_id_once_and_a_bad_row_fails_alone() {
    each(async |store| {
        seed(store).await;
        let repeated = ConnectionId::new_random();
        let mut rows: Vec<Connection> = (0..8)
            .map(|i| connection(ConnectionId::new_random(), &format!("distinct {i}")))
            .collect();
        rows.extend((0..4).map(|i| connection(repeated, &format!("repeat {i}"))));
        // An environment that does not exist breaks the foreign key.
        let mut orphan = connection(ConnectionId::new_random(), "orphan");
        orphan.environment_id = "00000000-0000-0000-0000-00000000beef".parse().unwrap();
        // Three times: a repeat of a row that failed is not told "taken".
        rows.extend([orphan.clone(), orphan.clone(), orphan]);

        // All at once, so that they queue into the same batches.
        let inserts = rows.iter().cloned().map(|row| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_connection(&row).await })
        });
        let results: Vec<_> = futures::future::join_all(inserts)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();

        for result in &results[..8] {
            assert!(matches!(result, Ok(true)), "{result:?}");
        }
        let repeat_wins = results[8..12]
            .iter()
            .filter(|r| matches!(r, Ok(true)))
            .count();
        assert_eq!(repeat_wins, 1, "{:?}", &results[8..12]);
        assert!(results[8..12].iter().all(Result::is_ok));
        for result in &results[12..] {
            assert!(result.is_err(), "the orphan fails: {result:?}");
        }
        assert_eq!(store.counts().await.unwrap().connections, 9);
        for row in &rows[..8] {
            assert_eq!(
                store.connection(&env(), &row.id).await.unwrap().as_ref(),
                Some(row)
            );
        }
    })
    .await;
}
