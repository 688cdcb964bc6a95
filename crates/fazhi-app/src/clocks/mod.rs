//! Statutory clocks: start, pause, resume, extend, complete; the daily scan that turns
//! clocks 黄牌 (due within a few working days) and 红牌 (overdue) and tells the responsible
//! user and their leaders; the calendar admins extend each year; the inbox.
//!
//! Dates are computed by the domain (`fazhi_domain::deadline`), always against the one
//! calendar held here, with "today" from the one clock in Beijing time.

use std::sync::Arc;

use chrono::NaiveDate;
use fazhi_domain::access::{ORG_READ, Principal, RecordRef};
use fazhi_domain::calendar::WorkCalendar;
use fazhi_domain::clock::beijing_date;
use fazhi_domain::deadline::{ClockState, DeadlineClock, Extension, PauseReason, RuleSet};
use fazhi_domain::record::{KINDS, Kind, RecordKey};
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::clocks::{self as store, ClockRow, ClockStatus, NewClock, NotificationRow};

use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, check, require};

mod calendar;
mod calendar_import;
mod scan;

pub use calendar::{CALENDAR_CHECK_MS, CalendarCell};
pub use calendar_import::{
    ImportConfirm, ImportOutcome, ImportPreview, MAX_REASON_CHARS, MovedClock, YearArrangement, YearOrigin, YearReview,
};

/// The calendar and rules of an installation, shared by every request.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// The calendar in memory and the database version it was loaded at.
    pub calendar: Arc<CalendarCell>,
    pub rules: Arc<RuleSet>,
    /// 黄牌 when a clock is due within this many working days (configurable; default 3).
    pub yellow_days: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self { calendar: Arc::default(), rules: Arc::new(RuleSet::builtin()), yellow_days: 3 }
    }
}

/// The record a clock runs for.
#[derive(Debug, Clone)]
pub struct ClockTarget<'a> {
    pub record_type: &'a str,
    pub record_id: String,
    /// The org node that owns the record.
    pub org: OrgId,
    /// The user responsible for meeting the deadline.
    pub owner: Option<UserId>,
}

/// A clock as shown: rule, dates, card and explanation.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub row: ClockRow,
    pub clock: DeadlineClock,
    pub steps: Vec<String>,
}

/// What a scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub checked: usize,
    /// Clocks whose due date moved (each with a `clock.recompute` ledger entry).
    pub recomputed: usize,
    pub yellow: usize,
    pub red: usize,
    pub notified: usize,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal("internal", e)
}

fn parse_clock(row: &ClockRow) -> AppResult<DeadlineClock> {
    serde_json::from_str(&row.clock_json).map_err(|e| internal(format!("clock {}: {e}", row.id)))
}

/// Evaluated status of a clock on `today`: (due, state, card, closed, problem, steps).
struct Evaluated {
    due: Option<NaiveDate>,
    state: &'static str,
    card: &'static str,
    closed: bool,
    problem: String,
    steps: Vec<String>,
}

fn state_code(s: ClockState) -> &'static str {
    match s {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Met => "met",
        ClockState::Missed => "missed",
    }
}

impl App {
    fn today(&self) -> NaiveDate {
        beijing_date(self.now())
    }

    fn evaluate(&self, cal: &WorkCalendar, clock: &DeadlineClock, today: NaiveDate) -> Evaluated {
        match clock.evaluate(cal, today) {
            Ok(ev) => {
                let closed = clock.completed_on.is_some();
                // A window the petitioner or party holds (e.g. 30 days to ask for a 复查) is
                // not the agency's duty: it lapses without a 红牌 or reminders.
                let agency = clock.rule.duty == fazhi_domain::deadline::Duty::Agency;
                let card = match ev.state {
                    _ if !agency => "none",
                    ClockState::Missed if !closed => "red",
                    ClockState::Running | ClockState::Paused => match cal.working_days_between(today, ev.due) {
                        Ok(n) if ev.due >= today && n <= self.deadlines.yellow_days => "yellow",
                        _ => "none",
                    },
                    _ => "none",
                };
                Evaluated {
                    due: Some(ev.due),
                    state: state_code(ev.state),
                    card,
                    closed,
                    problem: String::new(),
                    steps: ev.steps.into_iter().map(|s| s.text).collect(),
                }
            }
            // A year without a holiday schedule: the date cannot be known, and saying so is
            // the point (never a weekday guess).
            Err(e) => Evaluated {
                due: None,
                state: "running",
                card: "none",
                closed: clock.completed_on.is_some(),
                problem: e.to_string(),
                steps: Vec::new(),
            },
        }
    }

    fn status_of<'a>(&self, json: &'a str, ev: &'a Evaluated) -> ClockStatus<'a> {
        ClockStatus {
            clock_json: json,
            due_date: ev.due.map(|d| d.to_string()),
            state: ev.state,
            card: ev.card,
            closed: ev.closed,
            problem: &ev.problem,
        }
    }

