//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations, with the
//! parts every operation shares added here once: the bearer security scheme and the error
//! responses that the extractors ([`super::extract`], [`super::Caller`]) and the one error
//! mapping ([`fazhi_app::AppError::view`]) can give, each with the one error body
//! [`ApiErrorBody`](super::ApiErrorBody).

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::content::Content;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::{ApiErrorBody, FieldErrorBody, calendar, org, petitions, search};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("管理员在「接口令牌」页面签发的令牌"))
                    .build(),
            ),
        );
    }
}

/// Which error responses an operation can give, from its shape.
fn error_statuses(method: &str, op: &Operation) -> Vec<(&'static str, &'static str)> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let mut out = vec![
        ("401", "缺少接口令牌，或令牌无效、已吊销（code = unauthenticated）"),
        ("403", "令牌所代表的账户没有此权限，或记录不在其数据范围内（code = forbidden）"),
        ("503", "数据库暂时无法写入或数据与账本不一致，本次操作没有执行（code = unavailable）"),
    ];
    if params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path)) {
        out.push(("404", "记录不存在、不可见，或地址中的编号无效（code = not_found）"));
    }
    if params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query)) {
        out.push(("422", "查询参数不符合要求：message 说明规则，field 指出参数（code = invalid）"));
    }
    if op.request_body.is_some() {
        out.push(("400", "请求体不是合法的 JSON（code = invalid_json）"));
        out.push(("413", "请求体超过上限（code = too_large）"));
        out.push(("415", "请求头 Content-Type 不是 application/json（code = invalid_json）"));
        out.push((
            "422",
            "字段不符合要求：message 说明规则，field 指出字段，errors 列出每个字段（code = invalid 或 invalid_json）",
        ));
    }
    if method != "get" {
        out.push(("409", "业务规则不允许此操作，message 说明依据（code = refused）"));
    }
    out
}

/// Adds the shared error responses to every operation that does not declare its own.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (method, op) in operations(item) {
                for (status, description) in error_statuses(method, op) {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    let schema: RefOr<utoipa::openapi::schema::Schema> = RefOr::Ref(Ref::from_schema_name("ApiErrorBody"));
    RefOr::T(
        ResponseBuilder::new().description(description).content("application/json", Content::new(Some(schema))).build(),
    )
}

/// Every operation of a path with its method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(m, o)| o.as_mut().map(|o| (m, o)))
}

/// The common part of the document.
#[derive(OpenApi)]
#[openapi(
    info(title = "fazhi 法治政府建设工作平台 API", version = "1", description = "令牌由管理员在「接口令牌」页面签发，以 Authorization: Bearer <令牌> 调用；权限与数据范围与令牌所代表账户相同。每个失败的调用都返回同一种错误体 ApiErrorBody：code 为稳定的机器码，message 为中文说明（指出字段和规则），field 指出出错的字段。"),
    components(schemas(ApiErrorBody, FieldErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "org", description = "组织机构与用户"), (name = "search", description = "全文检索（限于调用者的数据范围）"),
        (name = "petitions", description = "信访件：登记、办理、批量导入（全部成功或全部不导入）"),
        (name = "calendar", description = "节假日安排：查看某年安排；导入分两步，先预览（对比、法定节日核对、受影响的期限），再凭预览的确认码导入"))
)]
pub struct ApiDoc;

/// The whole document: the common part merged with each module's part, then the shared
/// error responses added to every operation.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(calendar::Doc::openapi());
    doc.merge(org::Doc::openapi());
    doc.merge(petitions::Doc::openapi());
    doc.merge(search::Doc::openapi());
    ErrorResponses.modify(&mut doc);
    doc
}

pub(super) async fn serve() -> Response {
    Json(api_doc()).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// The document's structure, checked without a server or Python: what OpenAPI
    /// validators and client generators reject, and what a fuzzer needs.
    #[test]
    fn document_is_well_formed() {
        let doc = serde_json::to_value(super::api_doc()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
        let mut ids = std::collections::BTreeSet::new();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 10, "every router's part is merged");
        for (path, item) in paths {
            let in_template: Vec<&str> = path.split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at}: operationId"));
                assert!(ids.insert(id.to_owned()), "{at}: operationId {id} is unique");
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let declared: Vec<&str> =
                    params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
                for name in &declared {
                    assert!(in_template.contains(name), "{at}: path parameter {name} is not in the template");
                }
                for name in &in_template {
                    assert!(declared.contains(name), "{at}: template variable {name} is not declared in: path");
                }
                for p in &params {
                    assert!(["path", "query", "header", "cookie"].contains(&p["in"].as_str().unwrap()), "{at}: {p}");
                    assert!(p["schema"].is_object(), "{at}: parameter {} has a schema", p["name"]);
                }
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{at}: at least one 2xx response");
                for status in ["401", "403", "503"] {
                    assert!(responses.contains_key(status), "{at}: {status} declared");
                }
                if !declared.is_empty() {
                    assert!(responses.contains_key("404"), "{at}: 404 for a path parameter");
                }
                if op.get("requestBody").is_some() {
                    for status in ["400", "413", "415", "422"] {
                        assert!(responses.contains_key(status), "{at}: {status} for a body");
                    }
                }
                for (status, r) in responses {
                    if !status.starts_with('2') {
                        let schema = &r["content"]["application/json"]["schema"]["$ref"];
                        assert_eq!(schema, "#/components/schemas/ApiErrorBody", "{at} {status}: the one error body");
                    }
                }
            }
        }
        for (path, q) in [("/api/v1/search", "q"), ("/api/v1/users", "limit"), ("/api/v1/users", "offset")] {
            let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
            let p = params.iter().find(|p| p["name"] == q).unwrap_or_else(|| panic!("{path} declares {q}"));
            assert_eq!(p["in"], "query", "{path} {q}");
        }
    }

    /// Every schema a `$ref` points at exists.
    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(super::api_doc()).unwrap();
        fn walk(v: &Value, doc: &Value) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
                        assert!(doc["components"]["schemas"][name].is_object(), "{r} resolves");
                    }
                    m.values().for_each(|v| walk(v, doc));
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, doc)),
                _ => {}
            }
        }
        walk(&doc, &doc);
    }
}
