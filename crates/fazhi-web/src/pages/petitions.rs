//! Petitions: the desk's intake form (one screen), the list, the item page with its clocks,
//! steps and timeline; and the portal's status lookup by tracking code.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::petitions::{
    Action, IntakeDraft, PetitionerDraft, StepInput, category_label, channel_label, state_label,
};
use fazhi_domain::FieldErrors;
use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::petition::Channel;
use fazhi_store::petitions::{PetitionQuery, PetitionRow};

use super::org::{NodeOption, options};
use super::{Chrome, Done, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, LoginForm, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/petitions", get(list))
        .route("/petitions/new", get(new_page).post(create))
        .route("/petitions/{id}", get(item))
        .route("/petitions/{id}/step", post(step))
        .route("/track", get(track_page).post(track))
        .route("/petition", get(portal_page).post(portal_submit))
}

struct Line {
    id: i64,
    title: String,
    channel: &'static str,
    category: &'static str,
    state: &'static str,
    received_on: String,
    headcount: i64,
}

fn line(p: &PetitionRow) -> Line {
    Line {
        id: p.id,
        title: p.title.clone(),
        channel: channel_label(&p.channel),
        category: category_label(&p.category),
        state: state_label(&p.state),
        received_on: p.received_on.clone(),
        headcount: p.headcount,
    }
}

#[derive(Template)]
#[template(path = "pages/petitions.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<Line>,
    can_handle: bool,
    state: String,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
}

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<ListQuery>) -> PageResult {
    let filter =
        PetitionQuery { state: (!q.state.is_empty()).then(|| q.state.clone()), limit: 200, ..Default::default() };
    let rows = state.app.petitions(&s.principal, &filter).await?;
    render(&ListPage {
        chrome: Chrome::new(&s, "信访件", "/petitions"),
        lines: rows.iter().map(line).collect(),
        can_handle: s.principal.has(PETITION_HANDLE),
        state: q.state,
    })
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct IntakeForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    external_no: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    address: String,
}

impl IntakeForm {
    fn draft(&self) -> IntakeDraft {
        IntakeDraft {
            channel: self.channel.clone(),
            external_no: self.external_no.clone(),
            category: self.category.clone(),
            subject: self.subject.clone(),
            title: self.title.clone(),
            content: self.content.clone(),
            headcount: if self.headcount.trim().is_empty() {
                Some(1)
            } else {
                self.headcount.trim().parse().ok().or(Some(0))
            },
            received_on: self.received_on.clone(),
            org_id: form_id(&self.org_id),
            petitioners: vec![PetitionerDraft {
                name: self.name.clone(),
                phone: self.phone.clone(),
                id_number: self.id_number.clone(),
                address: self.address.clone(),
            }],
        }
    }

    fn channel_is(&self, c: impl AsRef<str>) -> bool {
        self.channel == c.as_ref()
    }

    fn category_is(&self, c: impl AsRef<str>) -> bool {
        self.category == c.as_ref()
    }

    fn org_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.org_id) == Some(*id.borrow())
    }

    fn street_is(&self, id: &i64) -> bool {
        form_id(&self.org_id) == Some(*id)
    }
}

struct Choice {
    code: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "pages/petition_form.html")]
struct FormPage {
    chrome: Chrome,
    form: IntakeForm,
    errors: FieldErrors,
    channels: Vec<Choice>,
    categories: Vec<Choice>,
    orgs: Vec<NodeOption>,
}

async fn form_page(
    state: &AppState,
    s: &SessionInfo,
    form: IntakeForm,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let kinds = state.app.org_kinds().await?;
    let orgs = options(&state.app.org_tree(&s.principal).await?, &kinds);
    Ok(FormPage {
        chrome: Chrome::new(s, "登记信访件", "/petitions"),
        form,
        errors,
        channels: Channel::ALL.iter().map(|c| Choice { code: c.code(), label: c.label() }).collect(),
        categories: vec![
            Choice { code: "claim", label: "申诉求决类" },
            Choice { code: "suggestion", label: "建议意见类" },
            Choice { code: "accusation", label: "检举控告类（转纪检监察）" },
        ],
        orgs,
    })
}

async fn new_page(State(state): State<AppState>, Staff(s): Staff) -> PageResult {
    let form = IntakeForm { channel: "visit".into(), category: "claim".into(), ..Default::default() };
    render(&form_page(&state, &s, form, FieldErrors::new()).await?)
}

#[derive(Template)]
#[template(path = "pages/petition_done.html")]
struct DonePage {
    chrome: Chrome,
    id: i64,
    code: String,
    warnings: Vec<String>,
    duplicates: Vec<(i64, String)>,
}

