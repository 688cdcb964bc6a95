//! The JSON API under `/api/v1`: bearer tokens issued by an admin, the same use cases and
//! the same policy as the UI, errors as `{code, message, field?}`, and the OpenAPI
//! document generated from this code at `/api/v1/openapi.json`.

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_domain::access::Principal;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::AppState;

pub mod calendar;
pub mod org;
pub mod petitions;
pub mod search;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(calendar::router())
        .merge(org::router())
        .merge(petitions::router())
        .merge(search::router())
        .fallback(api_not_found)
}

/// The error body of every failed API call.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable machine code: unauthenticated, forbidden, not_found, invalid, refused,
    /// invalid_json, internal.
    pub code: &'static str,
    /// Chinese message naming the field and the rule.
    pub message: String,
    /// The offending field, when one field is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// Every field error, when the input broke several rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError(StatusCode, ApiErrorBody);

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(status, ApiErrorBody { code, message: message.into(), field: None, errors: Vec::new() })
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(f) => {
                let errors: Vec<FieldErrorBody> =
                    f.0.iter().map(|e| FieldErrorBody { field: e.field, message: e.message.clone() }).collect();
                ApiError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ApiErrorBody {
                        code: "invalid",
                        message: f.to_string(),
                        field: f.0.first().map(|e| e.field),
                        errors,
                    },
                )
            }
            other => {
                // The one mapping (status, stable code, message) shared with the pages.
                let v = other.view();
                let status = StatusCode::from_u16(v.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                ApiError::new(status, v.code, v.message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(self.1)).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "接口不存在")
}

/// The caller of an API request, from `Authorization: Bearer <token>`.
pub struct Caller {
    pub principal: Principal,
    pub label: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let Some(token) = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "缺少接口令牌：请在 Authorization 头中提供 Bearer 令牌",
            ));
        };
        let (id, principal) = state.app.bearer(token).await?;
        Ok(Caller { principal, label: format!("token:{id}") })
    }
}

/// A JSON body whose rejection is our error format, not the framework's text.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => {
                let (status, message) = match &rej {
                    JsonRejection::MissingJsonContentType(_) => {
                        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "请求头 Content-Type 须为 application/json".to_owned())
                    }
                    JsonRejection::JsonSyntaxError(e) => {
                        (StatusCode::BAD_REQUEST, format!("请求体不是合法的 JSON：{}", source_text(e)))
                    }
                    JsonRejection::JsonDataError(e) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, format!("请求体字段不符合要求：{}", source_text(e)))
                    }
                    JsonRejection::BytesRejection(_) => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "请求体超过上限（一般请求为配置项 body_limit_kib，默认 256 KiB；批量导入为 1,000 行 × 40 KiB）或无法读取".to_owned(),
                    ),
                    _ => (StatusCode::BAD_REQUEST, "请求体无法解析".to_owned()),
                };
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid_json" };
                Err(ApiError::new(status, code, message))
            }
        }
    }
}

/// Query parameters whose rejection is our error format.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("查询参数不符合要求：{}", source_text(&e)),
            )),
        }
    }
}

/// Path parameters whose rejection is our error format (e.g. `/users/abc`).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => {
                Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("地址参数不正确：{}", source_text(&e))))
            }
        }
    }
}

pub(crate) fn source_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s = inner.to_string();
        cur = inner.source();
    }
    s
}

pub(crate) fn by<'a>(c: &'a Caller, addr: &'a str) -> By<'a> {
    By { who: &c.principal, username: &c.label, source_addr: addr }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of `/api/v1`, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "fazhi 法治政府建设工作平台 API", version = "1", description = "令牌由管理员在「接口令牌」页面签发，以 Authorization: Bearer <令牌> 调用；权限与数据范围与令牌所代表账户相同。"),
    components(schemas(ApiErrorBody, FieldErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "org", description = "组织机构与用户"), (name = "search", description = "全文检索（限于调用者的数据范围）"),
        (name = "petitions", description = "信访件：登记、办理、批量导入（全部成功或全部不导入）"),
        (name = "calendar", description = "节假日安排：查看某年安排；导入分两步，先预览（对比、法定节日核对、受影响的期限），再凭预览的确认码导入"))
)]
pub struct ApiDoc;

/// The whole document: the common part merged with each module's part.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(calendar::Doc::openapi());
    doc.merge(org::Doc::openapi());
    doc.merge(petitions::Doc::openapi());
    doc.merge(search::Doc::openapi());
    doc
}

async fn openapi() -> Response {
    Json(api_doc()).into_response()
}
