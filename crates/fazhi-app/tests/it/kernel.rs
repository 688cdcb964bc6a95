//! The record kernel's promises, one regression test per drift found in review (issue 11), on
//! both engines: holders in search, labels on every timeline line, only offered steps,
//! transfer targets and 包案 leaders from the offer, the duplicate hint in scope, clocks and
//! proofs authorised like their record, street-level registers per role, concurrent steps,
//! and the ledger covering what documents print.

use std::sync::Arc;

use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
use fazhi_domain::access::{PETITION_READ, Principal};
use fazhi_domain::petition::{Event, Outcome, Step};
use fazhi_domain::record::{PETITION, RecordKey};
use fazhi_domain::user::UserDraft;
use fazhi_domain::{Day, OrgId, UserId};

use super::{demo, op, org_id, who};

fn at(d: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn day(d: &str) -> Day {
    Day::from_text(d).unwrap()
}

fn draft(title: &str, phone: &str) -> IntakeDraft {
    IntakeDraft {
        channel: "visit".into(),
        category: "claim".into(),
        subject: "物业".into(),
        title: title.into(),
        content: format!("{title}，物业长期不处理，请求街道协调解决"),
        received_on: "2026-03-02".into(),
        petitioners: vec![PetitionerDraft { name: "王秀兰".into(), phone: phone.into(), ..Default::default() }],
        ..Default::default()
    }
}

/// A user with built-in role `role` on node `org`, as the operator creates them.
async fn user_at(app: &fazhi_app::App, username: &str, org: OrgId, role: &str) -> Principal {
    let operator = op();
    let by = By { who: &operator, username: "system", source_addr: "" };
    let role = app.list_roles(&operator).await.unwrap().into_iter().find(|r| r.code == role).unwrap();
    let d = UserDraft {
        username: username.into(),
        display_name: "测试".into(),
        mobile: String::new(),
        org_id: Some(org.0),
    };
    let issued = app.create_user(&by, &d, &[role.id.0]).await.unwrap();
    app.principal(issued.user_id).await.unwrap()
}

fn by(p: &Principal) -> By<'_> {
    By { who: p, username: "t", source_addr: "" }
}

fn hit_ids(hits: &[fazhi_app::search::SearchHit]) -> Vec<String> {
    hits.iter().filter(|h| h.record_type == "petition").map(|h| h.record_id.clone()).collect()
}

#[tokio::test]
async fn search_follows_every_holder_and_transfers() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-02"));
        let desk = who(&app, "xinfang").await;
        let wangge = who(&app, "wangge").await;
        let community = org_id(&app, "万兴里社区").await;
        let street_b = org_id(&app, "学府街道").await;
        let b_worker = user_at(&app, "xf.b", street_b, "petition_worker").await;

        // Assigned to the community: the community worker now finds it by search.
        let assigned = app.intake(&by(&desk), &draft("楼道堆物占用消防通道", "13800000011")).await.unwrap();
        app.petition_step(&by(&desk), assigned.id, Event::Accept { on: day("2026-03-02") }).await.unwrap();
        assert!(hit_ids(&app.search(&wangge, "消防通道", 20).await.unwrap()).is_empty(), "not yet assigned");
        let assign = Event::Assign { to: community, note: "请社区核实".into() };
        app.petition_step(&by(&desk), assigned.id, assign).await.unwrap();
        assert_eq!(hit_ids(&app.search(&wangge, "消防通道", 20).await.unwrap()), vec![assigned.id.to_string()]);

        // Transferred to street B: the receiver finds it, the sending desk no longer does.
        let moved = app.intake(&by(&desk), &draft("学府花园电梯停运", "13800000012")).await.unwrap();
        assert_eq!(hit_ids(&app.search(&desk, "电梯停运", 20).await.unwrap()), vec![moved.id.to_string()]);
        let transfer = Event::Transfer { to: street_b, reason: "发生在学府街道辖区".into() };
        let (row, _) = app.petition_step(&by(&desk), moved.id, transfer).await.unwrap();
        assert_eq!(row.org_id, street_b.0, "the step answers with its own result");
        assert!(hit_ids(&app.search(&desk, "电梯停运", 20).await.unwrap()).is_empty(), "sender no longer finds it");
        assert_eq!(hit_ids(&app.search(&b_worker, "电梯停运", 20).await.unwrap()), vec![moved.id.to_string()]);
        // The list agrees with search.
        assert_eq!(app.petitions(&b_worker, &Default::default()).await.unwrap().len(), 1);
        assert!(app.petition(&desk, moved.id).await.is_err());
    }
}

