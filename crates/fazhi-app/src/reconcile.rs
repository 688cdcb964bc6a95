//! What the ledger proves about the records themselves: every column a record's entries
//! vouch for (the folded `[before, after]` diffs of [`crate::ctx::Ctx::save`]; a record's
//! first entry lists every column, null ones too) must equal the stored row, and every record
//! the ledger knows must still exist. An edit made in the database — a petition's reply text,
//! a holder column that widens who sees it, a mediation agreement's terms, a reception's
//! instruction — or a deleted record leaves the rows and the ledger disagreeing, and
//! `ledger verify` names the record and the columns.

use std::collections::{BTreeSet, HashMap};

use fazhi_domain::access::{Principal, SETTINGS_MANAGE};
use fazhi_domain::record::{Kind, RECEPTION, RECEPTION_DAY};
use fazhi_domain::{OrgId, UserId};
use fazhi_store::Tx;
use fazhi_store::mediation as med_store;
use fazhi_store::petitions as pet_store;
use fazhi_store::receptions::{self as rec_store, DayRow, ReceptionRow};

use crate::ctx::Record;
use crate::{App, AppResult, require};

/// Rows read per query.
const BATCH: i64 = 500;

/// A record whose stored columns differ from what its ledger entries say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    #[error("{label} {id} 的{fields}与全过程记录不一致：记录被直接改动")]
    Altered { label: &'static str, id: i64, fields: String },
    #[error("{label} {id} 没有任何全过程记录：记录是在系统之外插入的")]
    Unrecorded { label: &'static str, id: i64 },
    #[error("{label} {id} 在全过程记录中存在，但记录已不存在：记录被直接删除")]
    Deleted { label: &'static str, id: String },
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

/// Compares rows with the folded changes of their entries.
fn compare<R: Record>(
    rows: &[R],
    changes: &[(String, serde_json::Value)],
    out: &mut Vec<RecordProblem>,
) -> AppResult<()> {
    let mut by_id: HashMap<&str, Vec<&serde_json::Value>> = HashMap::new();
    for (id, c) in changes {
        by_id.entry(id.as_str()).or_default().push(c);
    }
    for row in rows {
        let id = row.id().to_string();
        let mine = by_id.remove(id.as_str()).unwrap_or_default();
        if mine.is_empty() {
            out.push(RecordProblem::Unrecorded { label: R::KIND.label, id: row.id() });
            continue;
        }
        let mut state = serde_json::Map::new();
        for c in mine {
            fazhi_ledger::diff::fold(&mut state, c);
        }
        if state.is_empty() {
            // Registered before changes were recorded as field diffs: nothing to compare.
            continue;
        }
        // Every stored column is compared: one the ledger never mentions must be null.
        let view = row.ledger_view()?;
        let null = serde_json::Value::Null;
        let empty = serde_json::Map::new();
        let columns = view.as_object().unwrap_or(&empty);
        let mut differ: Vec<&str> = columns
            .iter()
            .filter(|(k, stored)| state.get(k.as_str()).unwrap_or(&null) != *stored)
            .map(|(k, _)| k.as_str())
            .collect();
        differ.extend(state.keys().filter(|k| !columns.contains_key(k.as_str())).map(String::as_str));
        differ.sort_unstable();
        if !differ.is_empty() {
            out.push(RecordProblem::Altered { label: R::KIND.label, id: row.id(), fields: differ.join("、") });
        }
    }
    Ok(())
}

impl App {
    /// Checks the rows of one kind, read in id batches by `batch`, against their entries,
    /// and reports records the ledger knows that no longer exist.
    async fn reconcile_kind<R, F>(tx: &mut Tx, batch: F, out: &mut Vec<RecordProblem>) -> AppResult<u64>
    where
        R: Record,
        F: AsyncFn(&mut Tx, i64) -> AppResult<Vec<R>>,
    {
        let mut seen = BTreeSet::new();
        let mut after = 0;
        loop {
            let rows = batch(&mut *tx, after).await?;
            let Some(last) = rows.last().map(Record::id) else { break };
            let ids: Vec<String> = rows.iter().map(|r| r.id().to_string()).collect();
            let changes = fazhi_store::ledger::changes_of(&mut *tx, R::KIND.code, &ids).await?;
            compare(&rows, &changes, out)?;
            seen.extend(ids);
            after = last;
        }
        for id in fazhi_store::ledger::record_ids(&mut *tx, R::KIND.code).await? {
            if !seen.contains(&id) {
                out.push(RecordProblem::Deleted { label: R::KIND.label, id });
            }
        }
        Ok(seen.len() as u64)
    }

    /// Checks every record of every reconciled kind (信访件, 调解案件, 接访日, 接访记录)
    /// against its ledger entries. Returns the number of records checked and the problems.
    ///
    /// # Errors
    /// [`crate::AppError::Forbidden`] without the installation-settings permission (an
    /// installation-wide task); [`crate::AppError::Internal`] for database failures.
    pub async fn verify_records(
        &self,
        who: &Principal,
        mut progress: impl FnMut(u64),
    ) -> AppResult<(u64, Vec<RecordProblem>)> {
        require(who, SETTINGS_MANAGE)?;
        // One snapshot for every table: rows and entries written while this runs are
        // either all seen or all not, so a live server is never reported as tampering.
        let mut tx = self.store.begin_snapshot().await?;
        let tx = &mut tx;
        let mut problems = Vec::new();
        let mut done = 0;
        let out = &mut problems;
        done +=
            Self::reconcile_kind(tx, async |t: &mut Tx, a| Ok(pet_store::batch_after(t, a, BATCH).await?), out).await?;
        progress(done);
        done +=
            Self::reconcile_kind(tx, async |t: &mut Tx, a| Ok(med_store::cases_after(t, a, BATCH).await?), out).await?;
        progress(done);
        done +=
            Self::reconcile_kind(tx, async |t: &mut Tx, a| Ok(rec_store::days_after(t, a, BATCH).await?), out).await?;
        done +=
            Self::reconcile_kind(tx, async |t: &mut Tx, a| Ok(rec_store::receptions_after(t, a, BATCH).await?), out)
                .await?;
        progress(done);
        Ok((done, problems))
    }
}
