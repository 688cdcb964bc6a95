//! Petition handling beyond the happy path, mediation, receptions and indicators, on both
//! engines: transfer and objection with their clocks, assignment visible to the community,
//! supervision and 包案 by leaders only, merge, 回访, 复查 linked to its item and its window,
//! the opinion document, bulk import all-or-nothing, and indicators that match their items.

use chrono::NaiveDate;
use fazhi_app::AppError;
use fazhi_app::mediation::{CaseDraft, PartyDraft};
use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft, ReviewDraft};
use fazhi_app::receptions::{DayDraft, ReceptionDraft};
use fazhi_domain::mediation::MediationEvent as CaseAction;
use fazhi_domain::mediation::{Agreement, AgreementForm};
use fazhi_domain::petition::Event as Action;
use fazhi_domain::petition::{Outcome, Satisfaction};
use fazhi_store::petitions::PetitionQuery;

use super::{demo, org_id, who};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(d: &str) -> i64 {
    date(d).and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
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

fn field(e: AppError, f: &str) -> String {
    match e {
        AppError::Invalid(errs) => errs.get(f).unwrap_or_else(|| panic!("no {f} in {errs:?}")).to_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transfer_objection_assignment_supervision_and_merge() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-02"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let other = org_id(&app, "学府街道").await.0;
        let item = app.intake(&by, &draft("电梯停运", "13800000001")).await.unwrap();

        // 转送 needs a reason; the receiver gets the 15-day notice and 5-working-day objection clocks.
        let no_reason = app
            .petition_step(&by, item.id, Action::Transfer { to: fazhi_domain::OrgId(other), reason: " ".into() })
            .await;
        assert!(field(no_reason.unwrap_err(), "reason").contains("理由"));
        let (row, _) = app.petition(&worker, item.id).await.unwrap();
        assert_eq!(row.org_id, org_id(&app, "信访办").await.0, "a refused step changes nothing");
        let reason = "事项发生在学府街道辖区".to_owned();
        app.petition_step(&by, item.id, Action::Transfer { to: fazhi_domain::OrgId(other), reason }).await.unwrap();
        assert!(app.petition(&worker, item.id).await.is_err(), "the item left the office's scope");
        let admin = who(&app, "ducha").await;
        let (row, clocks) = app.petition(&admin, item.id).await.unwrap();
        assert_eq!(row.org_id, other);
        let objection = clocks.iter().find(|c| c.clock.rule.id == "petition.objection").unwrap();
        // 2026-03-02 (Mon) + 5 working days = 2026-03-09.
        assert_eq!(objection.row.due_date.as_deref(), Some("2026-03-09"));
        assert!(clocks.iter().any(|c| c.clock.rule.id == "petition.notify_direct" && c.row.closed));
        assert!(clocks.iter().any(|c| c.clock.rule.id == "petition.notify_assigned" && !c.row.closed));
        let (transfers, _, _) = app.petition_links(&admin, &row).await.unwrap();
        assert_eq!(transfers.len(), 1);
        assert_eq!(transfers[0].kind, "transfer");

        // The receiver objects: the item goes back, clocks of the transfer end.
        let by_admin = By { who: &admin, username: "ducha", source_addr: "" };
        let back = Action::Objection { reason: "不属本街道职权".into() };
        let e = app.petition_step(&by_admin, item.id, back).await;
        // The inspector only reads: the policy refuses.
        assert!(matches!(e, Err(AppError::Forbidden(_))), "{e:?}");

        // Assignment to a community makes the item visible to the community worker.
        let second = app.intake(&by, &draft("楼道堆物", "13800000002")).await.unwrap();
        app.petition_step(&by, second.id, Action::Accept { on: fazhi_domain::Day(date("2026-03-02")) }).await.unwrap();
        let wangge = who(&app, "wangge").await;
        assert!(app.petition(&wangge, second.id).await.is_err(), "not yet assigned to the community");
        let community = org_id(&app, "万兴里社区").await.0;
        let outside = app
            .petition_step(&by, second.id, Action::Assign { to: fazhi_domain::OrgId(other), note: "请办理".into() })
            .await;
        assert!(field(outside.unwrap_err(), "target").contains("交办"));
        app.petition_step(
            &by,
            second.id,
            Action::Assign { to: fazhi_domain::OrgId(community), note: "请社区核实".into() },
        )
        .await
        .unwrap();
        assert!(app.petition(&wangge, second.id).await.is_ok(), "assigned: the community sees it");
        let listed = app.petitions(&wangge, &PetitionQuery { limit: 50, ..Default::default() }).await.unwrap();
        assert!(listed.iter().any(|r| r.id == second.id), "and lists it (same policy in SQL)");

        // 督办 and 包案 belong to leaders.
        let sup = Action::Supervise { instruction: "本周内答复".into() };
        assert!(matches!(app.petition_step(&by, second.id, sup.clone()).await, Err(AppError::Forbidden(_))));
        let fenguan = who(&app, "fenguan").await;
        let by_leader = By { who: &fenguan, username: "fenguan", source_addr: "" };
        app.petition_step(&by_leader, second.id, sup).await.unwrap();
        app.petition_step(&by_leader, second.id, Action::Lead { user: fenguan.user_id }).await.unwrap();
        let (row, _) = app.petition(&worker, second.id).await.unwrap();
        assert_eq!((row.supervised_count, row.lead_user_id), (1, Some(fenguan.user_id.0)));
        let q = PetitionQuery { lead: Some(Some(fenguan.user_id.0)), limit: 50, ..Default::default() };
        assert_eq!(app.petitions(&worker, &q).await.unwrap().len(), 1, "包案 filter");
        assert!(app.unread(worker.user_id).await.unwrap() >= 1, "the desk is told of the supervision");

        // A duplicate is merged into the earlier item.
        let dup = app.intake(&by, &draft("楼道堆物", "13800000002")).await.unwrap();
        assert!(dup.possible_duplicates.iter().any(|(id, _)| *id == second.id), "offered as a merge");
        app.petition_step(&by, dup.id, Action::Merge { into: second.id }).await.unwrap();
        let (row, clocks) = app.petition(&worker, dup.id).await.unwrap();
        assert_eq!((row.state.code(), row.duplicate_of), ("merged", Some(second.id)));
        assert!(clocks.iter().all(|c| c.row.closed));

        // Dates in the future are refused.
        let e = app
            .petition_step(&by, second.id, Action::Serve { on: fazhi_domain::Day(date("2026-04-01")) })
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)));
    }
}

