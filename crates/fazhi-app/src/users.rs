//! User use cases: list, view, create, edit, disable/enable, reset password, assign roles.

use fazhi_domain::access::{Principal, RecordRef, USER_MANAGE, USER_READ, may_grant};
use fazhi_domain::user::UserDraft;
use fazhi_domain::{FieldErrors, OrgId, RoleId, UserId};
use fazhi_store::StoreError;
use fazhi_store::auth as auth_store;
use fazhi_store::org as org_store;
use fazhi_store::roles::{self as role_store, RoleRow};
use fazhi_store::users::{self as store};
pub use fazhi_store::users::{UserQuery, UserRow};

use crate::audit::Actor;
use crate::org::{By, node_ref};
use crate::reconcile::views::{self, Saved};
use crate::secrets::{hash_password, one_time_password};
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

    /// Checks the target org (must be manageable) and the roles (must exist and not reach
    /// further than the granter). Adds field errors instead of failing early.
    async fn check_placement_and_roles(
        &self,
        who: &Principal,
        org_id: Option<i64>,
        roles: &[i64],
        errs: &mut FieldErrors,
    ) -> AppResult<Vec<RoleId>> {
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
        let all = role_store::list_roles(&self.store.read).await?;
        let mut ids = Vec::new();
        for rid in roles {
            match all.iter().find(|r| r.id.0 == *rid) {
                None => errs.add("roles", "所选角色不存在"),
                Some(r) => match may_grant(who, r.scope) {
                    Ok(()) => ids.push(r.id),
                    Err(_) => errs.add(
                        "roles",
                        format!("不能授予角色「{}」：其数据范围（{}）超出您的管理范围", r.name, r.scope.label()),
                    ),
                },
            }
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Creates a user with a one-time password they must change at first login.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn create_user(&self, by: &By<'_>, draft: &UserDraft, roles: &[i64]) -> AppResult<Issued> {
        require(by.who, USER_MANAGE)?;
        let mut errs = match draft.validate() {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let role_ids = self.check_placement_and_roles(by.who, draft.org_id, roles, &mut errs).await?;
        errs.into_result()?;
        let new = draft.validate()?;
        let password = one_time_password();
        let hash = hash_password(password.clone()).await?;
        let mut tx = self.store.begin().await?;
        let id = match store::insert_user(&mut tx, &new, &hash, true, self.now()).await {
            Ok(id) => id,
            Err(StoreError::Duplicate(_)) => {
                return Err(FieldErrors::single("username", format!("用户名「{}」已被使用", new.username)).into());
            }
            Err(e) => return Err(e.into()),
        };
        store::set_roles(&mut tx, id, &role_ids).await?;
        self.save_user(&mut tx, &by.actor(), id, None, "user.create").await?;
        self.index_user(&mut tx, id).await?;
        self.audit(&mut tx, "user_created", &by.actor(), &format!("{}（{}）", new.username, new.display_name)).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(Issued { user_id: id, username: new.username, one_time_password: password })
    }

    /// Changes name, mobile, org node and roles of a user. The username never changes.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn update_user(&self, by: &By<'_>, id: UserId, draft: &UserDraft, roles: &[i64]) -> AppResult<()> {
        let user = self.managed_user(by.who, id).await?;
        let draft = UserDraft { username: user.username.clone(), ..draft.clone() };
        let mut errs = match draft.validate() {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let role_ids = self.check_placement_and_roles(by.who, draft.org_id, roles, &mut errs).await?;
        if id == by.who.user_id && !role_ids.is_empty() && draft.org_id != Some(user.org_id) {
            errs.add("org_id", "不能移动自己的所属机构，请由其他管理员操作");
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
