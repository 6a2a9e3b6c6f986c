//! A built world, with every key the builder writes, read back by the
//! platform's own loader.

use padconnect_domain::world::{PrincipalRef, World as Loaded};

use super::*;

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const APP_OID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const PUBLIC_APP: &str = "6e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const MAKER: &str = "maker@contoso.onmicrosoft.com";
const SUBSCRIPTION: &str = "2b8c7d6e-5f40-4c1e-9f3a-5f0e9a1c6b7d";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
const MACHINE_ID: &str = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a";
const HIDDEN_GROUP: &str = "c6f3e5d4-2b1a-4f0c-9e7d-8a7f6e5d4c3b";
const CREDENTIAL: &str = "7d6e5f40-2b8c-4c1e-9f3a-5f0e9a1c6b7d";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn every_key() -> World {
    World::new().tenant(
        Tenant::new(TENANT, "contoso.onmicrosoft.com")
            .admin(ADMIN)
            .admin(APP)
            .app(
                App::new("deploy-pipeline", APP)
                    .object_id(APP_OID)
                    .secret("example-secret-value")
                    .secret_expiring("next-secret-value", "2027-01-01T00:00:00Z")
                    .certificate("certs/deploy.pem")
                    .federated(Federated::new(
                        ISSUER,
                        "repo:contoso/payroll:ref:refs/heads/main",
                    ))
                    .federated(
                        Federated::new(ISSUER, "repo:contoso/other").audiences(["api://other"]),
                    ),
            )
            .app(App::new("portal", PUBLIC_APP).public_client())
            .user(ADMIN, "Contoso Admin", "example-password")
            .user(MAKER, "Payroll Maker", "another-password")
            .subscription(Subscription::new(SUBSCRIPTION, "Contoso Automation").state("warned"))
            .environment(
                Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                    .application_user(APP)
                    .maker(ADMIN)
                    .maker(MAKER)
                    .ready_after_seconds(5)
                    .import_seconds(2)
                    .group(
                        Group::new(GROUP, "Finance bots", ADMIN)
                            .description("Payroll and invoices")
                            .machine(Machine::new("FIN-VM-01"))
                            .machine(
                                Machine::new("PAY-01")
                                    .run_seconds(30)
                                    .lockout_threshold(3)
                                    .fail_with("SessionCreationError")
                                    .account(Account::new("CONTOSO\\svc-bot", "Wind0ws!")),
                            )
                            .machine(Machine::new("PAY-02").offline())
                            .shared_with(Share::app(APP, "user"))
                            .shared_with(Share::user(MAKER, "co-owner")),
                    )
                    .machine(
                        StandaloneMachine::new("HR-LAPTOP-07", ADMIN)
                            .id(MACHINE_ID)
                            .group_id(HIDDEN_GROUP)
                            .description("HR's laptop")
                            .offline()
                            .run_seconds(7)
                            .fail_with("SessionCreationError")
                            .lockout_threshold(0)
                            .account(
                                Account::new(".\\hr-bot", "L0cal!")
                                    .denied_logon()
                                    .signed_in(),
                            )
                            .shared_with(Share::app(APP, "user")),
                    )
                    .credential(
                        Credential::new(CREDENTIAL, "payroll-login", ADMIN)
                            .kind("CyberArkIdentity")
                            .shared_with(Share::app(APP, "user")),
                    ),
            ),
    )
}

fn certificate(dir: &Path) {
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    let made = crate::keys::certificate("deploy");
    std::fs::write(dir.join("certs/deploy.pem"), &made.cert_pem).unwrap();
}

#[test]
fn a_certificate_is_made_once_per_subject() {
    let (a, again, b) = (
        crate::keys::certificate("a"),
        crate::keys::certificate("a"),
        crate::keys::certificate("b"),
    );
    assert!(std::sync::Arc::ptr_eq(&a, &again));
    assert_ne!(a.key_der, b.key_der);
    assert!(a.pem_with_key().contains("BEGIN PRIVATE KEY"));
}

