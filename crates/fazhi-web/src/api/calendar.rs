//! `/api/v1/calendar`: a year's holiday arrangement, and the import in two steps — a preview
//! (diff per year, missing statutory holidays, the deadlines it would move; nothing written)
//! and the import confirmed with the preview's token.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use fazhi_app::clocks::{ImportConfirm, ImportPreview, YearArrangement, YearOrigin};
use fazhi_domain::calendar::{DayChange, DayMark, ScheduleEntry, SpecialKind};
use utoipa::{OpenApi, ToSchema};

use super::{ApiError, ApiErrorBody, ApiJson, ApiPath, Caller, by};
use crate::AppState;
use crate::session::ClientAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar/preview", post(preview))
        .route("/calendar/import", post(import))
        .route("/calendar/{year}", get(year))
}

/// The OpenAPI part of this router.
#[derive(OpenApi)]
#[openapi(
    paths(preview, import, year),
    components(schemas(
        PreviewIn,
        ImportIn,
        PreviewOut,
        YearReviewOut,
        DayChangeOut,
        MovedOut,
        ImportOut,
        YearOut,
        EntryOut
    ))
)]
pub struct Doc;

/// A schedule to preview, in the import format (`year 2027 出处` / `off 起..止 节日` /
/// `work 日期 节日`, one or more years).
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct PreviewIn {
    pub schedule: String,
}

/// The confirmation of a previewed import.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct ImportIn {
    /// The same schedule as previewed (comments and line endings may differ).
    pub schedule: String,
    /// `token` of the preview: binds the schedule and the calendar version it was compared
    /// with; refused (409) when either changed since.
    pub token: String,
    /// Import a year lacking a statutory holiday of 《全国年节及纪念日放假办法》 anyway.
    #[serde(default)]
    pub override_statutory: bool,
    /// Required with `override_statutory`: why (recorded in the ledger), at most 500 characters.
    #[serde(default)]
    pub reason: String,
}

/// A run of consecutive days that change the same way.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct DayChangeOut {
    pub first: String,
    pub last: String,
    pub days: i64,
    /// `off` (放假), `work` (调休上班) or null (an ordinary day) now.
    pub before_kind: Option<String>,
    pub before_label: Option<String>,
    /// The same under the candidate.
    pub after_kind: Option<String>,
    pub after_label: Option<String>,
}

fn kind_code(k: SpecialKind) -> String {
    match k {
        SpecialKind::Off => "off",
        SpecialKind::Work => "work",
    }
    .to_owned()
}

fn change_out(c: &DayChange) -> DayChangeOut {
    let (bk, bl) = mark(c.before.as_ref());
    let (ak, al) = mark(c.after.as_ref());
    DayChangeOut {
        first: c.first.to_string(),
        last: c.last.to_string(),
        days: c.days(),
        before_kind: bk,
        before_label: bl,
        after_kind: ak,
        after_label: al,
    }
}

fn mark(m: Option<&DayMark>) -> (Option<String>, Option<String>) {
    (m.map(|m| kind_code(m.kind)), m.map(|m| m.label.clone()))
}

/// One year of a preview.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct YearReviewOut {
    pub year: i32,
    /// Whether the year has an arrangement now (the import replaces it whole).
    pub existed: bool,
    pub source_before: Option<String>,
    pub source_after: String,
    pub new_holidays: Vec<DayChangeOut>,
    pub new_workdays: Vec<DayChangeOut>,
    pub removed_holidays: Vec<DayChangeOut>,
    pub removed_workdays: Vec<DayChangeOut>,
    /// Festivals with days off now and none in the candidate.
    pub vanished_festivals: Vec<String>,
    /// Chinese messages naming each statutory holiday the candidate lacks, with the article.
    pub shortfalls: Vec<String>,
    /// The revision of the 办法 checked against.
    pub law: Option<String>,
}

/// An open clock whose due date the import would move.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct MovedOut {
    pub clock_id: i64,
    pub org_id: i64,
    pub record_type: String,
    pub record_id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// Due date now (null: cannot be computed now).
    pub from: Option<String>,
    /// Due date after the import (null: cannot be computed, see `problem`).
    pub to: Option<String>,
    pub problem: String,
}

/// A previewed import: nothing was written.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PreviewOut {
    /// Pass to `POST /api/v1/calendar/import` to confirm exactly this import.
    pub token: String,
    /// The calendar version compared with.
    pub version: i64,
    /// False when a year lacks a statutory holiday: the import needs `override_statutory`
    /// and a `reason`.
    pub complete: bool,
    pub years: Vec<YearReviewOut>,
    pub moved_total: usize,
    pub moved: Vec<MovedOut>,
}

