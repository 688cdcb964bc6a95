//! The holiday calendar: the years known, a year's arrangement, and the import in two steps
//! (the text is previewed — diff per year, missing statutory holidays, the deadlines it
//! would move — then confirmed with the preview's token).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::clocks::{ImportConfirm, ImportPreview, YearOrigin};
use fazhi_app::org::By;
use fazhi_domain::FieldErrors;
use fazhi_domain::access::SETTINGS_MANAGE;
use fazhi_domain::calendar::{DayChange, SpecialKind, weekday_zh};

use super::{Chrome, Done, PageResult, beijing, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

/// Moved deadlines listed on the preview page; the count covers all of them.
const MOVED_SHOWN: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(calendar).post(preview))
        .route("/calendar/confirm", post(confirm))
        .route("/calendar/{year}", get(year))
}

#[derive(Template)]
#[template(path = "pages/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    years: Vec<i32>,
    missing: Option<i32>,
    /// The viewer can import (installation reach): the form is shown.
    can_import: bool,
    schedule: String,
    errors: FieldErrors,
}

fn calendar_page(
    state: &AppState,
    s: &SessionInfo,
    schedule: String,
    errors: FieldErrors,
    done: Option<&str>,
) -> CalendarPage {
    let (years, missing) = state.app.calendar_status();
    // The warning and the import form are for whoever can import (installation reach).
    let can_import = fazhi_domain::access::require_installation(&s.principal).is_ok();
    let missing = missing.filter(|_| can_import);
    CalendarPage {
        chrome: Chrome::new(s, "节假日日历", "/calendar").with_notice(done),
        years,
        missing,
        can_import,
        schedule,
        errors,
    }
}

fn forbid_unless_manager(s: &SessionInfo) -> Result<(), AppError> {
    if s.principal.has(SETTINGS_MANAGE) {
        Ok(())
    } else {
        Err(AppError::Forbidden(fazhi_domain::access::DenyReason::NoPermission(SETTINGS_MANAGE)))
    }
}

async fn calendar(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    forbid_unless_manager(&s)?;
    state.app.refresh_calendar().await?;
    render(&calendar_page(&state, &s, String::new(), FieldErrors::new(), d.done.as_deref()))
}

