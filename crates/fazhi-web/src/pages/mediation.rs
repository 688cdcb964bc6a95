//! People's mediation: committees and mediators, the case list, registering a dispute, and
//! the case page with consent, sessions, agreement or failure, 司法确认 and performance.
//! Staff only: mediation records are never published.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::mediation::CaseQuery;
use fazhi_app::mediation::{CaseDraft, CaseStepInput, CaseView, PartyDraft};
use fazhi_app::org::By;
use fazhi_domain::FieldErrors;
use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::mediation::{DISPUTE_TYPES, MediationState};

use super::{Chrome, Done, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mediations", get(list))
        .route("/mediations/committees", post(add_committee))
        .route("/mediations/committees/{id}/mediators", post(add_mediator))
        .route("/mediations/new", get(new_page).post(create))
        .route("/mediations/{id}", get(item))
        .route("/mediations/{id}/step", post(step))
}

struct CaseLine {
    id: i64,
    case_no: String,
    dispute_type: String,
    summary: String,
    received_on: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "pages/mediations.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<CaseLine>,
    committees: Vec<(i64, String, Vec<String>)>,
    can_handle: bool,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
}

async fn list_page(state: &AppState, s: &SessionInfo, q: ListQuery, errors: FieldErrors) -> Result<ListPage, AppError> {
    let cq = CaseQuery { state: (!q.state.is_empty()).then(|| q.state.clone()), limit: 300, ..Default::default() };
    let rows = state.app.mediations(&s.principal, &cq).await?;
    let committees = state.app.committees(&s.principal).await?;
    Ok(ListPage {
        chrome: Chrome::new(s, "人民调解", "/mediations"),
        lines: rows
            .into_iter()
            .map(|c| CaseLine {
                id: c.id,
                case_no: c.case_no,
                dispute_type: c.dispute_type,
                summary: c.summary.chars().take(40).collect(),
                received_on: c.received_on,
                state: c.state.label(),
            })
            .collect(),
        committees: committees
            .into_iter()
            .map(|(c, ms)| (c.id, c.name, ms.into_iter().map(|m| m.name).collect()))
            .collect(),
        can_handle: s.principal.has(PETITION_HANDLE),
        state: q.state,
        states: MediationState::ALL.iter().map(|s| (s.code(), s.label())).collect(),
        errors,
    })
}

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<ListQuery>) -> PageResult {
    render(&list_page(&state, &s, q, FieldErrors::new()).await?)
}

#[derive(Debug, Default, serde::Deserialize)]
struct CommitteeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

