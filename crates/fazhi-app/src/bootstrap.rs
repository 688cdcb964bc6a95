//! Bringing an installation to life: built-in kinds and roles, the first district, street
//! and administrator, and the demo data set.

use std::collections::BTreeSet;

use fazhi_domain::access::builtin_roles;
use fazhi_domain::org::{OrgInput, OrgPath, builtin_kinds};
use fazhi_domain::user::NewUser;
use fazhi_domain::{OrgId, RoleId};
use fazhi_store::roles::{self as role_store, RoleFields};
use fazhi_store::{Tx, org as org_store, users as user_store};

use crate::audit::Actor;
use crate::secrets::{hash_password, one_time_password};
use crate::{App, AppResult};

/// The password of every demo account. Demo data only: printed at every demo start.
pub const DEMO_PASSWORD: &str = "Fazhi@demo2026";

/// The demo's integration account for the 12345 hotline import (no password login).
pub const DEMO_INTEGRATION: &str = "duijie12345";

/// The API token of [`DEMO_INTEGRATION`]. Demo data only: printed at every demo start.
pub const DEMO_TOKEN: &str = "fzt_demo0000000000000000000000000000000012345";

/// The first administrator created by [`App::initialize`].
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub username: String,
    pub one_time_password: String,
}

/// One demo account.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub role_name: &'static str,
    pub org_name: &'static str,
}

