//! Group commit for new connections.
//!
//! Creating connections is the write the platform does most, and on SQLite
//! every write goes through one connection. One INSERT per request would
//! make each PUT wait for the writer to be handed from request to request
//! and pay a commit of its own. Instead, requests queue their rows here and
//! one task writes whatever has queued as a single multi-row INSERT, which
//! is one statement and one commit for the whole batch. Each request gets
//! its answer only after that commit, so an acknowledged connection is as
//! durable as before (a crash of the process keeps it; `--sync full` also
//! survives a power loss).
//!
//! Within a batch, rows are written in the order they arrived, so two PUTs
//! of one id behave as if sent one after the other: the first creates the
//! connection, the second finds it taken. If the database refuses the batch
//! statement, each row is retried alone, so that one bad row cannot fail the
//! others; if the outcome is unknown (the database connection failed), each
//! request is told so rather than guessed an answer.

use tokio::sync::{mpsc, oneshot};

use super::connections::{insert_connection_alone, insert_connections};
use super::{Backend, Connection, Result, StoreError};

/// Rows written by one statement at most: 13 parameters each stays far
/// below both databases' limit on parameters, and sqlx caches one prepared
/// statement per batch size, so few sizes keep its cache small.
const MAX_BATCH: usize = 64;

struct Pending {
    connection: Connection,
    /// `true` once written, `false` when the id was taken.
    done: oneshot::Sender<Result<bool>>,
}

/// Where requests queue their new connections; cheap to clone.
#[derive(Clone)]
pub(super) struct ConnectionInserts {
    queue: mpsc::Sender<Pending>,
}

impl ConnectionInserts {
    /// Starts the task that writes the batches; it ends with the last clone.
    pub fn start(backend: Backend) -> Self {
        let (queue, pending) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(backend, pending));
        Self { queue }
    }

    /// Writes `connection` with whatever else is queued; `false` when its
    /// id is taken.
    pub async fn insert(&self, connection: Connection) -> Result<bool> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { connection, done })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn write_batches(backend: Backend, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&backend, std::mem::take(&mut batch)).await;
    }
}

/// Writes one batch and answers each of its requests.
async fn write_batch(backend: &Backend, batch: Vec<Pending>) {
    let (first, repeats) = split_repeats(batch);
    let rows: Vec<&Connection> = first.iter().map(|p| &p.connection).collect();
    // No write generation moves: an INSERT that skips taken ids changes no
    // connection a GET kept (`connection_cache`).
    let mut in_database = std::collections::HashSet::new();
    match insert_many(backend, &rows).await {
        Ok(written) => {
            for p in first {
                let key = (p.connection.environment_id, p.connection.id);
                let _ = p
                    .done
                    .send(Ok(written.contains(&(key.0.to_string(), key.1.to_string()))));
                in_database.insert(key);
            }
        }
        // The database refused the statement, so nothing of it was written:
        // one row may be at fault, and each is tried alone.
        Err(StoreError::Database(sqlx::Error::Database(_))) => {
            for p in first {
                let answer = insert_connection_alone(backend, &p.connection).await;
                if answer.is_ok() {
                    in_database.insert((p.connection.environment_id, p.connection.id));
                }
                let _ = p.done.send(answer);
            }
        }
        // Whether it was written is unknown (the connection to the database
        // failed, say): say so rather than guess.
        Err(error) => {
            let error = error.to_string();
            for p in first.into_iter().chain(repeats) {
                let _ = p.done.send(Err(StoreError::Unknown(error.clone())));
            }
            return;
        }
    }
    for p in repeats {
        let key = (p.connection.environment_id, p.connection.id);
        // Its id is in the database now, as it would be one statement
        // later; if the first request for it failed, this one tries again.
        let answer = match in_database.contains(&key) {
            true => Ok(false),
            false => insert_connection_alone(backend, &p.connection).await,
        };
        let _ = p.done.send(answer);
    }
}

/// The first request for each connection id, and the later ones.
fn split_repeats(batch: Vec<Pending>) -> (Vec<Pending>, Vec<Pending>) {
    let mut seen = std::collections::HashSet::with_capacity(batch.len());
    batch
        .into_iter()
        .partition(|p| seen.insert((p.connection.environment_id, p.connection.id)))
}

/// One INSERT of every row; the (environment, id) pairs it wrote.
async fn insert_many(
    backend: &Backend,
    rows: &[&Connection],
) -> Result<std::collections::HashSet<(String, String)>> {
    let written: Vec<(String, String)> = match backend {
        Backend::Sqlite { write, .. } => {
            let mut query = insert_connections(rows);
            query.push(" RETURNING environment_id, id");
            query.build_query_as().fetch_all(write).await?
        }
        Backend::Postgres(pool) => {
            let mut query = insert_connections(rows);
            query.push(" RETURNING environment_id, id");
            query.build_query_as().fetch_all(pool).await?
        }
    };
    Ok(written.into_iter().collect())
}
