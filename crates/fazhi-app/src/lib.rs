//! Application services of fazhi: one function per use case.
//!
//! Each service checks permission and data scope through the domain's one policy,
//! validates, runs the domain rule, and writes in ONE transaction. Web handlers, the JSON
//! API, the CLI and the demo generator all come in through here; none of them touches the
//! store directly for a change.

// Every public function returning a Result says what it returns on failure.
#![warn(clippy::missing_errors_doc)]

pub mod assign;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod clocks;
pub mod ctx;
pub mod demo;
pub mod input;
pub mod jobs;
pub mod ledger;
pub mod ledger_keys;
pub mod ledger_publish;
pub mod lookup_cache;
pub mod mediation;
pub mod org;
pub mod petition_indicators;
pub mod petitions;
pub mod receptions;
pub mod reconcile;
pub mod roles;
pub mod search;
pub mod secrets;
pub mod tokens;
pub mod users;
pub mod webhook;

use std::sync::Arc;

use fazhi_domain::access::{DenyReason, Permission, Principal, RecordRef, authorize};
use fazhi_domain::clock::{Clock, Millis};
use fazhi_domain::security::SecurityPolicy;
use fazhi_domain::{FieldErrors, UserId};
use fazhi_store::{Store, StoreError, roles as role_store, users as user_store};

/// Everything a use case needs: the store, the one clock and the settings.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub security: SecurityPolicy,
    pub ledger: ledger::LedgerKeys,
    /// The jieba segmenter of full-text search, built once per process.
    pub search: Arc<fazhi_store::search::Segmenter>,
    /// Where attachment bytes live, and the largest accepted upload.
    pub blobs: fazhi_store::blobs::BlobStore,
    pub attachment_max_bytes: u64,
    /// The working-day calendar, deadline rules and card threshold.
    pub deadlines: clocks::Deadlines,
    /// An open petition received more than this many days ago counts as 积案 (configurable).
    pub petition_backlog_days: u32,
    /// Where reminder webhooks may go ([`webhook::WebhookPolicy`]).
    pub webhooks: Arc<webhook::WebhookPolicy>,
    /// Sessions and tokens resolved in the last seconds (see [`lookup_cache`]).
    pub lookups: Arc<lookup_cache::LookupCache>,
    /// When this process last anchored the audit trail in the ledger (ms; 0 = never; see
    /// [`reconcile::audit`]).
    pub(crate) audit_anchored: Arc<std::sync::atomic::AtomicI64>,
}

/// Why a use case did not happen. Every variant but `Internal` carries a Chinese message
/// fit to show; `Internal` is logged and shown only as a generic message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input broke field rules; nothing was changed.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// The policy said no.
    #[error("{0}")]
    Forbidden(DenyReason),
    /// The record does not exist (or is not visible at all).
    #[error("{0}不存在")]
    NotFound(&'static str),
    /// A business rule refused the change (e.g. deleting a node that still has users).
    #[error("{0}")]
    Refused(String),
    /// Not logged in, wrong credentials, locked, session over.
    #[error("{0}")]
    Unauthenticated(String),
    /// The database cannot take writes now (disk full, read-only, the server gone), or
    /// holds data this program did not write: nothing was saved; an operator must act.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed that the user cannot fix: logged with its cause chain
    /// ([`Internal`]), shown as a generic message.
    #[error("内部错误：{0}")]
    Internal(Internal),
}

/// An internal failure: what was being done, and the error that caused it (kept as an
/// error, so the log shows its whole `source()` chain).
#[derive(Debug)]
pub struct Internal {
    pub context: String,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)?;
        let mut cause: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// How every face (pages, API, CLI) shows an [`AppError`]: one mapping, so an error has the
/// same status, stable code and Chinese message everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorView {
    /// HTTP status.
    pub status: u16,
    /// Stable machine code: `invalid`, `forbidden`, `not_found`, `refused`,
    /// `unauthenticated`, `internal`.
    pub code: &'static str,
    /// Chinese page title.
    pub title: &'static str,
    /// Chinese message fit to show (never an internal detail).
    pub message: String,
}

impl AppError {
    /// The one mapping of an error to what users and integrations see. An internal error is
    /// logged here with its cause chain.
    pub fn view(&self) -> ErrorView {
        let v = |status, code, title, message: String| ErrorView { status, code, title, message };
        match self {
            AppError::Invalid(f) => v(422, "invalid", "填写有误", f.to_string()),
            AppError::Forbidden(r) => v(403, "forbidden", "无权访问", r.to_string()),
            AppError::NotFound(what) => v(404, "not_found", "未找到", format!("{what}不存在，或已被删除。")),
            AppError::Refused(m) => v(409, "refused", "无法办理", m.clone()),
            AppError::Unauthenticated(m) => v(401, "unauthenticated", "请登录", m.clone()),
            AppError::Unavailable(m) => {
                tracing::error!(error = %m, "store unavailable");
                v(503, "unavailable", "暂时无法保存", m.clone())
            }
            AppError::Internal(i) => {
                tracing::error!(error = %i, "internal error");
                v(500, "internal", "系统错误", "服务器内部错误，已记录日志。请稍后再试，或联系管理员。".into())
            }
        }
    }
}

