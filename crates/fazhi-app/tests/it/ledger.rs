//! The ledger wired into real records, on both engines: every change recorded in the log
//! of its street, in the same transaction; verify catches edits made directly in the
//! database; proofs check offline and fail after any edit.

use fazhi_app::App;
use fazhi_app::org::By;
use fazhi_domain::org::OrgDraft;
use fazhi_ledger::verify::Problem;
use fazhi_store::ledger as store;

use super::{demo, org_id, who};

async fn exec(app: &App, sql: &'static str) {
    fazhi_store::run!(&app.store.write, |e| sqlx::query(sql).execute(e).await.map(|_| ())).unwrap();
}

fn by<'a>(p: &'a fazhi_domain::access::Principal) -> By<'a> {
    By { who: p, username: "admin", source_addr: "127.0.0.1" }
}

#[tokio::test]
async fn each_street_keeps_its_own_log() {
    for db in fazhi_testkit::engines().await {
        // These tests tamper as someone with write access to the database would.
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        let district = org_id(&app, "南开区（演示）").await;
        let wanxing = org_id(&app, "万兴街道").await;
        let xuefu = org_id(&app, "学府街道").await;
        let grid = org_id(&app, "万兴里第一网格").await;
        let logs = store::logs(&app.store.read).await.unwrap();
        let ids: Vec<i64> = logs.iter().map(|l| l.log_id).collect();
        assert_eq!(ids, vec![district.0, wanxing.0, xuefu.0], "one log per street plus the district");

        // A grid's record lands in its street's log, with the actor and the change.
        let admin = who(&app, "admin").await;
        let before = store::log(&app.store.read, wanxing.0).await.unwrap().unwrap().0;
        app.update_org(&by(&admin), grid, &OrgDraft { name: "一网格".into(), ..Default::default() }).await.unwrap();
        let after = store::log(&app.store.read, wanxing.0).await.unwrap().unwrap().0;
        assert_eq!(after, before + 1);
        let e = store::get_entry(&app.store.read, wanxing.0, before).await.unwrap().unwrap();
        assert_eq!(
            (e.action.as_str(), e.record_type.as_str(), e.actor_name.as_str()),
            ("org.update", "org_node", "admin")
        );
        assert_eq!(e.change["fields"]["name"][1], "一网格");
        assert_eq!(e.record_id, grid.0.to_string());

        // The record's timeline: created by the demo seed, then renamed.
        let t = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &grid.0.to_string()).unwrap())
            .await
            .unwrap();
        let actions: Vec<&str> = t.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["org.create", "org.update"]);

        // A refused change writes nothing.
        let e = app.delete_org(&by(&admin), grid).await;
        assert!(e.is_ok(), "a leaf without users can go");
        let community = org_id(&app, "万兴里社区").await;
        let size = store::log(&app.store.read, wanxing.0).await.unwrap().unwrap().0;
        assert!(app.delete_org(&by(&admin), community).await.is_err());
        assert_eq!(store::log(&app.store.read, wanxing.0).await.unwrap().unwrap().0, size);
    }
}

#[tokio::test]
async fn verify_names_the_entry_edited_in_the_database() {
    for db in fazhi_testkit::engines().await {
        // These tests tamper as someone with write access to the database would.
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        app.checkpoint_all().await.unwrap();
        let reports = app.verify_ledger(&super::op(), None, |_, _| {}).await.unwrap();
        assert!(reports.iter().all(|r| r.problems.is_empty()), "{reports:?}");
        assert!(reports.iter().map(|r| r.entries).sum::<u64>() >= 25);

        let wanxing = org_id(&app, "万兴街道").await;
        // Edit one entry's change directly, as someone with database access would.
        exec(&app, "update ledger_entry set change_json = '{\"name\":\"伪造\"}' where seq = 4 and log_id = (select min(log_id) + 1 from ledger_log)").await;
        let reports = app.verify_ledger(&super::op(), Some(wanxing.0), |_, _| {}).await.unwrap();
        assert_eq!(reports[0].problems.first(), Some(&Problem::LeafMismatch { seq: 4 }), "{reports:?}");
        let msg = reports[0].problems[0].to_string();
        assert!(msg.contains("第 4 条"), "{msg}");
    }
}

