//! `fazhi ledger …`: verify logs, print and check proofs, sign checkpoints, show the key;
//! and the installation's signing key in the data directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use fazhi_app::App;
use fazhi_app::ledger::LedgerKeys;
use fazhi_ledger::note::{Signer, Verifier};
use fazhi_ledger::proof::ProofBundle;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every entry and root from the stored rows, check every signed checkpoint;
    /// exits non-zero and names the first bad entry when anything was altered.
    Verify {
        /// Only the log of this org (a street/township or district id).
        #[arg(long)]
        org: Option<i64>,
        /// Also check the database against checkpoints held elsewhere: a file written by
        /// `ledger export`, or a portal's address. A log shorter than, or inconsistent
        /// with, any of them fails. Needs --key.
        #[arg(long, requires = "key")]
        checkpoint: Option<String>,
        /// The trusted public key (published, kept apart from this server) that must have
        /// signed the --checkpoint notes.
        #[arg(long)]
        key: Option<String>,
    },
    /// Write the signed checkpoints (every log's latest; all with --history) and the keys as
    /// JSON, to keep apart from this server.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        history: bool,
    },
    /// Witness another installation's checkpoints (a district its streets): fetch them,
    /// check each log against the checkpoint witnessed before with a consistency proof, and
    /// keep the new ones. Fails when a log shrank or was rewritten.
    Witness {
        /// The portal's address, e.g. https://wanxing.example.gov.cn
        #[arg(long)]
        url: String,
        /// The installation's published public key.
        #[arg(long)]
        key: String,
        /// Where the witnessed checkpoints are kept (default: witness.json in the data
        /// directory).
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Print an entry, its inclusion proof and the latest signed checkpoint as JSON.
    Proof {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        seq: u64,
    },
    /// Check a proof JSON offline (no database needed).
    CheckProof {
        file: PathBuf,
        /// The installation's published public key; without it the key inside the file is
        /// used, which proves only that the file is self-consistent.
        #[arg(long)]
        key: Option<String>,
    },
    /// Sign a checkpoint now for every log that grew since its last one.
    Checkpoint,
    /// Print the public key that verifies this installation's checkpoints.
    Key,
}

impl LedgerCommand {
    /// Whether the command writes to the database (and so takes the data directory's lock).
    /// A proof may sign a checkpoint on demand; that one short write goes through the
    /// engine's own locking beside a running server.
    pub fn writes(&self) -> bool {
        matches!(self, LedgerCommand::Checkpoint)
    }
}

const KEY_FILE: &str = "ledger.key";

fn key_path(cfg: &Config) -> PathBuf {
    cfg.data_dir.join(KEY_FILE)
}

/// Loads the signing key from the data directory; with `create`, makes one when missing.
pub fn load_keys(cfg: &Config, create: bool) -> anyhow::Result<LedgerKeys> {
    let path = key_path(cfg);
    let signer = if path.exists() {
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("无法读取账本签名密钥 {}", path.display()))?;
        Signer::parse(&text).with_context(|| format!("账本签名密钥 {} 已损坏", path.display()))?
    } else if create {
        let keys = LedgerKeys::generate(cfg.ledger_hash);
        write_private(&path, &keys.signer.to_private_text())?;
        println!("已生成账本签名密钥：{}", path.display());
        println!("公钥（请在门户公布，用于核验）：{}", keys.verifier().to_vkey());
        return Ok(keys);
    } else {
        bail!(
            "数据目录中没有账本签名密钥 {}：请在安装的数据目录下运行（或指定 --data-dir）；多节点共用数据库时，\
             把首个节点的 ledger.key 复制到本节点的数据目录；密钥丢失时从备份恢复。确需换用新密钥，运行 \
             `fazhi serve --rotate-key`（记入账本）",
            path.display()
        );
    };
    Ok(LedgerKeys { alg: cfg.ledger_hash, signer: Arc::new(signer) })
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{text}\n")).with_context(|| format!("无法写入 {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Checks a proof file; needs no database.
pub fn check_proof(file: &Path, key: Option<&str>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let bundle: ProofBundle =
        serde_json::from_str(&text).with_context(|| format!("{} 不是合法的证明文件", file.display()))?;
    let trusted = key.map(Verifier::parse).transpose()?;
    let checked = bundle.check(trusted.as_ref())?;
    let e = &bundle.entry;
    println!("证明有效：账本 {} 第 {} 条记录（{} {} {}）", e.log_id, e.seq, e.record_type, e.record_id, e.action);
    println!(
        "包含于已签名检查点：{}，共 {} 条，签名密钥 {}",
        checked.checkpoint.origin, checked.checkpoint.size, checked.signer
    );
    if trusted.is_none() {
        println!("注意：使用的是文件内附的公钥。请用 --key 指定门户公布的公钥再核验一次。");
    }
    Ok(())
}

pub async fn run(app: &App, cmd: LedgerCommand) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Verify { org, checkpoint, key } => {
            let external = match (checkpoint, key) {
                (Some(src), Some(key)) => Some(crate::ledger_trust::external(&src, &key).await?),
                _ => None,
            };
            verify(app, org, external.as_ref()).await
        }
        LedgerCommand::Export { out, history } => crate::ledger_trust::export(app, out.as_deref(), history).await,
        LedgerCommand::Proof { org, seq } => {
            let bundle = app.proof_for(&crate::operator(), org, seq).await.map_err(crate::explain)?;
            println!("{}", serde_json::to_string_pretty(&bundle)?);
            Ok(())
        }
        LedgerCommand::Checkpoint => {
            app.ensure_signing_key(false).await.map_err(crate::explain)?;
            let made = app.checkpoint_all().await.map_err(crate::explain)?;
            if made.is_empty() {
                println!("所有账本自上次检查点以来没有新记录。");
            }
            for (log, size) in made {
                println!("账本 {log}：已签发检查点，共 {size} 条");
            }
            Ok(())
        }
        LedgerCommand::Key => {
            println!("{}", app.ledger.verifier().to_vkey());
            Ok(())
        }
        LedgerCommand::CheckProof { .. } | LedgerCommand::Witness { .. } => {
            bail!("此命令不需要数据库，应在打开数据库之前处理")
        }
    }
}

