//! Whole-database operations for backup, restore and copying between engines: a consistent
//! read snapshot (exportable to `pg_dump` on PostgreSQL), `VACUUM INTO` on SQLite, the
//! tables in dependency order, row counts, and the head (size and root) of every record
//! log, read from the stored tree or recomputed from the entries.

mod copy;
mod schema;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use fazhi_ledger::HashAlg;
use fazhi_ledger::tree;
use fazhi_ledger::verify::LogVerifier;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

pub use copy::{Value, copy_table, finish_copy};
pub use schema::{Column, Kind, Table, tables};

use crate::db::{Db, Exec, Tx, redact_url};
use crate::ledger::LogReader;
use crate::{Result, StoreError};

/// The head of a record log: its size and Merkle root (hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogHead {
    pub log_id: i64,
    pub size: u64,
    pub hash_alg: String,
    pub root: String,
}

/// A shorter-lived `Exec` over the same pool or connection, so one can run several queries.
fn reborrow<'b>(ex: &'b mut Exec<'_>) -> Exec<'b> {
    match ex {
        Exec::SqlitePool(p) => Exec::SqlitePool(p),
        Exec::SqliteConn(c) => Exec::SqliteConn(c),
        Exec::PgPool(p) => Exec::PgPool(p),
        Exec::PgConn(c) => Exec::PgConn(c),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A read-only transaction: everything read through it sees the database at one instant.
#[derive(Debug)]
pub struct Snapshot {
    pub tx: Tx,
    /// The exported snapshot id (PostgreSQL, when asked for): `pg_dump --snapshot=` reads
    /// the same instant while this transaction stays open.
    pub exported: Option<String>,
}

impl Snapshot {
    /// Starts a snapshot on `db` (use the read pool). On PostgreSQL the transaction is
    /// REPEATABLE READ, READ ONLY; with `export` its snapshot is exported for other sessions.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn begin(db: &Db, export: bool) -> Result<Self> {
        match db {
            Db::Sqlite(p) => {
                let mut t = p.begin().await?;
                // A deferred transaction takes its snapshot at the first read: read now.
                sqlx::query("select count(*) from sqlite_master").execute(&mut *t).await?;
                Ok(Self { tx: Tx::read_only(crate::db::TxInner::Sqlite(t)), exported: None })
            }
            Db::Postgres(p) => {
                let mut t = p.begin().await?;
                sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *t).await?;
                let exported = if export {
                    Some(sqlx::query_scalar("select pg_export_snapshot()").fetch_one(&mut *t).await?)
                } else {
                    sqlx::query("select 1").execute(&mut *t).await?;
                    None
                };
                Ok(Self { tx: Tx::read_only(crate::db::TxInner::Postgres(t)), exported })
            }
        }
    }

    /// Ends the snapshot.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn end(self) -> Result<()> {
        self.tx.commit().await
    }
}

/// Rows per table.
///
/// # Errors
/// [`StoreError`] when the database fails.
pub async fn row_counts<'a>(ex: impl Into<Exec<'a>>, tables: &[Table]) -> Result<Vec<(String, i64)>> {
    let mut ex = ex.into();
    let mut out = Vec::new();
    for t in tables {
        let sql = format!("select count(*) from {}", schema::quoted(&t.name));
        let n: i64 = run!(reborrow(&mut ex), |x| sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(x).await)?;
        out.push((t.name.clone(), n));
    }
    Ok(out)
}

/// Every log's head as stored: the size of its head row and the root computed from the
/// stored subtree hashes (a handful of rows per log). `ledger verify` checks that those
/// hashes match the entries.
///
/// # Errors
/// [`StoreError`] when the database fails; [`StoreError::Corrupt`] when a stored node is
/// missing or the log's hash algorithm is unknown.
pub async fn log_heads<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<LogHead>> {
    let mut ex = ex.into();
    let logs: Vec<(i64, i64, String)> =
        run!(reborrow(&mut ex), |x| sqlx::query_as("select log_id, size, hash_alg from ledger_log order by log_id")
            .fetch_all(x)
            .await)?;
    let mut out = Vec::new();
    for (log_id, size, alg_code) in logs {
        let alg = HashAlg::parse(&alg_code)
            .ok_or_else(|| StoreError::Corrupt(format!("账本 {log_id} 的哈希算法 {alg_code} 无法识别")))?;
        let size = u64::try_from(size).unwrap_or(0);
        let root = if size == 0 {
            alg.digest(&[])
        } else {
            let mut ids = std::collections::BTreeSet::new();
            tree::range_nodes(0, size, &mut ids);
            let nodes = crate::ledger::nodes(reborrow(&mut ex), log_id, &ids).await?;
            tree::range_hash(alg, 0, size, &|id| nodes.get(&id).copied())
                .map_err(|m| StoreError::Corrupt(format!("账本 {log_id} 缺少默克尔树节点 {:?}", m.0)))?
        };
        out.push(LogHead { log_id, size, hash_alg: alg_code, root: to_hex(&root) });
    }
    Ok(out)
}

