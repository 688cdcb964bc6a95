//! Users: list, create, edit, disable/enable, reset password, assign roles.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::roles::RoleRow;
use fazhi_app::users::Issued;
use fazhi_app::users::{UserQuery, UserRow};
use fazhi_domain::access::{Decision, ROLE_ASSIGN, USER_MANAGE, authorize, may_grant};
use fazhi_domain::user::UserDraft;
use fazhi_domain::{FieldErrors, UserId};

use super::org::{NodeOption, options};
use super::{Chrome, Done, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list))
        .route("/users/new", get(new_page).post(create))
        .route("/users/{id}", get(detail).post(update))
        .route("/users/{id}/disable", post(disable))
        .route("/users/{id}/enable", post(enable))
        .route("/users/{id}/reset-password", post(reset))
}

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "pages/users.html")]
struct ListPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    q: String,
    page: i64,
    has_more: bool,
    can_manage: bool,
}

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(lq): Query<ListQuery>) -> PageResult {
    let page = lq.page.unwrap_or(1).max(1);
    let text = lq.q.trim().to_owned();
    let q = UserQuery {
        text: (!text.is_empty()).then(|| text.clone()),
        org_id: None,
        limit: PAGE_SIZE + 1,
        offset: (page - 1) * PAGE_SIZE,
    };
    let mut users = state.app.list_users(&s.principal, &q).await?;
    let has_more = users.len() as i64 > PAGE_SIZE;
    users.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    render(&ListPage {
        chrome: Chrome::new(&s, "用户", "/users"),
        users,
        q: text,
        page,
        has_more,
        can_manage: s.principal.has(USER_MANAGE),
    })
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    roles: Vec<String>,
    /// "1" for an integration account (the new-user form only).
    #[serde(default)]
    integration: String,
}

impl UserForm {
    fn draft(&self) -> UserDraft {
        UserDraft {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            mobile: self.mobile.clone(),
            org_id: form_id(&self.org_id),
        }
    }

    fn role_ids(&self) -> Vec<i64> {
        self.roles.iter().filter_map(|r| form_id(r)).collect()
    }

    fn has_role<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        self.roles.iter().any(|r| form_id(r) == Some(*id.borrow()))
    }

    fn org_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.org_id) == Some(*id.borrow())
    }
}

/// A role as a checkbox: the ones beyond the assigner's reach are shown but disabled (and
/// kept as they are through [`Fields::kept`]).
struct RoleChoice {
    id: i64,
    name: String,
    scope: &'static str,
    description: String,
    grantable: bool,
}

/// What the shared user fields may change (三员分立): the 系统管理员 edits the account, the
/// 安全管理员 the roles; what one may not change is submitted as it is.
struct Fields {
    edit_profile: bool,
    assign: bool,
    /// Role ids held that the form shows no enabled checkbox for: submitted unchanged.
    kept: Vec<i64>,
}

impl Fields {
    fn new(form: &UserForm, roles: &[RoleChoice], edit_profile: bool, assign: bool) -> Self {
        let kept = form
            .role_ids()
            .into_iter()
            .filter(|id| !assign || !roles.iter().any(|r| r.id == *id && r.grantable))
            .collect();
        Self { edit_profile, assign, kept }
    }
}

