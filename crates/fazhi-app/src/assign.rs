//! Role ASSIGNMENT: who may change which roles of which account (三员分立, issue 13).
//!
//! - nobody changes their own roles;
//! - the assigner holds [`ROLE_ASSIGN`] over the account's org node, and each role added or
//!   removed reaches no further than that ([`may_grant`]);
//! - a custom role is assigned only inside its org's subtree (a pre-0017 custom role without
//!   an org only by an assigner of 全部 scope);
//! - an integration account holds no role, audit, token or settings permission.
//!
//! Assignment is not ceiling-bound (the 安全管理员 holds no business permission); see
//! [`fazhi_domain::access::builtin_roles`] for why separation protects it instead.

use fazhi_domain::access::{
    AUDIT_READ, DataScope, DenyReason, Permission, Principal, ROLE_ASSIGN, ROLE_MANAGE, RecordRef, SETTINGS_MANAGE,
    TOKEN_MANAGE, authorize, may_grant,
};
use fazhi_domain::org::OrgPath;
use fazhi_domain::{FieldErrors, OrgId, RoleId, UserId};
use fazhi_store::roles::{self as role_store, RoleRow};

use crate::{App, AppResult};

/// Permissions an integration account never holds: through its token the 系统管理员 who
/// issues it would gain another administrator's part (roles, the audit trail) or mint tokens
/// and change installation settings without a person behind them. A directory sync may keep
/// accounts and org nodes (what the 系统管理员 may do anyway).
const ADMINISTRATION: [Permission; 5] = [ROLE_MANAGE, ROLE_ASSIGN, TOKEN_MANAGE, AUDIT_READ, SETTINGS_MANAGE];

/// The account whose roles change, as the rules see it.
#[derive(Debug, Clone)]
pub(crate) struct Assignee {
    /// `None` for an account being created.
    pub user: Option<UserId>,
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub integration: bool,
}

/// Whether `role` may be held by an account on the node at `path`: a custom role only inside
/// its org's subtree.
pub(crate) fn role_fits(role: &RoleRow, path: &OrgPath) -> bool {
    match (&role.org_path, role.builtin) {
        (_, true) | (None, false) => true,
        (Some(p), false) => path.is_within(p),
    }
}

impl App {
    /// Checks a change of `to`'s roles from `current` to `wanted` by `who` (see the module
    /// docs); adds field errors on `roles` instead of failing early. Returns the wanted role
    /// ids, sorted and without duplicates. An unchanged set needs no permission.
    ///
    /// # Errors
    /// [`crate::AppError::Internal`] for database failures.
    pub(crate) async fn check_assignment(
        &self,
        who: &Principal,
        to: &Assignee,
        current: &[RoleId],
        wanted: &[i64],
        errs: &mut FieldErrors,
    ) -> AppResult<Vec<RoleId>> {
        let mut ids: Vec<RoleId> = wanted.iter().copied().map(RoleId).collect();
        ids.sort();
        ids.dedup();
        if ids == current {
            return Ok(ids);
        }
        if to.user.is_some() && to.user == who.user() {
            errs.add("roles", "不能修改自己的角色（三员分立：请由其他安全管理员操作）");
            return Ok(ids);
        }
        let at = RecordRef::single(to.org_id, to.org_path.clone(), to.user);
        match authorize(who, ROLE_ASSIGN, &at).into_result() {
            Ok(()) => {}
            Err(DenyReason::NoPermission(_)) => {
                errs.add("roles", "没有「为用户分配角色」的权限（三员分立：角色由安全管理员分配）");
                return Ok(ids);
            }
            Err(reason) => {
                errs.add("roles", format!("不能为该机构的用户分配角色：{reason}"));
                return Ok(ids);
            }
        }
        let all = role_store::list_roles(&self.store.read).await?;
        let changed = ids.iter().filter(|r| !current.contains(r)).chain(current.iter().filter(|r| !ids.contains(r)));
        for rid in changed {
            let Some(r) = all.iter().find(|r| r.id == *rid) else {
                errs.add("roles", "所选角色不存在");
                continue;
            };
            if may_grant(who, r.scope).is_err() {
                errs.add(
                    "roles",
                    format!("不能授予或收回角色「{}」：其数据范围（{}）超出您的管理范围", r.name, r.scope.label()),
                );
            } else if !r.builtin && r.org_id.is_none() && who.scope_of(ROLE_ASSIGN) != Some(DataScope::All) {
                errs.add("roles", format!("角色「{}」是全局自定义角色，只有全局安全管理员可以分配", r.name));
            } else if ids.contains(rid) && !role_fits(r, &to.org_path) {
                let org = r.org_name.as_deref().unwrap_or("其所属机构");
                errs.add("roles", format!("角色「{}」属于「{org}」，只能分配给该机构及下级机构的用户", r.name));
            }
            if to.integration
                && ids.contains(rid)
                && let Some(p) = ADMINISTRATION.iter().find(|p| r.permissions.contains(p))
            {
                errs.add("roles", format!("对接账户不能持有管理权限（角色「{}」含「{}」）", r.name, p.label()));
            }
        }
        if errs.get("roles").is_none() {
            let wanted: Vec<&RoleRow> = all.iter().filter(|r| ids.contains(&r.id)).collect();
            if let Some(m) = combined_duties(&wanted) {
                errs.add("roles", m);
            }
        }
        Ok(ids)
    }
}

/// The duty a permission belongs to under 三员分立 (GB/T 22239-2019 8.1.4.2 权限分离): system
/// administration, security administration, audit, or business work; reading the org tree,
/// the accounts and the roles belongs to none.
fn duty(p: Permission) -> Option<&'static str> {
    use fazhi_domain::access::{ORG_MANAGE, USER_MANAGE};
    match p {
        p if [USER_MANAGE, ORG_MANAGE, TOKEN_MANAGE, SETTINGS_MANAGE].contains(&p) => Some("系统管理"),
        p if [ROLE_MANAGE, ROLE_ASSIGN].contains(&p) => Some("安全管理"),
        p if p == AUDIT_READ => Some("审计"),
        p if p.def().module == "org" => None,
        _ => Some("业务"),
    }
}

/// The refusal when the roles of one account combine two duties: one person would then
/// both create accounts and grant them, or grant and audit, or administer and work on the
/// records administered (三员分立).
fn combined_duties(roles: &[&RoleRow]) -> Option<String> {
    let mut seen: Vec<(&'static str, &str)> = Vec::new();
    for r in roles {
        for p in &r.permissions {
            if let Some(d) = duty(*p)
                && !seen.iter().any(|(x, _)| *x == d)
            {
                seen.push((d, r.name.as_str()));
            }
        }
    }
    let [(a, ra), (b, rb), ..] = seen.as_slice() else { return None };
    Some(format!(
        "三员分立：{a}（角色「{ra}」）与{b}（角色「{rb}」）不能由同一账户兼任；系统管理员、安全管理员、审计管理员和业务人员应为不同账户"
    ))
}