/// Every log's head recomputed from its entries (the root of the tree rebuilt from the
/// rows), with the problems found on the way (entries that do not match their stored
/// hashes, gaps, stored nodes that differ). Checkpoint signatures are not checked here.
///
/// # Errors
/// [`StoreError`] when the database fails.
pub async fn recomputed_heads(db: &Db) -> Result<Vec<(LogHead, Vec<String>)>> {
    let logs: Vec<(i64, i64, String)> =
        run!(db, |x| sqlx::query_as("select log_id, size, hash_alg from ledger_log order by log_id")
            .fetch_all(x)
            .await)?;
    let reader = LogReader::new(db).await?;
    let mut out = Vec::new();
    for (log_id, size, alg_code) in logs {
        let alg = HashAlg::parse(&alg_code).unwrap_or(HashAlg::Sha256);
        let mut v = LogVerifier::new(alg);
        reader.entries(log_id, 4_096, |parts, leaf| v.stored_entry(parts, leaf)).await?;
        reader.nodes(log_id, 16_384, |id, h| v.node(id, h)).await?;
        let root = to_hex(&v.root());
        let entries = v.entries();
        let problems = v.finish(u64::try_from(size).unwrap_or(0)).iter().map(ToString::to_string).collect();
        out.push((LogHead { log_id, size: entries, hash_alg: alg_code, root }, problems));
    }
    reader.close().await;
    Ok(out)
}

/// Writes a consistent copy of the SQLite database of `url` to `out` with `VACUUM INTO`,
/// through a read-only connection of its own: a server may keep writing meanwhile.
///
/// # Errors
/// [`StoreError`] when the database cannot be opened or the copy fails.
pub async fn vacuum_into(url: &str, out: &Path) -> Result<()> {
    let connect_err = |e: sqlx::Error| StoreError::Connect { engine: "SQLite", message: e.to_string() };
    let opts =
        SqliteConnectOptions::from_str(url).map_err(connect_err)?.read_only(true).busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.map_err(connect_err)?;
    let target = out.to_str().ok_or_else(|| StoreError::Corrupt(format!("路径 {} 不是合法的 UTF-8", out.display())))?;
    let result = sqlx::query("vacuum into ?").bind(target).execute(&pool).await;
    pool.close().await;
    result?;
    Ok(())
}

/// A read-only pool on a SQLite file (a backup copy), without migrations.
///
/// # Errors
/// [`StoreError::MissingDatabase`] when the file does not exist; [`StoreError`] otherwise.
pub async fn open_sqlite_file(path: &Path) -> Result<Db> {
    if !path.exists() {
        return Err(StoreError::MissingDatabase(path.to_owned()));
    }
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Connect { engine: "SQLite", message: e.to_string() })?;
    let check: String = sqlx::query_scalar("pragma quick_check").fetch_one(&pool).await?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!("{} 未通过 SQLite 完整性检查：{check}", path.display())));
    }
    Ok(Db::Sqlite(pool))
}

/// A small PostgreSQL pool without migrations (backup reads a live database as it is).
///
/// # Errors
/// [`StoreError::Connect`] when the server cannot be reached.
pub async fn connect_pg(url: &str) -> Result<Db> {
    let connect_err = |e: sqlx::Error| StoreError::Connect {
        engine: "PostgreSQL",
        message: format!("{}（地址 {}）", e, redact_url(url)),
    };
    let opts = sqlx::postgres::PgConnectOptions::from_str(url).map_err(connect_err)?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(opts)
        .await
        .map_err(connect_err)?;
    Ok(Db::Postgres(pool))
}

/// The tables of a PostgreSQL database outside the system schemas (a restore target must
/// have none).
///
/// # Errors
/// [`StoreError`] when the database fails.
pub async fn pg_user_tables(db: &Db) -> Result<Vec<String>> {
    let Db::Postgres(p) = db else { return Ok(Vec::new()) };
    let rows: Vec<(String,)> = sqlx::query_as(
        "select schemaname::text || '.' || tablename::text from pg_tables \
         where schemaname not in ('pg_catalog', 'information_schema') order by 1",
    )
    .fetch_all(p)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Closes a pool opened here.
pub async fn close(db: &Db) {
    match db {
        Db::Sqlite(p) => p.close().await,
        Db::Postgres(p) => p.close().await,
    }
}