fn role_choices(s: &SessionInfo, roles: &[RoleRow]) -> Vec<RoleChoice> {
    roles
        .iter()
        .map(|r| RoleChoice {
            id: r.id.0,
            name: r.name.clone(),
            scope: r.scope.label(),
            description: r.description.clone(),
            grantable: may_grant(&s.principal, r.scope).is_ok(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/user_form.html")]
struct FormPage {
    chrome: Chrome,
    form: UserForm,
    errors: FieldErrors,
    orgs: Vec<NodeOption>,
    roles: Vec<RoleChoice>,
    fields: Fields,
}

async fn form_page(
    state: &AppState,
    s: &SessionInfo,
    form: UserForm,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let kinds = state.app.org_kinds().await?;
    let orgs = options(&state.app.org_manageable_for_users(&s.principal).await?, &kinds);
    let assign = s.principal.has(ROLE_ASSIGN);
    let roles = if assign { role_choices(s, &state.app.list_roles(&s.principal).await?) } else { Vec::new() };
    let fields = Fields::new(&form, &roles, true, assign);
    Ok(FormPage { chrome: Chrome::new(s, "新建用户", "/users"), form, errors, orgs, roles, fields })
}

async fn new_page(State(state): State<AppState>, Staff(s): Staff) -> PageResult {
    if !s.principal.has(USER_MANAGE) {
        return Err(AppError::Forbidden(fazhi_domain::access::DenyReason::NoPermission(USER_MANAGE)).into());
    }
    render(&form_page(&state, &s, UserForm::default(), FieldErrors::new()).await?)
}

#[derive(Template)]
#[template(path = "pages/issued.html")]
struct IssuedPage {
    chrome: Chrome,
    heading: &'static str,
    issued: Issued,
}

async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<UserForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    if f.integration == "1" {
        return match state.app.create_integration(&by, &f.draft(), &f.role_ids()).await {
            Ok(id) => Ok(Redirect::to(&format!("/users/{}?done=user_created", id.0)).into_response()),
            Err(AppError::Invalid(errors)) => {
                render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&state, &s, f, errors).await?)
            }
            Err(e) => Err(e.into()),
        };
    }
    match state.app.create_user(&by, &f.draft(), &f.role_ids()).await {
        Ok(issued) => {
            render(&IssuedPage {
                chrome: Chrome::new(&s, "用户已新建", "/users"), heading: "用户已新建", issued
            })
        }
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&state, &s, f, errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/user_detail.html")]
struct DetailPage {
    chrome: Chrome,
    user: UserRow,
    current_roles: Vec<RoleRow>,
    can_manage: bool,
    can_assign: bool,
    fields: Fields,
    is_self: bool,
    form: UserForm,
    errors: FieldErrors,
    orgs: Vec<NodeOption>,
    roles: Vec<RoleChoice>,
    refusal: Option<String>,
    timeline: Vec<super::ledger::TimelineLine>,
}

async fn detail_page(
    state: &AppState,
    s: &SessionInfo,
    id: UserId,
    form: Option<UserForm>,
    errors: FieldErrors,
    refusal: Option<String>,
    done: Option<&str>,
) -> Result<DetailPage, AppError> {
    let d = state.app.user_detail(&s.principal, id).await?;
    let can_manage = authorize(&s.principal, USER_MANAGE, &fazhi_app::users::user_ref(&d.user)) == Decision::Allow;
    let is_self = d.user.id == s.user_id.0;
    let user_ref = fazhi_app::users::user_ref(&d.user);
    // Nobody changes their own roles: the app refuses it, the page offers no checkbox.
    let can_assign = !is_self && authorize(&s.principal, ROLE_ASSIGN, &user_ref) == Decision::Allow;
    let orgs = if can_manage {
        options(&state.app.org_manageable_for_users(&s.principal).await?, &state.app.org_kinds().await?)
    } else {
        Vec::new()
    };
    let roles = if can_assign { role_choices(s, &state.app.list_roles(&s.principal).await?) } else { Vec::new() };
    let form = form.unwrap_or_else(|| UserForm {
        username: d.user.username.clone(),
        display_name: d.user.display_name.clone(),
        mobile: d.user.mobile.clone().unwrap_or_default(),
        org_id: d.user.org_id.to_string(),
        roles: d.roles.iter().map(|r| r.id.0.to_string()).collect(),
        integration: String::new(),
    });
    let fields = Fields::new(&form, &roles, can_manage, can_assign);
    let timeline = super::ledger::timeline(
        state
            .app
            .timeline(&s.principal, fazhi_domain::record::RecordKey::new(&fazhi_domain::record::USER, id.0))
            .await?,
    );
    Ok(DetailPage {
        timeline,
        chrome: Chrome::new(s, format!("用户：{}", d.user.display_name), "/users").with_notice(done),
        is_self,
        user: d.user,
        current_roles: d.roles,
        can_manage,
        can_assign,
        fields,
        form,
        errors,
        orgs,
        roles,
        refusal,
    })
}

async fn detail(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    Query(d): Query<Done>,
) -> PageResult {
    render(&detail_page(&state, &s, UserId(id), None, FieldErrors::new(), None, d.done.as_deref()).await?)
}

async fn detail_again(
    state: &AppState,
    s: &SessionInfo,
    id: UserId,
    form: Option<UserForm>,
    e: AppError,
) -> PageResult {
    let (errors, refusal, status) = match e {
        AppError::Invalid(errors) => (errors, None, StatusCode::UNPROCESSABLE_ENTITY),
        AppError::Refused(m) => (FieldErrors::new(), Some(m), StatusCode::CONFLICT),
        other => return Err(other.into()),
    };
    render_status(status, &detail_page(state, s, id, form, errors, refusal, None).await?)
}

async fn update(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<UserForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.update_user(&by, UserId(id), &f.draft(), &f.role_ids()).await {
        Ok(()) => Ok(Redirect::to(&format!("/users/{id}?done=user_updated")).into_response()),
        Err(e) => detail_again(&state, &s, UserId(id), Some(f), e).await,
    }
}

#[derive(Debug, serde::Deserialize)]
struct Empty {}

async fn set_disabled(state: AppState, s: SessionInfo, addr: String, id: i64, disabled: bool) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.set_user_disabled(&by, UserId(id), disabled).await {
        Ok(()) => {
            let done = if disabled { "user_disabled" } else { "user_enabled" };
            Ok(Redirect::to(&format!("/users/{id}?done={done}")).into_response())
        }
        Err(e) => detail_again(&state, &s, UserId(id), None, e).await,
    }
}

async fn disable(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    set_disabled(state, s, addr, id, true).await
}

async fn enable(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    set_disabled(state, s, addr, id, false).await
}

async fn reset(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let issued = state.app.reset_password(&by, UserId(id)).await?;
    render(&IssuedPage { chrome: Chrome::new(&s, "密码已重置", "/users"), heading: "密码已重置", issued })
}
