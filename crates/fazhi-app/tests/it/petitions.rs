//! Petitions on both engines: intake with validation, warnings and duplicate offers; the
//! handling steps with their clocks and refusals; the public status by tracking code.

use chrono::NaiveDate;
use fazhi_app::AppError;
use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
use fazhi_domain::petition::Event as Action;
use fazhi_domain::petition::Outcome;

use super::{demo, org_id, who};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(d: &str) -> i64 {
    date(d).and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn draft(org: i64) -> IntakeDraft {
    IntakeDraft {
        channel: "visit".into(),
        category: "claim".into(),
        subject: "物业".into(),
        title: "小区消防通道被电动自行车占用".into(),
        content: "万兴里小区消防通道长期被电动自行车占用，物业不清理，请求处理".into(),
        headcount: Some(1),
        received_on: "2026-09-21".into(),
        org_id: Some(org),
        petitioners: vec![PetitionerDraft {
            name: "张三".into(),
            phone: "13800000000".into(),
            id_number: "11010519491231002X".into(),
            address: "万兴里 3 号楼".into(),
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn intake_validates_warns_and_offers_duplicates() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-09-21"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let office = org_id(&app, "信访办").await.0;

        let bad = IntakeDraft {
            channel: "hotline12345".into(),
            petitioners: vec![PetitionerDraft {
                name: "李四".into(),
                phone: "123".into(),
                id_number: "110105194912310021".into(),
                ..Default::default()
            }],
            received_on: "2099-01-01".into(),
            ..Default::default()
        };
        let AppError::Invalid(e) = app.intake(&by, &bad).await.unwrap_err() else { panic!() };
        for f in ["category", "external_no", "title", "content", "phone", "id_number", "received_on"] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        assert!(e.get("id_number").unwrap().contains("校验位"));

        let first = app.intake(&by, &draft(office)).await.unwrap();
        assert!(first.possible_duplicates.is_empty());
        assert_eq!(first.tracking_code.len(), 14);
        let mut collective = draft(office);
        collective.headcount = Some(8);
        collective.title = "小区消防通道被电动自行车堵塞".into();
        let second = app.intake(&by, &collective).await.unwrap();
        assert_eq!(second.possible_duplicates.len(), 1, "same petitioner, similar request");
        assert!(second.warnings[0].contains("第二十条"), "{:?}", second.warnings);

        // The 15-day notice clock runs from receipt (第二十三条).
        let (_, clocks) = app.petition(&worker, first.id).await.unwrap();
        assert_eq!(clocks[0].clock.rule.id, "petition.notify_direct");
        assert_eq!(clocks[0].row.due_date.as_deref(), Some("2026-10-06"));

        // Another street's desk cannot open it; the public status shows nothing personal.
        let e = app.petition(&who(&app, "wangge").await, first.id).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
        let s = app.track(&first.tracking_code.to_lowercase()).await.unwrap();
        assert_eq!(s.state, "已登记");
        assert!(s.reply.is_none());
        let wrong = app.track("ABCD-EFGH-JKMN").await.unwrap_err().to_string();
        let garbage = app.track("!!").await.unwrap_err().to_string();
        assert_eq!(wrong, garbage, "a bad code and an unknown code read the same");
    }
}

#[tokio::test]
async fn the_handling_steps_follow_the_rules() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-09-21"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let office = org_id(&app, "信访办").await.0;
        let item = app.intake(&by, &draft(office)).await.unwrap();
        let id = item.id;

        clock.set(at("2026-09-22"));
        app.petition_step(&by, id, Action::Accept { on: fazhi_domain::Day(date("2026-09-22")) }).await.unwrap();
        let (_, clocks) = app.petition(&worker, id).await.unwrap();
        let handle = clocks.iter().find(|c| c.clock.rule.id == "petition.handle").unwrap();
        assert_eq!(handle.row.due_date.as_deref(), Some("2026-11-21"), "60 days from 受理");
        assert!(clocks.iter().any(|c| c.clock.rule.id == "petition.notify_direct" && c.row.closed));

        let community = org_id(&app, "万兴里社区").await.0;
        let assign = Action::Assign { to: fazhi_domain::OrgId(community), note: "请社区核实".into() };
        app.petition_step(&by, id, assign).await.unwrap();
        let refuse = |e: AppError| match e {
            AppError::Invalid(f) => f.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("；"),
            other => panic!("{other:?}"),
        };
        assert!(refuse(app.petition_step(&by, id, Action::Close).await.unwrap_err()).contains("送达"));
        let long = Action::Extend { days: 45, approved: true, reason: "情况复杂".into() };
        assert!(refuse(app.petition_step(&by, id, long).await.unwrap_err()).contains("30 日"));
        let unapproved = Action::Extend { days: 20, approved: false, reason: "情况复杂".into() };
        assert!(refuse(app.petition_step(&by, id, unapproved).await.unwrap_err()).contains("批准"));
        app.petition_step(&by, id, Action::Extend { days: 20, approved: true, reason: "需现场核查".into() })
            .await
            .unwrap();
        let (_, clocks) = app.petition(&worker, id).await.unwrap();
        let handle = clocks.iter().find(|c| c.clock.rule.id == "petition.handle").unwrap();
        assert_eq!(handle.row.due_date.as_deref(), Some("2026-12-11"), "60 + 20 days");

        let reply = Action::Reply {
            outcome: Outcome::Support,
            legal_basis: "《物业管理条例》".into(),
            text: "已责成物业清理".into(),
        };
        app.petition_step(&by, id, reply).await.unwrap();
        clock.set(at("2026-10-12"));
        app.petition_step(&by, id, Action::Serve { on: fazhi_domain::Day(date("2026-10-10")) }).await.unwrap();
        app.petition_step(&by, id, Action::Close).await.unwrap();
        let (row, clocks) = app.petition(&worker, id).await.unwrap();
        assert_eq!(row.state.code(), "closed");
        assert!(
            clocks.iter().all(|c| c.row.closed || c.clock.rule.id == "petition.review_request"),
            "every clock of the agency ended; the petitioner's 30-day 复查 window runs (第三十五条)"
        );
        assert_eq!(clocks.iter().find(|c| c.clock.rule.id == "petition.handle").unwrap().row.state, "met");
        let s = app.track(&item.tracking_code).await.unwrap();
        assert_eq!(s.state, "已办结");
        assert!(s.reply.unwrap().contains("已责成物业清理"));
        let actions: Vec<String> = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("petition", &id.to_string()).unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "petition.register",
            "petition.accept",
            "petition.extend",
            "petition.reply",
            "petition.serve",
            "petition.close",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
        // A 区级督查 reads it; the 执法人员 does not.
        assert!(app.petition(&who(&app, "ducha").await, id).await.is_ok());
        assert!(app.petition(&who(&app, "zhifa").await, id).await.is_err());
    }
}

#[tokio::test]
async fn demo_petitions_cover_every_state() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-11-27"));
        assert_eq!(app.seed_demo_petitions(48).await.unwrap(), 49, "48 and a merged duplicate");
        let worker = who(&app, "xinfang").await;
        let rows = app
            .petitions(&worker, &fazhi_store::petitions::PetitionQuery { limit: 500, ..Default::default() })
            .await
            .unwrap();
        let count = |s: &str| rows.iter().filter(|r| r.state.code() == s).count();
        assert!(count("closed") > 30, "most are closed");
        assert!(count("registered") >= 1 && count("handling") >= 1, "some still open");
        assert!(count("merged") == 1 && count("not_accepted") >= 1, "a merged duplicate, a refusal");
        assert!(rows.iter().any(|r| r.extended_days == 30), "some extended");
        let red = app.clocks(&worker, true).await.unwrap().into_iter().filter(|c| c.row.card == "red").count();
        assert!(red >= 1, "a few overdue");
        let zhuren = who(&app, "zhuren").await;
        assert!(app.unread(zhuren.user_id).await.unwrap() >= 1, "leaders are told");
    }
}

