//! Counting a period over the calendar, with the explanation of every day that was not
//! simply counted.
//!
//! The counting rule is 民事诉讼法(2023) 第八十五条: the day of the triggering event is not
//! counted (¶2), and a period whose last day is a statutory rest day ends on the first
//! day after it (¶3); 行政诉讼法 第一百零一条 and 行政复议法 第八十八条 apply it to litigation
//! and reconsideration. Working-day periods (行政处罚法 第八十五条, 行政强制法 第六十九条,
//! 行政复议法 第八十八条第二款, 政府信息公开条例) skip weekends and holidays and count
//! make-up workdays. The explanation is data ([`Step`]) so the CLI, the UI and the JSON
//! API show the same reasons.

use chrono::{Datelike, NaiveDate};

use super::{CalendarError, DayStatus, WorkCalendar, weekday_zh};

/// What a period's number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    /// 日: every calendar day, holidays included.
    Calendar,
    /// 工作日: working days of the [`WorkCalendar`].
    Working,
}

impl DayUnit {
    /// "日" or "个工作日", as in "20 个工作日".
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Calendar => "日",
            Self::Working => "个工作日",
        }
    }
}

/// An inclusive run of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateRange {
    pub fn new(first: NaiveDate, last: NaiveDate) -> Self {
        Self { first, last }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.first <= d && d <= self.last
    }

    /// Number of days in the range; 0 when `last < first`.
    pub fn days(&self) -> u32 {
        u32::try_from((self.last - self.first).num_days() + 1).unwrap_or(0)
    }

    /// `2024-10-12` or `2024-10-01..2024-10-07`.
    pub fn display(&self) -> String {
        if self.first == self.last { self.first.to_string() } else { format!("{}..{}", self.first, self.last) }
    }
}

/// What one explanation step says about its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The triggering event's day: not counted.
    Start,
    /// Ordinary weekend days skipped by a working-day period.
    WeekendSkipped,
    /// Holidays skipped by a working-day period.
    HolidaySkipped,
    /// Make-up workdays (调休上班) counted by a working-day period.
    MakeupWorkdayCounted,
    /// Days excluded by a pause (补正, consultation, hearing, 鉴定 ...).
    Paused,
    /// The period started again (补正 under 政府信息公开条例 第三十条).
    Restarted,
    /// An approved extension added to the period.
    Extended,
    /// The installation changed the rule's value.
    OverrideApplied,
    /// Non-working days after a calendar-day period's last day, moving the due date.
    RolledOver,
    /// The resulting date.
    Due,
}

/// One line of an explanation: a date or run of dates, what happened to it and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub kind: StepKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Number of days from `from` to `to`, both included.
    pub days: u32,
    /// The holiday, pause reason or rule the step is about (国庆节, 周末, 补正 ...).
    pub label: String,
    /// The whole step as a Chinese sentence.
    pub text: String,
}

impl Step {
    pub fn new(kind: StepKind, range: DateRange, label: impl Into<String>, text: String) -> Self {
        Self { kind, from: range.first, to: range.last, days: range.days(), label: label.into(), text }
    }

    pub fn range(&self) -> DateRange {
        DateRange::new(self.from, self.to)
    }
}

/// A computed date with its explanation; serialises as `{"due": "YYYY-MM-DD", "steps": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Due {
    pub due: NaiveDate,
    pub steps: Vec<Step>,
}

/// Days that a period does not count because it was paused, with the reason's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub range: DateRange,
    /// The reason in short (补正, 听证 ...): the step's label.
    pub label: String,
    /// Appended to the step's text: the citation, and whether the pause is still open.
    pub note: String,
}

/// The due date of a period of `days` `unit`s after the event on `from`, explained.
///
/// Counting starts the day after `from`. Working unit: the `days`th working day after
/// `from`. Calendar unit: `from + days`; with `roll`, a date that is not a working day moves
/// to the first working day after it (民事诉讼法 第八十五条第三款). `days == 0` gives `from`
/// (rolled if asked). A calendar-day period without `roll` needs no holiday schedule.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn due_date(
    cal: &WorkCalendar,
    from: NaiveDate,
    days: u32,
    unit: DayUnit,
    roll: bool,
) -> Result<Due, CalendarError> {
    count_period(cal, from, days, unit, roll, &[])
}

/// [`due_date`] with paused days left out: days inside an `exclusions` range are not
/// counted whatever their kind, so a working-day period moves by the paused working days
/// and a calendar-day period by the paused calendar days.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn count_period(
    cal: &WorkCalendar,
    from: NaiveDate,
    days: u32,
    unit: DayUnit,
    roll: bool,
    exclusions: &[Exclusion],
) -> Result<Due, CalendarError> {
    let mut steps = vec![Step::new(
        StepKind::Start,
        DateRange::new(from, from),
        "起算日",
        format!(
            "{from}（{}）为起算事件当日，不计入期间，自次日起算（民事诉讼法第八十五条第二款）",
            weekday_zh(from.weekday())
        ),
    )];
    let mut runs = Runs::default();
    let mut d = from;
    let mut counted = 0;
    while counted < days {
        d = d.succ_opt().ok_or(CalendarError::OutOfRange)?;
        if let Some(ex) = exclusions.iter().find(|e| e.range.contains(d)) {
            runs.push(&mut steps, StepKind::Paused, &ex.label, &ex.note, d);
            continue;
        }
        let kind = match unit {
            DayUnit::Calendar => None,
            DayUnit::Working => classify(cal.status(d)?),
        };
        match kind {
            None => counted += 1,
            Some((k, label)) => {
                if k == StepKind::MakeupWorkdayCounted {
                    counted += 1;
                }
                runs.push(&mut steps, k, &label, "", d);
                continue;
            }
        }
        runs.flush(&mut steps);
    }
    runs.flush(&mut steps);
    let last_day = d;
    let mut due = d;
    if roll {
        loop {
            let status = cal.status(due)?;
            if status.is_working() {
                break;
            }
            let label = classify(status).map(|(_, l)| l).unwrap_or_default();
            runs.push(&mut steps, StepKind::RolledOver, &label, "", due);
            due = due.succ_opt().ok_or(CalendarError::OutOfRange)?;
        }
        runs.flush(&mut steps);
    }
    let (paused, also_paused) =
        if exclusions.is_empty() { ("", "") } else { ("（暂停期间不计）", "，暂停期间不计") };
    let text = match unit {
        DayUnit::Working => {
            format!("自 {from} 次日起第 {days} 个工作日{paused}为 {due}（{}），期限届满", weekday_zh(due.weekday()))
        }
        DayUnit::Calendar if due != last_day => format!(
            "按自然日计算{paused}，第 {days} 日为 {last_day}，不是工作日，顺延至 {due}（{}），期限届满",
            weekday_zh(due.weekday())
        ),
        DayUnit::Calendar => format!(
            "按自然日计算（节假日照常计入{also_paused}），自 {from} 次日起第 {days} 日为 {due}（{}），期限届满",
            weekday_zh(due.weekday())
        ),
    };
    steps.push(Step::new(StepKind::Due, DateRange::new(due, due), "届满日", text));
    Ok(Due { due, steps })
}

