//! The domain's authorization rules, table by table, against a real store
//! (SQLite in a temporary directory) loaded from a world: who holds which
//! rights on a machine group, its machines and a credential, what each may
//! read, create and grant; who stands where on a connection, and how far
//! each may share it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use padconnect_core::{AccessRights, ShareRole};
use padconnect_core::{ConnectionId, ConnectorName, ParameterSet};
use padconnect_domain::admins::{self, Principal as Admin};
use padconnect_domain::connections::sharing::{self, Grant};
use padconnect_domain::connections::{self, Standing, vault};
use padconnect_domain::fleet::{self, Actor, UserOwned};
use padconnect_domain::keyring::KeyRing;
use padconnect_domain::solutions;
use padconnect_domain::system_users;
use padconnect_domain::world::{World, load_world};
use padconnect_domain::{Error, Forbidden};
use padconnect_store::{
    Connection, Database, MachineGroup, Principal, PrincipalType, Store, SyncMode, SystemUser,
};
use tempfile::TempDir;
use uuid::Uuid;

const TENANT: &str = "5d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const ENV: &str = "9f1d0c6e-2b7a-4e58-8c3d-5a6b7c8d9e0f";

/// A tenant with one environment: `owner` owns group G (one machine) and
/// a credential, both shared with `operator` as User and `deputy` as
/// Co-owner; `stranger` is a
/// maker G is not shared with; `admin` administers the tenant and `viewer`
/// is an application user G is not shared with. A second environment
/// holds a group of its own.
const WORLD: &str = r#"
[[tenants]]
id = "5d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
domain = "contoso.onmicrosoft.com"
admins = ["admin@contoso.onmicrosoft.com"]
users = [
  { upn = "owner@contoso.onmicrosoft.com", display_name = "Owner", password = "correct horse 1" },
  { upn = "operator@contoso.onmicrosoft.com", display_name = "Operator", password = "correct horse 2" },
  { upn = "deputy@contoso.onmicrosoft.com", display_name = "Deputy", password = "correct horse 3" },
  { upn = "stranger@contoso.onmicrosoft.com", display_name = "Stranger", password = "correct horse 4" },
  { upn = "admin@contoso.onmicrosoft.com", display_name = "Admin", password = "correct horse 5" },
]
apps = [
  { display_name = "viewer", client_id = "0b7e2f4a-9c1d-4e6f-8a2b-3c4d5e6f7a8b", object_id = "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b", secrets = ["a secret of the viewer app"] },
  { display_name = "runner", client_id = "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f", object_id = "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c", secrets = ["a secret of the runner app"] },
]

[[tenants.environments]]
id = "9f1d0c6e-2b7a-4e58-8c3d-5a6b7c8d9e0f"
display_name = "Main"
org = "main"
makers = ["owner@contoso.onmicrosoft.com", "operator@contoso.onmicrosoft.com", "deputy@contoso.onmicrosoft.com", "stranger@contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com"]
application_users = ["0b7e2f4a-9c1d-4e6f-8a2b-3c4d5e6f7a8b"]

[[tenants.environments.machine_groups]]
id = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
name = "G"
owner = "owner@contoso.onmicrosoft.com"
machines = ["M1"]
shared_with = [{ upn = "operator@contoso.onmicrosoft.com", role = "user" }, { upn = "deputy@contoso.onmicrosoft.com", role = "co-owner" }]

[[tenants.environments.credentials]]
id = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
name = "payroll-login"
owner = "owner@contoso.onmicrosoft.com"
shared_with = [{ upn = "operator@contoso.onmicrosoft.com", role = "user" }, { upn = "deputy@contoso.onmicrosoft.com", role = "co-owner" }]

[[tenants.environments]]
id = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
display_name = "Other"
org = "other"
makers = ["owner@contoso.onmicrosoft.com"]

[[tenants.environments.machine_groups]]
id = "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c"
name = "Elsewhere"
owner = "owner@contoso.onmicrosoft.com"
"#;

