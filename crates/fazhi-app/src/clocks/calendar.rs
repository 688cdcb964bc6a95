//! The holiday calendar of the installation: the imported schedules on top of the built-in
//! ones, kept in memory by each server and reloaded when the database's calendar version
//! changed; importing a new year (installation-wide setting) and moving the open clocks it
//! moves, in ONE transaction with a ledger entry per moved clock.
//!
//! Several servers may share one PostgreSQL database, each with its calendar in memory. A
//! transaction that computes a due date first reads the calendar's version in itself
//! ([`App::calendar_in`]; on PostgreSQL under a shared advisory lock that an import takes
//! exclusively) and reloads the calendar when it is not the one in memory, so no node writes
//! a due date computed with a calendar older than the database's: a scan on another node
//! cannot undo an import. Displays ([`App::refresh_calendar`]) check the version at most every
//! [`CALENDAR_CHECK_MS`].

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use fazhi_domain::OrgId;
use fazhi_domain::access::SETTINGS_MANAGE;
use fazhi_domain::calendar::{WorkCalendar, parse_schedules};
use fazhi_domain::clock::Millis;
use fazhi_domain::deadline::DeadlineClock;
use fazhi_domain::{FieldErrors, calendar::YearSchedule};
use fazhi_store::Tx;
use fazhi_store::clocks::{self as store, ClockRow};
use fazhi_store::org as org_store;

use crate::audit::Actor;
use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, require};

use super::{Evaluated, internal, parse_clock};

/// How long a display trusts the calendar in memory before checking the database's version
/// again (a due date is never computed on this trust: see the module docs).
pub const CALENDAR_CHECK_MS: Millis = 2_000;

/// Open clocks read (and locked) per query while recomputing or scanning.
pub(super) const BATCH: i64 = 500;

/// The calendar a server holds, with the database version it was loaded at.
#[derive(Debug)]
pub struct CalendarCell {
    inner: Mutex<Loaded>,
}

#[derive(Debug, Clone)]
struct Loaded {
    cal: Arc<WorkCalendar>,
    /// `None` until loaded from a database.
    version: Option<i64>,
    /// When the version was last compared with the database's.
    checked_at: Option<Millis>,
}

impl Default for CalendarCell {
    fn default() -> Self {
        Self::new(WorkCalendar::builtin())
    }
}

