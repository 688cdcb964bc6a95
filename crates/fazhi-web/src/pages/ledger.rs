//! The ledger's public face (no login): current signed checkpoint of every street, the
//! public key, and checking a proof file or a document reference. Plus the staff download
//! of an entry's proof and the timeline part shown on record pages.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use fazhi_app::AppError;
use fazhi_app::ledger::{action_label, kind_label};
use fazhi_ledger::Entry;
use fazhi_ledger::proof::ProofBundle;

use axum::Json;
use fazhi_app::ledger_publish::{ConsistencyProof, Published};

use super::{PageResult, beijing, render, render_status};
use crate::AppState;
use crate::api::{ApiError, ApiPath, ApiQuery};
use crate::session::{LoginForm, PagePath, Staff};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ledger", get(portal))
        .route("/ledger/check", post(check))
        .route("/ledger/proof/{log}/{seq}", get(download_proof))
        .route("/ledger/checkpoints.json", get(published))
        .route("/ledger/{log}/checkpoints.json", get(published_history))
        .route("/ledger/{log}/consistency", get(consistency))
}

/// The latest signed checkpoint of every log and the registered keys: what a witness (the
/// district's installation, an inspector) fetches and keeps (no login; no content).
async fn published(State(state): State<AppState>) -> Result<Json<Published>, ApiError> {
    Ok(Json(state.app.published_checkpoints(false, None).await?))
}

/// Every checkpoint of one log, oldest first.
async fn published_history(
    State(state): State<AppState>,
    ApiPath(log): ApiPath<i64>,
) -> Result<Json<Published>, ApiError> {
    let p = state.app.published_checkpoints(true, Some(log)).await?;
    if p.logs.is_empty() {
        return Err(AppError::NotFound("账本").into());
    }
    Ok(Json(p))
}

#[derive(serde::Deserialize)]
struct Sizes {
    from: u64,
    to: u64,
}

/// The consistency proof of a log between two sizes (`?from=N&to=M`), for witnesses.
async fn consistency(
    State(state): State<AppState>,
    ApiPath(log): ApiPath<i64>,
    ApiQuery(q): ApiQuery<Sizes>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    Ok(Json(state.app.consistency_proof(log, q.from, q.to).await?))
}

struct LogLine {
    log_id: i64,
    org_name: String,
    size: i64,
    hash_alg: String,
    checkpoint_at: String,
    note: String,
}

