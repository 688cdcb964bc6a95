//! `fazhi db copy --from URL --to URL`: every row, between SQLite and PostgreSQL.
//!
//! The target is migrated (opening it does that) and must then be empty. The source is read
//! in one read snapshot; the target is written in one transaction, table by table in
//! dependency order, in batches. Generated columns (PostgreSQL's `tsv`) are recomputed and
//! SQLite's full-text index is rebuilt rather than copied. Afterwards the row count of every
//! table and the root of every record log, recomputed from the copied entries, must equal
//! the source's.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::bail;
use fazhi_store::backup::{self as snap, LogHead, Snapshot, Table};
use fazhi_store::db::redact_url;

/// Copies the database of `from` into the empty database of `to` and checks the copy.
///
/// # Errors
/// When a database cannot be opened, the target is not empty, the schemas differ, a row
/// cannot be carried over, or the check after the copy finds a difference.
pub async fn db_copy(from: &str, to: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    if from.trim() == to.trim() {
        bail!("--from 和 --to 是同一个数据库");
    }
    let src = super::open_for_copy(from, false).await?;
    let dst = super::open_for_copy(to, true).await?;
    let result = copy_between(&src, &dst, from, to).await;
    src.close().await;
    dst.close().await;
    result?;
    println!("复制完成，核验通过（用时 {:.1} 秒）", started.elapsed().as_secs_f64());
    println!("注意：账本签名密钥 ledger.key 和附件目录 blobs/ 不在数据库中，请一并放到新安装的数据目录。");
    Ok(())
}

async fn copy_between(src: &fazhi_store::Store, dst: &fazhi_store::Store, from: &str, to: &str) -> anyhow::Result<()> {
    let src_tables = snap::tables(&src.read).await?;
    let dst_tables = snap::tables(&dst.write).await?;
    let by_name: BTreeMap<&str, &Table> = src_tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let missing: Vec<&str> = dst_tables.iter().map(|t| t.name.as_str()).filter(|n| !by_name.contains_key(n)).collect();
    let extra: Vec<&str> =
        src_tables.iter().map(|t| t.name.as_str()).filter(|n| !dst_tables.iter().any(|t| t.name == *n)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        bail!(
            "两个数据库的表不同（源库缺少：{}；目标库缺少：{}）：请用同一版本的程序打开两边",
            missing.join("、"),
            extra.join("、")
        );
    }
    if let Some((t, n)) = snap::row_counts(&dst.write, &dst_tables).await?.into_iter().find(|(_, n)| *n > 0) {
        bail!("目标数据库 {} 不为空（表 {t} 有 {n} 行）：只能复制到空数据库", redact_url(to));
    }
    // A source whose ledger does not verify is not copied: the target would hold a copy
    // that can never pass, and a failed copy leaves it filled.
    let source_problems: Vec<String> = snap::recomputed_heads(&src.read)
        .await?
        .into_iter()
        .flat_map(|(h, issues)| issues.into_iter().take(3).map(move |i| format!("账本 {}：{i}", h.log_id)))
        .collect();
    if !source_problems.is_empty() {
        for p in &source_problems {
            println!("✘ {p}");
        }
        bail!(
            "源数据库的账本核验未通过（{} 处），未复制任何数据：请先在源库运行 `fazhi ledger verify` 查明原因",
            source_problems.len()
        );
    }
    println!("正在复制 {} → {}", redact_url(from), redact_url(to));
    let mut s = Snapshot::begin(&src.read, false).await?;
    let counts = snap::row_counts(&mut s.tx, &src_tables).await?;
    let heads = snap::log_heads(&mut s.tx).await?;
    let mut tx = dst.begin().await?;
    for t in &dst_tables {
        let n = snap::copy_table(&mut s.tx, &mut tx, by_name[t.name.as_str()], t).await?;
        if n > 0 {
            println!("  {}：{n} 行", t.name);
        }
    }
    snap::finish_copy(&mut tx, &dst_tables).await?;
    tx.commit().await?;
    s.end().await?;
    check_copy(dst, &dst_tables, &counts, &heads).await
}

/// Compares the target after the copy with what was read from the source.
async fn check_copy(
    dst: &fazhi_store::Store,
    tables: &[Table],
    counts: &[(String, i64)],
    heads: &[LogHead],
) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let copied: BTreeMap<String, i64> = snap::row_counts(&dst.read, tables).await?.into_iter().collect();
    for (t, n) in counts {
        let got = copied.get(t).copied().unwrap_or(-1);
        if got != *n {
            problems.push(format!("表 {t}：源库 {n} 行，目标库 {got} 行"));
        }
    }
    let recomputed = snap::recomputed_heads(&dst.read).await?;
    if recomputed.len() != heads.len() {
        problems.push(format!("源库有 {} 本账本，目标库有 {} 本", heads.len(), recomputed.len()));
    }
    for (want, (got, issues)) in heads.iter().zip(&recomputed) {
        if want.log_id != got.log_id || want.size != got.size || want.root != got.root {
            problems.push(format!(
                "账本 {}：源库 {} 条、根哈希 {}；目标库重新计算为 {} 条、根哈希 {}",
                want.log_id, want.size, want.root, got.size, got.root
            ));
        }
        for i in issues.iter().take(3) {
            problems.push(format!("账本 {}：{i}", got.log_id));
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            println!("✘ {p}");
        }
        bail!(
            "复制后的核验发现 {} 处不一致。目标数据库已写入但未通过核验，不要使用：请清空它（PostgreSQL：dropdb 后 createdb；SQLite：删除该文件）后重试",
            problems.len()
        );
    }
    let rows: i64 = counts.iter().map(|c| c.1).sum();
    let entries: u64 = heads.iter().map(|h| h.size).sum();
    println!(
        "✔ {} 张表共 {rows} 行与源库一致；{} 本账本共 {entries} 条记录，在目标库重新计算的根哈希与源库相同",
        counts.len(),
        heads.len()
    );
    Ok(())
}
