//! Refused step forms come back as they were typed (issue 14): open, with every value, and
//! the errors on the sent form's own fields only.

use axum::http::StatusCode;
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_app::mediation::{CaseDraft, PartyDraft};
use fazhi_app::org::By;
use fazhi_domain::mediation::MediationEvent;

use super::*;

#[tokio::test]
async fn a_refused_agreement_keeps_every_typed_value() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let desk = app
            .principal(
                fazhi_store::users::get_by_username(&app.store.read, "xinfang").await.unwrap().unwrap().user_id(),
            )
            .await
            .unwrap();
        let by = By { who: &desk, username: "xinfang", source_addr: "" };
        let street = app.government_id(desk.org_id).await.unwrap().unwrap();
        let committee = app.create_committee(&by, street, "万兴街道人民调解委员会").await.unwrap();
        app.add_mediator(&by, committee, "陈调解", "13820000001").await.unwrap();
        let party = |name: &str, side: &str| PartyDraft { name: name.into(), phone: String::new(), side: side.into() };
        let case = CaseDraft {
            committee_id: Some(committee),
            dispute_type: "邻里纠纷".into(),
            summary: "楼上住户夜间噪声影响楼下住户休息".into(),
            received_on: "2026-05-20".into(),
            parties: vec![party("赵淑珍", "applicant"), party("朱秀兰", "respondent")],
            ..Default::default()
        };
        let id = app.register_mediation(&by, &case).await.unwrap();
        app.mediation_step(
            &by,
            id,
            MediationEvent::Consent { on: fazhi_domain::Day::from_text("2026-05-21").unwrap() },
        )
        .await
        .unwrap();

        let mut c = Client::new(router);
        c.login("xinfang", DEMO_PASSWORD).await;
        let page = c.get(&format!("/mediations/{id}")).await;
        let csrf = Client::csrf_of(&page.body);
        let r = c
            .post(
                &format!("/mediations/{id}/step"),
                &[
                    ("csrf", csrf.as_str()),
                    ("action", "agree"),
                    ("form", "written"),
                    ("date", "2026-05-25"),
                    ("facts", "双方就夜间噪声问题达成一致"),
                    ("terms", "楼上住户晚十点后不再使用洗衣机"),
                    ("manner", "自行履行"),
                    ("perform_by", "2026-13-40"),
                    ("parties_signed", "yes"),
                ],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let b = &r.body;
        assert!(b.contains("<details open><summary>达成调解协议"), "the sent form comes back open");
        for typed in [
            "双方就夜间噪声问题达成一致",
            "楼上住户晚十点后不再使用洗衣机",
            "value=\"自行履行\"",
            "value=\"2026-13-40\"",
        ] {
            assert!(b.contains(typed), "{typed} kept");
        }
        assert!(b.contains("value=\"written\" selected"), "the chosen form kept");
        assert!(b.contains("name=\"parties_signed\" value=\"yes\" checked"), "the ticked box kept");
        assert!(!b.contains("name=\"mediator_signed\" value=\"yes\" checked"));
        assert_eq!(b.matches("履行期限应为 YYYY-MM-DD").count(), 2, "in the summary and under its own field only");
    }
}
