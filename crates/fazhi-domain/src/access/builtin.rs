//! The built-in roles: the three administrators of 三员分立 and the business roles.

use super::*;

/// A built-in role, created at install time and not editable.
#[derive(Debug, Clone)]
pub struct BuiltinRole {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub scope: DataScope,
    pub permissions: Vec<Permission>,
}

/// The three administrators of 三员分立 (see [`builtin_roles`]).
fn admin_roles() -> Vec<BuiltinRole> {
    let system = vec![ORG_READ, ORG_MANAGE, USER_READ, USER_MANAGE, ROLE_READ, TOKEN_MANAGE, SETTINGS_MANAGE];
    vec![
        BuiltinRole {
            code: "admin",
            name: "系统管理员",
            description: "三员之一：维护组织机构、用户账户（新建、停用、重置密码）、对接账户及其接口令牌和系统设置；不分配角色，不查看业务数据和审计日志",
            scope: DataScope::Subtree,
            permissions: system.clone(),
        },
        BuiltinRole {
            code: "installation_admin",
            name: "系统管理员（全局）",
            description: "全安装范围的系统管理员：另可维护全局设置（节假日日历、签名密钥、全量核验）",
            scope: DataScope::All,
            permissions: system,
        },
        BuiltinRole {
            code: "security_admin",
            name: "安全管理员",
            description: "三员之一：定义自定义角色、为用户分配角色；不能新建账户、重置密码或签发令牌，不能修改自己的角色",
            scope: DataScope::Subtree,
            permissions: vec![ORG_READ, USER_READ, ROLE_READ, ROLE_MANAGE, ROLE_ASSIGN],
        },
        BuiltinRole {
            code: "auditor",
            name: "审计管理员",
            description: "三员之一：查看登录审计和管理操作日志（含系统管理员、安全管理员的操作）",
            scope: DataScope::Subtree,
            permissions: vec![ORG_READ, USER_READ, ROLE_READ, AUDIT_READ],
        },
    ]
}

/// The roles of PRODUCT.md "Who uses it": the administrators and the business roles.
/// Business roles do not read the audit trail (that is the auditor's).
///
/// The administration roles of 三员分立 (separation of duties), each without any
/// business-data permission ([`PermissionDef::is_business`]):
///
/// - 系统管理员 (`admin`, the code kept from before the split so stored grants stay valid;
///   `installation_admin` is the same at 全部 scope): org tree, accounts (create, disable,
///   reset password), integration accounts and their API tokens, settings. It does not
///   define or assign roles and does not read the audit trail.
/// - 安全管理员 (`security_admin`): defines custom roles and assigns roles to users. It
///   cannot create accounts, reset passwords or issue tokens.
/// - 审计管理员 (`auditor`): reads the audit trail (logins and administrative operations)
///   of the people it is placed above, the system and security administrators included.
///
/// Why assignment is not bound by the privilege ceiling while definition is: the security
/// administrator holds no business permission, so a ceiling on assignment would leave
/// nobody able to hand a 信访 worker their role. Role DEFINITION is ceiling-bound
/// ([`may_define`]): nobody writes a role granting what they do not hold themselves.
/// Role ASSIGNMENT ([`may_grant`]) is protected by separation instead: whoever assigns
/// roles (安全管理员) cannot take over an account (no password reset, no token), whoever
/// can take over accounts (系统管理员) cannot assign roles, and nobody changes their own
/// roles. Escalating therefore needs two administrators acting together, each step in the
/// audit trail the 审计管理员 reads.
pub fn builtin_roles() -> Vec<BuiltinRole> {
    let all_read: Vec<Permission> =
        PERMISSIONS.iter().filter(|p| p.read_only && p.code != AUDIT_READ).map(|p| p.code).collect();
    let with = |extra: &[Permission]| -> Vec<Permission> {
        let mut v = all_read.clone();
        v.extend_from_slice(extra);
        v
    };
    let mut roles = admin_roles();
    roles.extend(vec![
        BuiltinRole {
            code: "principal",
            name: "街道主要负责人",
            description: "主任/书记：查看全部工作，审定重大决策，签发年度报告",
            scope: DataScope::Subtree,
            permissions: with(&[DECISION_APPROVE, REPORT_SIGN, ENFORCEMENT_DECIDE, PETITION_SUPERVISE]),
        },
        BuiltinRole {
            code: "deputy",
            name: "分管领导",
            description: "审批执法决定，督办分管领域的超期事项",
            scope: DataScope::Subtree,
            permissions: with(&[ENFORCEMENT_DECIDE, PETITION_SUPERVISE]),
        },
        BuiltinRole {
            code: "legal_reviewer",
            name: "法制审核员",
            description: "司法所/法制办：重大执法决定法制审核、决策合法性审查、规范性文件审核",
            scope: DataScope::Subtree,
            permissions: vec![
                ORG_READ,
                USER_READ,
                ENFORCEMENT_READ,
                LEGAL_REVIEW,
                DECISION_READ,
                DECISION_HANDLE,
                LITIGATION_READ,
                LITIGATION_HANDLE,
                REPORT_READ,
                REPORT_EDIT,
            ],
        },
        BuiltinRole {
            code: "enforcement_officer",
            name: "执法人员",
            description: "综合执法大队：检查、立案、取证、文书、送达、公示",
            scope: DataScope::Org,
            permissions: vec![ORG_READ, ENFORCEMENT_READ, ENFORCEMENT_HANDLE, SAFETY_READ],
        },
        BuiltinRole {
            code: "petition_worker",
            name: "信访调解工作人员",
            description: "信访受理办理、人民调解、领导接访安排",
            scope: DataScope::Org,
            permissions: vec![ORG_READ, PETITION_READ, PETITION_HANDLE],
        },
        BuiltinRole {
            code: "community_worker",
            name: "安全员/网格员/社区工作者",
            description: "现场发现隐患、跟踪整改，登记社区活动",
            scope: DataScope::Subtree,
            permissions: vec![ORG_READ, SAFETY_READ, SAFETY_HANDLE, ACTIVITY_READ, ACTIVITY_HANDLE, PETITION_READ],
        },
        BuiltinRole {
            code: "legal_counsel",
            name: "法律顾问",
            description: "只处理指派给本人的审查任务",
            scope: DataScope::Own,
            permissions: vec![COUNSEL_TASK, DECISION_READ],
        },
        BuiltinRole {
            code: "district_inspector",
            name: "区级督查",
            description: "只读查看本区各街道的全部工作并横向比较",
            scope: DataScope::Subtree,
            permissions: all_read,
        },
    ]);
    roles
}
