//! `fazhi backup DEST`, `fazhi restore SRC` and `fazhi db copy --from URL --to URL`.
//!
//! A backup is a directory: the database (`fazhi.db`, a `VACUUM INTO` copy, or
//! `fazhi.pgdump`, a `pg_dump -Fc`), the signing key, `fazhi.toml` when present, the local
//! blobs and `manifest.json` with the row count of every table and the head (size, root) of
//! every record log at the instant of the snapshot. The database is read first and the
//! blobs after it: a blob is written before the row that points at it, so every blob a
//! backed-up row names is in the copy. It is written to `DEST.partial` and renamed when
//! complete, so an interrupted backup never looks like one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Subcommand;
use fazhi_domain::clock::{Clock, SystemClock};
use fazhi_store::backup::{self as snap, LogHead, Snapshot};
use fazhi_store::db::{Db, redact_url, sqlite_path};
use fazhi_store::{ConnectMode, Store};

use crate::config::{BlobConfig, Config};
use files::{copy_blobs, copy_file, copy_private, dir_is_empty, pg_tool};

mod copy;
mod files;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy every row from one database to another, between SQLite and PostgreSQL in
    /// either direction. The target must be empty; it is migrated first, filled in one
    /// transaction and then checked (row counts, every record log's root).
    Copy {
        /// Source database URL (sqlite://FILE or postgres://…).
        #[arg(long)]
        from: String,
        /// Target database URL; a missing SQLite file is created.
        #[arg(long)]
        to: String,
    },
}

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "fazhi.db";
const PG_FILE: &str = "fazhi.pgdump";
const KEY_FILE: &str = "ledger.key";
const CONFIG_FILE: &str = "fazhi.toml";

/// What a backup holds, written last as `manifest.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// UTC, RFC 3339.
    pub created_at: String,
    pub created_at_ms: i64,
    /// "sqlite" or "postgres".
    pub engine: String,
    pub fazhi_version: String,
    /// The database file in the backup directory.
    pub database: String,
    /// Rows per table at the snapshot.
    pub tables: BTreeMap<String, i64>,
    /// Every record log's head at the snapshot.
    pub logs: Vec<LogHead>,
    /// Other files copied (key, configuration).
    pub files: Vec<String>,
    /// Blob files copied (local blob store), or `None` when blobs live elsewhere.
    pub blobs: Option<BlobCount>,
    pub notes: Vec<String>,
}

/// How many blob files, of how many bytes, a backup holds.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct BlobCount {
    pub files: u64,
    pub bytes: u64,
}

/// Where the configured database lives.
enum Target {
    Sqlite { url: String, path: PathBuf },
    Postgres { url: String },
}

impl Target {
    fn of(cfg: &Config) -> anyhow::Result<Self> {
        match &cfg.database_url {
            None => {
                let url = fazhi_store::db::sqlite_url_in(&cfg.data_dir);
                Ok(Target::Sqlite { url, path: cfg.data_dir.join(SQLITE_FILE) })
            }
            Some(u) if u.starts_with("sqlite:") => {
                let path = sqlite_path(u).ok_or_else(|| anyhow::anyhow!("数据库地址 {u} 没有指明文件"))?;
                Ok(Target::Sqlite { url: u.clone(), path })
            }
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Target::Postgres { url: u.clone() })
            }
            Some(u) => bail!("不支持的数据库地址「{}」：只支持 sqlite://文件路径 或 postgres://…", redact_url(u)),
        }
    }

    fn engine(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    fn label(&self) -> String {
        match self {
            Target::Sqlite { path, .. } => path.display().to_string(),
            Target::Postgres { url } => redact_url(url),
        }
    }
}

fn partial_of(dest: &Path) -> anyhow::Result<PathBuf> {
    let name =
        dest.file_name().ok_or_else(|| anyhow::anyhow!("请为备份指定一个目录名（如 /backup/fazhi-2026-05-01）"))?;
    let mut partial = name.to_os_string();
    partial.push(".partial");
    Ok(dest.with_file_name(partial))
}

