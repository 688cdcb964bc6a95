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
    IntakeDraft, PetitionerDraft, ReviewDraft, StepInput, category_label, channel_label, outcome_label,
    satisfaction_label, stage_label, state_label,
};
use fazhi_domain::FieldErrors;
use fazhi_domain::access::PETITION_HANDLE;
use fazhi_domain::petition::{Channel, State as PState};
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
        .route("/petitions/{id}/review", post(review))
        .route("/petitions/{id}/opinion", get(opinion_page))
        .route("/petitions/{id}/opinion.docx", get(opinion_docx))
        .route("/petitions/indicators", get(indicators))
        .route("/petitions/indicators/{code}", get(indicator_items))
        .route("/track", get(track_page).post(track))
        .route("/petition", get(portal_page).post(portal_submit))
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
        channel: channel_label(&p.channel),
        category: category_label(&p.category),
        state: state_label(&p.state),
        stage: if p.stage == "first" { "" } else { stage_label(&p.stage) },
        received_on: p.received_on.clone(),
        headcount: p.headcount,
        collective: p.collective != 0,
        lead: p.lead_user_id.is_some(),
        supervised: p.supervised_count,
    }
}

#[derive(Template)]
#[template(path = "pages/petitions.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<Line>,
    total: i64,
    can_handle: bool,
    q: ListQuery,
    states: Vec<Choice>,
    channels: Vec<Choice>,
    communities: Vec<(i64, String)>,
    backlog_days: u32,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    community: String,
    /// "1": only items with a 红牌 clock.
    #[serde(default)]
    overdue: String,
    /// "any": items a leader owns; "mine": items I own.
    #[serde(default)]
    lead: String,
    /// "1": 积案 only.
    #[serde(default)]
    backlog: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    fn is(&self, field: &str, v: impl AsRef<str>) -> bool {
        let cur = match field {
            "state" => &self.state,
            "channel" => &self.channel,
            "category" => &self.category,
            "lead" => &self.lead,
            _ => &self.community,
        };
        cur == v.as_ref()
    }

    fn community_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.community) == Some(*id.borrow())
    }

    fn link(&self, page: i64) -> String {
        let pairs = [
            ("state", &self.state),
            ("channel", &self.channel),
            ("category", &self.category),
            ("community", &self.community),
            ("overdue", &self.overdue),
            ("lead", &self.lead),
            ("backlog", &self.backlog),
        ];
        let mut out: Vec<String> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        out.push(format!("page={page}"));
        format!("/petitions?{}", out.join("&"))
    }
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rows per list page (the issue-6 benchmark measures this page: 20 rows, default filters).
const PAGE: i64 = 20;

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<ListQuery>) -> PageResult {
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let page = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let tree = state.app.assign_targets(&s.principal).await?;
    let communities: Vec<(i64, String)> =
        tree.iter().filter(|n| n.kind == "community" || n.kind == "village").map(|n| (n.id, n.name.clone())).collect();
    let community_path = match form_id(&q.community) {
        Some(id) => tree.iter().find(|n| n.id == id).map(|n| n.org_path().subtree_range()),
        None => None,
    };
    let filter = PetitionQuery {
        state: opt(&q.state),
        channel: opt(&q.channel),
        category: opt(&q.category),
        community_path,
        overdue: q.overdue == "1",
        lead: match q.lead.as_str() {
            "any" => Some(None),
            "mine" => Some(Some(s.principal.user_id.0)),
            _ => None,
        },
        backlog_before: (q.backlog == "1").then(|| state.app.backlog_cutoff().to_string()),
        limit: PAGE,
        offset: (page - 1) * PAGE,
        ..Default::default()
    };
    let rows = state.app.petitions(&s.principal, &filter).await?;
    let total = state.app.count_petitions(&s.principal, &filter).await?;
    render(&ListPage {
        chrome: Chrome::new(&s, "信访件", "/petitions"),
        lines: rows.iter().map(line).collect(),
        total,
        can_handle: s.principal.has(PETITION_HANDLE),
        states: PState::ALL.iter().map(|x| Choice { code: x.code(), label: x.label() }).collect(),
        channels: Channel::ALL.iter().map(|c| Choice { code: c.code(), label: c.label() }).collect(),
        communities,
        backlog_days: state.app.petition_backlog_days,
        prev: (page > 1).then(|| q.link(page - 1)),
        next: (page * PAGE < total).then(|| q.link(page + 1)),
        q,
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
    #[serde(default)]
    collective: String,
    #[serde(default)]
    accepted_elsewhere: String,
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
            collective: self.collective == "yes",
            accepted_elsewhere: self.accepted_elsewhere.clone(),
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
    stage: &'static str,
    satisfaction: &'static str,
    petitioners: Vec<(String, String)>,
    clocks: Vec<ClockLine>,
    can_handle: bool,
    errors: FieldErrors,
    timeline: Vec<super::ledger::TimelineLine>,
    /// (kind label, from, to, reason, when)
    transfers: Vec<(&'static str, String, String, String, String)>,
    rounds: Vec<Line>,
    parent: Option<Line>,
    handler: String,
    lead: String,
    assign_to: Vec<(i64, String)>,
    transfer_to: Vec<(i64, String)>,
    leaders: Vec<(i64, String)>,
    receptions: Vec<(String, String, String)>,
    mediations: Vec<(i64, String, &'static str)>,
    today: String,
    /// Codes of the steps the workflow offers this user now: the only forms shown.
    offered: Vec<&'static str>,
    /// A 复查/复核 request can be registered (a served first or review round).
    review_open: bool,
    outcome: &'static str,
    outcomes: Vec<(&'static str, &'static str)>,
    satisfactions: Vec<(&'static str, &'static str)>,
}

impl ItemPage {
    fn offers(&self, step: &str) -> bool {
        self.offered.contains(&step)
    }
}

async fn item_page(
    state: &AppState,
    s: &SessionInfo,
    id: i64,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<ItemPage, AppError> {
    let app = &state.app;
    let (p, clocks) = app.petition(&s.principal, id).await?;
    let people: Vec<serde_json::Value> = serde_json::from_str(&p.petitioners_json).unwrap_or_default();
    let petitioners = people
        .iter()
        .map(|v| {
            let name = v["name"].as_str().unwrap_or("").to_owned();
            let phone = v["phone"].as_str().unwrap_or("").to_owned();
            (name, phone)
        })
        .collect();
    let key = fazhi_domain::record::RecordKey::new(&fazhi_domain::record::PETITION, id);
    let timeline = super::ledger::timeline(app.timeline(&s.principal, key).await?);
    let offered = app.petition_offered(&s.principal, &p).await?.into_iter().map(|st| st.code()).collect();
    let (transfers, children, parent) = app.petition_links(&s.principal, &p).await?;
    let assign_to: Vec<(i64, String)> =
        app.assign_targets(&s.principal).await?.into_iter().map(|n| (n.id, n.name)).collect();
    let transfer_to: Vec<(i64, String)> =
        app.transfer_targets(&s.principal).await?.into_iter().map(|n| (n.id, n.name)).collect();
    let all_nodes: Vec<(i64, String)> = assign_to.iter().chain(transfer_to.iter()).cloned().collect();
    let name_of = |id: i64| {
        all_nodes.iter().find(|(n, _)| *n == id).map(|(_, name)| name.clone()).unwrap_or_else(|| format!("机构 {id}"))
    };
    let leaders = app.reception_leaders(&s.principal).await?;
    let receptions = app
        .receptions(&s.principal, "0000-01-01", "9999-12-31", Some(id)) // every reception of the item
        .await?
        .into_iter()
        .map(|r| (r.received_on, r.leader_name, r.instruction))
        .collect();
    let mediations = app
        .mediations(
            &s.principal,
            &fazhi_store::mediation::CaseQuery { petition_id: Some(id), limit: 50, ..Default::default() },
        )
        .await?
        .into_iter()
        .map(|c| (c.id, c.case_no, fazhi_app::mediation::state_label(&c.state)))
        .collect();
    Ok(ItemPage {
        chrome: Chrome::new(s, format!("信访件：{}", p.title), "/petitions").with_notice(done),
        channel: channel_label(&p.channel),
        category: category_label(&p.category),
        state: state_label(&p.state),
        stage: stage_label(&p.stage),
        satisfaction: satisfaction_label(&p.satisfaction),
        petitioners,
        clocks: clocks
            .into_iter()
            .map(|c| ClockLine {
                name: c.clock.rule.name.clone(),
                citation: c.clock.rule.citation.to_string(),
                due: c.row.due_date.clone().unwrap_or_else(|| "无法计算".into()),
                state: match c.row.state.as_str() {
                    "met" if c.clock.rule.duty != fazhi_domain::deadline::Duty::Agency => "已在期限内提出".into(),
                    "missed" if c.clock.rule.duty != fazhi_domain::deadline::Duty::Agency => {
                        "期限已过（未提出）".into()
                    }
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
        transfers: transfers
            .iter()
            .map(|t| {
                let kind = match t.kind.as_str() {
                    "assign" => "交办",
                    "transfer" => "转送",
                    _ => "异议退回",
                };
                (kind, name_of(t.from_org_id), name_of(t.to_org_id), t.reason.clone(), super::beijing(t.created_at))
            })
            .collect(),
        rounds: children.iter().map(line).collect(),
        parent: parent.as_ref().map(line),
        handler: p.handler_org_id.map(name_of).unwrap_or_default(),
        lead: p
            .lead_user_id
            .map(|u| {
                leaders.iter().find(|(id, _)| *id == u).map(|(_, n)| n.clone()).unwrap_or_else(|| format!("用户 {u}"))
            })
            .unwrap_or_default(),
        assign_to,
        transfer_to,
        leaders,
        receptions,
        mediations,
        today: fazhi_domain::clock::beijing_date(app.now()).to_string(),
        offered,
        review_open: s.principal.has(PETITION_HANDLE)
            && matches!(PState::parse(&p.state), Some(PState::Served | PState::Closed))
            && p.stage != fazhi_domain::petition::Stage::Recheck.code(),
        outcome: outcome_label(&p.outcome),
        outcomes: fazhi_domain::petition::Outcome::ALL.iter().map(|o| (o.code(), o.label())).collect(),
        satisfactions: fazhi_domain::petition::Satisfaction::ALL.iter().map(|o| (o.code(), o.label())).collect(),
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

async fn step(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<StepInput>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let result = match f.event() {
        Ok(e) => state.app.petition_step(&by, id, e).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/petitions/{id}?done=petition_step")).into_response()),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, errors, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct ReviewForm {
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    content: String,
}

async fn review(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let d = ReviewDraft { received_on: f.received_on, content: f.content };
    match state.app.request_review(&by, id, &d).await {
        Ok(i) => Ok(Redirect::to(&format!("/petitions/{}?done=petition_review", i.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, errors, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/petition_opinion.html")]
struct OpinionPage {
    chrome: Chrome,
    id: i64,
    doc: fazhi_docs::OfficialDoc,
    date: String,
}

impl OpinionPage {
    fn paragraphs(&self) -> Vec<(&'static str, &str)> {
        self.doc.paragraphs()
    }
}

async fn opinion_page(State(state): State<AppState>, Staff(s): Staff, Path(id): Path<i64>) -> PageResult {
    let doc = state.app.petition_opinion(&s.principal, id).await?;
    render(&OpinionPage {
        chrome: Chrome::new(&s, doc.title.clone(), "/petitions"),
        id,
        date: fazhi_docs::chinese_date(doc.date),
        doc,
    })
}

async fn opinion_docx(State(state): State<AppState>, Staff(s): Staff, Path(id): Path<i64>) -> PageResult {
    let doc = state.app.petition_opinion(&s.principal, id).await?;
    let bytes = doc.to_docx().map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("{}-{id}.docx", doc.title);
    let disposition = format!("attachment; filename=\"opinion-{id}.docx\"; filename*=UTF-8''{}", urlencode(&name));
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: String,
}

fn year_of(state: &AppState, q: &YearQuery) -> i32 {
    use chrono::Datelike;
    let this = fazhi_domain::clock::beijing_date(state.app.now()).year();
    q.year.trim().parse().ok().filter(|y| (2000..=this).contains(y)).unwrap_or(this)
}

#[derive(Template)]
#[template(path = "pages/petition_indicators.html")]
struct IndicatorsPage {
    chrome: Chrome,
    ind: fazhi_app::petition_indicators::Indicators,
    years: Vec<i32>,
}

async fn indicators(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<YearQuery>) -> PageResult {
    let year = year_of(&state, &q);
    let ind = state.app.petition_indicators(&s.principal, year).await?;
    use chrono::Datelike;
    let this = fazhi_domain::clock::beijing_date(state.app.now()).year();
    render(&IndicatorsPage {
        chrome: Chrome::new(&s, format!("信访调解统计指标（{year}年）"), "/petitions"),
        ind,
        years: (this - 4..=this).rev().collect(),
    })
}

#[derive(Template)]
#[template(path = "pages/petition_indicator.html")]
struct IndicatorPage {
    chrome: Chrome,
    year: i32,
    label: &'static str,
    rule: &'static str,
    value: String,
    lines: Vec<Line>,
    others: Vec<Line>,
    cases: Vec<(i64, String, String, &'static str)>,
    receptions: Vec<(String, String, String, String)>,
}

async fn indicator_items(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    use fazhi_app::petition_indicators::Behind;
    let year = year_of(&state, &q);
    let ind = state.app.petition_indicators(&s.principal, year).await?;
    let Some(i) = ind.items.into_iter().find(|i| i.code == code) else {
        return Err(AppError::NotFound("统计指标").into());
    };
    let mut page = IndicatorPage {
        chrome: Chrome::new(&s, format!("{}（{year}年）", i.label), "/petitions"),
        year,
        label: i.label,
        rule: i.rule,
        value: i.display(),
        lines: Vec::new(),
        others: Vec::new(),
        cases: Vec::new(),
        receptions: Vec::new(),
    };
    match i.behind {
        Behind::Petitions => {
            let fetch = |ids: Vec<i64>| {
                let q = PetitionQuery { ids: Some(ids), limit: 500, ..Default::default() };
                let app = state.app.clone();
                let who = s.principal.clone();
                async move { app.petitions(&who, &q).await }
            };
            page.lines = fetch(i.ids).await?.iter().map(line).collect();
            page.others = fetch(i.others).await?.iter().map(line).collect();
        }
        Behind::Mediations => {
            let all: Vec<i64> = i.ids.iter().chain(i.others.iter()).copied().collect();
            let q = fazhi_store::mediation::CaseQuery { ids: Some(all), limit: 5000, ..Default::default() };
            page.cases = state
                .app
                .mediations(&s.principal, &q)
                .await?
                .into_iter()
                .map(|c| (c.id, c.case_no, c.dispute_type, fazhi_app::mediation::state_label(&c.state)))
                .collect();
        }
        Behind::Receptions => {
            let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
            page.receptions = state
                .app
                .receptions(&s.principal, &from, &to, None)
                .await?
                .into_iter()
                .map(|r| (r.received_on, r.leader_name, r.visitors, r.matter))
                .collect();
        }
    }
    render(&page)
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
