//! What `ledger verify` catches beyond the business records (issue 12, "what the ledger
//! proves"), on both engines: one test per kind of direct database tampering with the
//! access tables — each names the table, the row and the fields — and a demo after
//! ordinary use that reports nothing. Child rows, attachments and the audit trail are in
//! `reconcile_rows.rs`.

use fazhi_app::App;
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_app::org::By;
use fazhi_app::reconcile::RecordReport;
use fazhi_domain::access::{Principal, USER_MANAGE};
use fazhi_domain::org::OrgDraft;
use fazhi_domain::user::UserDraft;
use fazhi_domain::{OrgId, UserId};

use super::{demo, op, org_id, who};

/// Runs one statement on the database behind the program's back.
pub(super) async fn exec(app: &App, sql: impl Into<String>) {
    let sql = sql.into();
    fazhi_store::run!(&app.store.write, |e| sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(e).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// One integer the database answers.
pub(super) async fn scalar(app: &App, sql: impl Into<String>) -> i64 {
    let sql = sql.into();
    fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).fetch_one(e).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub(super) async fn report(app: &App) -> RecordReport {
    app.verify_records(&op(), |_| {}).await.unwrap()
}

/// The problems `ledger verify` prints.
pub(super) async fn said(app: &App) -> Vec<String> {
    report(app).await.problems.iter().map(ToString::to_string).collect()
}

/// Asserts that exactly the problems matching each list of fragments were reported.
pub(super) fn expect(said: &[String], wanted: &[&[&str]]) {
    assert_eq!(said.len(), wanted.len(), "{said:#?}");
    for w in wanted {
        assert!(said.iter().any(|s| w.iter().all(|f| s.contains(f))), "no problem with {w:?} in {said:#?}");
    }
}

pub(super) fn by(p: &Principal) -> By<'_> {
    By { who: p, username: "admin", source_addr: "127.0.0.1" }
}

async fn uid(app: &App, username: &str) -> i64 {
    scalar(app, format!("select id from app_user where username = '{username}'")).await
}

fn draft(username: &str, org: OrgId) -> UserDraft {
    UserDraft { username: username.into(), display_name: "李四".into(), mobile: String::new(), org_id: Some(org.0) }
}

async fn role_id(app: &App, code: &str) -> i64 {
    scalar(app, format!("select id from role where code = '{code}'")).await
}

#[tokio::test]
async fn a_clean_demo_and_ordinary_use_report_nothing() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        let r = report(&app).await;
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(r.partial.is_empty(), "the demo is written by this version: {:?}", r.partial);
        let admin = who(&app, "admin").await;
        let by = by(&admin);
        let sec = who(&app, "anquan").await;
        let by_sec = By { who: &sec, username: "anquan", source_addr: "127.0.0.1" };

        // Accounts: create, change roles and node, password change, reset, disable, enable
        // (三员分立: the 系统管理员 keeps the account, the 安全管理员 its roles).
        let community = org_id(&app, "万兴里社区").await;
        let issued = app.create_user(&by, &draft("li.si", community), &[]).await.unwrap();
        let worker = [role_id(&app, "community_worker").await];
        app.update_user(&by_sec, issued.user_id, &draft("li.si", community), &worker).await.unwrap();
        let other = org_id(&app, "兴南社区").await;
        app.update_user(&by, issued.user_id, &draft("li.si", other), &worker).await.unwrap();
        let roles = [role_id(&app, "community_worker").await, role_id(&app, "legal_counsel").await];
        app.update_user(&by_sec, issued.user_id, &draft("li.si", other), &roles).await.unwrap();
        let s = app.login("li.si", &issued.one_time_password, "10.0.0.5").await.unwrap();
        let info = app.session(&s.token).await.unwrap();
        app.change_password(&info, &issued.one_time_password, "Lisi-2026-ok!", "Lisi-2026-ok!", "").await.unwrap();
        app.reset_password(&by, issued.user_id).await.unwrap();
        app.set_user_disabled(&by, issued.user_id, true).await.unwrap();
        app.set_user_disabled(&by, issued.user_id, false).await.unwrap();

        // A custom role and its change; a token issued and revoked.
        let role = fazhi_app::roles::RoleDraft {
            name: "台账查看".into(),
            description: String::new(),
            scope: "subtree".into(),
            permissions: vec!["org.read".into()],
        };
        let rid = app.create_role(&by_sec, &role).await.unwrap();
        let wider = fazhi_app::roles::RoleDraft { permissions: vec!["org.read".into(), "user.read".into()], ..role };
        app.update_role(&by_sec, rid, &wider).await.unwrap();
        let operator = super::op();
        let by_op = super::by(&operator);
        let (tid, _) = app.issue_token(&by_op, Some(uid(&app, "duijie12345").await), "12345 热线对接").await.unwrap();
        app.revoke_token(&by, tid).await.unwrap();

        // The org tree: create, rename, move, delete, a webhook.
        let grid = OrgDraft {
            name: "临时网格".into(),
            kind: "grid".into(),
            parent_id: Some(community.0),
            code: "".into(),
            official_name: Default::default(),
        };
        let g = app.create_org(&by, &grid).await.unwrap();
        let renamed = OrgDraft {
            name: "万兴里第三网格".into(),
            code: "W3".into(),
            official_name: "万兴里社区第三网格工作站".into(),
            ..grid.clone()
        };
        app.update_org(&by, g, &renamed).await.unwrap();
        app.move_org(&by, g, other).await.unwrap();
        let gone = app.create_org(&by, &OrgDraft { name: "待删网格".into(), ..grid }).await.unwrap();
        app.delete_org(&by, gone).await.unwrap();
        let street = org_id(&app, "万兴街道").await;
        app.set_webhook(&by, street, "https://oapi.dingtalk.com/robot/send?access_token=secret").await.unwrap();

        // Business records with child rows, an attachment, the audit trail anchored.
        super::reconcile_rows::ordinary_records(&app).await;
        app.checkpoint_all().await.unwrap();
        app.login("admin", DEMO_PASSWORD, "10.0.0.6").await.unwrap();
        clock.advance(61_000);
        app.checkpoint_all().await.unwrap();

        let r = report(&app).await;
        assert!(r.problems.is_empty(), "{:?}: {:#?}", db.engine(), r.problems);
        assert!(r.partial.is_empty(), "{:?}", r.partial);
        assert_eq!(r.audit_unchained, 0);
        // No secret in clear in the ledger: neither the webhook's key nor a hash.
        let leaked = scalar(
            &app,
            "select count(*) from ledger_entry where change_json like '%access_token%' \
            or change_json like '%$argon2%'",
        )
        .await;
        assert_eq!(leaked, 0);
    }
}

