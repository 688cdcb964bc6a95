//! The ledger hook and its use cases: every change a service makes is recorded with
//! [`App::record`] inside the service's transaction; checkpoints, proofs, verification and
//! timelines are read from here.

use std::sync::Arc;

use fazhi_domain::OrgId;
use fazhi_ledger::note::{Checkpoint, Signer, Verifier};
use fazhi_ledger::proof::{ProofBundle, origin_for};
use fazhi_ledger::tree::{self, Hash};
use fazhi_ledger::verify::{LogVerifier, Problem};
use fazhi_ledger::{AttachmentRef, Entry, HashAlg};
use fazhi_store::ledger::{self as store, LogRow, NewEntry};
use fazhi_store::{Tx, org as org_store};

use fazhi_domain::access::Principal;
use fazhi_domain::record::RecordKey;

use crate::audit::Actor;
use crate::{App, AppError, AppResult};

/// The installation's ledger settings: hash algorithm for new logs and the checkpoint key.
#[derive(Debug, Clone)]
pub struct LedgerKeys {
    pub alg: HashAlg,
    pub signer: Arc<Signer>,
}

impl LedgerKeys {
    /// A fresh random key (tests, or a first start before the key file exists).
    pub fn generate(alg: HashAlg) -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("operating system random source");
        let name = format!("fazhi-{}", crate::secrets::random_hex(4));
        Self { alg, signer: Arc::new(Signer::from_seed(&name, seed).expect("valid generated key name")) }
    }

    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }
}

/// One log's verification result.
#[derive(Debug, Clone)]
pub struct LogReport {
    pub log_id: i64,
    pub org_name: String,
    pub entries: u64,
    pub checkpoints: usize,
    pub problems: Vec<Problem>,
}

/// A record's change as a service states it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The org node that owns the record; its street (or district) keeps the log.
    pub org: OrgId,
    pub record_type: &'a str,
    pub record_id: String,
    pub action: &'a str,
    pub change: serde_json::Value,
    pub attachments: Vec<AttachmentRef>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal("internal", e)
}

impl App {
    /// The log that records changes of records owned by `org`: the nearest node at or
    /// above it whose kind keeps a log (街道/乡镇, or the 区 for district-level records).
    pub(crate) async fn log_of(&self, tx: &mut Tx, org: OrgId) -> AppResult<i64> {
        let node = org_store::get_node(&mut *tx, org).await?.ok_or(AppError::NotFound("机构"))?;
        let path: Vec<i64> = node.org_path().ids().into_iter().map(|o| o.0).collect();
        let keepers = store::log_keepers(&mut *tx, &path).await?;
        Ok(path.iter().rev().find(|id| keepers.contains(id)).or(path.first()).copied().unwrap_or(org.0))
    }

    /// Appends the change to its log, in the caller's transaction. An action the record's
    /// kind does not declare (in `fazhi_domain::record`) is refused: every timeline line has
    /// a label, and a new action cannot slip in unlabelled.
    pub(crate) async fn record(&self, tx: &mut Tx, actor: &Actor<'_>, c: Change<'_>) -> AppResult<Entry> {
        let declared = fazhi_domain::record::kind(c.record_type).is_some_and(|k| k.action_label(c.action).is_some());
        if !declared {
            return Err(AppError::internal("ledger", format!("undeclared action {} on {}", c.action, c.record_type)));
        }
        let log_id = self.log_of(tx, c.org).await?;
        let e = NewEntry {
            log_id,
            at: self.now(),
            actor_id: actor.user_id.map(|u| u.0),
            actor_name: actor.username.to_owned(),
            record_type: c.record_type.to_owned(),
            record_id: c.record_id,
            action: c.action.to_owned(),
            change: c.change,
            attachments: c.attachments,
        };
        Ok(store::append(tx, self.ledger.alg, e).await?)
    }

    async fn root_of(&self, log_id: i64, alg: HashAlg, size: u64) -> AppResult<Hash> {
        if size == 0 {
            return Ok(alg.digest(&[]));
        }
        let mut ids = std::collections::BTreeSet::new();
        tree::range_nodes(0, size, &mut ids);
        let nodes = store::nodes(&self.store.read, log_id, &ids).await?;
        tree::range_hash(alg, 0, size, &|id| nodes.get(&id).copied()).map_err(internal)
    }

