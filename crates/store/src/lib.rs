//! One storage interface for everything the platform keeps, over two
//! backends: SQLite (embedded, the default) and PostgreSQL (a shared
//! instance with several replicas).
//!
//! Each query is written once, in SQL both databases run, and compiled for
//! both. The queries live by aggregate, each file with its reads on
//! [`Store`] and its writes on [`Tx`]:
//!
//! - `identity.rs`: tenants and their administrators, apps with their
//!   secrets and certificates, users, signing keys, assertion ids seen;
//! - `environments.rs`: environments and their systemusers;
//! - `machines.rs`: machine groups, machines, and what is shared of them;
//! - `connections.rs`: connections, their permissions and target facts;
//! - `portal.rs`: portal sessions, and what else the portal reads or writes;
//! - `subscriptions.rs`: a tenant's Azure subscriptions (ARM);
//! - `solutions.rs`, `connection_references.rs`, `workflows.rs`,
//!   `environment_variables.rs`: solutions and what they bring;
//! - `async_operations.rs`: system jobs (imports);
//! - `flow_sessions.rs`: desktop flow runs, and the machine and account
//!   facts a run reads and writes.
//!
//! Under them, `rows.rs` holds the row structs and their conversions into
//! the types of `model.rs`, and `sql.rs` the macros that compile a query
//! for both backends: `fetch_row!`/`fetch_rows!` (reads), `exec!` (writes,
//! which hands the body a connection of the backend at hand) and the
//! shorthands built on them. `counts`, which reads every table, is here.
//!
//! SQLite reads run on the calling thread ([`sqlite_reads`]), what a
//! connection GET read is kept until the next write, on any replica
//! ([`connection_cache`]), and
//! new connections are written in batches ([`connection_inserts`]). Rules
//! stay out of here: the store keeps and finds, the services decide.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=NORMAL` by default,
//! which keeps every committed transaction across a crash of the process
//! (the WAL is in the OS's hands once `COMMIT` returns); `SyncMode::Full`
//! also syncs each commit to disk, for power loss. All SQLite writes go
//! through one connection, so writers never contend for the lock.

mod async_operations;
mod connection_cache;
mod connection_inserts;
mod connection_references;
mod connections;
mod credentials;
mod directory;
mod environment_variables;
mod environments;
mod flow_sessions;
mod identity;
mod machines;
mod model;
mod portal;
mod rows;
mod solutions;
mod sql;
pub(crate) mod sqlite_reads;
mod subscriptions;
mod wal_checkpoint;
mod workflows;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use padconnect_core::Clock;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use async_operations::{AsyncOperation, Outcome};
pub use connection_cache::MAX_AGE as CONNECTION_CACHE_MAX_AGE;
pub use connection_references::ConnectionReference;
pub use connections::ConnectionPermission;
pub use directory::Directory;
pub use environment_variables::{VariableDefinition, VariableValue};
pub use flow_sessions::{AccountLogon, FlowSession, MachineRuntime, RunnerMachine};
pub use model::*;
pub use portal::PortalSession;
pub use solutions::{Solution, SolutionUpload};
use sql::fetch_row;
pub(crate) use sqlite_reads::FromSqliteRow;
pub use sqlite_reads::missed_column_guesses;
pub use subscriptions::Subscription;
pub use workflows::Workflow;

