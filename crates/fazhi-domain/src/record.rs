//! Record kinds: the one registry every cross-cutting mechanism reads.
//!
//! A [`Kind`] is one kind of record (信访件, 人民调解案件, 机构 …): the code the ledger, clocks,
//! search, attachments, notifications and timelines store as `record_type`, its module, its
//! Chinese label, the permissions that read and handle it, where the data-scope policy
//! anchors it, and the Chinese label of every ledger action it emits. [`KINDS`] lists them
//! all; [`kind`] finds one by code. Nothing else keys on `record_type` strings: a new
//! module adds its kinds here (one line) and everything that shows, links, searches or
//! authorises records knows them.

use crate::access::{
    AUDIT_READ, ORG_MANAGE, ORG_READ, PETITION_HANDLE, PETITION_READ, Permission, ROLE_MANAGE, ROLE_READ,
    SETTINGS_MANAGE, TOKEN_MANAGE, USER_MANAGE, USER_READ,
};

crate::code_enum! {
    /// A module of the platform (PRODUCT.md §2): what permissions, kinds and navigation
    /// belong to.
    pub enum Module: "模块" {
        /// 组织机构、用户、角色、令牌、设置.
        Org = ("org", "组织与权限"),
        /// 行政执法.
        Enforcement = ("enforcement", "行政执法"),
        /// 信访、人民调解、领导接访.
        Petitions = ("petitions", "信访调解"),
        /// 安全隐患.
        Safety = ("safety", "安全隐患"),
        /// 学法普法.
        Activities = ("activities", "学法普法"),
        /// 重大决策、合法性审查.
        Decisions = ("decisions", "重大决策"),
        /// 行政诉讼与复议.
        Litigation = ("litigation", "诉讼复议"),
        /// 政府信息公开.
        Disclosure = ("disclosure", "信息公开"),
        /// 指标与年度报告.
        Report = ("report", "指标与报告"),
    }
}

/// Where the data-scope policy anchors a kind's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeAnchor {
    /// The record is held by its own nodes and users ([`crate::access::Holder`]s), and a
    /// principal reaches it through its scope as it is.
    Holders,
    /// A street-level register (调解委员会, 接访日, 调解案件, 接访记录): kept at the government
    /// body (街道/乡镇) for all its offices. A principal whose scope is 本级 (its own office)
    /// reaches the registers of its government body, because that office keeps them for the
    /// street; 本级及下级, 全部 and 本人 reach what they reach anyway (a community worker sees
    /// the registers held within its community, none of the street's).
    Government,
}

/// One kind of record. See the module docs.
#[derive(Debug)]
pub struct Kind {
    /// `petition`, `mediation`, `org_node`: the `record_type` column everywhere.
    pub code: &'static str,
    /// The module the kind belongs to.
    pub module: Module,
    /// 信访件, 人民调解案件: in "…不存在", list and search labels, timelines.
    pub label: &'static str,
    /// The permission that reads a record of this kind (list, item, search, timeline,
    /// clocks, proofs, attachments' download).
    pub read: Permission,
    /// The permission that changes one (steps, attachments' upload).
    pub handle: Permission,
    /// Where the policy anchors the record.
    pub anchor: ScopeAnchor,
    /// Whether records of this kind are in the full-text index.
    pub searchable: bool,
    /// (ledger action code, Chinese label) of every action this kind's records are changed
    /// by. The ledger refuses to append an action that is not listed here or in
    /// [`COMMON_ACTIONS`], so every timeline line has a label.
    pub actions: &'static [(&'static str, &'static str)],
}