const GROUP: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const CREDENTIAL: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
/// The object ids of the two apps' service principals.
const VIEWER_APP: &str = "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b";
const RUNNER_APP: &str = "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c";
/// The object id of the principal that creates the connection.
const CREATOR: &str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
/// An object id no principal of the tenant has.
const STRANGER: &str = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
const OTHER_ENVIRONMENTS_GROUP: &str = "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c";

struct Fixture {
    _dir: TempDir,
    store: Store,
    users: Vec<SystemUser>,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keyring = KeyRing::load(dir.path()).unwrap();
        let store = Store::open(&Database::in_data_dir(dir.path()), SyncMode::Normal)
            .await
            .unwrap();
        let world = World::parse(WORLD, dir.path(), "world.toml").unwrap();
        load_world(&store, &keyring, &world).await.unwrap();
        let users = store.system_users(&ENV.parse().unwrap()).await.unwrap();
        Self {
            _dir: dir,
            store,
            users,
        }
    }

    /// The systemuser of the main environment whose name starts `who`
    /// (a UPN's local part, or the application user's app name).
    fn user(&self, who: &str) -> &SystemUser {
        self.users
            .iter()
            .find(|u| u.domainname.starts_with(who) || u.fullname.eq_ignore_ascii_case(who))
            .unwrap_or_else(|| panic!("no systemuser {who} in {:?}", self.users))
    }

    fn actor(&self, who: &str) -> Actor<'_> {
        Actor {
            user: self.user(who),
            admin: who == "admin",
        }
    }

    async fn group(&self) -> MachineGroup {
        self.store
            .machine_group(GROUP.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
    }
}

