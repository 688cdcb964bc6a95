//! What `ledger verify` catches in the rows that belong to records — 转送/交办, the mediation
//! committee and its mediators and 调解工作记录, attachments — and in the security audit
//! trail, on both engines (issue 12). Helpers are in `reconcile.rs`.

use fazhi_app::App;
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_app::mediation::{CaseDraft, PartyDraft};
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
use fazhi_domain::Day;
use fazhi_domain::mediation::{DISPUTE_TYPES, MediationEvent};
use fazhi_domain::petition::Event;
use fazhi_store::blobs::BlobStore;

use super::reconcile::{by, exec, expect, said, scalar};
use super::{demo, org_id, who};

fn today() -> Day {
    Day::at(super::T0)
}

fn intake(title: &str) -> IntakeDraft {
    IntakeDraft {
        channel: "visit".into(),
        category: "claim".into(),
        subject: "物业".into(),
        title: title.into(),
        content: format!("{title}，物业长期不处理，请求街道协调解决"),
        received_on: today().to_string(),
        petitioners: vec![PetitionerDraft {
            name: "王秀兰".into(), phone: "13800000021".into(), ..Default::default()
        }],
        ..Default::default()
    }
}

/// A petition assigned to a community (one `petition_transfer` row); its id.
async fn assigned_petition(app: &App) -> i64 {
    let desk = who(app, "xinfang").await;
    let item = app.intake(&by(&desk), &intake("楼道堆物占用消防通道")).await.unwrap();
    app.petition_step(&by(&desk), item.id, Event::Accept { on: today() }).await.unwrap();
    let to = org_id(app, "万兴里社区").await;
    app.petition_step(&by(&desk), item.id, Event::Assign { to, note: "请社区核实".into() }).await.unwrap();
    item.id
}

/// A committee with a mediator and a case with one session: (committee, mediator, session).
async fn mediation(app: &App) -> (i64, i64, i64) {
    let desk = who(app, "xinfang").await;
    let street = org_id(app, "万兴街道").await;
    let committee = app.create_committee(&by(&desk), street, "万兴街道人民调解委员会").await.unwrap();
    let mediator = app.add_mediator(&by(&desk), committee, "陈调解", "13820000001").await.unwrap();
    let party = |name: &str, side: &str| PartyDraft { name: name.into(), phone: String::new(), side: side.into() };
    let d = CaseDraft {
        committee_id: Some(committee),
        mediator_id: Some(mediator),
        dispute_type: DISPUTE_TYPES[0].into(),
        summary: "楼上漏水导致楼下天花板损坏，协商不成".into(),
        parties: vec![party("张三", "applicant"), party("李四", "respondent")],
        ..Default::default()
    };
    let case = app.register_mediation(&by(&desk), &d).await.unwrap();
    app.mediation_step(&by(&desk), case, MediationEvent::Consent { on: today() }).await.unwrap();
    let session = MediationEvent::Session {
        held_on: today(),
        place: "司法所调解室".into(),
        record: "双方陈述事实，同意请物业出具漏水鉴定".into(),
        mediator_id: Some(mediator),
    };
    app.mediation_step(&by(&desk), case, session).await.unwrap();
    let session = scalar(app, format!("select id from mediation_session where case_id = {case}")).await;
    (committee, mediator, session)
}

fn png(seed: u8) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    v.extend((0..2_000).map(|i| (i % 251) as u8 ^ seed));
    v
}

/// Uploads a file to the street node as its admin; the attachment's id.
async fn upload(app: &App, name: &str, bytes: &[u8]) -> i64 {
    let admin = who(app, "admin").await;
    let street = org_id(app, "万兴街道").await.0;
    let mut up = app.begin_upload(&by(&admin), "org_node", &street.to_string()).await.unwrap();
    up.write(bytes).await.unwrap();
    app.finish_upload(&by(&admin), up, name).await.unwrap().id
}

/// Ordinary use of the records with child rows (for the clean-demo test).
pub(super) async fn ordinary_records(app: &App) {
    assigned_petition(app).await;
    mediation(app).await;
    upload(app, "现场.png", &png(1)).await;
}