impl Kind {
    /// The Chinese label of one of this kind's actions (or a common one).
    pub fn action_label(&self, action: &str) -> Option<&'static str> {
        self.actions.iter().chain(COMMON_ACTIONS).find(|(c, _)| *c == action).map(|(_, l)| *l)
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Kind {}

/// Actions the kernel emits on a record of any kind: clocks and attachments.
pub const COMMON_ACTIONS: &[(&str, &str)] = &[
    ("clock.start", "开始计时"),
    ("clock.pause", "暂停计时"),
    ("clock.resume", "恢复计时"),
    ("clock.extend", "延长期限"),
    ("clock.complete", "期限事项完成"),
    ("clock.recompute", "按新日历重算期限"),
    ("attachment.add", "上传附件"),
];

/// 组织机构节点.
pub static ORG_NODE: Kind = Kind {
    code: "org_node",
    module: Module::Org,
    label: "机构",
    read: ORG_READ,
    handle: ORG_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: true,
    actions: &[
        ("org.create", "新建机构"),
        ("org.update", "修改机构"),
        ("org.move", "移动机构"),
        ("org.delete", "删除机构"),
        ("org.webhook", "设置提醒机器人"),
    ],
};

/// 用户（账户）.
pub static USER: Kind = Kind {
    code: "user",
    module: Module::Org,
    label: "用户",
    read: USER_READ,
    handle: USER_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: true,
    actions: &[
        ("user.create", "新建用户"),
        ("user.update", "修改用户"),
        ("user.disable", "停用用户"),
        ("user.enable", "启用用户"),
        ("user.password_reset", "重置密码"),
        ("user.password_change", "修改密码"),
    ],
};

/// 角色.
pub static ROLE: Kind = Kind {
    code: "role",
    module: Module::Org,
    label: "角色",
    read: ROLE_READ,
    handle: ROLE_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: false,
    actions: &[("role.create", "新建角色"), ("role.update", "修改角色")],
};

/// 接口令牌.
pub static API_TOKEN: Kind = Kind {
    code: "api_token",
    module: Module::Org,
    label: "接口令牌",
    read: TOKEN_MANAGE,
    handle: TOKEN_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: false,
    actions: &[("token.issue", "签发接口令牌"), ("token.revoke", "吊销接口令牌")],
};

/// 节假日安排 (installation-wide; one record, id `holidays`).
pub static CALENDAR: Kind = Kind {
    code: "calendar",
    module: Module::Org,
    label: "节假日安排",
    read: SETTINGS_MANAGE,
    handle: SETTINGS_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: false,
    actions: &[("calendar.import", "导入节假日安排")],
};

/// 账本签名密钥 (installation-wide; a key's registration and each rotation). Recorded in
/// the log of the root of the org tree.
pub static LEDGER_KEY: Kind = Kind {
    code: "ledger_key",
    module: Module::Org,
    label: "账本签名密钥",
    read: SETTINGS_MANAGE,
    handle: SETTINGS_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: false,
    actions: &[("key.register", "登记签名密钥"), ("key.rotate", "更换签名密钥")],
};

/// 安全审计日志 (one installation-wide record, id `trail`): its entries anchor the head of
/// the audit trail's hash chain in the ledger (see `fazhi_app::reconcile`).
pub static AUDIT: Kind = Kind {
    code: "audit",
    module: Module::Org,
    label: "安全审计日志",
    read: AUDIT_READ,
    handle: SETTINGS_MANAGE,
    anchor: ScopeAnchor::Holders,
    searchable: false,
    actions: &[("audit.anchor", "锚定安全审计日志")],
};

/// 信访件 (信访工作条例).
pub static PETITION: Kind = Kind {
    code: "petition",
    module: Module::Petitions,
    label: "信访件",
    read: PETITION_READ,
    handle: PETITION_HANDLE,
    anchor: ScopeAnchor::Holders,
    searchable: true,
    actions: &[
        ("petition.register", "登记信访件"),
        ("petition.review_request", "登记复查（复核）请求"),
        ("petition.accept", "受理"),
        ("petition.not_accept", "不予受理"),
        ("petition.assign", "交办"),
        ("petition.transfer", "转送"),
        ("petition.objection", "提出异议（退回）"),
        ("petition.supervise", "督办"),
        ("petition.lead", "指定包案领导"),
        ("petition.merge", "合并"),
        ("petition.reply", "出具信访处理意见书"),
        ("petition.serve", "送达书面答复"),
        ("petition.close", "办结"),
        ("petition.extend", "延长办理期限"),
        ("petition.visit", "回访"),
        ("petition.leader_reception", "领导接访"),
    ],
};

/// 人民调解案件 (人民调解法).
pub static MEDIATION: Kind = Kind {
    code: "mediation",
    module: Module::Petitions,
    label: "人民调解案件",
    read: PETITION_READ,
    handle: PETITION_HANDLE,
    anchor: ScopeAnchor::Government,
    searchable: false,
    actions: &[
        ("mediation.register", "登记调解案件"),
        ("mediation.consent", "双方同意调解"),
        ("mediation.decline", "当事人拒绝调解"),
        ("mediation.session", "记录调解过程"),
        ("mediation.agree", "达成调解协议"),
        ("mediation.fail", "调解不成"),
        ("mediation.performance", "登记履行情况"),
        ("mediation.confirmation_applied", "申请司法确认"),
    ],
};

/// 人民调解委员会 (a street-level register).
pub static MEDIATION_COMMITTEE: Kind = Kind {
    code: "mediation_committee",
    module: Module::Petitions,
    label: "人民调解委员会",
    read: PETITION_READ,
    handle: PETITION_HANDLE,
    anchor: ScopeAnchor::Government,
    searchable: false,
    actions: &[("mediation.committee", "设立调解委员会"), ("mediation.mediator", "增加调解员")],
};

/// 领导接访日 (a street-level register, published on the portal).
pub static RECEPTION_DAY: Kind = Kind {
    code: "reception_day",
    module: Module::Petitions,
    label: "领导接访日",
    read: PETITION_READ,
    handle: PETITION_HANDLE,
    anchor: ScopeAnchor::Government,
    searchable: false,
    actions: &[("reception.schedule", "安排领导接访")],
};

/// 领导接访记录.
pub static RECEPTION: Kind = Kind {
    code: "reception",
    module: Module::Petitions,
    label: "领导接访记录",
    read: PETITION_READ,
    handle: PETITION_HANDLE,
    anchor: ScopeAnchor::Government,
    searchable: false,
    actions: &[("reception.record", "记录领导接访")],
};

/// Every kind of record of the platform. A new module adds its kinds here.
pub static KINDS: &[&Kind] = &[
    &ORG_NODE,
    &USER,
    &ROLE,
    &API_TOKEN,
    &CALENDAR,
    &LEDGER_KEY,
    &AUDIT,
    &PETITION,
    &MEDIATION,
    &MEDIATION_COMMITTEE,
    &RECEPTION_DAY,
    &RECEPTION,
];

/// The kind of a `record_type` code.
pub fn kind(code: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.code == code)
}