/// The latest date for an act that must come `days` `unit`s before the event on `event`
/// ("在举行听证的七日前通知"): counting backwards from the day before the event, mirroring
/// 民事诉讼法 第八十五条 (the event's day is not counted). Nothing is rolled: moving a notice
/// date later would shorten the notice.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn notice_date(cal: &WorkCalendar, event: NaiveDate, days: u32, unit: DayUnit) -> Result<Due, CalendarError> {
    let start = Step::new(
        StepKind::Start,
        DateRange::new(event, event),
        "事件日",
        format!("{event}（{}）为事件当日，不计入，向前倒数 {days} {}", weekday_zh(event.weekday()), unit.label_zh()),
    );
    let mut steps = Vec::new();
    let mut runs = Runs::default();
    let mut d = event;
    let mut counted = 0;
    while counted < days {
        d = d.pred_opt().ok_or(CalendarError::OutOfRange)?;
        let kind = match unit {
            DayUnit::Calendar => None,
            DayUnit::Working => classify(cal.status(d)?),
        };
        match kind {
            None => counted += 1,
            Some((k, label)) => {
                if k == StepKind::MakeupWorkdayCounted {
                    counted += 1;
                }
                runs.push(&mut steps, k, &label, "", d);
                continue;
            }
        }
        runs.flush(&mut steps);
    }
    runs.flush(&mut steps);
    steps.reverse();
    steps.insert(0, start);
    steps.push(Step::new(
        StepKind::Due,
        DateRange::new(d, d),
        "最迟日",
        format!("{event} 之前第 {days} {} 为 {d}（{}），最迟应于当日完成", unit.label_zh(), weekday_zh(d.weekday())),
    ));
    Ok(Due { due: d, steps })
}

/// The step kind and label of a day that a working-day count does not simply count.
fn classify(status: DayStatus) -> Option<(StepKind, String)> {
    match status {
        DayStatus::Workday => None,
        DayStatus::Weekend => Some((StepKind::WeekendSkipped, "周末".to_owned())),
        DayStatus::Holiday { label } => Some((StepKind::HolidaySkipped, label)),
        DayStatus::MakeUpWorkday { label } => Some((StepKind::MakeupWorkdayCounted, label)),
    }
}

/// The text of a step about a run of days.
fn run_text(kind: StepKind, range: DateRange, label: &str, note: &str) -> String {
    let r = range.display();
    match kind {
        StepKind::WeekendSkipped => format!("{r} 周末，不计入工作日"),
        StepKind::HolidaySkipped => format!("{r} {label}放假，不计入工作日"),
        StepKind::MakeupWorkdayCounted => {
            format!("{r}（{}）{label}调休上班，计为工作日", weekday_zh(range.first.weekday()))
        }
        StepKind::Paused => format!("{r} {label}{note}，暂停计算，不计入期间"),
        StepKind::RolledOver if label == "周末" => {
            format!("{r} 周末，期间最后一日不是工作日，顺延（民事诉讼法第八十五条第三款）")
        }
        StepKind::RolledOver => {
            format!("{r} {label}放假，期间最后一日是法定休假日，顺延（民事诉讼法第八十五条第三款）")
        }
        _ => format!("{r} {label}"),
    }
}

/// Groups consecutive days of the same kind and label into one step.
#[derive(Default)]
struct Runs {
    /// Kind, label, dates and text note of the run being built.
    open: Option<(StepKind, String, DateRange, String)>,
}

impl Runs {
    /// Adds `d` to the open run if it continues it (in either direction), else closes the
    /// open run into `steps` and opens a new one.
    fn push(&mut self, steps: &mut Vec<Step>, kind: StepKind, label: &str, note: &str, d: NaiveDate) {
        if let Some((k, l, r, _)) = &mut self.open
            && *k == kind
            && l == label
        {
            if r.last.succ_opt() == Some(d) {
                r.last = d;
                return;
            }
            if r.first.pred_opt() == Some(d) {
                r.first = d;
                return;
            }
        }
        self.flush(steps);
        self.open = Some((kind, label.to_owned(), DateRange::new(d, d), note.to_owned()));
    }

    fn flush(&mut self, steps: &mut Vec<Step>) {
        if let Some((kind, label, range, note)) = self.open.take() {
            let text = run_text(kind, range, &label, &note);
            steps.push(Step::new(kind, range, label, text));
        }
    }
}
