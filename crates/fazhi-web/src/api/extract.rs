//! The API's extractors: JSON bodies, query strings and path parameters whose every
//! rejection is the API's error body ([`ApiErrorBody`](super::ApiErrorBody)) with a Chinese
//! message that names the field and the rule, never the framework's English text and never
//! a 500.
//!
//! | input | fault | status, code |
//! |---|---|---|
//! | body | no `Content-Type: application/json` | 415 `invalid_json` |
//! | body | too large | 413 `too_large` |
//! | body | not JSON | 400 `invalid_json` |
//! | body | a field of the wrong type, missing, out of range | 422 `invalid_json`, `field` set |
//! | query | a parameter of the wrong type or out of range | 422 `invalid`, `field` set |
//! | path | a segment that is no id (`/users/abc`, `/users/99999999999999999999`) | 404 `not_found` |

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON body whose rejection is the API's error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_json",
                "请求头 Content-Type 须为 application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "请求体超过上限（一般请求为配置项 body_limit_kib，默认 256 KiB；批量导入为 1,000 行 × 40 KiB）或无法读取",
            )
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// `application/json`, or an `application/…+json` type, parameters aside.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(essence) = content_type.and_then(|c| c.split(';').next()) else { return false };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes a JSON body: 400 when it is not JSON, 422 naming the field when a field is
/// wrong.
///
/// # Errors
/// The API error described above.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (path, inner) = match serde_path_to_error::deserialize(&mut de) {
        // Trailing text after the document is a syntax error, as with `serde_json::from_slice`.
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => (String::new(), e),
        },
        Err(e) => (e.path().to_string(), e.into_inner()),
    };
    let (line, column) = (inner.line(), inner.column());
    let text = strip_position(&inner.to_string());
    Err(match inner.classify() {
        serde_json::error::Category::Data => {
            let (field, message) = field_message("字段", &path, &text);
            ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json", field, message)
        }
        serde_json::error::Category::Eof => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("请求体不是合法的 JSON：第 {line} 行第 {column} 列处内容不完整"),
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("请求体不是合法的 JSON：第 {line} 行第 {column} 列，{}", json_syntax_zh(&text)),
        ),
    })
}

/// Query parameters whose rejection is the API's error body.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// Deserializes a query string.
///
/// # Errors
/// 422 `invalid` naming the parameter and the rule.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let (field, message) = field_message("查询参数", &path, &e.into_inner().to_string());
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "invalid", field, message)
    })
}

/// Path parameters whose rejection is the API's error body: a segment that is not a valid
/// id names no record, so 404 (e.g. `/users/abc`).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(rej) => Err(path_rejection(&rej)),
        }
    }
}

fn path_rejection(rej: &PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let message = match rej {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                format!("地址中的 {key}「{}」不是有效的{}，没有这样的记录", clip(value), type_zh(expected_type))
            }
            ErrorKind::ParseError { value, expected_type }
            | ErrorKind::ParseErrorAtIndex { value, expected_type, .. } => {
                format!("地址中的「{}」不是有效的{}，没有这样的记录", clip(value), type_zh(expected_type))
            }
            ErrorKind::InvalidUtf8InPathParam { key } => format!("地址中的 {key} 不是有效的 UTF-8 文本"),
            _ => "地址参数不正确，没有这样的记录".to_owned(),
        },
        _ => "地址参数不正确，没有这样的记录".to_owned(),
    };
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

/// The first 40 characters of a value quoted back to the caller.
/// Control and invisible characters are dropped ([`fazhi_domain::text::clean`]).
fn clip(s: &str) -> String {
    let s = fazhi_domain::text::clean(s);
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Without serde_json's " at line L column C" suffix.
fn strip_position(msg: &str) -> String {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i]).to_owned()
}

