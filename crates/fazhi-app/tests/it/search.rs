//! Full-text search wired into real records, on both engines: the demo's data is indexed
//! when seeded, each role finds only what its data scope shows, and changes reach the index
//! in the transaction that makes them.

use fazhi_app::App;
use fazhi_app::org::By;
use fazhi_app::search::SearchHit;

const MODULE_ORG: &str = "org_node";
const MODULE_USER: &str = "user";
use fazhi_domain::access::Principal;
use fazhi_domain::org::OrgDraft;
use fazhi_domain::user::UserDraft;
use fazhi_store::search::{MARK_END, MARK_START};

use super::{demo, org_id, who};

fn by<'a>(p: &'a Principal) -> By<'a> {
    By { who: p, username: "admin", source_addr: "127.0.0.1" }
}

fn plain(s: &str) -> String {
    s.chars().filter(|c| *c != MARK_START && *c != MARK_END).collect()
}

/// Plain titles of the hits of one module, sorted.
fn titles(hits: &[SearchHit], module: &str) -> Vec<String> {
    let mut v: Vec<String> = hits.iter().filter(|h| h.record_type == module).map(|h| plain(&h.title)).collect();
    v.sort();
    v
}

async fn search(app: &App, username: &str, q: &str) -> Vec<SearchHit> {
    app.search(&who(app, username).await, q, 100).await.unwrap()
}

#[tokio::test]
async fn each_role_finds_only_its_scope() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;

        // The 社区 worker: org nodes of 万兴里社区 and below; no user.read, so no people.
        let hits = search(&app, "wangge", "社区").await;
        assert_eq!(titles(&hits, MODULE_ORG), vec!["万兴里社区"], "{:?}", db.engine());
        assert!(titles(&hits, MODULE_USER).is_empty());
        assert!(hits.iter().all(|h| h.record_type == MODULE_ORG));
        assert!(search(&app, "wangge", "学府花园社区").await.is_empty());
        assert!(search(&app, "wangge", "兴南社区").await.is_empty());
        let grids = search(&app, "wangge", "网格").await;
        assert_eq!(titles(&grids, MODULE_ORG), vec!["万兴里第一网格", "万兴里第二网格"]);

        // The district inspector: both streets, and people (whose documents name their node).
        let hits = search(&app, "ducha", "社区").await;
        assert_eq!(titles(&hits, MODULE_ORG), vec!["万兴里社区", "兴南社区", "学府花园社区", "德庄社区"]);
        assert_eq!(titles(&hits, MODULE_USER), vec!["郑网格"], "the user on 万兴里社区");
        let streets = search(&app, "ducha", "街道").await;
        let t = titles(&streets, MODULE_ORG);
        assert!(t.contains(&"万兴街道".to_owned()) && t.contains(&"学府街道".to_owned()), "{t:?}");

        // The street admin: street A only, people included.
        let hits = search(&app, "admin", "社区").await;
        assert_eq!(titles(&hits, MODULE_ORG), vec!["万兴里社区", "兴南社区", "德庄社区"]);
        assert!(search(&app, "admin", "学府").await.is_empty(), "street B never appears");
        let people = search(&app, "admin", "zhifa").await;
        assert_eq!(titles(&people, MODULE_USER), vec!["周执法"]);
        assert!(search(&app, "admin", "冯督查").await.is_empty(), "a district user is above the street admin");

        // Titles are highlighted; hits carry the record they belong to.
        let hit = &search(&app, "ducha", "兴南社区").await[0];
        assert_eq!(hit.title, format!("{MARK_START}兴南社区{MARK_END}"));
        assert_eq!(
            (hit.record_type.as_str(), hit.record_id.clone()),
            ("org_node", org_id(&app, "兴南社区").await.to_string())
        );
        assert_eq!(plain(&hit.snippet), "社区");

        // Nothing searchable and over-long queries are not errors.
        assert!(search(&app, "ducha", "。，！").await.is_empty());
        assert!(!search(&app, "ducha", &format!("社区{}", "！".repeat(10_000))).await.is_empty());
    }
}