#[tokio::test]
async fn a_role_granted_in_the_database_is_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let wangge = uid(&app, "wangge").await;
        let admin_role = role_id(&app, "admin").await;
        exec(&app, format!("insert into user_role (user_id, role_id) values ({wangge}, {admin_role})")).await;
        // The grid worker now manages users…
        assert!(app.principal(UserId(wangge)).await.unwrap().has(USER_MANAGE));
        // …and verify says where that came from.
        expect(&said(&app).await, &[&["用户（app_user）", &format!(" {wangge} "), "roles"]]);
    }
}

#[tokio::test]
async fn a_forged_password_hash_and_flags_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        // Any hash the forger knows the password of (the demo's accounts all share one).
        let forged = "$argon2id$v=19$m=19456,t=2,p=1$Zm9yZ2VkLXNhbHQ$Zm9yZ2VkLWhhc2gtb2YtYS1rbm93bi1wYXNzd29yZA";
        exec(&app, format!("update app_user set password_hash = '{forged}' where username = 'ducha'")).await;
        exec(&app, "update app_user set must_change_password = true where username = 'zhifa'").await;
        let (ducha, zhifa) = (uid(&app, "ducha").await, uid(&app, "zhifa").await);
        expect(
            &said(&app).await,
            &[
                &["用户（app_user）", &format!(" {ducha} "), "password_hash_sha256"],
                &["用户（app_user）", &format!(" {zhifa} "), "must_change_password"],
            ],
        );
    }
}

#[tokio::test]
async fn a_users_node_and_disabled_flag_changed_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let street = org_id(&app, "万兴街道").await.0;
        exec(&app, format!("update app_user set org_id = {street} where username = 'wangge'")).await;
        exec(&app, "update app_user set disabled = true where username = 'zhuren'").await;
        let (wangge, zhuren) = (uid(&app, "wangge").await, uid(&app, "zhuren").await);
        expect(
            &said(&app).await,
            &[
                &["用户（app_user）", &format!(" {wangge} "), "org_id"],
                &["用户（app_user）", &format!(" {zhuren} "), "disabled"],
            ],
        );
    }
}

