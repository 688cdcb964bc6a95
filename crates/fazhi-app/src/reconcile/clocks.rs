//! Statutory clocks (`deadline_clock`): a clock's due date and whether it is closed are what
//! its record's entries last stated. Every change of a clock is recorded: its start and its
//! completion or extension in the step's entry (`payload.clocks`: `{"start"|"complete"|
//! "extend": rule, "clock_id", "due"}`), a pause, resume, extension or completion on its own
//! (`clock.*`, `{"clock_id", "due"}`), a calendar's recompute (`clock.recompute`,
//! `{"clock_id", "to"}`). A due date moved or a clock closed in the database, a clock
//! inserted without an entry, or one deleted, is named. The card (黄牌/红牌) and the
//! evaluation cache are derived from these and the calendar, not vouched for.

use std::collections::{BTreeMap, HashMap, HashSet};

use fazhi_store::Tx;
use fazhi_store::clocks::{ClockRow, clocks_after};
use fazhi_store::reconcile::{self as store, EntryFacts};
use serde_json::Value;

use super::{Acc, BATCH, RecordProblem};
use crate::AppResult;

const CLOCK: &str = "期限（deadline_clock）";

/// What the entries say of one clock.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Stated {
    due: Option<String>,
    closed: bool,
}

fn due_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Folds one entry into the states of the clocks it names.
fn fold(e: &EntryFacts, out: &mut HashMap<i64, Stated>) {
    let c = &e.change;
    if let (Some(a), Some(id)) = (e.action.strip_prefix("clock."), c.get("clock_id").and_then(Value::as_i64)) {
        let s = out.entry(id).or_default();
        match a {
            "recompute" => s.due = due_of(c, "to"),
            "start" => *s = Stated { due: due_of(c, "due"), closed: false },
            other => {
                s.due = due_of(c, "due");
                if other == "complete" {
                    s.closed = true;
                }
            }
        }
    }
    let effects = c.pointer("/payload/clocks").or_else(|| c.get("clocks")).and_then(Value::as_array);
    for eff in effects.into_iter().flatten() {
        let Some(id) = eff.get("clock_id").and_then(Value::as_i64) else { continue };
        let s = out.entry(id).or_default();
        s.due = due_of(eff, "due");
        if eff.get("start").is_some() {
            s.closed = false;
        } else if eff.get("complete").is_some() {
            s.closed = true;
        }
    }
}

/// Checks every clock against its record's entries.
pub(super) async fn verify(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    let mut after = 0;
    // Clocks the entries name, and clocks stored: one named and not stored was deleted (a
    // record all of whose clocks were deleted is not read here: limit of this pass).
    let mut named: HashSet<i64> = HashSet::new();
    let mut present: HashSet<i64> = HashSet::new();
    loop {
        let rows: Vec<ClockRow> = clocks_after(tx, after, BATCH).await?;
        let Some(last) = rows.last().map(|r| r.id) else { break };
        after = last;
        let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for r in &rows {
            by_kind.entry(r.record_type.as_str()).or_default().push(r.record_id.clone());
        }
        let mut stated = HashMap::new();
        for (kind, mut ids) in by_kind {
            ids.sort_unstable();
            ids.dedup();
            for e in store::entries_of(tx, kind, &ids).await? {
                fold(&e, &mut stated);
            }
        }
        named.extend(stated.keys().copied());
        present.extend(rows.iter().map(|r| r.id));
        for r in &rows {
            acc.report.checked += 1;
            let Some(s) = stated.get(&r.id) else {
                acc.problem(RecordProblem::Unrecorded { label: CLOCK, id: r.id });
                continue;
            };
            let mut differ = Vec::new();
            if r.due_date != s.due {
                differ.push("due_date");
            }
            if r.closed != s.closed {
                differ.push("closed");
            }
            if !differ.is_empty() {
                acc.problem(RecordProblem::Altered { label: CLOCK, id: r.id, fields: differ.join("、") });
            }
        }
    }
    let mut gone: Vec<i64> = named.difference(&present).copied().collect();
    gone.sort_unstable();
    for id in gone {
        acc.problem(RecordProblem::Deleted { label: CLOCK, id: id.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(action: &str, change: Value) -> EntryFacts {
        EntryFacts { record_id: "1".into(), action: action.into(), actor_id: None, at: 0, change, attachments: vec![] }
    }

    #[test]
    fn the_last_statement_of_each_clock_wins() {
        let mut out = HashMap::new();
        for e in [
            entry(
                "petition.register",
                json!({"payload": {"clocks": [{"start": "r", "clock_id": 7, "due": "2026-06-01"}]}}),
            ),
            entry("clock.pause", json!({"clock_id": 7, "due": null})),
            entry("clock.resume", json!({"clock_id": 7, "due": "2026-06-09"})),
            entry("clock.recompute", json!({"clock_id": 7, "from": "2026-06-09", "to": "2026-06-10"})),
            entry(
                "petition.close",
                json!({"payload": {"clocks": [{"complete": "r", "clock_id": 7, "due": "2026-06-10"}]}}),
            ),
        ] {
            fold(&e, &mut out);
        }
        assert_eq!(out[&7], Stated { due: Some("2026-06-10".into()), closed: true });
    }
}