async fn answered(app: &fazhi_app::App, by: &By<'_>, title: &str, served: &str) -> i64 {
    let id = app.intake(by, &draft(title, "13800000009")).await.unwrap().id;
    app.petition_step(by, id, Action::Accept { on: fazhi_domain::Day(date("2026-03-03")) }).await.unwrap();
    let reply =
        Action::Reply {
            outcome: Outcome::Explain, legal_basis: "《物业管理条例》".into(), text: "已说明".into()
        };
    app.petition_step(by, id, reply).await.unwrap();
    app.petition_step(by, id, Action::Serve { on: fazhi_domain::Day(date(served)) }).await.unwrap();
    id
}

#[tokio::test]
async fn review_rounds_visits_and_the_opinion_document() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-04-20"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let id = answered(&app, &by, "电梯停运", "2026-03-20").await;
        app.petition_step(&by, id, Action::Close).await.unwrap();
        let visit = Action::Visit {
            on: fazhi_domain::Day(date("2026-03-27")),
            satisfaction: Satisfaction::Unsatisfied,
            note: "".into(),
        };
        app.petition_step(&by, id, visit).await.unwrap();

        // Too late: 30 days after service (第三十五条).
        let late =
            ReviewDraft { received_on: "2026-04-20".into(), content: "不服处理意见，请求复查".into() };
        assert!(field(app.request_review(&by, id, &late).await.unwrap_err(), "received_on").contains("30 日"));
        let ok = ReviewDraft { received_on: "2026-04-19".into(), content: "不服处理意见，请求复查".into() };
        let review = app.request_review(&by, id, &ok).await.unwrap();
        // The clerk, who may not read the round at the district, is told who handles it and
        // its code for the petitioner, on the answered item.
        assert!(app.petition(&worker, review.id).await.is_err(), "the round is outside the street's scope");
        let receipt = app.review_receipt(&worker, id, review.id).await.unwrap();
        assert_eq!(
            (receipt.stage, receipt.body.as_str(), receipt.tracking_code.as_str()),
            ("复查", "南开区（演示）", review.tracking_code.as_str())
        );
        assert!(matches!(app.review_receipt(&worker, id, id).await, Err(AppError::NotFound(_))), "not a round of it");
        let admin = who(&app, "ducha").await;
        let (child, clocks) = app.petition(&admin, review.id).await.unwrap();
        assert_eq!((child.parent_id, child.stage.code(), child.state.code()), (Some(id), "review", "accepted"));
        assert_eq!(child.org_id, org_id(&app, "南开区（演示）").await.0, "answered by the body above the street");
        let due = clocks.iter().find(|c| c.clock.rule.id == "petition.review").unwrap();
        assert_eq!(due.row.due_date.as_deref(), Some("2026-05-19"), "30 days from receipt");
        let (_, parent_clocks) = app.petition(&worker, id).await.unwrap();
        assert!(parent_clocks.iter().all(|c| c.row.closed), "the request window closed when the request came");

        // The opinion document of the first round.
        let doc = app.petition_opinion(&worker, id).await.unwrap();
        assert_eq!(doc.title, "信访处理意见书");
        assert!(doc.paragraphs().iter().any(|(_, t)| t.contains("请求复查")), "tells the petitioner the next step");
        assert!(!doc.reference.is_empty(), "carries its ledger reference");
        assert!(doc.to_docx().unwrap().starts_with(b"PK"));
        // Signed with the street's full official name (the demo sets it), dates in Chinese.
        assert_eq!(doc.signer, "天津市南开区人民政府万兴街道办事处");
        assert!(doc.paragraphs().iter().any(|(_, t)| t.contains("向天津市南开区人民政府请求复查")));
        assert!(doc.paragraphs().iter().all(|(_, t)| !t.contains("2026-")), "no ISO date in the body");

        let (child, _) = app.petition(&admin, review.id).await.unwrap();
        assert_eq!(child.stage.code(), "review");
    }
}