    /// Anchors the audit trail ([`App::anchor_audit`]), then signs a checkpoint for every
    /// log that grew since its last one. Returns (log, size)
    /// of each new checkpoint. Whether a log is covered is decided by the size in the
    /// latest checkpoint's SIGNED note, not by the row's `size` column: an edited column
    /// cannot switch signing off.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn checkpoint_all(&self) -> AppResult<Vec<(i64, u64)>> {
        // The audit trail's head goes into the ledger first, so this round signs it too.
        if let Err(e) = self.anchor_audit().await {
            tracing::warn!(error = %e, "anchoring the audit trail failed");
        }
        let mut made = Vec::new();
        let key = self.ledger.verifier();
        for l in store::logs(&self.store.read).await? {
            let size = l.size as u64;
            if size == 0 {
                continue;
            }
            // The column is only a hint: when it claims the log is covered, the note says.
            if l.checkpoint_size.is_some_and(|c| c as u64 >= size) {
                let signed = store::latest_checkpoint(&self.store.read, l.log_id)
                    .await?
                    .and_then(|c| key.open(&c.note).ok())
                    .map(|cp| cp.size);
                if signed.is_some_and(|s| s >= size) {
                    continue;
                }
            }
            self.checkpoint_log(l.log_id).await?;
            made.push((l.log_id, size));
        }
        Ok(made)
    }

    async fn checkpoint_log(&self, log_id: i64) -> AppResult<store::CheckpointRow> {
        let (size, alg) = store::log(&self.store.write, log_id).await?.ok_or(AppError::NotFound("账本"))?;
        let root = self.root_of(log_id, alg, size).await?;
        let cp = Checkpoint { origin: origin_for(self.ledger.signer.name(), log_id), size, root };
        let note = self.ledger.signer.sign(&cp);
        let now = self.now();
        store::insert_checkpoint(&self.store.write, log_id, size, &root, &note, now).await?;
        Ok(store::CheckpointRow { log_id, size: size as i64, root: root.to_vec(), note, created_at: now })
    }

    /// The offline proof of entry `seq` of log `log_id`, against the latest checkpoint
    /// (made on demand when the entry is newer than it).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub(crate) async fn proof(&self, log_id: i64, seq: u64) -> AppResult<ProofBundle> {
        let entry = store::get_entry(&self.store.read, log_id, seq).await?.ok_or(AppError::NotFound("账本记录"))?;
        let (_, alg) = store::log(&self.store.read, log_id).await?.ok_or(AppError::NotFound("账本"))?;
        let cp = match store::latest_checkpoint(&self.store.read, log_id).await? {
            Some(cp) if cp.size as u64 > seq => cp,
            _ => self.checkpoint_log(log_id).await?,
        };
        let size = cp.size as u64;
        let ranges = tree::inclusion_ranges(size, seq);
        let nodes = store::nodes(&self.store.read, log_id, &tree::nodes_for(&ranges)).await?;
        let proof: Vec<Hash> = ranges
            .iter()
            .map(|(a, b)| tree::range_hash(alg, *a, *b, &|id| nodes.get(&id).copied()))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        Ok(ProofBundle::new(alg, entry, &proof, cp.note, self.ledger.verifier().to_vkey()))
    }

    /// Rechecks logs entry by entry (all logs, or one). `progress(done, total)` is called as
    /// entries are read.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn verify_ledger(
        &self,
        who: &Principal,
        only: Option<i64>,
        progress: impl FnMut(u64, u64),
    ) -> AppResult<Vec<LogReport>> {
        self.verify_ledger_against(who, only, None, progress).await
    }

    /// [`App::verify_ledger`], and every log also against checkpoints held outside the
    /// database (`external`, signed by its trusted key): a log shorter than one of them,
    /// or whose tree at that size has another root, is reported; so is a log they name
    /// that the database lacks.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without the installation-settings permission; database errors.
    pub async fn verify_ledger_against(
        &self,
        who: &Principal,
        only: Option<i64>,
        external: Option<&crate::ledger_publish::External>,
        mut progress: impl FnMut(u64, u64),
    ) -> AppResult<Vec<LogReport>> {
        // Every street's log: an installation-wide task (the operator, the auditors' tools).
        crate::require_installation(who)?;
        /// Entries read per query.
        const ENTRY_CHUNK: i64 = 4_096;
        /// Interior nodes read per query.
        const NODE_CHUNK: i64 = 16_384;
        /// Progress is reported every this many entries.
        const STEP: u64 = 4_096;
        let logs: Vec<LogRow> =
            store::logs(&self.store.read).await?.into_iter().filter(|l| only.is_none_or(|o| o == l.log_id)).collect();
        let total: u64 = logs.iter().map(|l| l.size as u64).sum();
        let keys = self.checkpoint_verifiers().await?;
        let mut done = 0u64;
        let mut reports = Vec::new();
        let reader = store::LogReader::new(&self.store.read).await?;
        for l in logs {
            let alg = HashAlg::parse(&l.hash_alg).unwrap_or(HashAlg::Sha256);
            let mut v = LogVerifier::new(alg);
            let started = std::time::Instant::now();
            // The log as its head was read at the start: entries and nodes written while
            // this runs (a live server) are not part of it, so they are neither compared
            // nor reported. Entries and completed nodes below the head are never rewritten.
            let head = l.size as u64;
            reader
                .entries(l.log_id, ENTRY_CHUNK, |parts, leaf| {
                    if parts.seq < head {
                        v.stored_entry(parts, leaf);
                    }
                    if v.entries().is_multiple_of(STEP) {
                        progress(done + v.entries(), total);
                    }
                })
                .await?;
            done += v.entries();
            progress(done, total);
            reader
                .nodes(l.log_id, NODE_CHUNK, |id, h| {
                    // A node covers leaves [index << level, (index + 1) << level).
                    let covered =
                        id.index.checked_add(1).and_then(|n| n.checked_shl(id.level)).is_some_and(|end| end <= head);
                    if covered {
                        v.node(id, h);
                    }
                })
                .await?;
            let secs = started.elapsed().as_secs_f64();
            tracing::debug!(
                log = l.log_id,
                entries = v.entries(),
                secs,
                entries_per_sec = v.entries() as f64 / secs.max(1e-9),
                "ledger log rechecked"
            );
            // Checkpoints signed while this ran cover entries past `head`: skipped. One beyond
            // the head read after them cannot be a live server's (a checkpoint is signed
            // after its entries commit): a deleted suffix, reported.
            let cps = store::checkpoints(&self.store.read, l.log_id).await?;
            let head_now = store::log(&self.store.read, l.log_id).await?.map_or(0, |(s, _)| s);
            let cps: Vec<_> = cps.into_iter().filter(|c| c.size as u64 <= head || c.size as u64 > head_now).collect();
            for c in &cps {
                // Each checkpoint with the key that signed it (a rotation leaves old
                // checkpoints under the retired key); one no registered key opens is reported.
                if let Some(key) = crate::ledger_keys::signer_of(&keys, &c.note) {
                    v.checkpoint(&c.note, key);
                }
            }
            crate::ledger_publish::check_external(external, l.log_id, &mut v);
            let entries = v.entries();
            reports.push(LogReport {
                log_id: l.log_id,
                org_name: l.org_name.unwrap_or_else(|| format!("机构 {}", l.log_id)),
                entries,
                checkpoints: cps.len(),
                problems: v.finish(l.size as u64),
            });
        }
        reader.close().await;
        if let Some(ext) = external {
            let present = reports.iter().map(|r| r.log_id).collect();
            for log_id in ext.missing_logs(&present).into_iter().filter(|l| only.is_none_or(|o| o == *l)) {
                let mut v = LogVerifier::new(HashAlg::Sha256);
                crate::ledger_publish::check_external(Some(ext), log_id, &mut v);
                reports.push(LogReport {
                    log_id,
                    org_name: format!("账本 {log_id}（数据库中没有）"),
                    entries: 0,
                    checkpoints: 0,
                    problems: v.finish(0),
                });
            }
        }
        Ok(reports)
    }

    /// A record's history, oldest first, for a principal who may read the record.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`]; database errors.
    pub async fn timeline(&self, who: &Principal, key: RecordKey) -> AppResult<Vec<Entry>> {
        let rec = self.record_ref(key).await?;
        crate::check(who, key.kind.read, &rec)?;
        Ok(store::entries_of_record(&self.store.read, key.kind.code, &key.id_text()).await?)
    }

    /// Every log with its head and latest checkpoint, for the public page.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn ledger_overview(&self) -> AppResult<Vec<(LogRow, Option<String>)>> {
        let mut out = Vec::new();
        for l in store::logs(&self.store.read).await? {
            let note = store::latest_checkpoint(&self.store.read, l.log_id).await?.map(|c| c.note);
            out.push((l, note));
        }
        Ok(out)
    }
}