#[test]
fn a_built_world_loads_and_holds_what_was_built() {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path());
    let path = every_key().write_to(dir.path());
    assert_eq!(path, dir.path().join("world.toml"));
    let world =
        Loaded::from_file(&path).unwrap_or_else(|e| panic!("{e}\n{}", every_key().to_toml()));

    let [tenant] = &world.tenants[..] else {
        panic!("one tenant")
    };
    assert_eq!(tenant.id.to_string(), TENANT);
    assert_eq!(tenant.domain, "contoso.onmicrosoft.com");
    assert_eq!(tenant.admins, [ADMIN, APP]);

    let [app, public] = &tenant.apps[..] else {
        panic!("two apps")
    };
    assert_eq!(
        (app.display_name.as_str(), app.client_id.to_string()),
        ("deploy-pipeline", APP.to_owned())
    );
    assert_eq!(app.object_id.to_string(), APP_OID);
    let secrets: Vec<_> = app
        .secrets
        .iter()
        .map(|s| (s.value.as_str(), s.expires.is_some()))
        .collect();
    assert_eq!(
        secrets,
        [("example-secret-value", false), ("next-secret-value", true)]
    );
    assert_eq!(app.certificates.len(), 1);
    let federated: Vec<_> = app
        .federated_credentials
        .iter()
        .map(|f| (f.subject.as_str(), f.audiences.clone()))
        .collect();
    assert_eq!(
        federated,
        [
            (
                "repo:contoso/payroll:ref:refs/heads/main",
                vec!["api://AzureADTokenExchange".to_owned()]
            ),
            ("repo:contoso/other", vec!["api://other".to_owned()]),
        ]
    );
    assert!(!app.public_client);
    assert!(public.public_client && public.secrets.is_empty());

    let users: Vec<_> = tenant
        .users
        .iter()
        .map(|u| (u.upn.as_str(), u.display_name.as_str(), u.password.as_str()))
        .collect();
    assert_eq!(
        users,
        [
            (ADMIN, "Contoso Admin", "example-password"),
            (MAKER, "Payroll Maker", "another-password")
        ]
    );
    let [subscription] = &tenant.subscriptions[..] else {
        panic!("one subscription")
    };
    assert_eq!(
        (
            subscription.id.to_string(),
            subscription.display_name.as_str(),
            subscription.state.as_str()
        ),
        (SUBSCRIPTION.to_owned(), "Contoso Automation", "Warned")
    );

    let [environment] = &tenant.environments[..] else {
        panic!("one environment")
    };
    assert_eq!(environment.id.to_string(), ENVIRONMENT);
    assert_eq!(
        (environment.display_name.as_str(), environment.org.as_str()),
        ("Contoso Production", "contoso")
    );
    assert_eq!(
        environment
            .application_users
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [APP]
    );
    assert_eq!(environment.makers, [ADMIN, MAKER]);
    assert_eq!(
        (environment.ready_after_seconds, environment.import_seconds),
        (Some(5), Some(2))
    );

    let [group, hidden] = &environment.machine_groups[..] else {
        panic!("a group and a hidden one")
    };
    assert_eq!(
        (group.id.to_string(), group.name.as_str()),
        (GROUP.to_owned(), "Finance bots")
    );
    assert_eq!(group.description, "Payroll and invoices");
    assert!(!group.hidden);
    assert_eq!(group.owner, PrincipalRef::User(ADMIN.to_owned()));
    let shares: Vec<_> = group
        .shared_with
        .iter()
        .map(|(p, r)| format!("{p:?} {r:?}"))
        .collect();
    assert_eq!(
        shares,
        [
            format!("App({APP}) User"),
            format!("User(\"{MAKER}\") CoOwner")
        ]
    );
    let [fin, pay, off] = &group.machines[..] else {
        panic!("three machines")
    };
    assert_eq!(fin.name, "FIN-VM-01");
    assert!(fin.accounts.is_empty() && fin.runtime.online && fin.runtime.fail_with.is_none());
    assert_eq!(pay.name, "PAY-01");
    assert_eq!(
        (pay.runtime.run_seconds, pay.runtime.lockout_threshold),
        (30, 3)
    );
    assert_eq!(
        pay.runtime.fail_with.as_deref(),
        Some("SessionCreationError")
    );
    let [account] = &pay.accounts[..] else {
        panic!("one account")
    };
    assert_eq!(
        (account.username.as_str(), account.password.as_str()),
        ("CONTOSO\\svc-bot", "Wind0ws!")
    );
    assert!(account.can_log_on && !account.signed_in);
    assert_eq!(off.name, "PAY-02");
    assert!(!off.runtime.online);

    assert!(hidden.hidden);
    assert_eq!(hidden.id.to_string(), HIDDEN_GROUP);
    assert_eq!(hidden.owner, PrincipalRef::User(ADMIN.to_owned()));
    assert_eq!(hidden.shared_with.len(), 1);
    let [laptop] = &hidden.machines[..] else {
        panic!("one machine")
    };
    assert_eq!(
        (laptop.id.to_string(), laptop.name.as_str()),
        (MACHINE_ID.to_owned(), "HR-LAPTOP-07")
    );
    assert_eq!(laptop.description, "HR's laptop");
    assert!(!laptop.runtime.online);
    assert_eq!(
        (laptop.runtime.run_seconds, laptop.runtime.lockout_threshold),
        (7, 0)
    );
    assert_eq!(
        laptop.runtime.fail_with.as_deref(),
        Some("SessionCreationError")
    );
    let [account] = &laptop.accounts[..] else {
        panic!("one account")
    };
    assert_eq!(account.username, ".\\hr-bot");
    assert!(!account.can_log_on && account.signed_in);

    let [credential] = &environment.credentials[..] else {
        panic!("one credential")
    };
    assert_eq!(
        (credential.id.to_string(), credential.name.as_str()),
        (CREDENTIAL.to_owned(), "payroll-login")
    );
    assert_eq!(format!("{:?}", credential.kind), "CyberArkIdentity");
    assert_eq!(credential.owner, PrincipalRef::User(ADMIN.to_owned()));
    assert_eq!(credential.shared_with.len(), 1);
}

