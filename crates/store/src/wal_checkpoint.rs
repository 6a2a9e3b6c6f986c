//! SQLite's WAL, copied back into the database in the background and
//! started over before it grows without end.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the background checkpoint runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The WAL size, in frames (pages), past which the background checkpoint
/// has the WAL started over: 4,096 frames is 16 MiB of 4 KiB pages. With
/// what a quarter second of writes adds (about 10,000 frames at 64
/// connections' PUTs), the file stays near 60 MB, under
/// `journal_size_limit`, and is written again in place. A WAL over that
/// limit is cut back inside the commit that starts it over, a stall of its
/// own (docs/benchmarks-log.md, "The WAL started over").
const RESTART_AFTER_FRAMES: i64 = 4_096;

/// How long the background checkpoint waits for the writer's connection
/// before leaving the WAL to the next tick.
const WRITER_WAIT: Duration = Duration::from_secs(1);

/// Copies the WAL into the database in the background, and has SQLite
/// start it over once it is large. Ends when the store is closed.
///
/// `PASSIVE`, on a connection of its own, copies what it can without
/// holding anyone up. Under a steady stream of writes that is never all of
/// it, since the writer appends while it copies, and SQLite starts a WAL
/// over only once all of it has been copied: the file grew without end
/// (5.2 GB after one `bench/connections.sh`), and each append past its end
/// made the kernel zero new blocks. So once the WAL holds more than
/// [`RESTART_AFTER_FRAMES`] and has grown since the last tick, [`start_over`]
/// ends with a `PASSIVE` on the writer's own connection: nothing is
/// appended while it copies, so it usually copies all of it (a reader
/// still in an older snapshot can stop it short), and the writer's next
/// commit then writes the WAL from its start (if a reader still holds the
/// WAL then, the next tick tries again). Writes wait for that pass in the
/// pool's queue; `RESTART` would hold them in SQLite's busy handler, whose
/// sleeps of 1, 2, 5, 10 ms tripled a PUT's p99 (SQLite's "Checkpoint a
/// database", `sqlite3_wal_checkpoint_v2`; docs/benchmarks-log.md).
pub(crate) async fn run_in_background(
    checkpointer: sqlx::SqlitePool,
    writer: sqlx::SqlitePool,
    database: PathBuf,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_frames = 0;
    loop {
        tick.tick().await;
        if checkpointer.is_closed() {
            return;
        }
        let done = match checkpoint(&checkpointer).await {
            // A WAL that has not grown since the last tick was all copied
            // then: the next commit starts it over by itself.
            Ok(frames) if frames > RESTART_AFTER_FRAMES && frames != last_frames => {
                last_frames = frames;
                start_over(&checkpointer, &writer, &database).await
            }
            Ok(frames) => {
                last_frames = frames;
                Ok(())
            }
            Err(error) => Err(error),
        };
        match done {
            Ok(()) => {}
            Err(_) if checkpointer.is_closed() || writer.is_closed() => return,
            Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
        }
    }
}

/// Copies the rest of the WAL so that the writer's next commit starts it
/// over: a second pass on the checkpointer copies what was appended during
/// the first, the database file is synced off the writer, then a pass on
/// the writer's connection copies what is left.
async fn start_over(
    checkpointer: &sqlx::SqlitePool,
    writer: &sqlx::SqlitePool,
    database: &Path,
) -> std::result::Result<(), sqlx::Error> {
    checkpoint(checkpointer).await?;
    sync_database(database).await;
    let mut connection = match tokio::time::timeout(WRITER_WAIT, writer.acquire()).await {
        Ok(acquired) => acquired?,
        // A long write holds it: the next tick tries again.
        Err(_) => return Ok(()),
    };
    checkpoint(&mut *connection).await.map(|_| ())
}

/// SQLite syncs the database file only after a checkpoint that copied the
/// whole WAL: under steady writes, only the pass on the writer's
/// connection, which would then flush every page the earlier passes
/// copied while writes wait. Syncing it here first leaves that pass its
/// own few pages. A failure is only logged: that pass syncs anyway.
async fn sync_database(database: &Path) {
    let path = database.to_owned();
    let synced = tokio::task::spawn_blocking(move || std::fs::File::open(path)?.sync_data()).await;
    if let Ok(Err(error)) = synced {
        tracing::warn!(%error, "syncing the database before a checkpoint failed");
    }
}

/// A `PASSIVE` checkpoint on a connection; answers how many frames the
/// WAL held when it began (-1 if a checkpoint was already running). It
/// copies them all unless a reader holds an older snapshot; frames
/// appended meanwhile are left to the next pass.
async fn checkpoint<'c>(
    connection: impl sqlx::SqliteExecutor<'c>,
) -> std::result::Result<i64, sqlx::Error> {
    // One row: whether it was held up, the WAL's frames, the frames copied.
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_all(connection)
        .await?;
    Ok(rows.first().map_or(0, |&(_, frames, _)| frames))
}