impl CalendarCell {
    /// A calendar not yet loaded from a database (the first due-date computation loads it).
    pub fn new(cal: WorkCalendar) -> Self {
        Self { inner: Mutex::new(Loaded { cal: Arc::new(cal), version: None, checked_at: None }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        // Single assignments under the lock: a panic cannot leave it half-written.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The calendar in memory, whatever its age (displays, the demo generator).
    pub fn current(&self) -> Arc<WorkCalendar> {
        self.lock().cal.clone()
    }

    /// The version the calendar in memory was loaded at (`None` before the first load).
    pub fn version(&self) -> Option<i64> {
        self.lock().version
    }

    /// The calendar in memory when it is of `version` (and notes that it was just checked).
    fn at_version(&self, version: i64, now: Millis) -> Option<Arc<WorkCalendar>> {
        let mut l = self.lock();
        (l.version == Some(version)).then(|| {
            l.checked_at = Some(now);
            l.cal.clone()
        })
    }

    fn checked_recently(&self, now: Millis) -> bool {
        self.lock().checked_at.is_some_and(|t| now >= t && now - t < CALENDAR_CHECK_MS)
    }

    /// Installs a calendar loaded at `version`, unless a newer one is already in memory.
    fn install(&self, cal: Arc<WorkCalendar>, version: i64, now: Millis) {
        let mut l = self.lock();
        if l.version.is_none_or(|v| version >= v) {
            *l = Loaded { cal, version: Some(version), checked_at: Some(now) };
        }
    }
}

/// The built-in calendar with the stored schedules on top.
fn build(stored: Vec<(i64, String)>) -> AppResult<WorkCalendar> {
    let mut cal = WorkCalendar::builtin();
    for (_, text) in stored {
        for s in parse_schedules(&text).map_err(|e| internal(format!("stored calendar: {e}")))? {
            cal.merge_year(s).map_err(internal)?;
        }
    }
    Ok(cal)
}

fn invalid(e: impl std::fmt::Display) -> AppError {
    AppError::Invalid(FieldErrors::single("schedule", e.to_string()))
}

/// Whether an evaluation changes the due date (or the reason it cannot be known) stored in
/// a clock's row: a move the ledger must record.
pub(super) fn moves_due(row: &ClockRow, ev: &Evaluated) -> bool {
    ev.due.map(|d| d.to_string()) != row.due_date || ev.problem != row.problem
}

/// Whether a clock is paused now: its due date is provisional (counted as if it resumed
/// today) and moves every day until it resumes, which records the date.
pub(super) fn paused(clock: &DeadlineClock) -> bool {
    clock.pauses.last().is_some_and(|p| p.to.is_none())
}

impl App {
    /// Loads the calendar from the database (the schedules admins imported on top of the
    /// built-in ones) whatever the calendar in memory.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn load_calendar(&self) -> AppResult<()> {
        // The version first: years newer than it are reloaded at the next check, never the
        // other way round.
        let version = store::calendar_version(&self.store.read).await?;
        let cal = build(store::calendar_years(&self.store.read).await?)?;
        self.deadlines.calendar.install(Arc::new(cal), version, self.now());
        Ok(())
    }

    /// Reloads the calendar when the database's version changed, checking at most every
    /// [`CALENDAR_CHECK_MS`]: for displays and for the calendar status. A due date that is
    /// stored is computed with [`App::calendar_in`] instead.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn refresh_calendar(&self) -> AppResult<()> {
        let now = self.now();
        if self.deadlines.calendar.checked_recently(now) {
            return Ok(());
        }
        let version = store::calendar_version(&self.store.read).await?;
        if self.deadlines.calendar.at_version(version, now).is_none() {
            self.load_calendar().await?;
        }
        Ok(())
    }

    /// The calendar to compute due dates with in `tx`: the database's, checked in `tx` and
    /// held until it ends (no import commits meanwhile), reloaded when the one in memory is
    /// older. Called before the transaction's first ledger append (as every clock path
    /// does: clocks are applied before the step is saved): an import holds the exclusive
    /// lock while it appends to every street's log, so a transaction holding a log's head
    /// and then asking for this lock would deadlock with it (PostgreSQL then aborts one).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub(crate) async fn calendar_in(&self, tx: &mut Tx) -> AppResult<Arc<WorkCalendar>> {
        let version = store::calendar_version_shared(tx).await?;
        if let Some(cal) = self.deadlines.calendar.at_version(version, self.now()) {
            return Ok(cal);
        }
        let cal = Arc::new(build(store::calendar_years(&mut *tx).await?)?);
        tracing::info!(version, "calendar reloaded");
        self.deadlines.calendar.install(cal.clone(), version, self.now());
        Ok(cal)
    }

    /// Imports one or more years' holiday schedules (the State Council publishes the next
    /// year's each November). In ONE transaction: the schedules, the calendar's new version,
    /// every open clock whose due date the new calendar moves with a `clock.recompute` entry
    /// in its record's ledger, and the `calendar.import` entry. A failure leaves schedule
    /// and clocks as they were.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn import_calendar(&self, by: &By<'_>, text: &str) -> AppResult<Vec<i32>> {
        require(by.who, SETTINGS_MANAGE).and_then(|()| crate::require_installation(by.who))?;
        let schedules = parse_schedules(text).map_err(invalid)?;
        if schedules.is_empty() {
            return Err(invalid("没有找到任何年度安排（应以 year YYYY 开头）"));
        }
        let (now, today) = (self.now(), self.today());
        let started = std::time::Instant::now();
        let mut tx = self.store.begin().await?;
        // First: waits for every transaction computing a due date, and makes the later wait.
        let version = store::bump_calendar_version(&mut tx).await?;
        let old = build(store::calendar_years(&mut tx).await?)?;
        let cal = merged(&old, &schedules)?;
        for s in &schedules {
            store::save_calendar_year(&mut tx, i64::from(s.year()), &s.to_text(), Some(by.who.user_id.0), now).await?;
        }
        let moved = self.recompute_open_clocks(&mut tx, &by.actor(), &old, &cal, today).await?;
        let years: Vec<i32> = schedules.iter().map(YearSchedule::year).collect();
        let c = Change {
            org: self.installation_org(&mut tx, by.who.org_id).await?,
            record_type: "calendar",
            record_id: "holidays".into(),
            action: "calendar.import",
            change: serde_json::json!({"years": years, "version": version, "moved_clocks": moved}),
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        self.deadlines.calendar.install(Arc::new(cal), version, now);
        tracing::info!(?years, version, moved, secs = started.elapsed().as_secs_f64(), "calendar imported");
        Ok(years)
    }