/// The bulk path of the benchmark generator: several use cases in ONE transaction, each
/// reading what the previous ones wrote; a refusal and a rollback leave nothing behind.
#[tokio::test]
async fn use_cases_compose_in_one_transaction() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-10-20"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let office = org_id(&app, "信访办").await.0;
        let before = app.count_petitions(&worker, &Default::default()).await.unwrap();

        let mut tx = app.begin(&by).await.unwrap();
        let item = app.intake_within(&mut tx, &draft(office)).await.unwrap();
        app.petition_step_in(&mut tx, item.id, Action::Accept { on: fazhi_domain::Day(date("2026-09-22")) })
            .await
            .unwrap();
        let reply = Action::Reply {
            outcome: Outcome::Support,
            legal_basis: "《信访工作条例》第三十二条".into(),
            text: "已责成物业清理消防通道。".into(),
        };
        app.petition_step_in(&mut tx, item.id, reply).await.unwrap();
        // The domain still refuses inside the batch: closing before service is not allowed.
        let refused = app.petition_step_in(&mut tx, item.id, Action::Close).await;
        assert!(matches!(refused, Err(AppError::Invalid(_))), "{refused:?}");
        app.petition_step_in(&mut tx, item.id, Action::Serve { on: fazhi_domain::Day(date("2026-10-10")) })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (row, clocks) = app.petition(&worker, item.id).await.unwrap();
        assert_eq!(row.state.code(), "served");
        assert!(clocks.iter().any(|c| c.clock.rule.id == "petition.handle" && c.row.closed), "handling clock done");
        let timeline = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("petition", &item.id.to_string()).unwrap())
            .await
            .unwrap();
        let actions: Vec<&str> = timeline.iter().map(|e| e.action.as_str()).collect();
        for a in ["petition.register", "petition.accept", "petition.reply", "petition.serve"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }

        // A batch that is not committed leaves no item, entry or clock.
        let mut tx = app.begin(&by).await.unwrap();
        let gone = app.intake_within(&mut tx, &draft(office)).await.unwrap();
        app.petition_step_in(&mut tx, gone.id, Action::Accept { on: fazhi_domain::Day(date("2026-09-22")) })
            .await
            .unwrap();
        drop(tx);
        assert!(app.petition(&worker, gone.id).await.is_err());
        let key = fazhi_domain::record::RecordKey::parse("petition", &gone.id.to_string()).unwrap();
        assert!(matches!(app.timeline(&super::op(), key).await, Err(AppError::NotFound(_))), "no such item");
        assert_eq!(app.count_petitions(&worker, &Default::default()).await.unwrap(), before + 1);
    }
}