async fn add_committee(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<CommitteeForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    // A committee is a street-level register: it is set up at the user's street.
    let org = s.principal.gov.unwrap_or(s.principal.org_id);
    match state.app.create_committee(&by, org, &f.name).await {
        Ok(_) => Ok(Redirect::to("/mediations?done=saved").into_response()),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &list_page(&state, &s, ListQuery::default(), e).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn add_mediator(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<CommitteeForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.add_mediator(&by, id, &f.name, &f.phone).await {
        Ok(_) => Ok(Redirect::to("/mediations?done=saved").into_response()),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &list_page(&state, &s, ListQuery::default(), e).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct CaseForm {
    #[serde(default)]
    committee_id: String,
    #[serde(default)]
    mediator_id: String,
    #[serde(default)]
    petition_id: String,
    #[serde(default)]
    dispute_type: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    applicant: String,
    #[serde(default)]
    applicant_phone: String,
    #[serde(default)]
    respondent: String,
    #[serde(default)]
    respondent_phone: String,
}

impl CaseForm {
    fn is_type(&self, t: impl AsRef<str>) -> bool {
        self.dispute_type == t.as_ref()
    }
}

/// A committee with its mediators, as (id, name) pairs.
type CommitteeChoice = (i64, String, Vec<(i64, String)>);

#[derive(Template)]
#[template(path = "pages/mediation_form.html")]
struct FormPage {
    chrome: Chrome,
    form: CaseForm,
    errors: FieldErrors,
    committees: Vec<CommitteeChoice>,
    types: &'static [&'static str],
}

async fn form_page(
    state: &AppState,
    s: &SessionInfo,
    form: CaseForm,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let committees = state
        .app
        .committees(&s.principal)
        .await?
        .into_iter()
        .map(|(c, ms)| (c.id, c.name, ms.into_iter().map(|m| (m.id, m.name)).collect()))
        .collect();
    Ok(FormPage {
        chrome: Chrome::new(s, "登记矛盾纠纷", "/mediations"),
        form,
        errors,
        committees,
        types: DISPUTE_TYPES,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
struct NewQuery {
    #[serde(default)]
    petition: String,
}

async fn new_page(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<NewQuery>) -> PageResult {
    let form = CaseForm { petition_id: q.petition, ..Default::default() };
    render(&form_page(&state, &s, form, FieldErrors::new()).await?)
}

async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<CaseForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let d = CaseDraft {
        committee_id: form_id(&f.committee_id),
        mediator_id: form_id(&f.mediator_id),
        petition_id: form_id(&f.petition_id),
        dispute_type: f.dispute_type.clone(),
        summary: f.summary.clone(),
        received_on: f.received_on.clone(),
        parties: vec![
            PartyDraft { name: f.applicant.clone(), phone: f.applicant_phone.clone(), side: "applicant".into() },
            PartyDraft { name: f.respondent.clone(), phone: f.respondent_phone.clone(), side: "respondent".into() },
        ],
    };
    match state.app.register_mediation(&by, &d).await {
        Ok(id) => Ok(Redirect::to(&format!("/mediations/{id}?done=saved")).into_response()),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&state, &s, f, e).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/mediation.html")]
struct ItemPage {
    chrome: Chrome,
    v: CaseView,
    state: &'static str,
    errors: FieldErrors,
    /// The refused step form, sent back open with what was typed.
    echo: super::echo::Echo,
    today: String,
    timeline: Vec<super::ledger::TimelineLine>,
    /// Codes of the steps the workflow offers the reader now: the only forms shown.
    offered: Vec<&'static str>,
    mediators: Vec<(i64, String)>,
    forms: Vec<(&'static str, &'static str)>,
    performed: Vec<(&'static str, &'static str)>,
    /// The case's page, where its step forms post (`{base}/step`).
    base: String,
    attachments: Vec<fazhi_app::attachments::AttachmentRow>,
    can_attach: bool,
    attach_url: String,
}

impl ItemPage {
    fn offers(&self, step: &str) -> bool {
        self.offered.contains(&step)
    }

    fn mediator_name(&self, id: &Option<i64>) -> String {
        id.and_then(|id| self.v.mediators.iter().find(|m| m.id == id)).map(|m| m.name.clone()).unwrap_or_default()
    }
}

async fn item_page(
    state: &AppState,
    s: &SessionInfo,
    id: i64,
    echo: super::echo::Echo,
    done: Option<&str>,
) -> Result<ItemPage, AppError> {
    let v = state.app.mediation(&s.principal, id).await?;
    let errors = echo.all().clone();
    let key = fazhi_domain::record::RecordKey::new(&fazhi_domain::record::MEDIATION, id);
    let timeline = super::ledger::timeline(state.app.timeline(&s.principal, key).await?);
    Ok(ItemPage {
        chrome: Chrome::new(s, format!("人民调解 {}", v.case.case_no), "/mediations").with_notice(done),
        state: v.case.state.label(),
        offered: v.offered.iter().map(|s| s.code()).collect(),
        mediators: v.mediators.iter().map(|m| (m.id, m.name.clone())).collect(),
        forms: fazhi_domain::mediation::AgreementForm::ALL.iter().map(|f| (f.code(), f.label())).collect(),
        performed: vec![("yes", "已履行"), ("no", "未履行")],
        base: format!("/mediations/{id}"),
        attachments: v.attachments.clone(),
        can_attach: s.principal.has(PETITION_HANDLE),
        attach_url: format!("/records/mediation/{id}/attachments"),
        errors,
        echo,
        today: fazhi_domain::clock::beijing_date(state.app.now()).to_string(),
        timeline,
        v,
    })
}

async fn item(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    Query(d): Query<Done>,
) -> PageResult {
    render(&item_page(&state, &s, id, super::echo::Echo::none(), d.done.as_deref()).await?)
}

async fn step(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(input): CsrfForm<CaseStepInput>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let result = match input.event() {
        Ok(e) => state.app.mediation_step(&by, id, e).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/mediations/{id}?done=mediation_step")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let echo = super::echo::Echo::new(&input.action, &input, errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, echo, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}