/// What is left at its default is not written, and a secret without an
/// expiry is a plain string: the file reads as one written by hand.
#[test]
fn only_what_was_set_is_written() {
    let text = World::new()
        .tenant(
            Tenant::new(TENANT, "contoso.onmicrosoft.com")
                .app(App::new("a", APP).secret("s"))
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso", "contoso")
                        .application_user(APP)
                        .group(Group::new(GROUP, "Bots", APP).machine(Machine::new("VM-01"))),
                ),
        )
        .to_toml();
    assert!(text.contains("secrets = [\"s\"]"), "{text}");
    assert!(text.contains("machines = [\"VM-01\"]"), "{text}");
    for absent in [
        "object_id",
        "public_client",
        "admins",
        "[[tenants.users]]",
        "description",
        "online",
        "shared_with",
        "ready_after_seconds",
    ] {
        assert!(!text.contains(absent), "{absent}: {text}");
    }
    Loaded::parse(&text, Path::new("."), "built").unwrap();
}

/// A world the loader refuses can be built, to see it refused.
#[test]
fn an_invalid_world_can_be_built() {
    let text = World::new()
        .tenant(Tenant::new("not-a-guid", "contoso.onmicrosoft.com"))
        .to_toml();
    let error = Loaded::parse(&text, Path::new("."), "built")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("tenants[0].id: 'not-a-guid' is not a GUID"),
        "{error}"
    );
}

/// The example module's world is `examples/world.toml`, as the loader sees both.
#[test]
fn the_example_is_examples_world_toml() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/world.toml");
    let built = example::world().to_toml();
    assert_eq!(
        Loaded::from_file(&file).unwrap(),
        Loaded::parse(&built, file.parent().unwrap(), "built").unwrap(),
        "{built}"
    );
}
