//! Access control: permissions, roles, data scope and THE policy.
//!
//! A role is a set of permissions plus one data scope (全部 / 本级及下级 / 本级 / 本人). A user
//! may hold several roles; for each permission the widest scope among the roles that grant
//! it wins. [`Principal::filter`] turns (user, permission) into a [`ScopeFilter`]; the same
//! filter decides single records in [`authorize`] (via [`ScopeFilter::matches`]) and is
//! rendered to SQL by the store for every list, search, export and report. There is no
//! second place where access is decided. Anything not granted is denied.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::org::OrgPath;
use crate::record::{Kind, ScopeAnchor};
use crate::{OrgId, UserId};

/// How far a permission reaches, relative to the user's own org node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataScope {
    /// 本人: records the user owns (created or is assigned).
    Own,
    /// 本级: records of the user's own org node only.
    Org,
    /// 本级及下级: the user's node and everything below it.
    Subtree,
    /// 全部: every record of the installation.
    All,
}

impl DataScope {
    pub const ALL: [DataScope; 4] = [DataScope::All, DataScope::Subtree, DataScope::Org, DataScope::Own];

    pub fn code(self) -> &'static str {
        match self {
            DataScope::All => "all",
            DataScope::Subtree => "subtree",
            DataScope::Org => "org",
            DataScope::Own => "own",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DataScope::All => "全部",
            DataScope::Subtree => "本级及下级",
            DataScope::Org => "本级",
            DataScope::Own => "本人",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A permission code from [`PERMISSIONS`]. Only catalogued codes can be constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Permission(&'static str);

impl Permission {
    pub fn code(self) -> &'static str {
        self.0
    }

    pub fn parse(code: &str) -> Option<Self> {
        PERMISSIONS.iter().find(|p| p.code.0 == code).map(|p| p.code)
    }

    pub fn def(self) -> &'static PermissionDef {
        PERMISSIONS.iter().find(|p| p.code == self).expect("constructed only from the catalogue")
    }

    pub fn label(self) -> &'static str {
        self.def().label
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A catalogued permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionDef {
    pub code: Permission,
    pub module: &'static str,
    pub label: &'static str,
    /// Read-only permissions are the only ones a 督查 (inspection) role gets.
    pub read_only: bool,
}

macro_rules! permissions {
    ($($konst:ident = $code:literal, $module:literal, $label:literal, $ro:literal;)*) => {
        $(pub const $konst: Permission = Permission($code);)*
        /// Every permission of the platform. Modules add theirs here as they arrive.
        pub const PERMISSIONS: &[PermissionDef] = &[
            $(PermissionDef { code: $konst, module: $module, label: $label, read_only: $ro },)*
        ];
    };
}

permissions! {
    ORG_READ = "org.read", "org", "查看组织机构", true;
    ORG_MANAGE = "org.manage", "org", "管理组织机构", false;
    USER_READ = "user.read", "org", "查看用户", true;
    USER_MANAGE = "user.manage", "org", "管理用户账户（新建、停用、重置密码、对接账户）", false;
    ROLE_READ = "role.read", "org", "查看角色", true;
    ROLE_MANAGE = "role.manage", "org", "定义角色", false;
    ROLE_ASSIGN = "role.assign", "org", "为用户分配角色", false;
    TOKEN_MANAGE = "token.manage", "org", "管理接口令牌", false;
    AUDIT_READ = "audit.read", "org", "查看审计日志（登录审计、管理操作）", true;
    ENFORCEMENT_READ = "enforcement.read", "enforcement", "查看行政执法", true;
    ENFORCEMENT_HANDLE = "enforcement.handle", "enforcement", "办理执法案件", false;
    ENFORCEMENT_DECIDE = "enforcement.decide", "enforcement", "审批执法决定", false;
    LEGAL_REVIEW = "enforcement.review", "enforcement", "法制审核", false;
    PETITION_READ = "petitions.read", "petitions", "查看信访调解", true;
    PETITION_HANDLE = "petitions.handle", "petitions", "办理信访与调解", false;
    PETITION_SUPERVISE = "petitions.supervise", "petitions", "督办、包案信访事项（领导接访）", false;
    SAFETY_READ = "safety.read", "safety", "查看安全隐患", true;
    SAFETY_HANDLE = "safety.handle", "safety", "排查整改安全隐患", false;
    ACTIVITY_READ = "activities.read", "activities", "查看学法普法", true;
    ACTIVITY_HANDLE = "activities.handle", "activities", "登记学法普法活动", false;
    DECISION_READ = "decisions.read", "decisions", "查看重大决策", true;
    DECISION_HANDLE = "decisions.handle", "decisions", "办理重大决策", false;
    DECISION_APPROVE = "decisions.approve", "decisions", "审定重大决策", false;
    COUNSEL_TASK = "decisions.counsel", "decisions", "办理法律顾问审查任务", false;
    LITIGATION_READ = "litigation.read", "litigation", "查看诉讼复议", true;
    LITIGATION_HANDLE = "litigation.handle", "litigation", "办理诉讼复议", false;
    DISCLOSURE_READ = "disclosure.read", "disclosure", "查看信息公开", true;
    DISCLOSURE_HANDLE = "disclosure.handle", "disclosure", "办理信息公开", false;
    REPORT_READ = "report.read", "report", "查看指标与年度报告", true;
    REPORT_EDIT = "report.edit", "report", "编制年度报告", false;
    REPORT_SIGN = "report.sign", "report", "签发年度报告", false;
    SETTINGS_MANAGE = "settings.manage", "org", "系统设置（日历、备份）", false;
}

impl PermissionDef {
    /// Whether the permission reaches business data (petitions, enforcement, …): every
    /// module but `org`, which holds the administration of accounts, roles and settings.
    pub fn is_business(&self) -> bool {
        self.module != "org"
    }
}

/// A role as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleGrant {
    pub permissions: BTreeSet<Permission>,
    pub scope: DataScope,
}

/// A non-human actor of the platform. What each may do is the table [`SYSTEM_GRANTS`], not a
/// principal forged by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemActor {
    /// The public portal (网上信访): registers an item at the street the citizen chose.
    Portal,
    /// The operator of the `fazhi` binary on the data directory (CLI commands, `init`, demo
    /// and benchmark seeding): whoever can run it there has full reach.
    Operator,
    /// The scheduler: the daily clock scan and the job queue.
    Scheduler,
}

