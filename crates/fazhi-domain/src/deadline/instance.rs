//! One running deadline: a rule applied to an event date, with the pauses and extensions
//! recorded since, evaluated against a given "today" into a due date, a state and the
//! explanation of that date.
//!
//! Pause days: a pause from `from` to `to` stops the clock on the days after `from` up to
//! and including `to`. This mirrors 民事诉讼法 第八十五条第二款 at both ends: the day the pause
//! begins was still a day of work on the matter, and counting resumes the day after the
//! pause ends, just as a period starts the day after its event. A working-day period
//! therefore moves by exactly the working days in `(from, to]`; a calendar-day period by
//! exactly the calendar days in `(from, to]` (the statutes say the paused time "不计算在
//! 期限内", and in a calendar-day period every day is period time). A pause still open is
//! treated as ending on the evaluation day, so the due date shown is the earliest it can be.

use chrono::{Datelike, NaiveDate};

use super::rule::{DeadlineRule, PauseEffect, PauseReason, RuleKind, StartRule};
use crate::UserId;
use crate::calendar::{
    CalendarError, DateRange, DayUnit, Due, Exclusion, Step, StepKind, WorkCalendar, count_period, notice_date,
    weekday_zh,
};

/// A period during which the clock did not run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pause {
    /// The day the pausing event happened (补正 notice sent, consultation letter sent ...).
    pub from: NaiveDate,
    /// The day it ended (补正 received, reply received ...); `None` while still paused.
    pub to: Option<NaiveDate>,
    pub reason: PauseReason,
    /// Who recorded the pause.
    pub actor: UserId,
    pub note: String,
}

/// An approved extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    /// Length in the rule's unit.
    pub length: u32,
    pub approved_by: UserId,
    pub approved_on: NaiveDate,
    pub reason: String,
}

/// Where a clock stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    /// Done in time (or, for a minimum period, the period has been observed).
    Met,
    /// Done late, not done by the due date, or (minimum period) ended too early.
    Missed,
}

impl ClockState {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Running => "计时中",
            Self::Paused => "暂停",
            Self::Met => "按期",
            Self::Missed => "超期",
        }
    }
}

/// Why a pause, an extension or an evaluation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("“{rule}”不允许因“{reason}”暂停计时")]
    PauseNotAllowed { rule: String, reason: &'static str },
    #[error("暂停开始日 {from} 早于起算日 {start}")]
    PauseBeforeStart { from: NaiveDate, start: NaiveDate },
    #[error("暂停结束日 {to} 早于开始日 {from}")]
    PauseEndsBeforeStart { from: NaiveDate, to: NaiveDate },
    #[error("暂停期间 {from} 起与前一次暂停重叠或早于前一次暂停")]
    PauseOverlap { from: NaiveDate },
    #[error("只有最后一次暂停可以尚未结束")]
    PauseStillOpen,
    #[error("当前已处于暂停状态，请先恢复计时")]
    AlreadyPaused,
    #[error("当前没有暂停，无法恢复计时")]
    NotPaused,
    #[error("“{rule}”最多可延长 {allowed} 次，不能再延长")]
    TooManyExtensions { rule: String, allowed: usize },
    #[error("第 {index} 次延长 {length}{unit} 超过法定上限 {max}{unit}")]
    ExtensionTooLong { index: usize, length: u32, max: u32, unit: &'static str },
    #[error("延长期限必须大于 0")]
    EmptyExtension,
}

/// The result of evaluating a clock on a day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evaluation {
    pub due: NaiveDate,
    pub state: ClockState,
    /// Whether an open pause makes `due` provisional (it moves every day the pause lasts).
    pub provisional: bool,
    /// Units (of the rule) excluded by pauses.
    pub paused: u32,
    pub steps: Vec<Step>,
}

/// A rule applied to an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineClock {
    /// The rule as in force when the clock started (built-in plus overrides).
    pub rule: DeadlineRule,
    /// The triggering event's date; for an advance-notice rule, the later event's date.
    pub event_date: NaiveDate,
    pub pauses: Vec<Pause>,
    pub extensions: Vec<Extension>,
    /// When the act the deadline is about was done.
    pub completed_on: Option<NaiveDate>,
}

impl DeadlineClock {
    pub fn new(rule: DeadlineRule, event_date: NaiveDate) -> Self {
        Self { rule, event_date, pauses: Vec::new(), extensions: Vec::new(), completed_on: None }
    }

