//! What the ledger proves about the records themselves: every field a record's entries
//! vouch for (the folded `[before, after]` diffs of [`crate::ctx::Ctx::save`]) must equal
//! the stored row. An edit made in the database — a petition's reply text, a mediation
//! agreement's terms, a state moved by hand — leaves the row and its ledger disagreeing,
//! and `ledger verify` names the record and the fields.

use fazhi_store::mediation as med_store;
use fazhi_store::petitions as pet_store;

use crate::ctx::Record;
use crate::{App, AppResult};

/// Rows read per query.
const BATCH: i64 = 500;

/// A record whose stored fields differ from what its ledger entries say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    #[error("{label} {id} 的{fields}与全过程记录不一致：记录被直接改动")]
    Altered { label: &'static str, id: i64, fields: String },
    #[error("{label} {id} 没有任何全过程记录：记录是在系统之外插入的")]
    Unrecorded { label: &'static str, id: i64 },
}

/// Compares rows with the folded changes of their entries.
fn compare<R: Record>(
    rows: &[R],
    changes: &[(String, serde_json::Value)],
    out: &mut Vec<RecordProblem>,
) -> AppResult<()> {
    for row in rows {
        let id = row.id().to_string();
        let mine: Vec<&serde_json::Value> = changes.iter().filter(|(r, _)| *r == id).map(|(_, c)| c).collect();
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
        let view = row.ledger_view()?;
        let mut differ: Vec<&str> = state
            .iter()
            .filter(|(k, v)| view.get(k.as_str()).is_none_or(|stored| stored != *v))
            .map(|(k, _)| k.as_str())
            .collect();
        differ.sort_unstable();
        if !differ.is_empty() {
            out.push(RecordProblem::Altered { label: R::KIND.label, id: row.id(), fields: differ.join("、") });
        }
    }
    Ok(())
}

impl App {
    /// Checks every record of every reconciled kind against its ledger entries. Returns the
    /// number of records checked and the problems found; `progress(done)` is called per
    /// batch.
    ///
    /// # Errors
    /// Database errors.
    pub async fn verify_records(
        &self,
        who: &fazhi_domain::access::Principal,
        mut progress: impl FnMut(u64),
    ) -> AppResult<(u64, Vec<RecordProblem>)> {
        crate::require(who, fazhi_domain::access::SETTINGS_MANAGE)?;
        let mut problems = Vec::new();
        let mut done = 0u64;
        let mut after = 0;
        loop {
            let rows = pet_store::batch_after(&self.store.read, after, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.id) else { break };
            let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
            let changes =
                fazhi_store::ledger::changes_of(&self.store.read, fazhi_domain::record::PETITION.code, &ids).await?;
            compare(&rows, &changes, &mut problems)?;
            done += rows.len() as u64;
            progress(done);
            after = last;
        }
        let mut after = 0;
        loop {
            let rows = med_store::cases_after(&self.store.read, after, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.id) else { break };
            let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
            let changes =
                fazhi_store::ledger::changes_of(&self.store.read, fazhi_domain::record::MEDIATION.code, &ids).await?;
            compare(&rows, &changes, &mut problems)?;
            done += rows.len() as u64;
            progress(done);
            after = last;
        }
        Ok((done, problems))
    }
}