impl SystemActor {
    /// The name written in the ledger and audit as the actor.
    pub fn name(self) -> &'static str {
        match self {
            SystemActor::Portal => "portal",
            SystemActor::Operator => "system",
            SystemActor::Scheduler => "scheduler",
        }
    }
}

/// What each system actor may do, and how far: (actor, permissions, scope). The portal may
/// only register petitions at the street it is addressed to (its principal sits on that
/// street's node with 本级 scope); the operator and the scheduler reach everything.
pub fn system_grant(actor: SystemActor) -> RoleGrant {
    match actor {
        SystemActor::Portal => {
            RoleGrant { permissions: [PETITION_HANDLE].into_iter().collect(), scope: DataScope::Org }
        }
        SystemActor::Operator | SystemActor::Scheduler => {
            RoleGrant { permissions: PERMISSIONS.iter().map(|p| p.code).collect(), scope: DataScope::All }
        }
    }
}

/// The acting user as the policy sees them: who, where, and what each permission reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user; `UserId(0)` for a system actor (see [`Principal::user`]).
    pub user_id: UserId,
    pub org_id: OrgId,
    pub org_path: OrgPath,
    /// The government body (街道/乡镇/区: a node whose kind keeps a log) at or above the
    /// user's node, where street-level registers are kept ([`ScopeAnchor::Government`]).
    pub gov: Option<OrgId>,
    /// Set when the principal is a system actor rather than a person.
    pub system: Option<SystemActor>,
    grants: BTreeMap<Permission, DataScope>,
}

