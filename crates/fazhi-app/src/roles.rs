//! Role DEFINITION use cases. Built-in roles are fixed; 安全管理员 define custom roles, each
//! belonging to the org node of its author, within the privilege ceiling ([`may_define`]).
//! Assigning roles to users is [`crate::assign`].

pub use fazhi_store::roles::RoleRow;
use std::collections::BTreeSet;

use fazhi_domain::access::{
    DataScope, DenyReason, Permission, Principal, ROLE_ASSIGN, ROLE_MANAGE, ROLE_READ, RecordRef, may_define,
};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, RoleId};
use fazhi_store::StoreError;
use fazhi_store::roles::{self as store, RoleFields};

use crate::org::By;
use crate::reconcile::views::{self, Saved};
use crate::secrets::random_hex;
use crate::{App, AppError, AppResult, check, require};

/// What a form or API body offers for a role.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoleDraft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

struct ValidRole {
    name: String,
    description: String,
    scope: DataScope,
    permissions: BTreeSet<Permission>,
}

impl RoleDraft {
    fn validate(&self, who: &Principal) -> Result<ValidRole, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.take(bounded_text("name", "角色名称", &self.name, 1, 30));
        let description = e.take(bounded_text("description", "说明", &self.description, 0, 200));
        let scope = DataScope::parse(&self.scope);
        if scope.is_none() {
            e.add("scope", "请选择数据范围");
        }
        let mut permissions = BTreeSet::new();
        for p in &self.permissions {
            match Permission::parse(p) {
                Some(p) => {
                    permissions.insert(p);
                }
                None => e.add("permissions", format!("未知的权限「{p}」")),
            }
        }
        if permissions.is_empty() && e.get("permissions").is_none() {
            e.add("permissions", "请至少选择一项权限");
        }
        // The privilege ceiling: nothing the author does not hold, nowhere wider.
        if let Some(s) = scope {
            if let Some(m) = who.scope_of(ROLE_MANAGE).filter(|m| *m < s) {
                e.add("scope", format!("数据范围「{}」超出您定义角色的范围（{}）", s.label(), m.label()));
            }
            for p in &permissions {
                match may_define(who, [p], s) {
                    Ok(()) => {}
                    Err(DenyReason::NoPermission(_)) => {
                        e.add("permissions", format!("您本人没有「{}」权限，不能把它写进角色（权限上限）", p.label()))
                    }
                    Err(DenyReason::OutOfScope(held)) => e.add(
                        "permissions",
                        format!(
                            "「{}」您只有{}范围，不能以「{}」范围写进角色（权限上限）",
                            p.label(),
                            held.label(),
                            s.label()
                        ),
                    ),
                }
            }
        }
        e.into_result()?;
        Ok(ValidRole {
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            scope: scope.unwrap_or(DataScope::Own),
            permissions,
        })
    }
}

impl App {
    /// Records a change of role `id` made in `tx` (its view read `before` it). A custom
    /// role's changes go to the log of the admin who made them.
    async fn save_role(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        id: RoleId,
        before: Option<&serde_json::Value>,
        action: &'static str,
    ) -> AppResult<()> {
        let after = views::role(tx, id.0).await?;
        let s = Saved {
            kind: &fazhi_domain::record::ROLE,
            id: id.0,
            org: by.who.org_id,
            action,
            before,
            after: after.as_ref(),
            payload: serde_json::Value::Null,
        };
        self.save_view(tx, &by.actor(), s).await?;
        Ok(())
    }
}

fn duplicate(e: StoreError) -> AppError {
    match e {
        StoreError::Duplicate(_) => AppError::Invalid(FieldErrors::single("name", "已有同名角色")),
        other => other.into(),
    }
}

