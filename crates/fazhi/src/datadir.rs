//! The data directory as one process's property: an exclusive lock held by the server and
//! by every command that writes, and the demo built aside and moved into place whole.
//!
//! SQLite allows one writer. A second `fazhi serve` on the same directory used to start and
//! then fail a third of its writes with "database is locked"; a command run beside a server
//! raced it the same way. The lock is an OS file lock (`flock`), so it ends with the
//! process, also when the process is killed: a stale lock file never blocks a restart.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Config;

/// Name of the lock file: beside the SQLite database it protects.
const LOCK_SUFFIX: &str = ".lock";

/// An exclusive hold on a SQLite database file; released when dropped or when the process
/// ends, however it ends.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The SQLite file this configuration writes, or `None` on PostgreSQL (several nodes may
/// share one PostgreSQL database; the engine arbitrates their writes).
fn sqlite_file(cfg: &Config) -> Option<PathBuf> {
    match &cfg.database_url {
        None => Some(cfg.data_dir.join("fazhi.db")),
        Some(url) => fazhi_store::db::sqlite_path(url),
    }
}

/// Takes the exclusive lock of the configuration's SQLite database, for the server and for
/// every command that writes. `None` on PostgreSQL, and when `create` is not set and the
/// database does not exist (opening it then fails with its own message; a typo in
/// `--data-dir` never makes a directory).
///
/// # Errors
/// When another process holds the lock (its process id is named when known), or the lock
/// file cannot be created.
pub fn lock(cfg: &Config, create: bool) -> anyhow::Result<Option<DirLock>> {
    let Some(db) = sqlite_file(cfg) else { return Ok(None) };
    if !create && !db.exists() {
        return Ok(None);
    }
    // The lock sits beside the real file: a symbolic link (or another path) to the same
    // database must find the same lock.
    let db = std::fs::canonicalize(&db).unwrap_or(db);
    let mut name = db.file_name().map(std::ffi::OsString::from).unwrap_or_default();
    name.push(LOCK_SUFFIX);
    let path = db.with_file_name(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建数据目录 {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("无法创建锁文件 {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!("（进程号 {holder}）") };
            bail!(
                "数据库 {} 正由另一个 fazhi 进程使用{who}：同一个 SQLite 数据目录只能由一个服务或写入命令使用。\
                 请先停止它再运行；要运行多个节点，请改用 PostgreSQL（--database-url）",
                db.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("无法锁定 {}", path.display()));
        }
    }
    // Whom a refused second process names. Best effort: the lock itself is what counts.
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
    Ok(Some(DirLock { _file: file, path }))
}

/// The directory a demo is generated in before it is moved to its place.
fn building_dir(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().map(std::ffi::OsString::from).unwrap_or_else(|| "fazhi-demo".into());
    name.push(".building");
    dir.with_file_name(name)
}

/// Whether `serve --demo` has to generate the demo: its SQLite data directory holds no
/// database yet. A demo is generated in a sibling directory and renamed into place only when
/// complete, so a directory that exists is a complete demo, and a generation killed midway
/// leaves only the sibling, which the next start removes and builds again.
pub fn demo_missing(cfg: &Config) -> bool {
    cfg.database_url.is_none() && !cfg.data_dir.join("fazhi.db").exists()
}

/// Generates the demo installation aside with `build` (given the configuration to build
/// in) and moves it into the data directory when `build` succeeded.
///
/// # Errors
/// When the data directory exists and is not empty, or the files cannot be moved; and what
/// `build` returns.
pub async fn build_demo_aside<F, Fut>(cfg: &Config, build: F) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let target = &cfg.data_dir;
    if crate::is_fresh(target) {
        let aside = building_dir(target);
        if aside.exists() {
            println!("上次生成演示数据未完成，删除 {} 后重新生成", aside.display());
            std::fs::remove_dir_all(&aside).with_context(|| format!("无法删除 {}", aside.display()))?;
        }
        let mut c = cfg.clone();
        c.data_dir = aside.clone();
        build(c).await?;
        if target.exists() {
            std::fs::remove_dir(target).with_context(|| format!("无法替换空目录 {}", target.display()))?;
        }
        std::fs::rename(&aside, target)
            .with_context(|| format!("无法把演示数据从 {} 移到 {}", aside.display(), target.display()))?;
        return Ok(());
    }
    bail!(
        "数据目录 {} 不为空，但其中没有数据库 fazhi.db：不是完整的演示数据，也不是 fazhi 的安装。\
         请换一个目录（--data-dir），或确认其中没有需要的文件后删除它",
        target.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &Path) -> Config {
        let o = crate::config::Overrides { data_dir: Some(dir.to_owned()), ..Default::default() };
        Config::resolve(&o).unwrap()
    }

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let c = cfg(&d.path().join("data"));
        let first = lock(&c, true).unwrap().expect("SQLite is locked");
        let err = lock(&c, true).unwrap_err().to_string();
        assert!(err.contains("正由另一个 fazhi 进程使用") && err.contains(&std::process::id().to_string()), "{err}");
        drop(first);
        assert!(lock(&c, true).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_the_database_finds_the_same_lock() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("data");
        std::fs::create_dir_all(&real).unwrap();
        std::fs::write(real.join("fazhi.db"), "").unwrap();
        let other = d.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::os::unix::fs::symlink(real.join("fazhi.db"), other.join("fazhi.db")).unwrap();
        let _held = lock(&cfg(&real), false).unwrap().expect("locked");
        let err = lock(&cfg(&other), false).unwrap_err().to_string();
        assert!(err.contains("正由另一个 fazhi 进程使用"), "{err}");
    }

    #[test]
    fn postgres_takes_no_file_lock() {
        let d = tempfile::tempdir().unwrap();
        let mut c = cfg(d.path());
        c.database_url = Some("postgres://x@127.0.0.1/db".into());
        assert!(lock(&c, true).unwrap().is_none());
    }

    #[tokio::test]
    async fn a_killed_demo_build_leaves_nothing_in_place_and_is_rebuilt() {
        let d = tempfile::tempdir().unwrap();
        let c = cfg(&d.path().join("demo"));
        let failed = build_demo_aside(&c, |b| async move {
            std::fs::create_dir_all(&b.data_dir)?;
            std::fs::write(b.data_dir.join("fazhi.db"), "half")?;
            bail!("killed")
        })
        .await;
        assert!(failed.is_err());
        assert!(demo_missing(&c) && !c.data_dir.exists() && building_dir(&c.data_dir).exists());
        build_demo_aside(&c, |b| async move {
            assert!(!b.data_dir.join("fazhi.db").exists(), "the half-built demo was not removed");
            std::fs::create_dir_all(&b.data_dir)?;
            std::fs::write(b.data_dir.join("fazhi.db"), "whole")?;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(std::fs::read_to_string(c.data_dir.join("fazhi.db")).unwrap(), "whole");
        assert!(!demo_missing(&c) && !building_dir(&c.data_dir).exists());
        std::fs::write(d.path().join("other"), "x").unwrap();
        let c2 = cfg(d.path());
        assert!(build_demo_aside(&c2, |_| async { Ok(()) }).await.unwrap_err().to_string().contains("不为空"));
    }
}
