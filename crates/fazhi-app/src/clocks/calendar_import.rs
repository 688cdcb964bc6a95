//! Importing holiday schedules in two steps, and viewing a year's arrangement.
//!
//! The calendar is law: an import replaces a year's arrangement and moves statutory
//! deadlines. So an import is first previewed ([`App::preview_calendar_import`], nothing
//! written): per year the diff against the arrangement in force, the statutory holidays of
//! 《全国年节及纪念日放假办法》 the candidate lacks, and every open clock whose due date would
//! move. Then it is confirmed ([`App::import_calendar`]) with the preview's token, which
//! binds the exact schedules previewed and the calendar version they were compared with: a
//! changed text or a calendar imported meanwhile is refused and must be previewed again.
//! A year lacking a statutory holiday is refused unless the importer overrides it with a
//! reason, recorded in the import's ledger entry.

use std::sync::Arc;

use fazhi_domain::calendar::{
    Shortfall, WorkCalendar, YearDiff, YearSchedule, diff_year, holiday_law, parse_schedules, statutory_shortfalls,
};
use fazhi_domain::clock::Millis;
use fazhi_domain::{FieldErrors, UserId};
use fazhi_store::clocks as store;
use fazhi_store::users as user_store;
use sha2::{Digest, Sha256};

use super::calendar::{BATCH, build, invalid};
use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult};

/// Longest override reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One year of a previewed import.
#[derive(Debug, Clone, serde::Serialize)]
pub struct YearReview {
    /// What changes against the arrangement in force.
    pub diff: YearDiff,
    /// The statutory holidays the candidate lacks (empty when complete).
    pub shortfalls: Vec<Shortfall>,
    /// The revision of the 办法 it was checked against, when one governs the year.
    pub law: Option<&'static str>,
}

/// An open clock whose due date an import would move.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MovedClock {
    pub clock_id: i64,
    pub org_id: i64,
    pub record_type: String,
    pub record_id: String,
    pub rule_id: String,
    /// The rule's name, e.g. 政府信息公开申请答复.
    pub rule_name: String,
    /// Due date stored now (`None`: cannot be computed now).
    pub from: Option<String>,
    /// Due date under the candidate (`None`: could not be computed).
    pub to: Option<String>,
    /// Why the new date cannot be computed, when it cannot.
    pub problem: String,
}

/// A candidate import reviewed without writing anything.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportPreview {
    /// The calendar version the candidate was compared with.
    pub version: i64,
    /// What the confirmation must carry: the version and the digest of the schedules.
    pub token: String,
    /// The schedules as they will be stored (the import format, comments dropped).
    pub text: String,
    pub years: Vec<YearReview>,
    /// Every open clock whose due date the import would move.
    pub moved: Vec<MovedClock>,
}

impl ImportPreview {
    /// Whether every year gives every statutory holiday.
    pub fn complete(&self) -> bool {
        self.years.iter().all(|y| y.shortfalls.is_empty())
    }
}

/// The confirmation of a previewed import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportConfirm<'a> {
    /// [`ImportPreview::token`] of the preview being confirmed.
    pub token: &'a str,
    /// Import a year that lacks a statutory holiday anyway (needs `reason`).
    pub override_statutory: bool,
    /// Why the year departs from the 办法 (e.g. the State Council notice itself does).
    pub reason: &'a str,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    pub years: Vec<i32>,
    /// The calendar's version after the import.
    pub version: i64,
    /// How many open clocks moved (each with a `clock.recompute` ledger entry).
    pub moved: usize,
}

/// Where a year's arrangement comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum YearOrigin {
    /// Embedded in the program (DOMAIN.md §10).
    Builtin,
    /// Imported by an admin; `replaces_builtin` when the program has its own for the year.
    Imported { by: String, at: Millis, replaces_builtin: bool },
}

/// A year's arrangement as in force.
#[derive(Debug, Clone, serde::Serialize)]
pub struct YearArrangement {
    pub schedule: YearSchedule,
    pub origin: YearOrigin,
    /// The calendar's version (0 before the first import).
    pub version: i64,
    /// The statutory holidays it lacks (an import made with the override).
    pub shortfalls: Vec<Shortfall>,
    pub law: Option<&'static str>,
}

fn parse(text: &str) -> AppResult<Vec<YearSchedule>> {
    let schedules = parse_schedules(text).map_err(invalid)?;
    if schedules.is_empty() {
        return Err(invalid("没有找到任何年度安排（应以 year YYYY 开头）"));
    }
    Ok(schedules)
}

