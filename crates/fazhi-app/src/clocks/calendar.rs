//! The holiday calendar of the installation: loading the imported schedules, importing a new
//! year (installation-wide setting), recomputing open clocks against it.

use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, require};
use fazhi_domain::access::SETTINGS_MANAGE;
use fazhi_domain::calendar::{WorkCalendar, parse_schedules};
use fazhi_domain::{FieldErrors, OrgId};
use fazhi_store::clocks::{self as store};
use fazhi_store::org as org_store;

use super::*;

impl App {
    /// Loads the schedules admins imported on top of the built-in ones.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn load_calendar(&self) -> AppResult<()> {
        let mut cal = WorkCalendar::builtin();
        for (_, text) in store::calendar_years(&self.store.read).await? {
            for s in parse_schedules(&text).map_err(|e| internal(format!("stored calendar: {e}")))? {
                cal.merge_year(s).map_err(internal)?;
            }
        }
        *self.deadlines.calendar.write().unwrap_or_else(|p| p.into_inner()) = cal;
        Ok(())
    }

    /// Imports one or more years' holiday schedules (the State Council publishes the next
    /// year's each November). Open clocks are recomputed and the changes recorded.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn import_calendar(&self, by: &By<'_>, text: &str) -> AppResult<Vec<i32>> {
        require(by.who, SETTINGS_MANAGE)?;
        let schedules =
            parse_schedules(text).map_err(|e| AppError::Invalid(FieldErrors::single("schedule", e.to_string())))?;
        if schedules.is_empty() {
            return Err(AppError::Invalid(FieldErrors::single(
                "schedule",
                "没有找到任何年度安排（应以 year YYYY 开头）",
            )));
        }
        let mut cal = self.deadlines.calendar.read().unwrap_or_else(|p| p.into_inner()).clone();
        let mut years = Vec::new();
        for s in &schedules {
            years.push(s.year());
            cal.merge_year(s.clone()).map_err(|e| AppError::Invalid(FieldErrors::single("schedule", e.to_string())))?;
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        for s in &schedules {
            store::save_calendar_year(&mut tx, i64::from(s.year()), &s.to_text(), Some(by.who.user_id.0), now).await?;
        }
        let change = serde_json::json!({"years": years});
        let org = self.installation_org(by.who.org_id).await?;
        let c = Change {
            org,
            record_type: "calendar",
            record_id: "holidays".into(),
            action: "calendar.import",
            change,
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        *self.deadlines.calendar.write().unwrap_or_else(|p| p.into_inner()) = cal;
        self.recompute_open_clocks(by).await?;
        Ok(years)
    }

    /// After a calendar change: every open clock whose due date moved is updated and the
    /// move recorded in its record's ledger.
    async fn recompute_open_clocks(&self, by: &By<'_>) -> AppResult<usize> {
        let today = self.today();
        let mut moved = 0;
        let mut after = 0;
        loop {
            let batch = store::open_batch(&self.store.read, after, 500).await?;
            let Some(last) = batch.last().map(|r| r.id) else { break };
            for row in batch {
                let clock = parse_clock(&row)?;
                let ev = self.evaluate(&clock, today);
                let new_due = ev.due.map(|d| d.to_string());
                if new_due == row.due_date && ev.problem == row.problem {
                    continue;
                }
                let mut tx = self.store.begin().await?;
                store::update(&mut tx, row.id, &self.status_of(&row.clock_json, &ev), self.now()).await?;
                let change = serde_json::json!({"clock_id": row.id, "from": row.due_date, "to": new_due, "reason": "节假日安排变更"});
                let c = Change {
                    org: OrgId(row.org_id),
                    record_type: &row.record_type,
                    record_id: row.record_id.clone(),
                    action: "clock.recompute",
                    change,
                    attachments: vec![],
                };
                self.record(&mut tx, &by.actor(), c).await?;
                tx.commit().await?;
                moved += 1;
            }
            after = last;
        }
        Ok(moved)
    }

    /// The org whose log records an installation-wide change: the actor's own node, or for
    /// the local operator (who sits on no node) the first top-level node.
    async fn installation_org(&self, actor_org: OrgId) -> AppResult<OrgId> {
        if org_store::get_node(&self.store.read, actor_org).await?.is_some() {
            return Ok(actor_org);
        }
        let all = org_store::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        all.iter().find(|n| n.parent_id.is_none()).map(|n| OrgId(n.id)).ok_or(AppError::NotFound("机构"))
    }

    /// Years with a schedule, and the year an admin should import now (December only).
    pub fn calendar_status(&self) -> (Vec<i32>, Option<i32>) {
        let cal = self.deadlines.calendar.read().unwrap_or_else(|p| p.into_inner());
        (cal.known_years(), cal.missing_next_year(self.today()))
    }
}
