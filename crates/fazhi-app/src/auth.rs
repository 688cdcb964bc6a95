//! Login, sessions, password changes and bearer tokens.
//!
//! Habits of 等保 2.0 level 3: argon2id hashes; one message for a wrong password and an
//! unknown user (no account enumeration); lockout per account AND per source address after
//! `max_failures` within `lockout_minutes`; idle timeout; forced change of an initial
//! password; every login, logout and lockout in the audit trail.

use fazhi_domain::access::Principal;
use fazhi_domain::clock::MINUTE_MS;
use fazhi_domain::user::{check_password, username as parse_username};
use fazhi_domain::{FieldErrors, OrgId, TokenId, UserId};
use fazhi_store::auth::{self as store, SessionRow};
use fazhi_store::users as user_store;

use crate::audit::Actor;
use crate::secrets::{DUMMY_HASH, hash_password, random_hex, sha256_hex, verify_password};
use crate::{App, AppError, AppResult};

/// The one message for any wrong combination of username and password.
pub const BAD_CREDENTIALS: &str = "用户名或密码错误";

/// A new session: the cookie value is shown to the browser once and stored only hashed.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub must_change_password: bool,
}

/// A live session of a logged-in user.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub principal: Principal,
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub must_change_password: bool,
    /// Unread inbox items, for the top bar.
    pub unread: i64,
    pub csrf_token: String,
    pub token_hash: String,
}

fn user_key(username: &str) -> String {
    format!("user:{username}")
}

fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}

impl App {
    async fn locked_until(&self, key: &str) -> AppResult<Option<i64>> {
        let now = self.now();
        let (n, last) = store::failures_since(&self.store.read, key, now - self.security.lockout_ms()).await?;
        Ok(if key.starts_with("addr:") {
            self.security.address_locked_until(n, last, now)
        } else {
            self.security.locked_until(n, last, now)
        })
    }

    fn locked_message(&self, until: i64) -> String {
        let minutes = ((until - self.now()) + MINUTE_MS - 1) / MINUTE_MS;
        format!(
            "登录失败次数过多，已临时锁定，请 {minutes} 分钟后再试（连续失败 {} 次锁定 {} 分钟）",
            self.security.max_failures, self.security.lockout_minutes
        )
    }