/// Who holds what on G, and so what each may read.
fn rights_table() -> [(&'static str, AccessRights); 6] {
    [
        ("owner", AccessRights::all()),
        ("admin", AccessRights::all()),
        ("deputy", ShareRole::CoOwner.rights()),
        ("operator", ShareRole::User.rights()),
        ("stranger", AccessRights::empty()),
        ("viewer", AccessRights::empty()),
    ]
}

#[tokio::test]
async fn a_groups_rights_come_from_owning_administering_or_sharing() {
    let fixture = Fixture::new().await;
    let group = fixture.group().await;
    for (who, expected) in rights_table() {
        let held = fleet::record_rights(&fixture.store, fixture.actor(who), &group)
            .await
            .unwrap();
        assert_eq!(held, expected, "{who}");
    }
}

#[tokio::test]
async fn a_group_and_its_machine_are_read_by_those_holding_read_access() {
    let fixture = Fixture::new().await;
    let group = fixture.group().await;
    let machine = fixture.store.machines_in_group(group.id).await.unwrap()[0].id;
    for (who, rights) in rights_table() {
        let actor = fixture.actor(who);
        let read = fleet::read_group(&fixture.store, actor, group.id).await;
        let read_machine = fleet::read_machine(&fixture.store, actor, machine).await;
        let listed = fleet::readable_groups(&fixture.store, actor).await.unwrap();
        if rights.contains(AccessRights::READ) {
            assert_eq!(read.unwrap(), (group.clone(), rights), "{who}");
            let (found, of_group, held) = read_machine.unwrap();
            assert_eq!(
                (found.id, of_group.id, held),
                (machine, group.id, rights),
                "{who}"
            );
            assert_eq!(listed, vec![(group.clone(), rights)], "{who}");
        } else {
            for refused in [read.map(|_| ()), read_machine.map(|_| ())] {
                match refused {
                    Err(Error::Forbidden(Forbidden::Rights { missing, .. })) => {
                        assert_eq!(missing, AccessRights::READ, "{who}")
                    }
                    other => panic!("{who}: {other:?}"),
                }
            }
            assert!(listed.is_empty(), "{who}: {listed:?}");
        }
    }
}

#[tokio::test]
async fn a_credential_is_read_as_a_group_is_and_used_by_its_owner_and_sharees() {
    let fixture = Fixture::new().await;
    let id = CREDENTIAL.parse().unwrap();
    for (who, rights) in rights_table() {
        let actor = fixture.actor(who);
        let credential = vault::find(&fixture.store, actor, id).await.unwrap();
        let held = fleet::record_rights(&fixture.store, actor, &credential)
            .await
            .unwrap();
        assert_eq!(held, rights, "{who}");
        let readable = rights.contains(AccessRights::READ);
        assert_eq!(
            vault::read(&fixture.store, actor, id).await.is_ok(),
            readable,
            "{who}"
        );
        let listed = vault::readable(&fixture.store, actor).await.unwrap();
        assert_eq!(listed.len(), usize::from(readable), "{who}");
    }
    // Using one in a connection takes owning it or a share
    // (`vault::usable`): the platform gives administrators no such use, and
    // no public source found says the cloud does.
    for (who, may) in [
        ("owner", true),
        ("operator", true),
        ("deputy", true),
        ("stranger", false),
        ("admin", false),
    ] {
        let used = vault::usable(&fixture.store, fixture.user(who), id).await;
        assert_eq!(used.is_ok(), may, "{who}: {:?}", used.err());
    }
}

#[tokio::test]
async fn another_environments_group_is_not_found_even_by_its_owner() {
    let fixture = Fixture::new().await;
    let id = OTHER_ENVIRONMENTS_GROUP.parse().unwrap();
    for who in ["owner", "admin"] {
        match fleet::read_group(&fixture.store, fixture.actor(who), id).await {
            Err(Error::NotFound(record)) => assert_eq!(record.entity, "flowmachinegroup"),
            other => panic!("{who}: {other:?}"),
        }
    }
}

/// A tenant's administrators are the names its world lists (a UPN in any
/// case, or an app's client id); a systemuser is a member of its
/// environment while it is enabled.
#[tokio::test]
async fn administrators_are_the_listed_names_and_members_are_enabled_systemusers() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let tenant: Uuid = TENANT.parse().unwrap();
    let viewer_app: Uuid = "0b7e2f4a-9c1d-4e6f-8a2b-3c4d5e6f7a8b".parse().unwrap();
    for (principal, expected) in [
        (Admin::Person("admin@contoso.onmicrosoft.com"), true),
        (Admin::Person("Admin@CONTOSO.onmicrosoft.com"), true),
        (Admin::Person("owner@contoso.onmicrosoft.com"), false),
        (Admin::App(viewer_app), false),
        (Admin::of(fixture.user("admin")), true),
        (Admin::of(fixture.user("viewer")), false),
    ] {
        let admin = admins::is_admin(store, tenant, principal).await.unwrap();
        assert_eq!(admin, expected, "{principal:?}");
    }

    let env = ENV.parse().unwrap();
    let stranger = fixture.user("stranger");
    let member = system_users::member(store, &env, stranger.kind)
        .await
        .unwrap();
    assert_eq!(member.map(|u| u.id), Some(stranger.id));
    system_users::set_disabled(store, stranger, None, true)
        .await
        .unwrap();
    let member = system_users::member(store, &env, stranger.kind)
        .await
        .unwrap();
    assert_eq!(member, None, "a disabled systemuser is no member");
}

#[tokio::test]
async fn makers_and_administrators_create_and_customize_others_do_not() {
    let fixture = Fixture::new().await;
    // Every systemuser the world makes holds Environment Maker (application
    // users too); one without it is that row with the role taken away.
    let mut without_role = fixture.user("stranger").clone();
    without_role.maker = false;
    let cases = [
        (fixture.user("owner"), false, true),
        (fixture.user("viewer"), false, true),
        (&without_role, false, false),
        (&without_role, true, true),
    ];
    for (user, admin, may) in cases {
        let actor = Actor { user, admin };
        let who = (&user.domainname, admin);
        assert_eq!(actor.may_create(), may, "{who:?}");
        assert_eq!(solutions::require_customizer(actor).is_ok(), may, "{who:?}");
    }
}

#[tokio::test]
async fn owned_rows_are_read_by_their_owner_and_administrators_only() {
    let fixture = Fixture::new().await;
    let owner = fixture.user("owner").id;
    for (who, may) in [
        ("owner", true),
        ("admin", true),
        ("deputy", false),
        ("viewer", false),
    ] {
        assert_eq!(
            solutions::may_read_owned(fixture.actor(who), owner),
            may,
            "{who}"
        );
    }
}

