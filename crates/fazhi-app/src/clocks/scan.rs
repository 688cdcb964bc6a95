//! The daily scan: every open clock re-evaluated on today's date, 黄牌 and 红牌 told to the
//! responsible user, the leaders above and the org's webhook.
//!
//! A scan never moves a due date silently. It evaluates each batch with the database's
//! calendar, checked in the batch's transaction ([`App::calendar_in`]), so it cannot undo an
//! import made on another node. A due date that still differs from the stored one (a
//! built-in calendar that changed with a new release, a row written by an older release) is
//! moved with a `clock.recompute` entry in the same transaction; a paused clock's provisional
//! date, which drifts every day, is left as recorded until the clock resumes.

use fazhi_domain::OrgId;
use fazhi_domain::access::Principal;
use fazhi_domain::deadline::DeadlineClock;
use fazhi_store::clocks::{self as store, ClockRow, ClockStatus, NewNotification};
use fazhi_store::org as org_store;

use crate::audit::Actor;
use crate::{App, AppResult};

use super::calendar::{BATCH, moves_due, paused};
use super::{Evaluated, ScanReport, parse_clock};

impl App {
    /// Re-evaluates every open clock on today's date; a clock that turns 黄牌 or 红牌 tells
    /// its owner and the leaders above it (once per card), and the org's webhook. Cards and
    /// states are stored; a due date only moves with a ledger entry (see the module docs).
    ///
    /// # Errors
    /// [`AppError::Forbidden`](crate::AppError::Forbidden) without settings permission;
    /// [`AppError::Internal`](crate::AppError::Internal) for database failures.
    pub async fn scan_clocks(&self, who: &Principal) -> AppResult<ScanReport> {
        // Every street's clocks: the scheduler's (or the operator's) task.
        crate::require_installation(who)?;
        let actor = Actor {
            username: who.system.map_or("system", |s| s.name()),
            user_id: who.system.is_none().then_some(who.user_id),
            org_id: None,
            source_addr: "",
        };
        let today = self.today();
        let mut report = ScanReport::default();
        let mut after = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let cal = self.calendar_in(&mut tx).await?;
            let batch = store::open_batch_for_update(&mut tx, after, BATCH).await?;
            let Some(last) = batch.last().map(|r| r.id) else {
                tx.commit().await?;
                break;
            };
            let mut carded = Vec::new();
            for row in batch {
                report.checked += 1;
                let clock = parse_clock(&row)?;
                let ev = self.evaluate(&cal, &clock, today);
                if moves_due(&row, &ev) && !paused(&clock) {
                    self.record_move(&mut tx, &actor, &row, &ev, "按现行节假日安排重新计算").await?;
                    report.recomputed += 1;
                } else if (row.state.as_str(), row.card.as_str(), row.closed) != (ev.state, ev.card, ev.closed) {
                    // The recorded due date stays; only the card and state change.
                    let s = ClockStatus {
                        clock_json: &row.clock_json,
                        due_date: row.due_date.clone(),
                        state: ev.state,
                        card: ev.card,
                        closed: ev.closed,
                        problem: &row.problem,
                    };
                    store::update(&mut tx, row.id, &s, self.now()).await?;
                }
                match ev.card {
                    "yellow" => report.yellow += 1,
                    "red" => report.red += 1,
                    _ => continue,
                }
                carded.push((row, clock, ev));
            }
            tx.commit().await?;
            // Told once the batch is stored (reading and writing through the pools).
            for (row, clock, ev) in carded {
                report.notified += self.notify_card(&row, &clock, &ev).await?;
            }
            after = last;
        }
        self.warn_if_next_year_missing();
        Ok(report)
    }

    async fn notify_card(&self, row: &ClockRow, clock: &DeadlineClock, ev: &Evaluated) -> AppResult<usize> {
        let due = ev.due.map(|d| d.to_string()).unwrap_or_default();
        let (title, urgency) = match ev.card {
            "red" => (format!("【红牌】{}已超期", clock.rule.name), 2),
            _ => (format!("【黄牌】{}即将到期", clock.rule.name), 1),
        };
        // The whole explanation travels with the reminder: the date is never shown bare.
        let body = format!("到期日 {due}（{}）。计算过程：{}", clock.rule.citation, ev.steps.join("；"));
        let link = format!("/clocks#clock-{}", row.id);
        let org = org_store::get_node(&self.store.read, OrgId(row.org_id)).await?;
        let ancestors: Vec<OrgId> = org.map(|o| o.org_path().ids()).unwrap_or_default();
        let mut users = store::leaders(&self.store.read, &ancestors).await?;
        users.extend(row.owner_id);
        users.sort_unstable();
        users.dedup();
        let mut sent = 0;
        for u in users {
            let n = NewNotification {
                record: Some((row.record_type.as_str(), row.record_id.clone())),
                user_id: u,
                clock_id: Some(row.id),
                kind: ev.card,
                title: &title,
                body: &body,
                link: &link,
                urgency,
            };
            if store::notify(&self.store.write, &n, self.now()).await? {
                sent += 1;
            }
        }
        if sent > 0 {
            self.enqueue_webhook(row.org_id, &title, &body).await?;
        }
        Ok(sent)
    }
}
