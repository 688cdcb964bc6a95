//! The HTTP faces of fazhi: the staff UI (server-rendered askama pages in Chinese, no
//! JavaScript needed), the JSON API under `/api/v1` with its OpenAPI document, sessions,
//! CSRF and the operational routes.
//!
//! Handlers are thin: extract, call ONE app service, render. No SQL here. [`app_router`] is
//! a pure function of the state so tests drive it with `oneshot`, without a socket.

pub mod api;
pub mod clean;
pub mod error;
pub mod module;
pub mod pages;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fazhi_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Settings of the web faces.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies `Secure` (when served over https, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Demo installation: the login page lists the demo accounts.
    pub demo: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` is believed (addresses or
    /// networks). Nobody's by default: then the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self { secure_cookies: false, demo: false, body_limit: 256 * 1024, trusted_proxies: Vec::new() }
    }
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub settings: Arc<WebSettings>,
}

impl AppState {
    pub fn new(app: App, settings: WebSettings) -> Self {
        Self { app: Arc::new(app), settings: Arc::new(settings) }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn app_router(state: AppState) -> Router {
    let limit = state.settings.body_limit;
    let max_upload = state.app.attachment_max_bytes;
    Router::new()
        .merge(pages::router(max_upload))
        .nest("/api/v1", api::router())
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(css))
        .fallback(pages::not_found)
        .layer(middleware::from_fn(check_origin))
        .layer(middleware::from_fn(clean::clean_input))
        .layer(DefaultBodyLimit::max(limit))
        // Pages and API answers carry personal data: never kept by a browser or a proxy
        // cache (ASVS 8.2.1). Static assets set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Liveness and database reachability, for load balancers and monitors.
/// 503 when the database does not answer, or when writes are failing (disk full, file
/// read-only): a monitor must not see "ok" while acknowledged writes could be refused.
async fn healthz(State(state): State<AppState>) -> Response {
    let checks = async {
        state.app.store.ping().await.map_err(|_| "数据库无法连接".to_owned())?;
        match state.app.store.write_state(state.app.now()).await {
            None => Ok(()),
            Some(why) => Err(format!("数据库无法写入：{why}")),
        }
    };
    match tokio::time::timeout(Duration::from_secs(2), checks).await {
        Ok(Ok(())) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(why)) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "数据库无响应（超时）".to_owned()).into_response(),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/app.css"),
    )
        .into_response()
}

/// Refuses a state-changing browser request whose `Origin` is another site. The CSRF token
/// in every form is the main defence; this is the second. API calls carry bearer tokens,
/// not cookies, and are exempt.
async fn check_origin(req: Request, next: Next) -> Response {
    let changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changing && !req.uri().path().starts_with("/api/") {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let cross_site = req.headers().get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let origin_ok = match (origin, host) {
            (None, _) => true,
            (Some("null"), _) => false,
            (Some(o), Some(h)) => o.split_once("://").is_some_and(|(_, rest)| rest == h),
            (Some(_), None) => false,
        };
        if cross_site || !origin_ok {
            tracing::warn!(?origin, ?host, "cross-origin form post refused");
            return error::WebError::Csrf.into_response();
        }
    }
    next.run(req).await
}
