//! The inbox of due items and the deadline overview (黄牌/红牌 with the explanation of every
//! date); the holiday calendar is in `calendar`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_domain::access::SETTINGS_MANAGE;

use super::{Chrome, Done, PageResult, beijing, render};
use crate::AppState;
use crate::session::{CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/read-all", post(read_all))
        .route("/inbox/{id}/read", post(read_one))
        .route("/clocks", get(clocks))
        .route("/clocks/scan", post(scan_now))
}

struct InboxLine {
    id: i64,
    title: String,
    body: String,
    link: String,
    at: String,
    unread: bool,
    card: String,
}

#[derive(Template)]
#[template(path = "pages/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    lines: Vec<InboxLine>,
}

async fn inbox(State(state): State<AppState>, Staff(s): Staff) -> PageResult {
    let lines = state
        .app
        .inbox(s.user_id)
        .await?
        .into_iter()
        .map(|n| InboxLine {
            id: n.id,
            title: n.title,
            body: n.body,
            link: match (&n.record_type, &n.record_id) {
                (Some(t), Some(i)) => crate::module::href_of(t, i).unwrap_or(n.link),
                _ => n.link,
            },
            at: beijing(n.created_at),
            unread: n.read_at.is_none(),
            card: n.kind,
        })
        .collect();
    render(&InboxPage { chrome: Chrome::new(&s, "待办提醒", "/inbox"), lines })
}

#[derive(Debug, serde::Deserialize)]
struct Empty {}

async fn read_all(State(state): State<AppState>, Staff(s): Staff, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    state.app.mark_read(s.user_id, None).await?;
    Ok(Redirect::to("/inbox").into_response())
}

async fn read_one(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    state.app.mark_read(s.user_id, Some(id)).await?;
    Ok(Redirect::to("/inbox").into_response())
}

struct ClockLine {
    id: i64,
    name: String,
    citation: String,
    record: String,
    record_href: String,
    event_date: String,
    due: String,
    state: String,
    card: String,
    problem: String,
    steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/clocks.html")]
struct ClocksPage {
    chrome: Chrome,
    lines: Vec<ClockLine>,
    can_scan: bool,
}

fn state_label(code: &str) -> &'static str {
    match code {
        "running" => "计时中",
        "paused" => "暂停",
        "met" => "按期完成",
        "missed" => "超期",
        _ => "未知",
    }
}

async fn clocks(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    let names: std::collections::HashMap<String, String> =
        state.app.org_tree(&s.principal).await?.into_iter().map(|o| (o.id.to_string(), o.name)).collect();
    let lines = state
        .app
        .clocks(&s.principal, true)
        .await?
        .into_iter()
        .map(|v| ClockLine {
            id: v.row.id,
            name: v.clock.rule.name.clone(),
            citation: v.clock.rule.citation.to_string(),
            record: match fazhi_domain::record::kind(&v.row.record_type) {
                Some(k) if k == &fazhi_domain::record::ORG_NODE => {
                    format!("机构：{}", names.get(&v.row.record_id).cloned().unwrap_or_else(|| v.row.record_id.clone()))
                }
                Some(k) => format!("{} {}", k.label, v.row.record_id),
                None => format!("{} {}", v.row.record_type, v.row.record_id),
            },
            record_href: crate::module::href_of(&v.row.record_type, &v.row.record_id).unwrap_or_default(),
            event_date: v.clock.event_date.to_string(),
            due: v.row.due_date.clone().unwrap_or_else(|| "无法计算".into()),
            state: state_label(&v.row.state).into(),
            card: v.row.card.clone(),
            problem: v.row.problem.clone(),
            steps: v.steps,
        })
        .collect();
    render(&ClocksPage {
        chrome: Chrome::new(&s, "期限监督", "/clocks").with_notice(d.done.as_deref()),
        lines,
        can_scan: fazhi_domain::access::require_installation(&s.principal).is_ok(),
    })
}

async fn scan_now(State(state): State<AppState>, Staff(s): Staff, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    if !s.principal.has(SETTINGS_MANAGE) {
        return Err(AppError::Forbidden(fazhi_domain::access::DenyReason::NoPermission(SETTINGS_MANAGE)).into());
    }
    state.app.schedule_scan_now(&s.principal).await?;
    Ok(Redirect::to("/clocks?done=scan_queued").into_response())
}