#[tokio::test]
async fn timelines_label_every_action_and_documents_are_vouched_for() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-20"));
        let desk = who(&app, "xinfang").await;
        let zhuren = who(&app, "zhuren").await;
        let item = app.intake(&by(&desk), &draft("小区路灯损坏", "13800000021")).await.unwrap();
        app.petition_step(&by(&desk), item.id, Event::Accept { on: day("2026-03-03") }).await.unwrap();
        let supervise = Event::Supervise { instruction: "本周内答复".into() };
        app.petition_step(&by(&zhuren), item.id, supervise).await.unwrap();
        let reply = Event::Reply {
            outcome: Outcome::Support,
            legal_basis: "《物业管理条例》第三十五条".into(),
            text: "经核实，路灯已由物业修复。".into(),
        };
        app.petition_step(&by(&desk), item.id, reply).await.unwrap();
        let key = RecordKey::new(&PETITION, item.id);
        for e in app.timeline(&op(), key).await.unwrap() {
            let label = fazhi_app::ledger::action_label(&e.record_type, &e.action);
            assert_ne!(label, e.action, "{} has no label", e.action);
        }
        // One entry per step, covering the reply text the opinion prints.
        let entries = app.timeline(&op(), key).await.unwrap();
        let reply_entry = entries.iter().find(|e| e.action == "petition.reply").unwrap();
        assert_eq!(reply_entry.change["fields"]["reply_text"][1], "经核实，路灯已由物业修复。");
        assert!(app.petition_opinion(&desk, item.id).await.is_ok());
        let problems = app.verify_records(&super::op(), |_| {}).await.unwrap().problems;
        assert!(problems.is_empty(), "{problems:?}");

        // Tamper with the reply text in the database: the document is refused and verify
        // names the record and the field.
        let sql = "update petition set reply_text = '物业拒不修复' where id = $1";
        match &db.store.write {
            fazhi_store::Db::Sqlite(p) => sqlx::query(sql).bind(item.id).execute(p).await.map(|_| ()),
            fazhi_store::Db::Postgres(p) => sqlx::query(sql).bind(item.id).execute(p).await.map(|_| ()),
        }
        .unwrap();
        let refused = app.petition_opinion(&desk, item.id).await.unwrap_err();
        assert!(matches!(&refused, AppError::Refused(m) if m.contains("reply_text")), "{refused:?}");
        let problems = app.verify_records(&super::op(), |_| {}).await.unwrap().problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].to_string().contains("reply_text"), "{}", problems[0]);

        // A row inserted behind the program's back, and one deleted behind it, are named too.
        let inserted = "insert into reception_day (org_id, leader_name, day, hours, place, created_at) \
                        select org_id, '某领导', '2026-03-21', '上午', '接待室', 0 from petition where id = $1";
        let came = fazhi_app::receptions::ReceptionDraft {
            leader_user_id: Some(zhuren.user_id.0),
            received_on: "2026-03-19".into(),
            visitors: "赵德明".into(),
            headcount: Some(1),
            matter: "反映小区供暖温度不达标".into(),
            instruction: "请信访办核实处理".into(),
            ..Default::default()
        };
        let reception = app.record_reception(&by(&desk), &came).await.unwrap();
        let deleted = "delete from reception where id = $1";
        for (sql, id) in [(inserted, item.id), (deleted, reception)] {
            match &db.store.write {
                fazhi_store::Db::Sqlite(p) => sqlx::query(sql).bind(id).execute(p).await.map(|_| ()),
                fazhi_store::Db::Postgres(p) => sqlx::query(sql).bind(id).execute(p).await.map(|_| ()),
            }
            .unwrap();
        }
        let problems = app.verify_records(&super::op(), |_| {}).await.unwrap().problems;
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(said.iter().any(|p| p.contains("没有任何全过程记录")), "{said:?}");
        assert!(said.iter().any(|p| p.contains("记录被直接删除")), "{said:?}");

        // A state this program never writes is an error when read, never a default.
        let sql = "update petition set state = 'bogus' where id = $1";
        match &db.store.write {
            fazhi_store::Db::Sqlite(p) => sqlx::query(sql).bind(item.id).execute(p).await.map(|_| ()),
            fazhi_store::Db::Postgres(p) => sqlx::query(sql).bind(item.id).execute(p).await.map(|_| ()),
        }
        .unwrap();
        assert!(matches!(app.petition(&desk, item.id).await, Err(AppError::Internal(_))));
    }
}