/// The outcome of a check shown on the portal.
struct Outcome {
    ok: bool,
    title: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/ledger_portal.html")]
struct PortalPage {
    logs: Vec<LogLine>,
    public_key: String,
    /// Keys that signed earlier checkpoints, with their validity, for checking those.
    retired_keys: Vec<String>,
    csrf: String,
    proof: String,
    reference: String,
    hash: String,
    outcome: Option<Outcome>,
}

async fn portal_page(state: &AppState, csrf: String) -> Result<PortalPage, AppError> {
    let logs = state
        .app
        .ledger_overview()
        .await?
        .into_iter()
        .map(|(l, note)| LogLine {
            log_id: l.log_id,
            org_name: l.org_name.unwrap_or_else(|| format!("机构 {}", l.log_id)),
            size: l.size,
            hash_alg: l.hash_alg.to_uppercase(),
            checkpoint_at: l.checkpoint_at.map(beijing).unwrap_or_else(|| "尚未签发".into()),
            note: note.unwrap_or_default(),
        })
        .collect();
    let retired_keys = state
        .app
        .ledger_keys()
        .await?
        .into_iter()
        .filter_map(|k| k.valid_to.map(|to| format!("{}（{} 至 {}）", k.vkey, beijing(k.valid_from), beijing(to))))
        .collect();
    Ok(PortalPage {
        logs,
        public_key: state.app.ledger.verifier().to_vkey(),
        retired_keys,
        csrf,
        proof: String::new(),
        reference: String::new(),
        hash: String::new(),
        outcome: None,
    })
}

async fn portal(State(state): State<AppState>, jar: axum_extra::extract::cookie::CookieJar) -> PageResult {
    // The check form is a POST; it uses the same double-submit token as the login form.
    let csrf = fazhi_app::secrets::random_hex(16);
    let jar =
        jar.add(crate::session::cookie(crate::session::LOGIN_CSRF_COOKIE, csrf.clone(), state.settings.secure_cookies));
    Ok((jar, render(&portal_page(&state, csrf).await?)?).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct CheckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    proof: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    hash: String,
}

async fn check(State(state): State<AppState>, LoginForm(f): LoginForm<CheckForm>) -> PageResult {
    let outcome = if !f.proof.trim().is_empty() {
        match serde_json::from_str::<ProofBundle>(&f.proof) {
            Err(e) => Outcome {
                ok: false,
                title: "证明文件无法解析".into(),
                lines: vec![format!("不是合法的证明 JSON：{e}")],
            },
            Ok(b) => match b.check(Some(&state.app.ledger.verifier())) {
                Ok(c) => Outcome {
                    ok: true,
                    title: "证明有效：该记录存在于已签名的账本中，内容未被改动".into(),
                    lines: vec![
                        format!(
                            "账本 {}，第 {} 条：{}（{} {}）",
                            b.entry.log_id,
                            b.entry.seq,
                            action_label(&b.entry.record_type, &b.entry.action),
                            kind_label(&b.entry.record_type),
                            b.entry.record_id
                        ),
                        format!("记录时间：{}；操作人：{}", beijing(b.entry.at), b.entry.actor_name),
                        format!("检查点：{}，共 {} 条，由本平台公钥签名", c.checkpoint.origin, c.checkpoint.size),
                    ],
                },
                Err(e) => Outcome { ok: false, title: "证明无效".into(), lines: vec![e.to_string()] },
            },
        }
    } else if !f.reference.trim().is_empty() {
        match state.app.check_reference(&f.reference, &f.hash).await {
            Ok(r) => {
                let mut lines = vec![
                    format!(
                        "记录时间：{}；类型：{}；操作：{}",
                        beijing(r.entry_at),
                        kind_label(&r.record_type),
                        action_label(&r.record_type, &r.action)
                    ),
                    format!("记录哈希：{}", r.leaf_hash),
                    format!("已包含在共 {} 条的签名检查点中", r.checkpoint_size),
                ];
                let (ok, title) = match r.hash_matches {
                    Some(true) => (true, "文书编号与哈希一致：记录未被改动".to_owned()),
                    Some(false) => (false, "哈希不一致：文书上的哈希与账本记录不符".to_owned()),
                    None => (true, "账本中存在该编号的记录".to_owned()),
                };
                if r.hash_matches.is_none() {
                    lines.push("如文书上印有记录哈希，请一并填写以核对内容。".into());
                }
                Outcome { ok, title, lines }
            }
            Err(AppError::Invalid(e)) => {
                Outcome { ok: false, title: "无法核验".into(), lines: vec![e.to_string()] }
            }
            Err(AppError::Refused(m)) => Outcome { ok: false, title: "核验未通过".into(), lines: vec![m] },
            Err(e) => return Err(e.into()),
        }
    } else {
        Outcome { ok: false, title: "请粘贴证明文件内容，或填写文书编号".into(), lines: vec![] }
    };
    let mut page = portal_page(&state, f.csrf).await?;
    let status = if outcome.ok { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page.outcome = Some(outcome);
    page.proof = f.proof;
    page.reference = f.reference;
    page.hash = f.hash;
    render_status(status, &page)
}

async fn download_proof(
    State(state): State<AppState>,
    Staff(s): Staff,
    PagePath((log, seq)): PagePath<(i64, u64)>,
) -> PageResult {
    let bundle = state.app.proof_for(&s.principal, log, seq).await?;
    let json = serde_json::to_string_pretty(&bundle).map_err(|e| AppError::internal("document", e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"fazhi-proof-{log}-{seq}.json\"")),
        ],
        json,
    )
        .into_response())
}

/// One line of a record's timeline.
pub struct TimelineLine {
    pub log_id: i64,
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub files: Vec<String>,
}

pub fn timeline(entries: Vec<Entry>) -> Vec<TimelineLine> {
    entries
        .into_iter()
        .map(|e| TimelineLine {
            log_id: e.log_id,
            seq: e.seq,
            at: beijing(e.at),
            actor: e.actor_name,
            action: action_label(&e.record_type, &e.action).to_owned(),
            files: e
                .attachments
                .iter()
                .map(|a| format!("{}（{} 字节，SHA-256 {}…）", a.name, a.size, &a.hash[..12.min(a.hash.len())]))
                .collect(),
        })
        .collect()
}
