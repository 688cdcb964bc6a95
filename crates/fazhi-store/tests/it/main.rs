//! Store conformance suite: every test runs on SQLite and, when FAZHI_TEST_PG_URL is set,
//! on PostgreSQL.

use std::collections::BTreeSet;

use fazhi_domain::access::{DataScope, RecordRef, ScopeFilter};
use fazhi_domain::org::{OrgInput, builtin_kinds};
use fazhi_domain::user::NewUser;
use fazhi_domain::{OrgId, UserId};
use fazhi_store::users::UserQuery;
use fazhi_store::{ConnectMode, Store, StoreError, auth, org, roles, users};
use fazhi_testkit::{TestDb, engines};

mod durability;
mod ledger;
mod search;

async fn seed_kinds(store: &Store) {
    for k in builtin_kinds() {
        org::ensure_kind(&store.write, &k).await.unwrap();
    }
}

async fn node(store: &Store, name: &str, kind: &str, parent: Option<OrgId>) -> OrgId {
    let parent_path = match parent {
        Some(p) => Some(org::get_node(&store.write, p).await.unwrap().unwrap().org_path()),
        None => None,
    };
    let mut tx = store.begin().await.unwrap();
    let input = OrgInput {
        name: name.into(),
        kind: kind.into(),
        parent_id: parent,
        code: String::new(),
        official_name: Default::default(),
    };
    let id = org::insert_node(&mut tx, &input, parent_path.as_ref(), 1).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn user(store: &Store, name: &str, org_id: OrgId) -> UserId {
    let mut tx = store.begin().await.unwrap();
    let u = NewUser { username: name.into(), display_name: name.into(), mobile: None, org_id };
    let id = users::insert_user(&mut tx, &u, "hash", true, 1).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// district(/d/) -> street A -> community 1 -> grid; street A -> dept; district -> street B.
struct Tree {
    district: OrgId,
    street_a: OrgId,
    community: OrgId,
    grid: OrgId,
    dept: OrgId,
    street_b: OrgId,
}

async fn tree(store: &Store) -> Tree {
    seed_kinds(store).await;
    let district = node(store, "南开区", "district", None).await;
    let street_a = node(store, "万兴街道", "street", Some(district)).await;
    let community = node(store, "万兴里社区", "community", Some(street_a)).await;
    let grid = node(store, "第一网格", "grid", Some(community)).await;
    let dept = node(store, "综合执法大队", "department", Some(street_a)).await;
    let street_b = node(store, "学府街道", "street", Some(district)).await;
    Tree { district, street_a, community, grid, dept, street_b }
}

#[tokio::test]
async fn org_tree_paths_and_move() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        let grid = org::get_node(&s.read, t.grid).await.unwrap().unwrap();
        assert_eq!(
            grid.path,
            format!("/{}/{}/{}/{}/", t.district, t.street_a, t.community, t.grid),
            "{:?}",
            db.engine()
        );

        // Move the community (with its grid) from street A to street B.
        let c = org::get_node(&s.write, t.community).await.unwrap().unwrap().node();
        let b = org::get_node(&s.write, t.street_b).await.unwrap().unwrap().node();
        let mut tx = s.begin().await.unwrap();
        org::move_subtree(&mut tx, &c, &b, 2).await.unwrap();
        tx.commit().await.unwrap();
        let grid = org::get_node(&s.read, t.grid).await.unwrap().unwrap();
        assert_eq!(grid.path, format!("/{}/{}/{}/{}/", t.district, t.street_b, t.community, t.grid));
        let c = org::get_node(&s.read, t.community).await.unwrap().unwrap();
        assert_eq!(c.parent_id, Some(t.street_b.0));
        // Street A kept its department and nothing else moved.
        let d = org::get_node(&s.read, t.dept).await.unwrap().unwrap();
        assert_eq!(d.path, format!("/{}/{}/{}/", t.district, t.street_a, t.dept));

        assert_eq!(org::occupancy(&s.read, t.street_b).await.unwrap(), (1, 0));
        let kinds = org::list_kinds(&s.read).await.unwrap();
        assert_eq!(kinds, builtin_kinds());
    }
}