#[tokio::test]
async fn only_offered_steps_and_targets() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-10"));
        let desk = who(&app, "xinfang").await;
        let item = app.intake(&by(&desk), &draft("噪声扰民", "13800000031")).await.unwrap();
        let (row, _) = app.petition(&desk, item.id).await.unwrap();
        let offered = app.petition_offered(&desk, &row).await.unwrap();
        assert!(offered.contains(&Step::Accept) && !offered.contains(&Step::Close));
        assert!(!offered.contains(&Step::Supervise), "the desk may not supervise");
        let (row, _) = app.petition_step(&by(&desk), item.id, Event::Accept { on: day("2026-03-03") }).await.unwrap();
        assert!(!app.petition_offered(&desk, &row).await.unwrap().contains(&Step::Close), "办结 only after service");

        // 转送 only to the offered bodies: a grid of another street is refused, nothing written.
        let fresh = app.intake(&by(&desk), &draft("占道经营", "13800000032")).await.unwrap();
        let grid_b = org_id(&app, "学府花园第一网格").await;
        let before = app.timeline(&op(), RecordKey::new(&PETITION, fresh.id)).await.unwrap().len();
        let e = app.petition_step(&by(&desk), fresh.id, Event::Transfer { to: grid_b, reason: "x".into() }).await;
        assert!(matches!(e, Err(AppError::Invalid(ref f)) if f.get("target").is_some()), "{e:?}");
        assert_eq!(app.timeline(&op(), RecordKey::new(&PETITION, fresh.id)).await.unwrap().len(), before);
        // 交办 only within the street.
        let community_b = org_id(&app, "学府花园社区").await;
        let assign = Event::Assign { to: community_b, note: "x".into() };
        let e = app.petition_step(&by(&desk), item.id, assign).await;
        assert!(matches!(e, Err(AppError::Invalid(ref f)) if f.get("target").is_some()), "{e:?}");
        // 包案 only by a leader of the item's street holding the supervise permission.
        let zhuren = who(&app, "zhuren").await;
        let desk_user = Event::Lead { user: desk.user_id };
        let e = app.petition_step(&by(&zhuren), item.id, desk_user).await;
        assert!(matches!(e, Err(AppError::Invalid(ref f)) if f.get("target").is_some()), "{e:?}");
        let b_leader = user_at(&app, "ld.b", org_id(&app, "学府街道").await, "principal").await;
        let e = app.petition_step(&by(&zhuren), item.id, Event::Lead { user: b_leader.user_id }).await;
        assert!(matches!(e, Err(AppError::Invalid(_))), "{e:?}");
        app.petition_step(&by(&zhuren), item.id, Event::Lead { user: zhuren.user_id }).await.unwrap();
    }
}