#[tokio::test]
async fn a_forged_api_token_is_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let admin = who(&app, "admin").await;
        // The demo's integration account (tokens belong to integration accounts only).
        let xinfang = uid(&app, "duijie12345").await;
        let (tid, _) = app.issue_token(&by(&super::op()), Some(xinfang), "对接").await.unwrap();
        let forged = fazhi_app::secrets::sha256_hex("fzt_forged");
        exec(&app, format!("update api_token set token_hash = '{forged}' where id = {tid}")).await;
        exec(
            &app,
            format!(
                "insert into api_token (user_id, name, token_hash, prefix, created_by, created_at) \
            values ({xinfang}, '后门', 'h2', 'fzt_00', {xinfang}, 0)"
            ),
        )
        .await;
        assert!(app.bearer("fzt_forged").await.is_ok(), "the forged token works…");
        let inserted = scalar(&app, "select id from api_token where name = '后门'").await;
        expect(
            &said(&app).await,
            &[
                &["接口令牌（api_token）", &format!(" {tid} "), "token_hash_sha256"],
                &["接口令牌（api_token）", &format!(" {inserted} "), "没有任何全过程记录"],
            ],
        );
        // An un-revoked token too.
        app.revoke_token(&by(&admin), tid).await.unwrap();
        exec(&app, format!("update api_token set revoked_at = null, token_hash = 'x' where id = {inserted}")).await;
        exec(&app, format!("update api_token set revoked_at = null where id = {tid}")).await;
        let now = said(&app).await;
        assert!(now.iter().any(|s| s.contains(&format!(" {tid} ")) && s.contains("revoked_at")), "{now:#?}");
    }
}

#[tokio::test]
async fn a_widened_role_is_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let admin = who(&app, "anquan").await;
        let role = fazhi_app::roles::RoleDraft {
            name: "台账查看".into(),
            description: String::new(),
            scope: "org".into(),
            permissions: vec!["org.read".into()],
        };
        let custom = app.create_role(&by(&admin), &role).await.unwrap().0;
        exec(&app, format!("insert into role_permission (role_id, permission) values ({custom}, 'user.manage')")).await;
        exec(&app, format!("update role set scope = 'all' where id = {custom}")).await;
        let worker = role_id(&app, "community_worker").await;
        exec(&app, format!("insert into role_permission (role_id, permission) values ({worker}, 'settings.manage')"))
            .await;
        expect(
            &said(&app).await,
            &[
                &["角色（role）", &format!(" {custom} "), "permissions、scope", "全过程记录"],
                &["角色（role）", &format!(" {worker} "), "permissions", "内置角色的定义"],
            ],
        );
    }
}

#[tokio::test]
async fn records_deleted_or_inserted_without_an_entry_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let admin = who(&app, "admin").await;
        let community = org_id(&app, "万兴里社区").await;
        let li = app.create_user(&by(&admin), &draft("li.si", community), &[]).await.unwrap().user_id.0;
        let grid = OrgDraft {
            name: "临时网格".into(),
            kind: "grid".into(),
            parent_id: Some(community.0),
            code: "".into(),
            official_name: Default::default(),
        };
        let g = app.create_org(&by(&admin), &grid).await.unwrap().0;
        // Inserted first: SQLite would give a row inserted after the deletion the deleted id.
        exec(
            &app,
            "insert into app_user (username, display_name, org_id, password_hash, must_change_password, \
            disabled, created_at, updated_at) select 'ghost', '幽灵', org_id, password_hash, false, false, 0, 0 \
            from app_user where username = 'admin'",
        )
        .await;
        exec(
            &app,
            "insert into role (code, name, description, scope, builtin, created_at, updated_at) \
            values ('custom_evil', '影子管理员', '', 'all', false, 0, 0)",
        )
        .await;
        exec(&app, format!("delete from app_user where id = {li}")).await;
        exec(&app, format!("delete from org_node where id = {g}")).await;
        let (ghost, evil) = (uid(&app, "ghost").await, role_id(&app, "custom_evil").await);
        expect(
            &said(&app).await,
            &[
                &["用户（app_user）", &format!(" {li} "), "记录被直接删除"],
                &["机构（org_node）", &format!(" {g} "), "记录被直接删除"],
                &["用户（app_user）", &format!(" {ghost} "), "没有任何全过程记录"],
                &["角色（role）", &format!(" {evil} "), "没有任何全过程记录"],
            ],
        );
    }
}

#[tokio::test]
async fn org_nodes_edited_or_moved_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let renamed = org_id(&app, "兴南第一网格").await.0;
        let moved = org_id(&app, "万兴里第二网格").await.0;
        let repathed = org_id(&app, "德庄社区").await.0;
        let target = org_id(&app, "兴南社区").await.0;
        let target_path = fazhi_store::org::get_node(&app.store.read, OrgId(target)).await.unwrap().unwrap().path;
        exec(&app, format!("update org_node set name = '改名网格' where id = {renamed}")).await;
        // Moved with a consistent path: only the parent differs from the ledger.
        exec(
            &app,
            format!("update org_node set parent_id = {target}, path = '{target_path}{moved}/' where id = {moved}"),
        )
        .await;
        // The path alone (what data scopes read): it no longer follows the parents.
        exec(&app, format!("update org_node set path = '/{repathed}/' where id = {repathed}")).await;
        // The name documents are signed with.
        let street = org_id(&app, "万兴街道").await.0;
        exec(&app, format!("update org_node set official_name = '冒名机关' where id = {street}")).await;
        expect(
            &said(&app).await,
            &[
                &["机构（org_node）", &format!(" {renamed} "), "name"],
                &["机构（org_node）", &format!(" {moved} "), "parent_id"],
                &["机构（org_node）", &format!(" {repathed} "), "path"],
                &["机构（org_node）", &format!(" {street} "), "official_name"],
            ],
        );
    }
}

