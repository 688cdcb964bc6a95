//! The authorization table: (user, action, record) -> allow/deny, over a two-district tree.

use super::*;

// District 1 (/1/) -> street A (/1/2/) -> dept 执法 4, dept 信访 5, community 6 -> grid 8,
// community 7; street B (/1/3/) -> community 9. District 10 (/10/) -> street C (/10/11/).
fn path(p: &str) -> OrgPath {
    OrgPath::parse(p).unwrap()
}

fn org_path(org: i64) -> &'static str {
    match org {
        1 => "/1/",
        2 => "/1/2/",
        3 => "/1/3/",
        4 => "/1/2/4/",
        5 => "/1/2/5/",
        6 => "/1/2/6/",
        7 => "/1/2/7/",
        8 => "/1/2/6/8/",
        9 => "/1/3/9/",
        10 => "/10/",
        11 => "/10/11/",
        _ => unreachable!(),
    }
}

fn rec(org: i64) -> RecordRef {
    RecordRef::single(OrgId(org), path(org_path(org)), None)
}

fn rec_owned(org: i64, owner: i64) -> RecordRef {
    RecordRef::single(OrgId(org), path(org_path(org)), Some(UserId(owner)))
}

fn grant_of(code: &str) -> RoleGrant {
    let r = builtin_roles().into_iter().find(|r| r.code == code).unwrap();
    RoleGrant { permissions: r.permissions.into_iter().collect(), scope: r.scope }
}

fn user(id: i64, org: i64, roles: &[&str]) -> Principal {
    let grants: Vec<RoleGrant> = roles.iter().map(|c| grant_of(c)).collect();
    Principal::new(UserId(id), OrgId(org), path(org_path(org)), &grants)
}

fn sysadmin() -> Principal {
    let g = RoleGrant { permissions: PERMISSIONS.iter().map(|p| p.code).collect(), scope: DataScope::All };
    Principal::new(UserId(99), OrgId(1), path("/1/"), [&g])
}

enum Want {
    Allow,
    NoPerm,
    OutOfScope,
}

