//! Leader receptions: the schedule (published on the portal at `/jiefang`) and the record of
//! each reception, linked to a petition item.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::receptions::{DayDraft, PublicDay, ReceptionDraft};
use fazhi_app::receptions::{DayRow, ReceptionRow};
use fazhi_domain::FieldErrors;
use fazhi_domain::access::PETITION_HANDLE;

use super::{Chrome, Done, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/receptions", get(page))
        .route("/receptions/days", post(add_day))
        .route("/receptions/records", post(add_record))
        .route("/jiefang", get(public))
}

#[derive(Template)]
#[template(path = "pages/receptions.html")]
struct Page {
    chrome: Chrome,
    upcoming: Vec<DayRow>,
    records: Vec<ReceptionRow>,
    leaders: Vec<(i64, String)>,
    can_handle: bool,
    errors: FieldErrors,
    today: String,
}

async fn build(state: &AppState, s: &SessionInfo, errors: FieldErrors, done: Option<&str>) -> Result<Page, AppError> {
    let today = fazhi_domain::clock::beijing_date(state.app.now());
    let year_ago = today - chrono::Duration::days(366);
    let ahead = today + chrono::Duration::days(120);
    Ok(Page {
        chrome: Chrome::new(s, "领导接访", "/receptions").with_notice(done),
        upcoming: state.app.reception_days(&s.principal, &today.to_string(), &ahead.to_string()).await?,
        records: state.app.receptions(&s.principal, &year_ago.to_string(), &today.to_string(), None).await?,
        leaders: state.app.reception_leaders(&s.principal).await?,
        can_handle: s.principal.has(PETITION_HANDLE),
        errors,
        today: today.to_string(),
    })
}

async fn page(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    render(&build(&state, &s, FieldErrors::new(), d.done.as_deref()).await?)
}

#[derive(Debug, Default, serde::Deserialize)]
struct DayForm {
    #[serde(default)]
    leader_user_id: String,
    #[serde(default)]
    leader_title: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    topic: String,
}

async fn add_day(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<DayForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let d = DayDraft {
        leader_user_id: form_id(&f.leader_user_id),
        leader_title: f.leader_title,
        day: f.day,
        hours: f.hours,
        place: f.place,
        topic: f.topic,
    };
    match state.app.schedule_reception(&by, &d).await {
        Ok(_) => Ok(Redirect::to("/receptions?done=saved").into_response()),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &build(&state, &s, e, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct RecordForm {
    #[serde(default)]
    leader_user_id: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    visitors: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    instruction: String,
    #[serde(default)]
    petition_id: String,
    #[serde(default)]
    register: String,
}

async fn add_record(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<RecordForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let d = ReceptionDraft {
        day_id: None,
        leader_user_id: form_id(&f.leader_user_id),
        received_on: f.received_on,
        visitors: f.visitors,
        phone: f.phone,
        headcount: if f.headcount.trim().is_empty() { Some(1) } else { f.headcount.trim().parse().ok().or(Some(0)) },
        matter: f.matter,
        instruction: f.instruction,
        petition_id: form_id(&f.petition_id),
        register: f.register == "yes",
    };
    match state.app.record_reception(&by, &d).await {
        Ok(_) => Ok(Redirect::to("/receptions?done=saved").into_response()),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &build(&state, &s, e, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/jiefang.html")]
struct PublicPage {
    days: Vec<PublicDay>,
}

async fn public(State(state): State<AppState>) -> PageResult {
    render(&PublicPage { days: state.app.public_reception_days().await? })
}
