//! The input boundary's text rule ([`fazhi_domain::text::clean`]) applied to every text a
//! request carries before any handler reads it: the query string, urlencoded form bodies
//! and JSON bodies (keys and string values). File uploads (multipart) are bytes, not text;
//! their file names are cleaned where they are read.

use std::borrow::Cow;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fazhi_domain::text::{clean, is_unwanted};

/// Bodies larger than this are refused (413): no route accepts more (the import takes 40 MiB).
const MAX_CLEANED_BODY: usize = 48 * 1024 * 1024;

/// The middleware.
pub async fn clean_input(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Some(q) = parts.uri.query().and_then(clean_urlencoded) {
        let path = parts.uri.path();
        if let Ok(uri) = format!("{path}?{q}").parse::<Uri>() {
            parts.uri = uri;
        }
    }
    let kind = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    if !form && !json {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match axum::body::to_bytes(body, MAX_CLEANED_BODY).await {
        Ok(b) => b,
        Err(_) => return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "请求内容过大").into_response(),
    };
    let cleaned = if form {
        std::str::from_utf8(&bytes).ok().and_then(clean_urlencoded).map(String::into_bytes)
    } else {
        clean_json(&bytes)
    };
    let body = match cleaned {
        Some(b) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(b)
        }
        None => Body::from(bytes),
    };
    next.run(Request::from_parts(parts, body)).await
}

/// The urlencoded text with every key and value cleaned; `None` when nothing changes.
fn clean_urlencoded(text: &str) -> Option<String> {
    let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(text.as_bytes()).collect();
    if !pairs.iter().any(|(k, v)| k.chars().chain(v.chars()).any(is_unwanted)) {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(&clean(k), &clean(v));
    }
    Some(out.finish())
}

/// The JSON document with every string cleaned; `None` when nothing changes or it is not
/// JSON (the extractor reports that).
fn clean_json(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    clean_value(&mut v).then(|| serde_json::to_vec(&v).ok()).flatten()
}

/// Cleans in place; whether anything changed.
fn clean_value(v: &mut serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => match clean(s) {
            Cow::Borrowed(_) => false,
            Cow::Owned(c) => {
                *s = c;
                true
            }
        },
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |changed, i| clean_value(i) | changed),
        serde_json::Value::Object(map) => {
            let dirty: Vec<String> = map.keys().filter(|k| k.chars().any(is_unwanted)).cloned().collect();
            for k in &dirty {
                if let Some(val) = map.remove(k) {
                    map.insert(clean(k).into_owned(), val);
                }
            }
            map.values_mut().fold(!dirty.is_empty(), |changed, i| clean_value(i) | changed)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_json_lose_their_control_characters_only() {
        assert_eq!(clean_urlencoded("title=%E5%A0%B5&x=1"), None);
        assert_eq!(clean_urlencoded("title=a%00b&content=c%0Bd").as_deref(), Some("title=ab&content=c%0Ad"));
        let j = clean_json(br#"{"title":"a\u0000b","list":[{"n":"x\u000by"}],"k":1}"#).unwrap();
        assert_eq!(String::from_utf8(j).unwrap(), r#"{"k":1,"list":[{"n":"x\ny"}],"title":"ab"}"#);
        assert_eq!(clean_json(br#"{"title":"fine"}"#), None);
        assert_eq!(clean_json(b"not json"), None);
    }
}
