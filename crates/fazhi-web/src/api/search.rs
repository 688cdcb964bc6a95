//! `/api/v1/search`: full-text search within the caller's data scope.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use fazhi_app::AppError;
use utoipa::{OpenApi, ToSchema};

use super::{ApiError, ApiErrorBody, ApiQuery, Caller};
use crate::AppState;
use fazhi_app::search::strip_marks;
use fazhi_app::search::{MAX_LIMIT, MAX_QUERY_CHARS, SearchHit, module_label};

use fazhi_domain::FieldErrors;

use crate::pages::search::{TextPart, record_href, text_parts};

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// The OpenAPI part of this router.
#[derive(OpenApi)]
#[openapi(paths(search), components(schemas(SearchHitOut, TextPart)))]
pub struct Doc;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find (at most 200 characters). Segmented like the indexed text;
    /// several words must all occur. Punctuation is ignored.
    pub q: Option<String>,
    /// Number of results (1–100, default 20).
    pub limit: Option<i64>,
}

/// One search result, within the caller's data scope.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SearchHitOut {
    /// The module of the record's kind (`org` for org nodes and accounts, `petitions`); the
    /// kind itself is `record_type`.
    pub module: String,
    /// The module's Chinese name.
    pub module_label: &'static str,
    /// The record's kind code as in the ledger: `org_node`, `user`, `petition`,
    /// `mediation_case`.
    pub record_type: String,
    /// The record's id within its kind (decimal text).
    pub record_id: String,
    /// The org node that owns the record.
    pub org_id: i64,
    pub title: String,
    /// Body text around the first match; `…` where cut.
    pub snippet: String,
    /// The title in pieces; `hit` pieces matched a query term.
    pub title_parts: Vec<TextPart>,
    pub snippet_parts: Vec<TextPart>,
    /// The record's page in the staff UI, when it has one.
    pub url: Option<String>,
    /// Relevance, higher is better; comparable only within one response.
    pub score: f64,
}

impl From<SearchHit> for SearchHitOut {
    fn from(h: SearchHit) -> Self {
        SearchHitOut {
            module_label: module_label(&h.record_type),
            url: record_href(&h.record_type, &h.record_id),
            title: strip_marks(&h.title),
            snippet: strip_marks(&h.snippet),
            title_parts: text_parts(&h.title),
            snippet_parts: text_parts(&h.snippet),
            module: h.module,
            record_type: h.record_type,
            record_id: h.record_id,
            org_id: h.org_id,
            score: h.score,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = [SearchHitOut]), (status = 401, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
async fn search(
    State(state): State<AppState>,
    c: Caller,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<Vec<SearchHitOut>>, ApiError> {
    let q = p.q.unwrap_or_default();
    let invalid = |m: String| AppError::Invalid(FieldErrors::single("q", m));
    if q.trim().is_empty() {
        return Err(invalid("请提供检索词 q".into()).into());
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(format!("检索词不能超过 {MAX_QUERY_CHARS} 个字")).into());
    }
    let limit = p.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let hits = state.app.search(&c.principal, &q, limit).await?;
    Ok(Json(hits.into_iter().map(Into::into).collect()))
}
