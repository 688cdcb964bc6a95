//! User use cases: list, view, create, edit, disable/enable, reset password, assign roles.

use fazhi_domain::access::{Principal, ROLE_ASSIGN, RecordRef, USER_MANAGE, USER_READ};
use fazhi_domain::user::UserDraft;
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::StoreError;
use fazhi_store::auth as auth_store;
use fazhi_store::org as org_store;
use fazhi_store::roles::{self as role_store, RoleRow};

use crate::assign::{Assignee, role_fits};
use fazhi_store::users::{self as store};
pub use fazhi_store::users::{UserQuery, UserRow};

use crate::audit::Actor;
use crate::org::{By, node_ref};
use crate::reconcile::views::{self, Saved};
use crate::secrets::{hash_password, one_time_password, random_hex};
use crate::{App, AppError, AppResult, check, require};
use serde_json::Value;

/// A user record is owned by the org node it sits on and by the user themself.
pub fn user_ref(u: &UserRow) -> RecordRef {
    RecordRef::single(OrgId(u.org_id), u.path(), Some(u.user_id()))
}

impl App {
    /// Records a change of user `id` made in `tx` (the view read `before` it and now): ONE
    /// entry in the log of the street its (new) node belongs to. Passwords appear only as
    /// digests of their hashes ([`views::secret_digest`]).
    pub(crate) async fn save_user(
        &self,
        tx: &mut fazhi_store::Tx,
        actor: &Actor<'_>,
        id: UserId,
        before: Option<&Value>,
        action: &'static str,
    ) -> AppResult<()> {
        let after = views::user(tx, id.0).await?.ok_or(AppError::NotFound("用户"))?;
        let s = Saved {
            kind: &fazhi_domain::record::USER,
            id: id.0,
            org: OrgId(after["org_id"].as_i64().unwrap_or_default()),
            action,
            before,
            after: Some(&after),
            payload: Value::Null,
        };
        self.save_view(tx, actor, s).await?;
        Ok(())
    }
}

/// A user with their roles.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub user: UserRow,
    pub roles: Vec<RoleRow>,
}

/// A created user (or reset password) with the one-time password to hand over.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user_id: UserId,
    pub username: String,
    pub one_time_password: String,
}