impl Principal {
    /// Builds the principal from all the user's roles: per permission, the widest scope wins.
    pub fn new<'a>(
        user_id: UserId,
        org_id: OrgId,
        org_path: OrgPath,
        roles: impl IntoIterator<Item = &'a RoleGrant>,
    ) -> Self {
        let mut grants = BTreeMap::new();
        for role in roles {
            for p in &role.permissions {
                grants.entry(*p).and_modify(|s: &mut DataScope| *s = (*s).max(role.scope)).or_insert(role.scope);
            }
        }
        Self { user_id, org_id, org_path, gov: None, system: None, grants }
    }

    /// A system actor sitting on node `org` (the portal: the street it is addressed to; the
    /// operator and scheduler: any node, their scope is 全部), with the grants of
    /// [`system_grant`].
    pub fn system(actor: SystemActor, org_id: OrgId, org_path: OrgPath) -> Self {
        let grant = system_grant(actor);
        let mut p = Self::new(UserId(0), org_id, org_path.clone(), [&grant]);
        p.system = Some(actor);
        p.gov = Some(org_id);
        p
    }

    /// The same principal with its government body set (see [`Principal::gov`]).
    pub fn with_government(mut self, gov: Option<OrgId>) -> Self {
        self.gov = gov;
        self
    }

    /// The person acting, or `None` for a system actor (records it creates have no owner).
    pub fn user(&self) -> Option<UserId> {
        if self.system.is_some() { None } else { Some(self.user_id) }
    }

    /// The scope this principal has for `perm`, if any.
    pub fn scope_of(&self, perm: Permission) -> Option<DataScope> {
        self.grants.get(&perm).copied()
    }

    pub fn has(&self, perm: Permission) -> bool {
        self.grants.contains_key(&perm)
    }

    pub fn permissions(&self) -> impl Iterator<Item = (Permission, DataScope)> + '_ {
        self.grants.iter().map(|(p, s)| (*p, *s))
    }

    /// The record filter for `perm` on records held by their own nodes
    /// ([`ScopeAnchor::Holders`]): `None` when the permission is not held at all.
    pub fn filter(&self, perm: Permission) -> Option<ScopeFilter> {
        self.filter_anchored(perm, ScopeAnchor::Holders)
    }

    /// The record filter for `perm` on records of a kind anchored at `anchor`: a 本级 scope
    /// reaches the government body's street-level registers ([`ScopeAnchor::Government`]).
    pub fn filter_anchored(&self, perm: Permission, anchor: ScopeAnchor) -> Option<ScopeFilter> {
        Some(match self.scope_of(perm)? {
            DataScope::All => ScopeFilter::All,
            DataScope::Subtree => ScopeFilter::Subtree(self.org_path.clone()),
            DataScope::Org => match (anchor, self.gov) {
                (ScopeAnchor::Government, Some(gov)) => ScopeFilter::Org(gov),
                _ => ScopeFilter::Org(self.org_id),
            },
            DataScope::Own => ScopeFilter::Owner(self.user_id),
        })
    }

    /// The record filter for `perm` on records of `kind`.
    pub fn filter_for(&self, kind: &Kind, perm: Permission) -> Option<ScopeFilter> {
        self.filter_anchored(perm, kind.anchor)
    }
}

/// One holder of a record: an org node and, optionally, a user (creator, assignee, 包案领导).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub owner: Option<UserId>,
}

/// What the policy needs to know of a record: how its kind is anchored and everyone who
/// holds it. A petition is held by its desk (and creator) and, while assigned, by the
/// assignee's node (and its 包案 leader); after 转送 by the receiving body. A record is in
/// scope when ANY holder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub anchor: ScopeAnchor,
    pub holders: Vec<Holder>,
}

impl RecordRef {
    /// A record with one holder, anchored at its holders.
    pub fn single(org_id: OrgId, org_path: OrgPath, owner: Option<UserId>) -> Self {
        Self { anchor: ScopeAnchor::Holders, holders: vec![Holder { org_id, org_path, owner }] }
    }

    /// A record of `kind` with these holders.
    pub fn of(kind: &Kind, holders: Vec<Holder>) -> Self {
        Self { anchor: kind.anchor, holders }
    }
}

/// The set of records a principal may touch with one permission. The store renders it to a
/// SQL predicate over each holder's columns; [`ScopeFilter::matches`] is the same predicate
/// in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    All,
    /// Records whose org path lies within this path.
    Subtree(OrgPath),
    /// Records of exactly this org node.
    Org(OrgId),
    /// Records owned by this user.
    Owner(UserId),
}

impl ScopeFilter {
    /// Whether one holder is within the filter.
    pub fn matches_holder(&self, h: &Holder) -> bool {
        match self {
            ScopeFilter::All => true,
            ScopeFilter::Subtree(p) => h.org_path.is_within(p),
            ScopeFilter::Org(id) => h.org_id == *id,
            ScopeFilter::Owner(u) => h.owner == Some(*u),
        }
    }

    /// Whether a record is within the filter: any of its holders is.
    pub fn matches(&self, r: &RecordRef) -> bool {
        r.holders.iter().any(|h| self.matches_holder(h))
    }
}

/// Why the policy said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DenyReason {
    #[error("没有「{}」的权限", .0.label())]
    NoPermission(Permission),
    #[error("该记录不在您的数据范围（{}）内", .0.label())]
    OutOfScope(DataScope),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(DenyReason),
}

