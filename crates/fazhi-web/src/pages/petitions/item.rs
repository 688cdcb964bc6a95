//! The item page: clocks, the offered steps, links, timeline; the step and review forms.

use super::*;
use crate::pages::echo::Echo;

pub(super) struct ClockLine {
    name: String,
    citation: String,
    due: String,
    state: String,
    card: String,
    steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/petition.html")]
pub(super) struct ItemPage {
    chrome: Chrome,
    p: PetitionRow,
    channel: &'static str,
    category: &'static str,
    state: &'static str,
    stage: &'static str,
    satisfaction: &'static str,
    petitioners: Vec<(String, String)>,
    clocks: Vec<ClockLine>,
    errors: FieldErrors,
    /// The refused step form, sent back open with what was typed.
    echo: crate::pages::echo::Echo,
    timeline: Vec<crate::pages::ledger::TimelineLine>,
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
    /// Any handling step (not 督办/包案) is offered, or a 复查/复核 can be registered.
    has_handling: bool,
    /// The item's page, where its forms post (`{base}/step`).
    base: String,
    attachments: Vec<fazhi_app::attachments::AttachmentRow>,
    can_attach: bool,
    attach_url: String,
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

/// A clock as the item page shows it: a party's window reads differently from a duty.
fn clock_line(c: fazhi_app::clocks::ClockView) -> ClockLine {
    ClockLine {
        name: c.clock.rule.name.clone(),
        citation: c.clock.rule.citation.to_string(),
        due: c.row.due_date.clone().unwrap_or_else(|| "无法计算".into()),
        state: match c.row.state.as_str() {
            "met" if c.clock.rule.duty != fazhi_domain::deadline::Duty::Agency => "已在期限内提出".into(),
            "missed" if c.clock.rule.duty != fazhi_domain::deadline::Duty::Agency => "期限已过（未提出）".into(),
            "met" => "按期完成".into(),
            "missed" => "超期".into(),
            "paused" => "暂停".into(),
            _ => "计时中".into(),
        },
        card: c.row.card.clone(),
        steps: c.steps,
    }
}

/// A transfer as the item page lists it: (kind, from, to, reason, when).
fn transfer_line(
    t: &fazhi_app::petitions::TransferRow,
    name_of: &impl Fn(i64) -> String,
) -> (&'static str, String, String, String, String) {
    let kind = match t.kind.as_str() {
        "assign" => "交办",
        "transfer" => "转送",
        _ => "异议退回",
    };
    (kind, name_of(t.from_org_id), name_of(t.to_org_id), t.reason.clone(), crate::pages::beijing(t.created_at))
}

pub(super) async fn item_page(
    state: &AppState,
    s: &SessionInfo,
    id: i64,
    echo: crate::pages::echo::Echo,
    done: Option<&str>,
) -> Result<ItemPage, AppError> {
    let app = &state.app;
    let errors = echo.all().clone();
    let v = app.petition_view(&s.principal, id).await?;
    let (attachments, can_attach) = (v.attachments, v.can_attach);
    let (p, clocks) = (v.row, v.clocks);
    let people: Vec<serde_json::Value> = serde_json::from_str(&p.petitioners_json).unwrap_or_default();
    let petitioners = people
        .iter()
        .map(|v| {
            let name = v["name"].as_str().unwrap_or("").to_owned();
            let phone = v["phone"].as_str().unwrap_or("").to_owned();
            (name, phone)
        })
        .collect();
    let timeline = crate::pages::ledger::timeline(v.timeline);
    let offered: Vec<&'static str> = v.offered.into_iter().map(|st| st.code()).collect();
    let (transfers, children, parent) = (v.transfers, v.rounds, v.parent);
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
            &fazhi_app::mediation::CaseQuery { petition_id: Some(id), limit: 50, ..Default::default() },
        )
        .await?
        .into_iter()
        .map(|c| (c.id, c.case_no, c.state.label()))
        .collect();
    let review_open = s.principal.has(PETITION_HANDLE)
        && matches!(p.state, PState::Served | PState::Closed)
        && p.stage != fazhi_domain::petition::Stage::Recheck;
    Ok(ItemPage {
        chrome: Chrome::new(s, format!("信访件：{}", p.title), "/petitions").with_notice(done),
        channel: p.channel.label(),
        category: p.category.label(),
        state: p.state.label(),
        stage: p.stage.label(),
        satisfaction: satisfaction_label(&p.satisfaction),
        petitioners,
        clocks: clocks.into_iter().map(clock_line).collect(),
        transfers: transfers.iter().map(|t| transfer_line(t, &name_of)).collect(),
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
        has_handling: offered.iter().any(|s: &&str| !matches!(*s, "supervise" | "lead")) || review_open,
        base: format!("/petitions/{id}"),
        attachments,
        can_attach,
        attach_url: format!("/records/petition/{id}/attachments"),
        offered,
        review_open,
        outcome: outcome_label(&p.outcome),
        outcomes: fazhi_domain::petition::Outcome::ALL.iter().map(|o| (o.code(), o.label())).collect(),
        satisfactions: fazhi_domain::petition::Satisfaction::ALL.iter().map(|o| (o.code(), o.label())).collect(),
        p,
        errors,
        echo,
        timeline,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ItemQuery {
    done: Option<String>,
    /// The 复查/复核 round just registered against this item (`?done=petition_review`).
    round: Option<String>,
}

pub(super) async fn item(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    Query(q): Query<ItemQuery>,
) -> PageResult {
    let mut page = item_page(&state, &s, id, Echo::none(), q.done.as_deref()).await?;
    // The clerk stays on the answered item and is told who handles the request and its
    // code for the petitioner (the round itself may be outside the clerk's scope).
    if let Some(round) = q.round.as_deref().and_then(|r| r.trim().parse::<i64>().ok())
        && let Ok(r) = state.app.review_receipt(&s.principal, id, round).await
    {
        page.chrome.notice = Some(format!(
            "{}请求已登记，由{}办理，查询码 {}（请告知信访人，凭码可查询办理进度）",
            r.stage, r.body, r.tracking_code
        ));
    }
    render(&page)
}

pub(super) async fn step(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<StepInput>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let result = match f.event() {
        Ok(e) => state.app.petition_step(&by, id, e).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        // A step that took the item out of the user's scope (转送, 异议退回) leads back to the
        // list with what happened, never to a refusal page for an act that was done.
        Ok((row, _)) if !state.app.petition_readable(&s.principal, &row).await? => {
            Ok(Redirect::to("/petitions?done=petition_moved").into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/petitions/{id}?done=petition_step")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let echo = Echo::new(&f.action, &f, errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, echo, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
pub(super) struct ReviewForm {
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    content: String,
}

pub(super) async fn review(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let d = ReviewDraft { received_on: f.received_on.clone(), content: f.content.clone() };
    match state.app.request_review(&by, id, &d).await {
        Ok(i) => Ok(Redirect::to(&format!("/petitions/{id}?done=petition_review&round={}", i.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let echo = Echo::new("review", &f, errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &item_page(&state, &s, id, echo, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}
