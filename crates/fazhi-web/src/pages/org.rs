//! The org tree: view, create, rename, move, delete.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::org::OrgRow;
use fazhi_app::users::{UserQuery, UserRow};
use fazhi_domain::access::ORG_MANAGE;
use fazhi_domain::org::{OrgDraft, OrgKind};
use fazhi_domain::{FieldErrors, OrgId};

use super::{Chrome, Done, PageResult, form_id, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/org", get(tree).post(create))
        .route("/org/{id}", get(node).post(update))
        .route("/org/{id}/move", post(move_node))
        .route("/org/{id}/delete", post(delete))
        .route("/org/{id}/webhook", post(set_webhook))
}

/// A node as listed in the tree.
pub struct TreeLine {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub depth: usize,
    pub indent: String,
}

/// A choice in a select of nodes (indented by depth).
pub struct NodeOption {
    pub id: i64,
    pub label: String,
}

fn kind_label(kinds: &[OrgKind], code: &str) -> String {
    kinds.iter().find(|k| k.code == code).map_or_else(|| code.to_owned(), |k| k.label.clone())
}

fn lines(rows: &[OrgRow], kinds: &[OrgKind]) -> Vec<TreeLine> {
    let min = rows.iter().map(|r| r.org_path().depth()).min().unwrap_or(1);
    rows.iter()
        .map(|r| {
            let depth = r.org_path().depth() - min;
            TreeLine {
                id: r.id,
                name: r.name.clone(),
                kind: kind_label(kinds, &r.kind),
                depth,
                indent: "　".repeat(depth),
            }
        })
        .collect()
}

pub fn options(rows: &[OrgRow], kinds: &[OrgKind]) -> Vec<NodeOption> {
    lines(rows, kinds)
        .into_iter()
        .map(|l| NodeOption { id: l.id, label: format!("{}{}（{}）", "　".repeat(l.depth), l.name, l.kind) })
        .collect()
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    official_name: String,
}

