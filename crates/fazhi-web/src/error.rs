//! One error type at the web edge. Users see a Chinese message and a stable code; internal
//! details (SQL, stack traces) are logged inside the request span and never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fazhi_app::AppError;

/// Why a page could not be served.
#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// Not logged in or session over: go to the login page, then come back.
    Login {
        next: String,
    },
    /// Go elsewhere first (e.g. the forced password change).
    Redirect(String),
    /// Missing or wrong CSRF token, or a cross-site form post. Nothing was changed.
    Csrf,
    /// The request itself was unreadable (bad form encoding, bad path).
    BadRequest(String),
    Template(askama::Error),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Template(e)
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A complete error page (it has no navigation: it may be shown to someone not logged in).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { status: status.as_u16(), title, message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Login { next } => {
                let target = if next.is_empty() || next == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", encode_query(&next))
                };
                Redirect::to(&target).into_response()
            }
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "请求被拒绝",
                "表单已过期或来源不正确，未做任何修改。请返回上一页，刷新后重试。",
            ),
            WebError::BadRequest(m) => error_page(StatusCode::BAD_REQUEST, "请求有误", &m),
            WebError::Template(e) => internal(&e.to_string()),
            WebError::App(AppError::Unauthenticated(_)) => Redirect::to("/login").into_response(),
            WebError::App(e) => {
                // The one mapping (status, stable code, message) shared with the API.
                let v = e.view();
                let status = StatusCode::from_u16(v.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                error_page(status, v.title, &v.message)
            }
        }
    }
}

fn internal(detail: &str) -> Response {
    tracing::error!(detail, "internal error");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "系统错误", "服务器内部错误，已记录日志。请稍后再试，或联系管理员。")
}

/// What a panic turns into: logged, never shown.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    internal(detail)
}

/// Percent-encodes a value for a query string.
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