#[tokio::test]
async fn transfers_and_assignments_edited_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let item = assigned_petition(&app).await;
        let row = scalar(&app, format!("select id from petition_transfer where petition_id = {item}")).await;
        let elsewhere = org_id(&app, "兴南社区").await.0;
        exec(&app, format!("update petition_transfer set to_org_id = {elsewhere}, reason = '另案' where id = {row}"))
            .await;
        exec(
            &app,
            format!(
                "insert into petition_transfer (petition_id, kind, from_org_id, to_org_id, reason, \
            created_by, created_at) select petition_id, 'transfer', from_org_id, to_org_id, '补录', created_by, \
            created_at from petition_transfer where id = {row}"
            ),
        )
        .await;
        let extra = scalar(&app, "select max(id) from petition_transfer").await;
        expect(
            &said(&app).await,
            &[
                &["转送交办记录（petition_transfer）", &format!(" {row} "), "reason、to_org_id"],
                &["转送交办记录（petition_transfer）", &format!(" {extra} "), "没有任何全过程记录"],
            ],
        );
        exec(&app, format!("delete from petition_transfer where id = {row}")).await;
        let now = said(&app).await;
        assert!(now.iter().any(|s| s.contains(&format!(" {row} ")) && s.contains("记录被直接删除")), "{now:#?}");
    }
}

#[tokio::test]
async fn the_committee_its_mediators_and_sessions_edited_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let (committee, mediator, session) = mediation(&app).await;
        assert!(said(&app).await.is_empty());
        exec(&app, format!("update mediation_committee set name = '另一调解委员会' where id = {committee}")).await;
        exec(&app, format!("update mediator set phone = '13999999999' where id = {mediator}")).await;
        exec(&app, format!("update mediation_session set record = '双方达成一致' where id = {session}")).await;
        exec(
            &app,
            format!(
                "insert into mediator (committee_id, name, phone, created_at) \
            values ({committee}, '挂名调解员', '', 0)"
            ),
        )
        .await;
        let ghost = scalar(&app, "select max(id) from mediator").await;
        expect(
            &said(&app).await,
            &[
                &["人民调解委员会", &format!(" {committee} "), "name"],
                &["调解员（mediator）", &format!(" {mediator} "), "phone"],
                &["调解员（mediator）", &format!(" {ghost} "), "没有任何全过程记录"],
                &["调解工作记录（mediation_session）", &format!(" {session} "), "record"],
            ],
        );
    }
}

#[tokio::test]
async fn an_attachment_repointed_or_deleted_is_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let app = app.with_blobs(BlobStore::memory(), 64 * 1024);
        let a = upload(&app, "现场.png", &png(1)).await;
        let b = upload(&app, "另一张.png", &png(2)).await;
        assert!(said(&app).await.is_empty());
        // Row a now serves b's file; row b is gone.
        exec(
            &app,
            format!(
                "update attachment set blob_hash = (select blob_hash from attachment where id = {b}) \
            where id = {a}"
            ),
        )
        .await;
        exec(&app, format!("delete from attachment where id = {b}")).await;
        expect(
            &said(&app).await,
            &[
                &["附件（attachment）", &format!(" {a} "), "blob_hash"],
                &["附件（attachment）", &format!(" {b} "), "记录被直接删除"],
            ],
        );
    }
}

#[tokio::test]
async fn audit_lines_edited_deleted_or_inserted_are_named() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        // The demo's own lines (its integration account and token) come first.
        let base = scalar(&app, "select count(*) from audit_event").await;
        let (two, three, four) = (base + 2, base + 3, base + 4);
        for i in 1..=4 {
            app.login("admin", DEMO_PASSWORD, &format!("10.0.0.{i}")).await.unwrap();
        }
        assert_eq!(app.anchor_audit().await.unwrap(), Some(four));
        assert!(said(&app).await.is_empty());

        // An edited line breaks its link.
        exec(&app, format!("update audit_event set source_addr = '10.9.9.9' where seq = {two}")).await;
        expect(&said(&app).await, &[&["audit_event", &format!("第 {two} 条"), "哈希链不符"]]);
        exec(&app, format!("update audit_event set source_addr = '10.0.0.2' where seq = {two}")).await;
        assert!(said(&app).await.is_empty());

        // The anchored end cut off, the head wound back to match: the anchor still counts it.
        exec(&app, format!("delete from audit_event where seq = {four}")).await;
        exec(
            &app,
            format!("update audit_head set seq = {three}, chain = (select chain from audit_event where seq = {three})"),
        )
        .await;
        expect(&said(&app).await, &[&["audit_event", &format!("第 {four} 条不存在")]]);

        // A line in the middle deleted, and one inserted without a place in the chain.
        exec(&app, format!("delete from audit_event where seq = {two}")).await;
        exec(
            &app,
            "insert into audit_event (at, kind, username, source_addr, detail) \
            values (0, 'login', 'admin', '10.0.0.9', '')",
        )
        .await;
        let inserted = scalar(&app, "select max(id) from audit_event").await;
        expect(
            &said(&app).await,
            &[
                &["audit_event", &format!("第 {four} 条不存在")],
                &["audit_event", &format!("第 {two} 条不存在")],
                &["audit_event", &format!("id {inserted} "), "不在哈希链中"],
            ],
        );
    }
}
