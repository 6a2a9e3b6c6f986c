//! The query macros every aggregate's file uses: each query is written
//! once, in SQL both databases run, and compiled for both. Reads go
//! through `fetch_row!`/`fetch_rows!` (`fetch_one!`/`fetch_all!` also
//! convert the rows), writes through `exec!` (which hands the body a
//! connection of the backend at hand) or `run!` (one statement).

/// Rows of `$sql` as `$row` (a tuple or a row struct), with `$arg`s bound
/// to `$1`, `$2`, ...: `$sqlite` names the
/// [`sqlite_reads::SqliteReaders`](super::sqlite_reads::SqliteReaders)
/// method and `$sqlx` the sqlx one.
macro_rules! fetch {
    ($store:expr, $sqlite:ident / $sqlx:ident, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match &$store.backend {
            $crate::Backend::Sqlite { read, .. } => {
                read.$sqlite::<$row>($sql, &[$(&$arg as &dyn rusqlite::ToSql),*])
            }
            $crate::Backend::Postgres(pool) => sqlx::query_as::<_, $row>($sql)
                $(.bind($arg))*
                .$sqlx(pool)
                .await
                .map_err($crate::StoreError::from),
        }
    };
}
pub(super) use fetch;

/// At most one row: see [`fetch`].
macro_rules! fetch_row {
    ($store:expr, $($query:tt)*) => {
        $crate::sql::fetch!($store, optional / fetch_optional, $($query)*)
    };
}
pub(super) use fetch_row;

/// Every row: see [`fetch`].
macro_rules! fetch_rows {
    ($store:expr, $($query:tt)*) => {
        $crate::sql::fetch!($store, all / fetch_all, $($query)*)
    };
}
pub(super) use fetch_rows;

/// Declares row structs that both drivers read by column name: sqlx's
/// `FromRow` for PostgreSQL and the writer,
/// [`sqlite_reads::FromSqliteRow`](super::sqlite_reads::FromSqliteRow)
/// for SQLite reads (which looks at the field's position first).
macro_rules! rows {
    ($($vis:vis struct $name:ident { $($field:ident: $ty:ty),* $(,)? })+) => {$(
        $vis struct $name { $($field: $ty),* }

        impl $name {
            /// How many columns the row reads: where a row read after it
            /// in the same result starts (counted, never written by hand).
            #[allow(dead_code)]
            pub(crate) const COLUMNS: usize = <[&str]>::len(&[$(stringify!($field)),*]);
        }

        // What `#[derive(sqlx::FromRow)]` writes, by hand: the derive would
        // pull in sqlx's macro crate, which builds sqlx, rustls, AWS-LC and
        // SQLite a second time for the compiler (build-timings.md).
        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'r str: sqlx::ColumnIndex<R>,
            $($ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,)*
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self { $($field: row.try_get(stringify!($field))?),* })
            }
        }

        impl $crate::FromSqliteRow for $name {
            // The last field's `at += 1` is never read.
            #[allow(unused_assignments)]
            fn from_sqlite_row_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                let mut at = first;
                Ok(Self {$($field: {
                    let value = $crate::sqlite_reads::column(row, at, stringify!($field))?;
                    at += 1;
                    value
                }),*})
            }
        }
    )+};
}
pub(super) use rows;

/// `a = excluded.a, b = excluded.b, ...`: the SET list of an upsert that
/// takes these columns from the row it tried to insert, each named once.
macro_rules! set_excluded {
    ($first:ident $(, $column:ident)* $(,)?) => {
        concat!(
            stringify!($first), " = excluded.", stringify!($first)
            $(, ", ", stringify!($column), " = excluded.", stringify!($column))*
        )
    };
}
pub(super) use set_excluded;