/// Files a backup directory may hold: an unfinished one is removed only when it has no other.
fn ours(name: &str) -> bool {
    [MANIFEST, SQLITE_FILE, PG_FILE, KEY_FILE, CONFIG_FILE, "blobs"].contains(&name)
}

fn prepare(dest: &Path) -> anyhow::Result<PathBuf> {
    if dest.exists() && !dir_is_empty(dest)? {
        bail!("备份目录 {} 已存在且不为空：请指定一个新的（或空的）目录，以免覆盖已有的备份", dest.display());
    }
    let partial = partial_of(dest)?;
    if partial.exists() {
        let foreign =
            std::fs::read_dir(&partial)?.filter_map(Result::ok).any(|e| !ours(&e.file_name().to_string_lossy()));
        if foreign {
            bail!("{} 已存在且含有不属于备份的文件：请确认后删除它再重试", partial.display());
        }
        println!("删除上次未完成的备份 {}", partial.display());
        std::fs::remove_dir_all(&partial).with_context(|| format!("无法删除 {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("无法创建 {}", partial.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The backup holds the signing key.
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(partial)
}

/// The database part of a backup: file name, row counts and log heads at the snapshot.
type DbPart = (String, Vec<(String, i64)>, Vec<LogHead>);

/// SQLite: `VACUUM INTO` the backup directory, then read counts and heads from the copy.
async fn snapshot_sqlite(url: &str, partial: &Path) -> anyhow::Result<DbPart> {
    let out = partial.join(SQLITE_FILE);
    snap::vacuum_into(url, &out).await?;
    let db = snap::open_sqlite_file(&out).await?;
    let part = counts_and_heads(&db).await;
    snap::close(&db).await;
    let (counts, heads) = part?;
    Ok((SQLITE_FILE.to_owned(), counts, heads))
}

async fn counts_and_heads(db: &Db) -> anyhow::Result<(Vec<(String, i64)>, Vec<LogHead>)> {
    let tables = snap::tables(db).await?;
    let mut s = Snapshot::begin(db, false).await?;
    let counts = snap::row_counts(&mut s.tx, &tables).await?;
    let heads = snap::log_heads(&mut s.tx).await?;
    s.end().await?;
    Ok((counts, heads))
}

/// PostgreSQL: counts and heads in a REPEATABLE READ transaction whose snapshot `pg_dump`
/// then dumps, so the dump and the manifest describe the same instant.
async fn snapshot_pg(url: &str, partial: &Path) -> anyhow::Result<DbPart> {
    let db = snap::connect_pg(url).await?;
    let tables = snap::tables(&db).await?;
    let mut s = Snapshot::begin(&db, true).await?;
    let counts = snap::row_counts(&mut s.tx, &tables).await?;
    let heads = snap::log_heads(&mut s.tx).await?;
    let id = s.exported.clone().unwrap_or_default();
    let out = partial.join(PG_FILE);
    let args = vec!["--format=custom".to_owned(), format!("--snapshot={id}"), format!("--file={}", out.display())];
    let url_owned = url.to_owned();
    let dumped = tokio::task::spawn_blocking(move || pg_tool("pg_dump", &url_owned, &args)).await?;
    s.end().await?;
    snap::close(&db).await;
    dumped?;
    Ok((PG_FILE.to_owned(), counts, heads))
}

/// `fazhi backup DEST`: a consistent online backup of the configured installation.
///
/// # Errors
/// When DEST is not empty, the database cannot be read or copied, `pg_dump` fails, or a
/// file cannot be copied; the unfinished copy stays in `DEST.partial`.
pub async fn backup(cfg: &Config, dest: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let key = cfg.data_dir.join(KEY_FILE);
    if !key.exists() {
        bail!("数据目录 {} 中没有账本签名密钥 {KEY_FILE}：请用 --data-dir 指定安装的数据目录", cfg.data_dir.display());
    }
    let target = Target::of(cfg)?;
    if let Target::Sqlite { path, .. } = &target
        && !path.exists()
    {
        bail!("数据库文件 {} 不存在：请用 --data-dir 或 --database-url 指定要备份的安装", path.display());
    }
    let partial = prepare(dest)?;
    let now = SystemClock.now_ms();
    println!("正在备份 {} → {}", target.label(), dest.display());
    let (database, counts, logs) = match &target {
        Target::Sqlite { url, .. } => snapshot_sqlite(url, &partial).await?,
        Target::Postgres { url } => snapshot_pg(url, &partial).await?,
    };
    println!("✔ 数据库快照：{} 张表，{} 行", counts.len(), counts.iter().map(|c| c.1).sum::<i64>());
    let mut files = vec![KEY_FILE.to_owned()];
    copy_private(&key, &partial.join(KEY_FILE))?;
    let toml = cfg.data_dir.join(CONFIG_FILE);
    if toml.exists() {
        copy_file(&toml, &partial.join(CONFIG_FILE))?;
        files.push(CONFIG_FILE.to_owned());
    }
    let mut notes = Vec::new();
    // After the snapshot: every blob a backed-up row names was written before the row.
    let blobs = match &cfg.blob_store {
        BlobConfig::Local => {
            let (files, bytes) = copy_blobs(&cfg.data_dir.join("blobs"), &partial.join("blobs"))?;
            Some(BlobCount { files, bytes })
        }
        BlobConfig::S3 { bucket, .. } => {
            notes.push(format!(
                "附件存放在 S3 存储桶 {bucket}，不在本备份中：请用存储桶自身的工具（版本控制、复制）备份"
            ));
            None
        }
    };
    let manifest = Manifest {
        format: 1,
        created_at: chrono::DateTime::from_timestamp_millis(now)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default(),
        created_at_ms: now,
        engine: target.engine().to_owned(),
        fazhi_version: env!("CARGO_PKG_VERSION").to_owned(),
        database,
        tables: counts.into_iter().collect(),
        logs,
        files,
        blobs,
        notes,
    };
    files::write_synced(&partial.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    if dest.exists() {
        std::fs::remove_dir(dest).with_context(|| format!("无法替换空目录 {}", dest.display()))?;
    }
    std::fs::rename(&partial, dest)
        .with_context(|| format!("无法把 {} 改名为 {}", partial.display(), dest.display()))?;
    print_summary(&manifest);
    println!("备份完成：{}（用时 {:.1} 秒）", dest.display(), started.elapsed().as_secs_f64());
    Ok(())
}

fn print_summary(m: &Manifest) {
    let entries: u64 = m.logs.iter().map(|l| l.size).sum();
    println!("  账本：{} 本，共 {entries} 条记录", m.logs.len());
    if let Some(b) = m.blobs {
        println!("  附件文件：{} 个，{:.1} MB", b.files, b.bytes as f64 / 1_048_576.0);
    }
    for n in &m.notes {
        println!("  注意：{n}");
    }
}

fn read_manifest(src: &Path) -> anyhow::Result<Manifest> {
    let path = src.join(MANIFEST);
    if !path.exists() {
        let partial = partial_of(src).map(|p| p.exists()).unwrap_or(false);
        bail!(
            "{} 不是完整的 fazhi 备份（缺少 {MANIFEST}）{}",
            src.display(),
            if partial { "" } else { "：请指定 fazhi backup 写出的目录" }
        );
    }
    let text = std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} 已损坏", path.display()))
}

/// Refuses a restore that would mix with existing data, before anything is written.
async fn check_restore_target(cfg: &Config, m: &Manifest, target: &Target) -> anyhow::Result<()> {
    if m.engine != target.engine() {
        bail!(
            "备份来自 {}，而恢复目标是 {}：restore 只能恢复到同类数据库；请先恢复到同类数据库，再用 `fazhi db copy` 复制",
            engine_label(&m.engine),
            engine_label(target.engine())
        );
    }
    let dir = &cfg.data_dir;
    let leftovers = dir.exists()
        && std::fs::read_dir(dir)?.filter_map(Result::ok).any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // The lock this command holds while it restores.
            name != CONFIG_FILE && name != "fazhi.db.lock"
        });
    if leftovers {
        bail!("数据目录 {} 不为空：只能恢复到空目录（或尚不存在的目录），以免覆盖现有数据", dir.display());
    }
    match target {
        Target::Sqlite { path, .. } if path.exists() => {
            bail!("数据库文件 {} 已存在：只能恢复到空的位置", path.display())
        }
        Target::Sqlite { .. } => {}
        Target::Postgres { url } => {
            let db = snap::connect_pg(url).await?;
            let existing = snap::pg_user_tables(&db).await;
            snap::close(&db).await;
            let existing = existing?;
            if let Some(first) = existing.first() {
                bail!("数据库 {} 已有 {} 张表（如 {first}）：只能恢复到空数据库", redact_url(url), existing.len());
            }
        }
    }
    Ok(())
}

fn engine_label(code: &str) -> &str {
    match code {
        "sqlite" => "SQLite",
        "postgres" => "PostgreSQL",
        other => other,
    }
}

/// Puts the database of the backup in place: the SQLite file, or `pg_restore` of the dump.
async fn restore_database(src: &Path, target: &Target) -> anyhow::Result<()> {
    match target {
        Target::Sqlite { path, .. } => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("无法创建目录 {}", parent.display()))?;
            }
            copy_file(&src.join(SQLITE_FILE), path)?;
        }
        Target::Postgres { url } => {
            let dump = src.join(PG_FILE);
            let args = vec![
                "--no-owner".to_owned(),
                "--exit-on-error".to_owned(),
                "--single-transaction".to_owned(),
                dump.display().to_string(),
            ];
            let url = url.clone();
            tokio::task::spawn_blocking(move || pg_tool("pg_restore", &url, &args)).await??;
        }
    }
    Ok(())
}

