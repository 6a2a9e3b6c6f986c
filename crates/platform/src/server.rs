//! The platform as a server: opening its data dir, key ring, store and
//! world; then serving the router that `routing` assembles.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tracing::info;

use crate::config::PlatformConfig;
use crate::signing::{REFRESH_EVERY, SigningError, SigningKeys};
use crate::state::{AppState, Inner};
use crate::tls::{self, TlsError};
use crate::{listener, routing};
use padconnect_core::{Clock, EnvironmentId};
use padconnect_domain::keyring::{KeyRing, KeyRingError};
use padconnect_domain::lockout::SignInGuard;
use padconnect_domain::runs;
use padconnect_domain::world::{LoadSummary, World, WorldError, load_world};
use padconnect_store::{Database, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("cannot create the data dir {path}: {error}")]
    DataDir { path: String, error: std::io::Error },
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
    #[error("cannot open the database {database}: {error}")]
    Store { database: String, error: StoreError },
    #[error(transparent)]
    World(#[from] WorldError),
    #[error("cannot load the world into the database: {0}")]
    WorldLoad(StoreError),
    #[error("cannot load the token signing keys: {0}")]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
}

/// An opened platform: data dir, key ring and store ready, world loaded.
pub struct Platform {
    state: AppState,
    /// Certificates for CONNECT tunnels, from the data dir's CA.
    leaves: Arc<tls::LeafCertificates>,
    world: Option<LoadedWorld>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// What a start banner says of the world loaded: how much it wrote, who
/// may sign in, and where. No secret: passwords stay in the file.
#[derive(Debug, Clone)]
pub struct LoadedWorld {
    pub path: std::path::PathBuf,
    pub summary: LoadSummary,
    /// The people who may sign in to the portal (UPNs).
    pub users: Vec<String>,
    /// The apps that may ask for tokens: display name and client id.
    pub apps: Vec<(String, uuid::Uuid)>,
    /// The environments' Dataverse orgs: environment id and org name.
    pub orgs: Vec<(EnvironmentId, String)>,
    pub tenants: Vec<uuid::Uuid>,
}

impl LoadedWorld {
    fn of(path: &std::path::Path, summary: LoadSummary, world: &World) -> Self {
        let tenants = &world.tenants;
        Self {
            path: path.to_owned(),
            summary,
            users: tenants
                .iter()
                .flat_map(|t| t.users.iter().map(|u| u.upn.clone()))
                .collect(),
            apps: tenants
                .iter()
                .flat_map(|t| t.apps.iter().map(|a| (a.display_name.clone(), a.client_id)))
                .collect(),
            orgs: tenants
                .iter()
                .flat_map(|t| t.environments.iter().map(|e| (e.id, e.org.clone())))
                .collect(),
            tenants: tenants.iter().map(|t| t.id).collect(),
        }
    }
}

impl Platform {
    /// Creates the data dir if needed, opens the key ring and the store
    /// (running migrations), and loads the world file if one is configured.
    pub async fn open(config: PlatformConfig) -> Result<Self, PlatformError> {
        Self::open_on(config, Clock::system()).await
    }

