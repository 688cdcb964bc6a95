//! The security audit trail (`audit_event`: logins, lockouts, account changes) made
//! tamper-evident: a hash chain anchored in the ledger.
//!
//! **Chain.** Every line gets its place `seq` (1, 2, 3 …) and `chain` = SHA-256 of the
//! previous line's chain and its own canonical content ([`fazhi_store::auth::audit_chain`]),
//! written in the same transaction as the line; the one-row `audit_head` serialises writers.
//! `ledger verify` recomputes the chain: a line edited no longer matches its chain, a line
//! deleted leaves a gap in the places, a line inserted has no place.
//!
//! **Anchor.** A chain alone cannot show that its END was cut off, nor stop someone who
//! rewrites every later link. So the server records the head — `{seq, chain}` — in the
//! ledger (action `audit.anchor` of kind `audit`, record id = the place, in the log of the
//! installation's root node) when it signs checkpoints, at most once a minute and only when
//! the trail grew ([`App::anchor_audit`]). The ledger is append-only and signed: every
//! anchored place must still exist and carry the anchored chain value. What is left: lines
//! written in the last minute before an anchor can be removed without trace, and lines
//! written before the chain existed (migration 0013) are not protected (counted, not
//! checked).
//!
//! Counting lines in the ledger instead (one entry per line) would cost a ledger append per
//! login and could be flooded by failed logins; the chain costs one row update per line and
//! the anchor one entry a minute at most.

use std::sync::atomic::Ordering;

use fazhi_domain::UserId;
use fazhi_domain::record::AUDIT;
use fazhi_store::Tx;
use fazhi_store::auth::{NewAudit, audit_chain};
use fazhi_store::reconcile as store;
use serde_json::{Value, json};

use super::{Acc, BATCH, RecordProblem};
use crate::audit::Actor;
use crate::ledger::Change;
use crate::{App, AppResult};

/// The least time between two anchors made by one process (ms).
pub const ANCHOR_EVERY_MS: i64 = 60_000;

/// Who anchors.
const SYSTEM: Actor<'static> = Actor { username: "system", user_id: None, org_id: None, source_addr: "" };

/// The `(seq, chain)` an anchor entry's change states.
fn anchored(change: &Value) -> Option<(i64, String)> {
    Some((change.get("seq")?.as_i64()?, change.get("chain")?.as_str()?.to_owned()))
}

/// The anchors recorded in the ledger, `(seq, chain)` by place.
async fn anchors(tx: &mut Tx) -> AppResult<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = store::entries_of_kind(tx, AUDIT.code)
        .await?
        .into_iter()
        .filter(|e| e.action == "audit.anchor")
        .filter_map(|e| anchored(&e.change))
        .collect();
    out.sort();
    Ok(out)
}

/// Checks the audit trail's chain and anchors (see the module docs), in the snapshot `tx`.
pub(super) async fn verify(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    let head = store::audit_head(&mut *tx).await?.map_or(0, |(seq, _)| seq);
    let (older, later) = store::audit_unchained(tx).await?;
    acc.report.audit_unchained = older as u64;
    for id in later {
        acc.problem(RecordProblem::AuditUnchained { id });
    }
    let anchors = anchors(tx).await?;
    let mut anchored = anchors.iter().peekable();
    let mut prev = String::new();
    let mut expect = 1;
    loop {
        let lines = store::audit_after(tx, expect - 1, BATCH).await?;
        if lines.is_empty() {
            break;
        }
        acc.report.checked += lines.len() as u64;
        for l in lines {
            let seq = l.seq.unwrap_or_default();
            let stored = l.chain.clone().unwrap_or_default();
            if seq > head {
                // Beyond the head: no program write put it there.
                acc.problem(RecordProblem::AuditUnchained { id: l.id });
            } else if seq > expect {
                acc.problem(RecordProblem::AuditMissing { from: expect, to: seq - 1 });
            } else {
                let a = NewAudit {
                    at: l.at,
                    kind: &l.kind,
                    username: &l.username,
                    user_id: l.user_id.map(UserId),
                    org_id: l.org_id.map(fazhi_domain::OrgId),
                    source_addr: &l.source_addr,
                    detail: &l.detail,
                };
                if audit_chain(&prev, seq, &a) != stored {
                    acc.problem(RecordProblem::AuditAltered { seq, id: l.id });
                }
            }
            // Each anchor must find its place holding its chain value; places it passed by
            // are missing (reported above as a gap).
            while let Some((at, chain)) = anchored.next_if(|(at, _)| *at <= seq) {
                if *at == seq && *chain != stored {
                    acc.problem(RecordProblem::AuditAnchor { seq });
                }
            }
            // The next link is checked against this one as stored: one edit is one problem.
            prev = stored;
            expect = seq + 1;
        }
    }
    // The end: lines the head or an anchor counted that are no longer there.
    let end = anchors.last().map_or(head, |(seq, _)| head.max(*seq));
    if end >= expect {
        acc.problem(RecordProblem::AuditMissing { from: expect, to: end });
    }
    Ok(())
}

impl App {
    /// Records the audit trail's head in the ledger (see the module docs) when the trail grew
    /// since the last anchor and this process made none in the last [`ANCHOR_EVERY_MS`].
    /// Returns the anchored place. Called by [`App::checkpoint_all`], before signing.
    ///
    /// # Errors
    /// Database errors.
    pub async fn anchor_audit(&self) -> AppResult<Option<i64>> {
        let now = self.now();
        if now - self.audit_anchored.load(Ordering::Relaxed) < ANCHOR_EVERY_MS {
            return Ok(None);
        }
        let Some((seq, chain)) = store::audit_head(&self.store.read).await? else { return Ok(None) };
        let id = seq.to_string();
        let done = fazhi_store::ledger::entries_of_record(&self.store.read, AUDIT.code, &id).await?;
        if seq == 0 || !done.is_empty() {
            return Ok(None);
        }
        let roots =
            fazhi_store::org::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        let Some(root) = roots.iter().filter(|n| n.parent_id.is_none()).map(|n| n.id).min() else { return Ok(None) };
        let mut tx = self.store.begin().await?;
        let c = Change {
            org: fazhi_domain::OrgId(root),
            record_type: AUDIT.code,
            record_id: id,
            action: "audit.anchor",
            change: json!({"seq": seq, "chain": chain}),
            attachments: Vec::new(),
        };
        self.record(&mut tx, &SYSTEM, c).await?;
        tx.commit().await?;
        self.audit_anchored.store(now, Ordering::Relaxed);
        Ok(Some(seq))
    }
}
