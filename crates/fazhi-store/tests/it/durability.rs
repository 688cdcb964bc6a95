//! Acknowledged means committed: a write the store reports as committed is in the database,
//! and a failed write leaves the writer usable (issue 12).

use fazhi_store::{ConnectMode, Store, run};

async fn exec(store: &Store, sql: &'static str) {
    run!(&store.write, |e| sqlx::query(sql).execute(e).await.map(|_| ())).unwrap();
}

/// Writes 4 KiB rows until the (simulated) disk is full and then a few more; every write
/// that committed must be there when the database is opened again, none that failed, and
/// once space is back the writer works again.
#[tokio::test]
async fn disk_full_acknowledges_only_what_is_committed() {
    // A really small filesystem when one is given (CI mounts a tmpfs when it may), else the
    // writer connection's page limit stands for the full disk.
    let tiny = std::env::var_os("FAZHI_TEST_TINY_FS").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir_in(tiny.clone().unwrap_or_else(std::env::temp_dir)).unwrap();
    let url = fazhi_store::db::sqlite_url_in(dir.path());
    let store = Store::open(&url, ConnectMode::CreateIfMissing).await.unwrap();
    exec(&store, "create table fill (id integer primary key, pad blob not null)").await;
    // On the small filesystem, space to give back once it is full.
    let ballast = dir.path().join("ballast");
    if tiny.is_some() {
        std::fs::write(&ballast, vec![0u8; 256 * 1024]).unwrap();
    }
    if tiny.is_none() {
        let pages: i64 = run!(&store.write, |e| sqlx::query_scalar("pragma page_count").fetch_one(e).await).unwrap();
        let limit = format!("pragma max_page_count = {}", pages + 40);
        run!(&store.write, |e| sqlx::query(sqlx::AssertSqlSafe(limit.clone())).execute(e).await.map(|_| ())).unwrap();
    }
    let mut acknowledged = Vec::new();
    let mut failures = 0;
    for i in 0..2_000i64 {
        let mut tx = store.begin().await.unwrap_or_else(|e| panic!("begin after {failures} failures: {e}"));
        let ok = match run!(&mut tx, |e| sqlx::query("insert into fill (id, pad) values ($1, zeroblob(4096))")
            .bind(i)
            .execute(e)
            .await
            .map(|_| ()))
        {
            Ok(_) => tx.commit().await.is_ok(),
            Err(_) => false,
        };
        if ok {
            acknowledged.push(i);
        } else {
            failures += 1;
        }
    }
    assert!(failures > 0, "the limit was never reached");
    assert!(!acknowledged.is_empty());
    // The writer is replaced after a failed transaction, so a new connection (without the
    // simulated limit: space freed) takes writes again and health recovers.
    // The writer is replaced after a failed transaction, so a new connection (without the
    // simulated limit: space freed) takes writes again and health recovers.
    let now = 1_000_000;
    if tiny.is_some() {
        // The disk is still full: health says so, and recovers once space is freed.
        let why = store.write_state(now).await;
        assert!(why.as_deref().is_some_and(|w| w.contains("full") || w.contains("磁盘剩余空间不足")), "{why:?}");
        std::fs::remove_file(&ballast).unwrap();
    }
    assert_eq!(store.write_state(now + 10_000).await, None, "a probe once writes work again");
    store.close().await;
    let again = Store::open(&url, ConnectMode::Existing).await.unwrap();
    let ids: Vec<i64> =
        run!(&again.read, |e| sqlx::query_scalar("select id from fill order by id").fetch_all(e).await).unwrap();
    assert_eq!(ids, acknowledged, "acknowledged writes lost or unacknowledged ones stored");
}

/// A database that refuses writes answers every write with an error, `/healthz`'s probe
/// reports it, and the state recovers once writes work again.
#[tokio::test]
async fn read_only_database_is_reported_until_writable() {
    for db in fazhi_testkit::engines().await {
        let store = &db.store;
        assert_eq!(store.write_state(1).await, None);
        let (off, on): (&'static str, &'static str) = match db.engine() {
            fazhi_store::Engine::Sqlite => ("pragma query_only = 0", "pragma query_only = 1"),
            fazhi_store::Engine::Postgres => (
                "set session characteristics as transaction read write",
                "set session characteristics as transaction read only",
            ),
        };
        // One connection, so the setting holds for the writes that follow.
        let single = match &store.write {
            fazhi_store::Db::Sqlite(_) => store.clone(),
            fazhi_store::Db::Postgres(p) => {
                let opts = (*p.connect_options()).clone();
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
                let db = fazhi_store::Db::Postgres(pool);
                fazhi_store::Store { write: db.clone(), read: db, health: Default::default() }
            }
        };
        exec(&single, on).await;
        // Refused at BEGIN IMMEDIATE (SQLite) or at the statement (PostgreSQL).
        let refused = match single.begin().await {
            Err(_) => true,
            Ok(mut tx) => run!(&mut tx, |e| sqlx::query("insert into write_probe (id, at) values (7, 1)")
                .execute(e)
                .await
                .map(|_| ()))
            .is_err(),
        };
        assert!(refused, "{:?}: a read-only database took a write", db.engine());
        let why = single.write_state(10_000).await;
        assert!(why.is_some(), "{:?}: health must report a read-only database", db.engine());
        // Within the probe interval the answer is remembered, not probed again.
        assert_eq!(single.write_state(10_001).await, why);
        exec(&single, off).await;
        assert_eq!(single.write_state(20_000).await, None, "{:?}: health must recover", db.engine());
    }
}