#[tokio::test]
async fn changes_reach_the_index_in_their_transaction() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let admin = who(&app, "admin").await;
        let grid = org_id(&app, "万兴里第一网格").await;

        // A renamed node is found by its new name, no longer by the old one; the people on
        // it are found by the new name too.
        let d = OrgDraft { name: "飞线充电整治网格".into(), code: "WX-01".into(), ..Default::default() };
        app.update_org(&by(&admin), grid, &d).await.unwrap();
        let hits = search(&app, "admin", "飞线充电").await;
        assert_eq!(titles(&hits, MODULE_ORG), vec!["飞线充电整治网格"]);
        assert!(plain(&hits[0].snippet).contains("WX-01"), "{}", hits[0].snippet);
        assert!(search(&app, "admin", "万兴里第一网格").await.is_empty());
        assert_eq!(titles(&search(&app, "admin", "wx").await, MODULE_ORG), vec!["飞线充电整治网格"]);

        // Created, moved and deleted nodes.
        let community = org_id(&app, "兴南社区").await;
        let d = OrgDraft {
            name: "消防通道网格".into(),
            kind: "grid".into(),
            parent_id: Some(community.0),
            code: String::new(),
            official_name: Default::default(),
        };
        let id = app.create_org(&by(&admin), &d).await.unwrap();
        assert_eq!(titles(&search(&app, "admin", "消防通道").await, MODULE_ORG), vec!["消防通道网格"]);
        let wangge = who(&app, "wangge").await;
        assert!(app.search(&wangge, "消防通道", 10).await.unwrap().is_empty(), "not under 万兴里社区");
        app.move_org(&by(&admin), id, org_id(&app, "万兴里社区").await).await.unwrap();
        assert_eq!(titles(&app.search(&wangge, "消防通道", 10).await.unwrap(), MODULE_ORG), vec!["消防通道网格"]);
        app.delete_org(&by(&admin), id).await.unwrap();
        assert!(search(&app, "admin", "消防通道").await.is_empty());

        // Users: created and renamed; a change refused by validation leaves the index alone.
        let draft = UserDraft {
            username: "ting.zheng".into(),
            display_name: "听证专员".into(),
            mobile: String::new(),
            org_id: Some(org_id(&app, "司法所").await.0),
        };
        let issued = app.create_user(&by(&admin), &draft, &[]).await.unwrap();
        let hits = search(&app, "admin", "听证").await;
        assert_eq!(titles(&hits, MODULE_USER), vec!["听证专员"]);
        assert_eq!(hits[0].record_id, issued.user_id.to_string());
        let renamed = UserDraft { display_name: "调解专员".into(), ..draft.clone() };
        app.update_user(&by(&admin), issued.user_id, &renamed, &[]).await.unwrap();
        assert!(search(&app, "admin", "听证").await.is_empty());
        assert_eq!(titles(&search(&app, "admin", "调解").await, MODULE_USER), vec!["调解专员"]);
        let bad = UserDraft { display_name: String::new(), ..draft };
        assert!(app.update_user(&by(&admin), issued.user_id, &bad, &[]).await.is_err());
        assert_eq!(titles(&search(&app, "admin", "调解").await, MODULE_USER), vec!["调解专员"]);
    }
}

#[tokio::test]
async fn an_installation_without_an_index_gets_one_at_start() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        fazhi_store::run!(&app.store.write, |e| sqlx::query("delete from search_doc").execute(e).await.map(|_| ()))
            .unwrap();
        assert!(search(&app, "ducha", "社区").await.is_empty());
        app.ensure_builtins().await.unwrap();
        assert_eq!(search(&app, "ducha", "社区").await.len(), 5);
        let n = fazhi_store::search::count_docs(&app.store.read).await.unwrap();
        app.ensure_builtins().await.unwrap();
        assert_eq!(fazhi_store::search::count_docs(&app.store.read).await.unwrap(), n, "only once");
    }
}

/// Staff find an item by the petitioner's name, by 身份证号 (shown masked), by phone as
/// written and by tracking code with or without dashes; each hit carries its facts; someone
/// outside the item's scope finds it by none of them.
#[tokio::test]
async fn petitions_are_found_by_name_id_phone_and_code() {
    use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let worker = who(&app, "xinfang").await;
        let by = By { who: &worker, username: "xinfang", source_addr: "" };
        let d = IntakeDraft {
            channel: "visit".into(),
            category: "claim".into(),
            title: "楼顶漏水无人维修".into(),
            content: "顶层住户反映楼顶防水层破损，雨天漏水，物业推诿".into(),
            petitioners: vec![PetitionerDraft {
                name: "欧阳明远".into(),
                phone: "13912345678".into(),
                id_number: "11010519491231002X".into(),
                address: String::new(),
            }],
            ..Default::default()
        };
        let item = app.intake(&by, &d).await.unwrap();
        let id = item.id.to_string();
        let code = item.tracking_code.clone();
        let bare = code.replace('-', "").to_lowercase();
        for q in ["欧阳明远", "11010519491231002x", "139 1234 5678", code.as_str(), bare.as_str()] {
            let hits = search(&app, "xinfang", q).await;
            let hit = hits
                .iter()
                .find(|h| h.record_type == "petition" && h.record_id == id)
                .unwrap_or_else(|| panic!("{q} finds the item ({:?})", db.engine()));
            assert!(hit.facts.starts_with(&format!("编号 {id} · 收到 ")), "{}", hit.facts);
            assert!(!hit.snippet.contains("19491231"), "an ID number is never shown whole: {}", hit.snippet);
            assert!(
                search(&app, "wangge", q).await.iter().all(|h| h.record_id != id || h.record_type != "petition"),
                "{q}: outside the community worker's scope"
            );
        }
        let by_id = search(&app, "xinfang", "11010519491231002X").await;
        assert!(plain(&by_id[0].snippet).contains("1101**********002X"), "{}", by_id[0].snippet);
    }
}
