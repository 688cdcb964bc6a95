//! The login and account audit trail.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use fazhi_app::audit::kind_label;

use super::{Chrome, PageResult, beijing, render};
use crate::AppState;
use crate::session::Staff;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

struct Line {
    at: String,
    kind: String,
    alert: bool,
    username: String,
    source_addr: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    chrome: Chrome,
    lines: Vec<Line>,
}

async fn list(State(state): State<AppState>, Staff(s): Staff) -> PageResult {
    let rows = state.app.list_audit(&s.principal, 500).await?;
    let lines = rows
        .into_iter()
        .map(|r| Line {
            at: beijing(r.at),
            alert: matches!(r.kind.as_str(), "lockout" | "login_locked" | "login_failed"),
            kind: kind_label(&r.kind).to_owned(),
            username: r.username,
            source_addr: r.source_addr,
            detail: r.detail,
        })
        .collect();
    render(&AuditPage { chrome: Chrome::new(&s, "登录审计", "/audit"), lines })
}