    /// [`open`](Self::open), on `clock`: a test's, to pass a run's minutes
    /// or a lockout's without waiting for them.
    pub async fn open_on(config: PlatformConfig, clock: Clock) -> Result<Self, PlatformError> {
        let data_dir_error = |error| PlatformError::DataDir {
            path: config.data_dir.display().to_string(),
            error,
        };
        private_dir(&config.data_dir).map_err(data_dir_error)?;
        let keyring = Arc::new(KeyRing::load(&config.data_dir)?);
        let database = match &config.database {
            Some(url) => Database::parse(url).map_err(|error| PlatformError::Store {
                database: "--database".into(),
                error,
            })?,
            None => Database::in_data_dir(&config.data_dir),
        };
        if let Database::Sqlite(path) = &database {
            private_file(path).map_err(data_dir_error)?;
        }
        let store = Store::open_on(&database, config.sync, clock)
            .await
            .map_err(|error| PlatformError::Store {
                database: database.describe(),
                error,
            })?;
        info!(database = %database.describe(), key = %keyring.active_kid(), "store open");
        let world = match &config.world {
            Some(path) => {
                let world = World::from_file(path)?;
                let summary = load_world(&store, &keyring, &world)
                    .await
                    .map_err(PlatformError::WorldLoad)?;
                info!(world = %path.display(), %summary, "world loaded");
                Some(LoadedWorld::of(path, summary, &world))
            }
            None => None,
        };
        // The online machines beat before the platform listens, so none is
        // ever shown "Never connected" while it is online.
        if let Err(error) = runs::heartbeat(&store).await {
            tracing::warn!(%error, "cannot record the machines' heartbeats");
        }
        let lifetime = i64::try_from(config.signing_key_lifetime).unwrap_or(i64::MAX);
        let signing = Arc::new(SigningKeys::open(store.clone(), keyring.clone(), lifetime).await?);
        let authority = tls::Authority::open(&config.data_dir, &keyring)?;
        let leaves = Arc::new(authority.leaves()?);
        let tls = match config.tls {
            true => {
                let identity = authority.server_identity()?;
                info!(ca = %identity.ca_path.display(), "TLS on: trust this CA in clients");
                Some(identity.server_config()?)
            }
            false => None,
        };
        let sign_ins = SignInGuard::new(store.clock().clone());
        let inner = Inner {
            store,
            keyring,
            signing,
            directory: Default::default(),
            verified: Default::default(),
            issuers: Default::default(),
            sign_ins,
            config,
        };
        Ok(Self {
            state: AppState::new(inner),
            leaves,
            world,
            tls,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The world loaded at start, when a world file was given.
    pub fn world(&self) -> Option<&LoadedWorld> {
        self.world.as_ref()
    }

    pub fn router(&self) -> Router {
        routing::router_with_tunnels(self.state.clone(), self.scheme(), self.leaves.clone())
    }

    /// Serves on `listener` until `shutdown` resolves, then lets requests in
    /// flight finish and closes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        let refresher = tokio::spawn(refresh_signing_keys(self.state.clone()));
        let jobs = tokio::spawn(run_due_jobs(self.state.clone()));
        let idle = Duration::from_secs(self.state.config.idle_timeout);
        let result = listener::serve(listener, router, self.tls, idle, shutdown).await;
        refresher.abort();
        jobs.abort();
        self.state.store.close().await;
        result
    }

    /// Binds `config.listen` and serves in the background; for tests and
    /// the in-process platform of `quickstart`.
    pub async fn start(config: PlatformConfig) -> Result<RunningPlatform, PlatformError> {
        Self::start_on(config, Clock::system()).await
    }

    /// [`start`](Self::start), on `clock`.
    pub async fn start_on(
        config: PlatformConfig,
        clock: Clock,
    ) -> Result<RunningPlatform, PlatformError> {
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|error| PlatformError::Bind { addr, error })?;
        let local_addr = listener
            .local_addr()
            .map_err(|error| PlatformError::Bind { addr, error })?;
        let platform = Self::open_on(config, clock).await?;
        let state = platform.state.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let scheme = platform.scheme();
        let task = tokio::spawn(platform.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(RunningPlatform {
            scheme,
            addr: local_addr,
            state,
            stop,
            task,
        })
    }
}

/// The data dir, made readable by its owner only (0700): it holds the
/// database and the sealing key.
fn private_dir(path: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The SQLite file, made before SQLite opens it so that it is 0600 from the
/// start (SQLite gives its WAL and shared-memory files the database file's
/// permissions).
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// A platform serving in the background.
pub struct RunningPlatform {
    scheme: &'static str,
    pub addr: SocketAddr,
    state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningPlatform {
    /// `http://127.0.0.1:PORT` (`https` with TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, waits for requests in flight (at most 10 s).
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => Err(std::io::Error::other(
                "the platform did not stop within 10 s",
            )),
        }
    }
}

/// How often an online machine's heartbeat is recorded. The real
/// interval is not documented; the portal shows a machine Connected while
/// its last heartbeat is under ten minutes old.
const HEARTBEAT_SECONDS: u64 = 30;

/// Runs the system jobs (solution imports) and moves the desktop flow runs
/// whose time has come, every second, on every replica: a job or run
/// nobody polls still ends, and one that a stopped replica left is finished
/// by another (`domain::solutions`, `domain::runs`). Online machines beat.
async fn run_due_jobs(state: AppState) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 0u64.. {
        ticks.tick().await;
        if tick % 600 == 0
            && let Err(error) =
                padconnect_domain::solutions::forget_stale_uploads(&state.store).await
        {
            tracing::warn!(%error, "cannot forget the stale staged solutions");
        }
        let due = match state
            .store
            .due_async_operations(state.store.now(), 16)
            .await
        {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "cannot read the system jobs that are due");
                Vec::new()
            }
        };
        for id in due {
            if let Err(error) = padconnect_domain::solutions::run(&state.store, id).await {
                tracing::warn!(%error, job = %id, "a system job failed to run");
            }
        }
        if let Err(error) = runs::advance_due(&state.store, &state.keyring, 32).await {
            tracing::warn!(%error, "cannot read the desktop flow runs that are due");
        }
        if tick % HEARTBEAT_SECONDS == 0
            && let Err(error) = runs::heartbeat(&state.store).await
        {
            tracing::warn!(%error, "cannot record the machines' heartbeats");
        }
    }
}

/// Re-reads the signing keys now and then: a replica sees keys made
/// elsewhere, and a key that retires is replaced on time.
async fn refresh_signing_keys(state: AppState) {
    let mut ticks = tokio::time::interval(REFRESH_EVERY);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = state.signing.refresh().await {
            tracing::warn!(%error, "cannot refresh the signing keys");
        }
    }
}