/// `fazhi restore SRC`: into the configured (empty) data directory or database, then the
/// restored installation is verified against the manifest.
///
/// # Errors
/// When the target is not empty, the backup is of the other engine or incomplete, a copy
/// or `pg_restore` fails, or the verification finds any difference.
pub async fn restore(cfg: &Config, src: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let m = read_manifest(src)?;
    let target = Target::of(cfg)?;
    check_restore_target(cfg, &m, &target).await?;
    let dir = &cfg.data_dir;
    println!("正在从 {}（{}）恢复到 {}", src.display(), m.created_at, target.label());
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建数据目录 {}", dir.display()))?;
    restore_database(src, &target).await?;
    copy_private(&src.join(KEY_FILE), &dir.join(KEY_FILE))?;
    if src.join(CONFIG_FILE).exists() {
        if dir.join(CONFIG_FILE).exists() {
            println!("注意：数据目录已有 {CONFIG_FILE}，保留不动；备份中的配置见 {}", src.join(CONFIG_FILE).display());
        } else {
            copy_file(&src.join(CONFIG_FILE), &dir.join(CONFIG_FILE))?;
        }
    }
    if src.join("blobs").exists() {
        copy_blobs(&src.join("blobs"), &dir.join("blobs"))?;
    }
    println!("✔ 文件已复制，正在核验恢复的数据……");
    verify_restored(cfg, &m, &target).await?;
    println!("恢复完成，核验通过（用时 {:.1} 秒）", started.elapsed().as_secs_f64());
    Ok(())
}

