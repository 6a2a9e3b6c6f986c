//! Connections as a GET last read them, kept for the next GET.
//!
//! Pipelines and SDKs poll a connection to see whether it is `Connected`;
//! each poll would otherwise read the connection and its target's facts
//! again. Entries are keyed by environment and connection id and hold what
//! [`Store::connection_with_target`](super::Store::connection_with_target)
//! read.
//!
//! Coherence: every committed write transaction moves the write generation
//! on, and an entry read under an older generation is not used, so a GET
//! after a write reads the database again, whatever the write changed (a
//! share, a group, a machine, the connection itself). Nothing is
//! invalidated by table or row: what a connection's answer rests on is
//! spread over many tables, and one counter cannot miss any of them. New
//! connections do not move it: an INSERT that skips taken ids cannot change
//! a connection that was already read.
//!
//! Replicas: on PostgreSQL each write transaction also sends a `NOTIFY` on
//! [`WRITES_CHANNEL`], and every replica `LISTEN`s ([`follow_writes`]) and
//! moves its own generation when one arrives, so another replica's write
//! reaches this cache within the time the notification takes (read after
//! write holds on the replica that wrote; another replica may answer from
//! what it kept until the notification arrives). While that listening
//! connection is down the cache is not used at all, and when it is back
//! the generation moves once for whatever was missed. A connection that
//! dies without a word still ends with [`MAX_AGE`].
//!
//! Whatever else writes the database (a second server on one SQLite data
//! dir, which the platform does not support), entries are dropped after
//! [`MAX_AGE`], so such a change shows within that time.
//!
//! What it buys (docs/benchmarks-log.md, "The caches, measured", 2026-12-04, one
//! sitting, SQLite): connection GETs at 64 connections 0.28 of `/healthz`
//! without it, 0.46 with it in the run right after (0.60 in the first
//! sitting of the day; the spread between runs is known to be wide).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use padconnect_core::{Clock, ConnectionId, EnvironmentId};
use sqlx::postgres::{PgListener, PgPool};

use super::ConnectionWithTarget;

/// Past this many connections the cache starts over: pollers watch a few
/// connections each, and an entry is about 1.5 KiB, so it stays under
/// 6 MiB.
const CAPACITY: usize = 4_096;
/// How long an entry is used at most.
pub const MAX_AGE: Duration = Duration::from_secs(1);

type Key = (EnvironmentId, ConnectionId);

struct Entry {
    generation: u64,
    read_at: Instant,
    value: Arc<ConnectionWithTarget>,
}

/// The PostgreSQL channel on which write transactions announce themselves.
pub const WRITES_CHANNEL: &str = "padconnect_writes";

pub struct ConnectionCache {
    generation: AtomicU64,
    /// False while this replica may be missing others' writes.
    usable: AtomicBool,
    entries: RwLock<HashMap<Key, Entry>>,
    /// The store's: an entry's age is on the platform's time.
    clock: Clock,
}

impl ConnectionCache {
    /// A cache that is used from the start (SQLite: this process is the
    /// writer), or once [`follow_writes`] listens (PostgreSQL).
    pub fn new(usable: bool, clock: Clock) -> Self {
        Self {
            generation: AtomicU64::new(0),
            usable: AtomicBool::new(usable),
            entries: RwLock::default(),
            clock,
        }
    }

    /// Used again: what was kept before is out of date first.
    fn start_using(&self) {
        self.written();
        self.usable.store(true, Ordering::Release);
    }

    /// Not used until [`start_using`](Self::start_using).
    fn stop_using(&self) {
        self.usable.store(false, Ordering::Release);
        self.written();
    }

    /// The write generation now: read it before reading the database, and
    /// [`put`](Self::put) what was read under it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Called after every write transaction reached the database, committed
    /// or not, and for every write another replica announced.
    pub fn written(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// What was read since the last write, if not too long ago.
    pub fn get(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Option<Arc<ConnectionWithTarget>> {
        if !self.usable.load(Ordering::Acquire) {
            return None;
        }
        let generation = self.generation();
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&(*environment, *id))?;
        let age = self
            .clock
            .instant()
            .saturating_duration_since(entry.read_at);
        (entry.generation == generation && age < MAX_AGE).then(|| entry.value.clone())
    }

    /// Keeps `value`, read under `generation`.
    pub fn put(&self, generation: u64, value: Arc<ConnectionWithTarget>) {
        let key = (value.connection.environment_id, value.connection.id);
        let entry = Entry {
            generation,
            read_at: self.clock.instant(),
            value,
        };
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, entry);
    }
}

/// Moves `cache`'s generation for every write another replica (or this
/// one) announces on [`WRITES_CHANNEL`], until the pool is closed. The
/// cache is usable only while the listening connection is up.
pub async fn follow_writes(pool: PgPool, cache: Arc<ConnectionCache>) {
    let mut listener = None;
    loop {
        if pool.is_closed() {
            return;
        }
        let Some(active) = listener.as_mut() else {
            match listen(&pool).await {
                Ok(started) => {
                    listener = Some(started);
                    cache.start_using();
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for other replicas' writes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        };
        match active.try_recv().await {
            Ok(Some(_)) => cache.written(),
            Err(_) if pool.is_closed() => return,
            // The connection dropped: writes may go unheard until a new one
            // listens, so the cache waits for it.
            lost => {
                if let Err(error) = lost {
                    tracing::warn!(%error, "lost the connection that listens for other replicas' writes");
                }
                cache.stop_using();
                listener = None;
            }
        }
    }
}

async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Reconnecting is ours to do (above), so that the cache is not used
    // while nobody listens.
    listener.eager_reconnect(false);
    listener.listen(WRITES_CHANNEL).await?;
    Ok(listener)
}