#[tokio::test]
async fn mediation_from_consent_to_performance_with_the_confirmation_clock() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-05-20"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let street = org_id(&app, "万兴街道").await;
        let committee = app.create_committee(&by, street, "万兴街道人民调解委员会").await.unwrap();
        let mediator = app.add_mediator(&by, committee, "陈调解", "13820000001").await.unwrap();
        assert!(matches!(app.add_mediator(&by, committee, "林", "123").await, Err(AppError::Invalid(_))));
        let one_party = CaseDraft {
            committee_id: Some(committee),
            dispute_type: "邻里纠纷".into(),
            summary: "楼上漏水致楼下受损".into(),
            parties: vec![PartyDraft { name: "甲".into(), ..Default::default() }],
            ..Default::default()
        };
        assert!(field(app.register_mediation(&by, &one_party).await.unwrap_err(), "parties").contains("两方"));
        let d = CaseDraft {
            parties: vec![
                PartyDraft { name: "张某".into(), side: "applicant".into(), ..Default::default() },
                PartyDraft { name: "李某".into(), side: "respondent".into(), ..Default::default() },
            ],
            mediator_id: Some(mediator),
            received_on: "2026-05-01".into(),
            ..one_party
        };
        let id = app.register_mediation(&by, &d).await.unwrap();
        let session = CaseAction::Session {
            held_on: fazhi_domain::Day(date("2026-05-03")),
            place: "调解室".into(),
            record: "听取双方陈述".into(),
            mediator_id: Some(mediator),
        };
        assert!(
            field(app.mediation_step(&by, id, session.clone()).await.unwrap_err(), "action").contains("待双方同意")
        );
        app.mediation_step(&by, id, CaseAction::Consent { on: fazhi_domain::Day(date("2026-05-02")) }).await.unwrap();
        app.mediation_step(&by, id, session).await.unwrap();
        let unsealed = Agreement {
            form: AgreementForm::Written,
            facts: "漏水致损".into(),
            terms: "赔偿三千元".into(),
            manner: "现金支付".into(),
            perform_by: date("2026-05-20"),
            signed_on: date("2026-05-05"),
            parties_signed: true,
            mediator_signed: true,
            sealed: false,
        };
        let e = app.mediation_step(&by, id, CaseAction::Agree(unsealed.clone())).await.unwrap_err();
        assert!(field(e, "signed").contains("第二十九条"));
        app.mediation_step(&by, id, CaseAction::Agree(Agreement { sealed: true, ..unsealed })).await.unwrap();
        let v = app.mediation(&worker, id).await.unwrap();
        let c = v.clocks.iter().find(|c| c.clock.rule.id == "mediation.judicial_confirmation").unwrap();
        assert_eq!(c.row.due_date.as_deref(), Some("2026-06-04"), "30 days from the agreement (第三十三条)");
        app.mediation_step(&by, id, CaseAction::ConfirmationApplied { on: fazhi_domain::Day(date("2026-05-15")) })
            .await
            .unwrap();
        let perf = CaseAction::Performance {
            on: fazhi_domain::Day(date("2026-05-20")),
            performed: true,
            note: "已履行".into(),
        };
        app.mediation_step(&by, id, perf).await.unwrap();
        let v = app.mediation(&worker, id).await.unwrap();
        assert_eq!(v.case.state.code(), "performed");
        assert!(v.clocks.iter().all(|c| c.row.closed && c.row.state == "met"));
        // Not the enforcement officer's business.
        assert!(app.mediation(&who(&app, "zhifa").await, id).await.is_err());
    }
}