/// Rechecks the ledger, the blobs and the business records, printing a line per log.
///
/// # Errors
/// When anything does not match, or the database fails.
pub(crate) async fn verify(
    app: &App,
    org: Option<i64>,
    external: Option<&fazhi_app::ledger_publish::External>,
) -> anyhow::Result<()> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 条 {per_sec} 剩余 {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let started = std::time::Instant::now();
    let reports = app
        .verify_ledger_against(&crate::operator(), org, external, |done, total| {
            if let Some(b) = &bar {
                b.set_length(total);
                b.set_position(done);
            }
        })
        .await
        .map_err(crate::explain)?;
    let ledger_secs = started.elapsed().as_secs_f64();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if reports.is_empty() {
        bail!("没有找到账本{}", org.map(|o| format!("（机构 {o}）")).unwrap_or_default());
    }
    let mut bad = 0;
    let mut total = 0;
    for r in &reports {
        total += r.entries;
        if r.problems.is_empty() {
            println!(
                "✔ {}（账本 {}）：{} 条记录，{} 个签名检查点，全部一致",
                r.org_name, r.log_id, r.entries, r.checkpoints
            );
        } else {
            bad += 1;
            println!("✘ {}（账本 {}）：{} 条记录，发现 {} 处问题", r.org_name, r.log_id, r.entries, r.problems.len());
            println!("  首个问题：{}", r.problems[0]);
            for p in r.problems.iter().skip(1).take(9) {
                println!("  另：{p}");
            }
        }
    }
    let (blobs, blob_problems) = app.verify_blobs(|_| {}).await.map_err(crate::explain)?;
    if blob_problems.is_empty() {
        println!("✔ 附件文件：{blobs} 个，内容与登记的哈希一致");
    } else {
        bad += 1;
        println!("✘ 附件文件：{blobs} 个，{} 个有问题", blob_problems.len());
        for p in blob_problems.iter().take(10) {
            println!("  {p}");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("共核验 {total} 条记录，用时 {secs:.2} 秒（{:.0} 条/秒）", total as f64 / secs.max(1e-9));
    println!(
        "其中账本 {ledger_secs:.2} 秒（{:.0} 条/秒），附件 {:.2} 秒",
        total as f64 / ledger_secs.max(1e-9),
        secs - ledger_secs
    );
    // The business records against what the ledger vouches for (timed on their own: the
    // figures above stay the ledger's).
    let records_started = std::time::Instant::now();
    let report = app.verify_records(&crate::operator(), |_| {}).await.map_err(crate::explain)?;
    let records_secs = records_started.elapsed().as_secs_f64();
    let records = report.checked;
    if report.problems.is_empty() {
        println!("✔ 业务记录、用户与权限、附件、审计日志：{records} 条，与全过程记录一致（用时 {records_secs:.2} 秒）");
    } else {
        bad += 1;
        println!(
            "✘ 业务记录、用户与权限、附件、审计日志：{records} 条，{} 处与全过程记录不一致",
            report.problems.len()
        );
        for p in report.problems.iter().take(20) {
            println!("  {p}");
        }
        if report.problems.len() > 20 {
            println!("  ……另有 {} 处", report.problems.len() - 20);
        }
    }
    // Older entries are not evidence of tampering: say what could not be compared.
    if !report.partial.is_empty() {
        let kinds: Vec<String> = report.partial.iter().map(|(k, n)| format!("{k}{n} 条")).collect();
        println!(
            "  注：{}的早期全过程记录由旧版本写入，不含逐字段的改动，无法比对；只核对了其后记录的字段",
            kinds.join("、")
        );
    }
    if report.audit_unchained > 0 {
        println!("  注：安全审计日志中有 {} 条写于哈希链启用之前，无法核对", report.audit_unchained);
    }
    if bad > 0 {
        bail!("核验未通过：{bad} 处（账本、附件或业务记录）有问题");
    }
    Ok(())
}
