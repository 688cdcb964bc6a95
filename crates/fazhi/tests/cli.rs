//! The binary as a user runs it: init, user management, refusals, serve and graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fazhi(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("FAZHI_DATABASE_URL")
        .env_remove("FAZHI_CONFIG")
        .output()
        .expect("run fazhi")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn init_and_manage_users() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let o = fazhi(&dir, &["init", "--district", "南开区", "--street", "万兴街道"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("一次性密码"));
    assert!(dir.join("fazhi.db").exists());

    let again = fazhi(&dir, &["init"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("已存在且不为空"), "{}", text(&again));

    // Node 2 is the street created by init.
    let o = fazhi(
        &dir,
        &["user", "add", "--username", "Li.Si", "--name", "李四", "--org", "2", "--role", "community_worker"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("li.si"));

    let o = fazhi(&dir, &["user", "add", "--username", "wang.wu", "--name", "王五", "--org", "2", "--role", "nope"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("没有代码为「nope」的角色"), "{}", text(&o));

    let o = fazhi(&dir, &["user", "add", "--username", "x", "--name", "", "--org", "2"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("username") && t.contains("display_name"), "{t}");

    let o = fazhi(&dir, &["user", "passwd", "li.si"]);
    assert!(o.status.success() && text(&o).contains("一次性密码"), "{}", text(&o));
    let o = fazhi(&dir, &["user", "disable", "li.si"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = fazhi(&dir, &["user", "disable", "ghost"]);
    assert!(!o.status.success() && text(&o).contains("没有用户名为"));
}

#[test]
fn missing_database_is_refused_not_created() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("fazhi-dta");
    let o = fazhi(&typo, &["user", "passwd", "admin"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("不存在"), "{}", text(&o));
    assert!(!typo.exists(), "a typo never makes an empty database");

    let o = fazhi(&typo, &["--database-url", "postgres://u:secret@127.0.0.1:1/x", "user", "passwd", "admin"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("无法打开数据库") && !t.contains("secret"), "{t}");

    let o = fazhi(&typo, &["--database-url", "mysql://x/y", "user", "passwd", "admin"]);
    assert!(!o.status.success() && text(&o).contains("不支持"));
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn first_serve_creates_everything_and_stops_gracefully() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh");
    let ((child, addr), printed) = start_server_with(&dir, &[]);
    assert!(printed.contains("一次性密码"), "first start prints the admin password: {printed}");
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok"), "{health}");
    let login = http_get(&addr, "/login");
    assert!(login.contains("法治政府建设工作平台"));

    // Graceful shutdown exits 0.
    stop_server(child);
}

#[test]
fn ledger_verify_proof_and_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let o = fazhi(&dir, &["init", "--district", "南开区", "--street", "万兴街道"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("公钥"), "init prints the public key: {}", text(&o));
    assert!(dir.join("ledger.key").exists());
    let o = fazhi(&dir, &["user", "add", "--username", "li.si", "--name", "李四", "--org", "2"]);
    assert!(o.status.success(), "{}", text(&o));

    let o = fazhi(&dir, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("全部一致"));

    let key = String::from_utf8(fazhi(&dir, &["ledger", "key"]).stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("fazhi-"), "{key}");
    let o = fazhi(&dir, &["ledger", "proof", "--org", "2", "--seq", "0"]);
    assert!(o.status.success(), "{}", text(&o));
    let proof = tmp.path().join("proof.json");
    std::fs::write(&proof, &o.stdout).unwrap();
    let o = fazhi(&dir, &["ledger", "check-proof", proof.to_str().unwrap(), "--key", &key]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("证明有效"));

    // Any edit of the proof fails offline.
    let edited = String::from_utf8(std::fs::read(&proof).unwrap()).unwrap().replacen("万兴街道", "万兴街", 1);
    std::fs::write(&proof, edited).unwrap();
    let o = fazhi(&dir, &["ledger", "check-proof", proof.to_str().unwrap(), "--key", &key]);
    assert!(!o.status.success(), "{}", text(&o));

    // A row changed directly in the SQLite file makes verify fail and name the entry.
    let url = format!("sqlite://{}", dir.join("fazhi.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        // As someone with write access to the file: first the append-only triggers.
        let refused = sqlx::query("update ledger_entry set actor_name = 'mallory' where log_id = 2 and seq = 0")
            .execute(&mut c)
            .await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        for sql in fazhi_testkit::DROP_LEDGER_GUARDS {
            sqlx::query(*sql).execute(&mut c).await.unwrap();
        }
        sqlx::query("update ledger_entry set actor_name = 'mallory' where log_id = 2 and seq = 0")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let o = fazhi(&dir, &["ledger", "verify"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("第 0 条记录的内容与其存储的哈希不符"), "{t}");
}

#[test]
fn calendar_due_explains_and_refuses_unknown_years() {
    let dir = tempfile::tempdir().unwrap();
    // 2024-09-27 (Fri) + 5 working days: 09-29 (Sun) is a make-up workday, 10-01..07 国庆.
    let o =
        fazhi(dir.path(), &["calendar", "due", "--from", "2024-09-27", "--days", "5", "--unit", "working", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["due"], "2024-10-10");
    let kinds: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"makeup_workday_counted") && kinds.contains(&"holiday_skipped"), "{kinds:?}");
    // Calendar days with roll: 2024-09-20 + 15 = 10-05 (国庆) -> 10-08.
    let o = fazhi(
        dir.path(),
        &["calendar", "due", "--from", "2024-09-20", "--days", "15", "--unit", "calendar", "--roll", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["due"], "2024-10-08");
    let o = fazhi(dir.path(), &["calendar", "due", "--from", "2024-09-27", "--days", "5", "--unit", "working"]);
    assert!(text(&o).contains("到期日：2024-10-10（星期四）"), "{}", text(&o));
    let o = fazhi(dir.path(), &["calendar", "due", "--from", "2031-03-01", "--days", "3", "--unit", "working"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("没有 2031 年的节假日安排"), "{}", text(&o));
    let o = fazhi(dir.path(), &["calendar", "due", "--from", "2024-13-01", "--days", "3", "--unit", "working"]);
    assert!(!o.status.success() && text(&o).contains("YYYY-MM-DD"));
}

#[test]
fn calendar_import_extends_the_known_years() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    assert!(fazhi(&dir, &["init"]).status.success());
    let o = fazhi(&dir, &["calendar", "due", "--from", "2026-12-28", "--days", "5", "--unit", "working"]);
    assert!(!o.status.success() && text(&o).contains("没有 2027 年"), "{}", text(&o));
    let file = tmp.path().join("2027.txt");
    // Two steps: the preview writes nothing and prints the confirmation token.
    std::fs::write(&file, "year 2027 测试\noff 2027-01-01..2027-01-03 元旦\n").unwrap();
    let f = file.to_str().unwrap();
    let o = fazhi(&dir, &["calendar", "import", f]);
    assert!(o.status.success() && text(&o).contains("尚未导入") && text(&o).contains("缺少“春节”"), "{}", text(&o));
    let token = |o: &Output| text(o).split("--confirm ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let t = token(&o);
    let o = fazhi(&dir, &["calendar", "import", f, "--confirm", &t]);
    assert!(!o.status.success() && text(&o).contains("全国年节及纪念日放假办法"), "{}", text(&o));
    let o = fazhi(&dir, &["calendar", "import", f, "--confirm", &t, "--override-reason", "测试：只有元旦"]);
    assert!(o.status.success() && text(&o).contains("已导入"), "{}", text(&o));
    let o = fazhi(&dir, &["calendar", "show", "2027"]);
    assert!(
        o.status.success() && text(&o).contains("由 ") && text(&o).contains("注意：2027 年的安排缺少“春节”"),
        "{}",
        text(&o)
    );
    // 2026-12-28 (Mon) + 5 working days: 29, 30, 31, (1–3 off), 4, 5 -> 2027-01-05.
    let o = fazhi(&dir, &["calendar", "due", "--from", "2026-12-28", "--days", "5", "--unit", "working", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["due"], "2027-01-05");
    std::fs::write(&file, "year 2027\nwork 2027-01-06 oops\n").unwrap();
    let o = fazhi(&dir, &["calendar", "import", file.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("第 2 行"), "{}", text(&o));
    let o = fazhi(&dir, &["clocks"]);
    assert!(o.status.success() && text(&o).contains("已检查"), "{}", text(&o));
    assert!(fazhi(&dir, &["ledger", "verify"]).status.success(), "the import was recorded in the ledger");
}

/// Starts `fazhi serve` on `dir` at a free loopback port; returns the child and address.
#[allow(clippy::zombie_processes, reason = "callers wait for the child (stop_server, or kill then wait)")]
fn start_server(dir: &Path) -> (std::process::Child, String) {
    start_server_with(dir, &[]).0
}

/// [`start_server`] with more arguments; also returns what the server printed first.
#[allow(clippy::zombie_processes, reason = "callers wait for the child (stop_server, or kill then wait)")]
fn start_server_with(dir: &Path, extra: &[&str]) -> ((std::process::Child, String), String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("FAZHI_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = String::new();
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server output").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            // Keep draining the pipe so the server never blocks on a full stdout.
            std::thread::spawn(move || for _ in lines {});
            return ((child, addr), printed);
        }
    }
}

fn stop_server(mut child: std::process::Child) {
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn one_process_writes_a_sqlite_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let o = fazhi(&dir, &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    let (server, addr) = start_server(&dir);

    // A second server and every writing command are refused, naming the holder.
    let second = Command::new(env!("CARGO_BIN_EXE_fazhi"))
        .arg("--data-dir")
        .arg(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("FAZHI_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!second.status.success());
    let t = text(&second);
    assert!(t.contains("正由另一个 fazhi 进程使用") && t.contains(&server.id().to_string()), "{t}");
    for args in [&["user", "passwd", "admin"][..], &["clocks"], &["ledger", "checkpoint"]] {
        let o = fazhi(&dir, args);
        assert!(!o.status.success() && text(&o).contains("正由另一个 fazhi 进程使用"), "{args:?}: {}", text(&o));
    }
    // Reading commands run beside it.
    let o = fazhi(&dir, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(http_get(&addr, "/healthz").ends_with("ok"));
    stop_server(server);

    // Once it stopped (a killed one too: the lock is the OS's), writing works again.
    let o = fazhi(&dir, &["user", "passwd", "admin"]);
    assert!(o.status.success(), "{}", text(&o));
    let (mut server, _) = start_server(&dir);
    server.kill().unwrap();
    server.wait().unwrap();
    let o = fazhi(&dir, &["user", "passwd", "admin"]);
    assert!(o.status.success(), "after kill -9: {}", text(&o));
}

#[test]
fn a_file_that_is_not_a_fazhi_database_is_never_made_a_new_installation() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, content) in [("empty", &b""[..]), ("text", &b"not a database at all"[..])] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("fazhi.db"), content).unwrap();
        for args in [&["serve", "--listen", "127.0.0.1:0"][..], &["user", "passwd", "admin"], &["ledger", "verify"]] {
            let o = fazhi(&dir, args);
            let t = text(&o);
            assert!(!o.status.success() && t.contains("不是 fazhi 的数据库"), "{name} {args:?}: {t}");
            assert!(!t.contains("一次性密码"), "{name}: a new admin was made: {t}");
        }
        assert_eq!(std::fs::read(dir.join("fazhi.db")).unwrap(), content, "{name}: the file was changed");
    }
}

#[test]
fn signing_keys_are_registered_never_silently_replaced_and_rotation_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    assert!(fazhi(&dir, &["init"]).status.success());
    let db_url = format!("sqlite://{}", dir.join("fazhi.db").display());
    let first_key = text(&fazhi(&dir, &["ledger", "key"])).trim().to_owned();
    let saved = tmp.path().join("first.key");
    std::fs::copy(dir.join("ledger.key"), &saved).unwrap();

    // A second node on the same database with a data directory of its own and no key.
    let other = tmp.path().join("b");
    std::fs::create_dir_all(&other).unwrap();
    let node = |args: &[&str]| {
        let mut all = vec!["--database-url", db_url.as_str()];
        all.extend_from_slice(args);
        fazhi(&other, &all)
    };
    let o = node(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(!o.status.success() && text(&o).contains("ledger.key"), "{}", text(&o));
    assert!(!other.join("ledger.key").exists(), "no key is made for an existing installation");
    // Sharing the installation's key file, it signs.
    std::fs::copy(&saved, other.join("ledger.key")).unwrap();
    let o = node(&["ledger", "checkpoint"]);
    assert!(o.status.success(), "{}", text(&o));

    // A lost key is refused, not regenerated; --rotate-key makes a new one, recorded.
    std::fs::remove_file(dir.join("ledger.key")).unwrap();
    let o = fazhi(&dir, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!o.status.success() && text(&o).contains("ledger.key"), "{}", text(&o));
    assert!(!dir.join("ledger.key").exists());
    let ((server, _), printed) = start_server_with(&dir, &["--rotate-key"]);
    assert!(printed.contains("已启用新的账本签名密钥"), "{printed}");
    stop_server(server);
    let new_key = text(&fazhi(&dir, &["ledger", "key"])).trim().to_owned();
    assert_ne!(new_key, first_key);
    // Old checkpoints still verify, with the retired key; the rotation is on the ledger.
    let o = fazhi(&dir, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    // The node still holding the retired key is refused.
    let o = node(&["ledger", "checkpoint"]);
    assert!(!o.status.success() && text(&o).contains("已被停用"), "{}", text(&o));
}

/// Runs SQL on a data directory's SQLite file, as someone with write access to it would
/// (the ledger's append-only triggers dropped first).
fn tamper(dir: &Path, statements: &[&str]) {
    let url = format!("sqlite://{}", dir.join("fazhi.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for sql in fazhi_testkit::DROP_LEDGER_GUARDS.iter().chain(statements) {
            sqlx::query(sqlx::AssertSqlSafe(*sql)).execute(&mut c).await.unwrap();
        }
    });
}

/// Deletes the newest entry of log 2 with its checkpoints and shortens the head: a
/// consistent, shorter log, which only checkpoints kept elsewhere can show.
const CUT_TAIL: &[&str] = &[
    "delete from ledger_checkpoint where log_id = 2",
    "delete from ledger_node where log_id = 2 and level = 0 and idx = (select size - 1 from ledger_log where log_id = 2)",
    "delete from ledger_entry where log_id = 2 and seq = (select size - 1 from ledger_log where log_id = 2)",
    "update ledger_log set size = size - 1 where log_id = 2",
];

#[test]
fn checkpoints_kept_elsewhere_catch_a_shortened_log_and_a_witness_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    assert!(fazhi(&dir, &["init"]).status.success());
    for name in ["li.si", "wang.wu"] {
        let o = fazhi(&dir, &["user", "add", "--username", name, "--name", "某人", "--org", "2"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(fazhi(&dir, &["ledger", "checkpoint"]).status.success());
    let key = text(&fazhi(&dir, &["ledger", "key"])).trim().to_owned();
    let kept = tmp.path().join("checkpoints.json");

    // A district's installation witnesses the street's portal.
    let state = tmp.path().join("witness.json");
    let witness = |addr: &str| {
        let url = format!("http://{addr}");
        fazhi(&dir, &["ledger", "witness", "--url", &url, "--key", &key, "--state", state.to_str().unwrap()])
    };
    let (server, addr) = start_server(&dir);
    let o = witness(&addr);
    assert!(o.status.success() && text(&o).contains("首次见证"), "{}", text(&o));
    stop_server(server);
    // The log grows: the witness checks the new checkpoint with a consistency proof.
    assert!(fazhi(&dir, &["user", "add", "--username", "zhao.liu", "--name", "赵六", "--org", "2"]).status.success());
    assert!(fazhi(&dir, &["ledger", "checkpoint"]).status.success());
    let (server, addr) = start_server(&dir);
    let o = witness(&addr);
    assert!(o.status.success() && text(&o).contains("与先前见证的一致"), "{}", text(&o));
    stop_server(server);
    // The street also exports its checkpoints to keep elsewhere.
    let o = fazhi(&dir, &["ledger", "export", "--out", kept.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    // Someone with the database cuts the newest entry and every checkpoint: the log itself
    // is consistent and shorter (here the record reconciliation still names the user whose
    // entry went; a careful attacker removes that row too) …
    tamper(&dir, CUT_TAIL);
    let o = fazhi(&dir, &["ledger", "verify"]);
    assert!(text(&o).contains("本街道（账本 2）：3 条记录，0 个签名检查点，全部一致"), "{}", text(&o));
    // … the exported checkpoints name the log.
    let o = fazhi(&dir, &["ledger", "verify", "--checkpoint", kept.to_str().unwrap(), "--key", &key]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("检查点"), "{t}");
    // A forged checkpoint file (another key) is refused.
    let other = "fazhi-x+00000000+AQ==";
    let o = fazhi(&dir, &["ledger", "verify", "--checkpoint", kept.to_str().unwrap(), "--key", other]);
    assert!(!o.status.success());
    // … and so does the witness, once the server signs the shortened log.
    let (server, addr) = start_server(&dir);
    std::thread::sleep(Duration::from_millis(500));
    let o = witness(&addr);
    assert!(!o.status.success() && text(&o).contains("变短"), "{}", text(&o));
    stop_server(server);
}
