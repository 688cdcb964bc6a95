//! The search page and `/api/v1/search`, on both engines.

use axum::http::StatusCode;
use fazhi_app::bootstrap::DEMO_PASSWORD;

use super::{Client, api, setup};

fn qs(q: &str) -> String {
    serde_html_form::to_string([("q", q)]).unwrap()
}

#[tokio::test]
async fn search_page_highlights_within_scope() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        let mut c = Client::new(router.clone());
        let r = c.get("/search").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login first");

        // Anyone logged in has the entry, even the 社区 worker with few permissions.
        c.login("wangge", DEMO_PASSWORD).await;
        let home = c.get("/").await;
        assert!(home.body.contains("href=\"/search\"") && home.body.contains("全文检索"));
        let r = c.get(&format!("/search?{}", qs("社区"))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("<mark>社区</mark>"), "{}", r.body);
        assert!(r.body.contains("万兴里") && !r.body.contains("兴南社区") && !r.body.contains("学府"));

        // The district inspector: both streets, links to the record pages.
        let mut c = Client::new(router.clone());
        c.login("ducha", DEMO_PASSWORD).await;
        let r = c.get(&format!("/search?{}", qs("社区"))).await;
        assert!(r.body.contains("学府花园") && r.body.contains("兴南"), "{}", r.body);
        assert!(r.body.contains("href=\"/org/") && r.body.contains("href=\"/users/"), "{}", r.body);

        // Input is escaped wherever it is echoed; markup in the query never becomes markup.
        let r = c.get(&format!("/search?{}", qs("<script>alert(1)</script>\"社区"))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("<script>alert"), "{}", r.body);
        assert!(r.body.contains("&lt;script&gt;") || r.body.contains("&#60;script&#62;"), "{}", r.body);

        // Nothing found, punctuation only, over-long: a page with a Chinese message.
        let r = c.get(&format!("/search?{}", qs("不存在的词语组合xyz"))).await;
        assert!(r.status == StatusCode::OK && r.body.contains("没有找到"));
        let r = c.get(&format!("/search?{}", qs("\"%'；--"))).await;
        assert!(r.status == StatusCode::OK && r.body.contains("没有找到"));
        let r = c.get(&format!("/search?{}", qs(&format!("社区{}", "长".repeat(300))))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("检索词过长，只按前 200 个字检索"), "{}", r.body);
        let r = c.get("/search?q=").await;
        assert!(r.status == StatusCode::OK && r.body.contains("有权查看的范围"));

        // The street admin never sees street B.
        let mut c = Client::new(router);
        c.login("admin", DEMO_PASSWORD).await;
        let r = c.get(&format!("/search?{}", qs("学府花园社区"))).await;
        assert!(r.body.contains("没有找到") && !r.body.contains("href=\"/org/"), "{}", r.body);
    }
}

#[tokio::test]
async fn search_api_returns_json_in_scope() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let (_, token) = super::integration_token(&app, "duijie.search", &["org.read", "user.read"]).await;

        let (s, j) = api(&router, "GET", &format!("/api/v1/search?{}", qs("社区")), None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(j["code"], "unauthenticated");
        assert!(j["message"].as_str().unwrap().contains("令牌"), "{j}");

        let (s, j) = api(&router, "GET", &format!("/api/v1/search?{}&limit=50", qs("社区")), Some(&token), None).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let hits = j.as_array().unwrap();
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|h| !h["title"].as_str().unwrap().contains("学府")), "street B never appears: {j}");
        let node = hits.iter().find(|h| h["title"] == "万兴里社区").expect("the community");
        assert_eq!(node["module"], "org");
        assert_eq!(node["record_type"], "org_node");
        assert_eq!(node["url"], format!("/org/{}", node["record_id"].as_str().unwrap()));
        assert!(node["title_parts"].as_array().unwrap().iter().any(|p| p["hit"] == true && p["text"] == "社区"));
        assert!(node["score"].is_number());

        let (s, j) = api(&router, "GET", &format!("/api/v1/search?{}&limit=1", qs("社区")), Some(&token), None).await;
        assert_eq!((s, j.as_array().unwrap().len()), (StatusCode::OK, 1));
        let (s, j) = api(&router, "GET", &format!("/api/v1/search?{}", qs("，。")), Some(&token), None).await;
        assert_eq!((s, j), (StatusCode::OK, serde_json::json!([])));

        // Bad parameters: our error format, naming the field.
        let long = qs(&"长".repeat(201));
        let (s, j) = api(&router, "GET", &format!("/api/v1/search?{long}"), Some(&token), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!((j["code"].as_str(), j["field"].as_str()), (Some("invalid"), Some("q")));
        assert!(j["message"].as_str().unwrap().contains("200"), "{j}");
        let (s, j) = api(&router, "GET", "/api/v1/search", Some(&token), None).await;
        assert_eq!((s, j["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("q")));
        let (s, j) = api(&router, "GET", "/api/v1/search?q=x&limit=abc", Some(&token), None).await;
        assert_eq!((s, j["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")), "{j}");

        let (_, j) = api(&router, "GET", "/api/v1/openapi.json", None, None).await;
        assert!(j["paths"]["/api/v1/search"]["get"].is_object(), "documented");
        assert!(j["components"]["schemas"]["SearchHitOut"].is_object());
    }
}
