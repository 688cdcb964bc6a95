//! Connection, transactions, the dispatch macro and migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, SqliteConnection};

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// A pool of either engine.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either engine. Dropped without `commit` = rolled back.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
    /// `None` for a read snapshot: its end says nothing about whether writes work.
    health: Option<Arc<WriteHealth>>,
}

#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Commits. A failure is reported to the store's write health (`/healthz`); the
    /// connection is never reused inside the failed transaction (see [`Store::begin`]).
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn commit(self) -> crate::Result<()> {
        let done = match self.inner {
            TxInner::Sqlite(t) => t.commit().await,
            TxInner::Postgres(t) => t.commit().await,
        };
        match (done, &self.health) {
            (Ok(()), Some(h)) => {
                h.succeeded();
                Ok(())
            }
            (Ok(()), None) => Ok(()),
            (Err(e), h) => {
                if let Some(h) = h {
                    h.failed(&e);
                }
                Err(e.into())
            }
        }
    }

    /// The driver's transaction, for store code that needs engine-specific statements.
    pub(crate) fn inner_mut(&mut self) -> &mut TxInner {
        &mut self.inner
    }

    /// A transaction that only reads (its end says nothing about write health).
    pub(crate) fn read_only(inner: TxInner) -> Self {
        Self { inner, health: None }
    }

    pub fn engine(&self) -> Engine {
        match self.inner {
            TxInner::Sqlite(_) => Engine::Sqlite,
            TxInner::Postgres(_) => Engine::Postgres,
        }
    }
}

/// Whether the store can write, as the last write attempts found it: the state `/healthz`
/// reports. A commit that fails for want of storage (disk full, read-only file or
/// database, I/O error, the server gone) marks it failing at once; a probe write
/// ([`Store::write_state`], at most every [`PROBE_EVERY_MS`]) confirms or clears it.
#[derive(Debug, Default)]
pub struct WriteHealth {
    state: std::sync::Mutex<HealthState>,
}

#[derive(Debug, Default)]
struct HealthState {
    failing: Option<String>,
    /// When the last probe started (ms since the epoch); 0 = never.
    probed_at: i64,
}

/// How often `/healthz` may write its probe row (ms): a monitor polling every second
/// costs one tiny write every five.
pub const PROBE_EVERY_MS: i64 = 5_000;

/// Free bytes below which a SQLite database's filesystem counts as full (8 MiB: a few
/// records with their ledger entries and index; 5 % of a smaller filesystem).
pub const MIN_FREE_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes the probe writes: a disk with room for a few bytes only is not writable.
const PROBE_BYTES: usize = 64 * 1024;

impl WriteHealth {
    fn failed(&self, e: &sqlx::Error) {
        if let Some(why) = storage_failure(e) {
            self.set(Some(why));
        }
    }

    fn succeeded(&self) {
        self.set(None);
    }

    fn set(&self, failing: Option<String>) {
        if let Ok(mut s) = self.state.lock() {
            s.failing = failing;
        }
    }

    /// Why writes are failing, or `None` when the last write attempt succeeded.
    pub fn failing(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.failing.clone())
    }

    /// Whether a probe is due at `now` (and, if so, claims it: one prober at a time).
    fn claim_probe(&self, now: i64) -> bool {
        let Ok(mut s) = self.state.lock() else { return false };
        let every = if s.failing.is_some() { PROBE_EVERY_MS / 5 } else { PROBE_EVERY_MS };
        if now - s.probed_at < every {
            return false;
        }
        s.probed_at = now;
        true
    }
}

/// The reason, when an error means the database cannot take writes at all (rather than
/// that this one write was refused, e.g. a unique violation).
fn storage_failure(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
            let storage = if let Ok(n) = code.parse::<i64>() {
                // SQLite primary result codes: READONLY 8, IOERR 10, CORRUPT 11, FULL 13,
                // CANTOPEN 14, NOTADB 26.
                matches!(n & 0xff, 8 | 10 | 11 | 13 | 14 | 26)
            } else {
                // PostgreSQL SQLSTATE: 53 insufficient resources (53100 disk full), 58
                // system error (58030 I/O), 25006 read-only transaction, 57P0x shutdown.
                code.starts_with("53") || code.starts_with("58") || code == "25006" || code.starts_with("57P")
            };
            storage.then(|| d.message().to_owned())
        }
        sqlx::Error::Io(io) => Some(io.to_string()),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Some(e.to_string()),
        _ => None,
    }
}

