//! Backup drills as an operator runs them: a demo server keeps registering petitions (and
//! uploading attachments) through HTTP while `fazhi backup` runs; the backup is restored
//! elsewhere and verified, and every write acknowledged before the backup started must be
//! in it. The same on PostgreSQL when `FAZHI_TEST_PG_URL` is set, and `db copy` SQLite →
//! PostgreSQL → SQLite with every row and every ledger root equal.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use sqlx::Connection;

const PG_URL_ENV: &str = "FAZHI_TEST_PG_URL";
const DEMO_PASSWORD: &str = "Fazhi@demo2026";

/// Runs the binary on a data directory (and database URL), with nothing from the caller's
/// environment.
fn fazhi(dir: &Path, db: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fazhi"));
    c.arg("--data-dir").arg(dir).env_remove("FAZHI_DATABASE_URL").env_remove("FAZHI_CONFIG");
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c.args(args).output().expect("run fazhi")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A `fazhi serve --demo` on a free loopback port, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    base: String,
    stopped: bool,
}

impl Server {
    fn start(dir: &Path, db: Option<&str>) -> Self {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fazhi"));
        c.arg("--data-dir").arg(dir).env_remove("FAZHI_DATABASE_URL").env_remove("FAZHI_CONFIG");
        if let Some(url) = db {
            c.arg("--database-url").arg(url);
        }
        let mut child = c
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .env("FAZHI_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fazhi serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keep reading: the server's output must never fill the pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(120)).expect("server did not start");
        Self { child, base: format!("http://{addr}"), stopped: false }
    }

    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn set_cookie(r: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (k, val) = v.split(';').next()?.split_once('=')?;
        (k.trim() == name && !val.is_empty()).then(|| val.to_owned())
    })
}

/// The value of the first `name="csrf" value="…"` of a page.
fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Logs in through the form; returns the `Cookie` header of the session.
fn login(a: &ureq::Agent, base: &str, user: &str) -> String {
    let page = a.get(format!("{base}/login")).call().unwrap();
    let csrf = set_cookie(&page, "fazhi_login_csrf").expect("login CSRF cookie");
    let form = format!("csrf={csrf}&username={user}&password={}&next=%2F", DEMO_PASSWORD.replace('@', "%40"));
    let r = a
        .post(format!("{base}/login"))
        .header("Cookie", format!("fazhi_login_csrf={csrf}"))
        .content_type("application/x-www-form-urlencoded")
        .send(form)
        .unwrap();
    let s = set_cookie(&r, "fazhi_session").unwrap_or_else(|| panic!("login of {user} failed: {}", r.status()));
    format!("fazhi_session={s}")
}

/// The API token of the demo's 12345 integration account (`duijie12345`, at the petition
/// desk; printed by the demo: the account holds business permissions, so no administrator
/// issues it on the tokens page), and the admin's session cookie and CSRF token.
fn token_for_desk(a: &ureq::Agent, base: &str) -> (String, String, String) {
    let admin = login(a, base, "admin");
    let page = a.get(format!("{base}/tokens")).header("Cookie", &admin).call().unwrap().into_body().read_to_string();
    let csrf = csrf_in(&page.unwrap());
    (fazhi_app::bootstrap::DEMO_TOKEN.to_owned(), admin, csrf)
}

/// What the writer saw acknowledged, with when.
#[derive(Default)]
struct Acks {
    petitions: Vec<(i64, Instant)>,
    uploads: Vec<Instant>,
}

/// Registers petitions through the API (and every fourth write uploads a small PDF to the
/// street's node as admin) until `stop`; records each acknowledged write.
fn writer(base: String, token: String, admin: (String, String), stop: Arc<AtomicBool>, acks: Arc<Mutex<Acks>>) {
    let a = agent();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        if i.is_multiple_of(4) {
            let boundary = "fazhidrillboundary";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\n\
                 Content-Disposition: form-data; name=\"file\"; filename=\"drill-{i}.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n",
                admin.1
            )
            .into_bytes();
            body.extend_from_slice(format!("%PDF-1.4\n% drill {i}\n%%EOF\n").as_bytes());
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let r = a
                .post(format!("{base}/org/2/attachments"))
                .header("Cookie", &admin.0)
                .content_type(format!("multipart/form-data; boundary={boundary}"))
                .send(&body[..])
                .unwrap();
            assert_eq!(r.status().as_u16(), 303, "upload refused");
            acks.lock().unwrap().uploads.push(Instant::now());
            continue;
        }
        let body = serde_json::json!({
            "channel": "letter", "category": "claim", "title": format!("备份演练 {i}"),
            "content": "演练期间持续写入的信访事项内容", "petitioners": [{"name": "演练人", "phone": "13900000000"}]
        });
        let mut r = a
            .post(format!("{base}/api/v1/petitions"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(&body)
            .unwrap();
        let status = r.status().as_u16();
        let j: serde_json::Value = r.body_mut().read_json().unwrap();
        assert_eq!(status, 201, "{j}");
        acks.lock().unwrap().petitions.push((j["id"].as_i64().unwrap(), Instant::now()));
    }
}

