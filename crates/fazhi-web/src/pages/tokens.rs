//! API tokens for integrations: issue (shown once), list, revoke.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::auth::SessionInfo;
use fazhi_app::org::By;
use fazhi_app::tokens::TokenRow;
use fazhi_app::users::{UserQuery, UserRow};
use fazhi_domain::{FieldErrors, TokenId};

use super::{Chrome, Done, PageResult, form_id, render, render_status};
use crate::AppState;
use crate::session::{ClientAddr, CsrfForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new().route("/tokens", get(list).post(issue)).route("/tokens/{id}/revoke", post(revoke))
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    user_id: String,
}

impl TokenForm {
    fn user_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.user_id) == Some(*id.borrow())
    }
}

#[derive(Template)]
#[template(path = "pages/tokens.html")]
struct ListPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    users: Vec<UserRow>,
    form: TokenForm,
    errors: FieldErrors,
    issued: Option<String>,
}

async fn page(
    state: &AppState,
    s: &SessionInfo,
    form: TokenForm,
    errors: FieldErrors,
    issued: Option<String>,
    done: Option<&str>,
) -> Result<ListPage, AppError> {
    let tokens = state.app.list_tokens(&s.principal).await?;
    // Tokens belong to integration accounts only (the app refuses a person's account).
    let mut users = state.app.list_users(&s.principal, &UserQuery { limit: 1000, ..Default::default() }).await?;
    users.retain(UserRow::is_integration);
    Ok(ListPage {
        chrome: Chrome::new(s, "接口令牌", "/tokens").with_notice(done),
        tokens,
        users,
        form,
        errors,
        issued,
    })
}

async fn list(State(state): State<AppState>, Staff(s): Staff, Query(d): Query<Done>) -> PageResult {
    render(&page(&state, &s, TokenForm::default(), FieldErrors::new(), None, d.done.as_deref()).await?)
}

async fn issue(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    match state.app.issue_token(&by, form_id(&f.user_id), &f.name).await {
        Ok((_, token)) => render(&page(&state, &s, TokenForm::default(), FieldErrors::new(), Some(token), None).await?),
        Err(AppError::Invalid(errors)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &s, f, errors, None, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
struct Empty {}

async fn revoke(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let by = By { who: &s.principal, username: &s.username, source_addr: &addr };
    state.app.revoke_token(&by, TokenId(id)).await?;
    Ok(Redirect::to("/tokens?done=token_revoked").into_response())
}
