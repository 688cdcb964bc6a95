//! `fazhi ledger export`, `ledger verify --checkpoint`, `ledger witness`: the ledger checked
//! against checkpoints held outside this database (issue 12).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use fazhi_app::App;
use fazhi_app::ledger_publish::{ConsistencyProof, External, Published, Witnessed, witness};
use fazhi_ledger::HashAlg;
use fazhi_ledger::note::Verifier;

/// Reads a published checkpoint document from a file, or over http(s) from a portal (its
/// base address, or the full `/ledger/checkpoints.json` address).
///
/// # Errors
/// When the file or address cannot be read, or is not such a document.
pub async fn load_published(source: &str) -> anyhow::Result<Published> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let url = if source.ends_with(".json") {
            source.to_owned()
        } else {
            format!("{}/ledger/checkpoints.json", source.trim_end_matches('/'))
        };
        fetch(&url).await?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("无法读取检查点文件 {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source} 不是 fazhi 的检查点存档（ledger export 的输出）"))
}

async fn fetch(url: &str) -> anyhow::Result<String> {
    let u = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .build()
            .new_agent();
        agent.get(&u).call()?.body_mut().read_to_string()
    })
    .await?
    .with_context(|| format!("无法获取 {url}"))
}

/// Writes the published checkpoints (all logs' latest, or every checkpoint with `history`)
/// to `out`, or prints them.
///
/// # Errors
/// Database errors; a file that cannot be written.
pub async fn export(app: &App, out: Option<&Path>, history: bool) -> anyhow::Result<()> {
    let p = app.published_checkpoints(history, None).await.map_err(crate::explain)?;
    let json = serde_json::to_string_pretty(&p)?;
    match out {
        Some(path) => {
            std::fs::write(path, format!("{json}\n")).with_context(|| format!("无法写入 {}", path.display()))?;
            let n: usize = p.logs.iter().map(|l| l.checkpoints.len()).sum();
            println!(
                "已导出 {} 个账本的 {n} 个签名检查点到 {}；请另行保存（离开本服务器）",
                p.logs.len(),
                path.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(())
}

/// The external checkpoints of `source`, checked with the trusted `key`.
///
/// # Errors
/// When the source cannot be read or the key does not parse.
pub async fn external(source: &str, key: &str) -> anyhow::Result<External> {
    let trusted = Verifier::parse(key).context("--key 不是合法的公钥（名称+编号+公钥）")?;
    let p = load_published(source).await?;
    Ok(External::from_published(&p, trusted))
}

/// What the witness keeps: per log origin, the last checkpoint note it accepted.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct WitnessState {
    /// Note by origin (`key-name/org/log`).
    notes: std::collections::BTreeMap<String, String>,
}

/// Fetches a portal's checkpoints, checks each against the one this witness kept (with a
/// consistency proof from the portal), and keeps the new ones in `state`. Returns the
/// number of inconsistent logs.
///
/// # Errors
/// When the portal cannot be reached, the key does not parse, or the state file cannot be
/// read or written.
pub async fn witness_portal(url: &str, key: &str, state: &Path) -> anyhow::Result<usize> {
    let key = Verifier::parse(key).context("--key 不是合法的公钥（名称+编号+公钥）")?;
    let base = url.trim_end_matches('/').trim_end_matches("/ledger/checkpoints.json");
    let published = load_published(base).await?;
    let mut kept: WitnessState = match std::fs::read_to_string(state) {
        Ok(t) => serde_json::from_str(&t).with_context(|| format!("见证记录 {} 已损坏", state.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => WitnessState::default(),
        Err(e) => return Err(e).with_context(|| format!("无法读取见证记录 {}", state.display())),
    };
    let mut bad = 0;
    for log in &published.logs {
        let Some(new) = log.checkpoints.last() else { continue };
        // Kept by the log's origin (key name and log): the same log whatever address or
        // port the portal is reached at.
        let id = new.lines().next().unwrap_or_default().to_owned();
        let old = kept.notes.get(&id).cloned();
        let alg = HashAlg::parse(&log.hash_alg).unwrap_or(HashAlg::Sha256);
        let sizes = (old.as_deref().and_then(|o| key.open(o).ok()), key.open(new).ok());
        let proof = match sizes {
            (Some(o), Some(n)) if o.size > 0 && o.size < n.size => {
                let u = format!("{base}/ledger/{}/consistency?from={}&to={}", log.log_id, o.size, n.size);
                let p: ConsistencyProof =
                    serde_json::from_str(&fetch(&u).await?).with_context(|| format!("{u} 的一致性证明格式不正确"))?;
                p.proof
            }
            _ => Vec::new(),
        };
        match witness(&key, alg, old.as_deref(), new, &proof) {
            Witnessed::First { size } => println!("✔ {}（账本 {}）：首次见证，{size} 条", log.org_name, log.log_id),
            Witnessed::Consistent { from, to } => {
                println!("✔ {}（账本 {}）：{from} → {to} 条，与先前见证的一致", log.org_name, log.log_id);
            }
            Witnessed::Inconsistent(why) => {
                bad += 1;
                println!("✘ {}（账本 {}）：{why}", log.org_name, log.log_id);
                // Keep the old note: the alarm repeats until someone looks.
                continue;
            }
        }
        kept.notes.insert(id, new.clone());
    }
    let text = serde_json::to_string_pretty(&kept)?;
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = state.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, state))
        .with_context(|| format!("无法写入见证记录 {}", state.display()))?;
    Ok(bad)
}

/// Where a witness keeps its state by default: beside the data directory's database.
pub fn default_state(data_dir: &Path) -> PathBuf {
    data_dir.join("witness.json")
}

/// `ledger witness` as a command: fails when any log is inconsistent.
///
/// # Errors
/// See [`witness_portal`]; and when a log is inconsistent.
pub async fn witness_cmd(url: &str, key: &str, state: &Path) -> anyhow::Result<()> {
    let bad = witness_portal(url, key, state).await?;
    if bad > 0 {
        bail!("见证未通过：{bad} 个账本与先前见证的检查点不一致");
    }
    Ok(())
}