/// Chinese label of a ledger action code of a record of kind `record_type` (from the kind
/// registry); the code itself for an entry written before its action had a label.
pub fn action_label<'a>(record_type: &str, action: &'a str) -> &'a str {
    fazhi_domain::record::action_label(record_type, action)
}

/// Chinese label of a record kind code (信访件, 组织节点); the code itself for a kind this
/// build does not know.
pub fn kind_label(record_type: &str) -> &str {
    fazhi_domain::record::kind(record_type).map_or(record_type, |k| k.label)
}

/// The old hand-kept table, kept only to show in tests that the registry covers it.
#[cfg(test)]
fn legacy_action_label(action: &str) -> &str {
    match action {
        "org.create" => "新建机构",
        "org.update" => "修改机构",
        "org.move" => "移动机构",
        "org.delete" => "删除机构",
        "user.create" => "新建用户",
        "user.update" => "修改用户",
        "user.disable" => "停用用户",
        "user.enable" => "启用用户",
        "user.password_reset" => "重置密码",
        "user.password_change" => "修改密码",
        "role.create" => "新建角色",
        "role.update" => "修改角色",
        "token.issue" => "签发接口令牌",
        "token.revoke" => "吊销接口令牌",
        "attachment.add" => "上传附件",
        "org.webhook" => "设置提醒机器人",
        "clock.start" => "开始计时",
        "clock.pause" => "暂停计时",
        "clock.resume" => "恢复计时",
        "clock.extend" => "延长期限",
        "clock.complete" => "期限事项完成",
        "clock.recompute" => "按新日历重算期限",
        "calendar.import" => "导入节假日安排",
        "petition.register" => "登记信访件",
        "petition.accept" => "受理",
        "petition.not_accept" => "不予受理",
        "petition.assign" => "交办",
        "petition.reply" => "出具信访处理意见书",
        "petition.serve" => "送达书面答复",
        "petition.close" => "办结",
        "petition.extend" => "延长办理期限",
        other => other,
    }
}

