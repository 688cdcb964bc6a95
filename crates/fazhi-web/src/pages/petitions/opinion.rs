//! The 信访处理意见书: print view and DOCX.

use super::list::urlencode;
use super::*;

#[derive(Template)]
#[template(path = "pages/petition_opinion.html")]
pub(super) struct OpinionPage {
    chrome: Chrome,
    id: i64,
    doc: fazhi_docs::OfficialDoc,
    /// 成文日期 as printed.
    date: String,
    /// Right indents of the 署名 and the date (§7.3.5.1), as in the DOCX.
    sign: fazhi_docs::SignatureLayout,
}

impl OpinionPage {
    /// One entry per printed paragraph, as in the DOCX.
    fn paragraphs(&self) -> Vec<(&'static str, &str)> {
        self.doc.paragraphs()
    }
}

pub(super) async fn opinion_page(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    let doc = state.app.petition_opinion(&s.principal, id).await?;
    render(&OpinionPage {
        chrome: Chrome::new(&s, doc.title.clone(), "/petitions"),
        id,
        date: doc.date_text(),
        sign: doc.signature(),
        doc,
    })
}

pub(super) async fn opinion_docx(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    let doc = state.app.petition_opinion(&s.principal, id).await?;
    let bytes = doc.to_docx().map_err(|e| AppError::internal("document", e))?;
    let name = format!("{}-{id}.docx", doc.title);
    let disposition = format!("attachment; filename=\"opinion-{id}.docx\"; filename*=UTF-8''{}", urlencode(&name));
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
