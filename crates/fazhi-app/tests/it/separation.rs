//! 三员分立 and the privilege ceiling (issue 13), on both engines: every escalation path of
//! the issue now fails, and each administrator does only their own part.

use fazhi_app::AppError;
use fazhi_app::bootstrap::{DEMO_PASSWORD, DEMO_TOKEN};
use fazhi_app::roles::RoleDraft;
use fazhi_domain::RoleId;
use fazhi_domain::access::{DataScope, PERMISSIONS, PETITION_READ};
use fazhi_domain::user::UserDraft;
use fazhi_store::users as user_store;
use fazhi_testkit::engines;

use super::{by, demo, op, org_id, who};

async fn role(app: &fazhi_app::App, code: &str) -> RoleId {
    app.list_roles(&op()).await.unwrap().into_iter().find(|r| r.code == code).unwrap().id
}

async fn user(app: &fazhi_app::App, name: &str) -> user_store::UserRow {
    user_store::get_by_username(&app.store.read, name).await.unwrap().unwrap()
}

/// The draft that leaves a user's name, mobile and node as they are.
fn same(u: &user_store::UserRow) -> UserDraft {
    UserDraft {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        mobile: u.mobile.clone().unwrap_or_default(),
        org_id: Some(u.org_id),
    }
}

async fn role_ids(app: &fazhi_app::App, u: &user_store::UserRow) -> Vec<i64> {
    user_store::role_ids_of(&app.store.read, u.user_id()).await.unwrap().into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn the_administrators_hold_no_business_permission() {
    for def in fazhi_domain::access::builtin_roles() {
        if ["admin", "installation_admin", "security_admin", "auditor"].contains(&def.code) {
            let business: Vec<_> = def.permissions.iter().filter(|p| p.def().is_business()).collect();
            assert!(business.is_empty(), "{}: {business:?}", def.code);
        }
    }
    assert!(PERMISSIONS.iter().any(|p| p.code == PETITION_READ && p.is_business()));
}

#[tokio::test]
async fn nobody_changes_their_own_roles() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let principal = role(&app, "principal").await;
        // The street's 系统管理员 adds 街道主要负责人 to itself: refused (and it cannot assign at all).
        let admin = who(&app, "admin").await;
        let me = user(&app, "admin").await;
        let mut wanted = role_ids(&app, &me).await;
        wanted.push(principal.0);
        let e = app.update_user(&by(&admin), me.user_id(), &same(&me), &wanted).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("自己")), "{e:?}");
        // The 安全管理员, who may assign roles, not to itself either.
        let anquan = who(&app, "anquan").await;
        let me = user(&app, "anquan").await;
        let mut wanted = role_ids(&app, &me).await;
        wanted.push(principal.0);
        let e = app.update_user(&by(&anquan), me.user_id(), &same(&me), &wanted).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("自己")), "{e:?}");
        let e = app.update_user(&by(&anquan), me.user_id(), &same(&me), &[]).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").is_some()), "nor drop its own: {e:?}");
        assert!(!who(&app, "admin").await.has(PETITION_READ));
        assert!(!who(&app, "anquan").await.has(PETITION_READ));

        // The 系统管理员 cannot give roles to others either; the 安全管理员 can.
        let zhifa = user(&app, "zhifa").await;
        let e = app.update_user(&by(&admin), zhifa.user_id(), &same(&zhifa), &[principal.0]).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("安全管理员")), "{e:?}");
        let mut wanted = role_ids(&app, &zhifa).await;
        wanted.push(role(&app, "community_worker").await.0);
        app.update_user(&by(&anquan), zhifa.user_id(), &same(&zhifa), &wanted).await.unwrap();
        // … but it cannot rename or move people (the 系统管理员's part).
        let renamed = UserDraft { display_name: "周改名".into(), ..same(&zhifa) };
        assert!(matches!(
            app.update_user(&by(&anquan), zhifa.user_id(), &renamed, &wanted).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(app.reset_password(&by(&anquan), zhifa.user_id()).await, Err(AppError::Forbidden(_))));
    }
}

