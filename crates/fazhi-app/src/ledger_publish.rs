//! Trust anchored outside the database (issue 12): the signed checkpoints as the portal
//! publishes them, the consistency proofs a witness asks for, and verification of the
//! database against checkpoints held elsewhere.
//!
//! Whoever can write the database can delete the tail of a log with its checkpoints, or
//! rewrite an entry and re-sign with the key in the data directory: a check that reads
//! only the database then sees a consistent, shorter or different, log. A checkpoint kept
//! by someone else — exported to a file, fetched by the district's installation as a
//! witness, printed in an inspection report — does not change with it: the database must
//! hold a log at least that long whose tree at that size has that root (RFC 6962).

use std::collections::{BTreeMap, BTreeSet};

use fazhi_ledger::HashAlg;
use fazhi_ledger::note::Verifier;
use fazhi_ledger::tree;
use fazhi_store::ledger as store;

use crate::{App, AppError, AppResult};

/// What the portal publishes and `ledger export` writes: the installation's keys and, per
/// log, signed checkpoint notes (the latest, or the whole history of one log).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Published {
    /// Registered public keys (`name+id+base64`) with validity (ms since the epoch).
    pub keys: Vec<PublishedKey>,
    pub logs: Vec<PublishedLog>,
}

/// A registered public key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PublishedKey {
    pub vkey: String,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

/// One log's signed checkpoints, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PublishedLog {
    pub log_id: i64,
    pub org_name: String,
    pub hash_alg: String,
    /// Signed notes (`origin\nsize\nroot\n\n— name signature`).
    pub checkpoints: Vec<String>,
}

/// A consistency proof between two sizes of a log: the hashes (hex) that show the tree of
/// `new_size` extends the tree of `old_size`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub log_id: i64,
    pub hash_alg: String,
    pub old_size: u64,
    pub new_size: u64,
    pub proof: Vec<String>,
}

impl App {
    /// The published checkpoints: every log's latest, or with `history` every checkpoint
    /// of the logs in `only` (all logs when `None`). Public: notes hold sizes and roots, no
    /// content.
    ///
    /// # Errors
    /// Database errors.
    pub async fn published_checkpoints(&self, history: bool, only: Option<i64>) -> AppResult<Published> {
        let keys = self
            .ledger_keys()
            .await?
            .into_iter()
            .map(|k| PublishedKey { vkey: k.vkey, valid_from: k.valid_from, valid_to: k.valid_to })
            .collect();
        let mut logs = Vec::new();
        for l in store::logs(&self.store.read).await? {
            if only.is_some_and(|o| o != l.log_id) {
                continue;
            }
            let checkpoints = if history {
                store::checkpoints(&self.store.read, l.log_id).await?.into_iter().map(|c| c.note).collect()
            } else {
                store::latest_checkpoint(&self.store.read, l.log_id).await?.map(|c| c.note).into_iter().collect()
            };
            logs.push(PublishedLog {
                log_id: l.log_id,
                org_name: l.org_name.unwrap_or_default(),
                hash_alg: l.hash_alg,
                checkpoints,
            });
        }
        Ok(Published { keys, logs })
    }

    /// The consistency proof of log `log_id` from size `old` to size `new`.
    ///
    /// # Errors
    /// [`AppError::Invalid`] unless `0 < old <= new <= ` the log's size;
    /// [`AppError::NotFound`] for an unknown log; database errors.
    pub async fn consistency_proof(&self, log_id: i64, old: u64, new: u64) -> AppResult<ConsistencyProof> {
        let (size, alg) = store::log(&self.store.read, log_id).await?.ok_or(AppError::NotFound("账本"))?;
        if old == 0 || old > new || new > size {
            return Err(AppError::Invalid(fazhi_domain::FieldErrors::single(
                "from",
                format!("应满足 0 < from ≤ to ≤ {size}（账本当前大小）"),
            )));
        }
        let ranges = if old == new { Vec::new() } else { tree::consistency_ranges(old, new) };
        let nodes = store::nodes(&self.store.read, log_id, &tree::nodes_for(&ranges)).await?;
        let proof = ranges
            .iter()
            .map(|(a, b)| tree::range_hash(alg, *a, *b, &|id| nodes.get(&id).copied()).map(hex::encode))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::internal("consistency", e))?;
        Ok(ConsistencyProof { log_id, hash_alg: alg.code().to_owned(), old_size: old, new_size: new, proof })
    }
}

/// Checkpoints held outside the database, to check it against: each note must carry a
/// valid signature by the trusted key given out of band.
#[derive(Debug, Clone)]
pub struct External {
    pub trusted: Verifier,
    /// Notes by log id.
    pub notes: BTreeMap<i64, Vec<String>>,
}

impl External {
    /// From a published document (a file written by `ledger export`, or the portal's JSON).
    pub fn from_published(p: &Published, trusted: Verifier) -> Self {
        let notes = p.logs.iter().map(|l| (l.log_id, l.checkpoints.clone())).collect();
        Self { trusted, notes }
    }

    /// Logs named by the external checkpoints that the database does not have at all.
    pub fn missing_logs(&self, present: &BTreeSet<i64>) -> Vec<i64> {
        self.notes.iter().filter(|(id, n)| !n.is_empty() && !present.contains(id)).map(|(id, _)| *id).collect()
    }
}

/// Feeds a log's external checkpoints to its verifier: a log shorter than one of them, or
/// whose tree at its size has another root, is reported; so is a note the trusted key did
/// not sign.
pub(crate) fn check_external(ext: Option<&External>, log_id: i64, v: &mut fazhi_ledger::verify::LogVerifier) {
    let Some(ext) = ext else { return };
    for note in ext.notes.get(&log_id).into_iter().flatten() {
        v.checkpoint(note, &ext.trusted);
    }
}

/// A witness's verdict on one log's new checkpoint against the one it kept before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Witnessed {
    /// The first checkpoint seen of this log.
    First { size: u64 },
    /// Same or grown, and the proof shows the new tree extends the old one.
    Consistent { from: u64, to: u64 },
    /// The log shrank, or its tree was rewritten: the problem, in Chinese.
    Inconsistent(String),
}

/// Checks a log's `new` note against the `old` one a witness kept, with the consistency
/// `proof` (hex hashes) the log's portal gave; both notes must be signed by `key`.
pub fn witness(key: &Verifier, alg: HashAlg, old: Option<&str>, new: &str, proof: &[String]) -> Witnessed {
    let new_cp = match key.open(new) {
        Ok(c) => c,
        Err(e) => return Witnessed::Inconsistent(format!("新检查点的签名无效：{e}")),
    };
    let Some(old) = old else { return Witnessed::First { size: new_cp.size } };
    let old_cp = match key.open(old) {
        Ok(c) => c,
        Err(e) => return Witnessed::Inconsistent(format!("保存的检查点无法用该公钥核验：{e}")),
    };
    if new_cp.size < old_cp.size {
        return Witnessed::Inconsistent(format!("账本从 {} 条变短为 {} 条：记录被删除", old_cp.size, new_cp.size));
    }
    let hashes: Option<Vec<tree::Hash>> =
        proof.iter().map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok())).collect();
    let Some(hashes) = hashes else { return Witnessed::Inconsistent("一致性证明格式不正确".into()) };
    if tree::verify_consistency(alg, &old_cp.root, old_cp.size, &new_cp.root, new_cp.size, &hashes) {
        Witnessed::Consistent { from: old_cp.size, to: new_cp.size }
    } else {
        Witnessed::Inconsistent(format!("账本前 {} 条与先前见证的检查点不一致：已有记录被改写", old_cp.size))
    }
}
