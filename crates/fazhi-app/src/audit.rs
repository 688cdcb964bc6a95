//! The security audit trail: logins, logouts, lockouts and administrative changes to
//! accounts, roles, tokens and the org tree. (Business records go to the ledger.)

use fazhi_domain::access::{AUDIT_READ, Principal};
use fazhi_domain::{OrgId, UserId};
use fazhi_store::Tx;
use fazhi_store::auth::{AuditRow, NewAudit, insert_audit, list_audit};

use crate::{App, AppResult, require};

/// Kinds of audit events, with their Chinese labels.
pub const KINDS: &[(&str, &str)] = &[
    ("login", "登录成功"),
    ("login_failed", "登录失败"),
    ("lockout", "触发锁定"),
    ("login_locked", "锁定期间尝试登录"),
    ("logout", "退出登录"),
    ("session_expired", "会话超时"),
    ("password_changed", "修改密码"),
    ("password_reset", "重置密码"),
    ("user_created", "新建用户"),
    ("user_updated", "修改用户"),
    ("user_disabled", "停用用户"),
    ("user_enabled", "启用用户"),
    ("org_created", "新建机构"),
    ("org_updated", "修改机构"),
    ("org_moved", "移动机构"),
    ("org_deleted", "删除机构"),
    ("role_created", "新建角色"),
    ("role_updated", "修改角色"),
    ("token_issued", "签发接口令牌"),
    ("token_revoked", "吊销接口令牌"),
];

pub fn kind_label(kind: &str) -> &str {
    KINDS.iter().find(|(k, _)| *k == kind).map_or(kind, |(_, l)| l)
}

/// Who did it, from where.
#[derive(Debug, Clone, Default)]
pub struct Actor<'a> {
    pub username: &'a str,
    pub user_id: Option<UserId>,
    pub org_id: Option<OrgId>,
    pub source_addr: &'a str,
}

impl App {
    /// Writes an audit line in `tx` (the next link of the hash chain, see [`crate::reconcile`]).
    pub(crate) async fn audit(&self, tx: &mut Tx, kind: &str, actor: &Actor<'_>, detail: &str) -> AppResult<()> {
        let a = NewAudit {
            at: self.now(),
            kind,
            username: actor.username,
            user_id: actor.user_id,
            org_id: actor.org_id,
            source_addr: actor.source_addr,
            detail,
        };
        insert_audit(tx, &a).await?;
        Ok(())
    }

    /// Writes an audit line in a transaction of its own (a refused login, a lockout).
    pub(crate) async fn audit_alone(&self, kind: &str, actor: &Actor<'_>, detail: &str) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        self.audit(&mut tx, kind, actor, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest audit lines the principal may see.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn list_audit(&self, who: &Principal, limit: i64) -> AppResult<Vec<AuditRow>> {
        require(who, AUDIT_READ)?;
        Ok(list_audit(&self.store.read, who.filter(AUDIT_READ).as_ref(), limit).await?)
    }
}