#[test]
fn authorization_table() {
    let admin_a = user(1, 2, &["admin"]);
    let officer_a = user(2, 4, &["enforcement_officer"]);
    let petition_a = user(3, 5, &["petition_worker"]);
    let comm6 = user(4, 6, &["community_worker"]);
    let counsel = user(5, 2, &["legal_counsel"]);
    let inspector = user(6, 1, &["district_inspector"]);
    let principal_a = user(7, 2, &["principal"]);
    let multi = user(8, 6, &["petition_worker", "community_worker"]);
    let nobody = user(9, 2, &[]);
    let root = sysadmin();
    use Want::*;

    let cases: Vec<(&str, &Principal, Permission, RecordRef, Want)> = vec![
        ("officer handles own dept case", &officer_a, ENFORCEMENT_HANDLE, rec(4), Allow),
        ("officer of street A reaches street B by id", &officer_a, ENFORCEMENT_HANDLE, rec(3), OutOfScope),
        ("officer (本级) cannot reach the street node", &officer_a, ENFORCEMENT_HANDLE, rec(2), OutOfScope),
        ("officer has no petition permission", &officer_a, PETITION_READ, rec(5), NoPerm),
        ("officer cannot approve decisions", &officer_a, ENFORCEMENT_DECIDE, rec(4), NoPerm),
        ("officer (本级) sees a colleague's case", &officer_a, ENFORCEMENT_READ, rec_owned(4, 77), Allow),
        ("admin A manages users of a community", &admin_a, USER_MANAGE, rec(6), Allow),
        ("admin A reaches a user of street B by id", &admin_a, USER_MANAGE, rec(3), OutOfScope),
        ("admin A cannot manage the district above", &admin_a, USER_MANAGE, rec(1), OutOfScope),
        ("admin A manages a grid deep below", &admin_a, ORG_MANAGE, rec(8), Allow),
        ("admin is not an enforcement officer", &admin_a, ENFORCEMENT_HANDLE, rec(4), NoPerm),
        ("社区 worker handles own community", &comm6, SAFETY_HANDLE, rec(6), Allow),
        ("社区 worker handles own grid", &comm6, SAFETY_HANDLE, rec(8), Allow),
        ("社区 worker cannot see a sibling community", &comm6, SAFETY_HANDLE, rec(7), OutOfScope),
        ("社区 worker cannot see street-level records", &comm6, SAFETY_READ, rec(2), OutOfScope),
        ("社区 worker cannot see street B", &comm6, SAFETY_READ, rec(9), OutOfScope),
        ("district inspector reads street A enforcement", &inspector, ENFORCEMENT_READ, rec(4), Allow),
        ("district inspector reads street B petitions", &inspector, PETITION_READ, rec(9), Allow),
        ("district inspector reads a grid", &inspector, SAFETY_READ, rec(8), Allow),
        ("district inspector is read-only (handle)", &inspector, ENFORCEMENT_HANDLE, rec(4), NoPerm),
        ("district inspector is read-only (users)", &inspector, USER_MANAGE, rec(2), NoPerm),
        ("district inspector cannot read another district", &inspector, ENFORCEMENT_READ, rec(11), OutOfScope),
        ("counsel works on a task assigned to them", &counsel, COUNSEL_TASK, rec_owned(2, 5), Allow),
        ("counsel cannot open another counsel's task", &counsel, COUNSEL_TASK, rec_owned(2, 6), OutOfScope),
        ("counsel cannot open an unassigned record", &counsel, COUNSEL_TASK, rec(4), OutOfScope),
        ("counsel reads the decision they review", &counsel, DECISION_READ, rec_owned(2, 5), Allow),
        ("principal approves a street decision", &principal_a, DECISION_APPROVE, rec(2), Allow),
        ("principal of A cannot read street B", &principal_a, ENFORCEMENT_READ, rec(3), OutOfScope),
        ("principal is not an admin", &principal_a, USER_MANAGE, rec(2), NoPerm),
        ("petition worker handles own office item", &petition_a, PETITION_HANDLE, rec(5), Allow),
        ("petition worker (本级) cannot handle a community item", &petition_a, PETITION_HANDLE, rec(6), OutOfScope),
        ("two roles: widest scope wins for read", &multi, PETITION_READ, rec(8), Allow),
        ("two roles: handle keeps its narrower scope", &multi, PETITION_HANDLE, rec(8), OutOfScope),
        ("two roles: handle on own node", &multi, PETITION_HANDLE, rec(6), Allow),
        ("no roles means deny by default", &nobody, ORG_READ, rec(2), NoPerm),
        ("a 全部 role reaches another district", &root, ORG_MANAGE, rec(11), Allow),
    ];
    assert!(cases.len() >= 30);

    let mut failures = Vec::new();
    for (name, who, action, record, want) in &cases {
        let got = authorize(who, *action, record);
        let ok = match (want, &got) {
            (Allow, Decision::Allow) => true,
            (NoPerm, Decision::Deny(DenyReason::NoPermission(p))) => p == action,
            (OutOfScope, Decision::Deny(DenyReason::OutOfScope(_))) => true,
            _ => false,
        };
        // The SQL filter comes from the same rules: it must agree with the decision.
        let filter_agrees = who.filter(*action).is_some_and(|f| f.matches(record)) == (got == Decision::Allow);
        if !ok || !filter_agrees {
            failures.push(format!("{name}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "authorization table failures:\n{}", failures.join("\n"));
}

#[test]
fn widest_scope_per_permission_wins() {
    let narrow = RoleGrant { permissions: [PETITION_READ, PETITION_HANDLE].into(), scope: DataScope::Own };
    let wide = RoleGrant { permissions: [PETITION_READ].into(), scope: DataScope::Subtree };
    for order in [[&narrow, &wide], [&wide, &narrow]] {
        let p = Principal::new(UserId(1), OrgId(6), path("/1/2/6/"), order);
        assert_eq!(p.scope_of(PETITION_READ), Some(DataScope::Subtree));
        assert_eq!(p.scope_of(PETITION_HANDLE), Some(DataScope::Own));
        assert_eq!(p.scope_of(ORG_MANAGE), None);
    }
}

#[test]
fn grants_never_exceed_the_granter() {
    let security_a = user(1, 2, &["security_admin"]);
    assert!(may_grant(&security_a, DataScope::Subtree).is_ok());
    assert!(may_grant(&security_a, DataScope::Own).is_ok());
    assert_eq!(may_grant(&security_a, DataScope::All), Err(DenyReason::OutOfScope(DataScope::Subtree)));
    // 三员分立: the 系统管理员 assigns no roles at all.
    assert_eq!(may_grant(&user(1, 2, &["admin"]), DataScope::Own), Err(DenyReason::NoPermission(ROLE_ASSIGN)));
    assert!(may_grant(&user(2, 4, &["enforcement_officer"]), DataScope::Own).is_err());
    assert!(may_grant(&sysadmin(), DataScope::All).is_ok());
}

#[test]
fn a_role_definition_stays_under_its_author() {
    let security_a = user(1, 2, &["security_admin"]);
    assert!(may_define(&security_a, &[USER_READ], DataScope::Subtree).is_ok());
    assert_eq!(may_define(&security_a, &[PETITION_READ], DataScope::Org), Err(DenyReason::NoPermission(PETITION_READ)));
    assert_eq!(may_define(&security_a, &[USER_READ], DataScope::All), Err(DenyReason::OutOfScope(DataScope::Subtree)));
    assert_eq!(may_define(&user(1, 2, &["admin"]), &[], DataScope::Own), Err(DenyReason::NoPermission(ROLE_MANAGE)));
    // A leader who is also 安全管理员 writes what the leader holds, no wider.
    let both = user(7, 2, &["principal", "security_admin"]);
    assert!(may_define(&both, &[PETITION_READ, PETITION_SUPERVISE], DataScope::Subtree).is_ok());
    let worker_and_security = user(3, 5, &["petition_worker", "security_admin"]);
    assert_eq!(
        may_define(&worker_and_security, &[PETITION_HANDLE], DataScope::Subtree),
        Err(DenyReason::OutOfScope(DataScope::Org))
    );
}

#[test]
fn installation_settings_need_the_whole_installation() {
    assert_eq!(require_installation(&user(1, 2, &["admin"])), Err(DenyReason::OutOfScope(DataScope::Subtree)));
    assert_eq!(require_installation(&user(1, 1, &["admin"])), Err(DenyReason::OutOfScope(DataScope::Subtree)));
    assert!(require_installation(&user(1, 1, &["installation_admin"])).is_ok());
    assert_eq!(require_installation(&user(7, 2, &["principal"])), Err(DenyReason::NoPermission(SETTINGS_MANAGE)));
}

#[test]
fn the_administrators_hold_no_business_permission_and_business_roles_no_audit() {
    for r in builtin_roles() {
        let admin = ["admin", "installation_admin", "security_admin", "auditor"].contains(&r.code);
        assert!(!admin || r.permissions.iter().all(|p| !p.def().is_business()), "{}", r.code);
        assert_eq!(r.permissions.contains(&AUDIT_READ), r.code == "auditor", "{}", r.code);
        assert!(r.code == "security_admin" || !r.permissions.contains(&ROLE_ASSIGN), "{}", r.code);
    }
}

#[test]
fn catalogue_is_consistent() {
    let mut seen = std::collections::HashSet::new();
    for p in PERMISSIONS {
        assert!(seen.insert(p.code.code()), "duplicate permission {}", p.code);
        assert_eq!(Permission::parse(p.code.code()), Some(p.code));
    }
    assert_eq!(Permission::parse("nope"), None);
    let inspector = builtin_roles().into_iter().find(|r| r.code == "district_inspector").unwrap();
    assert!(inspector.permissions.iter().all(|p| p.def().read_only));
    for s in DataScope::ALL {
        assert_eq!(DataScope::parse(s.code()), Some(s));
    }
    assert!(
        DataScope::All > DataScope::Subtree && DataScope::Subtree > DataScope::Org && DataScope::Org > DataScope::Own
    );
}