#[test]
fn a_sharer_gives_only_rights_it_holds_and_needs_share_access() {
    let user = ShareRole::User.rights();
    let all = AccessRights::all();
    let cases = [
        (all, all, true),
        (all, user, true),
        (user, user, false),
        (user | AccessRights::SHARE, user, true),
        (user | AccessRights::SHARE, all, false),
        (AccessRights::SHARE, AccessRights::READ, false),
        (AccessRights::empty(), AccessRights::empty(), false),
    ];
    for (held, granted, may) in cases {
        assert_eq!(
            fleet::may_grant(held, granted),
            may,
            "{held:?} gives {granted:?}"
        );
    }
}

/// A connection of the main environment created by [`CREATOR`], stored.
async fn connection(fixture: &Fixture, set: ParameterSet) -> Connection {
    let now = fixture.store.now();
    let connection = Connection {
        environment_id: ENV.parse().unwrap(),
        id: ConnectionId::new_random(),
        connector: ConnectorName::uiflow(),
        display_name: "payroll".into(),
        parameter_set: set,
        parameter_values: serde_json::json!({}),
        sealed_secrets: Vec::new(),
        target_group_id: Some(GROUP.parse().unwrap()),
        credential_id: None,
        created_by: Principal {
            id: CREATOR.parse().unwrap(),
            kind: PrincipalType::ServicePrincipal,
            display_name: "creator".into(),
        },
        created_at: now,
        modified_at: now,
    };
    assert!(fixture.store.insert_connection(&connection).await.unwrap());
    connection
}

fn grant(principal: &str, kind: &str, role: &str) -> Grant {
    Grant {
        principal_id: Some(principal.parse().unwrap()),
        principal_type: kind.into(),
        role: role.into(),
    }
}

#[tokio::test]
async fn a_connection_is_shared_only_as_far_as_the_sharer_stands() {
    use sharing::Refusal::*;
    let fixture = Fixture::new().await;
    let run_owner = connection(&fixture, ParameterSet::AzureRelayRunOwner).await;
    let plain = connection(&fixture, ParameterSet::AzureRelay).await;
    let tenant_id = TENANT.parse().unwrap();
    let sp = "ServicePrincipal";
    let cases: [(
        Option<Standing>,
        &Connection,
        Grant,
        Option<sharing::Refusal>,
    ); 10] = [
        (
            None,
            &run_owner,
            grant(VIEWER_APP, sp, "CanView"),
            Some(MayNotShare(run_owner.id.to_string())),
        ),
        (
            Some(Standing::View),
            &run_owner,
            grant(VIEWER_APP, sp, "CanView"),
            Some(MayNotShare(run_owner.id.to_string())),
        ),
        (
            Some(Standing::Share),
            &run_owner,
            grant(VIEWER_APP, sp, "CanEdit"),
            Some(AboveOwnStanding),
        ),
        (
            Some(Standing::Share),
            &run_owner,
            grant(VIEWER_APP, sp, "CanViewWithShare"),
            None,
        ),
        (
            Some(Standing::Edit),
            &run_owner,
            grant(VIEWER_APP, sp, "CanEdit"),
            None,
        ),
        (
            Some(Standing::Edit),
            &run_owner,
            grant(CREATOR, sp, "CanView"),
            Some(Owner(CREATOR.parse().unwrap())),
        ),
        (
            Some(Standing::Edit),
            &run_owner,
            grant(VIEWER_APP, sp, "CanOwn"),
            Some(UnknownRole("CanOwn".into())),
        ),
        (
            Some(Standing::Edit),
            &run_owner,
            grant(VIEWER_APP, "User", "CanView"),
            Some(NotAServicePrincipal),
        ),
        (
            Some(Standing::Edit),
            &run_owner,
            grant(STRANGER, sp, "CanView"),
            Some(UnknownPrincipal(STRANGER.parse().unwrap())),
        ),
        (
            Some(Standing::Edit),
            &plain,
            grant(VIEWER_APP, sp, "CanView"),
            Some(NotShareable {
                id: plain.id.to_string(),
                parameter_set: "azureRelay".into(),
            }),
        ),
    ];
    for (standing, connection, grant, refusal) in cases {
        let what = format!("{standing:?} gives {} {}", grant.principal_type, grant.role);
        let changed = sharing::change(
            &fixture.store,
            tenant_id,
            standing,
            connection,
            vec![grant],
            vec![],
        )
        .await;
        match (changed, refusal) {
            (Ok(()), None) => {}
            (Err(Error::Sharing(got)), Some(expected)) => assert_eq!(got, expected, "{what}"),
            (other, expected) => panic!("{what}: {other:?}, expected {expected:?}"),
        }
    }
}

