//! The registered checkpoint keys (`ledger_key`) against their `key.register` /
//! `key.rotate` entries: a key row inserted or edited in the database would let checkpoints
//! signed by a key of the forger's choosing pass `ledger verify`. Every key row must have
//! the entry that registered it, with the same key; only the key of the latest such entry
//! is signing (`valid_to` empty), and it is; an entry whose row is gone was deleted.

use std::collections::{BTreeMap, BTreeSet};

use fazhi_domain::record::LEDGER_KEY;
use fazhi_store::Tx;
use fazhi_store::ledger::keys;
use fazhi_store::reconcile as store;

use super::{Acc, RecordProblem};
use crate::AppResult;

const KEY: &str = "账本签名密钥（ledger_key）";

/// Checks every key row.
pub(super) async fn verify(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    let rows = keys::keys(&mut *tx).await?;
    let entries = store::entries_of_kind(tx, LEDGER_KEY.code).await?;
    // Key id → the key its entry registered; the last registered id signs.
    let mut stated: BTreeMap<i64, String> = BTreeMap::new();
    let mut latest = None;
    for e in &entries {
        let (Ok(id), Some(vkey)) = (e.record_id.parse::<i64>(), e.change.get("vkey").and_then(|v| v.as_str())) else {
            continue;
        };
        stated.insert(id, vkey.to_owned());
        latest = Some(id);
    }
    let mut present = BTreeSet::new();
    for r in &rows {
        acc.report.checked += 1;
        present.insert(r.id);
        match stated.get(&r.id) {
            None => acc.problem(RecordProblem::Unrecorded { label: KEY, id: r.id }),
            Some(v) if *v != r.vkey => {
                acc.problem(RecordProblem::Altered { label: KEY, id: r.id, fields: "vkey".into() })
            }
            Some(_) if r.valid_to.is_none() != (latest == Some(r.id)) => {
                acc.problem(RecordProblem::Altered { label: KEY, id: r.id, fields: "valid_to".into() });
            }
            Some(_) => {}
        }
    }
    for id in stated.keys().filter(|id| !present.contains(id)) {
        acc.problem(RecordProblem::Deleted { label: KEY, id: id.to_string() });
    }
    Ok(())
}
