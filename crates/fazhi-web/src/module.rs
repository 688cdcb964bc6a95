//! The staff UI facts of each module, registered once: its navigation entries, the notices
//! its redirects show (`?done=CODE`), and the page of each of its record kinds. Search hits,
//! 期限监督, the inbox, timelines and links between records all take their href from
//! [`href`]; a new module adds one [`ModuleUi`] to [`MODULES`].

use fazhi_domain::access::{
    AUDIT_READ, ORG_READ, PETITION_READ, Permission, ROLE_READ, SETTINGS_MANAGE, TOKEN_MANAGE, USER_READ,
};
use fazhi_domain::record::{self, Kind, Module, RecordKey};

/// One entry of the left navigation, shown to users holding `needs`.
#[derive(Debug)]
pub struct NavEntry {
    pub section: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    pub needs: Option<Permission>,
}

/// A module's UI facts.
#[derive(Debug)]
pub struct ModuleUi {
    pub module: Option<Module>,
    pub nav: &'static [NavEntry],
    /// `(code, message)` shown after a successful change redirected with `?done=code`.
    pub notices: &'static [(&'static str, &'static str)],
    /// `(kind, page pattern)`: `{id}` is replaced by the record's id.
    pub pages: &'static [(&'static Kind, &'static str)],
}

/// The frame every user sees: home, search, inbox, deadlines, own account.
pub static PLATFORM: ModuleUi = ModuleUi {
    module: None,
    nav: &[
        NavEntry { section: "工作台", label: "首页", href: "/", needs: None },
        NavEntry { section: "工作台", label: "全文检索", href: "/search", needs: None },
        NavEntry { section: "工作台", label: "待办提醒", href: "/inbox", needs: None },
        NavEntry { section: "工作台", label: "期限监督", href: "/clocks", needs: Some(ORG_READ) },
        NavEntry { section: "个人", label: "修改密码", href: "/account/password", needs: None },
    ],
    notices: &[
        ("scan_queued", "已安排立即检查全部期限，稍后刷新即可看到结果。"),
        ("clock_updated", "期限已更新。"),
        ("attachment_added", "附件已上传，并已记入全过程记录。"),
        ("saved", "已保存，并已记入全过程记录。"),
        ("password_changed", "密码已修改；其他设备和浏览器上的登录已全部退出。"),
    ],
    pages: &[],
};

/// 组织与权限.
pub static ORG: ModuleUi = ModuleUi {
    module: Some(Module::Org),
    nav: &[
        NavEntry { section: "组织与权限", label: "组织机构", href: "/org", needs: Some(ORG_READ) },
        NavEntry { section: "组织与权限", label: "用户", href: "/users", needs: Some(USER_READ) },
        NavEntry { section: "组织与权限", label: "角色", href: "/roles", needs: Some(ROLE_READ) },
        NavEntry { section: "组织与权限", label: "接口令牌", href: "/tokens", needs: Some(TOKEN_MANAGE) },
        NavEntry { section: "组织与权限", label: "审计日志", href: "/audit", needs: Some(AUDIT_READ) },
        NavEntry {
            section: "组织与权限", label: "节假日日历", href: "/calendar", needs: Some(SETTINGS_MANAGE)
        },
    ],
    notices: &[
        ("org_created", "机构已新建。"),
        ("org_updated", "机构信息已保存。"),
        ("org_moved", "机构已移动。"),
        ("org_deleted", "机构已删除。"),
        ("user_updated", "用户信息已保存。"),
        ("user_disabled", "用户已停用，其登录会话已全部结束。"),
        ("user_enabled", "用户已启用。"),
        ("role_created", "角色已新建。"),
        ("role_updated", "角色已保存。"),
        ("token_revoked", "接口令牌已吊销。"),
        ("calendar_imported", "节假日安排已导入，未结期限已按新日历重新计算。"),
    ],
    pages: &[
        (&record::ORG_NODE, "/org/{id}"),
        (&record::USER, "/users/{id}"),
        (&record::ROLE, "/roles/{id}"),
        (&record::API_TOKEN, "/tokens"),
        (&record::CALENDAR, "/calendar"),
        (&record::LEDGER_KEY, "/ledger"),
        (&record::AUDIT, "/audit"),
    ],
};

/// 信访调解: petitions, people's mediation, leaders' receptions.
pub static PETITIONS: ModuleUi = ModuleUi {
    module: Some(Module::Petitions),
    nav: &[
        NavEntry { section: "信访调解", label: "信访件", href: "/petitions", needs: Some(PETITION_READ) },
        NavEntry { section: "信访调解", label: "人民调解", href: "/mediations", needs: Some(PETITION_READ) },
        NavEntry { section: "信访调解", label: "领导接访", href: "/receptions", needs: Some(PETITION_READ) },
    ],
    notices: &[
        ("petition_step", "已办理，并已记入全过程记录。"),
        ("petition_review", "已登记复查（复核）请求，转上一级机关办理，并与原件关联。"),
        ("mediation_step", "已记录，并已记入全过程记录。"),
        ("petition_moved", "已办理并记入全过程记录；该件已转出，不再在您的办理范围内。"),
    ],
    pages: &[
        (&record::PETITION, "/petitions/{id}"),
        (&record::MEDIATION, "/mediations/{id}"),
        (&record::MEDIATION_COMMITTEE, "/mediations#committee-{id}"),
        (&record::RECEPTION_DAY, "/receptions#day-{id}"),
        (&record::RECEPTION, "/receptions#reception-{id}"),
    ],
};

/// Every module's UI, in navigation order.
pub static MODULES: &[&ModuleUi] = &[&PLATFORM, &PETITIONS, &ORG];

/// The staff page of a record.
pub fn href(key: RecordKey) -> Option<String> {
    MODULES
        .iter()
        .flat_map(|m| m.pages.iter())
        .find(|(k, _)| *k == key.kind)
        .map(|(_, pattern)| pattern.replace("{id}", &key.id.to_string()))
}

/// The staff page of a stored `(record_type, record_id)`.
pub fn href_of(record_type: &str, record_id: &str) -> Option<String> {
    RecordKey::parse(record_type, record_id).and_then(href)
}

/// The message of a `?done=` code.
pub fn notice(code: &str) -> Option<&'static str> {
    MODULES.iter().flat_map(|m| m.notices.iter()).find(|(c, _)| *c == code).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_page_and_every_notice_one_message() {
        for k in record::KINDS {
            assert!(href(RecordKey::new(k, 7)).is_some(), "kind {} has no page", k.code);
        }
        assert_eq!(href_of("petition", "12").as_deref(), Some("/petitions/12"));
        assert_eq!(href_of("petition", "x"), None);
        let mut codes = std::collections::BTreeSet::new();
        for m in MODULES {
            for (c, _) in m.notices {
                assert!(codes.insert(*c), "notice {c} twice");
            }
        }
    }
}