#[tokio::test]
async fn sibling_names_are_unique_and_rollback_leaves_nothing() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        let parent = org::get_node(&s.write, t.street_a).await.unwrap().unwrap().org_path();
        let mut tx = s.begin().await.unwrap();
        let dup = OrgInput {
            name: "综合执法大队".into(),
            kind: "department".into(),
            parent_id: Some(t.street_a),
            code: String::new(),
            official_name: Default::default(),
        };
        let err = org::insert_node(&mut tx, &dup, Some(&parent), 3).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
        drop(tx);
        let before = org::count_nodes(&s.read).await.unwrap();
        {
            let mut tx = s.begin().await.unwrap();
            let ok = OrgInput { name: "平安办".into(), ..dup.clone() };
            org::insert_node(&mut tx, &ok, Some(&parent), 3).await.unwrap();
            // dropped without commit
        }
        assert_eq!(org::count_nodes(&s.read).await.unwrap(), before);
    }
}

#[tokio::test]
async fn scope_filter_in_sql_agrees_with_the_policy() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        let mut all = Vec::new();
        for (i, o) in [t.district, t.street_a, t.community, t.grid, t.dept, t.street_b].into_iter().enumerate() {
            all.push(user(s, &format!("user{i}"), o).await);
        }
        let rows = users::list_users(&s.read, Some(&ScopeFilter::All), &UserQuery { limit: 100, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(rows.len(), all.len());
        let path_of = |o: OrgId| rows.iter().find(|r| r.org_id == o.0).unwrap().path();
        let filters = [
            Some(ScopeFilter::All),
            Some(ScopeFilter::Subtree(path_of(t.street_a))),
            Some(ScopeFilter::Subtree(path_of(t.community))),
            Some(ScopeFilter::Subtree(path_of(t.street_b))),
            Some(ScopeFilter::Org(t.dept)),
            Some(ScopeFilter::Owner(all[3])),
            None,
        ];
        for f in &filters {
            let got: BTreeSet<i64> =
                users::list_users(&s.read, f.as_ref(), &UserQuery { limit: 100, ..Default::default() })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
            let want: BTreeSet<i64> = rows
                .iter()
                .filter(|r| {
                    let rec = RecordRef::single(OrgId(r.org_id), r.path(), Some(UserId(r.id)));
                    f.as_ref().is_some_and(|f| f.matches(&rec))
                })
                .map(|r| r.id)
                .collect();
            assert_eq!(got, want, "{:?} {f:?}", db.engine());
        }
        // Street A's subtree: A, community, grid, dept — not the district nor street B.
        let a = path_of(t.street_a);
        let n =
            users::list_users(&s.read, Some(&ScopeFilter::Subtree(a)), &UserQuery { limit: 100, ..Default::default() })
                .await
                .unwrap()
                .len();
        assert_eq!(n, 4);
        // Text search escapes LIKE wildcards.
        let q = UserQuery { text: Some("%".into()), limit: 100, ..Default::default() };
        assert!(users::list_users(&s.read, Some(&ScopeFilter::All), &q).await.unwrap().is_empty());
        let q = UserQuery { text: Some("user1".into()), limit: 100, ..Default::default() };
        assert_eq!(users::list_users(&s.read, Some(&ScopeFilter::All), &q).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn roles_users_sessions_and_tokens() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        let u = user(s, "zhang.san", t.dept).await;
        let mut tx = s.begin().await.unwrap();
        let perms = [fazhi_domain::access::ORG_READ, fazhi_domain::access::USER_READ].into_iter().collect();
        let f = roles::RoleFields {
            code: "viewer",
            name: "查看员",
            description: "",
            scope: DataScope::Org,
            builtin: false,
            org_id: Some(t.dept),
        };
        let rid = roles::insert_role(&mut tx, &f, &perms, 1).await.unwrap();
        users::set_roles(&mut tx, u, &[rid]).await.unwrap();
        tx.commit().await.unwrap();
        let got = roles::roles_of_user(&s.read, u).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].permissions, perms);
        assert_eq!(got[0].scope, DataScope::Org);

        // Duplicate username.
        let mut tx = s.begin().await.unwrap();
        let dup = NewUser { username: "zhang.san".into(), display_name: "x".into(), mobile: None, org_id: t.dept };
        assert!(matches!(users::insert_user(&mut tx, &dup, "h", true, 1).await, Err(StoreError::Duplicate(_))));
        drop(tx);

        // Sessions.
        let row = auth::SessionRow {
            token_hash: "h1".into(),
            user_id: u.0,
            csrf_token: "c".into(),
            source_addr: "127.0.0.1".into(),
            created_at: 10,
            last_seen_at: 10,
        };
        auth::insert_session(&s.write, &row).await.unwrap();
        auth::touch_session(&s.write, "h1", 20).await.unwrap();
        assert_eq!(auth::get_session(&s.read, "h1").await.unwrap().unwrap().last_seen_at, 20);
        assert_eq!(auth::purge_sessions(&s.write, 21).await.unwrap(), 1);
        assert!(auth::get_session(&s.read, "h1").await.unwrap().is_none());

        // Failures.
        for at in [100, 200, 300] {
            auth::record_failure(&s.write, "user:zhang.san", at).await.unwrap();
        }
        assert_eq!(auth::failures_since(&s.read, "user:zhang.san", 150).await.unwrap(), (2, Some(300)));
        auth::clear_failures(&s.write, "user:zhang.san").await.unwrap();
        assert_eq!(auth::failures_since(&s.read, "user:zhang.san", 0).await.unwrap(), (0, None));

        // Tokens.
        let mut tx = s.begin().await.unwrap();
        let tid = auth::insert_token(&mut tx, u, "12345 对接", "th", "fz_abcd", Some(u), 5).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(auth::find_token(&s.read, "th").await.unwrap().unwrap().id, tid.0);
        let mut tx = s.begin().await.unwrap();
        auth::revoke_token(&mut tx, tid, 6).await.unwrap();
        tx.commit().await.unwrap();
        assert!(auth::find_token(&s.read, "th").await.unwrap().is_none());

        // Audit scoped by org.
        let a = auth::NewAudit {
            at: 1,
            kind: "login",
            username: "zhang.san",
            user_id: Some(u),
            org_id: Some(t.dept),
            ..Default::default()
        };
        let unknown = auth::NewAudit { at: 2, kind: "login_failed", username: "ghost", ..Default::default() };
        let mut tx = s.begin().await.unwrap();
        auth::insert_audit(&mut tx, &a).await.unwrap();
        auth::insert_audit(&mut tx, &unknown).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(auth::list_audit(&s.read, Some(&ScopeFilter::All), 10).await.unwrap().len(), 2);
        assert_eq!(auth::list_audit(&s.read, Some(&ScopeFilter::Org(t.dept)), 10).await.unwrap().len(), 1);
        assert_eq!(auth::list_audit(&s.read, Some(&ScopeFilter::Org(t.street_b)), 10).await.unwrap().len(), 0);
    }
}

#[tokio::test]
async fn missing_sqlite_file_is_refused_and_bad_urls_explained() {
    let dir = tempfile::tempdir().unwrap();
    let url = fazhi_store::db::sqlite_url_in(&dir.path().join("typo"));
    let err = Store::open(&url, ConnectMode::Existing).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingDatabase(_)));
    assert!(err.to_string().contains("不存在"), "{err}");
    assert!(!dir.path().join("typo").join("fazhi.db").exists(), "nothing was created");

    let err = Store::open("mysql://x", ConnectMode::Existing).await.unwrap_err();
    assert!(err.to_string().contains("不支持"), "{err}");

    // A PostgreSQL URL pointing nowhere (port 1 refuses at once), password not echoed.
    let err = Store::open("postgres://u:secret@127.0.0.1:1/db", ConnectMode::Existing).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("无法打开数据库") && !msg.contains("secret"), "{msg}");
}

#[tokio::test]
async fn a_fresh_database_per_test() {
    for db in engines().await {
        assert_eq!(org::count_nodes(&db.store.read).await.unwrap(), 0);
        let other = TestDb::sqlite().await;
        assert_eq!(org::count_nodes(&other.store.read).await.unwrap(), 0);
    }
}