/// The portal's hourly limit per address is atomic: twelve submissions racing from one
/// address register exactly [`fazhi_app::petitions::PORTAL_SUBMISSIONS_PER_HOUR`] items,
/// and another address is not affected.
#[tokio::test]
async fn the_portal_limit_holds_under_concurrent_submissions() {
    use fazhi_app::petitions::PORTAL_SUBMISSIONS_PER_HOUR;
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-10-20"));
        let street = app.portal_streets().await.unwrap()[0].0;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..12 {
            let app = app.clone();
            set.spawn(async move {
                let d = IntakeDraft {
                    category: "claim".into(),
                    title: format!("路灯不亮{i}"),
                    content: "小区门口路灯损坏一周，夜间出行不便".into(),
                    org_id: Some(street),
                    petitioners: vec![PetitionerDraft { name: "王五".into(), ..Default::default() }],
                    ..Default::default()
                };
                app.portal_submit(&d, "203.0.113.7").await
            });
        }
        let (mut ok, mut refused) = (0, 0);
        while let Some(r) = set.join_next().await {
            match r.unwrap() {
                Ok(_) => ok += 1,
                Err(AppError::Refused(m)) => {
                    assert!(m.contains("提交过于频繁"), "{m}");
                    refused += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(
            (ok, refused),
            (PORTAL_SUBMISSIONS_PER_HOUR, 12 - PORTAL_SUBMISSIONS_PER_HOUR),
            "{:?}",
            db.store.engine()
        );
        let d = IntakeDraft {
            category: "claim".into(),
            title: "井盖缺失".into(),
            content: "路口井盖缺失".into(),
            org_id: Some(street),
            petitioners: vec![PetitionerDraft { name: "赵六".into(), ..Default::default() }],
            ..Default::default()
        };
        app.portal_submit(&d, "203.0.113.8").await.unwrap();
    }
}
