//! Test fixtures: stores on each backend, worlds, running platforms.

use std::path::{Path, PathBuf};

use padconnect_platform::store::{Database, Store, SyncMode};
use padconnect_platform::{Platform, PlatformConfig, RunningPlatform};
use tempfile::TempDir;

pub const PG_ENV: &str = "PADCONNECT_TEST_DATABASE_URL";

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