#[tokio::test]
async fn a_role_grants_only_what_its_author_holds() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let reader = RoleDraft {
            name: "信访查阅".into(),
            description: String::new(),
            scope: DataScope::Subtree.code().into(),
            permissions: vec!["petitions.read".into()],
        };
        // The 系统管理员 defines no roles at all; the 安全管理员 not beyond what it holds.
        let admin = who(&app, "admin").await;
        assert!(matches!(app.create_role(&by(&admin), &reader).await, Err(AppError::Forbidden(_))));
        let anquan = who(&app, "anquan").await;
        let e = app.create_role(&by(&anquan), &reader).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("permissions").unwrap().contains("权限上限")), "{e:?}");
        // Within the ceiling it works, and the role belongs to the author's street.
        let ok = RoleDraft { name: "用户查阅".into(), permissions: vec!["user.read".into()], ..reader.clone() };
        let id = app.create_role(&by(&anquan), &ok).await.unwrap();
        let r = app.role(&anquan, id).await.unwrap();
        assert_eq!(r.org_id, Some(org_id(&app, "万兴街道").await));
        // Wider than the author's scope: refused.
        let wide = RoleDraft { scope: DataScope::All.code().into(), ..ok.clone() };
        let e = app.create_role(&by(&anquan), &RoleDraft { name: "全部查阅".into(), ..wide }).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("scope").is_some()), "{e:?}");
        // A leader cannot also be 安全管理员 (三员分立), not even by the operator.
        let zhuren = user(&app, "zhuren").await;
        let wanted = [role(&app, "principal").await.0, role(&app, "security_admin").await.0];
        let operator = op();
        let e = app.update_user(&by(&operator), zhuren.user_id(), &same(&zhuren), &wanted).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("三员分立")), "{e:?}");
    }
}

#[tokio::test]
async fn tokens_belong_to_integration_accounts_only() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let admin = who(&app, "admin").await;
        // A token for the 主任's account (and so their reach): refused, naming the field.
        let zhuren = user(&app, "zhuren").await;
        let e = app.issue_token(&by(&admin), Some(zhuren.id), "冒用").await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("user_id").unwrap().contains("对接账户")), "{e:?}");
        // The demo's integration account works, and cannot log in.
        let (_, p) = app.bearer(DEMO_TOKEN).await.unwrap();
        assert!(p.has(PETITION_READ));
        let duijie = user(&app, fazhi_app::bootstrap::DEMO_INTEGRATION).await;
        assert!(duijie.is_integration());
        assert!(app.login(&duijie.username, DEMO_PASSWORD, "10.0.0.1").await.is_err());
        assert!(matches!(app.reset_password(&by(&admin), duijie.user_id()).await, Err(AppError::Refused(_))));
        // A person's token from before 0017 is refused at use.
        let (_, tok) = app.issue_token(&by(&op()), Some(duijie.id), "对接").await.unwrap();
        fazhi_store::run!(&app.store.write, |e| sqlx::query("update app_user set kind = 'person' where id = $1")
            .bind(duijie.id)
            .execute(e)
            .await
            .map(|_| ()))
        .unwrap();
        let e = app.bearer(&tok).await.unwrap_err();
        assert!(matches!(&e, AppError::Unauthenticated(m) if m.contains("个人账户")), "{e:?}");
        // An integration account never holds administration permissions.
        let anquan = who(&app, "anquan").await;
        let d = UserDraft {
            username: "duijie.x".into(),
            display_name: "平台对接".into(),
            mobile: String::new(),
            org_id: Some(org_id(&app, "信访办").await.0),
        };
        let id = app.create_integration(&by(&admin), &d, &[]).await.unwrap();
        let u = user_store::get_user(&app.store.read, id).await.unwrap().unwrap();
        let e = app.update_user(&by(&anquan), id, &same(&u), &[role(&app, "admin").await.0]).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("管理权限")), "{e:?}");
    }
}

#[tokio::test]
async fn custom_roles_belong_to_their_street() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let anquan = who(&app, "anquan").await;
        let xfanquan = who(&app, "xfanquan").await;
        let d = RoleDraft {
            name: "万兴用户查阅".into(),
            description: String::new(),
            scope: DataScope::Org.code().into(),
            permissions: vec!["user.read".into()],
        };
        let id = app.create_role(&by(&anquan), &d).await.unwrap();
        let zhifa = user(&app, "zhifa").await;
        let mut wanted = role_ids(&app, &zhifa).await;
        wanted.push(id.0);
        app.update_user(&by(&anquan), zhifa.user_id(), &same(&zhifa), &wanted).await.unwrap();
        // The second street neither sees nor re-saves it.
        assert!(app.list_roles(&xfanquan).await.unwrap().iter().all(|r| r.id != id));
        let wider = RoleDraft { scope: DataScope::Subtree.code().into(), ..d.clone() };
        assert!(app.update_role(&by(&xfanquan), id, &wider).await.is_err());
        // A role of street B held by someone of street A: B's 安全管理员 may no longer edit it.
        let b_role = RoleDraft { name: "学府用户查阅".into(), ..d.clone() };
        let b_id = app.create_role(&by(&xfanquan), &b_role).await.unwrap();
        let b_user = org_id(&app, "学府花园社区").await;
        let nd = UserDraft {
            username: "xf.c".into(),
            display_name: "学府社区".into(),
            mobile: String::new(),
            org_id: Some(b_user.0),
        };
        app.create_user(&by(&op()), &nd, &[b_id.0]).await.unwrap();
        app.update_role(&by(&xfanquan), b_id, &RoleDraft { description: "本街道".into(), ..b_role.clone() })
            .await
            .unwrap();
        // Assigned only inside its street: street A's user cannot get it, even from the operator.
        let e = app.update_user(&by(&op()), zhifa.user_id(), &same(&zhifa), &[b_id.0]).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("roles").unwrap().contains("学府街道")), "{e:?}");
        // Held across streets (by the district's operator's doing): editing needs both streets.
        fazhi_store::run!(&app.store.write, |e| sqlx::query(
            "insert into user_role (user_id, role_id) values ($1, $2)"
        )
        .bind(zhifa.id)
        .bind(b_id.0)
        .execute(e)
        .await
        .map(|_| ()))
        .unwrap();
        let e = app.update_role(&by(&xfanquan), b_id, &b_role).await.unwrap_err();
        assert!(matches!(&e, AppError::Refused(m) if m.contains("综合执法大队")), "{e:?}");
    }
}