    /// Moves, in `tx`, every open clock whose due date `new` changes, each with a
    /// `clock.recompute` entry (before and after). A paused clock's provisional date drifts
    /// daily: it moves only when the calendars disagree about it. Returns how many moved.
    async fn recompute_open_clocks(
        &self,
        tx: &mut Tx,
        actor: &Actor<'_>,
        old: &WorkCalendar,
        new: &WorkCalendar,
        today: NaiveDate,
    ) -> AppResult<usize> {
        let mut moved = 0;
        let mut after = 0;
        loop {
            let batch = store::open_batch_for_update(&mut *tx, after, BATCH).await?;
            let Some(last) = batch.last().map(|r| r.id) else { break };
            for row in batch {
                let clock = parse_clock(&row)?;
                let ev = self.evaluate(new, &clock, today);
                if !moves_due(&row, &ev) {
                    continue;
                }
                if paused(&clock) {
                    let before = self.evaluate(old, &clock, today);
                    if before.due == ev.due && before.problem == ev.problem {
                        continue;
                    }
                }
                self.record_move(tx, actor, &row, &ev, "节假日安排变更").await?;
                moved += 1;
            }
            after = last;
        }
        Ok(moved)
    }

    /// Stores a clock's new evaluation and records the move of its due date in its record's
    /// ledger, in `tx`.
    pub(super) async fn record_move(
        &self,
        tx: &mut Tx,
        actor: &Actor<'_>,
        row: &ClockRow,
        ev: &Evaluated,
        reason: &str,
    ) -> AppResult<()> {
        store::update(&mut *tx, row.id, &self.status_of(&row.clock_json, ev), self.now()).await?;
        let mut change = serde_json::json!({
            "clock_id": row.id, "rule": row.rule_id, "from": row.due_date,
            "to": ev.due.map(|d| d.to_string()), "reason": reason,
        });
        if ev.problem != row.problem {
            change["problem"] = ev.problem.clone().into();
        }
        let c = Change {
            org: OrgId(row.org_id),
            record_type: &row.record_type,
            record_id: row.record_id.clone(),
            action: "clock.recompute",
            change,
            attachments: vec![],
        };
        self.record(tx, actor, c).await?;
        Ok(())
    }

    /// The org whose log records an installation-wide change: the actor's own node, or for
    /// the local operator (who sits on no node) the first top-level node.
    async fn installation_org(&self, tx: &mut Tx, actor_org: OrgId) -> AppResult<OrgId> {
        if org_store::get_node(&mut *tx, actor_org).await?.is_some() {
            return Ok(actor_org);
        }
        let all = org_store::list_nodes(&mut *tx, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        all.iter().find(|n| n.parent_id.is_none()).map(|n| OrgId(n.id)).ok_or(AppError::NotFound("机构"))
    }

    /// Years with a schedule, and the year an admin should import now (December only), by
    /// the calendar in memory ([`App::refresh_calendar`] brings it up to date; a server's job
    /// worker does every 15 s).
    pub fn calendar_status(&self) -> (Vec<i32>, Option<i32>) {
        let cal = self.deadlines.calendar.current();
        (cal.known_years(), cal.missing_next_year(self.today()))
    }
}

/// `base` with `schedules` merged in (refused as the user's input when one does not fit).
fn merged(base: &WorkCalendar, schedules: &[YearSchedule]) -> AppResult<WorkCalendar> {
    let mut cal = base.clone();
    for s in schedules {
        cal.merge_year(s.clone()).map_err(invalid)?;
    }
    Ok(cal)
}