impl App {
    /// Seeds built-in org kinds (kept if an admin edited them) and built-in roles (always
    /// brought in line with the code, since they are defined by it). Runs at every start.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn ensure_builtins(&self) -> AppResult<()> {
        // Search text indexed before normalisation, rewritten once (issue 13).
        let n = fazhi_store::search::renormalize(&self.store).await?;
        if n > 0 {
            tracing::info!(rows = n, "search text normalised");
        }
        // Petitions indexed before their petitioners' names were (issue 14), rebuilt once.
        let n = self.reindex_petitions_if_stale().await?;
        if n > 0 {
            tracing::info!(items = n, "petition search documents rebuilt");
        }
        let mut tx = self.store.begin().await?;
        for k in builtin_kinds() {
            org_store::ensure_kind(&mut tx, &k).await?;
        }
        let now = self.now();
        for r in builtin_roles() {
            let perms: BTreeSet<_> = r.permissions.iter().copied().collect();
            let f = RoleFields {
                code: r.code,
                name: r.name,
                description: r.description,
                scope: r.scope,
                builtin: true,
                org_id: None,
            };
            match role_store::role_id_by_code(&mut tx, r.code).await? {
                Some(id) => role_store::update_role(&mut tx, id, &f, &perms, now).await?,
                None => {
                    role_store::insert_role(&mut tx, &f, &perms, now).await?;
                }
            }
        }
        tx.commit().await?;
        // An installation from before full-text search gets its index once.
        self.backfill_search_index().await?;
        Ok(())
    }

    /// Whether the installation has its org tree yet.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn is_initialized(&self) -> AppResult<bool> {
        Ok(org_store::count_nodes(&self.store.read).await? > 0)
    }

    /// Creates the district, the street and the administrator of a new installation.
    /// Returns `None` when the installation already has an org tree.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn initialize(&self, district: &str, street: &str, admin: &str) -> AppResult<Option<FirstAdmin>> {
        self.ensure_builtins().await?;
        if self.is_initialized().await? {
            return Ok(None);
        }
        let password = one_time_password();
        let hash = hash_password(password.clone()).await?;
        let mut tx = self.store.begin().await?;
        let d = self.insert(&mut tx, district, "district", None).await?;
        self.insert(&mut tx, street, "street", Some(&d)).await?;
        let admin_role = role_store::role_id_by_code(&mut tx, "installation_admin").await?;
        let username = fazhi_domain::user::username(admin)
            .map_err(|e| crate::AppError::Invalid(fazhi_domain::FieldErrors(vec![e])))?;
        let u =
            NewUser { username: username.clone(), display_name: "系统管理员".into(), mobile: None, org_id: d.0 };
        // 三员分立: the first account is the installation's 系统管理员; the operator gives
        // 安全管理员 and 审计管理员 to other people with `fazhi user add/roles`.
        let id = user_store::insert_user(&mut tx, &u, &hash, true, self.now()).await?;
        let roles: Vec<_> = admin_role.into_iter().collect();
        user_store::set_roles(&mut tx, id, &roles).await?;
        self.record_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(FirstAdmin { username, one_time_password: password }))
    }

    /// Creates the demo district with two streets, departments, communities and grids, and
    /// one account per built-in role (password [`DEMO_PASSWORD`], no forced change).
    /// Does nothing when the installation already has an org tree.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn seed_demo(&self) -> AppResult<Vec<DemoAccount>> {
        self.ensure_builtins().await?;
        let accounts = demo_accounts();
        if self.is_initialized().await? {
            return Ok(accounts);
        }
        let now = self.now();
        let hash = hash_password(DEMO_PASSWORD.to_owned()).await?;
        let mut tx = self.store.begin().await?;
        let mut nodes: Vec<(&str, (OrgId, OrgPath))> = Vec::new();
        let district = self.insert(&mut tx, "南开区（演示）", "district", None).await?;
        nodes.push(("南开区（演示）", district.clone()));
        // (name, kind, parent name)
        let plan: &[(&'static str, &str, &'static str)] = &[
            ("万兴街道", "street", "南开区（演示）"),
            ("学府街道", "street", "南开区（演示）"),
            ("党政办公室", "department", "万兴街道"),
            ("综合执法大队", "department", "万兴街道"),
            ("司法所", "department", "万兴街道"),
            ("信访办", "department", "万兴街道"),
            ("平安建设办公室", "department", "万兴街道"),
            ("万兴里社区", "community", "万兴街道"),
            ("兴南社区", "community", "万兴街道"),
            ("德庄社区", "community", "万兴街道"),
            ("万兴里第一网格", "grid", "万兴里社区"),
            ("万兴里第二网格", "grid", "万兴里社区"),
            ("兴南第一网格", "grid", "兴南社区"),
            ("学府街道司法所", "department", "学府街道"),
            ("学府花园社区", "community", "学府街道"),
            ("学府花园第一网格", "grid", "学府花园社区"),
        ];
        for (name, kind, parent) in plan {
            let p = nodes.iter().find(|(n, _)| n == parent).map(|(_, v)| v.clone());
            let created = self.insert(&mut tx, name, kind, p.as_ref()).await?;
            nodes.push((name, created));
        }
        let people: &[(&str, &str, &str)] = &[
            ("admin", "王管理", "admin"),
            ("anquan", "陈安全", "security_admin"),
            ("shenji", "林审计", "auditor"),
            ("xfadmin", "许系统", "admin"),
            ("xfanquan", "何安全", "security_admin"),
            ("xfshenji", "罗审计", "auditor"),
            ("sysadmin", "高系统", "installation_admin"),
            ("zhuren", "李主任", "principal"),
            ("fenguan", "赵分管", "deputy"),
            ("shenhe", "孙审核", "legal_reviewer"),
            ("zhifa", "周执法", "enforcement_officer"),
            ("xinfang", "吴信访", "petition_worker"),
            ("wangge", "郑网格", "community_worker"),
            ("guwen", "钱顾问", "legal_counsel"),
            ("ducha", "冯督查", "district_inspector"),
        ];
        for ((username, display, role), acct) in people.iter().zip(&accounts) {
            let org = nodes.iter().find(|(n, _)| *n == acct.org_name).map(|(_, v)| v.0).unwrap_or(district.0);
            let u =
                NewUser { username: (*username).into(), display_name: (*display).into(), mobile: None, org_id: org };
            let id = user_store::insert_user(&mut tx, &u, &hash, false, now).await?;
            let rid: Option<RoleId> = role_store::role_id_by_code(&mut tx, role).await?;
            let roles: Vec<RoleId> = rid.into_iter().collect();
            user_store::set_roles(&mut tx, id, &roles).await?;
            self.record_user(&mut tx, id).await?;
        }
        tx.commit().await?;
        self.seed_demo_integration().await?;
        Ok(accounts)
    }

    /// The integration account of the 12345 import (信访办, 信访调解工作人员) with the token
    /// [`DEMO_TOKEN`]: tokens belong to integration accounts, not to people.
    async fn seed_demo_integration(&self) -> AppResult<()> {
        let nodes = org_store::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        let Some(office) = nodes.iter().find(|n| n.name == "信访办").map(|n| n.id) else { return Ok(()) };
        let Some(role) = role_store::role_id_by_code(&self.store.read, "petition_worker").await? else { return Ok(()) };
        let who = demo_operator();
        let by = crate::org::By { who: &who, username: "system", source_addr: "" };
        let draft = fazhi_domain::user::UserDraft {
            username: DEMO_INTEGRATION.into(),
            display_name: "12345 热线对接".into(),
            mobile: String::new(),
            org_id: Some(office),
        };
        let id = self.create_integration(&by, &draft, &[role.0]).await?;
        // The desk's token carries business permissions no administrator holds: the
        // operator issues it (as `fazhi user token` does), never the 系统管理员 (ceiling).
        self.issue_token_as(&by, Some(id.0), "12345 热线对接（演示）", Some(DEMO_TOKEN)).await?;
        Ok(())
    }

    /// Three demo deadlines relative to today — one overdue, one due within three working
    /// days, one running — so the inbox and the deadline page show something real.
    /// Called once, right after [`App::seed_demo`] created a fresh demo installation.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn seed_demo_deadlines(&self) -> AppResult<()> {
        use fazhi_domain::calendar::{DayUnit, notice_date};
        let today = fazhi_domain::clock::beijing_date(self.now());
        let all = org_store::list_nodes(&self.store.read, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        let node = |name: &str| all.iter().find(|n| n.name == name).map(|n| OrgId(n.id));
        let user = |name: &str| {
            let name = name.to_owned();
            async move { user_store::get_by_username(&self.store.read, &name).await.map(|u| u.map(|u| u.user_id())) }
        };
        let (Some(office), Some(team)) = (node("信访办"), node("综合执法大队")) else { return Ok(()) };
        let xinfang = user("xinfang").await?;
        let zhifa = user("zhifa").await?;
        let cal = self.deadlines.calendar.current();
        // Event dates that put the due date where we want it; skipped quietly when the
        // calendar does not reach (a demo started next to an unknown year).
        let overdue = notice_date(&cal, today, 25, DayUnit::Working).ok().map(|d| d.due);
        let soon = cal
            .add_working_days(today, 2)
            .ok()
            .and_then(|d| notice_date(&cal, d, 5, DayUnit::Working).ok())
            .map(|d| d.due);
        let plan = [
            (overdue, "disclosure.reply", office, xinfang),
            (soon, "petition.objection", office, xinfang),
            (Some(today), "enforcement.evidence_preservation", team, zhifa),
        ];
        let system = crate::org::By { who: &demo_operator(), username: "system", source_addr: "" };
        for (event, rule, org, owner) in plan {
            let Some(event) = event else { continue };
            let t = crate::clocks::ClockTarget {
                record_type: fazhi_domain::record::ORG_NODE.code,
                record_id: org.to_string(),
                org,
                owner,
            };
            self.start_clock(&system, t, rule, event).await?;
        }
        self.scan_clocks(&fazhi_domain::access::Principal::system(
            fazhi_domain::access::SystemActor::Operator,
            fazhi_domain::OrgId(0),
            fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
        ))
        .await?;
        Ok(())
    }
}

