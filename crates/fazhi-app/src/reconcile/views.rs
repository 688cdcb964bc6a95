//! The access records — 用户, 角色, 接口令牌, 机构 — as the ledger vouches for them, and their
//! save path. Like [`crate::ctx::Ctx::save`] for business records, every change of one writes
//! ONE entry whose change is `diff(before, after)` of its view ([`fazhi_ledger::diff`]); a
//! record's first entry lists every field, so `ledger verify` can compare each stored row.
//!
//! A view holds the row's columns and the rows that belong to it (a user's role grants in
//! `user_role`, a role's `role_permission` codes, a node's `org_webhook`), without the
//! bookkeeping that changes on its own (`updated_at`, a token's `last_used_at`) and without
//! what is derived (a node's `path`, checked against its parents instead). Secrets never
//! enter the ledger, which timelines and proofs show: a password hash, a token hash and a
//! webhook URL (its path carries the robot's key) are there only as their
//! [`secret_digest`], which proves a change without revealing anything to guess from.

use fazhi_domain::OrgId;
use fazhi_domain::record::Kind;
use fazhi_ledger::Entry;
use fazhi_store::Tx;
use fazhi_store::reconcile::{self as store, NodeRecord, RoleRecord, TokenRecord, UserRecord};
use serde_json::Value;

use crate::audit::Actor;
use crate::ledger::Change;
use crate::secrets::sha256_hex;
use crate::{App, AppError, AppResult};

/// What the ledger holds of a stored secret hash (password hash, token hash, webhook URL):
/// SHA-256 of it, in hex. The stored hashes are salted (argon2id) or of 24 random bytes,
/// so the digest gives nothing to guess a password or a token from.
pub fn secret_digest(stored: &str) -> String {
    sha256_hex(stored)
}

/// 用户: the `app_user` row and its role grants.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub org_id: i64,
    pub password_hash_sha256: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// Granted role ids (`user_role`), ascending.
    pub roles: Vec<i64>,
    /// `integration` for an integration account; absent for a person (so the views of
    /// accounts recorded before kinds existed are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        Self {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            mobile: u.mobile.clone(),
            org_id: u.org_id,
            password_hash_sha256: secret_digest(&u.password_hash),
            must_change_password: u.must_change_password,
            disabled: u.disabled,
            created_at: u.created_at,
            roles: u.roles.clone(),
            kind: (u.kind != "person").then(|| u.kind.clone()),
        }
    }
}

/// 角色: the `role` row and its permission codes (`role_permission`, ascending).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoleView {
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    /// The owning org node of a custom role; absent for built-in and pre-0017 roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<i64>,
}

impl From<&RoleRecord> for RoleView {
    fn from(r: &RoleRecord) -> Self {
        Self {
            code: r.code.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            scope: r.scope.clone(),
            builtin: r.builtin,
            permissions: r.permissions.clone(),
            org_id: r.org_id,
        }
    }
}

/// 接口令牌: the `api_token` row (its hash as a digest; the last use is bookkeeping).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenView {
    pub user_id: i64,
    pub name: String,
    pub token_hash_sha256: String,
    pub prefix: String,
    /// `None`: issued by the operator of the binary (serialized as before when issued by an
    /// account, so earlier entries still vouch for their tokens).
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        Self {
            user_id: t.user_id,
            name: t.name.clone(),
            token_hash_sha256: secret_digest(&t.token_hash),
            prefix: t.prefix.clone(),
            created_by: t.created_by,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// 机构: the `org_node` row without its derived `path`, and its reminder webhook.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeView {
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub created_at: i64,
    /// 发文机关署名, `None` while the name is used (so entries before it existed still match).
    pub official_name: Option<String>,
    pub webhook_sha256: Option<String>,
    pub webhook_enabled: Option<bool>,
}

impl From<&NodeRecord> for NodeView {
    fn from(n: &NodeRecord) -> Self {
        Self {
            parent_id: n.parent_id,
            kind: n.kind.clone(),
            name: n.name.clone(),
            code: n.code.clone(),
            created_at: n.created_at,
            official_name: n.official_name.clone(),
            webhook_sha256: n.webhook_url.as_deref().map(secret_digest),
            webhook_enabled: n.webhook_enabled,
        }
    }
}

/// A view as the JSON object the ledger diffs.
///
/// # Errors
/// Serialisation failures (never for these plain structs).
pub fn to_json<T: serde::Serialize>(v: &T) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| AppError::internal("record view to JSON", e))
}

/// The view of user `id` as stored now, read in `tx`.
///
/// # Errors
/// Database errors.
pub async fn user(tx: &mut Tx, id: i64) -> AppResult<Option<Value>> {
    store::user(tx, id).await?.as_ref().map(|u| to_json(&UserView::from(u))).transpose()
}

/// The view of role `id` as stored now, read in `tx`.
///
/// # Errors
/// Database errors.
pub async fn role(tx: &mut Tx, id: i64) -> AppResult<Option<Value>> {
    store::role(tx, id).await?.as_ref().map(|r| to_json(&RoleView::from(r))).transpose()
}

/// The view of token `id` as stored now, read in `tx`.
///
/// # Errors
/// Database errors.
pub async fn token(tx: &mut Tx, id: i64) -> AppResult<Option<Value>> {
    store::token(tx, id).await?.as_ref().map(|t| to_json(&TokenView::from(t))).transpose()
}

/// The view of org node `id` as stored now, read in `tx`.
///
/// # Errors
/// Database errors.
pub async fn node(tx: &mut Tx, id: i64) -> AppResult<Option<Value>> {
    store::node(tx, id).await?.as_ref().map(|n| to_json(&NodeView::from(n))).transpose()
}

/// One access record's change, as its use case states it.
#[derive(Debug, Clone)]
pub(crate) struct Saved<'a> {
    pub kind: &'static Kind,
    pub id: i64,
    /// The node whose log records it.
    pub org: OrgId,
    pub action: &'static str,
    /// The view before (`None` when created) and after (`None` when deleted).
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub payload: Value,
}

impl App {
    /// The save path of an access record: ONE entry with `diff(before, after)` of its view
    /// and the payload, in the use case's transaction. A deletion lists every field as
    /// `[before, null]`.
    ///
    /// # Errors
    /// As [`App::record`].
    pub(crate) async fn save_view(&self, tx: &mut Tx, actor: &Actor<'_>, s: Saved<'_>) -> AppResult<Entry> {
        let empty = Value::Object(serde_json::Map::new());
        let fields = fazhi_ledger::diff::diff(s.before, s.after.unwrap_or(&empty));
        let c = Change {
            org: s.org,
            record_type: s.kind.code,
            record_id: s.id.to_string(),
            action: s.action,
            change: fazhi_ledger::diff::change(fields, s.payload),
            attachments: Vec::new(),
        };
        self.record(tx, actor, c).await
    }
}