impl App {
    /// The roles `who` may see: every built-in role, and the custom roles whose org node
    /// lies within `who`'s ROLE_READ scope (a pre-0017 custom role without an org: only at
    /// 全部 scope). Visible to whoever reads, defines or assigns roles.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn list_roles(&self, who: &Principal) -> AppResult<Vec<RoleRow>> {
        if !(who.has(ROLE_READ) || who.has(ROLE_ASSIGN)) {
            require(who, ROLE_READ)?;
        }
        let filter = who.filter(ROLE_READ).or_else(|| who.filter(ROLE_ASSIGN));
        let mut all = store::list_roles(&self.store.read).await?;
        all.retain(|r| {
            r.builtin
                || match (&filter, r.org_id, &r.org_path) {
                    (Some(f), Some(o), Some(p)) => f.matches(&RecordRef::single(o, p.clone(), None)),
                    (Some(f), _, _) => *f == fazhi_domain::access::ScopeFilter::All,
                    (None, _, _) => false,
                }
        });
        Ok(all)
    }

    /// May `who` change custom role `r`? ROLE_MANAGE over the role's org node (全部 for a
    /// role without one) AND over the node of every account holding it: a second street's
    /// 安全管理员 cannot widen a role the first street's users hold.
    async fn check_role_editable(&self, who: &Principal, r: &RoleRow) -> AppResult<()> {
        match (r.org_id, &r.org_path) {
            (Some(o), Some(p)) => check(who, ROLE_MANAGE, &RecordRef::single(o, p.clone(), None))?,
            _ => {
                if who.scope_of(ROLE_MANAGE) != Some(DataScope::All) {
                    return Err(AppError::Refused(format!(
                        "角色「{}」是全局自定义角色，只有全局安全管理员可以修改",
                        r.name
                    )));
                }
            }
        }
        for (org, path) in store::holder_orgs(&self.store.write, r.id).await? {
            if check(who, ROLE_MANAGE, &RecordRef::single(org, path, None)).is_err() {
                let name = fazhi_store::org::get_node(&self.store.read, org).await?.map(|n| n.name).unwrap_or_default();
                return Err(AppError::Refused(format!(
                    "角色「{}」有「{name}」的用户持有，超出您的管理范围，不能修改",
                    r.name
                )));
            }
        }
        Ok(())
    }

    /// Role.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn role(&self, who: &Principal, id: RoleId) -> AppResult<RoleRow> {
        self.list_roles(who).await?.into_iter().find(|r| r.id == id).ok_or(AppError::NotFound("角色"))
    }

    /// Creates role.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn create_role(&self, by: &By<'_>, draft: &RoleDraft) -> AppResult<RoleId> {
        require(by.who, ROLE_MANAGE)?;
        let v = draft.validate(by.who)?;
        let code = format!("custom_{}", random_hex(4));
        let f = RoleFields {
            code: &code,
            name: &v.name,
            description: &v.description,
            scope: v.scope,
            builtin: false,
            org_id: Some(by.who.org_id).filter(|o| o.0 > 0),
        };
        let mut tx = self.store.begin().await?;
        let id = store::insert_role(&mut tx, &f, &v.permissions, self.now()).await.map_err(duplicate)?;
        self.save_role(&mut tx, by, id, None, "role.create").await?;
        self.audit(&mut tx, "role_created", &by.actor(), &v.name).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(id)
    }

    /// Updates role.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn update_role(&self, by: &By<'_>, id: RoleId, draft: &RoleDraft) -> AppResult<()> {
        require(by.who, ROLE_MANAGE)?;
        let current = store::get_role(&self.store.write, id).await?.ok_or(AppError::NotFound("角色"))?;
        if current.builtin {
            return Err(AppError::Refused("内置角色不能修改；可以新建一个角色并按需选择权限".into()));
        }
        self.check_role_editable(by.who, &current).await?;
        let v = draft.validate(by.who)?;
        let f = RoleFields {
            code: &current.code,
            name: &v.name,
            description: &v.description,
            scope: v.scope,
            builtin: false,
            org_id: current.org_id,
        };
        let mut tx = self.store.begin().await?;
        let before = views::role(&mut tx, id.0).await?;
        store::update_role(&mut tx, id, &f, &v.permissions, self.now()).await.map_err(duplicate)?;
        self.save_role(&mut tx, by, id, before.as_ref(), "role.update").await?;
        self.audit(&mut tx, "role_updated", &by.actor(), &v.name).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }
}