/// The schema's migrations, embedded in the binary as `sqlx::migrate!`
/// would embed them (same versions, descriptions and checksums, so
/// databases it migrated carry on), without sqlx's macro crate.
fn migrator() -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    const MIGRATIONS: [(i64, &str, &str); 12] = [
        (1, "initial", include_str!("../migrations/0001_initial.sql")),
        (2, "portal", include_str!("../migrations/0002_portal.sql")),
        (
            3,
            "subscriptions",
            include_str!("../migrations/0003_subscriptions.sql"),
        ),
        (
            4,
            "environment ready",
            include_str!("../migrations/0004_environment_ready.sql"),
        ),
        (
            5,
            "federated credentials",
            include_str!("../migrations/0005_federated_credentials.sql"),
        ),
        (
            6,
            "public client",
            include_str!("../migrations/0006_public_client.sql"),
        ),
        (
            7,
            "machine accounts",
            include_str!("../migrations/0007_machine_accounts.sql"),
        ),
        (
            8,
            "credentials",
            include_str!("../migrations/0008_credentials.sql"),
        ),
        (
            9,
            "solutions",
            include_str!("../migrations/0009_solutions.sql"),
        ),
        (
            10,
            "flow sessions",
            include_str!("../migrations/0010_flow_sessions.sql"),
        ),
        (
            11,
            "world origin",
            include_str!("../migrations/0011_world_origin.sql"),
        ),
        (
            12,
            "one run per machine",
            include_str!("../migrations/0012_one_run_per_machine.sql"),
        ),
    ];
    Migrator::with_migrations(
        MIGRATIONS
            .into_iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    BadUrl(String),
    /// A write whose outcome is unknown: the database may or may not have it.
    #[error("database error, the write may or may not have been kept: {0}")]
    Unknown(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// When a committed SQLite transaction reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Survives a crash of the process; a power loss may lose the last commits.
    #[default]
    Normal,
    /// Survives a power loss: every commit is synced.
    Full,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// The embedded default: `platform.db` in the data dir.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("platform.db"))
    }

    /// `sqlite:PATH`, `sqlite://PATH`, `postgres://...` or `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            _ => Err(StoreError::BadUrl(format!(
                "unsupported database URL: expected sqlite:PATH or postgres://USER@HOST:PORT/DB, got '{}'",
                redact_url(url)
            ))),
        }
    }

    /// For logs: the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => redact_url(url),
        }
    }
}

/// `scheme://user:password@host` becomes `scheme://user:***@host`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => url.to_owned(),
    }
}

#[derive(Clone)]
enum Backend {
    Sqlite {
        read: Arc<sqlite_reads::SqliteReaders>,
        write: SqlitePool,
        /// Copies the WAL into the database in the background.
        checkpointer: SqlitePool,
    },
    Postgres(PgPool),
}

/// The store: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    inserts: connection_inserts::ConnectionInserts,
    /// What connection GETs read, until the next write.
    cache: Arc<connection_cache::ConnectionCache>,
    /// The time everything the platform stamps or compares is read from.
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite { .. } => "Store(sqlite)",
            Backend::Postgres(_) => "Store(postgres)",
        })
    }
}

impl Store {
    /// Connects, creating the SQLite file if needed, and brings the schema up
    /// to date. The store runs on the system's clock.
    pub async fn open(database: &Database, sync: SyncMode) -> Result<Self> {
        Self::open_on(database, sync, Clock::system()).await
    }

    /// [`open`](Self::open), on `clock` (a test's, to pass time without
    /// waiting for it).
    pub async fn open_on(database: &Database, sync: SyncMode, clock: Clock) -> Result<Self> {
        let backend = match database {
            Database::Sqlite(path) => open_sqlite(path, sync).await?,
            Database::Postgres(url) => open_postgres(url).await?,
        };
        let inserts = connection_inserts::ConnectionInserts::start(backend.clone());
        let cache = match &backend {
            Backend::Sqlite { .. } => {
                Arc::new(connection_cache::ConnectionCache::new(true, clock.clone()))
            }
            Backend::Postgres(pool) => {
                let cache = Arc::new(connection_cache::ConnectionCache::new(false, clock.clone()));
                tokio::spawn(connection_cache::follow_writes(pool.clone(), cache.clone()));
                cache
            }
        };
        Ok(Self {
            backend,
            inserts,
            cache,
            clock,
        })
    }

    /// The store's clock, for what times more than a row (a lockout).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, on the store's clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::now_on(&self.clock)
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A write transaction: nothing it does is visible or kept until `commit`.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.backend {
            Backend::Sqlite { write, .. } => TxInner::Sqlite(write.begin().await?),
            Backend::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            cache: self.cache.clone(),
            clock: self.clock.clone(),
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        fetch_row!(self, (i64,), "SELECT CAST(1 AS BIGINT)")?;
        Ok(())
    }

