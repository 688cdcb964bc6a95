//! The JSON API under `/api/v1`: bearer tokens issued by an admin, the same use cases and
//! the same policy as the UI, errors as `{code, message, field?}`, and the OpenAPI
//! document generated from this code at `/api/v1/openapi.json`.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_app::petitions::StepInput;
use fazhi_app::search::{MAX_LIMIT, MAX_QUERY_CHARS, SearchHit, module_label};
use fazhi_domain::access::Principal;
use fazhi_domain::org::OrgDraft;
use fazhi_domain::user::UserDraft;
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::org::OrgRow;
use fazhi_store::search::strip_marks;
use fazhi_store::users::{UserQuery, UserRow};
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::AppState;
use crate::pages::search::{TextPart, record_href, text_parts};
use crate::session::ClientAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/orgs", get(list_orgs).post(create_org))
        .route("/orgs/{id}", get(get_org))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user))
        .route("/petitions", get(list_petitions).post(create_petition))
        .route("/petitions/import", axum::routing::post(import_petitions))
        .route("/petitions/{id}", get(get_petition))
        .route("/petitions/{id}/steps", axum::routing::post(petition_step))
        .route("/search", get(search))
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
            AppError::Forbidden(r) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", r.to_string()),
            AppError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what}不存在")),
            AppError::Refused(m) => ApiError::new(StatusCode::CONFLICT, "refused", m),
            AppError::Unauthenticated(m) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m),
            AppError::Internal(m) => {
                tracing::error!(detail = m, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器内部错误，已记录日志")
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
                    JsonRejection::BytesRejection(_) => {
                        (StatusCode::PAYLOAD_TOO_LARGE, "请求体过大或无法读取".to_owned())
                    }
                    _ => (StatusCode::BAD_REQUEST, "请求体无法解析".to_owned()),
                };
                Err(ApiError::new(status, "invalid_json", message))
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

fn source_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s = inner.to_string();
        cur = inner.source();
    }
    s
}

/// An org node.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct OrgOut {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// Kind code: district, street, township, department, community, village, grid.
    pub kind: String,
    pub name: String,
    pub code: String,
    /// Materialised path of ids from the root, e.g. `/1/2/7/`.
    pub path: String,
}

impl From<OrgRow> for OrgOut {
    fn from(r: OrgRow) -> Self {
        OrgOut { id: r.id, parent_id: r.parent_id, kind: r.kind, name: r.name, code: r.code, path: r.path }
    }
}

/// A user account (no secrets).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub org_id: i64,
    pub org_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
}

impl From<UserRow> for UserOut {
    fn from(u: UserRow) -> Self {
        UserOut {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            mobile: u.mobile,
            org_id: u.org_id,
            org_name: u.org_name,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
        }
    }
}