/// Differences between what the manifest says and what the restored database holds.
fn differences(m: &Manifest, counts: &[(String, i64)], heads: &[LogHead]) -> Vec<String> {
    let mut out = Vec::new();
    let found: BTreeMap<&str, i64> = counts.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    for (table, want) in &m.tables {
        match found.get(table.as_str()) {
            Some(n) if n == want => {}
            Some(n) => out.push(format!("表 {table}：备份时 {want} 行，恢复后 {n} 行")),
            None => out.push(format!("表 {table}：恢复后不存在")),
        }
    }
    let by_id: BTreeMap<i64, &LogHead> = heads.iter().map(|h| (h.log_id, h)).collect();
    for want in &m.logs {
        match by_id.get(&want.log_id) {
            Some(h) if h.size == want.size && h.root == want.root => {}
            Some(h) => out.push(format!(
                "账本 {}：备份时 {} 条、根哈希 {}，恢复后 {} 条、根哈希 {}",
                want.log_id, want.size, want.root, h.size, h.root
            )),
            None => out.push(format!("账本 {}：恢复后不存在", want.log_id)),
        }
    }
    if heads.len() > m.logs.len() {
        out.push(format!("恢复后有 {} 本账本，备份时只有 {} 本", heads.len(), m.logs.len()));
    }
    out
}