/// Ids in the `petition` table and rows in `attachment` of a database.
async fn petition_ids(url: &str) -> (Vec<i64>, i64) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let ids: Vec<(i64,)> = sqlx::query_as("select id from petition").fetch_all(&mut c).await.unwrap();
        let n: i64 = sqlx::query_scalar("select count(*) from attachment").fetch_one(&mut c).await.unwrap();
        (ids.into_iter().map(|r| r.0).collect(), n)
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let ids: Vec<(i64,)> = sqlx::query_as("select id from petition").fetch_all(&mut c).await.unwrap();
        let n: i64 = sqlx::query_scalar("select count(*) from attachment").fetch_one(&mut c).await.unwrap();
        (ids.into_iter().map(|r| r.0).collect(), n)
    }
}

/// Temporary PostgreSQL databases on the server of `FAZHI_TEST_PG_URL`, dropped at the end.
struct PgDbs {
    admin: String,
    names: Vec<String>,
}

impl PgDbs {
    fn new(admin: &str, n: usize) -> Self {
        let names: Vec<String> = (0..n)
            .map(|_| {
                let mut raw = [0u8; 6];
                getrandom::fill(&mut raw).unwrap();
                format!("fazhi_backup_{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>())
            })
            .collect();
        let dbs = Self { admin: admin.to_owned(), names };
        for name in &dbs.names {
            dbs.sql(&format!("create database {name}"));
        }
        dbs
    }

    fn sql(&self, sql: &str) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.admin).await.expect("PostgreSQL reachable");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap();
        });
    }

    fn url(&self, i: usize) -> String {
        let base = self.admin.split('?').next().unwrap();
        let host = &base[..base.rfind('/').filter(|&p| p > base.find("://").unwrap() + 2).unwrap_or(base.len())];
        format!("{host}/{}", self.names[i])
    }
}

impl Drop for PgDbs {
    fn drop(&mut self) {
        for name in &self.names {
            self.sql(&format!("drop database if exists {name} with (force)"));
        }
    }
}

