//! What the ledger proves about the records themselves: every current row of every table
//! a record lives in must be what its ledger entries vouch for, and every record the ledger
//! knows must still exist (unless its entries end in a deletion). An edit made in the
//! database — a role granted to a grid worker, a forged password or token hash, a widened
//! custom role, a petition's reply text, a repointed attachment, a moved org node — or a row
//! inserted or deleted behind the program's back leaves rows and ledger disagreeing, and
//! `ledger verify` names the table, the row and the fields.
//!
//! What is compared, table by table:
//!
//! - **records** (信访件, 人民调解案件, 接访日, 接访记录, 调解委员会, and the access records
//!   用户 with its `user_role` grants, 角色 with its `role_permission` codes, 接口令牌, 机构
//!   with its `org_webhook` — see [`views`]): the folded `[before, after]` diffs of the
//!   record's entries against the stored row. A record's first entry lists every field, so
//!   every column is compared; a column the ledger never mentions must be null. Entries
//!   written by an older version carry no field diffs (their change was free-form): such a
//!   record is compared on the fields its later entries vouch for, and counted in
//!   [`RecordReport::partial`] — "not comparable", never reported as tampering.
//! - **built-in roles** are defined by the program, not the ledger: compared with
//!   [`fazhi_domain::access::builtin_roles`] (an unknown built-in code is a forged role).
//! - **org paths** are derived: each node's `path` must be its parent's path and its id.
//! - **child rows** that belong to a record and are written by one of its steps — 转送/交办
//!   (`petition_transfer`), 调解工作记录 (`mediation_session`), 调解员 (`mediator`), 附件
//!   (`attachment`, whose file hash, name, size and type the entry carries) — against the row
//!   the step's entry states; entries of older versions that name no row are counted, and
//!   the number of rows must match.
//! - **the security audit trail** (`audit_event`) is hash-chained and its head anchored in
//!   the ledger: see [`audit`].
//!
//! Not records, and so not compared: sessions (`user_session`), login-failure counters
//! (`login_failure`), the search index (`search_doc`, `search_holder`), the job queue
//! (`job`), inbox notices (`notification`), the write probe, the org kinds (configuration an
//! admin may edit in the database, "kept if edited" by `ensure_builtins`) and the blobs'
//! bookkeeping (`blob`: the bytes are checked against their hash by `verify_blobs`). The
//! statutory clocks (`deadline_clock`) and the holiday schedule (`calendar_year`) have their
//! own entries (`clock.*`, `calendar.import`) and are not reconciled here yet.

mod access;
pub mod audit;
mod children;
mod clocks;
mod keys;
pub mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fazhi_domain::access::Principal;
use fazhi_domain::record::{Kind, MEDIATION_COMMITTEE, RECEPTION, RECEPTION_DAY};
use fazhi_domain::{OrgId, UserId};
use fazhi_ledger::diff;
use fazhi_store::Tx;
use fazhi_store::mediation::CommitteeRow;
use fazhi_store::receptions::{DayRow, ReceptionRow};
use fazhi_store::reconcile::EntryFacts;
use serde_json::{Map, Value};

use crate::ctx::Record;
use crate::{App, AppResult};

/// Rows read per query.
const BATCH: i64 = 500;