impl App {
    /// Lists users.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn list_users(&self, who: &Principal, q: &UserQuery) -> AppResult<Vec<UserRow>> {
        require(who, USER_READ)?;
        Ok(store::list_users(&self.store.read, who.filter(USER_READ).as_ref(), q).await?)
    }

    /// User detail.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn user_detail(&self, who: &Principal, id: UserId) -> AppResult<UserDetail> {
        let user = store::get_user(&self.store.read, id).await?.ok_or(AppError::NotFound("用户"))?;
        check(who, USER_READ, &user_ref(&user))?;
        let roles = role_store::roles_of_user(&self.store.read, id).await?;
        Ok(UserDetail { user, roles })
    }

    async fn managed_user(&self, who: &Principal, id: UserId) -> AppResult<UserRow> {
        let user = store::get_user(&self.store.write, id).await?.ok_or(AppError::NotFound("用户"))?;
        check(who, USER_MANAGE, &user_ref(&user))?;
        Ok(user)
    }

    /// Checks the target org: it must exist and lie within the manager's USER_MANAGE scope.
    async fn check_placement(&self, who: &Principal, org_id: Option<i64>, errs: &mut FieldErrors) -> AppResult<()> {
        if let Some(org) = org_id {
            match org_store::get_node(&self.store.read, OrgId(org)).await? {
                None => errs.add("org_id", "所选机构不存在"),
                Some(node) => {
                    if let Err(reason) = check(who, USER_MANAGE, &node_ref(&node)) {
                        errs.add("org_id", format!("不能把用户放在「{}」：{reason}", node.name));
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates a user with a one-time password they must change at first login. Roles given
    /// here are an assignment (see [`crate::assign`]): a 系统管理员 creates the account, a
    /// 安全管理员 gives it its roles.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn create_user(&self, by: &By<'_>, draft: &UserDraft, roles: &[i64]) -> AppResult<Issued> {
        self.create_account(by, draft, roles, false).await
    }

    /// Creates an integration account (12345 热线, 信访平台 …): it acts only through API tokens
    /// and cannot log in (its password is random and never shown).
    ///
    /// # Errors
    /// As [`App::create_user`].
    pub async fn create_integration(&self, by: &By<'_>, draft: &UserDraft, roles: &[i64]) -> AppResult<UserId> {
        Ok(self.create_account(by, draft, roles, true).await?.user_id)
    }

    async fn create_account(
        &self,
        by: &By<'_>,
        draft: &UserDraft,
        roles: &[i64],
        integration: bool,
    ) -> AppResult<Issued> {
        require(by.who, USER_MANAGE)?;
        let mut errs = match draft.validate() {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        self.check_placement(by.who, draft.org_id, &mut errs).await?;
        let mut role_ids = Vec::new();
        if let Some(node) = draft.org_id.map(OrgId)
            && let Some(n) = org_store::get_node(&self.store.read, node).await?
        {
            let to = Assignee { user: None, org_id: node, org_path: n.org_path(), integration };
            role_ids = self.check_assignment(by.who, &to, &[], roles, &mut errs).await?;
        }
        errs.into_result()?;
        let new = draft.validate()?;
        let password = one_time_password();
        let hash = hash_password(if integration { random_hex(32) } else { password.clone() }).await?;
        let mut tx = self.store.begin().await?;
        let id = match store::insert_user(&mut tx, &new, &hash, !integration, self.now()).await {
            Ok(id) => id,
            Err(StoreError::Duplicate(_)) => {
                return Err(FieldErrors::single("username", format!("用户名「{}」已被使用", new.username)).into());
            }
            Err(e) => return Err(e.into()),
        };
        if integration {
            store::set_integration(&mut tx, id).await?;
        }
        store::set_roles(&mut tx, id, &role_ids).await?;
        self.save_user(&mut tx, &by.actor(), id, None, "user.create").await?;
        self.index_user(&mut tx, id).await?;
        let what = if integration { "（对接账户）" } else { "" };
        let detail = format!("{}（{}）{what}", new.username, new.display_name);
        self.audit(&mut tx, "user_created", &by.actor(), &detail).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        let one_time_password = if integration { String::new() } else { password };
        Ok(Issued { user_id: id, username: new.username, one_time_password })
    }

    /// Changes name, mobile, org node and roles of a user. The username never changes. A
    /// change of name, mobile or node needs USER_MANAGE over the user (系统管理员); a change
    /// of roles is an assignment ([`crate::assign`]: 安全管理员, never one's own). Fields
    /// that do not change need nothing, so each administrator submits the other's as they are.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn update_user(&self, by: &By<'_>, id: UserId, draft: &UserDraft, roles: &[i64]) -> AppResult<()> {
        let user = store::get_user(&self.store.write, id).await?.ok_or(AppError::NotFound("用户"))?;
        let rec = user_ref(&user);
        if check(by.who, USER_MANAGE, &rec).is_err() {
            check(by.who, ROLE_ASSIGN, &rec)?;
        }
        let draft = UserDraft { username: user.username.clone(), ..draft.clone() };
        let mut errs = match draft.validate() {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let profile_changed = draft.validate().map_or(true, |n| {
            n.display_name != user.display_name || n.mobile != user.mobile || n.org_id.0 != user.org_id
        });
        if profile_changed {
            check(by.who, USER_MANAGE, &rec)?;
            self.check_placement(by.who, draft.org_id, &mut errs).await?;
        }
        let node = match draft.org_id {
            Some(o) if o != user.org_id => org_store::get_node(&self.store.read, OrgId(o)).await?,
            _ => None,
        };
        let path = node.as_ref().map_or_else(|| user.path(), |n| n.org_path());
        let current = store::role_ids_of(&self.store.read, id).await?;
        let to = Assignee {
            user: Some(id),
            org_id: node.as_ref().map_or(OrgId(user.org_id), |n| OrgId(n.id)),
            org_path: path.clone(),
            integration: user.is_integration(),
        };
        let role_ids = self.check_assignment(by.who, &to, &current, roles, &mut errs).await?;
        if id == by.who.user_id && by.who.system.is_none() && draft.org_id != Some(user.org_id) {
            errs.add("org_id", "不能移动自己的所属机构，请由其他管理员操作");
        }
        for r in role_store::roles_of_user(&self.store.read, id).await? {
            if role_ids.contains(&r.id) && !role_fits(&r, &path) {
                let org = r.org_name.as_deref().unwrap_or("其所属机构");
                errs.add("org_id", format!("该用户持有「{org}」的角色「{}」，不能移出该机构", r.name));
            }
        }
        errs.into_result()?;
        let new = draft.validate()?;
        let mut tx = self.store.begin().await?;
        let before = views::user(&mut tx, id.0).await?;
        store::update_profile(&mut tx, id, &new, self.now()).await?;
        store::set_roles(&mut tx, id, &role_ids).await?;
        self.save_user(&mut tx, &by.actor(), id, before.as_ref(), "user.update").await?;
        self.index_user(&mut tx, id).await?;
        self.audit(&mut tx, "user_updated", &by.actor(), &user.username).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// Disables (or re-enables) an account; disabling ends its sessions at once.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn set_user_disabled(&self, by: &By<'_>, id: UserId, disabled: bool) -> AppResult<()> {
        let user = self.managed_user(by.who, id).await?;
        if disabled && id == by.who.user_id {
            return Err(AppError::Refused("不能停用自己的账户".into()));
        }
        let mut tx = self.store.begin().await?;
        let before = views::user(&mut tx, id.0).await?;
        store::set_disabled(&mut tx, id, disabled, self.now()).await?;
        if disabled {
            auth_store::delete_sessions_of(&mut tx, id).await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        self.save_user(&mut tx, &by.actor(), id, before.as_ref(), action).await?;
        let kind = if disabled { "user_disabled" } else { "user_enabled" };
        self.audit(&mut tx, kind, &by.actor(), &user.username).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// Sets a new one-time password; the user must change it at next login.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn reset_password(&self, by: &By<'_>, id: UserId) -> AppResult<Issued> {
        let user = self.managed_user(by.who, id).await?;
        if user.is_integration() {
            return Err(AppError::Refused("对接账户不用密码登录，没有可重置的密码；请管理其接口令牌".into()));
        }
        let password = one_time_password();
        let hash = hash_password(password.clone()).await?;
        let mut tx = self.store.begin().await?;
        let before = views::user(&mut tx, id.0).await?;
        store::set_password(&mut tx, id, &hash, true, self.now()).await?;
        auth_store::delete_sessions_of(&mut tx, id).await?;
        self.save_user(&mut tx, &by.actor(), id, before.as_ref(), "user.password_reset").await?;
        self.audit(&mut tx, "password_reset", &by.actor(), &user.username).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(Issued { user_id: id, username: user.username, one_time_password: password })
    }
}