/// An installation upgraded from a version whose entries carried no field diffs: its
/// records are "not comparable", not tampered with.
#[tokio::test]
async fn older_entries_are_not_comparable_rather_than_tampering() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        exec(
            &app,
            "insert into app_user (username, display_name, org_id, password_hash, must_change_password, \
            disabled, created_at, updated_at) select 'old.user', '老用户', org_id, password_hash, false, false, 0, 0 \
            from app_user where username = 'admin'",
        )
        .await;
        let old = uid(&app, "old.user").await;
        let street = org_id(&app, "万兴街道").await.0;
        let mut tx = app.store.begin().await.unwrap();
        let e = fazhi_store::ledger::NewEntry {
            log_id: street,
            at: 0,
            actor_id: None,
            actor_name: "system".into(),
            record_type: "user".into(),
            record_id: old.to_string(),
            action: "user.create".into(),
            change: serde_json::json!({"username": "old.user", "display_name": "老用户", "org_id": street}),
            attachments: vec![],
        };
        fazhi_store::ledger::append(&mut tx, fazhi_ledger::HashAlg::Sha256, e).await.unwrap();
        tx.commit().await.unwrap();
        let r = report(&app).await;
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.partial.get("用户（app_user）"), Some(&1), "{:?}", r.partial);
        // From its first change on, what the new entry vouches for is compared.
        let admin = who(&app, "admin").await;
        app.set_user_disabled(&by(&admin), UserId(old), true).await.unwrap();
        exec(&app, format!("update app_user set disabled = false where id = {old}")).await;
        expect(&said(&app).await, &[&["用户（app_user）", &format!(" {old} "), "disabled"]]);
    }
}

/// A statutory clock's due date moved, a clock closed, or one inserted in the database is
/// named; the clocks of a demo year of petitions (started, extended, completed, paused)
/// report nothing.
#[tokio::test]
async fn clocks_moved_closed_or_inserted_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        app.seed_demo_petitions(40).await.unwrap();
        let clean = said(&app).await;
        assert!(clean.is_empty(), "{:?}: {clean:#?}", db.engine());
        let open = scalar(&app, "select min(id) from deadline_clock where closed = false").await;
        let done = scalar(&app, "select min(id) from deadline_clock where closed = true").await;
        // A clock of a record that keeps another clock (this pass reads the entries of records
        // that have clocks).
        let other = scalar(
            &app,
            format!(
                "select max(c.id) from deadline_clock c where c.id not in ({open}, {done}) and exists \
                 (select 1 from deadline_clock d where d.record_type = c.record_type and d.record_id = c.record_id \
                 and d.id not in (c.id, {open}, {done}))"
            ),
        )
        .await;
        exec(&app, format!("update deadline_clock set due_date = '2099-12-31' where id = {open}")).await;
        exec(&app, format!("update deadline_clock set closed = false where id = {done}")).await;
        exec(
            &app,
            "insert into deadline_clock (org_id, record_type, record_id, rule_id, clock_json, due_date, state, \
             created_at, updated_at) select org_id, record_type, record_id, 'petition.extra', clock_json, due_date, \
             state, created_at, updated_at from deadline_clock where id = (select min(id) from deadline_clock)",
        )
        .await;
        exec(&app, "delete from notification where clock_id is not null").await;
        exec(&app, format!("delete from deadline_clock where id = {other}")).await;
        expect(
            &said(&app).await,
            &[
                &["deadline_clock", &open.to_string(), "due_date"],
                &["deadline_clock", &done.to_string(), "closed"],
                &["deadline_clock", "没有任何全过程记录"],
                &["deadline_clock", &other.to_string(), "直接删除"],
            ],
        );
    }
}

/// A checkpoint key retired or forged in `ledger_key` (to sign with a key of one's choosing)
/// is named: only keys registered on the ledger count.
#[tokio::test]
async fn a_forged_or_retired_signing_key_is_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        app.ensure_signing_key(false).await.unwrap();
        assert!(said(&app).await.is_empty());
        let forged = fazhi_app::ledger::LedgerKeys::generate(fazhi_ledger::HashAlg::Sha256).verifier().to_vkey();
        exec(&app, "update ledger_key set valid_to = 1").await;
        exec(
            &app,
            format!("insert into ledger_key (vkey, valid_from, valid_to, created_at) values ('{forged}', 1, null, 1)"),
        )
        .await;
        expect(&said(&app).await, &[&["ledger_key", "valid_to"], &["ledger_key", "没有任何全过程记录"]]);
    }
}
