//! Attachment upload (multipart, streamed) and download, under the record's scope.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_domain::{FieldErrors, OrgId};

use super::PageResult;
use crate::AppState;
use crate::error::WebError;
use crate::session::{ClientAddr, PagePath, Staff, same_secret};

pub fn router(max_upload: u64) -> Router<AppState> {
    // Leave room above the file limit for the form's other fields, so an oversized file
    // meets our own message rather than a cut connection.
    let body_limit = usize::try_from(max_upload).unwrap_or(usize::MAX).saturating_add(1024 * 1024);
    Router::new()
        .route("/org/{id}/attachments", post(upload_to_node).layer(DefaultBodyLimit::max(body_limit)))
        .route("/records/{kind}/{id}/attachments", post(upload_to_record).layer(DefaultBodyLimit::max(body_limit)))
        .route("/attachments/{id}", get(download))
}

fn multipart_error(e: impl std::fmt::Display) -> WebError {
    WebError::BadRequest(format!("上传内容无法读取：{e}"))
}

/// Receives one file of a multipart form for record `(kind, id)`: CSRF first, then the file
/// streamed to the blob store and recorded on the record's timeline.
async fn receive(
    state: &AppState,
    s: &fazhi_app::auth::SessionInfo,
    addr: &str,
    kind: &str,
    id: i64,
    form: &mut Multipart,
) -> Result<(), WebError> {
    // The CSRF token must come first (the form puts it before the file), so no byte of a
    // forged upload is stored.
    let csrf = match form.next_field().await.map_err(multipart_error)? {
        Some(f) if f.name() == Some("csrf") => f.text().await.map_err(multipart_error)?,
        _ => return Err(WebError::Csrf),
    };
    if !same_secret(&csrf, &s.csrf_token) {
        return Err(WebError::Csrf);
    }
    let by = By { who: &s.principal, username: &s.username, source_addr: addr };
    let mut result = Err(AppError::Invalid(FieldErrors::single("file", "请选择要上传的文件")));
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let mut up = state.app.begin_upload(&by, kind, &id.to_string()).await?;
        let mut failed = None;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = up.write(&chunk).await {
                        failed = Some(e);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(AppError::Invalid(FieldErrors::single("file", format!("上传中断：{e}"))));
                    break;
                }
            }
        }
        result = match failed {
            Some(e) => {
                up.discard().await;
                Err(e)
            }
            None => state.app.finish_upload(&by, up, &name).await.map(|_| ()),
        };
        break;
    }
    result.map_err(WebError::App)
}

async fn upload_to_node(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath(id): PagePath<i64>,
    mut form: Multipart,
) -> PageResult {
    match receive(&state, &s, &addr, fazhi_domain::record::ORG_NODE.code, id, &mut form).await {
        Ok(()) => Ok(Redirect::to(&format!("/org/{id}?done=attachment_added")).into_response()),
        Err(WebError::App(AppError::Invalid(errors))) => {
            super::org::node_with_errors(&state, &s, OrgId(id), errors).await
        }
        Err(e) => Err(e),
    }
}

/// Upload to a record of any kind (信访件, 调解案件 …): back to the record's page.
async fn upload_to_record(
    State(state): State<AppState>,
    Staff(s): Staff,
    ClientAddr(addr): ClientAddr,
    PagePath((kind, id)): PagePath<(String, i64)>,
    mut form: Multipart,
) -> PageResult {
    let page = crate::module::href_of(&kind, &id.to_string()).ok_or(WebError::App(AppError::NotFound("记录")))?;
    receive(&state, &s, &addr, &kind, id, &mut form).await?;
    let (path, fragment) = page.split_once('#').map_or((page.as_str(), String::new()), |(p, f)| (p, format!("#{f}")));
    Ok(Redirect::to(&format!("{path}?done=attachment_added{fragment}")).into_response())
}

/// RFC 5987 encoding of a file name for Content-Disposition.
fn disposition(name: &str) -> String {
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"attachment\"; filename*=UTF-8''{enc}")
}

async fn download(State(state): State<AppState>, Staff(s): Staff, PagePath(id): PagePath<i64>) -> PageResult {
    let (row, bytes) = state.app.open_attachment(&s.principal, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, row.mime.clone()),
            (header::CONTENT_DISPOSITION, disposition(&row.name)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn disposition_encodes_chinese_names() {
        assert_eq!(
            super::disposition("现场 1.pdf"),
            "attachment; filename=\"attachment\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%201.pdf"
        );
    }
}
