//! Role use cases. Built-in roles are fixed; admins create their own.

pub use fazhi_store::roles::RoleRow;
use std::collections::BTreeSet;

use fazhi_domain::access::{DataScope, Permission, Principal, ROLE_MANAGE, ROLE_READ, USER_MANAGE, may_grant};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, RoleId};
use fazhi_store::StoreError;
use fazhi_store::roles::{self as store, RoleFields};

use crate::org::By;
use crate::secrets::random_hex;
use crate::{App, AppError, AppResult, require};

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
        match scope {
            None => e.add("scope", "请选择数据范围"),
            Some(s) => {
                if may_grant(who, s).is_err() {
                    e.add("scope", format!("数据范围「{}」超出您的管理范围", s.label()));
                }
            }
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
        e.into_result()?;
        Ok(ValidRole {
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            scope: scope.unwrap_or(DataScope::Own),
            permissions,
        })
    }
}

fn role_json(v: &ValidRole) -> serde_json::Value {
    let perms: Vec<&str> = v.permissions.iter().map(|p| p.code()).collect();
    serde_json::json!({"name": v.name, "description": v.description, "scope": v.scope.code(), "permissions": perms})
}

/// Roles are installation-wide; their changes go to the log of the admin who made them.
fn role_change(
    by: &By<'_>,
    id: RoleId,
    action: &'static str,
    change: serde_json::Value,
) -> crate::ledger::Change<'static> {
    crate::ledger::Change {
        org: by.who.org_id,
        record_type: "role",
        record_id: id.to_string(),
        action,
        change,
        attachments: Vec::new(),
    }
}

fn duplicate(e: StoreError) -> AppError {
    match e {
        StoreError::Duplicate(_) => AppError::Invalid(FieldErrors::single("name", "已有同名角色")),
        other => other.into(),
    }
}

impl App {
    /// All roles (roles are installation-wide). Visible to whoever reads or assigns them.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn list_roles(&self, who: &Principal) -> AppResult<Vec<RoleRow>> {
        if !(who.has(ROLE_READ) || who.has(USER_MANAGE)) {
            require(who, ROLE_READ)?;
        }
        Ok(store::list_roles(&self.store.read).await?)
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
        let f = RoleFields { code: &code, name: &v.name, description: &v.description, scope: v.scope, builtin: false };
        let mut tx = self.store.begin().await?;
        let id = store::insert_role(&mut tx, &f, &v.permissions, self.now()).await.map_err(duplicate)?;
        let change = role_json(&v);
        self.record(&mut tx, &by.actor(), role_change(by, id, "role.create", change)).await?;
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
        may_grant(by.who, current.scope)?;
        let v = draft.validate(by.who)?;
        let f = RoleFields {
            code: &current.code,
            name: &v.name,
            description: &v.description,
            scope: v.scope,
            builtin: false,
        };
        let mut tx = self.store.begin().await?;
        store::update_role(&mut tx, id, &f, &v.permissions, self.now()).await.map_err(duplicate)?;
        let change = role_json(&v);
        self.record(&mut tx, &by.actor(), role_change(by, id, "role.update", change)).await?;
        self.audit(&mut tx, "role_updated", &by.actor(), &v.name).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }
}