#[tokio::test]
async fn deletion_and_consistent_rewrites_are_caught() {
    for db in fazhi_testkit::engines().await {
        // These tests tamper as someone with write access to the database would.
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        app.checkpoint_all().await.unwrap();
        let wanxing = org_id(&app, "万兴街道").await.0;
        let ok = app.verify_ledger(&super::op(), Some(wanxing), |_, _| {}).await.unwrap();
        assert!(ok[0].problems.is_empty());
        let size = ok[0].entries;

        // Delete the entry and its leaf: the gap is named.
        exec(&app, "delete from ledger_entry where seq = 2 and log_id = (select min(log_id) + 1 from ledger_log)")
            .await;
        let r = app.verify_ledger(&super::op(), Some(wanxing), |_, _| {}).await.unwrap();
        assert_eq!(r[0].problems.first(), Some(&Problem::Gap { seq: 2, found: 3 }), "{:?}", r[0].problems);

        assert!(size > 3);
    }
}

#[tokio::test]
async fn a_rewrite_that_fixes_the_leaf_hash_is_caught_by_the_signed_checkpoint() {
    for db in fazhi_testkit::engines().await {
        // These tests tamper as someone with write access to the database would.
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        app.checkpoint_all().await.unwrap();
        let wanxing = org_id(&app, "万兴街道").await.0;
        let mut e = store::get_entry(&app.store.read, wanxing, 3).await.unwrap().unwrap();
        e.change = serde_json::json!({"name": "伪造", "kind": "department"});
        let leaf = fazhi_ledger::HashAlg::Sha256.leaf(&e.leaf_bytes()).to_vec();
        let change = fazhi_ledger::canonical::to_string(&e.change);
        fazhi_store::run!(&app.store.write, |x| sqlx::query(
            "update ledger_entry set change_json = $1 where log_id = $2 and seq = 3"
        )
        .bind(&change)
        .bind(wanxing)
        .execute(x)
        .await
        .map(|_| ()))
        .unwrap();
        fazhi_store::run!(&app.store.write, |x| sqlx::query(
            "update ledger_node set hash = $1 where log_id = $2 and level = 0 and idx = 3"
        )
        .bind(&leaf)
        .bind(wanxing)
        .execute(x)
        .await
        .map(|_| ()))
        .unwrap();
        let r = app.verify_ledger(&super::op(), Some(wanxing), |_, _| {}).await.unwrap();
        let problems = &r[0].problems;
        assert!(!problems.iter().any(|p| matches!(p, Problem::LeafMismatch { .. })), "{problems:?}");
        assert!(
            problems.iter().any(|p| matches!(p, Problem::RootMismatch { from: 0, to, .. } if *to >= 3)),
            "{problems:?}"
        );
    }
}

#[tokio::test]
async fn proofs_check_offline_and_fail_after_any_edit() {
    for db in fazhi_testkit::engines().await {
        // These tests tamper as someone with write access to the database would.
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        let wanxing = org_id(&app, "万兴街道").await.0;
        // No checkpoint yet: the proof makes one on demand.
        let bundle = app.proof_for(&super::op(), wanxing, 5).await.unwrap();
        let key = app.ledger.verifier();
        let checked = bundle.check(Some(&key)).unwrap();
        assert!(checked.checkpoint.size > 5);
        let json = serde_json::to_string(&bundle).unwrap();
        let back: fazhi_ledger::proof::ProofBundle = serde_json::from_str(&json).unwrap();
        assert!(back.check(Some(&key)).is_ok());

        let mut edited = back.clone();
        edited.entry.actor_name = "别人".into();
        assert!(edited.check(Some(&key)).is_err());
        let mut edited = back;
        edited.entry.at += 1;
        assert!(edited.check(Some(&key)).is_err());

        // Checkpoints are made only for logs that grew.
        let made = app.checkpoint_all().await.unwrap();
        assert!(made.iter().all(|(log, _)| *log != wanxing), "{made:?}");
        assert!(app.proof_for(&super::op(), wanxing, 10_000).await.is_err());
    }
}

/// Signing decides from the signed note, not from the row's size column: a size edited to
/// look covered does not leave new entries unsigned.
#[tokio::test]
async fn an_edited_checkpoint_size_does_not_switch_signing_off() {
    for db in fazhi_testkit::engines().await {
        fazhi_testkit::drop_ledger_guards(&db.store).await;
        let (app, _) = demo(db.store.clone()).await;
        assert!(!app.checkpoint_all().await.unwrap().is_empty());
        assert!(app.checkpoint_all().await.unwrap().is_empty(), "nothing new: nothing signed");
        exec(&app, "update ledger_checkpoint set size = 1000000000").await;
        let admin = who(&app, "admin").await;
        let grid = org_id(&app, "万兴里第一网格").await;
        app.update_org(&by(&admin), grid, &OrgDraft { name: "一网格".into(), ..Default::default() }).await.unwrap();
        let wanxing = org_id(&app, "万兴街道").await.0;
        let made = app.checkpoint_all().await.unwrap();
        assert!(made.iter().any(|(log, _)| *log == wanxing), "{made:?}");
    }
}
