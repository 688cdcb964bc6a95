//! The start page: who I am, where I sit, what I may do and how far it reaches.

use askama::Template;
use axum::Router;
use axum::routing::get;
use fazhi_domain::access::PERMISSIONS;

use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::session::Staff;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

struct Grant {
    module: &'static str,
    label: &'static str,
    scope: &'static str,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: Chrome,
    grants: Vec<Grant>,
    /// Next year's holiday schedule is missing (admins are told in December).
    missing_year: Option<i32>,
}

pub fn module_label(m: &str) -> &'static str {
    match m {
        "org" => "组织与权限",
        "enforcement" => "行政执法",
        "petitions" => "信访调解",
        "safety" => "安全隐患",
        "activities" => "学法普法",
        "decisions" => "重大决策",
        "litigation" => "诉讼复议",
        "disclosure" => "信息公开",
        "report" => "指标与年度报告",
        _ => "其他",
    }
}

async fn home(axum::extract::State(state): axum::extract::State<AppState>, Staff(s): Staff) -> PageResult {
    let grants = PERMISSIONS
        .iter()
        .filter_map(|p| {
            s.principal.scope_of(p.code).map(|scope| Grant {
                module: module_label(p.module),
                label: p.label,
                scope: scope.label(),
            })
        })
        .collect();
    let missing_year = if fazhi_domain::access::require_installation(&s.principal).is_ok() {
        state.app.calendar_status().1
    } else {
        None
    };
    render(&HomePage { chrome: Chrome::new(&s, "工作台", "/"), grants, missing_year })
}