#[tokio::test]
async fn scope_of_duplicates_clocks_proofs_and_registers() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-02"));
        let desk = who(&app, "xinfang").await;
        let street_b = org_id(&app, "学府街道").await;
        let b_worker = user_at(&app, "xf.b2", street_b, "petition_worker").await;
        let first = app.intake(&by(&desk), &draft("小区电梯长期停运", "13800000041")).await.unwrap();
        // The same petitioner at street B: street A's item is not offered as a duplicate there.
        let again = app.intake(&by(&b_worker), &draft("小区电梯长期停运", "13800000041")).await.unwrap();
        assert!(again.possible_duplicates.is_empty(), "{:?}", again.possible_duplicates);
        let same_desk = app.intake(&by(&desk), &draft("小区电梯长期停运", "13800000041")).await.unwrap();
        assert_eq!(same_desk.possible_duplicates.iter().map(|d| d.0).collect::<Vec<_>>(), vec![first.id]);

        // 期限监督: the enforcement officer reads org nodes but not petitions: no petition clock.
        let zhifa = who(&app, "zhifa").await;
        assert!(app.clocks(&zhifa, true).await.unwrap().iter().all(|c| c.row.record_type != "petition"));
        assert!(app.clocks(&desk, true).await.unwrap().iter().any(|c| c.row.record_type == "petition"));

        // Proofs are authorised like the record: the officer may read the street's org node but
        // not the item, the desk may.
        let entry = app.timeline(&desk, RecordKey::new(&PETITION, first.id)).await.unwrap().remove(0);
        let e = app.proof_for(&zhifa, entry.log_id, entry.seq).await;
        assert!(matches!(e, Err(AppError::Forbidden(_))), "{e:?}");
        assert!(app.proof_for(&desk, entry.log_id, entry.seq).await.is_ok());

        // Street-level registers: street B's desk cannot add a mediator to street A's committee;
        // a grid worker (本级及下级 of a community) sees none of the street's cases or receptions.
        let street_a = org_id(&app, "万兴街道").await;
        let committee = app.create_committee(&by(&desk), street_a, "万兴街道人民调解委员会").await.unwrap();
        let e = app.add_mediator(&by(&b_worker), committee, "陈调解", "13820000001").await;
        assert!(matches!(e, Err(AppError::Forbidden(_))), "{e:?}");
        app.add_mediator(&by(&desk), committee, "陈调解", "13820000001").await.unwrap();
        let wangge = who(&app, "wangge").await;
        assert!(app.committees(&wangge).await.unwrap().is_empty());
        assert!(app.committees(&b_worker).await.unwrap().is_empty());
        assert_eq!(app.committees(&desk).await.unwrap().len(), 1);
        assert!(app.mediations(&wangge, &Default::default()).await.unwrap().is_empty());
        assert!(wangge.has(PETITION_READ));
    }
}

#[tokio::test]
async fn concurrent_identical_steps_have_one_winner() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-02"));
        let app = Arc::new(app);
        let desk = who(&app, "xinfang").await;
        let item = app.intake(&by(&desk), &draft("停车位纠纷", "13800000051")).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (app, desk) = (app.clone(), desk.clone());
            tasks.push(tokio::spawn(async move {
                let b = By { who: &desk, username: "xinfang", source_addr: "" };
                app.petition_step(&b, item.id, Event::Accept { on: Day::from_text("2026-03-02").unwrap() }).await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(AppError::Invalid(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(ok, 1, "{:?}", db.engine());
        let clocks = app.clocks_of(&op(), RecordKey::new(&PETITION, item.id)).await.unwrap();
        assert_eq!(clocks.iter().filter(|c| c.clock.rule.id == "petition.handle").count(), 1);
        let entries = app.timeline(&op(), RecordKey::new(&PETITION, item.id)).await.unwrap();
        assert_eq!(entries.iter().filter(|e| e.action == "petition.accept").count(), 1);

        // Concurrent 督办 each count: the row is read for update, so no increment is lost.
        let zhuren = who(&app, "zhuren").await;
        let mut tasks = Vec::new();
        for n in 0..16 {
            let (app, zhuren) = (app.clone(), zhuren.clone());
            tasks.push(tokio::spawn(async move {
                let b = By { who: &zhuren, username: "zhuren", source_addr: "" };
                app.petition_step(&b, item.id, Event::Supervise { instruction: format!("第 {n} 次督办") }).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let (row, _) = app.petition(&desk, item.id).await.unwrap();
        assert_eq!(row.supervised_count, 16, "{:?}", db.engine());
        let entries = app.timeline(&op(), RecordKey::new(&PETITION, item.id)).await.unwrap();
        assert_eq!(entries.iter().filter(|e| e.action == "petition.supervise").count(), 16);
        let _ = UserId(0);
    }
}