async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<IntakeForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.intake(&by, &f.draft()).await {
        Ok(i) => render(&DonePage {
            chrome: Chrome::new(&s, "信访件已登记", "/petitions"),
            id: i.id,
            code: i.tracking_code,
            warnings: i.warnings,
            duplicates: i.possible_duplicates,
        }),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&state, &s, f, errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

struct ClockLine {
    name: String,
    citation: String,
    due: String,
    state: String,
    card: String,
    steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/petition.html")]
struct ItemPage {
    chrome: Chrome,
    p: PetitionRow,
    channel: &'static str,
    category: &'static str,
    state: &'static str,
    petitioners: Vec<(String, String)>,
    clocks: Vec<ClockLine>,
    can_handle: bool,
    errors: FieldErrors,
    timeline: Vec<super::ledger::TimelineLine>,
}

async fn item_page(
    state: &AppState,
    s: &SessionInfo,
    id: i64,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<ItemPage, AppError> {
    let (p, clocks) = state.app.petition(&s.principal, id).await?;
    let people: Vec<serde_json::Value> = serde_json::from_str(&p.petitioners_json).unwrap_or_default();
    let petitioners = people
        .iter()
        .map(|v| {
            let name = v["name"].as_str().unwrap_or("").to_owned();
            let phone = v["phone"].as_str().unwrap_or("").to_owned();
            (name, phone)
        })
        .collect();
    let timeline = super::ledger::timeline(state.app.timeline("petition", &id.to_string()).await?);
    Ok(ItemPage {
        chrome: Chrome::new(s, format!("信访件：{}", p.title), "/petitions").with_notice(done),
        channel: channel_label(&p.channel),
        category: category_label(&p.category),
        state: state_label(&p.state),
        petitioners,
        clocks: clocks
            .into_iter()
            .map(|c| ClockLine {
                name: c.clock.rule.name.clone(),
                citation: c.clock.rule.citation.to_string(),
                due: c.row.due_date.clone().unwrap_or_else(|| "无法计算".into()),
                state: match c.row.state.as_str() {
                    "met" => "按期完成".into(),
                    "missed" => "超期".into(),
                    "paused" => "暂停".into(),
                    _ => "计时中".into(),
                },
                card: c.row.card.clone(),
                steps: c.steps,
            })
            .collect(),
        can_handle: s.principal.has(PETITION_HANDLE),
        p,
        errors,
        timeline,
    })
}

async fn item(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(id): Path<i64>,
    Query(d): Query<Done>,
) -> PageResult {
    render(&item_page(&state, &s, id, FieldErrors::new(), d.done.as_deref()).await?)
}

#[derive(Debug, Default, serde::Deserialize)]
struct StepForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    approved: String,
}

fn step_action(f: &StepForm) -> Result<Action, FieldErrors> {
    StepInput {
        action: f.action.clone(),
        date: f.date.clone(),
        reason: f.reason.clone(),
        outcome: f.outcome.clone(),
        legal_basis: f.legal_basis.clone(),
        text: f.text.clone(),
        days: f.days.trim().parse().ok(),
        approved: f.approved == "yes",
    }
    .action()
}

async fn step(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<StepForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let result = match step_action(&f) {
        Ok(a) => state.app.petition_step(&by, id, a).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/petitions/{id}?done=petition_step")).into_response()),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, errors, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/track.html")]
struct TrackPage {
    csrf: String,
    code: String,
    result: Option<fazhi_app::petitions::PublicStatus>,
    error: Option<String>,
}

async fn track_page(State(state): State<AppState>, jar: axum_extra::extract::cookie::CookieJar) -> PageResult {
    let csrf = fazhi_app::secrets::random_hex(16);
    let jar =
        jar.add(crate::session::cookie(crate::session::LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    Ok((jar, render(&TrackPage { csrf, code: String::new(), result: None, error: None })?).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct TrackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn track(State(state): State<AppState>, LoginForm(f): LoginForm<TrackForm>) -> PageResult {
    let (result, error) = match state.app.track(&f.code).await {
        Ok(r) => (Some(r), None),
        Err(AppError::NotFound(_)) => (None, Some("没有找到该查询码对应的信访件，请核对后重试。".to_owned())),
        Err(e) => return Err(e.into()),
    };
    let status = if result.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    render_status(status, &TrackPage { csrf: f.csrf, code: f.code, result, error })
}

#[derive(Template)]
#[template(path = "pages/petition_portal.html")]
struct PortalPage {
    csrf: String,
    streets: Vec<(i64, String)>,
    form: IntakeForm,
    errors: FieldErrors,
    refusal: Option<String>,
    code: Option<String>,
}

async fn portal_page(State(state): State<AppState>, jar: axum_extra::extract::cookie::CookieJar) -> PageResult {
    let csrf = fazhi_app::secrets::random_hex(16);
    let jar =
        jar.add(crate::session::cookie(crate::session::LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    let page = PortalPage {
        csrf,
        streets: state.app.portal_streets().await?,
        form: IntakeForm { category: "claim".into(), ..Default::default() },
        errors: FieldErrors::new(),
        refusal: None,
        code: None,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct PortalForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: IntakeForm,
}

async fn portal_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    LoginForm(f): LoginForm<PortalForm>,
) -> PageResult {
    let streets = state.app.portal_streets().await?;
    let mut page = PortalPage {
        csrf: f.csrf,
        streets,
        form: f.form.clone(),
        errors: FieldErrors::new(),
        refusal: None,
        code: None,
    };
    let status = match state.app.portal_submit(&f.form.draft(), &addr).await {
        Ok(i) => {
            page.code = Some(i.tracking_code);
            page.form = IntakeForm::default();
            StatusCode::OK
        }
        Err(AppError::Invalid(e)) => {
            page.errors = e;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AppError::Refused(m)) => {
            page.refusal = Some(m);
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(e) => return Err(e.into()),
    };
    render_status(status, &page)
}
