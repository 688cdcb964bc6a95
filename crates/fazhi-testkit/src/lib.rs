//! Test support: a fresh database per test, on each engine.
//!
//! [`engines`] returns one [`TestDb`] on a temporary SQLite file and, when
//! `FAZHI_TEST_PG_URL` is set (CI always sets it), one on a new uniquely named PostgreSQL
//! database that is dropped when the `TestDb` is dropped. Store tests loop over it, so one
//! suite runs on both engines. Never a shared database, never a retry loop.

use std::str::FromStr;

use fazhi_store::{ConnectMode, Engine, Store};
use sqlx::Connection;

/// The environment variable naming a PostgreSQL server for tests (any database on it; the
/// tests create and drop their own).
pub const PG_URL_ENV: &str = "FAZHI_TEST_PG_URL";

/// A migrated, empty database that lives as long as this value.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<PgDrop>,
}

#[derive(Debug)]
struct PgDrop {
    admin_url: String,
    name: String,
}

impl TestDb {
    pub fn engine(&self) -> Engine {
        self.store.engine()
    }

    /// A new SQLite database in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fazhi_store::db::sqlite_url_in(dir.path());
        let store = Store::open(&url, ConnectMode::CreateIfMissing).await.expect("open test SQLite");
        Self { store, _dir: Some(dir), pg_drop: None }
    }

    /// A new PostgreSQL database on the server of `admin_url`.
    pub async fn postgres(admin_url: &str) -> Self {
        let mut raw = [0u8; 8];
        getrandom::fill(&mut raw).expect("random");
        let name = format!("fazhi_test_{}", hex::encode(raw));
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_URL_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = with_database(admin_url, &name);
        let store = Store::open(&url, ConnectMode::Existing).await.expect("open test PostgreSQL");
        Self { store, _dir: None, pg_drop: Some(PgDrop { admin_url: admin_url.to_owned(), name }) }
    }
}

/// `admin_url` with its database name replaced by `name`.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(d) = self.pg_drop.take() else { return };
        // Dropping happens outside any async context we can rely on, so use a small
        // runtime of our own on a plain thread. FORCE ends the pool's open connections.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let opts = sqlx::postgres::PgConnectOptions::from_str(&d.admin_url).ok()?;
                let mut conn = sqlx::PgConnection::connect_with(&opts).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {} with (force)", d.name)))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

/// The statements that drop the ledger's append-only triggers (migration 0011), as someone
/// with full write access to the database would before tampering. Tests of what `ledger
/// verify` catches run them first; the triggers themselves are tested on their own.
pub const DROP_LEDGER_GUARDS: &[&str] = &[
    "drop trigger if exists ledger_entry_append_only_u",
    "drop trigger if exists ledger_entry_append_only_d",
    "drop trigger if exists ledger_node_append_only_u",
    "drop trigger if exists ledger_node_append_only_d",
    "drop trigger if exists ledger_checkpoint_append_only_u",
    "drop trigger if exists ledger_checkpoint_append_only_d",
    "drop trigger if exists ledger_log_grows_only",
    "drop trigger if exists ledger_log_kept",
];

/// PostgreSQL's form of [`DROP_LEDGER_GUARDS`].
pub const DROP_LEDGER_GUARDS_PG: &[&str] = &[
    "drop function if exists fazhi_ledger_append_only() cascade",
    "drop function if exists fazhi_ledger_head_grows() cascade",
];

/// Drops the ledger's append-only triggers on either engine (see [`DROP_LEDGER_GUARDS`]).
pub async fn drop_ledger_guards(store: &Store) {
    let list = match store.engine() {
        Engine::Sqlite => DROP_LEDGER_GUARDS,
        Engine::Postgres => DROP_LEDGER_GUARDS_PG,
    };
    for sql in list {
        fazhi_store::run!(&store.write, |e| sqlx::query(*sql).execute(e).await.map(|_| ())).expect("drop guard");
    }
}

/// A fresh database on every engine available: SQLite always, PostgreSQL when
/// `FAZHI_TEST_PG_URL` is set.
pub async fn engines() -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite().await];
    match std::env::var(PG_URL_ENV) {
        Ok(url) if !url.is_empty() => v.push(TestDb::postgres(&url).await),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{PG_URL_ENV} must be set in CI: PostgreSQL is never skipped there");
            }
            eprintln!("note: {PG_URL_ENV} not set; this test ran on SQLite only");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t2"), "postgres://u:p@h/t2?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "t3"), "postgres://h:5432/t3");
    }
}
