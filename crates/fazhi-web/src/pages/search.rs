//! Full-text search (全文检索) across every module the user may read.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use fazhi_app::search::{MAX_QUERY_CHARS, SearchHit, module_label};
use fazhi_app::search::{marked_parts, strip_marks};

use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::session::Staff;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(page))
}

/// Results shown on the page.
const PAGE_LIMIT: i64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// A piece of a highlighted title or snippet; `hit` pieces are shown in `<mark>`. The
/// template escapes every piece: no HTML is built here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TextPart {
    pub text: String,
    /// Whether this piece matched a query term.
    pub hit: bool,
}

/// Splits a title or snippet with highlight markers into pieces.
pub fn text_parts(marked: &str) -> Vec<TextPart> {
    marked_parts(marked).into_iter().map(|(hit, t)| TextPart { text: t.to_owned(), hit }).collect()
}

/// The staff UI page of a record, when it has one (the module registry's href).
pub fn record_href(record_type: &str, record_id: &str) -> Option<String> {
    crate::module::href_of(record_type, record_id)
}

/// A query as searched: at most [`MAX_QUERY_CHARS`] characters, and whether it was cut.
pub fn bounded_query(q: &str) -> (String, bool) {
    let q = q.trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        (q.chars().take(MAX_QUERY_CHARS).collect(), true)
    } else {
        (q.to_owned(), false)
    }
}

struct HitView {
    module: &'static str,
    href: Option<String>,
    title: Vec<TextPart>,
    snippet: Vec<TextPart>,
    /// 编号, date, state, community (petitions).
    facts: String,
}

impl From<SearchHit> for HitView {
    fn from(h: SearchHit) -> Self {
        let title = if strip_marks(&h.title).trim().is_empty() { "（无标题）".to_owned() } else { h.title };
        HitView {
            module: module_label(&h.record_type),
            href: record_href(&h.record_type, &h.record_id),
            title: text_parts(&title),
            snippet: text_parts(&h.snippet),
            facts: h.facts,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    cut: bool,
    max_chars: usize,
    hits: Vec<HitView>,
    /// The page shows as many results as it can: there may be more.
    full: bool,
    limit: i64,
}

async fn page(State(state): State<AppState>, Staff(s): Staff, Query(sq): Query<SearchQuery>) -> PageResult {
    let (q, cut) = bounded_query(&sq.q);
    let searched = !q.is_empty();
    let hits = if searched { state.app.search(&s.principal, &q, PAGE_LIMIT).await? } else { Vec::new() };
    render(&SearchPage {
        chrome: Chrome::new(&s, "全文检索", "/search"),
        q,
        searched,
        cut,
        max_chars: MAX_QUERY_CHARS,
        full: hits.len() as i64 >= PAGE_LIMIT,
        hits: hits.into_iter().map(Into::into).collect(),
        limit: PAGE_LIMIT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_hrefs_and_bounds() {
        let p = text_parts("a\u{E000}<b>\u{E001}");
        assert_eq!(p, vec![TextPart { text: "a".into(), hit: false }, TextPart { text: "<b>".into(), hit: true }]);
        assert_eq!(record_href("org_node", "7").as_deref(), Some("/org/7"));
        assert_eq!(record_href("user", "12").as_deref(), Some("/users/12"));
        assert_eq!(record_href("user", "../x"), None);
        assert_eq!(record_href("case", "1"), None);
        let (q, cut) = bounded_query(&"长".repeat(MAX_QUERY_CHARS + 1));
        assert!(cut && q.chars().count() == MAX_QUERY_CHARS);
        assert_eq!(bounded_query("  听证 "), ("听证".to_owned(), false));
    }
}