/// A row whose stored columns differ from what the ledger says, or that one of them lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    #[error("{label} {id} 的{fields}与全过程记录不一致：记录被直接改动")]
    Altered { label: &'static str, id: i64, fields: String },
    #[error("{label} {id} 没有任何全过程记录：记录是在系统之外插入的")]
    Unrecorded { label: &'static str, id: i64 },
    #[error("{label} {id} 在全过程记录中存在，但记录已不存在：记录被直接删除")]
    Deleted { label: &'static str, id: String },
    #[error("{label} {id} 的{fields}与程序对内置角色的定义不一致：记录被直接改动")]
    NotAsBuilt { label: &'static str, id: i64, fields: String },
    #[error("{parent} 的{label}有 {stored} 条，全过程记录记载了 {recorded} 条：有记录被直接插入或删除")]
    Count { label: &'static str, parent: String, stored: usize, recorded: usize },
    #[error("安全审计日志（audit_event）第 {seq} 条（id {id}）与哈希链不符：该条被直接改动")]
    AuditAltered { seq: i64, id: i64 },
    #[error("安全审计日志（audit_event）{}不存在：记录被直接删除", places(*from, *to))]
    AuditMissing { from: i64, to: i64 },
    #[error("安全审计日志（audit_event）id {id} 不在哈希链中：记录是在系统之外插入的")]
    AuditUnchained { id: i64 },
    #[error("安全审计日志（audit_event）第 {seq} 条与全过程记录锚定的哈希不一致：审计日志被改写")]
    AuditAnchor { seq: i64 },
}

/// "第 3 条" or "第 3 至 5 条".
fn places(from: i64, to: i64) -> String {
    if from == to { format!("第 {from} 条") } else { format!("第 {from} 至 {to} 条") }
}

/// What [`App::verify_records`] found.
#[derive(Debug, Clone, Default)]
pub struct RecordReport {
    /// Rows checked (records, child rows, audit lines).
    pub checked: u64,
    /// Rows that disagree with the ledger: tampering (or a bug), each named.
    pub problems: Vec<RecordProblem>,
    /// Per table: records whose first entries were written by an older version, without
    /// field diffs, so that only the fields of later entries could be compared. Not problems.
    pub partial: BTreeMap<&'static str, u64>,
    /// Audit lines older than the hash chain (written before it existed): not protected.
    pub audit_unchained: u64,
}

impl Record for DayRow {
    const KIND: &'static Kind = &RECEPTION_DAY;
    fn id(&self) -> i64 {
        self.id
    }
    fn log_org(&self) -> OrgId {
        OrgId(self.org_id)
    }
    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)> {
        vec![(OrgId(self.org_id), self.created_by.map(UserId))]
    }
}

impl Record for ReceptionRow {
    const KIND: &'static Kind = &RECEPTION;
    fn id(&self) -> i64 {
        self.id
    }
    fn log_org(&self) -> OrgId {
        OrgId(self.org_id)
    }
    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)> {
        vec![(OrgId(self.org_id), self.created_by.map(UserId))]
    }
}

/// A committee's entries (`mediation.committee`) vouch for its name and node.
impl Record for CommitteeRow {
    const KIND: &'static Kind = &MEDIATION_COMMITTEE;
    const UNLEDGERED: &'static [&'static str] = &["id", "created_at"];
    fn id(&self) -> i64 {
        self.id
    }
    fn log_org(&self) -> OrgId {
        OrgId(self.org_id)
    }
    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)> {
        vec![(OrgId(self.org_id), None)]
    }
}

/// A record's fields as its entries vouch for them.
#[derive(Debug, Default)]
struct Folded {
    state: Map<String, Value>,
    /// The record's first entry (since its creation) listed every field.
    complete: bool,
    started: bool,
    /// The last entry deleted the record.
    gone: bool,
}

impl Folded {
    fn of<'e>(entries: impl IntoIterator<Item = &'e EntryFacts>, deletes: &[&str]) -> Self {
        let mut f = Folded::default();
        for e in entries {
            if deletes.contains(&e.action.as_str()) {
                f = Folded { gone: true, ..Folded::default() };
                continue;
            }
            f.gone = false;
            if !f.started {
                f.started = true;
                f.complete = e.change.get(diff::FIELDS).is_some();
            }
            diff::fold(&mut f.state, &e.change);
        }
        f
    }

    /// The fields of `view` that differ from what the ledger says, in key order. Complete:
    /// every column (one the ledger never mentions must be null); partial: the fields the
    /// ledger mentions.
    fn differing(&self, view: &Map<String, Value>) -> Vec<String> {
        let null = Value::Null;
        let mut out: Vec<String> = self
            .state
            .iter()
            .filter(|(k, v)| view.get(k.as_str()).unwrap_or(&null) != *v)
            .map(|(k, _)| k.clone())
            .collect();
        if self.complete {
            out.extend(
                view.iter()
                    .filter(|(k, v)| !self.state.contains_key(k.as_str()) && !v.is_null())
                    .map(|(k, _)| k.clone()),
            );
        }
        out.sort_unstable();
        out
    }
}

/// An attachment as its `attachment.add` entry states it.
#[derive(Debug, Clone)]
struct ExpectedAttachment {
    record_type: &'static str,
    record_id: String,
    actor_id: Option<i64>,
    file: Option<fazhi_ledger::AttachmentRef>,
    change: Value,
}

/// What the passes gather.
#[derive(Debug, Default)]
struct Acc {
    report: RecordReport,
    /// Attachments stated by the entries of the records seen, by attachment id.
    attachments: HashMap<i64, ExpectedAttachment>,
}

impl Acc {
    fn problem(&mut self, p: RecordProblem) {
        self.report.problems.push(p);
    }
}

/// The entries of one batch, by record id.
type Entries = HashMap<String, Vec<EntryFacts>>;

/// One kind's pass: its kind, the label its problems carry (with the table), and the
/// actions that delete a record of it.
#[derive(Debug, Clone, Copy)]
struct Pass {
    kind: &'static Kind,
    label: &'static str,
    deletes: &'static [&'static str],
}