/// Counts and heads of the restored database as restored: read before opening it as a
/// store, whose migrations would bring a backup of an older version up to date.
async fn restored_counts(target: &Target) -> anyhow::Result<(Vec<(String, i64)>, Vec<LogHead>)> {
    let db = match target {
        Target::Sqlite { path, .. } => snap::open_sqlite_file(path).await?,
        Target::Postgres { url } => snap::connect_pg(url).await?,
    };
    let read = counts_and_heads(&db).await;
    snap::close(&db).await;
    read
}

async fn verify_restored(cfg: &Config, m: &Manifest, target: &Target) -> anyhow::Result<()> {
    let (counts, heads) = restored_counts(target).await?;
    let store = crate::open(cfg, false).await?;
    let app = crate::app(store.clone(), cfg)?.with_ledger(crate::ledger_cmd::load_keys(cfg, false)?);
    let verified = crate::ledger_cmd::verify(&app, None, None).await;
    store.close().await;
    let diffs = differences(m, &counts, &heads);
    if diffs.is_empty() {
        let rows: i64 = counts.iter().map(|c| c.1).sum();
        println!("✔ 与备份清单一致：{} 张表共 {rows} 行，{} 本账本的条数和根哈希相同", m.tables.len(), m.logs.len());
    } else {
        println!("✘ 与备份清单不一致：");
        for d in &diffs {
            println!("  {d}");
        }
    }
    verified?;
    if !diffs.is_empty() {
        bail!("恢复后的数据与备份清单有 {} 处不一致", diffs.len());
    }
    Ok(())
}

/// `fazhi db …`.
///
/// # Errors
/// When the copy fails or its check finds a difference (see `fazhi db copy --help`).
pub async fn run_db(cmd: DbCommand) -> anyhow::Result<()> {
    match cmd {
        DbCommand::Copy { from, to } => copy::db_copy(&from, &to).await,
    }
}

/// Opens a store for `db copy`: the source must exist; a missing SQLite target is created.
///
/// # Errors
/// When the database cannot be opened or migrated, or the SQLite file's directory cannot be
/// created.
pub(crate) async fn open_for_copy(url: &str, create: bool) -> anyhow::Result<Store> {
    let sqlite = url.starts_with("sqlite:");
    let parent = sqlite_path(url).and_then(|p| p.parent().map(Path::to_owned));
    if let Some(parent) = parent.filter(|p| create && sqlite && !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(&parent).with_context(|| format!("无法创建目录 {}", parent.display()))?;
    }
    let mode = if create && sqlite { ConnectMode::CreateIfMissing } else { ConnectMode::Existing };
    Ok(Store::open(url, mode).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names() {
        assert_eq!(partial_of(Path::new("/b/x")).unwrap(), PathBuf::from("/b/x.partial"));
        assert_eq!(partial_of(Path::new("x/")).unwrap(), PathBuf::from("x.partial"));
        assert!(partial_of(Path::new("/")).is_err());
    }

    #[test]
    fn manifest_differences_are_named() {
        let head = |size, root: &str| LogHead { log_id: 2, size, hash_alg: "sha256".into(), root: root.into() };
        let m = Manifest {
            format: 1,
            created_at: String::new(),
            created_at_ms: 0,
            engine: "sqlite".into(),
            fazhi_version: String::new(),
            database: SQLITE_FILE.into(),
            tables: [("petition".to_owned(), 3)].into_iter().collect(),
            logs: vec![head(5, "aa")],
            files: Vec::new(),
            blobs: None,
            notes: Vec::new(),
        };
        assert!(differences(&m, &[("petition".into(), 3)], &[head(5, "aa")]).is_empty());
        let d = differences(&m, &[("petition".into(), 2)], &[head(5, "bb")]);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("petition") && d[1].contains("根哈希"), "{d:?}");
    }
}