    pub async fn counts(&self) -> Result<Counts> {
        const SQL: &str = "SELECT \
            (SELECT COUNT(*) FROM tenants), (SELECT COUNT(*) FROM apps), (SELECT COUNT(*) FROM users), \
            (SELECT COUNT(*) FROM environments), (SELECT COUNT(*) FROM system_users), \
            (SELECT COUNT(*) FROM machine_groups), (SELECT COUNT(*) FROM machines), \
            (SELECT COUNT(*) FROM shares), (SELECT COUNT(*) FROM connections)";
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let r: Row = fetch_row!(self, Row, SQL)?
            .ok_or_else(|| StoreError::Corrupt("a query of one row returned none".into()))?;
        Ok(Counts {
            tenants: r.0,
            apps: r.1,
            users: r.2,
            environments: r.3,
            system_users: r.4,
            machine_groups: r.5,
            machines: r.6,
            shares: r.7,
            connections: r.8,
        })
    }

    pub async fn close(&self) {
        match &self.backend {
            // The readers close with the last clone of the store.
            Backend::Sqlite {
                write,
                checkpointer,
                ..
            } => {
                write.close().await;
                checkpointer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

async fn open_sqlite(path: &Path, sync: SyncMode) -> Result<Backend> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match sync {
            SyncMode::Normal => SqliteSynchronous::Normal,
            SyncMode::Full => SqliteSynchronous::Full,
        })
        .busy_timeout(Duration::from_secs(10))
        // 128 MiB: what the background checkpoint lets the WAL reach under
        // a steady stream of writes stays under it (see RESTART_AFTER_FRAMES).
        .pragma("journal_size_limit", "134217728")
        .foreign_keys(true);
    // The writer never checkpoints: SQLite would otherwise copy the WAL
    // back into the database (and fsync it) inside whichever commit crosses
    // the threshold, stalling every write queued behind it for hundreds of
    // milliseconds. A connection of its own does it in the background.
    // No ping before each use: a file's one connection does not go stale
    // the way a network connection does, and a ping is a round trip to
    // sqlx's worker thread before every batch.
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
        .await?;
    // The schema first: the readers open a database that is already in WAL
    // mode and up to date.
    migrator().run(&write).await?;
    let read = Arc::new(sqlite_reads::SqliteReaders::open(path)?);
    let checkpointer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    tokio::spawn(wal_checkpoint::run_in_background(
        checkpointer.clone(),
        write.clone(),
        path.to_owned(),
    ));
    Ok(Backend::Sqlite {
        read,
        write,
        checkpointer,
    })
}

async fn open_postgres(url: &str) -> Result<Backend> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    migrator().run(&pool).await?;
    Ok(Backend::Postgres(pool))
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A write transaction. Dropped without `commit`, it is rolled back.
pub struct Tx {
    inner: TxInner,
    cache: Arc<connection_cache::ConnectionCache>,
    clock: Clock,
}

impl Tx {
    /// Now, on the store's clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::now_on(&self.clock)
    }

    /// Commits, and makes what GETs kept out of date. Both run in a task of
    /// their own: if the caller's future is dropped (its client went away),
    /// a commit already handed to the database still moves the generation.
    pub async fn commit(self) -> Result<()> {
        let Self {
            mut inner, cache, ..
        } = self;
        let commit = async move {
            if let TxInner::Postgres(t) = &mut inner {
                // Delivered to every replica's cache when, and only if, this commits.
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(connection_cache::WRITES_CHANNEL)
                    .execute(&mut **t)
                    .await?;
            }
            let committed = match inner {
                TxInner::Sqlite(t) => t.commit().await,
                TxInner::Postgres(t) => t.commit().await,
            };
            cache.written();
            Ok(committed?)
        };
        tokio::spawn(commit)
            .await
            .map_err(|e| StoreError::Unknown(format!("the commit did not finish: {e}")))?
    }
}