impl From<ImportPreview> for PreviewOut {
    fn from(p: ImportPreview) -> Self {
        let complete = p.complete();
        PreviewOut {
            token: p.token,
            version: p.version,
            complete,
            years: p
                .years
                .into_iter()
                .map(|y| {
                    let d = y.diff;
                    YearReviewOut {
                        year: d.year,
                        existed: d.existed,
                        new_holidays: d.new_holidays.iter().map(change_out).collect(),
                        new_workdays: d.new_workdays.iter().map(change_out).collect(),
                        removed_holidays: d.removed_holidays.iter().map(change_out).collect(),
                        removed_workdays: d.removed_workdays.iter().map(change_out).collect(),
                        source_before: d.source_before,
                        source_after: d.source_after,
                        vanished_festivals: d.vanished_festivals,
                        shortfalls: y.shortfalls.into_iter().map(|s| s.message).collect(),
                        law: y.law.map(str::to_owned),
                    }
                })
                .collect(),
            moved_total: p.moved.len(),
            moved: p
                .moved
                .into_iter()
                .map(|m| MovedOut {
                    clock_id: m.clock_id,
                    org_id: m.org_id,
                    record_type: m.record_type,
                    record_id: m.record_id,
                    rule_id: m.rule_id,
                    rule_name: m.rule_name,
                    from: m.from,
                    to: m.to,
                    problem: m.problem,
                })
                .collect(),
        }
    }
}

/// What an import did.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ImportOut {
    pub years: Vec<i32>,
    /// The calendar's version after the import.
    pub version: i64,
    /// Open clocks whose due date moved (each recorded in its record's ledger).
    pub moved: usize,
}

/// One line of a year's arrangement.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct EntryOut {
    /// `off` (放假) or `work` (调休上班).
    pub kind: String,
    pub first: String,
    pub last: String,
    pub label: String,
}

fn entry_out(e: &ScheduleEntry) -> EntryOut {
    EntryOut { kind: kind_code(e.kind), first: e.first.to_string(), last: e.last.to_string(), label: e.label.clone() }
}

/// A year's arrangement as in force.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct YearOut {
    pub year: i32,
    /// The notice, as written on the schedule's `year` line.
    pub source: String,
    /// `builtin` or `imported`.
    pub origin: String,
    /// Who imported it (username), when imported.
    pub imported_by: Option<String>,
    /// When (unix milliseconds), when imported.
    pub imported_at: Option<i64>,
    /// Whether the import replaced the program's built-in arrangement of the year.
    pub replaces_builtin: bool,
    /// The calendar's version.
    pub version: i64,
    pub entries: Vec<EntryOut>,
    /// Statutory holidays the arrangement lacks (imported with the override).
    pub shortfalls: Vec<String>,
    pub law: Option<String>,
}

impl From<YearArrangement> for YearOut {
    fn from(y: YearArrangement) -> Self {
        let (origin, imported_by, imported_at, replaces_builtin) = match y.origin {
            YearOrigin::Builtin => ("builtin", None, None, false),
            YearOrigin::Imported { by, at, replaces_builtin } => ("imported", Some(by), Some(at), replaces_builtin),
        };
        YearOut {
            year: y.schedule.year(),
            source: y.schedule.source().to_owned(),
            origin: origin.to_owned(),
            imported_by,
            imported_at,
            replaces_builtin,
            version: y.version,
            entries: y.schedule.entries().iter().map(entry_out).collect(),
            shortfalls: y.shortfalls.into_iter().map(|s| s.message).collect(),
            law: y.law.map(str::to_owned),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/calendar/preview", tag = "calendar", request_body = PreviewIn,
    responses((status = 200, body = PreviewOut, description = "nothing written"), (status = 403, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody, description = "the lines at fault (field schedule)")))]
async fn preview(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<PreviewIn>,
) -> Result<Json<PreviewOut>, ApiError> {
    Ok(Json(state.app.preview_calendar_import(&by(&c, &addr), &body.schedule).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "calendar", request_body = ImportIn,
    responses((status = 200, body = ImportOut), (status = 403, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "token does not match the schedule, or the calendar changed since the preview: preview again"),
        (status = 422, body = ApiErrorBody, description = "a statutory holiday missing without override (field schedule), or override without reason (field override_reason)")))]
async fn import(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<ImportIn>,
) -> Result<Json<ImportOut>, ApiError> {
    let confirm =
        ImportConfirm { token: &body.token, override_statutory: body.override_statutory, reason: &body.reason };
    let out = state.app.import_calendar(&by(&c, &addr), &body.schedule, &confirm).await?;
    Ok(Json(ImportOut { years: out.years, version: out.version, moved: out.moved }))
}

#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar", params(("year" = i32, Path, description = "the year")),
    responses((status = 200, body = YearOut), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
async fn year(
    State(state): State<AppState>,
    _c: Caller,
    ApiPath(year): ApiPath<i32>,
) -> Result<Json<YearOut>, ApiError> {
    Ok(Json(state.app.calendar_year(year).await?.into()))
}
