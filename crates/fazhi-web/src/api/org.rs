//! `/api/v1/me`, `/orgs`, `/users`: the caller, org nodes and accounts within its scope.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use utoipa::{OpenApi, ToSchema};

use super::{ApiError, ApiErrorBody, ApiJson, ApiPath, ApiQuery, Caller, by};
use crate::AppState;
use crate::session::ClientAddr;
use fazhi_app::org::OrgRow;
use fazhi_app::users::{UserQuery, UserRow};
use fazhi_domain::org::OrgDraft;
use fazhi_domain::user::UserDraft;
use fazhi_domain::{OrgId, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/orgs", get(list_orgs).post(create_org))
        .route("/orgs/{id}", get(get_org))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user))
}

/// The OpenAPI part of this router.
#[derive(OpenApi)]
#[openapi(
    paths(me, list_orgs, get_org, create_org, list_users, get_user, create_user),
    components(schemas(OrgOut, UserOut, MeOut, NewOrgBody, NewUserBody, CreatedUserOut))
)]
pub struct Doc;

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
    /// `person` or `integration` (no password login; API tokens only).
    pub kind: String,
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
            kind: u.kind,
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
    /// Role ids to assign (needs `role.assign`: 三员分立, the 安全管理员 assigns roles).
    #[serde(default)]
    pub roles: Vec<i64>,
    /// An integration account: no password login, API tokens only (default: a person).
    #[serde(default)]
    pub integration: bool,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CreatedUserOut {
    pub user: UserOut,
    /// Shown once; the user must change it at first login. Empty for an integration account.
    pub one_time_password: String,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Substring of username or display name.
    pub q: Option<String>,
    /// Only users on this org node.
    pub org_id: Option<i64>,
    /// Page size (1–1000, default 100).
    pub limit: Option<i64>,
    /// Users to skip before the page (default 0).
    pub offset: Option<i64>,
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
    let draft =
        OrgDraft { name: body.name, kind: body.kind, parent_id: body.parent_id, code: body.code, ..Default::default() };
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
    let (id, one_time_password) = if body.integration {
        (state.app.create_integration(&by(&c, &addr), &draft, &body.roles).await?, String::new())
    } else {
        let issued = state.app.create_user(&by(&c, &addr), &draft, &body.roles).await?;
        (issued.user_id, issued.one_time_password)
    };
    let user = state.app.user_detail(&c.principal, id).await?.user.into();
    Ok((StatusCode::CREATED, Json(CreatedUserOut { user, one_time_password })))
}
