//! The staff UI: page structs beside their handlers, templates in `templates/`.

pub mod account;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod clocks;
pub mod echo;
pub mod home;
pub mod ledger;
pub mod mediation;
pub mod org;
pub mod petitions;
pub mod receptions;
pub mod roles;
pub mod search;
pub mod tokens;
pub mod users;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fazhi_app::auth::SessionInfo;

use crate::AppState;
use crate::error::{WebError, error_page};

pub fn router(max_upload: u64) -> Router<AppState> {
    Router::new()
        .merge(attachments::router(max_upload))
        .merge(account::router())
        .merge(home::router())
        .merge(org::router())
        .merge(users::router())
        .merge(roles::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(clocks::router())
        .merge(calendar::router())
        .merge(ledger::router())
        .merge(petitions::router())
        .merge(mediation::router())
        .merge(receptions::router())
        .merge(search::router())
}

pub type PageResult = Result<Response, WebError>;

/// Renders a template into a response.
pub fn render<T: Template>(t: &T) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// Renders with a status (e.g. 422 for a form with errors).
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> PageResult {
    Ok((status, Html(t.render()?)).into_response())
}

pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "页面不存在", "您访问的页面不存在。请从左侧导航进入。")
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NavSection {
    pub title: &'static str,
    pub items: Vec<NavItem>,
}

/// The frame around every staff page: title, top bar, navigation, notice.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub user_name: String,
    pub username: String,
    pub org_name: String,
    pub csrf: String,
    pub nav: Vec<NavSection>,
    pub notice: Option<String>,
    pub must_change_password: bool,
    pub unread: i64,
}

impl Chrome {
    pub fn new(s: &SessionInfo, title: impl Into<String>, path: &str) -> Self {
        let mut nav: Vec<NavSection> = Vec::new();
        let entries = crate::module::MODULES.iter().flat_map(|m| m.nav.iter());
        for e in entries.filter(|e| e.needs.is_none_or(|p| s.principal.has(p))) {
            let active = if e.href == "/" { path == "/" } else { path.starts_with(e.href) };
            let item = NavItem { label: e.label, href: e.href, active };
            match nav.iter_mut().find(|sec| sec.title == e.section) {
                Some(sec) => sec.items.push(item),
                None => nav.push(NavSection { title: e.section, items: vec![item] }),
            }
        }
        Self {
            title: title.into(),
            user_name: s.display_name.clone(),
            username: s.username.clone(),
            org_name: s.org_name.clone(),
            csrf: s.csrf_token.clone(),
            nav,
            notice: None,
            must_change_password: s.must_change_password,
            unread: s.unread,
        }
    }

    pub fn with_notice(mut self, done: Option<&str>) -> Self {
        self.notice = done.and_then(notice_text).map(str::to_owned);
        self
    }
}

/// Messages shown after a successful change (`?done=CODE` on the redirect), registered by
/// each module ([`crate::module`]).
fn notice_text(code: &str) -> Option<&'static str> {
    crate::module::notice(code)
}

/// `?done=` of a redirect after success.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// Parses an optional id typed into a form: empty means none.
pub fn form_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

/// Formats unix milliseconds as Beijing time (UTC+8), `YYYY-MM-DD HH:MM`.
pub fn beijing(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, (rem % 3600) / 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time() {
        assert_eq!(beijing(0), "1970-01-01 08:00");
        // 2026-11-28 07:32:00 UTC
        assert_eq!(beijing(1_795_851_120_000), "2026-11-28 15:32");
        assert_eq!(beijing(951_782_400_000), "2000-02-29 08:00");
    }
}