/// The SET and WHERE of a versioned row's upsert: takes these columns and
/// the modification stamp from the excluded row and bumps `versionnumber`,
/// only when one of these columns changed (so an unchanged row keeps its
/// version and its ETag).
macro_rules! set_changed {
    ($table:ident: $first:ident $(, $column:ident)* $(,)?) => {
        concat!(
            $crate::sql::set_excluded!($first $(, $column)*, modified_on, modified_by),
            ", versionnumber = ", stringify!($table), ".versionnumber + 1 WHERE ",
            stringify!($table), ".", stringify!($first), " <> excluded.", stringify!($first)
            $(, " OR ", stringify!($table), ".", stringify!($column), " <> excluded.", stringify!($column))*
        )
    };
}
pub(super) use set_changed;

/// Runs `$body` with `$conn` bound to the transaction's connection.
macro_rules! exec {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            TxInner::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            TxInner::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(super) use exec;

/// Fetches at most one row of `$row` and converts it.
macro_rules! fetch_one {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {
        $crate::sql::fetch_row!($store, $row, $sql $(, $arg)*)?
            .map(TryInto::try_into)
            .transpose()
    };
}
pub(super) use fetch_one;

/// Fetches every row of `$row` and converts them.
macro_rules! fetch_all {
    ($store:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {
        $crate::sql::fetch_rows!($store, $row, $sql $(, $arg)*)?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<$crate::Result<Vec<_>>>()
    };
}
pub(super) use fetch_all;

/// Runs one statement on the transaction and returns the rows it touched.
macro_rules! run {
    ($tx:expr, $sql:expr $(, $arg:expr)*) => {
        $crate::sql::exec!($tx, conn => sqlx::query($sql)$(.bind($arg))*.execute(&mut *conn).await.map(|done| done.rows_affected()))
    };
}
pub(super) use run;

/// At most one row of `$row`, read inside the transaction (what it wrote
/// so far included), converted.
macro_rules! fetch_in {
    ($tx:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {{
        let row: Option<$row> = $crate::sql::exec!($tx, conn => sqlx::query_as($sql)
            $(.bind($arg))*
            .fetch_optional(&mut *conn)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }};
}
pub(super) use fetch_in;

/// Every row of `$row`, read inside the transaction, converted.
macro_rules! fetch_all_in {
    ($tx:expr, $row:ty, $sql:expr $(, $arg:expr)*) => {{
        let rows: Vec<$row> = $crate::sql::exec!($tx, conn => sqlx::query_as($sql)
            $(.bind($arg))*
            .fetch_all(&mut *conn)
            .await)?;
        rows.into_iter()
            .map(TryInto::try_into)
            .collect::<$crate::Result<Vec<_>>>()
    }};
}
pub(super) use fetch_all_in;

/// The first column of every row `$sql` reads inside the transaction, as
/// text: the ids or names a `retain_*` compares with what to keep.
macro_rules! texts_in {
    ($tx:expr, $sql:expr $(, $arg:expr)*) => {{
        let rows: Vec<(String,)> = $crate::sql::exec!($tx, conn => sqlx::query_as($sql)
            $(.bind($arg))*
            .fetch_all(&mut *conn)
            .await)?;
        rows.into_iter().map(|(text,)| text).collect::<Vec<String>>()
    }};
}
pub(super) use texts_in;

#[cfg(test)]
mod tests {
    #[test]
    fn set_excluded_takes_each_column_from_the_excluded_row() {
        assert_eq!(
            set_excluded!(value, modified_on),
            "value = excluded.value, modified_on = excluded.modified_on"
        );
        assert_eq!(set_excluded!(name,), "name = excluded.name");
    }

    #[test]
    fn set_changed_bumps_the_version_only_when_a_column_changed() {
        assert_eq!(
            set_changed!(machines: name, owner_id),
            "name = excluded.name, owner_id = excluded.owner_id, \
             modified_on = excluded.modified_on, modified_by = excluded.modified_by, \
             versionnumber = machines.versionnumber + 1 \
             WHERE machines.name <> excluded.name OR machines.owner_id <> excluded.owner_id"
        );
    }
}