/// The field (a dotted path, `[i]` for array items) and the Chinese message for one serde
/// data error.
pub(crate) fn field_message(noun: &str, path: &str, msg: &str) -> (Option<String>, String) {
    let join = |leaf: &str| if path == "." || path.is_empty() { leaf.to_owned() } else { format!("{path}.{leaf}") };
    let here = (path != "." && !path.is_empty()).then(|| path.to_owned());
    if let Some(name) = between(msg, "missing field `", "`") {
        let f = join(name);
        return (Some(f.clone()), format!("缺少必填{noun} {f}"));
    }
    if let Some(name) = between(msg, "unknown field `", "`") {
        let f = join(name);
        return (Some(f.clone()), format!("不认识的{noun} {f}"));
    }
    if let Some(name) = between(msg, "duplicate field `", "`") {
        let f = join(name);
        return (Some(f.clone()), format!("{noun} {f} 重复出现"));
    }
    let whole = if noun == "字段" { "请求体" } else { "查询字符串" };
    let subject = here.as_deref().map_or_else(|| whole.to_owned(), |f| format!("{noun} {f} "));
    let rule = rule_zh(msg);
    (here, format!("{subject}{rule}"))
}

/// The rule a serde data error states, in Chinese.
fn rule_zh(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!("应为{}，收到的是{}", type_zh(expected), value_zh(got));
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!("的值{}不符合要求，应为{}", value_zh(got), type_zh(expected));
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        let (len, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let expected = type_zh(expected);
        if expected == "对象" {
            return "应为对象".to_owned();
        }
        return format!("的长度 {len} 不符合要求，应为{expected}");
    }
    if let Some(v) = between(msg, "unknown variant `", "`") {
        let choices =
            msg.split_once("expected ").map(|(_, c)| c.replace("one of ", "").replace('`', "")).unwrap_or_default();
        return format!("的值「{}」不是可选值之一（可选：{choices}）", clip(v));
    }
    match msg {
        "number too large to fit in target type" | "number out of range" => {
            "的数值超出范围（整数须在 -9223372036854775808 到 9223372036854775807 之间）".to_owned()
        }
        "number too small to fit in target type" => "的数值超出范围（过小）".to_owned(),
        "invalid digit found in string" | "cannot parse integer from empty string" | "invalid number" => {
            "应为整数".to_owned()
        }
        "invalid float literal" => "应为数字".to_owned(),
        "provided string was not `true` or `false`" => "应为 true 或 false".to_owned(),
        m if m.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) => format!("不符合要求：{m}"),
        m => format!("的格式不符合要求（{}）", clip(m)),
    }
}

/// A serde "expected" phrase in Chinese.
fn type_zh(expected: &str) -> String {
    let e = expected.trim();
    let ints = ["i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128", "isize", "usize"];
    if ints.contains(&e) || e.contains("integer") {
        let range = match e {
            "i64" => "（-9223372036854775808 到 9223372036854775807）",
            "u32" => "（0 到 4294967295）",
            "u64" | "usize" => "（0 到 18446744073709551615）",
            "i32" => "（-2147483648 到 2147483647）",
            _ => "",
        };
        return format!("整数{range}");
    }
    match e {
        "f32" | "f64" | "a number" => "数字".to_owned(),
        "a string" | "string" | "a borrowed string" | "String" => "文本".to_owned(),
        "a boolean" | "bool" => "true 或 false".to_owned(),
        "a sequence" => "数组".to_owned(),
        "a map" => "对象".to_owned(),
        "a character" | "char" => "单个字符".to_owned(),
        "" => "规定的格式".to_owned(),
        e if e.starts_with("struct ") || e.starts_with("a map") => "对象".to_owned(),
        e if e.starts_with("a sequence") => "数组".to_owned(),
        e if e.starts_with("enum ") || e.starts_with("variant") => "可选值之一".to_owned(),
        e => clip(e),
    }
}