/// What the public may learn about an entry from its reference: that it exists, when, of
/// which kind, and its leaf hash, but not its content.
#[derive(Debug, Clone)]
pub struct ReferenceCheck {
    pub entry_at: i64,
    pub record_type: String,
    pub action: String,
    pub leaf_hash: String,
    pub checkpoint_size: u64,
    /// `Some(true)` when a hash was given and matches.
    pub hash_matches: Option<bool>,
}

impl App {
    /// Checks a document reference `log-seq` (and optionally the leaf hash printed with it)
    /// against the signed log.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn check_reference(&self, reference: &str, hash: &str) -> AppResult<ReferenceCheck> {
        let bad = || {
            AppError::Invalid(fazhi_domain::FieldErrors::single(
                "reference",
                "文书编号格式应为「账本号-序号」，如 2-15",
            ))
        };
        let (log, seq) = reference.trim().split_once('-').ok_or_else(bad)?;
        let (log, seq): (i64, u64) = (log.trim().parse().map_err(|_| bad())?, seq.trim().parse().map_err(|_| bad())?);
        let bundle = match self.proof(log, seq).await {
            Ok(b) => b,
            Err(AppError::NotFound(_)) => {
                return Err(AppError::Invalid(fazhi_domain::FieldErrors::single("reference", "账本中没有这条记录")));
            }
            Err(e) => return Err(e),
        };
        let checked = bundle.check(Some(&self.ledger.verifier())).map_err(|e| AppError::Refused(e.to_string()))?;
        let leaf = hex::encode(bundle.hash_alg.leaf(&bundle.entry.leaf_bytes()));
        let given = hash.trim().to_ascii_lowercase();
        Ok(ReferenceCheck {
            entry_at: bundle.entry.at,
            record_type: bundle.entry.record_type,
            action: bundle.entry.action,
            hash_matches: (!given.is_empty()).then(|| given == leaf),
            leaf_hash: leaf,
            checkpoint_size: checked.checkpoint.size,
        })
    }

    /// The proof of an entry for a principal, authorised like the record the entry is
    /// about (its kind's read permission over the record's holders): a proof shows the
    /// entry's content. An entry whose record no longer exists, or whose kind has no table
    /// (calendar, roles), needs read access to the log's own node.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`]; database errors.
    pub async fn proof_for(&self, who: &Principal, log_id: i64, seq: u64) -> AppResult<ProofBundle> {
        let entry = store::get_entry(&self.store.read, log_id, seq).await?.ok_or(AppError::NotFound("账本记录"))?;
        let record = RecordKey::parse(&entry.record_type, &entry.record_id);
        match record.map(|k| (k, fazhi_store::record::table(k.kind))) {
            Some((key, Some(_))) => match self.record_ref(key).await {
                Ok(rec) => crate::check(who, key.kind.read, &rec)?,
                Err(AppError::NotFound(_)) => {
                    self.org_node(who, OrgId(log_id)).await?;
                }
                Err(e) => return Err(e),
            },
            _ => {
                let kind = fazhi_domain::record::kind(&entry.record_type);
                crate::require(who, kind.map_or(fazhi_domain::access::ORG_READ, |k| k.read))?;
                self.org_node(who, OrgId(log_id)).await?;
            }
        }
        self.proof(log_id, seq).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_covers_every_legacy_label() {
        for a in [
            "org.create",
            "user.create",
            "role.create",
            "token.issue",
            "attachment.add",
            "clock.start",
            "calendar.import",
            "petition.register",
            "petition.accept",
            "petition.extend",
        ] {
            let kind = a.split('.').next().unwrap_or("");
            let kind = match kind {
                "org" => "org_node",
                "token" => "api_token",
                "clock" | "attachment" => "petition",
                k => k,
            };
            assert_eq!(super::action_label(kind, a), super::legacy_action_label(a), "{a}");
        }
    }
}