/// The drill on one engine: `db` is None for SQLite in the data directory, or
/// (source URL, restore URL) on PostgreSQL.
fn drill(db: Option<(String, String)>) {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (live, restored, dest) = (tmp.path().join("live"), tmp.path().join("restored"), tmp.path().join("backup"));
    let (src_url, dst_url) = match &db {
        Some((s, d)) => (Some(s.as_str()), Some(d.as_str())),
        None => (None, None),
    };
    let mut server = Server::start(&live, src_url);
    let a = agent();
    let (token, admin, csrf) = token_for_desk(&a, &server.base);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Acks::default()));
    let handle = {
        let (base, stop, acks) = (server.base.clone(), stop.clone(), acks.clone());
        std::thread::spawn(move || writer(base, token, (admin, csrf), stop, acks))
    };
    let warm = Instant::now();
    while acks.lock().unwrap().petitions.len() < 12 {
        assert!(warm.elapsed() < Duration::from_secs(30) && !handle.is_finished(), "writes are not acknowledged");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A backup killed earlier left its unfinished directory: it is replaced, never used.
    std::fs::create_dir_all(tmp.path().join("backup.partial")).unwrap();
    std::fs::write(tmp.path().join("backup.partial/fazhi.db"), b"half a copy").unwrap();
    let t0 = Instant::now();
    let (before, uploads_before) = {
        let acks = acks.lock().unwrap();
        let ids: Vec<i64> = acks.petitions.iter().filter(|p| p.1 < t0).map(|p| p.0).collect();
        (ids, acks.uploads.iter().filter(|t| **t < t0).count())
    };
    let o = fazhi(&live, src_url, &["backup", dest.to_str().unwrap()]);
    let t_end = Instant::now();
    let backup_secs = (t_end - t0).as_secs_f64();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("删除上次未完成的备份"), "{}", text(&o));
    stop.store(true, Ordering::Relaxed);
    handle.join().expect("writer");
    let during = acks.lock().unwrap().petitions.iter().filter(|p| p.1 >= t0 && p.1 <= t_end).count();
    server.stop();
    assert!(dest.join("manifest.json").exists() && !tmp.path().join("backup.partial").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.join("ledger.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key stays private");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["blobs"]["files"].as_u64().unwrap() >= uploads_before as u64, "{manifest}");
    let again = fazhi(&live, src_url, &["backup", dest.to_str().unwrap()]);
    assert!(!again.status.success() && text(&again).contains("已存在且不为空"), "{}", text(&again));

    let t1 = Instant::now();
    let o = fazhi(&restored, dst_url, &["restore", dest.to_str().unwrap()]);
    let restore_secs = t1.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("与备份清单一致") && text(&o).contains("全部一致"), "{}", text(&o));
    let o = fazhi(&restored, dst_url, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    let again = fazhi(&restored, dst_url, &["restore", dest.to_str().unwrap()]);
    assert!(!again.status.success() && text(&again).contains("不为空"), "{}", text(&again));

    if db.is_none() {
        // A backup that does not restore to what its manifest says fails the restore.
        let bad = tmp.path().join("tampered");
        std::fs::create_dir_all(&bad).unwrap();
        for f in ["fazhi.db", "ledger.key"] {
            std::fs::copy(dest.join(f), bad.join(f)).unwrap();
        }
        let mut m = manifest.clone();
        m["tables"]["petition"] = serde_json::json!(m["tables"]["petition"].as_i64().unwrap() + 1);
        std::fs::write(bad.join("manifest.json"), m.to_string()).unwrap();
        let o = fazhi(&tmp.path().join("restored-bad"), None, &["restore", bad.to_str().unwrap()]);
        assert!(!o.status.success() && text(&o).contains("与备份清单不一致"), "{}", text(&o));
    }
    let url = dst_url.map_or_else(|| format!("sqlite://{}", restored.join("fazhi.db").display()), str::to_owned);
    let (ids, attachments) = tokio::runtime::Runtime::new().unwrap().block_on(petition_ids(&url));
    let missing: Vec<&i64> = before.iter().filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not restored: {missing:?}");
    assert!(attachments >= uploads_before as i64, "{attachments} attachments < {uploads_before} uploads");
    println!(
        "drill ({}): {} petitions and {uploads_before} uploads acknowledged before the backup, {during} during it; \
         backup {backup_secs:.2}s, restore+verify {restore_secs:.2}s, whole drill {:.1}s",
        if db.is_some() { "PostgreSQL" } else { "SQLite" },
        before.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn backup_while_writing_then_restore_sqlite() {
    drill(None);
}

#[test]
fn backup_while_writing_then_restore_postgres() {
    let Ok(admin) = std::env::var(PG_URL_ENV) else {
        eprintln!("{PG_URL_ENV} not set: PostgreSQL drill skipped");
        return;
    };
    let dbs = PgDbs::new(&admin, 2);
    drill(Some((dbs.url(0), dbs.url(1))));
}

/// Rows of table `t` in one SQLite database and not in the other (both attached).
async fn rows_differ(c: &mut sqlx::SqliteConnection, t: &str) -> i64 {
    let sql = format!(
        "select (select count(*) from (select * from a.\"{t}\" except select * from b.\"{t}\")) + \
         (select count(*) from (select * from b.\"{t}\" except select * from a.\"{t}\"))"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(c).await.unwrap()
}

#[test]
fn db_copy_sqlite_to_postgres_and_back() {
    let Ok(admin) = std::env::var(PG_URL_ENV) else {
        eprintln!("{PG_URL_ENV} not set: db copy test skipped");
        return;
    };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (orig, back) = (tmp.path().join("orig"), tmp.path().join("back"));
    Server::start(&orig, None).stop();
    let dbs = PgDbs::new(&admin, 1);
    let pg = dbs.url(0);
    let from = format!("sqlite://{}", orig.join("fazhi.db").display());
    let to = format!("sqlite://{}", back.join("fazhi.db").display());
    let o = fazhi(tmp.path(), None, &["db", "copy", "--from", &from, "--to", &pg]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("根哈希与源库相同"), "{}", text(&o));
    let o = fazhi(tmp.path(), None, &["db", "copy", "--from", &pg, "--to", &to]);
    assert!(o.status.success(), "{}", text(&o));
    let o = fazhi(tmp.path(), None, &["db", "copy", "--from", &from, "--to", &to]);
    assert!(!o.status.success() && text(&o).contains("不为空"), "{}", text(&o));

    // Every row of every table came back unchanged; the search index answers the same.
    let same = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&from).await.unwrap();
        for (alias, path) in [("a", orig.join("fazhi.db")), ("b", back.join("fazhi.db"))] {
            sqlx::query(sqlx::AssertSqlSafe(format!("attach database '{}' as {alias}", path.display())))
                .execute(&mut c)
                .await
                .unwrap();
        }
        let tables: Vec<(String,)> = sqlx::query_as(
            "select name from pragma_table_list where schema = 'a' and type = 'table' \
             and name not like 'sqlite_%' and name not like 'search_fts%' and name <> '_sqlx_migrations'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert!(tables.len() > 20, "{tables:?}");
        let mut differing = Vec::new();
        for (t,) in &tables {
            if rows_differ(&mut c, t).await != 0 {
                differing.push(t.clone());
            }
        }
        let word = "信访";
        let hits = |db: &str| format!("select count(*) from {db}.search_fts where search_fts match '{word}'");
        let a: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(hits("a"))).fetch_one(&mut c).await.unwrap();
        let b: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(hits("b"))).fetch_one(&mut c).await.unwrap();
        (differing, a, b)
    });
    assert!(same.0.is_empty(), "tables differ after the round trip: {:?}", same.0);
    assert_eq!(same.1, same.2, "full-text hits differ");
    assert!(same.1 > 0, "the demo data has searchable petitions");
    std::fs::copy(orig.join("ledger.key"), back.join("ledger.key")).unwrap();
    let o = fazhi(&back, None, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    println!("db copy round trip: {:.1}s", started.elapsed().as_secs_f64());
}