impl OrgForm {
    fn parent_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.parent_id) == Some(*id.borrow())
    }

    fn kind_is(&self, code: impl AsRef<str>) -> bool {
        self.kind == code.as_ref()
    }

    fn draft(&self) -> OrgDraft {
        OrgDraft {
            name: self.name.clone(),
            kind: self.kind.clone(),
            parent_id: form_id(&self.parent_id),
            code: self.code.clone(),
            official_name: self.official_name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/org_tree.html")]
struct TreePage {
    chrome: Chrome,
    lines: Vec<TreeLine>,
    kinds: Vec<OrgKind>,
    parents: Vec<NodeOption>,
    can_manage: bool,
    form: OrgForm,
    errors: FieldErrors,
}

async fn tree_page(
    state: &AppState,
    s: &SessionInfo,
    form: OrgForm,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<TreePage, AppError> {
    let rows = state.app.org_tree(&s.principal).await?;
    let kinds = state.app.org_kinds().await?;
    let manageable = state.app.org_manageable(&s.principal).await?;
    Ok(TreePage {
        chrome: Chrome::new(s, "组织机构", "/org").with_notice(done),
        lines: lines(&rows, &kinds),
        parents: options(&manageable, &kinds),
        kinds,
        can_manage: s.principal.has(ORG_MANAGE),
        form,
        errors,
    })
}

async fn tree(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    let page = tree_page(&state, &s, OrgForm::default(), FieldErrors::new(), d.done.as_deref()).await?;
    super::render(&page)
}

async fn create(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.create_org(&by, &f.draft()).await {
        Ok(id) => Ok(Redirect::to(&format!("/org/{id}?done=org_created")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = tree_page(&state, &s, f, errors, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/org_node.html")]
struct NodePage {
    chrome: Chrome,
    node: OrgRow,
    kind: String,
    children: Vec<TreeLine>,
    users: Vec<UserRow>,
    parents: Vec<NodeOption>,
    can_manage: bool,
    form: OrgForm,
    errors: FieldErrors,
    refusal: Option<String>,
    timeline: Vec<super::ledger::TimelineLine>,
    attachments: Vec<fazhi_app::attachments::AttachmentRow>,
    max_upload_mb: u64,
    /// Host of the reminder webhook, if set (the full URL holds a secret key).
    webhook: Option<String>,
}

/// The node page with errors of an attachment upload.
pub async fn node_with_errors(state: &AppState, s: &SessionInfo, id: OrgId, errors: FieldErrors) -> PageResult {
    let page = node_page(state, s, id, None, errors, None, None).await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn node_page(
    state: &AppState,
    s: &SessionInfo,
    id: OrgId,
    form: Option<OrgForm>,
    errors: FieldErrors,
    refusal: Option<String>,
    done: Option<&str>,
) -> Result<NodePage, AppError> {
    let node = state.app.org_node(&s.principal, id).await?;
    let kinds = state.app.org_kinds().await?;
    let all = state.app.org_tree(&s.principal).await?;
    let children: Vec<OrgRow> = all.iter().filter(|r| r.parent_id == Some(node.id)).cloned().collect();
    let users = if s.principal.has(fazhi_domain::access::USER_READ) {
        let q = UserQuery { org_id: Some(id), limit: 200, ..Default::default() };
        state.app.list_users(&s.principal, &q).await?
    } else {
        Vec::new()
    };
    let own_path = node.org_path();
    let manageable = state.app.org_manageable(&s.principal).await?;
    // A node cannot move under itself or its descendants: leave those out of the choices.
    let targets: Vec<OrgRow> = manageable.into_iter().filter(|r| !r.org_path().is_within(&own_path)).collect();
    let can_manage = fazhi_domain::access::authorize(&s.principal, ORG_MANAGE, &fazhi_app::org::node_ref(&node))
        == fazhi_domain::access::Decision::Allow;
    let form = form.unwrap_or_else(|| OrgForm {
        name: node.name.clone(),
        kind: node.kind.clone(),
        parent_id: node.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        code: node.code.clone(),
        official_name: node.official_name.clone().unwrap_or_default(),
    });
    let timeline = super::ledger::timeline(
        state
            .app
            .timeline(&s.principal, fazhi_domain::record::RecordKey::new(&fazhi_domain::record::ORG_NODE, node.id))
            .await?,
    );
    let attachments =
        state.app.attachments_of(&s.principal, fazhi_domain::record::ORG_NODE.code, &node.id.to_string()).await?;
    let webhook = if can_manage { state.app.webhook_of(OrgId(node.id)).await? } else { None };
    Ok(NodePage {
        webhook,
        timeline,
        attachments,
        max_upload_mb: state.app.attachment_max_bytes / (1024 * 1024),
        chrome: Chrome::new(s, format!("机构：{}", node.name), "/org").with_notice(done),
        kind: kind_label(&kinds, &node.kind),
        children: lines(&children, &kinds),
        parents: options(&targets, &kinds),
        node,
        users,
        can_manage,
        form,
        errors,
        refusal,
    })
}

async fn node(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
    Query(d): Query<Done>,
) -> PageResult {
    let page = node_page(&state, &s, OrgId(id), None, FieldErrors::new(), None, d.done.as_deref()).await?;
    super::render(&page)
}

/// Shows the node page again with what went wrong, or passes other errors on.
async fn node_again(state: &AppState, s: &SessionInfo, id: OrgId, form: Option<OrgForm>, e: AppError) -> PageResult {
    let (errors, refusal, status) = match e {
        AppError::Invalid(errors) => (errors, None, StatusCode::UNPROCESSABLE_ENTITY),
        AppError::Refused(m) => (FieldErrors::new(), Some(m), StatusCode::CONFLICT),
        other => return Err(other.into()),
    };
    let page = node_page(state, s, id, form, errors, refusal, None).await?;
    render_status(status, &page)
}

async fn update(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.update_org(&by, OrgId(id), &f.draft()).await {
        Ok(()) => Ok(Redirect::to(&format!("/org/{id}?done=org_updated")).into_response()),
        Err(e) => node_again(&state, &s, OrgId(id), Some(f), e).await,
    }
}

#[derive(Debug, serde::Deserialize)]
struct MoveForm {
    #[serde(default)]
    parent_id: String,
}

async fn move_node(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    let result = match form_id(&f.parent_id) {
        Some(p) => state.app.move_org(&by, OrgId(id), OrgId(p)).await,
        None => Err(AppError::Invalid(FieldErrors::single("parent_id", "请选择新的上级机构"))),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/org/{id}?done=org_moved")).into_response()),
        Err(e) => node_again(&state, &s, OrgId(id), None, e).await,
    }
}

#[derive(Debug, serde::Deserialize)]
struct Empty {}

async fn delete(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.delete_org(&by, OrgId(id)).await {
        Ok(()) => Ok(Redirect::to("/org?done=org_deleted").into_response()),
        Err(e) => node_again(&state, &s, OrgId(id), None, e).await,
    }
}

#[derive(Debug, serde::Deserialize)]
struct WebhookForm {
    #[serde(default)]
    webhook: String,
}

async fn set_webhook(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(f): CsrfForm<WebhookForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.set_webhook(&by, OrgId(id), &f.webhook).await {
        Ok(()) => Ok(Redirect::to(&format!("/org/{id}?done=org_updated")).into_response()),
        Err(e) => node_again(&state, &s, OrgId(id), None, e).await,
    }
}
