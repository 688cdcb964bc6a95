//! Connection, transactions, the dispatch macro and migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
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
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Commits.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn commit(self) -> crate::Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
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
        match tx {
            Tx::Sqlite(t) => Exec::SqliteConn(t),
            Tx::Postgres(t) => Exec::PgConn(t),
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
        Ok(Self { write: Db::Sqlite(writer), read: Db::Sqlite(reader) })
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
        Ok(Self { write: db.clone(), read: db })
    }

    async fn migrate(&self) -> crate::Result<()> {
        match &self.write {
            Db::Sqlite(p) => SQLITE_MIGRATOR.run(p).await?,
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

    /// Starts a write transaction.
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
    pub async fn begin(&self) -> crate::Result<Tx> {
        Ok(match &self.write {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
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