/// Where a query runs: a pool, or the connection of an open transaction.
#[derive(Debug)]
pub enum Exec<'a> {
    SqlitePool(&'a SqlitePool),
    SqliteConn(&'a mut SqliteConnection),
    PgPool(&'a PgPool),
    PgConn(&'a mut PgConnection),
}

impl<'a> From<&'a Db> for Exec<'a> {
    fn from(db: &'a Db) -> Self {
        match db {
            Db::Sqlite(p) => Exec::SqlitePool(p),
            Db::Postgres(p) => Exec::PgPool(p),
        }
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match &mut tx.inner {
            TxInner::Sqlite(t) => Exec::SqliteConn(t),
            TxInner::Postgres(t) => Exec::PgConn(t),
        }
    }
}

/// Runs ONE query body on whichever engine `$exec` is. The body is pasted into each arm,
/// so the driver types are inferred per arm; every arm must evaluate to the same type, so
/// map driver-specific results (rows, `rows_affected`) inside the body.
#[macro_export]
macro_rules! run {
    ($exec:expr, |$e:ident| $body:expr) => {
        match $crate::db::Exec::from($exec) {
            $crate::db::Exec::SqlitePool($e) => $body,
            $crate::db::Exec::SqliteConn($e) => $body,
            $crate::db::Exec::PgPool($e) => $body,
            $crate::db::Exec::PgConn($e) => $body,
        }
    };
}

/// What went wrong in the store. Messages are for logs and operators, never for users.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "数据库文件 {0} 不存在。若要新建数据目录，请运行 `fazhi init` 或 `fazhi serve`（首次启动会创建）；若是路径写错，请检查 --data-dir / --database-url"
    )]
    MissingDatabase(PathBuf),
    /// The file exists but is not a database this program made (empty, another format, or
    /// another program's SQLite database). Never turned into a new installation.
    #[error(
        "数据库文件 {path} 不是 fazhi 的数据库（{why}）。程序不会把它当作新安装覆盖：请从备份恢复（fazhi restore），或确认无用后移走它再初始化"
    )]
    NotFazhi { path: PathBuf, why: String },
    #[error("无法打开数据库（{engine}）：{message}")]
    Connect { engine: &'static str, message: String },
    #[error("不支持的数据库地址「{0}」：只支持 sqlite://文件路径 或 postgres://…")]
    UnsupportedUrl(String),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint was violated; the app turns this into a field error.
    #[error("唯一约束冲突：{0}")]
    Duplicate(String),
    #[error("数据库错误：{0}")]
    Sqlx(sqlx::Error),
    /// Stored data that cannot be what this program wrote (e.g. a hash of the wrong length).
    #[error("数据损坏：{0}")]
    Corrupt(String),
}

impl StoreError {
    /// Why the database cannot take writes at all (disk full, read-only, I/O, server gone),
    /// when that is what this error is; `None` for an error about this one write.
    pub fn storage_failure(&self) -> Option<String> {
        match self {
            StoreError::Sqlx(e) => storage_failure(e),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(d.message().to_owned()),
            _ => StoreError::Sqlx(e),
        }
    }
}

/// Whether opening may create a missing SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectMode {
    /// The database must already exist (every command except the first start).
    Existing,
    /// Create the SQLite file if missing (`init`, first `serve`, tests).
    CreateIfMissing,
}