#[tokio::test]
async fn installation_settings_need_installation_reach() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let cal = "year 2027 测试\noff 2027-01-01..2027-01-03 元旦\n";
        let admin = who(&app, "admin").await;
        // The one-line year lacks most statutory holidays: imported with a reason.
        let over = |token| fazhi_app::clocks::ImportConfirm { token, override_statutory: true, reason: "测试" };
        let e = app.preview_calendar_import(&by(&admin), cal).await.unwrap_err();
        assert!(matches!(&e, AppError::Forbidden(_)), "{e:?}");
        let e = app.import_calendar(&by(&admin), cal, &over("x")).await.unwrap_err();
        assert!(matches!(&e, AppError::Forbidden(_)), "{e:?}");
        assert!(app.scan_clocks(&admin).await.is_err());
        let sysadmin = who(&app, "sysadmin").await;
        assert!(!sysadmin.has(PETITION_READ));
        let preview = app.preview_calendar_import(&by(&sysadmin), cal).await.unwrap();
        app.import_calendar(&by(&sysadmin), cal, &over(&preview.token)).await.unwrap();
    }
}

#[tokio::test]
async fn the_auditor_reads_the_audit_trail_and_the_system_admin_does_not() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        app.login("admin", DEMO_PASSWORD, "10.0.0.1").await.unwrap();
        let admin = who(&app, "admin").await;
        assert!(matches!(app.list_audit(&admin, 50).await, Err(AppError::Forbidden(_))));
        let rows = app.list_audit(&who(&app, "shenji").await, 50).await.unwrap();
        assert!(rows.iter().any(|r| r.kind == "login" && r.username == "admin"), "the admin's own login");
        assert!(matches!(app.list_audit(&who(&app, "zhuren").await, 50).await, Err(AppError::Forbidden(_))));
        // Street B's auditor does not see street A.
        let b = app.list_audit(&who(&app, "xfshenji").await, 50).await.unwrap();
        assert!(b.iter().all(|r| r.username != "admin"));
    }
}

/// One account never combines the duties of 三员分立 (系统管理 / 安全管理 / 审计 / 业务), by any
/// assigner, the operator included; and no administrator hands over business permissions
/// through a token (privilege ceiling on tokens: the desk's token is the operator's).
#[tokio::test]
async fn duties_are_not_combined_and_tokens_stay_under_the_ceiling() {
    for db in engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let anquan = who(&app, "anquan").await;
        let fenguan = user(&app, "fenguan").await;
        let combo = vec![role(&app, "admin").await.0, role(&app, "security_admin").await.0];
        for wanted in [combo.clone(), vec![role(&app, "admin").await.0, role(&app, "principal").await.0]] {
            let e = app.update_user(&by(&anquan), fenguan.user_id(), &same(&fenguan), &wanted).await.unwrap_err();
            assert!(
                matches!(&e, AppError::Invalid(f) if f.get("roles").is_some_and(|m| m.contains("三员分立"))),
                "{e:?}"
            );
        }
        let operator = op();
        let e = app.update_user(&by(&operator), fenguan.user_id(), &same(&fenguan), &combo).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(_)), "the operator too: {e:?}");
        let auditor = vec![role(&app, "auditor").await.0, role(&app, "principal").await.0];
        assert!(app.update_user(&by(&operator), fenguan.user_id(), &same(&fenguan), &auditor).await.is_err());

        // The 系统管理员 may not issue a token for the 12345 desk account (business data).
        let admin = who(&app, "admin").await;
        let desk = user(&app, fazhi_app::bootstrap::DEMO_INTEGRATION).await;
        let e = app.issue_token(&by(&admin), Some(desk.id), "越权").await.unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(f) if f.get("user_id").is_some_and(|m| m.contains("超出您本人的权限"))),
            "{e:?}"
        );
        app.issue_token(&by(&operator), Some(desk.id), "运维签发").await.unwrap();
    }
}
