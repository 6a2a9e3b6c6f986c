//! The world file: parsing, validation messages, idempotent loading.

use std::path::Path;

use padconnect_core::{EnvironmentId, ShareRole};
use padconnect_domain::keyring::KeyRing;
use padconnect_domain::world::{World, WorldError, load_world};
use padconnect_store::*;
use uuid::Uuid;

use crate::support::{backends, example_world};

fn parse(text: &str) -> Result<World, WorldError> {
    World::parse(text, Path::new("."), "test.toml")
}

fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Err(WorldError::Invalid { problems, .. }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

const TENANT: &str = r#"
[[tenants]]
id = "8a235459-3d2c-415d-8c1e-e2fe133509ad"
domain = "contoso.onmicrosoft.com"
"#;

#[test]
fn the_example_world_is_valid() {
    let world = World::from_file(&example_world()).unwrap();
    let tenant = &world.tenants[0];
    assert_eq!(tenant.apps[0].secrets[0].value, "example-secret-value");
    let env = &tenant.environments[0];
    assert_eq!(
        env.id,
        "37520647-dbdf-49fa-ba01-6134c14680c4"
            .parse::<EnvironmentId>()
            .unwrap()
    );
    assert_eq!(
        env.machine_groups.len(),
        2,
        "one group and one standalone machine's hidden group"
    );
    assert!(env.machine_groups[1].hidden);
    assert_eq!(env.machine_groups[0].shared_with[0].1, ShareRole::User);
    let debug = format!("{world:?}");
    assert!(
        !debug.contains("example-secret-value") && !debug.contains("example-password"),
        "{debug}"
    );
}

#[test]
fn empty_world_and_empty_lists_are_fine() {
    assert_eq!(parse("").unwrap().tenants.len(), 0);
    let world = parse(TENANT).unwrap();
    assert!(world.tenants[0].apps.is_empty() && world.tenants[0].environments.is_empty());
}

#[test]
fn unknown_keys_are_named() {
    let err = parse(&format!("{TENANT}colour = \"blue\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("colour") && err.contains("test.toml"), "{err}");
    let err = parse(&format!("{TENANT}[[tenants.apps]]\ndisplay_name = \"a\"\nclient_id = \"5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40\"\nsecrets = [{{ value = \"x\", expiry = \"2027-01-01T00:00:00Z\" }}]\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expiry"), "{err}");
}

/// A machine's table flattens the traits a group's and a standalone
/// machine share, so serde cannot refuse its unknown keys; the loader does,
/// with the path, as it does every other problem. The world is the kit's,
/// with one key no machine has added to each kind of machine.
#[test]
fn a_machines_unknown_keys_are_named_with_their_path() {
    use padconnect_testkit as kit;
    const MAKER: &str = "maker@contoso.onmicrosoft.com";
    let group = kit::Group::new("a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d", "Finance", MAKER)
        .machine(kit::Machine::new("PC-01").offline());
    let environment =
        kit::Environment::new("37520647-dbdf-49fa-ba01-6134c14680c4", "Prod", "contoso")
            .maker(MAKER)
            .group(group)
            .machine(kit::StandaloneMachine::new("PC-02", MAKER).run_seconds(5));
    let tenant = kit::Tenant::new(
        "8a235459-3d2c-415d-8c1e-e2fe133509ad",
        "contoso.onmicrosoft.com",
    )
    .user(MAKER, "Maker", "p")
    .environment(environment);
    let mut world: toml::Table = kit::World::new().tenant(tenant).to_toml().parse().unwrap();
    let environment = &mut world["tenants"][0]["environments"][0];
    let add = |table: &mut toml::Value, key: &str| {
        table
            .as_table_mut()
            .unwrap()
            .insert(key.into(), true.into());
    };
    add(
        &mut environment["machine_groups"][0]["machines"][0],
        "colour",
    );
    add(&mut environment["machines"][0], "shared");
    assert_eq!(
        problems(&world.to_string()),
        [
            "tenants[0].environments[0].machine_groups[0].machines[0].colour: unknown field, expected one of `name`, `accounts`, `online`, `run_seconds`, `fail_with`, `lockout_threshold`",
            "tenants[0].environments[0].machines[0].shared: unknown field, expected one of `name`, `id`, `group_id`, `owner`, `description`, `shared_with`, `accounts`, `online`, `run_seconds`, `fail_with`, `lockout_threshold`",
        ],
    );
}

#[test]
fn each_bad_value_is_reported_with_its_path() {
    let text = r#"
[[tenants]]
id = "not-a-guid"
domain = "contoso"
admins = ["nobody@contoso.onmicrosoft.com"]

[[tenants.apps]]
display_name = ""
client_id = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40"
secrets = ["", { value = "s", expires = "next year" }]
certificates = ["missing.pem"]

[[tenants.environments]]
id = "prod"
display_name = "Prod"
org = "con toso"
application_users = ["11111111-1111-1111-1111-111111111111"]
makers = ["ghost@contoso.onmicrosoft.com"]

[[tenants.environments.machine_groups]]
id = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d"
name = "Finance"
owner = "ghost@contoso.onmicrosoft.com"
shared_with = [{ client_id = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40", role = "owner" }, { role = "user" }]
machines = ["BAD\u0000NAME", { name = "SLOW-01", run_seconds = 86401, fail_with = "Gremlins" }]

[[tenants.environments.machine_groups]]
id = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a"
name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
owner = "ghost@contoso.onmicrosoft.com"
"#;
    let found = problems(text);
    let expected = [
        "tenants[0].id: 'not-a-guid' is not a GUID",
        "tenants[0].domain: 'contoso' is not a domain name",
        "tenants[0].admins[0]: 'nobody@contoso.onmicrosoft.com' is neither a user (upn) nor an app (client_id)",
        "tenants[0].apps[0].display_name: must not be empty",
        "tenants[0].apps[0].secrets[0]: a secret must not be empty",
        "tenants[0].apps[0].secrets[1].expires: 'next year' is not an RFC 3339 time",
        "tenants[0].apps[0].certificates[0]: cannot read a PEM certificate from ./missing.pem",
        "tenants[0].environments[0].id: 'prod' is not an environment id",
        "tenants[0].environments[0].org: 'con toso' is not an org name",
        "tenants[0].environments[0].application_users[0]: '11111111-1111-1111-1111-111111111111' is not the client_id of an app",
        "tenants[0].environments[0].makers[0]: 'ghost@contoso.onmicrosoft.com' is not the upn of a user",
        "tenants[0].environments[0].machine_groups[0].owner: 'ghost@contoso.onmicrosoft.com' must be one of the environment's makers",
        "tenants[0].environments[0].machine_groups[0].shared_with[0].role: 'owner' is not a sharing role",
        "tenants[0].environments[0].machine_groups[0].shared_with[1]: give exactly one of client_id or upn",
        "tenants[0].environments[0].machine_groups[0].machines[0]: must not contain control characters",
        "tenants[0].environments[0].machine_groups[0].machines[1].run_seconds: must be at most 86400",
        "tenants[0].environments[0].machine_groups[0].machines[1].fail_with: 'Gremlins' is not a run-time error code the platform knows: use one of WindowsIdentityIncorrect,",
        "tenants[0].environments[0].machine_groups[1].name: must be at most 100 characters",
    ];
    for want in expected {
        assert!(
            found.iter().any(|p| p.starts_with(want)),
            "missing '{want}' in:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn duplicates_are_reported_where_they_repeat() {
    let text = format!(
        r#"{TENANT}
[[tenants.users]]
upn = "a@contoso.onmicrosoft.com"
display_name = "A"
password = "p"

[[tenants.environments]]
id = "37520647-dbdf-49fa-ba01-6134c14680c4"
display_name = "One"
org = "contoso"
makers = ["a@contoso.onmicrosoft.com"]

[[tenants.environments.machine_groups]]
id = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d"
name = "G"
owner = "a@contoso.onmicrosoft.com"
machines = ["VM-1", "vm-1"]

[[tenants.environments]]
id = "37520647-DBDF-49fa-ba01-6134c14680c4"
display_name = "Two"
org = "Contoso"
"#
    );
    let found = problems(&text);
    assert!(found.iter().any(|p| p.starts_with("tenants[0].environments[0].machine_groups[0].machines[1]: a machine of this name is already declared at tenants[0].environments[0].machine_groups[0].machines[0]")), "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("tenants[0].environments[1].id: this environment id is already declared at tenants[0].environments[0].id")), "{found:?}");
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("tenants[0].environments[1].org: this org is already declared")),
        "{found:?}"
    );
}

#[tokio::test]
async fn loading_twice_changes_nothing() {
    let world = World::from_file(&example_world()).unwrap();
    let env: EnvironmentId = "37520647-dbdf-49fa-ba01-6134c14680c4".parse().unwrap();
    let tenant = world.tenants[0].id;
    let ring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
    for backend in backends().await {
        let store = &backend.store;
        let first = load_world(store, &ring, &world).await.unwrap();
        assert_eq!((first.machine_groups, first.machines), (1, 3));
        let counts = store.counts().await.unwrap();
        let groups = store.machine_groups(&env).await.unwrap();
        let users = store.system_users(&env).await.unwrap();
        let admin = store
            .user_by_upn(tenant, "admin@contoso.onmicrosoft.com")
            .await
            .unwrap()
            .unwrap();

        load_world(store, &ring, &world).await.unwrap();
        assert_eq!(store.counts().await.unwrap(), counts);
        assert_eq!(
            store.machine_groups(&env).await.unwrap(),
            groups,
            "same rows, same versions"
        );
        assert_eq!(store.system_users(&env).await.unwrap(), users);
        let again = store
            .user_by_upn(tenant, "admin@contoso.onmicrosoft.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            again.password_hash, admin.password_hash,
            "a matching password keeps its hash"
        );
        assert!(padconnect_domain::secrets::password_matches(
            "example-password",
            &again.password_hash
        ));

        assert_eq!(counts.machine_groups, 2);
        assert_eq!(counts.shares, 1);
        let finance = groups.iter().find(|g| g.name == "Finance bots").unwrap();
        assert_eq!(finance.flowgrouptype, GroupType::Standard);
        let hidden = groups.iter().find(|g| g.name == "HR-LAPTOP-07").unwrap();
        assert_eq!(hidden.flowgrouptype, GroupType::Default);
        assert_eq!(
            store.machines_in_group(hidden.id).await.unwrap()[0].name,
            "HR-LAPTOP-07"
        );
        let app_user = store
            .system_user_for(
                &env,
                SystemUserKind::Application {
                    client_id: world.tenants[0].apps[0].client_id,
                },
            )
            .await
            .unwrap()
            .unwrap();
        let shares = store
            .shares_of(RecordRef::MachineGroup(finance.id))
            .await
            .unwrap();
        assert_eq!(shares[0].principal_id, app_user.id);
        assert_eq!(shares[0].rights, ShareRole::User.rights());
        let secrets = store
            .app_secrets(tenant, world.tenants[0].apps[0].client_id)
            .await
            .unwrap();
        assert!(padconnect_domain::secrets::client_secret_matches(
            &ring,
            "example-secret-value",
            &secrets[0].hash
        ));
        assert_eq!(store.app(tenant, Uuid::nil()).await.unwrap(), None);
        backend.finish().await;
    }
}

#[tokio::test]
async fn client_secrets_are_keyed_and_rehashed_on_the_next_load() {
    use aws_lc_rs::digest::{SHA256, digest};
    use padconnect_domain::secrets::client_secret_matches;
    use padconnect_store::AppSecret;

    let world = World::from_file(&example_world()).unwrap();
    let (tenant, app) = (world.tenants[0].id, world.tenants[0].apps[0].client_id);
    let old_key = KeyRing::generate_key();
    let ring = KeyRing::parse(&old_key, "test").unwrap();
    for backend in backends().await {
        let store = &backend.store;
        load_world(store, &ring, &world).await.unwrap();
        // A row as secrets were kept before: the plain SHA-256.
        let legacy = digest(&SHA256, b"example-secret-value").as_ref().to_vec();
        let mut tx = store.begin().await.unwrap();
        let row = AppSecret {
            hash: legacy.clone(),
            hint: "exa".into(),
            expires_at: None,
        };
        tx.put_app_secret(tenant, app, &row).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.app_secrets(tenant, app).await.unwrap().len(), 2);

        // The next load, under a rotated ring, leaves one keyed hash under
        // the new key: the plain one and the old key's are gone.
        let rotated =
            KeyRing::parse(&format!("{},{old_key}", KeyRing::generate_key()), "test").unwrap();
        load_world(store, &rotated, &world).await.unwrap();
        let secrets = store.app_secrets(tenant, app).await.unwrap();
        assert_eq!(secrets.len(), 1, "{secrets:?}");
        assert_ne!(secrets[0].hash, legacy);
        assert!(rotated.is_current_hash(&secrets[0].hash));
        assert!(client_secret_matches(
            &rotated,
            "example-secret-value",
            &secrets[0].hash
        ));
        // Without the ring, the database alone checks no guess.
        let other = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
        assert!(!client_secret_matches(
            &other,
            "example-secret-value",
            &secrets[0].hash
        ));
        backend.finish().await;
    }
}

/// The world is the only source of an app's secrets and of the tenant's
/// administrators: a restart with a world that no longer lists one takes
/// it away (the probe found them kept), on both backends.
#[tokio::test]
async fn what_a_new_world_no_longer_lists_is_taken_away() {
    use padconnect_domain::secrets::client_secret_matches;
    let world = |secrets: &str, admins: &str| {
        parse(&format!(
            r#"{TENANT}admins = [{admins}]

[[tenants.users]]
upn = "admin@contoso.onmicrosoft.com"
display_name = "Contoso Admin"
password = "example-password"

[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40"
secrets = [{secrets}]
"#
        ))
        .unwrap()
    };
    let before = world(
        r#""old-secret-value", "example-secret-value""#,
        r#""admin@contoso.onmicrosoft.com""#,
    );
    let after = world(r#""example-secret-value""#, "");
    let tenant = before.tenants[0].id;
    let app = before.tenants[0].apps[0].client_id;
    let ring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
    for backend in backends().await {
        let store = &backend.store;
        load_world(store, &ring, &before).await.unwrap();
        assert_eq!(store.app_secrets(tenant, app).await.unwrap().len(), 2);
        assert_eq!(store.tenant_admins(tenant).await.unwrap().len(), 1);

        load_world(store, &ring, &after).await.unwrap();
        let secrets = store.app_secrets(tenant, app).await.unwrap();
        assert_eq!(secrets.len(), 1, "{secrets:?}");
        assert!(client_secret_matches(
            &ring,
            "example-secret-value",
            &secrets[0].hash
        ));
        assert!(!client_secret_matches(
            &ring,
            "old-secret-value",
            &secrets[0].hash
        ));
        assert!(store.tenant_admins(tenant).await.unwrap().is_empty());
        backend.finish().await;
    }
}

/// The world is the source of truth both ways: a restart with a world
/// that lists less takes away a whole app with its secret, a user, a
/// tenant with its apps, an application user (disabled, as Dataverse does),
/// a share the world declared and a subscription; a share a caller made
/// through the APIs stays, and so does a secret hash under a key this
/// replica does not hold (another replica's, in a rolling key rotation).
#[tokio::test]
async fn a_shrunken_world_revokes_what_it_declared_and_keeps_what_callers_made() {
    const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
    const GONE_APP: &str = "6e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
    const OTHER_TENANT_APP: &str = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    const ENV: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
    const LENT: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
    const GIVEN: &str = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a";
    const KEPT_SUB: &str = "11111111-2222-4333-8444-555555555555";
    const GONE_SUB: &str = "22222222-3333-4444-8555-666666666666";
    let world = |full: bool| {
        let (gone_app, gone_user, app_users, lent_to, gone_sub, other_tenant) = match full {
            true => (
                format!(
                    "[[tenants.apps]]\ndisplay_name = \"old-pipeline\"\nclient_id = \"{GONE_APP}\"\nsecrets = [\"old-pipeline-secret\"]\n"
                ),
                "[[tenants.users]]\nupn = \"leaver@contoso.onmicrosoft.com\"\ndisplay_name = \"Leaver\"\npassword = \"leaver-password\"\n",
                format!("\"{APP}\", \"{GONE_APP}\""),
                format!("shared_with = [{{ client_id = \"{GONE_APP}\", role = \"user\" }}]"),
                format!("[[tenants.subscriptions]]\nid = \"{GONE_SUB}\"\ndisplay_name = \"Old\"\n"),
                format!(
                    "[[tenants]]\nid = \"2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e\"\ndomain = \"fabrikam.onmicrosoft.com\"\n\n[[tenants.apps]]\ndisplay_name = \"fabrikam-pipeline\"\nclient_id = \"{OTHER_TENANT_APP}\"\nsecrets = [\"fabrikam-secret\"]\n"
                ),
            ),
            false => (
                String::new(),
                "",
                format!("\"{APP}\""),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        parse(&format!(
            r#"{TENANT}
[[tenants.users]]
upn = "admin@contoso.onmicrosoft.com"
display_name = "Contoso Admin"
password = "example-password"

{gone_user}
[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "{APP}"
secrets = ["example-secret-value"]

{gone_app}
[[tenants.subscriptions]]
id = "{KEPT_SUB}"
display_name = "Kept"

{gone_sub}
[[tenants.environments]]
id = "{ENV}"
display_name = "Contoso"
org = "contoso"
application_users = [{app_users}]

[[tenants.environments.machine_groups]]
id = "{LENT}"
name = "Lent bots"
owner = "{APP}"
{lent_to}

[[tenants.environments.machine_groups]]
id = "{GIVEN}"
name = "Given bots"
owner = "{APP}"

{other_tenant}"#
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let (full, shrunk) = (world(true), world(false));
    let tenant = full.tenants[0].id;
    let other_tenant = full.tenants[1].id;
    let id = |s: &str| s.parse::<Uuid>().unwrap();
    let env: EnvironmentId = ENV.parse().unwrap();
    let ring = KeyRing::parse(&KeyRing::generate_key(), "test").unwrap();
    let other_ring = KeyRing::parse(&KeyRing::generate_key(), "other replica").unwrap();
    let gone_app_user = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .system_user_for(
                    &env,
                    SystemUserKind::Application {
                        client_id: id(GONE_APP),
                    },
                )
                .await
                .unwrap()
                .unwrap()
        }
    };
    for backend in backends().await {
        let store = &backend.store;
        load_world(store, &ring, &full).await.unwrap();
        let principal = gone_app_user(store).await.id;
        // A caller shares the other group through the APIs, and another
        // replica, with a newer key, hashed the app's secret under it.
        let mut tx = store.begin().await.unwrap();
        tx.grant_share(&Share {
            record: RecordRef::MachineGroup(id(GIVEN)),
            principal_id: principal,
            rights: ShareRole::User.rights(),
        })
        .await
        .unwrap();
        let newer = AppSecret {
            hash: other_ring.keyed_hash(b"example-secret-value"),
            hint: "exa".into(),
            expires_at: None,
        };
        tx.put_app_secret(tenant, id(APP), &newer).await.unwrap();
        tx.commit().await.unwrap();

        load_world(store, &ring, &shrunk).await.unwrap();
        assert!(
            store.app(tenant, id(GONE_APP)).await.unwrap().is_none(),
            "a whole app goes"
        );
        assert!(
            store
                .app_secrets(tenant, id(GONE_APP))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.app(tenant, id(APP)).await.unwrap().is_some());
        assert!(
            store
                .user_by_upn(tenant, "leaver@contoso.onmicrosoft.com")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .user_by_upn(tenant, "admin@contoso.onmicrosoft.com")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .app(other_tenant, id(OTHER_TENANT_APP))
                .await
                .unwrap()
                .is_none(),
            "an unlisted tenant's apps go"
        );
        assert!(
            gone_app_user(store).await.isdisabled,
            "an application user no longer listed is disabled"
        );
        let lent = store
            .share_rights(RecordRef::MachineGroup(id(LENT)), principal)
            .await
            .unwrap();
        assert!(lent.is_empty(), "the world's share goes: {lent:?}");
        let given = store
            .share_rights(RecordRef::MachineGroup(id(GIVEN)), principal)
            .await
            .unwrap();
        assert_eq!(given, ShareRole::User.rights(), "the caller's share stays");
        let subscriptions: Vec<Uuid> = store
            .subscriptions(tenant)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(subscriptions, [id(KEPT_SUB)]);
        let hashes: Vec<Vec<u8>> = store
            .app_secrets(tenant, id(APP))
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.hash)
            .collect();
        assert!(hashes.contains(&newer.hash), "another replica's hash stays");
        assert_eq!(hashes.len(), 2, "this replica's hash and the other's");

        // The next load of the full world enables the application user again.
        load_world(store, &ring, &full).await.unwrap();
        assert!(!gone_app_user(store).await.isdisabled);
        backend.finish().await;
    }
}
