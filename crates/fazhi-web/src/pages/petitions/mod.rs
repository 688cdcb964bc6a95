//! Petitions: the desk's intake form (one screen), the list, the item page with its clocks,
//! steps and timeline; and the portal's status lookup by tracking code.

mod indicators;
mod intake;
mod item;
mod list;
mod opinion;
mod public;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft, ReviewDraft, StepInput, outcome_label, satisfaction_label};
use fazhi_app::petitions::{PetitionQuery, PetitionRow};
use fazhi_domain::FieldErrors;
use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::petition::{Channel, State as PState};

use super::org::{NodeOption, options};
use super::{Chrome, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, LoginForm, PagePath, Staff};
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/petitions", get(list::list))
        .route("/petitions/new", get(intake::new_page).post(intake::create))
        .route("/petitions/{id}", get(item::item))
        .route("/petitions/{id}/registered", get(intake::registered))
        .route("/petitions/{id}/step", post(item::step))
        .route("/petitions/{id}/review", post(item::review))
        .route("/petitions/{id}/opinion", get(opinion::opinion_page))
        .route("/petitions/{id}/opinion.docx", get(opinion::opinion_docx))
        .route("/petitions/indicators", get(indicators::indicators))
        .route("/petitions/indicators/{code}", get(indicators::indicator_items))
        .route("/track", get(public::track_page).post(public::track))
        .route("/petition", get(public::portal_page).post(public::portal_submit))
        .route("/petition/submitted", get(public::portal_submitted))
}

#[derive(Clone)]
pub(crate) struct Line {
    id: i64,
    title: String,
    channel: &'static str,
    category: &'static str,
    state: &'static str,
    stage: &'static str,
    received_on: String,
    headcount: i64,
    collective: bool,
    lead: bool,
    supervised: i64,
}

pub(crate) fn line(p: &PetitionRow) -> Line {
    Line {
        id: p.id,
        title: p.title.clone(),
        channel: p.channel.label(),
        category: p.category.label(),
        state: p.state.label(),
        stage: if p.stage == fazhi_domain::petition::Stage::First { "" } else { p.stage.label() },
        received_on: p.received_on.clone(),
        headcount: p.headcount,
        collective: p.collective != 0,
        lead: p.lead_user_id.is_some(),
        supervised: p.supervised_count,
    }
}

/// A code and its label, for option lists.
pub(crate) struct Choice {
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
}
