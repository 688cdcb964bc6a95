//! Kernel conformance, on both engines: for every kind with holders, the SQL side (list,
//! count, search) returns exactly what THE policy (`authorize`) allows, for every demo role
//! and a second street's desk, on a demo year with transfers, assignments, 包案 and a
//! community moved to another street; and a record's holders read from SQL are the holders
//! its `Record` impl declares.

use std::collections::BTreeSet;

use fazhi_app::ctx::Record;
use fazhi_app::org::By;
use fazhi_domain::access::{Decision, PETITION_READ, Principal, authorize};
use fazhi_domain::record::{MEDIATION, PETITION, RecordKey};
use fazhi_domain::user::UserDraft;
use fazhi_store::petitions::PetitionQuery;

use super::{demo, op, org_id, who};

const ROLES: [&str; 13] = [
    "admin",
    "anquan",
    "shenji",
    "sysadmin",
    "zhuren",
    "fenguan",
    "shenhe",
    "zhifa",
    "xinfang",
    "wangge",
    "guwen",
    "ducha",
    "duijie12345",
];

async fn principals(app: &fazhi_app::App) -> Vec<(String, Principal)> {
    let mut out = Vec::new();
    for r in ROLES {
        out.push((r.to_owned(), who(app, r).await));
    }
    // A second street's petition desk.
    let operator = op();
    let by = By { who: &operator, username: "system", source_addr: "" };
    let role = app.list_roles(&operator).await.unwrap().into_iter().find(|r| r.code == "petition_worker").unwrap();
    let street_b = org_id(app, "学府街道").await;
    let d = UserDraft {
        username: "xf.b".into(),
        display_name: "学府信访".into(),
        mobile: String::new(),
        org_id: Some(street_b.0),
    };
    let u = app.create_user(&by, &d, &[role.id.0]).await.unwrap();
    out.push(("xf.b".into(), app.principal(u.user_id).await.unwrap()));
    out
}

#[tokio::test]
async fn list_count_and_search_return_exactly_what_the_policy_allows() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 20)
                .unwrap()
                .and_hms_opt(2, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis(),
        );
        app.seed_demo_petitions(60).await.unwrap();
        // A community (with items assigned to it) moves to the other street.
        let operator = op();
        let by = By { who: &operator, username: "system", source_addr: "" };
        let moved = org_id(&app, "兴南社区").await;
        app.move_org(&by, moved, org_id(&app, "学府街道").await).await.unwrap();
        let all = app.petitions(&operator, &PetitionQuery { limit: 500, ..Default::default() }).await.unwrap();
        assert!(all.len() > 40, "{}", all.len());
        assert!(all.iter().any(|p| p.handler_org_id.is_some()), "some items are assigned");

        // The holders read from SQL are the holders the record declares.
        let tree = app.org_snapshot().await.unwrap();
        for p in &all {
            let sql = app.record_ref(RecordKey::new(&PETITION, p.id)).await.unwrap();
            let declared: Vec<_> = p.holder_ids().into_iter().filter_map(|(o, u)| tree.holder(o.0, u)).collect();
            let mut a: Vec<_> = sql.holders.iter().map(|h| (h.org_id, h.owner)).collect();
            let mut b: Vec<_> = declared.iter().map(|h| (h.org_id, h.owner)).collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "holders of petition {}", p.id);
        }

        for (name, who) in principals(&app).await {
            // Petitions: list and count.
            let mut want = BTreeSet::new();
            for p in &all {
                let rec = app.record_ref(RecordKey::new(&PETITION, p.id)).await.unwrap();
                if authorize(&who, PETITION_READ, &rec) == Decision::Allow {
                    want.insert(p.id);
                }
            }
            let q = PetitionQuery { limit: 500, ..Default::default() };
            match app.petitions(&who, &q).await {
                Ok(rows) => {
                    let got: BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
                    assert_eq!(got, want, "{name} list on {:?}", db.engine());
                    assert_eq!(app.count_petitions(&who, &q).await.unwrap() as usize, want.len(), "{name} count");
                }
                Err(_) => assert!(want.is_empty(), "{name} may read items but cannot list them"),
            }
            // Search: every petition the operator finds for a term, filtered by the policy.
            for term in ["物业", "电梯", "噪声", "停车"] {
                let every: Vec<String> = app
                    .search(&operator, term, 100)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|h| h.record_type == "petition")
                    .map(|h| h.record_id)
                    .collect();
                assert!(every.len() < 100, "the term must not fill the page");
                let want: BTreeSet<String> =
                    every.into_iter().filter(|id| want.contains(&id.parse::<i64>().unwrap())).collect();
                let got: BTreeSet<String> = app
                    .search(&who, term, 100)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|h| h.record_type == "petition")
                    .map(|h| h.record_id)
                    .collect();
                assert_eq!(got, want, "{name} search {term} on {:?}", db.engine());
            }
            // Mediation cases: the list is what the policy allows (street-level registers).
            let cases = app
                .mediations(&operator, &fazhi_store::mediation::CaseQuery { limit: 500, ..Default::default() })
                .await
                .unwrap();
            let mut want = BTreeSet::new();
            for c in &cases {
                let rec = app.record_ref(RecordKey::new(&MEDIATION, c.id)).await.unwrap();
                if authorize(&who, PETITION_READ, &rec) == Decision::Allow {
                    want.insert(c.id);
                }
            }
            let got: BTreeSet<i64> = match app
                .mediations(&who, &fazhi_store::mediation::CaseQuery { limit: 500, ..Default::default() })
                .await
            {
                Ok(rows) => rows.iter().map(|r| r.id).collect(),
                Err(_) => BTreeSet::new(),
            };
            assert_eq!(got, want, "{name} mediation on {:?}", db.engine());
        }
    }
}
