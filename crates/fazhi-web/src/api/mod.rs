//! The JSON API under `/api/v1`: bearer tokens issued by an admin, the same use cases and
//! the same policy as the UI, errors as `{code, message, field?}`, and the OpenAPI
//! document generated from this code at `/api/v1/openapi.json`.

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_domain::access::Principal;
use utoipa::ToSchema;

use crate::AppState;

pub mod calendar;
pub mod extract;
pub mod openapi;
pub mod org;
pub mod petitions;
pub mod search;

pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use openapi::api_doc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
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
    /// invalid_json, too_large, unavailable, internal.
    pub code: &'static str,
    /// Chinese message naming the field and the rule.
    pub message: String,
    /// The offending field, when one field is at fault (a dotted path, `[i]` for an array
    /// item, e.g. `petitioner.name`, `roles[1]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field error, when the input broke several rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
}

/// One field's error within [`ApiErrorBody::errors`].
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// The field, as in [`ApiErrorBody::field`].
    pub field: String,
    /// Chinese message naming the field and the rule.
    pub message: String,
}

/// A failed API call: its status and the one error body.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub ApiErrorBody);

impl ApiError {
    /// An error not about one field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(status, ApiErrorBody { code, message: message.into(), field: None, errors: Vec::new() })
    }

    /// An error about one field (when known), listed in `errors` too.
    pub fn field(status: StatusCode, code: &'static str, field: Option<String>, message: String) -> Self {
        let errors = field.iter().map(|f| FieldErrorBody { field: f.clone(), message: message.clone() }).collect();
        ApiError(status, ApiErrorBody { code, message, field, errors })
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(f) => {
                let errors: Vec<FieldErrorBody> =
                    f.0.iter()
                        .map(|e| FieldErrorBody { field: e.field.to_owned(), message: e.message.clone() })
                        .collect();
                ApiError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ApiErrorBody {
                        code: "invalid",
                        message: f.to_string(),
                        field: f.0.first().map(|e| e.field.to_owned()),
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

pub(crate) fn by<'a>(c: &'a Caller, addr: &'a str) -> By<'a> {
    By { who: &c.principal, username: &c.label, source_addr: addr }
}