impl Decision {
    /// `Ok(())` for [`Decision::Allow`].
    ///
    /// # Errors
    /// The reason of a [`Decision::Deny`].
    pub fn into_result(self) -> Result<(), DenyReason> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(r) => Err(r),
        }
    }
}

/// THE policy: may `who` do `action` on `record`? Deny unless a role grants the permission
/// and ANY holder of the record lies within that permission's scope (anchored as the
/// record's kind says).
pub fn authorize(who: &Principal, action: Permission, record: &RecordRef) -> Decision {
    let (Some(scope), Some(filter)) = (who.scope_of(action), who.filter_anchored(action, record.anchor)) else {
        return Decision::Deny(DenyReason::NoPermission(action));
    };
    if filter.matches(record) { Decision::Allow } else { Decision::Deny(DenyReason::OutOfScope(scope)) }
}

/// May `who` create a record of a kind anchored at `anchor`, held by node `at` (it has no
/// owner yet; the creator will own it)? Scopes reach `at` as they reach records, except that
/// 本人 creates only at the user's own node (it would otherwise pass for any node, since the
/// new record is "owned" by its creator).
pub fn authorize_create(who: &Principal, action: Permission, anchor: ScopeAnchor, at: &Holder) -> Decision {
    let (Some(scope), Some(filter)) = (who.scope_of(action), who.filter_anchored(action, anchor)) else {
        return Decision::Deny(DenyReason::NoPermission(action));
    };
    let ok = match filter {
        ScopeFilter::Owner(_) => at.org_id == who.org_id,
        f => f.matches_holder(at),
    };
    if ok { Decision::Allow } else { Decision::Deny(DenyReason::OutOfScope(scope)) }
}

/// May `granter` assign a role of this scope to users (role ASSIGNMENT, see
/// [`builtin_roles`] for why it is not ceiling-bound)? Nobody hands out more reach than
/// they hold for assigning roles: a street's 安全管理员 (本级及下级) cannot assign a 全部
/// role. Whether the user lies within that reach is [`authorize`] with [`ROLE_ASSIGN`].
///
/// # Errors
/// [`DenyReason::NoPermission`] without [`ROLE_ASSIGN`]; [`DenyReason::OutOfScope`] when
/// the role reaches further.
pub fn may_grant(granter: &Principal, scope: DataScope) -> Result<(), DenyReason> {
    match granter.scope_of(ROLE_ASSIGN) {
        None => Err(DenyReason::NoPermission(ROLE_ASSIGN)),
        Some(s) if s >= scope => Ok(()),
        Some(s) => Err(DenyReason::OutOfScope(s)),
    }
}

/// The privilege ceiling of role DEFINITION: may `editor` write a role granting
/// `permissions` at `scope`? Every permission must be held by the editor at a scope at
/// least as wide, and the role's scope must be within the editor's [`ROLE_MANAGE`] scope.
/// A street's 安全管理员, holding no business permission, cannot write a role that reads
/// petitions.
///
/// # Errors
/// The first permission the editor lacks ([`DenyReason::NoPermission`]) or holds more
/// narrowly ([`DenyReason::OutOfScope`]).
pub fn may_define<'a>(
    editor: &Principal,
    permissions: impl IntoIterator<Item = &'a Permission>,
    scope: DataScope,
) -> Result<(), DenyReason> {
    for p in std::iter::once(&ROLE_MANAGE).chain(permissions) {
        match editor.scope_of(*p) {
            None => return Err(DenyReason::NoPermission(*p)),
            Some(s) if s < scope => return Err(DenyReason::OutOfScope(s)),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Installation-wide settings (the holiday calendar, signing keys, the full ledger check,
/// the scan of every street's clocks) need [`SETTINGS_MANAGE`] at 全部: a street's
/// 系统管理员 (本级及下级) manages its own street, not the installation.
///
/// # Errors
/// [`DenyReason::NoPermission`] without the permission; [`DenyReason::OutOfScope`] when it
/// is held at a narrower scope.
pub fn require_installation(who: &Principal) -> Result<(), DenyReason> {
    match who.scope_of(SETTINGS_MANAGE) {
        None => Err(DenyReason::NoPermission(SETTINGS_MANAGE)),
        Some(DataScope::All) => Ok(()),
        Some(s) => Err(DenyReason::OutOfScope(s)),
    }
}

mod builtin;
pub use builtin::{BuiltinRole, builtin_roles};

#[cfg(test)]
mod tests;
