//! Connections as a GET last read them, kept for the next GET (SQLite only).
//!
//! Pipelines and SDKs poll a connection to see whether it is `Connected`;
//! each poll would otherwise read the connection and its target's facts
//! again. Entries are keyed by environment and connection id and hold what
//! [`Store::connection_with_target`](super::Store::connection_with_target)
//! read.
//!
//! Coherence: every committed write of this process (a transaction, a batch
//! of new connections) moves the write generation on, and an entry read
//! under an older generation is not used, so a GET after a write reads the
//! database again, whatever the write changed (a share, a group, a machine,
//! the connection itself). Nothing is invalidated by table or row: writes
//! that matter to a connection's answer are spread over many tables, and
//! one counter cannot miss any of them.
//!
//! Another process writing the same SQLite file (a second server on one
//! data dir, which the platform does not support) does not move this
//! process's generation; entries are also dropped after [`MAX_AGE`], so such
//! a change shows within that time. PostgreSQL, whose replicas write one
//! database, has no cache at all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use padconnect_core::{ConnectionId, EnvironmentId};

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

#[derive(Default)]
pub struct ConnectionCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<Key, Entry>>,
}

impl ConnectionCache {
    /// The write generation now: read it before reading the database, and
    /// [`put`](Self::put) what was read under it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Called after every write reached the database, committed or not.
    pub fn written(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// What was read since the last write, if not too long ago.
    pub fn get(
        &self,
        environment: &EnvironmentId,
        id: &ConnectionId,
    ) -> Option<Arc<ConnectionWithTarget>> {
        let generation = self.generation();
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&(*environment, *id))?;
        (entry.generation == generation && entry.read_at.elapsed() < MAX_AGE)
            .then(|| entry.value.clone())
    }

    /// Keeps `value`, read under `generation`.
    pub fn put(&self, generation: u64, value: Arc<ConnectionWithTarget>) {
        let key = (value.connection.environment_id, value.connection.id);
        let entry = Entry {
            generation,
            read_at: Instant::now(),
            value,
        };
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, entry);
    }
}
