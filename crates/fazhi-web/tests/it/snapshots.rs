//! Snapshots of what users see (insta): the petition list, an item page, a mediation case
//! and the 信访处理意见书 print view, on both engines, for the desk worker of the demo. A
//! change to any of them shows up as a reviewable diff (`cargo insta review`). Values that
//! differ per run (CSRF tokens, tracking codes, ids of the engine's sequences) are redacted.

use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
use fazhi_domain::petition::{Event, Outcome};
use fazhi_domain::{Day, OrgId};
use fazhi_web::{AppState, WebSettings, app_router};

use super::{Client, setup};

/// The `<main>` of a page.
fn main_of(body: &str) -> String {
    let start = body.find("<main").unwrap_or(0);
    let end = body.find("</main>").map_or(body.len(), |i| i + 7);
    body[start..end].to_owned()
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r#"name="csrf" value="[^"]+""#, r#"name="csrf" value="[csrf]""#),
        (r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", "[tracking-code]"),
        (r"<code>[0-9A-Z]{12}</code>", "<code>[tracking-code]</code>"),
    ]
}

#[tokio::test]
async fn key_pages_as_users_see_them() {
    for db in fazhi_testkit::engines().await {
        let (_, clock, app) = setup(db.store.clone()).await;
        // 2026-03-20 10:00 Beijing.
        clock.set(1_773_972_000_000);
        let desk = app
            .principal(
                fazhi_store::users::get_by_username(&app.store.read, "xinfang").await.unwrap().unwrap().user_id(),
            )
            .await
            .unwrap();
        let by = By { who: &desk, username: "xinfang", source_addr: "" };
        let draft = IntakeDraft {
            channel: "visit".into(),
            category: "claim".into(),
            subject: "物业".into(),
            title: "小区地下室长期积水".into(),
            content: "万兴里小区 7 号楼地下室长期积水，物业多次推诿，请求街道协调处理".into(),
            received_on: "2026-03-02".into(),
            petitioners: vec![PetitionerDraft {
                name: "周桂英".into(),
                phone: "13912345678".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let item = app.intake(&by, &draft).await.unwrap();
        app.petition_step(&by, item.id, Event::Accept { on: Day::from_text("2026-03-03").unwrap() }).await.unwrap();
        let community = app.assign_targets(&desk).await.unwrap().into_iter().find(|n| n.name == "万兴里社区").unwrap();
        let assign = Event::Assign { to: OrgId(community.id), note: "请社区会同物业查明原因".into() };
        app.petition_step(&by, item.id, assign).await.unwrap();
        let reply = Event::Reply {
            outcome: Outcome::Support,
            legal_basis: "《物业管理条例》第三十五条".into(),
            text: "经社区会同物业查明，积水系排水泵损坏所致，物业已更换水泵并清理积水。".into(),
        };
        app.petition_step(&by, item.id, reply).await.unwrap();
        let street = app.government_id(desk.org_id).await.unwrap().unwrap();
        let committee = app.create_committee(&by, street, "万兴街道人民调解委员会").await.unwrap();
        app.add_mediator(&by, committee, "陈调解", "13820000001").await.unwrap();
        let case = fazhi_app::mediation::CaseDraft {
            committee_id: Some(committee),
            dispute_type: "邻里纠纷".into(),
            summary: "楼上住户夜间噪声影响楼下住户休息".into(),
            received_on: "2026-03-05".into(),
            parties: vec![
                fazhi_app::mediation::PartyDraft {
                    name: "赵淑珍".into(),
                    phone: String::new(),
                    side: "applicant".into(),
                },
                fazhi_app::mediation::PartyDraft {
                    name: "朱秀兰".into(),
                    phone: String::new(),
                    side: "respondent".into(),
                },
            ],
            ..Default::default()
        };
        let case_id = app.register_mediation(&by, &case).await.unwrap();

        let router = app_router(AppState::new(app.clone(), WebSettings { demo: true, ..Default::default() }));
        let mut c = Client::new(router);
        c.login("xinfang", fazhi_app::bootstrap::DEMO_PASSWORD).await;
        let pages = [
            ("petition_list", "/petitions".to_owned()),
            ("petition_item", format!("/petitions/{}", item.id)),
            ("petition_opinion", format!("/petitions/{}/opinion", item.id)),
            ("mediation_case", format!("/mediations/{case_id}")),
        ];
        for (name, path) in pages {
            let r = c.get(&path).await;
            assert_eq!(r.status, 200, "{path}");
            let html = main_of(&r.body)
                .replace(&format!("/petitions/{}", item.id), "/petitions/[id]")
                .replace(&format!("/mediations/{case_id}"), "/mediations/[id]");
            insta::with_settings!({ filters => filters(), snapshot_suffix => "" }, {
                insta::assert_snapshot!(name, html);
            });
        }
    }
}