/// A serde "unexpected" phrase in Chinese.
fn value_zh(got: &str) -> String {
    let g = got.trim();
    if let Some(s) = g.strip_prefix("string ") {
        return format!("文本 {}", clip(s));
    }
    if let Some(n) = g.strip_prefix("integer ").or_else(|| g.strip_prefix("floating point ")) {
        return format!("数值 {}", n.trim_matches('`'));
    }
    if let Some(b) = g.strip_prefix("boolean ") {
        return format!("布尔值 {}", b.trim_matches('`'));
    }
    match g {
        "null" | "unit value" => "null".to_owned(),
        "sequence" => "数组".to_owned(),
        "map" => "对象".to_owned(),
        g => clip(g),
    }
}

/// A serde_json syntax error in Chinese.
fn json_syntax_zh(msg: &str) -> String {
    match msg {
        "expected value" => "此处应为一个值".to_owned(),
        "trailing characters" => "JSON 之后还有多余的内容".to_owned(),
        "key must be a string" => "对象的键必须是字符串".to_owned(),
        "recursion limit exceeded" => "嵌套层数过多".to_owned(),
        "invalid escape" => "字符串中有无效的转义".to_owned(),
        "invalid unicode code point" | "lone leading surrogate in hex escape" | "unexpected end of hex escape" => {
            "字符串中有无效的 Unicode 转义".to_owned()
        }
        "invalid number" | "number out of range" => "数字无效或超出范围".to_owned(),
        m if m.starts_with("control character") => "字符串中有未转义的控制字符".to_owned(),
        m if m.starts_with("expected") => format!("缺少应有的标点（{}）", clip(m)),
        m => format!("语法错误（{}）", clip(m)),
    }
}

/// The text between `start` and the next `end` in `s`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)?;
    Some(&s[i..i + j])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        org_id: i64,
        #[serde(default)]
        roles: Vec<i64>,
    }

    fn json_err(body: &str) -> (StatusCode, super::super::ApiErrorBody) {
        let e = parse_json::<Body>(body.as_bytes()).unwrap_err();
        (e.0, e.1)
    }

    #[test]
    fn json_faults_name_the_field_in_chinese() {
        let (s, b) = json_err(r#"{"name":"x","org_id":"7"}"#);
        assert_eq!((s, b.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("org_id")));
        assert!(b.message.contains("字段 org_id 应为整数"), "{}", b.message);
        let (_, b) = json_err(r#"{"name":"x","org_id":99999999999999999999}"#);
        assert_eq!(b.field.as_deref(), Some("org_id"));
        assert!(b.message.contains("整数"), "{}", b.message);
        let (_, b) = json_err(r#"{"name":"x"}"#);
        assert_eq!((b.field.as_deref(), b.message.as_str()), (Some("org_id"), "缺少必填字段 org_id"));
        let (_, b) = json_err(r#"{"name":"x","org_id":1,"roles":[1,"a"]}"#);
        assert_eq!(b.field.as_deref(), Some("roles[1]"));
        let (s, b) = json_err("{\"name\":");
        assert_eq!((s, b.code), (StatusCode::BAD_REQUEST, "invalid_json"));
        assert!(b.message.starts_with("请求体不是合法的 JSON"), "{}", b.message);
        let (s, b) = json_err(r#"{"name":"x","org_id":1} x"#);
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}", b.message);
        for body in ["[]", "5", "null", "\"x\""] {
            let (s, b) = json_err(body);
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(b.message.starts_with("请求体应为对象"), "{body}: {}", b.message);
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<i64>,
        q: Option<String>,
    }

    #[test]
    fn query_faults_name_the_parameter() {
        for q in ["limit=abc", "limit=9223372036854775808", "limit=-99999999999999999999", "limit=1.5", "limit="] {
            let e = parse_query::<Params>(q).unwrap_err();
            assert_eq!(
                (e.0, e.1.code, e.1.field.as_deref()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("limit"))
            );
            assert!(e.1.message.starts_with("查询参数 limit "), "{q}: {}", e.1.message);
            assert!(!e.1.message.is_ascii(), "{q}: Chinese message");
        }
        assert!(parse_query::<Params>("q=%E7%A4%BE%E5%8C%BA&limit=-5&other=1").is_ok());
    }
}