/// The Chinese label of a ledger action of a record of kind `kind_code`; the code itself
/// for an entry written before the action had a label (old data is shown, not hidden).
pub fn action_label<'a>(kind_code: &str, action: &'a str) -> &'a str {
    kind(kind_code).and_then(|k| k.action_label(action)).unwrap_or(action)
}

/// A record anywhere in the platform: its kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordKey {
    pub kind: &'static Kind,
    pub id: i64,
}

impl RecordKey {
    /// The key of record `id` of `kind`.
    pub fn new(kind: &'static Kind, id: i64) -> Self {
        Self { kind, id }
    }

    /// The key of a stored `(record_type, record_id)` pair; `None` for an unknown kind or a
    /// non-numeric id.
    pub fn parse(record_type: &str, record_id: &str) -> Option<Self> {
        Some(Self { kind: kind(record_type)?, id: record_id.parse().ok()? })
    }

    /// The `record_id` column's text.
    pub fn id_text(&self) -> String {
        self.id.to_string()
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.label, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        crate::code::assert_well_formed::<Module>();
        let mut codes = std::collections::BTreeSet::new();
        let mut actions = std::collections::BTreeSet::new();
        for k in KINDS {
            assert!(codes.insert(k.code), "kind {} twice", k.code);
            assert_eq!(kind(k.code), Some(*k));
            for (a, label) in k.actions {
                assert!(actions.insert(*a), "action {a} of two kinds");
                assert!(!label.is_empty());
                assert!(a.contains('.'), "{a}");
            }
        }
        for (a, _) in COMMON_ACTIONS {
            assert!(!actions.contains(a), "{a} is common and kind-specific");
        }
        assert_eq!(action_label("petition", "petition.transfer"), "转送");
        assert_eq!(action_label("mediation", "clock.start"), "开始计时");
        assert_eq!(action_label("petition", "petition.unknown"), "petition.unknown");
        let k = RecordKey::parse("petition", "12").unwrap();
        assert_eq!((k.kind.code, k.id, k.to_string()), ("petition", 12, "信访件 12".into()));
        assert!(RecordKey::parse("nope", "1").is_none());
    }
}