    /// Starts a clock for a record. Module services call this after their own permission
    /// checks, inside their own flow; the start is recorded in the record's ledger.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn start_clock(
        &self,
        by: &By<'_>,
        t: ClockTarget<'_>,
        rule_id: &str,
        event_date: NaiveDate,
    ) -> AppResult<i64> {
        let mut tx = self.store.begin().await?;
        let id = self.start_clock_in(&mut tx, by, t, rule_id, event_date).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`App::start_clock`] inside the caller's transaction, so a record and its clock are
    /// written together or not at all.
    pub(crate) async fn start_clock_in(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        t: ClockTarget<'_>,
        rule_id: &str,
        event_date: NaiveDate,
    ) -> AppResult<i64> {
        let (id, due) = self.insert_clock(tx, &t, rule_id, event_date).await?;
        let rule = self.deadlines.rules.get(rule_id).ok_or_else(|| internal(format!("rule {rule_id}")))?;
        let change = serde_json::json!({
            "clock_id": id, "rule": rule_id, "name": rule.name, "event_date": event_date.to_string(),
            "due": due, "basis": format!("{}", rule.citation),
        });
        let c = Change {
            org: t.org,
            record_type: t.record_type,
            record_id: t.record_id.clone(),
            action: "clock.start",
            change,
            attachments: vec![],
        };
        self.record(tx, &by.actor(), c).await?;
        Ok(id)
    }

    /// Inserts a clock of `rule_id` for the target, evaluated today, without a ledger entry
    /// of its own (the caller records it: a step's entry lists the clocks it started).
    /// Returns its id and due date.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for an unknown rule; database errors.
    pub(crate) async fn insert_clock(
        &self,
        tx: &mut fazhi_store::Tx,
        t: &ClockTarget<'_>,
        rule_id: &str,
        event_date: NaiveDate,
    ) -> AppResult<(i64, Option<String>)> {
        let rule = self
            .deadlines
            .rules
            .get(rule_id)
            .ok_or_else(|| AppError::Invalid(FieldErrors::single("rule_id", format!("没有期限规则「{rule_id}」"))))?
            .clone();
        let clock = DeadlineClock::new(rule, event_date);
        let json = serde_json::to_string(&clock).map_err(internal)?;
        let cal = self.calendar_in(tx).await?;
        let ev = self.evaluate(&cal, &clock, self.today());
        let new = NewClock {
            org_id: t.org.0,
            owner_id: t.owner.map(|u| u.0),
            record_type: t.record_type,
            record_id: &t.record_id,
            rule_id,
            clock_json: &json,
        };
        let id = store::insert(tx, &new, &self.status_of(&json, &ev), self.now()).await?;
        Ok((id, ev.due.map(|d| d.to_string())))
    }

    /// Changes a loaded clock with `f`, re-evaluates and stores it, without a ledger entry of
    /// its own. Returns the new due date.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when the clock rules refuse the change; database errors.
    pub(crate) async fn change_clock_row(
        &self,
        tx: &mut fazhi_store::Tx,
        row: &ClockRow,
        f: impl FnOnce(&mut DeadlineClock) -> Result<(), fazhi_domain::deadline::ClockError>,
    ) -> AppResult<Option<String>> {
        let mut clock = parse_clock(row)?;
        f(&mut clock).map_err(|e| AppError::Invalid(FieldErrors::single("clock", e.to_string())))?;
        clock.validate().map_err(|e| AppError::Invalid(FieldErrors::single("clock", e.to_string())))?;
        let json = serde_json::to_string(&clock).map_err(internal)?;
        let cal = self.calendar_in(tx).await?;
        let ev = self.evaluate(&cal, &clock, self.today());
        store::update(&mut *tx, row.id, &self.status_of(&json, &ev), self.now()).await?;
        Ok(ev.due.map(|d| d.to_string()))
    }

    /// Applies a change to a clock the principal can see, re-evaluates and records it.
    async fn change_clock(
        &self,
        by: &By<'_>,
        id: i64,
        action: &'static str,
        detail: serde_json::Value,
        f: impl FnOnce(&mut DeadlineClock) -> Result<(), fazhi_domain::deadline::ClockError>,
    ) -> AppResult<()> {
        let row = self.visible_clock(by.who, id).await?;
        let mut tx = self.store.begin().await?;
        self.change_clock_in(&mut tx, by, &row, action, detail, f).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a clock already loaded (and authorised by the caller) inside the caller's
    /// transaction, with its own ledger entry.
    pub(crate) async fn change_clock_in(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        row: &ClockRow,
        action: &'static str,
        detail: serde_json::Value,
        f: impl FnOnce(&mut DeadlineClock) -> Result<(), fazhi_domain::deadline::ClockError>,
    ) -> AppResult<()> {
        let due = self.change_clock_row(tx, row, f).await?;
        let mut change = detail;
        change["clock_id"] = row.id.into();
        change["due"] = due.into();
        let c = Change {
            org: OrgId(row.org_id),
            record_type: &row.record_type,
            record_id: row.record_id.clone(),
            action,
            change,
            attachments: vec![],
        };
        self.record(tx, &by.actor(), c).await?;
        Ok(())
    }

    /// Pause clock.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn pause_clock(
        &self,
        by: &By<'_>,
        id: i64,
        from: NaiveDate,
        reason: PauseReason,
        note: &str,
    ) -> AppResult<()> {
        let who = by.who.user_id;
        let detail = serde_json::json!({"from": from.to_string(), "reason": reason.label_zh(), "note": note});
        self.change_clock(by, id, "clock.pause", detail, |c| c.pause(from, reason, who, note.to_owned())).await
    }

    /// Resume clock.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn resume_clock(&self, by: &By<'_>, id: i64, to: NaiveDate) -> AppResult<()> {
        self.change_clock(by, id, "clock.resume", serde_json::json!({"to": to.to_string()}), |c| c.resume(to)).await
    }

    /// Extend clock.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn extend_clock(&self, by: &By<'_>, id: i64, length: u32, reason: &str) -> AppResult<()> {
        let ext =
            Extension { length, approved_by: by.who.user_id, approved_on: self.today(), reason: reason.to_owned() };
        let detail = serde_json::json!({"length": length, "reason": reason});
        self.change_clock(by, id, "clock.extend", detail, |c| c.extend(ext)).await
    }

    /// Marks the act done on `on` (met or missed follows from the due date).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn complete_clock(&self, by: &By<'_>, id: i64, on: NaiveDate) -> AppResult<()> {
        let detail = serde_json::json!({"completed_on": on.to_string()});
        self.change_clock(by, id, "clock.complete", detail, |c| {
            c.completed_on = Some(on);
            Ok(())
        })
        .await
    }

    /// A clock the principal may change: they must be able to handle its record.
    async fn visible_clock(&self, who: &Principal, id: i64) -> AppResult<ClockRow> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("期限"))?;
        let key = RecordKey::parse(&row.record_type, &row.record_id).ok_or(AppError::NotFound("期限"))?;
        let rec = self.record_ref(key).await?;
        check(who, key.kind.handle, &rec)?;
        Ok(row)
    }

    /// The policy's view of any record (its holders), read through the pool.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when the record does not exist or its kind has no table.
    pub async fn record_ref(&self, key: RecordKey) -> AppResult<RecordRef> {
        let table = fazhi_store::record::table(key.kind).ok_or(AppError::NotFound(key.kind.label))?;
        let holders = fazhi_store::record::holders(&self.store.read, table, key.id).await?;
        if holders.is_empty() {
            return Err(AppError::NotFound(key.kind.label));
        }
        Ok(RecordRef::of(key.kind, holders))
    }

    /// The clocks as shown, explained with the current calendar (checked at most every
    /// [`CALENDAR_CHECK_MS`]).
    pub(crate) async fn views(&self, rows: Vec<ClockRow>) -> AppResult<Vec<ClockView>> {
        self.refresh_calendar().await?;
        let cal = self.deadlines.calendar.current();
        let today = self.today();
        rows.into_iter()
            .map(|row| {
                let clock = parse_clock(&row)?;
                let ev = self.evaluate(&cal, &clock, today);
                Ok(ClockView { row, clock, steps: ev.steps })
            })
            .collect()
    }

    /// Clocks within the principal's scope, red first: for each kind of record, the clocks
    /// of records of that kind the principal may READ (a role without petition permission
    /// sees no petition clock).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without org read permission; database errors.
    pub async fn clocks(&self, who: &Principal, open_only: bool) -> AppResult<Vec<ClockView>> {
        require(who, ORG_READ)?;
        let filters: Vec<_> = KINDS.iter().map(|k| (*k, who.filter_for(k, k.read))).collect();
        let rows = store::list(&self.store.read, &filters, open_only, 500).await?;
        self.views(rows).await
    }

    /// The clocks of a record the principal may read.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`]; database errors.
    pub async fn clocks_of(&self, who: &Principal, key: RecordKey) -> AppResult<Vec<ClockView>> {
        let rec = self.record_ref(key).await?;
        check(who, key.kind.read, &rec)?;
        self.clocks_of_record(key.kind, &key.id_text()).await
    }

    /// The clocks of a record, for a caller that has authorised it.
    pub(crate) async fn clocks_of_record(&self, kind: &Kind, record_id: &str) -> AppResult<Vec<ClockView>> {
        let rows = store::of_record(&self.store.read, kind.code, record_id).await?;
        self.views(rows).await
    }

    /// Reads the inbox.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn inbox(&self, user: UserId) -> AppResult<Vec<NotificationRow>> {
        Ok(store::inbox(&self.store.read, user.0, 200).await?)
    }

    /// Counts the unread.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn unread(&self, user: UserId) -> AppResult<i64> {
        Ok(store::unread_count(&self.store.read, user.0).await?)
    }

    /// Marks one item (or all) read.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn mark_read(&self, user: UserId, id: Option<i64>) -> AppResult<u64> {
        Ok(store::mark_read(&self.store.write, user.0, id, self.now()).await?)
    }
}