#[tokio::test]
async fn receptions_register_items_and_indicators_match_their_items() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-11-27"));
        assert!(app.seed_demo_petitions(60).await.unwrap() >= 60);
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let zhuren = who(&app, "zhuren").await;
        let leaders = app.reception_leaders(&worker).await.unwrap();
        assert!(leaders.iter().any(|(id, _)| *id == zhuren.user_id.0));
        let bad = DayDraft { leader_user_id: Some(worker.user_id.0), day: "2026-12-02".into(), ..Default::default() };
        assert!(field(app.schedule_reception(&by, &bad).await.unwrap_err(), "leader_user_id").contains("领导"));
        let r = ReceptionDraft {
            leader_user_id: Some(zhuren.user_id.0),
            received_on: "2026-11-25".into(),
            visitors: "赵德明".into(),
            headcount: Some(1),
            matter: "反映小区供暖温度不达标".into(),
            instruction: "请信访办核实处理".into(),
            register: true,
            ..Default::default()
        };
        let rid = app.record_reception(&by, &r).await.unwrap();
        let list = app.receptions(&worker, "2026-01-01", "2026-12-31", None).await.unwrap();
        let rec = list.iter().find(|x| x.id == rid).unwrap();
        let pid = rec.petition_id.expect("a petition item was registered from the reception");
        assert_eq!(app.petition(&worker, pid).await.unwrap().0.channel.code(), "visit");
        assert!(!app.public_reception_days().await.unwrap().is_empty(), "the schedule is public");

        let ind = app.petition_indicators(&worker, 2026).await.unwrap();
        let get = |code: &str| ind.items.iter().find(|i| i.code == code).unwrap().clone();
        let all = app.petitions(&worker, &PetitionQuery { limit: 500, ..Default::default() }).await.unwrap();
        let received = get("received");
        let expected: Vec<i64> = all
            .iter()
            .filter(|p| p.stage.code() == "first" && p.received_on.starts_with("2026"))
            .map(|p| p.id)
            .collect();
        let mut got = received.ids.clone();
        got.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(got, want, "收到 counts exactly the items it lists");
        let closed = get("closed");
        assert!(closed.ids.iter().all(|id| all.iter().any(|p| p.id == *id && p.state.code() == "closed")));
        for code in ["notice_in_time", "closed_in_time", "satisfaction", "mediation_success", "agreement_performed"] {
            let i = get(code);
            assert_eq!(i.denominator, Some(i.ids.len() + i.others.len()), "{code}");
            assert!(i.denominator.unwrap() > 0, "{code} has items behind it in the demo");
        }
        assert!(!get("closed_in_time").others.is_empty(), "the demo has late items");
        assert!(get("receptions").numerator >= 10);
        assert!(get("collective").numerator >= 1);
        assert!(!ind.per_leader.is_empty());
    }
}

#[tokio::test]
async fn bulk_import_is_all_or_nothing() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-03-02"));
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let pushed = |no: &str| IntakeDraft {
            channel: "platform".into(),
            external_no: no.into(),
            ..draft("平台推送：小区路灯损坏", "13800000003")
        };
        let mut rows = vec![pushed("XF-1"), pushed("XF-2"), pushed(""), pushed("XF-4")];
        rows[3].petitioners[0].phone = "12345".into();
        let e = app.import_petitions(&by, &rows).await.unwrap_err();
        let AppError::Invalid(errs) = e else { panic!() };
        let text: Vec<String> = errs.0.iter().map(|e| e.message.clone()).collect();
        assert!(
            text.iter().any(|m| m.starts_with("第 3 行")) && text.iter().any(|m| m.starts_with("第 4 行")),
            "{text:?}"
        );
        let none = app.petitions(&worker, &PetitionQuery { limit: 50, ..Default::default() }).await.unwrap();
        assert!(none.is_empty(), "nothing imported");
        let ok = app.import_petitions(&by, &[pushed("XF-1"), pushed("XF-2")]).await.unwrap();
        assert_eq!(ok.len(), 2);
        let (_, clocks) = app.petition(&worker, ok[0].id).await.unwrap();
        assert_eq!(clocks.len(), 1, "each imported item has its notice clock");
        // The same source number typed another way (full width, lower case, spaces) is the
        // same source record: a retry finds its item.
        for typed in ["ＸＦ－１", " xf-1 ", "XF- 1"] {
            let again = app.import_petitions(&by, &[pushed(typed)]).await.unwrap();
            assert!(again[0].existing && again[0].id == ok[0].id, "{typed:?}");
        }
    }
}