/// One year of the preview, in words.
struct YearBlock {
    year: i32,
    heading: String,
    unchanged: bool,
    groups: Vec<(&'static str, Vec<String>)>,
    vanished: Vec<String>,
    shortfalls: Vec<String>,
    law: String,
}

struct MovedLine {
    record: String,
    href: String,
    rule: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "pages/calendar_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    /// Why the page is shown again (a refused confirmation), if it is.
    problem: String,
    years: Vec<YearBlock>,
    moved: Vec<MovedLine>,
    moved_total: usize,
    moved_hidden: usize,
    complete: bool,
    text: String,
    token: String,
    version: i64,
    reason: String,
    /// The override box as the user left it.
    override_checked: bool,
    errors: FieldErrors,
}

fn day(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{d}（{}）", weekday_zh(d.weekday()))
}

fn change_line(c: &DayChange) -> String {
    let range = if c.first == c.last { day(c.first) } else { format!("{} 至 {}", day(c.first), day(c.last)) };
    let mark = |m: &Option<fazhi_domain::calendar::DayMark>| match m {
        Some(m) => format!("{}（{}）", m.kind.label_zh(), m.label),
        None => "普通工作日或周末".to_owned(),
    };
    format!("{range}，共 {} 天：原为{}，导入后为{}", c.days(), mark(&c.before), mark(&c.after))
}

fn year_block(y: &fazhi_app::clocks::YearReview) -> YearBlock {
    let d = &y.diff;
    let heading = match &d.source_before {
        Some(src) => {
            format!("{} 年：替换现有安排（现有出处：{}；新出处：{}）", d.year, or_dash(src), or_dash(&d.source_after))
        }
        None => format!("{} 年：新增年度（出处：{}）", d.year, or_dash(&d.source_after)),
    };
    let lines = |v: &[DayChange]| v.iter().map(change_line).collect::<Vec<_>>();
    let groups = vec![
        ("新增的放假日", lines(&d.new_holidays)),
        ("新增的调休上班日", lines(&d.new_workdays)),
        ("取消的放假日（恢复为工作日或周末）", lines(&d.removed_holidays)),
        ("取消的调休上班日（恢复为周末）", lines(&d.removed_workdays)),
    ]
    .into_iter()
    .filter(|(_, l)| !l.is_empty())
    .collect();
    YearBlock {
        year: d.year,
        heading,
        unchanged: d.existed && d.is_unchanged(),
        groups,
        vanished: d.vanished_festivals.clone(),
        shortfalls: y.shortfalls.iter().map(|s| s.message.clone()).collect(),
        law: y.law.unwrap_or("（本程序未收录该年度适用的版本）").to_owned(),
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "未注明" } else { s }
}

fn record_label(record_type: &str, record_id: &str) -> String {
    match fazhi_domain::record::kind(record_type) {
        Some(k) => format!("{} {}", k.label, record_id),
        None => format!("{record_type} {record_id}"),
    }
}

/// What the user typed in the confirmation form, shown again when it is refused.
#[derive(Default)]
struct Typed {
    reason: String,
    override_checked: bool,
}

fn preview_page(s: &SessionInfo, p: &ImportPreview, problem: String, typed: Typed, errors: FieldErrors) -> PreviewPage {
    let moved = p
        .moved
        .iter()
        .take(MOVED_SHOWN)
        .map(|m| MovedLine {
            record: record_label(&m.record_type, &m.record_id),
            href: crate::module::href_of(&m.record_type, &m.record_id).unwrap_or_default(),
            rule: m.rule_name.clone(),
            from: m.from.clone().unwrap_or_else(|| "无法计算".into()),
            to: m.to.clone().unwrap_or_else(|| format!("无法计算：{}", m.problem)),
        })
        .collect();
    PreviewPage {
        chrome: Chrome::new(s, "核对节假日安排", "/calendar"),
        problem,
        years: p.years.iter().map(year_block).collect(),
        moved,
        moved_total: p.moved.len(),
        moved_hidden: p.moved.len().saturating_sub(MOVED_SHOWN),
        complete: p.complete(),
        text: p.text.clone(),
        token: p.token.clone(),
        version: p.version,
        reason: typed.reason,
        override_checked: typed.override_checked,
        errors,
    }
}

#[derive(Debug, serde::Deserialize)]
struct ImportForm {
    #[serde(default)]
    schedule: String,
}

/// Step one: the text is checked and compared, nothing is written.
async fn preview(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<ImportForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.preview_calendar_import(&by, &f.schedule).await {
        Ok(p) => render(&preview_page(&s, &p, String::new(), Typed::default(), FieldErrors::new())),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &calendar_page(&state, &s, f.schedule, errors, None))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    schedule: String,
    #[serde(default)]
    token: String,
    /// The checkbox "确认偏离法定节假日" (absent when unchecked).
    #[serde(default)]
    override_statutory: Option<String>,
    #[serde(default)]
    reason: String,
}

/// Step two: the previewed text with its token; a stale or refused confirmation shows the
/// preview again, computed afresh.
async fn confirm(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let c = ImportConfirm { token: &f.token, override_statutory: f.override_statutory.is_some(), reason: &f.reason };
    let (problem, errors) = match state.app.import_calendar(&by, &f.schedule, &c).await {
        Ok(_) => return Ok(Redirect::to("/calendar?done=calendar_imported").into_response()),
        Err(AppError::Refused(m)) => (format!("{m}。下面是按当前日历重新生成的预览。"), FieldErrors::new()),
        Err(AppError::Invalid(errors)) => (String::new(), errors),
        Err(e) => return Err(e.into()),
    };
    let p = match state.app.preview_calendar_import(&by, &f.schedule).await {
        Ok(p) => p,
        Err(AppError::Invalid(errors)) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &calendar_page(&state, &s, f.schedule, errors, None),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let status = if errors.is_empty() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    let typed = Typed { override_checked: f.override_statutory.is_some(), reason: f.reason };
    render_status(status, &preview_page(&s, &p, problem, typed, errors))
}

struct EntryLine {
    kind: &'static str,
    off: bool,
    dates: String,
    days: i64,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/calendar_year.html")]
struct YearPage {
    chrome: Chrome,
    year: i32,
    source: String,
    origin: String,
    version: i64,
    law: String,
    entries: Vec<EntryLine>,
    shortfalls: Vec<String>,
    can_import: bool,
}

/// A year's arrangement as in force: every signed-in user may read it (it explains dates).
async fn year(State(state): State<AppState>, Staff(s): Staff, PagePath(year): PagePath<i32>) -> PageResult {
    let y = state.app.calendar_year(year).await?;
    let origin = match &y.origin {
        YearOrigin::Builtin => "程序内置（国务院办公厅通知，见 DOMAIN.md §10）".to_owned(),
        YearOrigin::Imported { by, at, replaces_builtin } => {
            format!("由 {by} 于 {} 导入{}", beijing(*at), if *replaces_builtin { "，替代了程序内置的安排" } else { "" })
        }
    };
    let entries = y
        .schedule
        .entries()
        .iter()
        .map(|e| EntryLine {
            kind: e.kind.label_zh(),
            off: e.kind == SpecialKind::Off,
            dates: if e.first == e.last { day(e.first) } else { format!("{} 至 {}", day(e.first), day(e.last)) },
            days: (e.last - e.first).num_days() + 1,
            label: e.label.clone(),
        })
        .collect();
    render(&YearPage {
        chrome: Chrome::new(&s, format!("{year} 年节假日安排"), "/calendar"),
        year,
        source: or_dash(y.schedule.source()).to_owned(),
        origin,
        version: y.version,
        law: y.law.unwrap_or("（本程序未收录该年度适用的版本）").to_owned(),
        entries,
        shortfalls: y.shortfalls.iter().map(|s| s.message.clone()).collect(),
        can_import: fazhi_domain::access::require_installation(&s.principal).is_ok(),
    })
}
