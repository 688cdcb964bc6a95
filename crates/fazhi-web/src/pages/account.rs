//! Login, logout and one's own password.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use fazhi_app::AppError;
use fazhi_app::bootstrap::{DEMO_PASSWORD, DemoAccount, demo_accounts};
use fazhi_app::secrets::random_hex;
use fazhi_domain::FieldErrors;

use super::{Chrome, PageResult, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, LOGIN_CSRF_COOKIE, LoginForm, SESSION_COOKIE, Staff, cookie, removal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/account/password", get(password_page).post(change_password))
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    next: String,
    error: Option<String>,
    demo: Vec<DemoAccount>,
    demo_password: &'static str,
}

#[derive(Debug, Default, serde::Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after login (no open redirect): a path that parses as a
/// URI with neither scheme nor host, starts with one `/`, and holds no backslash and no
/// control character (CR/LF would split the `Location` header). Anything else goes home.
pub(crate) fn safe_next(next: &str) -> &str {
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 2048;
    let local = plain && next.parse::<axum::http::Uri>().is_ok_and(|u| u.scheme().is_none() && u.authority().is_none());
    if local { next } else { "/" }
}

fn login_page_for(state: &AppState, csrf: String, username: String, next: String, error: Option<String>) -> LoginPage {
    let demo = if state.settings.demo { demo_accounts() } else { Vec::new() };
    LoginPage { csrf, username, next, error, demo, demo_password: DEMO_PASSWORD }
}

async fn login_page(State(state): State<AppState>, jar: CookieJar, Query(q): Query<NextQuery>) -> PageResult {
    let csrf = random_hex(16);
    let jar = jar.add(cookie(LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    let page = login_page_for(&state, csrf, String::new(), q.next, None);
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct LoginFields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientAddr(addr): ClientAddr,
    LoginForm(f): LoginForm<LoginFields>,
) -> PageResult {
    let secure = state.settings.secure_cookies;
    let error = if f.username.trim().is_empty() || f.password.is_empty() {
        Some("请输入用户名和密码".to_owned())
    } else {
        match state.app.login(&f.username, &f.password, &addr).await {
            Ok(s) => {
                let jar = jar.remove(removal(LOGIN_CSRF_COOKIE, secure)).add(cookie(SESSION_COOKIE, s.token, secure));
                let to = if s.must_change_password { "/account/password" } else { safe_next(&f.next) };
                return Ok((jar, Redirect::to(to)).into_response());
            }
            Err(AppError::Unauthenticated(m)) => Some(m),
            Err(e) => return Err(e.into()),
        }
    };
    // A fresh token for the next try; the username stays, the password never does.
    let csrf = random_hex(16);
    let jar = jar.add(cookie(LOGIN_CSRF_COOKIE, csrf.clone(), secure));
    let page = login_page_for(&state, csrf, f.username, f.next, error);
    Ok((jar, render_status(StatusCode::UNAUTHORIZED, &page)?).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct Empty {}

async fn logout(
    State(state): State<AppState>,
    Staff(s): Staff,
    jar: CookieJar,
    ClientAddr(addr): ClientAddr,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    state.app.logout(&s, &addr).await?;
    let jar = jar.remove(removal(SESSION_COOKIE, state.settings.secure_cookies));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Template)]
#[template(path = "pages/password.html")]
struct PasswordPage {
    chrome: Chrome,
    errors: FieldErrors,
    forced: bool,
}

async fn password_page(Staff(s): Staff, Query(d): Query<super::Done>) -> PageResult {
    let chrome = Chrome::new(&s, "修改密码", "/account/password").with_notice(d.done.as_deref());
    render(&PasswordPage { forced: s.must_change_password, chrome, errors: FieldErrors::new() })
}

#[derive(Debug, serde::Deserialize)]
struct PasswordFields {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<PasswordFields>,
) -> PageResult {
    match state.app.change_password(&s, &f.current, &f.new, &f.confirm, &addr).await {
        Ok(()) => Ok(Redirect::to("/account/password?done=password_changed").into_response()),
        Err(AppError::Invalid(errors)) => {
            // Passwords are never echoed back into the form.
            let chrome = Chrome::new(&s, "修改密码", "/account/password");
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage { forced: s.must_change_password, chrome, errors },
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_login() {
        for ok in ["/", "/petitions?state=open", "/petitions/12#timeline"] {
            assert_eq!(super::safe_next(ok), ok);
        }
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "/a\\b",
            "https://evil.example/",
            "evil.example",
            "/a\r\nSet-Cookie: x=1",
            "/\u{7}",
            "",
        ] {
            assert_eq!(super::safe_next(bad), "/", "{bad:?}");
        }
    }
}