    /// Starts a pause on `from`; the rule must allow `reason`.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn pause(
        &mut self,
        from: NaiveDate,
        reason: PauseReason,
        actor: UserId,
        note: impl Into<String>,
    ) -> Result<(), ClockError> {
        if self.pauses.iter().any(|p| p.to.is_none()) {
            return Err(ClockError::AlreadyPaused);
        }
        self.pauses.push(Pause { from, to: None, reason, actor, note: note.into() });
        self.validate().inspect_err(|_| {
            self.pauses.pop();
        })
    }

    /// Ends the open pause on `to`.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn resume(&mut self, to: NaiveDate) -> Result<(), ClockError> {
        let Some(p) = self.pauses.iter_mut().find(|p| p.to.is_none()) else {
            return Err(ClockError::NotPaused);
        };
        if to < p.from {
            return Err(ClockError::PauseEndsBeforeStart { from: p.from, to });
        }
        p.to = Some(to);
        Ok(())
    }

    /// Records an approved extension; the rule must allow one more of this length.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn extend(&mut self, extension: Extension) -> Result<(), ClockError> {
        self.extensions.push(extension);
        self.validate().inspect_err(|_| {
            self.extensions.pop();
        })
    }

    /// Checks pauses and extensions against the rule: allowed reasons, in order, not
    /// before the event, not overlapping, at most the last one open; no more extensions
    /// than the rule lists, each within its maximum.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn validate(&self) -> Result<(), ClockError> {
        let mut prev_end: Option<NaiveDate> = None;
        for (i, p) in self.pauses.iter().enumerate() {
            if self.rule.pause_rule(p.reason).is_none() {
                return Err(ClockError::PauseNotAllowed { rule: self.rule.name.clone(), reason: p.reason.label_zh() });
            }
            if p.from < self.event_date {
                return Err(ClockError::PauseBeforeStart { from: p.from, start: self.event_date });
            }
            if let Some(to) = p.to.filter(|to| *to < p.from) {
                return Err(ClockError::PauseEndsBeforeStart { from: p.from, to });
            }
            if prev_end.is_some_and(|e| p.from < e) {
                return Err(ClockError::PauseOverlap { from: p.from });
            }
            match p.to {
                Some(to) => prev_end = Some(to),
                None if i + 1 != self.pauses.len() => return Err(ClockError::PauseStillOpen),
                None => {}
            }
        }
        let allowed = &self.rule.extensions;
        if self.extensions.len() > allowed.len() {
            return Err(ClockError::TooManyExtensions { rule: self.rule.name.clone(), allowed: allowed.len() });
        }
        for (i, (e, a)) in self.extensions.iter().zip(allowed).enumerate() {
            if e.length == 0 {
                return Err(ClockError::EmptyExtension);
            }
            if e.length > a.max_length {
                return Err(ClockError::ExtensionTooLong {
                    index: i + 1,
                    length: e.length,
                    max: a.max_length,
                    unit: self.rule.unit.label_zh(),
                });
            }
        }
        Ok(())
    }

    /// The due date, state and explanation as of `today`.
    ///
    /// Met/missed: a deadline (or advance notice) is met when completed on or before the
    /// due date and missed when completed later or not completed by the end of the due
    /// date; a minimum period is met when completed on or after its date (or once the date
    /// is reached) and missed when completed earlier.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn evaluate(&self, cal: &WorkCalendar, today: NaiveDate) -> Result<Evaluation, ClockError> {
        self.validate()?;
        let rule = &self.rule;
        let as_of = self.completed_on.unwrap_or(today);
        let open = self.pauses.last().is_some_and(|p| p.to.is_none());
        let length = rule.length + self.extensions.iter().map(|e| e.length).sum::<u32>();

        let (mut result, paused) = if rule.kind == RuleKind::AdvanceNotice {
            // Pauses make no sense before an event; validate() keeps them out because no
            // advance-notice rule lists a pause reason.
            (notice_date(cal, self.event_date, length, rule.unit)?, 0)
        } else {
            self.count_forward(cal, as_of, length)?
        };

        let mut meta = Vec::new();
        if let Some(basis) = &rule.overridden {
            meta.push(Step::new(
                StepKind::OverrideApplied,
                DateRange::new(self.event_date, self.event_date),
                rule.id.clone(),
                format!("本单位已调整“{}”：{}，依据：{basis}", rule.name, rule.period_zh()),
            ));
        }
        for (e, a) in self.extensions.iter().zip(&rule.extensions) {
            meta.push(Step::new(
                StepKind::Extended,
                DateRange::new(e.approved_on, e.approved_on),
                a.approver.clone(),
                format!(
                    "{} 经{}（用户 {}）批准延长 {} {}，理由：{}（{}）",
                    e.approved_on,
                    a.approver,
                    e.approved_by,
                    e.length,
                    rule.unit.label_zh(),
                    e.reason,
                    a.citation
                ),
            ));
        }
        // Right after the start (and restart) steps: they explain the length that the counting used.
        let at = result.steps.iter().take_while(|s| matches!(s.kind, StepKind::Start | StepKind::Restarted)).count();
        result.steps.splice(at..at, meta);
        if rule.kind == RuleKind::MinimumPeriod
            && let Some(last) = result.steps.last_mut()
        {
            last.text = format!(
                "{}不少于 {} {}：最早于 {} 届满，此前不得结束",
                rule.name,
                length,
                rule.unit.label_zh(),
                result.due
            );
        }

        let due = result.due;
        let state = match (self.completed_on, rule.kind) {
            (Some(c), RuleKind::MinimumPeriod) if c >= due => ClockState::Met,
            (Some(c), RuleKind::Deadline | RuleKind::AdvanceNotice) if c <= due => ClockState::Met,
            (Some(_), _) => ClockState::Missed,
            (None, RuleKind::MinimumPeriod) if today >= due => ClockState::Met,
            (None, RuleKind::Deadline | RuleKind::AdvanceNotice) if today > due => ClockState::Missed,
            (None, _) if open || self.pauses.iter().any(|p| in_pause(p, today)) => ClockState::Paused,
            (None, _) => ClockState::Running,
        };
        Ok(Evaluation { due, state, provisional: open && self.completed_on.is_none(), paused, steps: result.steps })
    }

    /// Counts the period forward from the event (or from the last restart), leaving out
    /// suspended days; returns the result and the number of units the pauses excluded.
    fn count_forward(&self, cal: &WorkCalendar, as_of: NaiveDate, length: u32) -> Result<(Due, u32), ClockError> {
        let rule = &self.rule;
        let effect = |p: &Pause| rule.pause_rule(p.reason).map(|r| r.effect);
        let end = |p: &Pause| p.to.unwrap_or(as_of).max(p.from);
        // A restart (补正) makes everything before its end irrelevant.
        let restart = self.pauses.iter().rev().find(|p| effect(p) == Some(PauseEffect::Restart));
        let mut anchor = match rule.start {
            StartRule::NextDay => self.event_date,
            // Day one is the event's day: count from the day before.
            StartRule::SameDay => self.event_date.pred_opt().ok_or(CalendarError::OutOfRange)?,
        };
        let mut steps = Vec::new();
        if let Some(p) = restart {
            anchor = end(p);
            let range = DateRange::new(p.from, anchor);
            steps.push(Step::new(
                StepKind::Restarted,
                range,
                p.reason.label_zh(),
                format!(
                    "{} {}{}：期间自 {anchor} 次日起重新计算",
                    range.display(),
                    p.reason.label_zh(),
                    pause_note(rule, p)
                ),
            ));
        }
        let exclusions: Vec<Exclusion> = self
            .pauses
            .iter()
            .filter(|p| effect(p) == Some(PauseEffect::Suspend) && p.from >= anchor)
            .filter_map(|p| {
                let first = p.from.succ_opt()?;
                let last = end(p);
                (first <= last).then(|| Exclusion {
                    range: DateRange::new(first, last),
                    label: p.reason.label_zh().to_owned(),
                    note: pause_note(rule, p),
                })
            })
            .collect();
        let mut due = count_period(cal, anchor, length, rule.unit, rule.roll_if_non_working, &exclusions)?;
        let mut paused = 0;
        for s in due.steps.iter().filter(|s| s.kind == StepKind::Paused) {
            paused += match rule.unit {
                DayUnit::Calendar => s.days,
                DayUnit::Working => cal.working_days_between(s.from.pred_opt().unwrap_or(s.from), s.to)?,
            };
        }
        if !steps.is_empty() {
            // The original event still opens the explanation; the restart replaces the
            // counting's own start step.
            let original = Step::new(
                StepKind::Start,
                DateRange::new(self.event_date, self.event_date),
                "起算日",
                format!("{}（{}）{}", self.event_date, weekday_zh(self.event_date.weekday()), rule.trigger),
            );
            due.steps.remove(0);
            steps.insert(0, original);
            steps.append(&mut due.steps);
            due.steps = steps;
        }
        Ok((due, paused))
    }
}

fn in_pause(p: &Pause, d: NaiveDate) -> bool {
    p.from <= d && p.to.is_none_or(|to| d <= to)
}

/// The citation of the pause's rule in brackets, and whether it is still open.
fn pause_note(rule: &DeadlineRule, p: &Pause) -> String {
    let cite = rule.pause_rule(p.reason).map(|r| format!("（{}）", r.citation)).unwrap_or_default();
    let open = if p.to.is_none() { "（尚未结束，按今日结束估算）" } else { "" };
    format!("{cite}{open}")
}