/// The principal the demo seeding acts as (it sits on no node; it only starts clocks).
fn demo_operator() -> fazhi_domain::access::Principal {
    use fazhi_domain::access::{Principal, SystemActor};
    Principal::system(SystemActor::Operator, OrgId(0), OrgPath::root(OrgId(0)))
}

/// The full names the demo organs sign documents with (发文机关署名).
fn demo_official_name(name: &str) -> Option<&'static str> {
    match name {
        "南开区（演示）" => Some("天津市南开区人民政府"),
        "万兴街道" => Some("天津市南开区人民政府万兴街道办事处"),
        "学府街道" => Some("天津市南开区人民政府学府街道办事处"),
        _ => None,
    }
}

/// The demo accounts, one per built-in role (the three administrators of 三员分立 for each
/// street, and the installation's 系统管理员), and where they sit.
pub fn demo_accounts() -> Vec<DemoAccount> {
    let a = |username, role_name, org_name| DemoAccount { username, role_name, org_name };
    vec![
        a("admin", "系统管理员", "万兴街道"),
        a("anquan", "安全管理员", "万兴街道"),
        a("shenji", "审计管理员", "万兴街道"),
        a("xfadmin", "系统管理员", "学府街道"),
        a("xfanquan", "安全管理员", "学府街道"),
        a("xfshenji", "审计管理员", "学府街道"),
        a("sysadmin", "系统管理员（全局）", "南开区（演示）"),
        a("zhuren", "街道主要负责人", "万兴街道"),
        a("fenguan", "分管领导", "万兴街道"),
        a("shenhe", "法制审核员", "万兴街道"),
        a("zhifa", "执法人员", "综合执法大队"),
        a("xinfang", "信访调解工作人员", "信访办"),
        a("wangge", "安全员/网格员/社区工作者", "万兴里社区"),
        a("guwen", "法律顾问", "万兴街道"),
        a("ducha", "区级督查", "南开区（演示）"),
    ]
}

/// Who made the bootstrap records.
const SYSTEM: Actor<'static> = Actor { username: "system", user_id: None, org_id: None, source_addr: "" };

impl App {
    async fn insert(
        &self,
        tx: &mut Tx,
        name: &str,
        kind: &str,
        parent: Option<&(OrgId, OrgPath)>,
    ) -> AppResult<(OrgId, OrgPath)> {
        let input = OrgInput {
            name: name.into(),
            kind: kind.into(),
            parent_id: parent.map(|p| p.0),
            code: String::new(),
            official_name: demo_official_name(name).map(str::to_owned),
        };
        let id = org_store::insert_node(tx, &input, parent.map(|p| &p.1), self.now()).await?;
        self.save_node(tx, &SYSTEM, id, None, "org.create", serde_json::Value::Null).await?;
        self.index_org(tx, id).await?;
        let path = match parent {
            Some(p) => p.1.child(id),
            None => OrgPath::root(id),
        };
        Ok((id, path))
    }

    async fn record_user(&self, tx: &mut Tx, id: fazhi_domain::UserId) -> AppResult<()> {
        self.save_user(tx, &SYSTEM, id, None, "user.create").await?;
        self.index_user(tx, id).await?;
        Ok(())
    }
}
