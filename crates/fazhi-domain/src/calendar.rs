//! The working-day calendar: which dates are working days in mainland China, and how far
//! N days from a date reaches.
//!
//! A working day is a Monday–Friday that is not a holiday, or a weekend day the State
//! Council made a working day (调休上班). Holidays come only from published schedules
//! (《全国年节及纪念日放假办法》 plus the yearly 国务院办公厅 notice): 2020–2026 are embedded
//! from `data/holidays-cn.txt`, later years are imported by an admin with the same text
//! format ([`parse_schedules`], [`WorkCalendar::merge_year`]). A date in a year with no
//! schedule is an error ([`CalendarError::UnknownYear`]), never a guess from the weekday:
//! a wrong guess would silently move a statutory deadline.

mod count;
mod review;
mod schedule;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod review_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};

pub use count::{DateRange, DayUnit, Due, Exclusion, Step, StepKind, count_period, due_date, notice_date};
pub use review::{
    DayChange, DayMark, Festival, HolidayLaw, Shortfall, YearDiff, diff_year, holiday_law, statutory_shortfalls,
};
pub use schedule::{
    ScheduleEntry, ScheduleError, ScheduleErrors, SpecialKind, YearSchedule, parse_schedules, weekday_zh,
};

/// The embedded schedules, 2020–2026 (DOMAIN.md §10).
const BUILTIN: &str = include_str!("../data/holidays-cn.txt");

/// The month from whose first day admins are warned that next year's schedule is missing.
pub const WARN_FROM_MONTH: u32 = 11;

/// Why a date or a computation could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No schedule for the year: refuse rather than guess from the weekday.
    #[error("没有 {year} 年的节假日安排，请先导入")]
    UnknownYear { year: i32 },
    /// Two schedules say different things about one date (e.g. a 2023 notice listing
    /// 2022-12-31 as a holiday while the 2022 notice lists it as a make-up workday).
    #[error("{date} 在 {year_a} 年的安排中是“{kind_a}”，在 {year_b} 年的安排中是“{kind_b}”，两者矛盾")]
    Conflict { date: NaiveDate, year_a: i32, kind_a: &'static str, year_b: i32, kind_b: &'static str },
    /// A computation would leave the range of representable dates.
    #[error("日期超出可计算的范围")]
    OutOfRange,
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayStatus {
    /// An ordinary Monday–Friday.
    Workday,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A day off under the schedule, with the holiday's name.
    Holiday { label: String },
    /// A weekend day made a working day (调休上班), with the holiday it pays for.
    MakeUpWorkday { label: String },
}

impl DayStatus {
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Workday | Self::MakeUpWorkday { .. })
    }
}

/// A listed day in the merged index, remembering which year's schedule listed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    kind: SpecialKind,
    label: String,
    notice_year: i32,
}

/// The merged schedules of all known years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearSchedule>,
    days: BTreeMap<NaiveDate, Listed>,
}

impl WorkCalendar {
    /// A calendar that knows no year: every question fails with `UnknownYear`.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The embedded schedules 2020–2026 (parsed once per process, then cloned).
    pub fn builtin() -> Self {
        static BUILTIN_CALENDAR: LazyLock<WorkCalendar> = LazyLock::new(|| {
            // The embedded file is checked by the tests; failing here means the binary was
            // built from a broken data file, which no runtime path can repair.
            WorkCalendar::from_schedules(builtin_schedules()).expect("embedded holiday data is consistent")
        });
        BUILTIN_CALENDAR.clone()
    }

    /// A calendar of exactly these schedules.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn from_schedules(schedules: impl IntoIterator<Item = YearSchedule>) -> Result<Self, CalendarError> {
        let mut cal = Self::empty();
        for s in schedules {
            cal.merge_year(s)?;
        }
        Ok(cal)
    }

    /// Adds a year's schedule, or replaces it when the year is already known (a corrected
    /// notice, like the 2020 春节 extension); returns the replaced schedule.
    ///
    /// Fails without changing the calendar when the new schedule contradicts another year
    /// on a shared date (only December dates can be shared).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn merge_year(&mut self, schedule: YearSchedule) -> Result<Option<YearSchedule>, CalendarError> {
        let year = schedule.year();
        for e in schedule.entries() {
            for date in e.dates() {
                if let Some(l) = self.days.get(&date)
                    && l.notice_year != year
                    && l.kind != e.kind
                {
                    return Err(CalendarError::Conflict {
                        date,
                        year_a: l.notice_year,
                        kind_a: l.kind.label_zh(),
                        year_b: year,
                        kind_b: e.kind.label_zh(),
                    });
                }
            }
        }
        let old = self.years.insert(year, schedule);
        self.reindex();
        Ok(old)
    }

    /// Rebuilds the date index from the per-year schedules. Later notice years win on a
    /// shared date; merge_year has already refused shared dates of different kinds.
    fn reindex(&mut self) {
        self.days.clear();
        for s in self.years.values() {
            for e in s.entries() {
                for date in e.dates() {
                    self.days.insert(date, Listed { kind: e.kind, label: e.label.clone(), notice_year: s.year() });
                }
            }
        }
    }

    /// The years with a schedule, ascending.
    pub fn known_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn schedule(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// The year whose schedule is missing when `today` is on or after 1 November and next
    /// year is not known yet; `None` otherwise. Drives the admin warning: the State Council
    /// publishes the notice around November, a deadline running into next year cannot be
    /// computed without it, and from 1 January none can.
    pub fn missing_next_year(&self, today: NaiveDate) -> Option<i32> {
        let next = today.year() + 1;
        (today.month() >= WARN_FROM_MONTH && !self.has_year(next)).then_some(next)
    }

    /// What kind of day `date` is.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn status(&self, date: NaiveDate) -> Result<DayStatus, CalendarError> {
        if !self.has_year(date.year()) {
            return Err(CalendarError::UnknownYear { year: date.year() });
        }
        Ok(match self.days.get(&date) {
            Some(l) if l.kind == SpecialKind::Off => DayStatus::Holiday { label: l.label.clone() },
            Some(l) => DayStatus::MakeUpWorkday { label: l.label.clone() },
            None if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) => DayStatus::Weekend,
            None => DayStatus::Workday,
        })
    }

    /// Is working day.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.status(date)?.is_working())
    }

    /// The number of working days in `(after, through]`: the days a period running from
    /// `after` has used by the end of `through`. Zero when `through <= after`.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn working_days_between(&self, after: NaiveDate, through: NaiveDate) -> Result<u32, CalendarError> {
        let mut n = 0;
        for d in after.iter_days().skip(1).take_while(|d| *d <= through) {
            if self.is_working_day(d)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The `n`th working day after `from` (`from` itself not counted); `from` when `n` is 0.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// The first working day strictly after `date`.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        self.add_working_days(date, 1)
    }
}

/// The embedded schedules, parsed.
pub fn builtin_schedules() -> Vec<YearSchedule> {
    parse_schedules(BUILTIN).expect("embedded holiday data parses")
}

/// The embedded data file as text, e.g. to show admins the format by example.
pub fn builtin_text() -> &'static str {
    BUILTIN
}
