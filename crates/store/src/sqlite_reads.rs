//! SQLite reads on the calling thread.
//!
//! sqlx's SQLite driver runs every connection on a worker thread of its own
//! and hands each statement over to it and the rows back: two thread
//! wake-ups per query, which on a small machine cost far more than the
//! query itself (an indexed lookup in the page cache takes microseconds;
//! see docs/benchmarks-log.md). Reads are where that adds up, since every API
//! request makes several, so the SQLite backend reads through a few
//! read-only `rusqlite` connections of its own instead, right on the thread
//! that asks. Writes still go through sqlx's one writer connection.
//!
//! Running a query inline blocks the async worker while it runs. That is
//! acceptable here because every read the store makes is a lookup by key or
//! a bounded page, answered from the page cache, and in WAL mode a reader
//! never waits for the writer. The connections are read-only
//! (`query_only`), and each read sees the last committed transaction, as
//! before.
//!
//! Measured again once the GET cache answered most GETs (docs/benchmarks-log.md, "SQLite
//! reads: rusqlite inline, or sqlx only", 2026-12-02): with every SQLite read
//! through a read-only sqlx pool instead, GETs were as fast (the cache reads
//! nothing), but connection PUTs, which read the caller's application user,
//! the group and the rights before writing, fell from 0.13–0.20 of /healthz
//! to 0.07, below the 0.1 docs/benchmarks.md sets. So this second driver stays.
//!
//! Parameters are written `$1`, `$2`, ... as in PostgreSQL, so one SQL text
//! serves both backends. SQLite treats `$N` as a named parameter, so each is
//! bound by its name rather than by position, which keeps a query correct
//! even when it uses `$3` before `$2`.

use parking_lot::{Mutex, MutexGuard};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, ToSql};

use super::Result;

/// A row type that reads itself from a `rusqlite` row, by column name (as
/// sqlx's `FromRow` does) or, for tuples, by position.
pub trait FromSqliteRow: Sized {
    /// Reads the row; the struct's fields are looked for first from column
    /// `first` on, where they are when the query lists them in field order.
    fn from_sqlite_row_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self>;

    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Self::from_sqlite_row_at(row, 0)
    }
}

/// Column `name` of `row`, looked for at `guess` first: finding a column
/// by name means comparing it with every column's name.
pub fn column<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    guess: usize,
    name: &str,
) -> rusqlite::Result<T> {
    let statement: &rusqlite::Statement<'_> = row.as_ref();
    match statement.column_name(guess) {
        Ok(found) if found.eq_ignore_ascii_case(name) => row.get(guess),
        _ => {
            MISSED_GUESSES.with(|missed| missed.set(missed.get() + 1));
            row.get(name)
        }
    }
}

thread_local! {
    /// How many columns this thread found by name because they were not
    /// where the row's field order put them: each one a scan of the
    /// statement's column names. Reads run on the calling thread, so a
    /// test on a current-thread runtime sees its own queries' misses here.
    static MISSED_GUESSES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The columns this thread has had to look for by name so far (see
/// [`column`]): a query that lists its columns in its row's field order
/// adds none.
pub fn missed_column_guesses() -> u64 {
    MISSED_GUESSES.with(std::cell::Cell::get)
}

macro_rules! tuple_rows {
    ($($len:literal => ($($t:ident $i:tt),+)),+ $(,)?) => {$(
        impl<$($t: rusqlite::types::FromSql),+> FromSqliteRow for ($($t,)+) {
            fn from_sqlite_row_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>(first + $i)?,)+))
            }
        }
    )+};
}

tuple_rows! {
    1 => (A 0),
    2 => (A 0, B 1),
    3 => (A 0, B 1, C 2),
    4 => (A 0, B 1, C 2, D 3),
    5 => (A 0, B 1, C 2, D 3, E 4),
    6 => (A 0, B 1, C 2, D 3, E 4, F 5),
    9 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
}

/// A few read-only connections to one SQLite database, each used by one
/// thread at a time.
pub struct SqliteReaders {
    connections: Box<[Mutex<Connection>]>,
    next: AtomicUsize,
}

impl SqliteReaders {
    /// Opens one connection per CPU, and at least four, so the async workers
    /// and the blocking threads rarely wait for one another.
    pub fn open(path: &Path) -> Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        let connections = (0..cpus.max(4))
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Self {
            connections: connections.into_boxed_slice(),
            next: AtomicUsize::new(0),
        })
    }

    /// At most one row of `sql`.
    pub fn optional<R: FromSqliteRow>(&self, sql: &str, args: &[&dyn ToSql]) -> Result<Option<R>> {
        self.with(|conn| {
            let mut statement = prepare(conn, sql, args)?;
            let mut rows = statement.raw_query();
            rows.next()?.map(R::from_sqlite_row).transpose()
        })
    }

    /// Every row of `sql`.
    pub fn all<R: FromSqliteRow>(&self, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<R>> {
        self.with(|conn| {
            let mut statement = prepare(conn, sql, args)?;
            let mut rows = statement.raw_query();
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(R::from_sqlite_row(row)?);
            }
            Ok(all)
        })
    }

    /// Runs `read` on a free connection, or waits for one.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        // parking_lot's locks are never poisoned: a panic elsewhere leaves
        // no half-done work on a read-only connection anyway.
        let free = (0..count).find_map(|i| self.connections[(start + i) % count].try_lock());
        let conn: MutexGuard<'_, Connection> =
            free.unwrap_or_else(|| self.connections[start].lock());
        Ok(read(&conn)?)
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

const PARAMETER_NAMES: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

/// The cached statement for `sql` with `args` bound to `$1`, `$2`, ...
fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    statement.clear_bindings();
    for (n, arg) in args.iter().enumerate() {
        let index = match PARAMETER_NAMES.get(n) {
            Some(name) => statement.parameter_index(name)?,
            None => statement.parameter_index(&format!("${}", n + 1))?,
        }
        .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("${}", n + 1)))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    if statement.parameter_count() != args.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            args.len(),
            statement.parameter_count(),
        ));
    }
    Ok(statement)
}
