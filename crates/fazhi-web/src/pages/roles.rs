//! Roles: the built-in ones (read-only) and the installation's own.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::roles::RoleDraft;
use fazhi_app::roles::RoleRow;
use fazhi_domain::access::{DataScope, PERMISSIONS, ROLE_MANAGE};
use fazhi_domain::{FieldErrors, RoleId};

use super::{Chrome, Done, PageResult, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/roles", get(list))
        .route("/roles/new", get(new_page).post(create))
        .route("/roles/{id}", get(edit_page).post(update))
}

struct RoleLine {
    id: i64,
    name: String,
    description: String,
    scope: &'static str,
    builtin: bool,
    permissions: String,
}

#[derive(Template)]
#[template(path = "pages/roles.html")]
struct ListPage {
    chrome: Chrome,
    roles: Vec<RoleLine>,
    can_manage: bool,
}

fn line(r: &RoleRow) -> RoleLine {
    RoleLine {
        id: r.id.0,
        name: r.name.clone(),
        description: r.description.clone(),
        scope: r.scope.label(),
        builtin: r.builtin,
        permissions: r.permissions.iter().map(|p| p.label()).collect::<Vec<_>>().join("、"),
    }
}

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    let roles = state.app.list_roles(&s.principal).await?.iter().map(line).collect();
    render(&ListPage {
        chrome: Chrome::new(&s, "角色", "/roles").with_notice(d.done.as_deref()),
        roles,
        can_manage: s.principal.has(ROLE_MANAGE),
    })
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct RoleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    permissions: Vec<String>,
}

impl RoleForm {
    fn scope_is(&self, code: impl AsRef<str>) -> bool {
        self.scope == code.as_ref()
    }

    fn draft(&self) -> RoleDraft {
        RoleDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            scope: self.scope.clone(),
            permissions: self.permissions.clone(),
        }
    }

    fn has(&self, code: impl AsRef<str>) -> bool {
        self.permissions.iter().any(|p| p == code.as_ref())
    }
}

struct PermChoice {
    code: &'static str,
    label: &'static str,
    module: &'static str,
}

struct ScopeChoice {
    code: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "pages/role_form.html")]
struct FormPage {
    chrome: Chrome,
    action: String,
    form: RoleForm,
    errors: FieldErrors,
    perms: Vec<PermChoice>,
    scopes: Vec<ScopeChoice>,
    readonly: bool,
}

fn form_page(
    s: &SessionInfo,
    title: String,
    action: String,
    form: RoleForm,
    errors: FieldErrors,
    readonly: bool,
) -> FormPage {
    let perms = PERMISSIONS
        .iter()
        .map(|p| PermChoice { code: p.code.code(), label: p.label, module: super::home::module_label(p.module) })
        .collect();
    let scopes = DataScope::ALL.iter().map(|d| ScopeChoice { code: d.code(), label: d.label() }).collect();
    FormPage { chrome: Chrome::new(s, title, "/roles"), action, form, errors, perms, scopes, readonly }
}

async fn new_page(Staff(s): Staff) -> PageResult {
    if !s.principal.has(ROLE_MANAGE) {
        return Err(AppError::Forbidden(fazhi_domain::access::DenyReason::NoPermission(ROLE_MANAGE)).into());
    }
    let form = RoleForm { scope: DataScope::Org.code().into(), ..Default::default() };
    render(&form_page(&s, "新建角色".into(), "/roles/new".into(), form, FieldErrors::new(), false))
}

async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<RoleForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.create_role(&by, &f.draft()).await {
        Ok(_) => Ok(Redirect::to("/roles?done=role_created").into_response()),
        Err(AppError::Invalid(errors)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(&s, "新建角色".into(), "/roles/new".into(), f, errors, false),
        ),
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(State(state): State<AppState>, Staff(s): Staff, PagePath(id): PagePath<i64>) -> PageResult {
    let r = state.app.role(&s.principal, RoleId(id)).await?;
    let form = RoleForm {
        name: r.name.clone(),
        description: r.description.clone(),
        scope: r.scope.code().into(),
        permissions: r.permissions.iter().map(|p| p.code().to_owned()).collect(),
    };
    let readonly = r.builtin || !s.principal.has(ROLE_MANAGE);
    render(&form_page(&s, format!("角色：{}", r.name), format!("/roles/{id}"), form, FieldErrors::new(), readonly))
}

async fn update(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<RoleForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.update_role(&by, RoleId(id), &f.draft()).await {
        Ok(()) => Ok(Redirect::to("/roles?done=role_updated").into_response()),
        Err(AppError::Invalid(errors)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(&s, "修改角色".into(), format!("/roles/{id}"), f, errors, false),
        ),
        Err(e) => Err(e.into()),
    }
}