/// The schedules in the import format: what is stored, and what the token's digest binds
/// (so comments, blank lines and line endings a browser changes do not matter).
fn canonical(schedules: &[YearSchedule]) -> String {
    schedules.iter().map(YearSchedule::to_text).collect::<Vec<_>>().join("\n")
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn token(version: i64, text: &str) -> String {
    format!("{version}-{}", digest(text))
}

/// `base` with `schedules` merged in (refused as the user's input when one does not fit).
fn merged(base: &WorkCalendar, schedules: &[YearSchedule]) -> AppResult<WorkCalendar> {
    let mut cal = base.clone();
    for s in schedules {
        cal.merge_year(s.clone()).map_err(invalid)?;
    }
    Ok(cal)
}

fn review(old: &WorkCalendar, s: &YearSchedule) -> YearReview {
    YearReview {
        diff: diff_year(old.schedule(s.year()), s),
        shortfalls: statutory_shortfalls(s),
        law: holiday_law(s.year()).map(|l| l.title),
    }
}

fn refused_stale(previewed: i64, now: i64) -> AppError {
    AppError::Refused(format!(
        "节假日安排在预览之后已被修改（预览时为第 {previewed} 版，现为第 {now} 版），请重新预览后再确认导入"
    ))
}

impl App {
    /// Previews an import: per year the diff against the arrangement in force and the
    /// statutory holidays it lacks, and every open clock whose due date it would move.
    /// Nothing is written; the token in the preview confirms exactly this import.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the
    /// lines at fault (`schedule`); [`AppError::Internal`] for database failures.
    pub async fn preview_calendar_import(&self, by: &By<'_>, text: &str) -> AppResult<ImportPreview> {
        crate::require_installation(by.who)?;
        let schedules = parse(text)?;
        // The version first: a calendar imported between the two reads makes the token
        // stale (refused at confirmation), never a preview of the wrong base accepted.
        let version = store::calendar_version(&self.store.read).await?;
        let old = build(store::calendar_years(&self.store.read).await?)?;
        let new = merged(&old, &schedules)?;
        let text = canonical(&schedules);
        let moved = self.clocks_moved_by(&old, &new).await?;
        Ok(ImportPreview {
            version,
            token: token(version, &text),
            years: schedules.iter().map(|s| review(&old, s)).collect(),
            text,
            moved,
        })
    }

    /// The open clocks whose due date `new` would move, read without locking or writing.
    async fn clocks_moved_by(&self, old: &WorkCalendar, new: &WorkCalendar) -> AppResult<Vec<MovedClock>> {
        let today = self.today();
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch = store::open_batch(&self.store.read, after, BATCH).await?;
            let Some(last) = batch.last().map(|r| r.id) else { break };
            for row in batch {
                let Some(ev) = self.would_move(&row, old, new, today)? else { continue };
                let rule_name = self.deadlines.rules.get(&row.rule_id).map(|r| r.name.to_string()).unwrap_or_default();
                out.push(MovedClock {
                    clock_id: row.id,
                    org_id: row.org_id,
                    record_type: row.record_type,
                    record_id: row.record_id,
                    rule_id: row.rule_id,
                    rule_name,
                    from: row.due_date,
                    to: ev.due.map(|d| d.to_string()),
                    problem: ev.problem,
                });
            }
            after = last;
        }
        Ok(out)
    }

    /// Imports one or more years' holiday schedules (the State Council publishes the next
    /// year's around November), as previewed: `confirm.token` must be the token of a
    /// preview of the same schedules against the calendar version still in force. In ONE
    /// transaction: the schedules, the calendar's new version, every open clock whose due
    /// date the new calendar moves with a `clock.recompute` entry in its record's ledger,
    /// and the `calendar.import` entry (with the override reason, when given). A failure
    /// leaves schedule and clocks as they were.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the
    /// lines at fault or the statutory holidays a year lacks (`schedule`), or a missing
    /// override reason (`override_reason`); [`AppError::Refused`] when the token does not
    /// match the schedules or the calendar changed since the preview;
    /// [`AppError::Internal`] for database failures.
    pub async fn import_calendar(
        &self,
        by: &By<'_>,
        text: &str,
        confirm: &ImportConfirm<'_>,
    ) -> AppResult<ImportOutcome> {
        crate::require_installation(by.who)?;
        let schedules = parse(text)?;
        let text = canonical(&schedules);
        let previewed = confirm
            .token
            .split_once('-')
            .filter(|(_, d)| *d == digest(&text))
            .and_then(|(v, _)| v.parse::<i64>().ok())
            .ok_or_else(|| {
                AppError::Refused("确认导入须附上对这份安排预览时得到的确认码；安排文本与预览时不同，请重新预览".into())
            })?;
        let shortfalls: Vec<Shortfall> = schedules.iter().flat_map(statutory_shortfalls).collect();
        let reason = confirm.reason.trim();
        if !shortfalls.is_empty() {
            if !confirm.override_statutory {
                let list: Vec<&str> = shortfalls.iter().map(|s| s.message.as_str()).collect();
                return Err(invalid(format!(
                    "安排不符合《全国年节及纪念日放假办法》：{}。如国务院办公厅的通知确实如此，请勾选“确认偏离法定节假日”并填写理由",
                    list.join("；")
                )));
            }
            if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
                return Err(AppError::Invalid(FieldErrors::single(
                    "override_reason",
                    format!("偏离法定节假日导入时，理由为必填，且不超过 {MAX_REASON_CHARS} 个字"),
                )));
            }
        }
        let (now, today) = (self.now(), self.today());
        let started = std::time::Instant::now();
        let mut tx = self.store.begin().await?;
        // First: waits for every transaction computing a due date, and makes the later wait.
        let version = store::bump_calendar_version(&mut tx).await?;
        if version - 1 != previewed {
            return Err(refused_stale(previewed, version - 1));
        }
        let old = build(store::calendar_years(&mut tx).await?)?;
        let cal = merged(&old, &schedules)?;
        for s in &schedules {
            store::save_calendar_year(&mut tx, i64::from(s.year()), &s.to_text(), Some(by.who.user_id.0), now).await?;
        }
        let moved = self.recompute_open_clocks(&mut tx, &by.actor(), &old, &cal, today).await?;
        let years: Vec<i32> = schedules.iter().map(YearSchedule::year).collect();
        let mut change = serde_json::json!({"years": years, "version": version, "moved_clocks": moved});
        if !shortfalls.is_empty() {
            let missing: Vec<&str> = shortfalls.iter().map(|s| s.message.as_str()).collect();
            change["override"] = serde_json::json!({"reason": reason, "shortfalls": missing});
        }
        let c = Change {
            org: self.installation_org(&mut tx, by.who.org_id).await?,
            record_type: "calendar",
            record_id: "holidays".into(),
            action: "calendar.import",
            change,
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        self.deadlines.calendar.install(Arc::new(cal), version, now);
        if shortfalls.is_empty() {
            tracing::info!(?years, version, moved, secs = started.elapsed().as_secs_f64(), "calendar imported");
        } else {
            tracing::warn!(?years, version, moved, reason, "calendar imported overriding the statutory holidays");
        }
        Ok(ImportOutcome { years, version, moved })
    }

    /// A year's arrangement as in force, where it comes from and the calendar's version.
    /// Any signed-in user may read it: it explains every due date.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when the year has no arrangement; [`AppError::Internal`] for
    /// database failures.
    pub async fn calendar_year(&self, year: i32) -> AppResult<YearArrangement> {
        let version = store::calendar_version(&self.store.read).await?;
        let builtin = WorkCalendar::builtin();
        let (schedule, origin) = match store::calendar_year(&self.store.read, i64::from(year)).await? {
            Some(row) => {
                let schedule = parse_schedules(&row.schedule_text)
                    .map_err(|e| super::internal(format!("stored calendar {year}: {e}")))?
                    .into_iter()
                    .find(|s| s.year() == year)
                    .ok_or(AppError::NotFound("该年度的节假日安排"))?;
                let by = match row.imported_by {
                    Some(id) => user_store::get_user(&self.store.read, UserId(id)).await?.map(|u| u.username),
                    None => None,
                };
                let by = by.unwrap_or_else(|| "本机操作员（命令行）".into());
                (schedule, YearOrigin::Imported { by, at: row.imported_at, replaces_builtin: builtin.has_year(year) })
            }
            None => {
                let s = builtin.schedule(year).cloned().ok_or(AppError::NotFound("该年度的节假日安排"))?;
                (s, YearOrigin::Builtin)
            }
        };
        Ok(YearArrangement {
            shortfalls: statutory_shortfalls(&schedule),
            law: holiday_law(year).map(|l| l.title),
            schedule,
            origin,
            version,
        })
    }

    /// Logs a warning when next year's schedule is missing from 1 November on (at startup
    /// and with every scan); returns the missing year.
    pub fn warn_if_next_year_missing(&self) -> Option<i32> {
        let missing = self.calendar_status().1;
        if let Some(year) = missing {
            tracing::warn!(
                year,
                "no holiday schedule for {year}: deadlines running into {year} cannot be computed; import the State Council notice"
            );
        }
        missing
    }
}