/// The caller and what it may do.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct MeOut {
    pub user_id: i64,
    pub org_id: i64,
    /// Permission code -> data scope (all, subtree, org, own).
    pub permissions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct NewOrgBody {
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub mobile: String,
    pub org_id: i64,
    /// Role ids to assign.
    #[serde(default)]
    pub roles: Vec<i64>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CreatedUserOut {
    pub user: UserOut,
    /// Shown once; the user must change it at first login.
    pub one_time_password: String,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct UserListParams {
    /// Substring of username or display name.
    pub q: Option<String>,
    /// Only users on this org node.
    pub org_id: Option<i64>,
    /// Page size (1–1000, default 100).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn by<'a>(c: &'a Caller, addr: &'a str) -> By<'a> {
    By { who: &c.principal, username: &c.label, source_addr: addr }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "org",
    responses((status = 200, body = MeOut), (status = 401, body = ApiErrorBody)))]
async fn me(c: Caller) -> Json<MeOut> {
    Json(MeOut {
        user_id: c.principal.user_id.0,
        org_id: c.principal.org_id.0,
        permissions: c.principal.permissions().map(|(p, s)| (p.code().to_owned(), s.code().to_owned())).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/orgs", tag = "org",
    responses((status = 200, body = [OrgOut]), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
async fn list_orgs(State(state): State<AppState>, c: Caller) -> Result<Json<Vec<OrgOut>>, ApiError> {
    Ok(Json(state.app.org_tree(&c.principal).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "org", params(("id" = i64, Path, description = "org node id")),
    responses((status = 200, body = OrgOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
async fn get_org(
    State(state): State<AppState>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OrgOut>, ApiError> {
    Ok(Json(state.app.org_node(&c.principal, OrgId(id)).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/orgs", tag = "org", request_body = NewOrgBody,
    responses((status = 201, body = OrgOut), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
async fn create_org(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<NewOrgBody>,
) -> Result<(StatusCode, Json<OrgOut>), ApiError> {
    let draft = OrgDraft { name: body.name, kind: body.kind, parent_id: body.parent_id, code: body.code };
    let id = state.app.create_org(&by(&c, &addr), &draft).await?;
    Ok((StatusCode::CREATED, Json(state.app.org_node(&c.principal, id).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "org", params(UserListParams),
    responses((status = 200, body = [UserOut]), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    c: Caller,
    ApiQuery(p): ApiQuery<UserListParams>,
) -> Result<Json<Vec<UserOut>>, ApiError> {
    let q = UserQuery {
        text: p.q.filter(|s| !s.trim().is_empty()),
        org_id: p.org_id.map(OrgId),
        limit: p.limit.unwrap_or(100),
        offset: p.offset.unwrap_or(0),
    };
    Ok(Json(state.app.list_users(&c.principal, &q).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "org", params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserOut>, ApiError> {
    Ok(Json(state.app.user_detail(&c.principal, UserId(id)).await?.user.into()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "org", request_body = NewUserBody,
    responses((status = 201, body = CreatedUserOut), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<CreatedUserOut>), ApiError> {
    let draft = UserDraft {
        username: body.username,
        display_name: body.display_name,
        mobile: body.mobile,
        org_id: Some(body.org_id),
    };
    let issued = state.app.create_user(&by(&c, &addr), &draft, &body.roles).await?;
    let user = state.app.user_detail(&c.principal, issued.user_id).await?.user.into();
    Ok((StatusCode::CREATED, Json(CreatedUserOut { user, one_time_password: issued.one_time_password })))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
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
    /// Record type as in the ledger: `org_node`, `user`.
    pub record_type: String,
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
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<Vec<SearchHitOut>>, ApiError> {
    let Query(p) = p.map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("查询参数不符合要求：{}", source_text(&e)))
    })?;
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

/// A petitioner in an API body.
#[derive(Debug, Clone, Default, serde::Deserialize, ToSchema)]
pub struct PetitionerIn {
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub address: String,
}

/// A petition item as registered by an integration or the desk.
#[derive(Debug, Clone, Default, serde::Deserialize, ToSchema)]
pub struct PetitionIn {
    /// online, letter, phone, visit, hotline12345, platform
    pub channel: String,
    /// Number in the pushing system (required for hotline12345 and platform).
    #[serde(default)]
    pub external_no: String,
    /// suggestion, accusation, claim
    pub category: String,
    #[serde(default)]
    pub subject: String,
    pub title: String,
    pub content: String,
    pub headcount: Option<u32>,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub received_on: String,
    pub org_id: Option<i64>,
    #[serde(default)]
    pub petitioners: Vec<PetitionerIn>,
    /// 集体访 / 联名.
    #[serde(default)]
    pub collective: bool,
    /// Already accepted by another body (第十九条第三款): who and when.
    #[serde(default)]
    pub accepted_elsewhere: String,
}

impl PetitionIn {
    fn draft(self) -> fazhi_app::petitions::IntakeDraft {
        fazhi_app::petitions::IntakeDraft {
            channel: self.channel,
            external_no: self.external_no,
            category: self.category,
            subject: self.subject,
            title: self.title,
            content: self.content,
            headcount: self.headcount,
            received_on: self.received_on,
            org_id: self.org_id,
            collective: self.collective,
            accepted_elsewhere: self.accepted_elsewhere,
            petitioners: self
                .petitioners
                .into_iter()
                .map(|p| fazhi_app::petitions::PetitionerDraft {
                    name: p.name,
                    phone: p.phone,
                    id_number: p.id_number,
                    address: p.address,
                })
                .collect(),
        }
    }
}

/// A registered item.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PetitionCreated {
    pub id: i64,
    pub tracking_code: String,
    pub warnings: Vec<String>,
    /// Earlier similar items of the same petitioner: ids.
    pub possible_duplicates: Vec<i64>,
}

impl From<fazhi_app::petitions::Intake> for PetitionCreated {
    fn from(i: fazhi_app::petitions::Intake) -> Self {
        PetitionCreated {
            id: i.id,
            tracking_code: i.tracking_code,
            warnings: i.warnings,
            possible_duplicates: i.possible_duplicates.into_iter().map(|(id, _)| id).collect(),
        }
    }
}

/// An item as the API shows it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PetitionOut {
    pub id: i64,
    pub org_id: i64,
    pub tracking_code: String,
    pub channel: String,
    pub category: String,
    pub title: String,
    pub state: String,
    pub received_on: String,
    pub headcount: i64,
    /// Due dates of the item's statutory clocks: rule id -> YYYY-MM-DD.
    pub due: std::collections::BTreeMap<String, Option<String>>,
}

fn petition_out(p: fazhi_store::petitions::PetitionRow, clocks: &[fazhi_app::clocks::ClockView]) -> PetitionOut {
    PetitionOut {
        id: p.id,
        org_id: p.org_id,
        tracking_code: p.tracking_code,
        channel: p.channel,
        category: p.category,
        title: p.title,
        state: p.state,
        received_on: p.received_on,
        headcount: p.headcount,
        due: clocks.iter().map(|c| (c.clock.rule.id.clone(), c.row.due_date.clone())).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/petitions", tag = "petitions",
    responses((status = 200, body = [PetitionOut]), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
async fn list_petitions(State(state): State<AppState>, c: Caller) -> Result<Json<Vec<PetitionOut>>, ApiError> {
    let q = fazhi_store::petitions::PetitionQuery { limit: 500, ..Default::default() };
    let rows = state.app.petitions(&c.principal, &q).await?;
    Ok(Json(rows.into_iter().map(|p| petition_out(p, &[])).collect()))
}

#[utoipa::path(get, path = "/api/v1/petitions/{id}", tag = "petitions", params(("id" = i64, Path, description = "petition id")),
    responses((status = 200, body = PetitionOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
async fn get_petition(
    State(state): State<AppState>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PetitionOut>, ApiError> {
    let (row, clocks) = state.app.petition(&c.principal, id).await?;
    Ok(Json(petition_out(row, &clocks)))
}

#[utoipa::path(post, path = "/api/v1/petitions", tag = "petitions", request_body = PetitionIn,
    responses((status = 201, body = PetitionCreated), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
async fn create_petition(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<PetitionIn>,
) -> Result<(StatusCode, Json<PetitionCreated>), ApiError> {
    let i = state.app.intake(&by(&c, &addr), &body.draft()).await?;
    Ok((StatusCode::CREATED, Json(i.into())))
}

#[utoipa::path(post, path = "/api/v1/petitions/import", tag = "petitions", request_body = [PetitionIn],
    responses((status = 201, body = [PetitionCreated]), (status = 422, body = ApiErrorBody, description = "nothing imported; every bad row listed")))]
async fn import_petitions(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<Vec<PetitionIn>>,
) -> Result<(StatusCode, Json<Vec<PetitionCreated>>), ApiError> {
    let drafts: Vec<_> = body.into_iter().map(PetitionIn::draft).collect();
    let done = state.app.import_petitions(&by(&c, &addr), &drafts).await?;
    Ok((StatusCode::CREATED, Json(done.into_iter().map(Into::into).collect())))
}

#[utoipa::path(post, path = "/api/v1/petitions/{id}/steps", tag = "petitions", params(("id" = i64, Path, description = "petition id")),
    request_body = StepInput,
    responses((status = 200, body = PetitionOut), (status = 422, body = ApiErrorBody)))]
async fn petition_step(
    State(state): State<AppState>,
    c: Caller,
    ClientAddr(addr): ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StepInput>,
) -> Result<Json<PetitionOut>, ApiError> {
    let event = body.event().map_err(AppError::Invalid)?;
    // The step's own result: after a transfer the caller may no longer read the item, and
    // must still learn that the step was done.
    let (row, clocks) = state.app.petition_step(&by(&c, &addr), id, event).await?;
    Ok(Json(petition_out(row, &clocks)))
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
    paths(me, list_orgs, get_org, create_org, list_users, get_user, create_user, list_petitions, get_petition, create_petition, import_petitions, petition_step, search),
    components(schemas(ApiErrorBody, FieldErrorBody, OrgOut, UserOut, MeOut, NewOrgBody, NewUserBody, CreatedUserOut,
        SearchHitOut, TextPart, PetitionIn, PetitionerIn, PetitionCreated, PetitionOut, StepInput)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "org", description = "组织机构与用户"), (name = "search", description = "全文检索（限于调用者的数据范围）"),
        (name = "petitions", description = "信访件：登记、办理、批量导入（全部成功或全部不导入）"))
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