#[tokio::test]
async fn a_connections_standing_is_the_owners_an_administrators_or_its_role() {
    let fixture = Fixture::new().await;
    let connection = connection(&fixture, ParameterSet::AzureRelayRunOwner).await;
    let tenant_id = TENANT.parse().unwrap();
    let grants = vec![
        grant(VIEWER_APP, "ServicePrincipal", "CanViewWithShare"),
        grant(RUNNER_APP, "ServicePrincipal", "CanEdit"),
    ];
    sharing::change(
        &fixture.store,
        tenant_id,
        Some(Standing::Edit),
        &connection,
        grants,
        vec![],
    )
    .await
    .unwrap();
    let cases = [
        (CREATOR, false, Some(Standing::Edit)),
        (STRANGER, true, Some(Standing::Edit)),
        (STRANGER, false, None),
        (VIEWER_APP, false, Some(Standing::Share)),
        (RUNNER_APP, false, Some(Standing::Edit)),
    ];
    for (who, admin, expected) in cases {
        let standing =
            connections::standing(&fixture.store, who.parse().unwrap(), admin, &connection)
                .await
                .unwrap();
        assert_eq!(standing, expected, "{who} admin={admin}");
    }
    // One who may share but not edit cannot take access from an editor.
    let refused = sharing::change(
        &fixture.store,
        tenant_id,
        Some(Standing::Share),
        &connection,
        vec![],
        vec![RUNNER_APP.parse().unwrap()],
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(Error::Sharing(sharing::Refusal::ChangesSomeoneAbove))
        ),
        "{refused:?}"
    );
}

/// The portal's Share panel does not offer the owner or a disabled user;
/// Dataverse's GrantAccess takes both, as Microsoft documents no such
/// refusal (fleet::not_offered says why).
#[tokio::test]
async fn the_share_panel_offers_neither_the_owner_nor_a_disabled_user_grant_access_takes_them() {
    let fixture = Fixture::new().await;
    let group = fixture.group().await;
    let stranger = fixture.user("stranger").clone();
    padconnect_domain::system_users::set_disabled(&fixture.store, &stranger, None, true)
        .await
        .unwrap();
    let stranger = fixture
        .store
        .system_user(stranger.id)
        .await
        .unwrap()
        .unwrap();
    let owner = fixture.user("owner");
    let offered = |user: &SystemUser| fleet::not_offered(user, &group);
    assert!(
        offered(owner)
            .unwrap()
            .starts_with("The owner already holds")
    );
    assert!(
        offered(&stranger)
            .unwrap()
            .starts_with("This user is disabled")
    );
    for enabled in ["viewer", "operator", "admin"] {
        assert_eq!(offered(fixture.user(enabled)), None, "{enabled}");
    }

    let grant = fleet::Change::Grant(AccessRights::READ);
    for principal in [&stranger, owner] {
        let actor = fixture.actor("owner");
        fleet::share_record(&fixture.store, actor, &group, principal, grant)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", principal.domainname));
        let held = fixture
            .store
            .share_rights(group.record(), principal.id)
            .await;
        assert_eq!(
            held.unwrap(),
            AccessRights::READ,
            "{}",
            principal.domainname
        );
    }
}