impl AppError {
    /// An internal error with its context and cause (logged, never shown).
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        AppError::Internal(Internal { context: format!("{context}: {cause}"), source: None })
    }

    /// An internal error caused by `err` (its chain is kept for the log).
    pub fn internal_from(context: &str, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Internal { context: context.to_owned(), source: Some(Box::new(err)) })
    }

    /// A stored value this program did not write (an unknown code, a malformed date): an
    /// error, never a silent default.
    pub fn corrupt(kind: &fazhi_domain::record::Kind, id: i64, field: &str, value: &str) -> Self {
        let v: String = value.chars().take(40).collect();
        AppError::internal(&format!("{} {id}", kind.code), format!("stored {field} 「{v}」 is not a known value"))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if let Some(why) = e.storage_failure() {
            return AppError::Unavailable(format!(
                "数据库暂时无法写入（{why}），本次提交没有保存。请联系管理员检查磁盘空间和数据库文件"
            ));
        }
        if let StoreError::Corrupt(m) = &e {
            return AppError::Unavailable(format!(
                "数据库中的数据与程序写入的不一致（{m}），本次操作没有执行。请管理员运行 `fazhi ledger verify` 查明，必要时从备份恢复（`fazhi restore`）"
            ));
        }
        AppError::internal_from("store", e)
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<DenyReason> for AppError {
    fn from(e: DenyReason) -> Self {
        AppError::Forbidden(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl App {
    /// An app with a freshly generated ledger key (tests; the binary passes the key file's
    /// key with [`App::with_ledger`]).
    pub fn new(store: Store, clock: Arc<dyn Clock>, security: SecurityPolicy) -> Self {
        let ledger = ledger::LedgerKeys::generate(fazhi_ledger::HashAlg::Sha256);
        let blobs = fazhi_store::blobs::BlobStore::memory();
        let search = fazhi_store::search::Segmenter::shared();
        Self {
            store,
            clock,
            security,
            ledger,
            search,
            blobs,
            attachment_max_bytes: attachments::DEFAULT_MAX_BYTES,
            deadlines: clocks::Deadlines::default(),
            petition_backlog_days: petitions::DEFAULT_BACKLOG_DAYS,
            webhooks: Arc::default(),
            lookups: Arc::default(),
            audit_anchored: Arc::default(),
        }
    }

    pub fn with_blobs(mut self, blobs: fazhi_store::blobs::BlobStore, max_bytes: u64) -> Self {
        self.blobs = blobs;
        self.attachment_max_bytes = max_bytes;
        self
    }

    pub fn with_ledger(mut self, keys: ledger::LedgerKeys) -> Self {
        self.ledger = keys;
        self
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Every org node (a snapshot at most [`lookup_cache::LOOKUP_CACHE_MS`] old; changes made
    /// by this process drop it at once).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn org_snapshot(&self) -> AppResult<Arc<lookup_cache::OrgTree>> {
        let now = self.now();
        if let Some(t) = self.lookups.tree(now) {
            return Ok(t);
        }
        // One request reloads an expired snapshot; the others keep the previous one
        // meanwhile. With none at all (first use, or just invalidated) each loads its own:
        // never WAIT here — a caller may hold a pooled connection inside its transaction
        // (PostgreSQL shares one pool), and waiting for a reload that needs another
        // connection could exhaust the pool.
        let _reloading = match self.lookups.tree_reload.try_lock() {
            Ok(guard) => Some(guard),
            Err(_) => match self.lookups.stale_tree() {
                Some(t) => return Ok(t),
                None => None,
            },
        };
        let nodes =
            fazhi_store::org::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        let kinds = fazhi_store::org::list_kinds(&self.store.read).await?;
        let tree = Arc::new(lookup_cache::OrgTree::new(nodes, &kinds));
        self.lookups.put_tree(self.now(), tree.clone());
        Ok(tree)
    }

    /// The principal of a user: their node and the union of their roles.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn principal(&self, user: UserId) -> AppResult<Principal> {
        let u = user_store::get_user(&self.store.read, user).await?.ok_or(AppError::NotFound("用户"))?;
        let roles = role_store::roles_of_user(&self.store.read, user).await?;
        let grants: Vec<_> = roles.iter().map(|r| r.grant()).collect();
        let gov = self.government_id(fazhi_domain::OrgId(u.org_id)).await?;
        Ok(Principal::new(u.user_id(), fazhi_domain::OrgId(u.org_id), u.path(), &grants).with_government(gov))
    }

    /// The government body (a node whose kind keeps a log) at or above `org`, from the org
    /// tree snapshot: where a principal's street-level registers are kept.
    ///
    /// # Errors
    /// Database errors.
    pub async fn government_id(&self, org: fazhi_domain::OrgId) -> AppResult<Option<fazhi_domain::OrgId>> {
        let tree = self.org_snapshot().await?;
        Ok(tree.governments_above(org.0).first().map(|g| fazhi_domain::OrgId(g.id)))
    }
}

/// The policy check every service calls before touching a record.
pub(crate) fn check(who: &Principal, action: Permission, record: &RecordRef) -> AppResult<()> {
    authorize(who, action, record).into_result().map_err(AppError::Forbidden)
}

/// Requires the installation-wide settings permission ([`fazhi_domain::access::require_installation`]):
/// SETTINGS_MANAGE at 全部.
pub(crate) fn require_installation(who: &Principal) -> AppResult<()> {
    fazhi_domain::access::require_installation(who).map_err(AppError::Forbidden)
}

/// Requires a permission regardless of record (for pages that list).
pub(crate) fn require(who: &Principal, action: Permission) -> AppResult<()> {
    if who.has(action) { Ok(()) } else { Err(AppError::Forbidden(DenyReason::NoPermission(action))) }
}