impl Pass {
    fn of(kind: &'static Kind) -> Self {
        Self { kind, label: kind.label, deletes: &[] }
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Gathers the attachments the entries of a batch state (by attachment id).
fn gather_attachments(kind: &'static Kind, entries: &Entries, acc: &mut Acc) {
    for e in entries.values().flatten().filter(|e| e.action == "attachment.add") {
        if let Some(id) = e.change.get("attachment_id").and_then(Value::as_i64) {
            acc.attachments.insert(
                id,
                ExpectedAttachment {
                    record_type: kind.code,
                    record_id: e.record_id.clone(),
                    actor_id: e.actor_id,
                    file: e.attachments.first().cloned(),
                    change: e.change.clone(),
                },
            );
        }
    }
}

impl App {
    /// Checks the rows of one kind, read in id batches by `batch` and seen through `view`
    /// (`(id, fields)`), against their entries; `children` checks each batch's child rows
    /// against the same entries. Then reports records the ledger knows that no longer exist.
    async fn reconcile_kind<R, F, V, C>(
        tx: &mut Tx,
        pass: Pass,
        acc: &mut Acc,
        batch: F,
        view: V,
        mut children: C,
    ) -> AppResult<()>
    where
        F: AsyncFn(&mut Tx, i64) -> AppResult<Vec<R>>,
        V: Fn(&R) -> AppResult<(i64, Value)>,
        C: AsyncFnMut(&mut Tx, &[R], &Entries, &mut Acc) -> AppResult<()>,
    {
        let mut seen = BTreeSet::new();
        let mut after = 0;
        loop {
            let rows = batch(&mut *tx, after).await?;
            let views: Vec<(i64, Value)> = rows.iter().map(&view).collect::<AppResult<_>>()?;
            let Some(last) = views.last().map(|(id, _)| *id) else { break };
            let ids: Vec<String> = views.iter().map(|(id, _)| id.to_string()).collect();
            let mut entries: Entries = HashMap::new();
            for e in fazhi_store::reconcile::entries_of(&mut *tx, pass.kind.code, &ids).await? {
                entries.entry(e.record_id.clone()).or_default().push(e);
            }
            for (id, v) in views {
                let mine = entries.get(&id.to_string()).map_or(&[][..], Vec::as_slice);
                let folded = Folded::of(mine, pass.deletes);
                if mine.is_empty() || folded.gone {
                    acc.problem(RecordProblem::Unrecorded { label: pass.label, id });
                    continue;
                }
                if !folded.complete {
                    *acc.report.partial.entry(pass.label).or_default() += 1;
                }
                let differ = folded.differing(&object(v));
                if !differ.is_empty() {
                    acc.problem(RecordProblem::Altered { label: pass.label, id, fields: differ.join("、") });
                }
            }
            gather_attachments(pass.kind, &entries, acc);
            children(&mut *tx, &rows, &entries, &mut *acc).await?;
            acc.report.checked += ids.len() as u64;
            seen.extend(ids);
            after = last;
        }
        let missing: Vec<String> = fazhi_store::ledger::record_ids(&mut *tx, pass.kind.code)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        for chunk in missing.chunks(BATCH as usize) {
            // A record whose entries end in its deletion is meant to be gone.
            let mut gone = BTreeSet::new();
            if !pass.deletes.is_empty() {
                let mut entries: Entries = HashMap::new();
                for e in fazhi_store::reconcile::entries_of(&mut *tx, pass.kind.code, chunk).await? {
                    entries.entry(e.record_id.clone()).or_default().push(e);
                }
                gone.extend(
                    entries.iter().filter(|(_, es)| Folded::of(*es, pass.deletes).gone).map(|(id, _)| id.clone()),
                );
            }
            for id in chunk.iter().filter(|id| !gone.contains(*id)) {
                acc.problem(RecordProblem::Deleted { label: pass.label, id: id.clone() });
            }
        }
        Ok(())
    }

    /// Checks every row of every reconciled table (see the module docs) against the ledger:
    /// the records and their child rows, the access tables, the attachments and the audit
    /// trail, all in ONE snapshot (rows and entries written while this runs are either all
    /// seen or all not, so a live server is never reported as tampering). `progress` is
    /// called with the rows checked so far.
    ///
    /// # Errors
    /// [`crate::AppError::Forbidden`] without the installation-settings permission (an
    /// installation-wide task); [`crate::AppError::Internal`] for database failures.
    pub async fn verify_records(&self, who: &Principal, mut progress: impl FnMut(u64)) -> AppResult<RecordReport> {
        crate::require_installation(who)?;
        let mut tx = self.store.begin_snapshot().await?;
        let tx = &mut tx;
        let mut acc = Acc::default();
        children::records(tx, &mut acc).await?;
        progress(acc.report.checked);
        access::records(tx, &mut acc).await?;
        progress(acc.report.checked);
        children::attachments(tx, &mut acc).await?;
        clocks::verify(tx, &mut acc).await?;
        keys::verify(tx, &mut acc).await?;
        audit::verify(tx, &mut acc).await?;
        progress(acc.report.checked);
        Ok(acc.report)
    }
}
