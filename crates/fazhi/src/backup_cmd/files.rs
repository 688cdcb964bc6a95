//! Files of a backup: copies that reach the disk, the private key kept private, the blob
//! tree without unfinished uploads, and the PostgreSQL client tools run without the
//! password on their command line.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Whether a directory has no entries.
///
/// # Errors
/// When the directory cannot be read.
pub fn dir_is_empty(dir: &Path) -> anyhow::Result<bool> {
    if !dir.is_dir() {
        return Ok(false);
    }
    Ok(std::fs::read_dir(dir).with_context(|| format!("无法读取目录 {}", dir.display()))?.next().is_none())
}

fn create(to: &Path, private: bool) -> anyhow::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    opts.open(to).with_context(|| format!("无法创建 {}", to.display()))
}

/// Writes a new file and flushes it to disk.
///
/// # Errors
/// When the file exists already or cannot be written.
pub fn write_synced(to: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = create(to, false)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("无法写入 {}", to.display()))
}

fn copy_into(from: &Path, to: &Path, private: bool) -> anyhow::Result<u64> {
    let mut src = std::fs::File::open(from).with_context(|| format!("无法读取 {}", from.display()))?;
    let mut dst = create(to, private)?;
    let n = std::io::copy(&mut src, &mut dst).with_context(|| format!("无法复制 {}", from.display()))?;
    dst.sync_all().with_context(|| format!("无法写入 {}", to.display()))?;
    Ok(n)
}

/// Copies a file to a new path (refusing to overwrite) and flushes it; returns its size.
///
/// # Errors
/// When the source cannot be read or the target exists or cannot be written.
pub fn copy_file(from: &Path, to: &Path) -> anyhow::Result<u64> {
    copy_into(from, to, false)
}

/// Copies a secret (the signing key) to a new file readable by its owner only (0600).
///
/// # Errors
/// When the key is missing or the copy fails.
pub fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.exists() {
        bail!("缺少账本签名密钥 {}", from.display());
    }
    copy_into(from, to, true).map(|_| ())
}

/// Copies the blob tree `from` into `to` (created), leaving out unfinished uploads (the
/// `tmp/` directory and staged parts). Returns (files, bytes). A missing `from` is an empty
/// store.
///
/// # Errors
/// When a directory cannot be read or created, or a file cannot be copied.
pub fn copy_blobs(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    std::fs::create_dir_all(to).with_context(|| format!("无法创建 {}", to.display()))?;
    if !from.exists() {
        return Ok((0, 0));
    }
    let mut totals = (0, 0);
    copy_tree(from, to, true, &mut totals)?;
    Ok(totals)
}

fn copy_tree(from: &Path, to: &Path, top: bool, totals: &mut (u64, u64)) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("无法读取目录 {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if (top && text == "tmp") || text.contains('#') {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&dst).with_context(|| format!("无法创建 {}", dst.display()))?;
            copy_tree(&src, &dst, false, totals)?;
        } else {
            totals.0 += 1;
            totals.1 += copy_file(&src, &dst)?;
        }
    }
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A database URL without its password, and the password (decoded) for `PGPASSWORD`.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some(s) = url.find("://") else { return (url.to_owned(), None) };
    let rest = &url[s + 3..];
    let auth = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let Some(at) = auth.rfind('@') else { return (url.to_owned(), None) };
    let Some((user, pw)) = auth[..at].split_once(':') else { return (url.to_owned(), None) };
    (format!("{}{user}@{}", &url[..s + 3], &rest[at + 1..]), Some(percent_decode(pw)))
}

/// Runs `pg_dump` / `pg_restore` on the database of `url` with `args`. The password goes
/// through `PGPASSWORD`, never the command line; messages show the redacted URL.
///
/// # Errors
/// When the tool is not installed, cannot start, or exits with an error (its message is
/// included).
pub fn pg_tool(tool: &str, url: &str, args: &[String]) -> anyhow::Result<()> {
    let (bare, password) = split_password(url);
    let mut cmd = Command::new(tool);
    cmd.arg("--no-password").arg(format!("--dbname={bare}")).args(args);
    if let Some(pw) = password {
        cmd.env("PGPASSWORD", pw);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("找不到 {tool}：请安装 PostgreSQL 客户端工具（版本不低于数据库服务器）并确保它在 PATH 中")
        }
        Err(e) => bail!("无法运行 {tool}：{e}"),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{tool} 失败（{}，数据库 {}）：{}", out.status, fazhi_store::db::redact_url(url), err.trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://u:p%40ss@h:5432/db?sslmode=disable"),
            ("postgres://u@h:5432/db?sslmode=disable".to_owned(), Some("p@ss".to_owned()))
        );
        assert_eq!(split_password("postgres://u@h/db"), ("postgres://u@h/db".to_owned(), None));
        assert_eq!(split_password("postgres://h/db"), ("postgres://h/db".to_owned(), None));
    }

    #[test]
    fn blobs_skip_unfinished_uploads() {
        let d = tempfile::tempdir().unwrap();
        let from = d.path().join("blobs");
        std::fs::create_dir_all(from.join("blobs/ab")).unwrap();
        std::fs::create_dir_all(from.join("tmp")).unwrap();
        std::fs::write(from.join("blobs/ab/abcd"), b"1234").unwrap();
        std::fs::write(from.join("blobs/ab/abcd#1"), b"partial").unwrap();
        std::fs::write(from.join("tmp/upload"), b"x").unwrap();
        let to = d.path().join("copy");
        assert_eq!(copy_blobs(&from, &to).unwrap(), (1, 4));
        assert!(to.join("blobs/ab/abcd").exists() && !to.join("tmp").exists());
        assert!(dir_is_empty(&d.path().join("copy/blobs/ab")).is_ok());
    }
}
