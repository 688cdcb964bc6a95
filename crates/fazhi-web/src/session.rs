//! Sessions and CSRF for the staff UI.
//!
//! The session cookie holds a random token (the database keeps only its hash): HttpOnly,
//! SameSite=Strict, Secure when served over https. Every state-changing form carries the
//! session's CSRF token; [`CsrfForm`] is the only form extractor, so a handler cannot take
//! a form without the check. The login form, before any session exists, uses a
//! double-submit token in its own cookie.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::WebError;

pub const SESSION_COOKIE: &str = "fazhi_session";
pub const LOGIN_CSRF_COOKIE: &str = "fazhi_login_csrf";

/// Paths a user who must change their password may still reach.
const ALLOWED_BEFORE_CHANGE: &[&str] = &["/account/password", "/logout"];

/// A logged-in staff member.
#[derive(Debug, Clone)]
pub struct Staff(pub SessionInfo);

impl FromRequestParts<AppState> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(s) = parts.extensions.get::<SessionInfo>() {
            return Ok(Staff(s.clone()));
        }
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(WebError::Login { next });
        };
        match state.app.session(&token).await {
            Ok(s) => {
                if s.must_change_password && !ALLOWED_BEFORE_CHANGE.contains(&parts.uri.path()) {
                    return Err(WebError::Redirect("/account/password".into()));
                }
                parts.extensions.insert(s.clone());
                Ok(Staff(s))
            }
            Err(AppError::Unauthenticated(_)) => Err(WebError::Login { next }),
            Err(e) => Err(e.into()),
        }
    }
}

/// The address a request came from (the peer; proxies are not trusted).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let ip = client_ip(peer, &parts.headers, &state.settings.trusted_proxies);
        Ok(ClientAddr(ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())))
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it was connected from; entries further left are whatever the client
/// claimed), else `X-Real-IP`. A header that does not parse is not believed.
pub fn client_ip(peer: Option<IpAddr>, headers: &axum::http::HeaderMap, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Option<Vec<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
        .map(|s| s.trim().parse().ok())
        .collect();
    if let Some(hops) = hops.filter(|h| !h.is_empty()) {
        return Some(hops.iter().rev().find(|ip| !is_trusted(ip)).copied().unwrap_or(hops[0]));
    }
    let real = headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse().ok());
    Some(real.unwrap_or(peer))
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Reads a urlencoded body, after checking the CSRF token of the session.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, WebError> {
    Bytes::from_request(req, state).await.map_err(|_| WebError::BadRequest("表单内容过大或无法读取。".into()))
}

/// Parses a form body into `T`, mapping failures to a Chinese message.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    serde_html_form::from_bytes(bytes).map_err(|e| WebError::BadRequest(format!("表单内容无法识别：{e}")))
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Staff(s) = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = body_bytes(Request::from_parts(parts, body), state).await?;
        let field: CsrfField = parse_form(&bytes).map_err(|_| WebError::Csrf)?;
        if !same_secret(&field.csrf, &s.csrf_token) {
            return Err(WebError::Csrf);
        }
        Ok(CsrfForm(parse_form(&bytes)?))
    }
}

/// The login form: checked against the double-submit cookie set with the login page.
#[derive(Debug)]
pub struct LoginForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for LoginForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(req.headers());
        let cookie = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
        let bytes = body_bytes(req, state).await?;
        let field: CsrfField = parse_form(&bytes).map_err(|_| WebError::Csrf)?;
        if cookie.is_empty() || !same_secret(&field.csrf, &cookie) {
            return Err(WebError::Csrf);
        }
        Ok(LoginForm(parse_form(&bytes)?))
    }
}

/// A cookie with our attributes: HttpOnly, SameSite=Strict, Path=/, Secure over https.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value)).http_only(true).same_site(SameSite::Strict).secure(secure).path("/").build()
}

/// A cookie that removes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), secure);
    c.make_removal();
    c
}

/// Path parameters of a page whose rejection is our error page (`/petitions/abc` → 404
/// 页面不存在, in Chinese), not the framework's English text.
pub struct PagePath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for PagePath<T> {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PagePath(v)),
            Err(_) => Err(crate::error::error_page(
                axum::http::StatusCode::NOT_FOUND,
                "页面不存在",
                "地址中的编号不正确（应为数字）。请从列表进入。",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let nginx: Vec<ipnet::IpNet> = vec!["127.0.0.1/32".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "1.2.3.4, 10.0.0.7")]);
        // Nobody trusted (the default): the peer, whatever the header says.
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &xff, &[]), Some(ip("127.0.0.1")));
        // Behind nginx: the right-most hop that is not a proxy of ours.
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &xff, &nginx), Some(ip("1.2.3.4")));
        // A client forging the header only adds entries on the left.
        let forged = headers(&[("x-forwarded-for", "9.9.9.9, 1.2.3.4")]);
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &forged, &nginx), Some(ip("1.2.3.4")));
        // Not from a trusted peer: not believed.
        assert_eq!(client_ip(Some(ip("5.6.7.8")), &forged, &nginx), Some(ip("5.6.7.8")));
        // X-Real-IP when there is no X-Forwarded-For; garbage is not believed.
        let real = headers(&[("x-real-ip", "1.2.3.5")]);
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &real, &nginx), Some(ip("1.2.3.5")));
        let junk = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &junk, &nginx), Some(ip("127.0.0.1")));
    }
}
