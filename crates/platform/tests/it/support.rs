//! Test fixtures: stores on each backend, worlds, running platforms.

use std::path::{Path, PathBuf};

pub use padconnect_core::{Clock, TestClock};
use padconnect_platform::{Platform, PlatformConfig, RunningPlatform};
use padconnect_store::{Database, Store, SyncMode};
use padconnect_testkit::{
    App, Environment, Group, Machine, Share, StandaloneMachine, Subscription, Tenant, World,
};
use tempfile::TempDir;

pub const PG_ENV: &str = "PADCONNECT_TEST_DATABASE_URL";
/// What a PostgreSQL-only test says when run without a server: such tests
/// are `#[ignore]`d, so `cargo test` reports them skipped rather than
/// passing them silently, and CI runs them with `--include-ignored`.
pub const PG_NEEDED: &str = "this test needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test)";

/// A store under test, with what keeps it alive and how to clean it up.
pub struct TestStore {
    pub store: Store,
    pub database: Database,
    _dir: Option<TempDir>,
    pg_schema: Option<(String, String)>,
}

impl TestStore {
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((url, schema)) = self.pg_schema {
            pg_execute(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

/// A fresh SQLite store in a temporary dir.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::in_data_dir(dir.path());
    let store = Store::open(&database, SyncMode::Normal).await.unwrap();
    TestStore {
        store,
        database,
        _dir: Some(dir),
        pg_schema: None,
    }
}

/// Drops a schema made by [`postgres_url`].
pub async fn drop_schema(base: &str, schema: &str) {
    pg_execute(base, &format!("DROP SCHEMA {schema} CASCADE")).await;
}

async fn pg_execute(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// A fresh PostgreSQL database URL (its own schema), when the suite has one.
pub async fn postgres_url() -> Option<(String, String, String)> {
    let base = std::env::var(PG_ENV).ok()?;
    let schema = format!("padconnect_test_{}", uuid::Uuid::new_v4().simple());
    pg_execute(&base, &format!("CREATE SCHEMA {schema}")).await;
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    Some((url, base, schema))
}

/// A fresh PostgreSQL store in its own schema, when the suite has a server.
pub async fn postgres() -> Option<TestStore> {
    let (url, base, schema) = postgres_url().await?;
    let database = Database::Postgres(url);
    let store = Store::open(&database, SyncMode::Normal).await.unwrap();
    Some(TestStore {
        store,
        database,
        _dir: None,
        pg_schema: Some((base, schema)),
    })
}

/// Every backend this run can test: SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}

pub fn example_world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/world.toml")
}

pub fn config(data_dir: &Path) -> PlatformConfig {
    PlatformConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        ..PlatformConfig::default()
    }
}

/// A platform on a free port with the example world, in a temporary dir.
pub async fn start_example() -> (RunningPlatform, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.world = Some(example_world());
    let running = Platform::start(config).await.unwrap();
    (running, dir)
}

/// A world for identity tests: an app with a secret and an expired one, an
/// app with a certificate (its PEM, key included, written beside the world),
/// an app with no application user, a user, and an environment.
pub struct IdentityWorld {
    pub dir: TempDir,
    pub world: PathBuf,
    /// PEM with the certificate and its private key.
    pub cert_pem: String,
    /// PEM of a certificate registered nowhere.
    pub stranger_pem: String,
}

pub const TENANT_ID: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
pub const SECRET_APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
pub const SECRET_APP_OID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
pub const SECRET: &str = "example-secret-value";
pub const EXPIRED_SECRET: &str = "old-secret-value";
pub const CERT_APP: &str = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const LONELY_APP: &str = "7b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
pub const SUBSCRIPTION: &str = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
pub const USER: &str = "admin@contoso.onmicrosoft.com";
pub const PASSWORD: &str = "example-password";
pub const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
pub const ENV_HOST: &str = "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com";
pub const SHARED_GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";
pub const PRIVATE_GROUP: &str = "b5e2d4c3-1a0f-4e9b-8d6c-7f6e5d4c3b2a";
pub const STANDALONE_GROUP: &str = "c6f3e5d4-2b1a-4f0c-9e7d-8a7f6e5d4c3b";
pub const OTHER_ENV: &str = "00000000-0000-0000-0000-000000000123";
pub const OTHER_ENV_GROUP: &str = "d7a4f6e5-3c2b-4a1d-8f8e-9b8a7f6e5d4c";

pub fn identity_world() -> IdentityWorld {
    let dir = tempfile::tempdir().unwrap();
    let cert = padconnect_testkit::keys::certificate("deploy-pipeline");
    let stranger = padconnect_testkit::keys::certificate("stranger");
    std::fs::write(dir.path().join("cert.pem"), &cert.cert_pem).unwrap();
    let world = World::new()
        .tenant(
            Tenant::new(TENANT_ID, TENANT_DOMAIN)
                .admin(USER)
                // Public client flows allowed: the tests' people sign in
                // through it with a password alone.
                .app(
                    App::new("deploy-pipeline", SECRET_APP)
                        .object_id(SECRET_APP_OID)
                        .secret(SECRET)
                        .secret_expiring(EXPIRED_SECRET, "2020-01-01T00:00:00Z")
                        .public_client(),
                )
                .app(App::new("cert-pipeline", CERT_APP).certificate("cert.pem"))
                .app(App::new("lonely", LONELY_APP).secret(SECRET))
                .subscription(Subscription::new(SUBSCRIPTION, "Contoso Automation"))
                .user(USER, "Contoso Admin", PASSWORD)
                .environment(
                    Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
                        .application_user(SECRET_APP)
                        .application_user(CERT_APP)
                        .maker(USER)
                        .group(
                            Group::new(SHARED_GROUP, "Finance bots", USER)
                                .machine(Machine::new("FIN-VM-01"))
                                .shared_with(Share::app(SECRET_APP, "user")),
                        )
                        .group(
                            Group::new(PRIVATE_GROUP, "HR bots", USER)
                                .machine(Machine::new("HR-VM-01")),
                        )
                        .machine(
                            StandaloneMachine::new("LAPTOP-07", USER)
                                .group_id(STANDALONE_GROUP)
                                .shared_with(Share::app(SECRET_APP, "user")),
                        ),
                )
                .environment(
                    Environment::new(OTHER_ENV, "Contoso Test", "contosotest")
                        .application_user(SECRET_APP)
                        .maker(USER)
                        .group(
                            Group::new(OTHER_ENV_GROUP, "Test bots", USER)
                                .shared_with(Share::app(SECRET_APP, "user")),
                        ),
                ),
        )
        .write_to(dir.path());
    IdentityWorld {
        dir,
        world,
        cert_pem: cert.pem_with_key(),
        stranger_pem: stranger.pem_with_key(),
    }
}

/// An access token for `scope` as app `client_id` (its secret is
/// [`SECRET`]), from the platform's token endpoint through the client's own
/// `TokenClient`: the one way the tests get an app's token.
pub async fn app_token_for(platform: &RunningPlatform, client_id: &str, scope: &str) -> String {
    padconnect_testkit::token::app_token(&platform.url(), TENANT_ID, client_id, SECRET, scope).await
}

/// An access token for `scope` as the tenant's administrator [`USER`],
/// signed in with its password through [`SECRET_APP`].
pub async fn user_token(platform: &RunningPlatform, scope: &str) -> String {
    let user = (USER, PASSWORD);
    padconnect_testkit::token::user_token(&platform.url(), TENANT_ID, SECRET_APP, user, scope).await
}

/// An access token for `scope` as the secret app, from the token endpoint at
/// `url` (`.../oauth2/v2.0/token`), through `http`.
pub async fn secret_token(http: &reqwest::Client, url: &str, scope: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", SECRET_APP),
        ("client_secret", SECRET),
        ("scope", scope),
    ];
    let reply = padconnect_testkit::Client::with(http.clone(), url)
        .post_form("", &form)
        .await;
    let reply = reply.json();
    match reply["access_token"].as_str() {
        Some(token) => token.to_owned(),
        None => panic!("no token from {url}: {reply}"),
    }
}

/// A platform serving the identity world.
pub async fn start_identity(tls: bool) -> (RunningPlatform, IdentityWorld) {
    start_identity_on(tls, Clock::system()).await
}

/// [`start_identity`] on `clock`, for a test that passes time.
pub async fn start_identity_on(tls: bool, clock: Clock) -> (RunningPlatform, IdentityWorld) {
    let world = identity_world();
    let mut config = config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    config.tls = tls;
    (Platform::start_on(config, clock).await.unwrap(), world)
}

/// Reads until the peer closes; false if it is still open after `limit`.
pub async fn closed_within(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: std::time::Duration,
) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}