    /// Logs in. On success returns the session cookie value.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Unauthenticated`]; [`AppError::Internal`] for database failures.
    pub async fn login(&self, raw_username: &str, password: &str, source_addr: &str) -> AppResult<NewSession> {
        let name = raw_username.trim().to_ascii_lowercase();
        let actor = Actor { username: &name, source_addr, ..Default::default() };
        let (ukey, akey) = (user_key(&name), addr_key(source_addr));
        for key in [&ukey, &akey] {
            if let Some(until) = self.locked_until(key).await? {
                self.audit_alone("login_locked", &actor, key).await?;
                return Err(AppError::Unauthenticated(self.locked_message(until)));
            }
        }
        // An impossible username is looked up as nobody, so it costs the same.
        let user = match parse_username(&name) {
            Ok(n) => user_store::get_by_username(&self.store.read, &n).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
        let ok = verify_password(password.to_owned(), hash).await? && user.is_some();
        // The audit line names the account when it exists, so its admin sees attacks on it;
        // the person at the login form learns nothing from it.
        let actor = match &user {
            Some(u) => Actor { user_id: Some(u.user_id()), org_id: Some(OrgId(u.org_id)), ..actor },
            None => actor,
        };
        let Some(user) = user.filter(|_| ok) else {
            let now = self.now();
            let mut tx = self.store.begin().await?;
            store::record_failure(&mut tx, &ukey, now).await?;
            store::record_failure(&mut tx, &akey, now).await?;
            self.audit(&mut tx, "login_failed", &actor, "").await?;
            tx.commit().await?;
            self.lookups.invalidate();
            for key in [&ukey, &akey] {
                if let Some(until) = self.locked_until(key).await? {
                    self.audit_alone("lockout", &actor, key).await?;
                    return Err(AppError::Unauthenticated(self.locked_message(until)));
                }
            }
            return Err(AppError::Unauthenticated(BAD_CREDENTIALS.into()));
        };
        if user.disabled {
            self.audit_alone("login_failed", &actor, "账户已停用").await?;
            return Err(AppError::Unauthenticated("该账户已停用，请联系管理员".into()));
        }
        if user.is_integration() {
            self.audit_alone("login_failed", &actor, "对接账户").await?;
            return Err(AppError::Unauthenticated("对接账户只能通过接口令牌访问，不能登录".into()));
        }
        let token = random_hex(32);
        let now = self.now();
        let mut tx = self.store.begin().await?;
        store::clear_failures(&mut tx, &ukey).await?;
        let row = SessionRow {
            token_hash: sha256_hex(&token),
            user_id: user.id,
            csrf_token: random_hex(16),
            source_addr: source_addr.to_owned(),
            created_at: now,
            last_seen_at: now,
        };
        store::insert_session(&mut tx, &row).await?;
        self.audit(&mut tx, "login", &actor, "").await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(NewSession { token, must_change_password: user.must_change_password })
    }

    /// The session behind a cookie value, if it is alive. Touches its last-seen time.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Unauthenticated`]; [`AppError::Internal`] for database failures.
    pub async fn session(&self, token: &str) -> AppResult<SessionInfo> {
        let expired = || AppError::Unauthenticated("登录已过期，请重新登录".into());
        let hash = sha256_hex(token);
        let now = self.now();
        if let Some(mut hit) = self.lookups.session(&hash, now) {
            // Notifications arrive from any use case: the count is never served from the cache.
            hit.unread = fazhi_store::clocks::unread_count(&self.store.read, hit.user_id.0).await?;
            return Ok(hit);
        }
        let row = store::get_session(&self.store.read, &hash).await?.ok_or_else(expired)?;
        let user = user_store::get_user(&self.store.read, UserId(row.user_id)).await?;
        let Some(user) = user.filter(|u| !u.disabled) else {
            store::delete_session(&self.store.write, &hash).await?;
            return Err(expired());
        };
        if !self.security.session_alive(row.created_at, row.last_seen_at, now) {
            let mut tx = self.store.begin().await?;
            store::delete_session(&mut tx, &hash).await?;
            let actor = Actor {
                username: &user.username,
                user_id: Some(user.user_id()),
                org_id: Some(OrgId(user.org_id)),
                source_addr: &row.source_addr,
            };
            self.audit(&mut tx, "session_expired", &actor, "").await?;
            tx.commit().await?;
            self.lookups.invalidate();
            return Err(expired());
        }
        // Writing on every request would serialise reads behind the writer; a minute's
        // precision is plenty for a 30-minute idle timeout.
        if now - row.last_seen_at > MINUTE_MS / 2 {
            store::touch_session(&self.store.write, &hash, now).await?;
        }
        let roles = fazhi_store::roles::roles_of_user(&self.store.read, user.user_id()).await?;
        let grants: Vec<_> = roles.iter().map(|r| r.grant()).collect();
        let principal = Principal::new(user.user_id(), OrgId(user.org_id), user.path(), &grants)
            .with_government(self.government_id(OrgId(user.org_id)).await?);
        let info = SessionInfo {
            principal,
            user_id: user.user_id(),
            org_id: OrgId(user.org_id),
            org_name: user.org_name,
            username: user.username,
            display_name: user.display_name,
            must_change_password: user.must_change_password,
            unread: fazhi_store::clocks::unread_count(&self.store.read, user.id).await?,
            csrf_token: row.csrf_token,
            token_hash: hash,
        };
        self.lookups.put_session(&info.token_hash, now, info.clone());
        Ok(info)
    }

    /// Logout.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn logout(&self, s: &SessionInfo, source_addr: &str) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        store::delete_session(&mut tx, &s.token_hash).await?;
        let actor = Actor { username: &s.username, user_id: Some(s.user_id), org_id: Some(s.org_id), source_addr };
        self.audit(&mut tx, "logout", &actor, "").await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// Changes one's own password. Other sessions of the user end; this one stays.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn change_password(
        &self,
        s: &SessionInfo,
        current: &str,
        new: &str,
        confirm: &str,
        source_addr: &str,
    ) -> AppResult<()> {
        let mut errs = FieldErrors::new();
        let user = user_store::get_user(&self.store.read, s.user_id).await?.ok_or(AppError::NotFound("用户"))?;
        if !verify_password(current.to_owned(), user.password_hash.clone()).await? {
            errs.add("current", "当前密码不正确");
        }
        errs.take(check_password("new", &user.username, new));
        if new != confirm {
            errs.add("confirm", "两次输入的新密码不一致");
        }
        if errs.is_empty() && new == current {
            errs.add("new", "新密码不能与当前密码相同");
        }
        errs.into_result()?;
        let hash = hash_password(new.to_owned()).await?;
        let mut tx = self.store.begin().await?;
        let before = crate::reconcile::views::user(&mut tx, s.user_id.0).await?;
        user_store::set_password(&mut tx, s.user_id, &hash, false, self.now()).await?;
        // Whoever else held a session of this account (a stolen password's user) is out.
        store::delete_other_sessions(&mut tx, s.user_id, &s.token_hash).await?;
        let actor = Actor { username: &s.username, user_id: Some(s.user_id), org_id: Some(s.org_id), source_addr };
        self.save_user(&mut tx, &actor, s.user_id, before.as_ref(), "user.password_change").await?;
        self.audit(&mut tx, "password_changed", &actor, "").await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// The principal behind an API bearer token.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`]; [`AppError::Internal`] for database failures.
    pub async fn bearer(&self, token: &str) -> AppResult<(TokenId, Principal)> {
        let invalid = || AppError::Unauthenticated("接口令牌无效或已吊销".into());
        let hash = sha256_hex(token.trim());
        let now = self.now();
        if let Some(hit) = self.lookups.token(&hash, now) {
            return Ok(hit);
        }
        let row = store::find_token(&self.store.read, &hash).await?.ok_or_else(invalid)?;
        let user = user_store::get_user(&self.store.read, UserId(row.user_id)).await?;
        let Some(user) = user.filter(|u| !u.disabled) else { return Err(invalid()) };
        if !user.is_integration() {
            return Err(AppError::Unauthenticated(
                "该接口令牌属于个人账户，已停止使用；请为对接账户重新签发令牌".into(),
            ));
        }
        // Like sessions: the last-use time to the minute, not a write on every call.
        if row.last_used_at.is_none_or(|t| now - t > MINUTE_MS / 2) {
            store::touch_token(&self.store.write, TokenId(row.id), now).await?;
        }
        let resolved = (TokenId(row.id), self.principal(UserId(row.user_id)).await?);
        self.lookups.put_token(&hash, now, resolved.clone());
        Ok(resolved)
    }
}