/// The store: a writer and a reader. On SQLite the writer is ONE connection (sqlx has no
/// `BEGIN IMMEDIATE`; a single writer is what avoids SQLITE_BUSY) and the reader a
/// read-only pool; on PostgreSQL both are the same pool.
#[derive(Debug, Clone)]
pub struct Store {
    pub write: Db,
    pub read: Db,
    /// What the last write attempts found (shared by clones).
    pub health: Arc<WriteHealth>,
}

/// The path of a `sqlite:` URL's file.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
}

/// Hides the password of a URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl Store {
    /// Opens `url` (`sqlite://PATH` or `postgres://…`) and runs the migrations.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn open(url: &str, mode: ConnectMode) -> crate::Result<Self> {
        let store = if url.starts_with("sqlite:") {
            Self::open_sqlite(url, mode).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await?
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(url: &str, mode: ConnectMode) -> crate::Result<Self> {
        let path = sqlite_path(url).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
        if mode == ConnectMode::Existing && !path.exists() {
            return Err(StoreError::MissingDatabase(path));
        }
        if path.exists() {
            check_sqlite_header(&path)?;
        }
        let connect_err = |e: sqlx::Error| StoreError::Connect { engine: "SQLite", message: e.to_string() };
        let base = SqliteConnectOptions::from_str(url)
            .map_err(connect_err)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(
                base.clone()
                    .create_if_missing(mode == ConnectMode::CreateIfMissing)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(connect_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base.read_only(true))
            .await
            .map_err(connect_err)?;
        Ok(Self { write: Db::Sqlite(writer), read: Db::Sqlite(reader), health: Arc::default() })
    }

    async fn open_postgres(url: &str) -> crate::Result<Self> {
        let connect_err = |e: sqlx::Error| StoreError::Connect {
            engine: "PostgreSQL",
            message: format!("{}（地址 {}）", e, redact_url(url)),
        };
        let opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(connect_err)?;
        let db = Db::Postgres(pool);
        Ok(Self { write: db.clone(), read: db, health: Arc::default() })
    }

    async fn migrate(&self) -> crate::Result<()> {
        match &self.write {
            Db::Sqlite(p) => {
                // A database with tables but without our migration history is another
                // program's: migrating it would mix two schemas.
                let tables: Vec<String> = sqlx::query_scalar(
                    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
                )
                .fetch_all(p)
                .await?;
                if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
                    let path = p.connect_options().get_filename().to_owned();
                    return Err(StoreError::NotFazhi {
                        path, why: format!("含有其他程序的表：{}", tables.join("、"))
                    });
                }
                SQLITE_MIGRATOR.run(p).await?
            }
            Db::Postgres(p) => PG_MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self.write {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE` on the one writer
    /// connection, and a writer found still inside a transaction (a commit or rollback that
    /// failed, e.g. on a full disk, leaves the driver's count and SQLite disagreeing: the
    /// next "transaction" would have been a savepoint inside the dead one, acknowledged and
    /// never written) is closed and replaced first.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn begin(&self) -> crate::Result<Tx> {
        let inner = match &self.write {
            Db::Sqlite(p) => TxInner::Sqlite(self.begin_sqlite(p).await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await.inspect_err(|e| self.health.failed(e))?),
        };
        Ok(Tx { inner, health: Some(self.health.clone()) })
    }

    /// A read-only transaction on the read pool that sees ONE consistent snapshot of the
    /// database for all its reads (SQLite: a read transaction on one connection, its
    /// snapshot taken at the first read; PostgreSQL: `REPEATABLE READ READ ONLY`). For
    /// checks that compare tables with each other while the server writes (`ledger
    /// verify`). Dropped = ended.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails.
    pub async fn begin_snapshot(&self) -> crate::Result<Tx> {
        let inner = match &self.read {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Db::Postgres(p) => {
                TxInner::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
        };
        Ok(Tx { inner, health: None })
    }

    async fn begin_sqlite(&self, p: &SqlitePool) -> crate::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        use sqlx::Connection as _;
        let mut retried = false;
        loop {
            let conn = p.acquire().await.inspect_err(|e| self.health.failed(e))?;
            if conn.is_in_transaction() {
                tracing::warn!("the SQLite writer was left inside a failed transaction: connection replaced");
                let _ = conn.close().await;
                continue;
            }
            match sqlx::Transaction::begin(conn, Some(sqlx::SqlStr::from_static("BEGIN IMMEDIATE"))).await {
                Ok(t) => return Ok(t),
                // SQLite still inside a transaction the driver thinks ended.
                Err(e) if !retried && e.to_string().contains("within a transaction") => {
                    tracing::warn!("the SQLite writer was inside a transaction the driver had ended: replaced");
                    retried = true;
                    let _ = p.acquire().await?.close().await;
                }
                Err(e) => {
                    self.health.failed(&e);
                    return Err(e.into());
                }
            }
        }
    }

    /// Whether the store takes writes: `None` when it does, else why not. Writes one row of
    /// `write_probe` when the last probe is older than [`PROBE_EVERY_MS`] (a fifth of that
    /// while failing); otherwise answers from what the last writes found. On SQLite the free
    /// space of the database's filesystem is checked too: a full disk can still take the
    /// probe into pages the write-ahead log already holds.
    pub async fn write_state(&self, now_ms: i64) -> Option<String> {
        if self.health.claim_probe(now_ms) {
            if let Some(why) = self.low_disk() {
                self.health.set(Some(why));
                return self.health.failing();
            }
            let probe = async {
                let mut tx = self.begin().await?;
                // As large as an ordinary write (a record with its ledger entry and index).
                let pad = vec![0u8; PROBE_BYTES];
                run!(&mut tx, |e| sqlx::query(
                    "insert into write_probe (id, at, pad) values (1, $1, $2) \
                     on conflict (id) do update set at = excluded.at, pad = excluded.pad"
                )
                .bind(now_ms)
                .bind(&pad)
                .execute(e)
                .await
                .map(|_| ()))?;
                tx.commit().await
            };
            if let Err(e) = probe.await {
                self.health.set(Some(e.to_string()));
            }
        }
        self.health.failing()
    }

    /// On SQLite, why the database's filesystem is too full to write
    /// ([`MIN_FREE_BYTES`] left), if it is.
    fn low_disk(&self) -> Option<String> {
        let Db::Sqlite(p) = &self.write else { return None };
        let file = p.connect_options().get_filename().to_owned();
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
        let free = fs4::available_space(dir).ok()?;
        let total = fs4::total_space(dir).ok()?;
        (free < MIN_FREE_BYTES.min(total / 20))
            .then(|| format!("磁盘剩余空间不足：{} 上只剩 {} KiB", dir.display(), free / 1024))
    }

    /// Checks that the database answers (for `/healthz`).
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn ping(&self) -> crate::Result<()> {
        run!(&self.read, |e| sqlx::query("select 1").execute(e).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        for db in [&self.write, &self.read] {
            match db {
                Db::Sqlite(p) => p.close().await,
                Db::Postgres(p) => p.close().await,
            }
        }
    }
}

/// Refuses an existing file that cannot be a SQLite database: an empty file (a copy or
/// restore cut short) would otherwise silently become a new installation.
fn check_sqlite_header(path: &Path) -> crate::Result<()> {
    use std::io::Read;
    let not = |why: &str| StoreError::NotFazhi { path: path.to_owned(), why: why.to_owned() };
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| not(&format!("无法读取：{e}")))?;
    let n = f.read(&mut head).map_err(|e| not(&format!("无法读取：{e}")))?;
    if n == 0 {
        return Err(not("空文件，0 字节"));
    }
    if n < head.len() || &head != b"SQLite format 3\0" {
        return Err(not("不是 SQLite 数据库文件"));
    }
    Ok(())
}

/// The default SQLite URL inside a data directory.
pub fn sqlite_url_in(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("fazhi.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), Some(PathBuf::from("/tmp/a.db")));
        assert_eq!(sqlite_path("sqlite://data/fazhi.db"), Some(PathBuf::from("data/fazhi.db")));
        assert_eq!(sqlite_path("postgres://x"), None);
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
