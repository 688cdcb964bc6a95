//! The petition desk, the portal and the petitions API through HTTP.

use axum::http::StatusCode;
use fazhi_app::bootstrap::DEMO_PASSWORD;

use super::*;

#[tokio::test]
async fn petition_desk_item_page_and_public_tracking() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        let mut c = Client::new(router.clone());
        c.login("xinfang", DEMO_PASSWORD).await;
        let form = c.get("/petitions/new").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = Client::csrf_of(&form.body);
        let bad = c
            .post(
                "/petitions/new",
                &[
                    ("csrf", &csrf),
                    ("submission", &Client::field_of(&form.body, "submission")),
                    ("channel", "visit"),
                    ("category", "claim"),
                    ("name", "张三"),
                    ("phone", "123"),
                    ("title", ""),
                    ("content", "短"),
                ],
                ORIGIN,
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains("电话应为") && bad.body.contains("诉求摘要不能为空") && bad.body.contains("第十九条")
        );
        assert!(bad.body.contains("value=\"张三\""), "typed values kept");
        let submission = Client::field_of(&bad.body, "submission");
        assert_eq!(submission, Client::field_of(&form.body, "submission"), "the form keeps its nonce");
        let fields = [
            ("csrf", csrf.as_str()),
            ("submission", submission.as_str()),
            ("channel", "visit"),
            ("category", "claim"),
            ("name", "张三"),
            ("phone", "13800000000"),
            ("headcount", "7"),
            ("title", "工地拖欠工资"),
            ("content", "某工地拖欠七名工人三个月工资"),
        ];
        let posted = c.post("/petitions/new", &fields, ORIGIN).await;
        // POST, redirect, GET: the result page can be refreshed.
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
        let done = posted.location.clone().unwrap();
        assert!(done.starts_with("/petitions/") && done.ends_with("/registered"), "{done}");
        let ok = c.get(&done).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(ok.body.contains("第二十条"), "representatives warning shown");
        // The same submission sent again (the browser's "resend") registers nothing new.
        let before = c.get("/petitions").await.body.matches("工地拖欠工资").count();
        let again = c.post("/petitions/new", &fields, ORIGIN).await;
        assert_eq!(again.location, Some(format!("{done}?again=1")));
        assert!(c.get(&format!("{done}?again=1")).await.body.contains("本次未重复登记"));
        assert_eq!(c.get("/petitions").await.body.matches("工地拖欠工资").count(), before);
        let i = ok.body.find("class=\"secret\">").unwrap() + 15;
        let code: String = ok.body[i..].chars().take(14).collect();
        let j = ok.body.find("href=\"/petitions/").unwrap() + 17;
        let id: String = ok.body[j..].chars().take_while(|ch| ch.is_ascii_digit()).collect();
        let item = c.get(&format!("/petitions/{id}")).await.body;
        assert!(
            item.contains("书面告知信访人") && item.contains("为什么是这一天"),
            "clock with explanation on the item page"
        );
        let close = c.post(&format!("/petitions/{id}/step"), &[("csrf", &csrf), ("action", "close")], ORIGIN).await;
        assert_eq!(close.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(close.body.contains("不能办结"), "{}", close.body);
        let r = c
            .post(
                &format!("/petitions/{id}/step"),
                &[("csrf", &csrf), ("action", "accept"), ("date", "2026-05-29")],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(c.get("/petitions").await.body.contains("工地拖欠工资"));

        // The public: status by code, no personal data; a wrong code says nothing more.
        let mut public = Client::new(router);
        let page = public.get("/track").await;
        let csrf = Client::csrf_of(&page.body);
        let r = public.post("/track", &[("csrf", &csrf), ("code", &code)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("已受理") && !r.body.contains("张三") && !r.body.contains("13800000000"));
        let r = public.post("/track", &[("csrf", &csrf), ("code", "AAAA-BBBB-CCCC")], ORIGIN).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.body.contains("没有找到"));
    }
}

#[tokio::test]
async fn portal_submission_with_a_per_address_limit() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let street = app.portal_streets().await.unwrap()[0].0.to_string();
        let mut public = Client::new(router);
        let page = public.get("/petition").await;
        assert!(page.body.contains("万兴街道") && page.body.contains("学府街道"));
        let mut csrf = Client::csrf_of(&page.body);
        let r = public
            .post(
                "/petition",
                &[("csrf", &csrf), ("name", "王五"), ("title", "路灯不亮"), ("content", "小区门口路灯损坏一周")],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("请选择反映事项所在的街道"), "{}", r.body);
        for i in 0..5 {
            let title = format!("路灯不亮{i}");
            // The first submission is sent three times (a refresh of the POST): one item,
            // and one use of the hourly limit.
            let nonce = format!("portal-nonce-{i}");
            let sends = if i == 0 { 3 } else { 1 };
            for _ in 1..sends {
                let r = public
                    .post(
                        "/petition",
                        &[
                            ("csrf", &csrf),
                            ("submission", &nonce),
                            ("org_id", &street),
                            ("category", "claim"),
                            ("name", "王五"),
                            ("title", &title),
                            ("content", "小区门口路灯损坏一周，夜间出行不便"),
                        ],
                        ORIGIN,
                    )
                    .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
            }
            let r = public
                .post(
                    "/petition",
                    &[
                        ("csrf", &csrf),
                        ("submission", &nonce),
                        ("org_id", &street),
                        ("category", "claim"),
                        ("name", "王五"),
                        ("title", &title),
                        ("content", "小区门口路灯损坏一周，夜间出行不便"),
                    ],
                    ORIGIN,
                )
                .await;
            assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/petition/submitted")));
            let done = public.get("/petition/submitted").await;
            assert!(done.body.contains("您的查询码"), "{}", done.body);
            let i = done.body.find("class=\"secret\">").unwrap() + 15;
            let code: String = done.body[i..].chars().take(14).collect();
            let again = public.get("/petition/submitted").await.body;
            assert!(again.contains(&code), "a refresh shows the code again");
            csrf = Client::csrf_of(&again);
        }
        let r = public
            .post(
                "/petition",
                &[
                    ("csrf", &csrf),
                    ("org_id", &street),
                    ("name", "王五"),
                    ("title", "又一件"),
                    ("content", "小区门口路灯损坏一周"),
                ],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.body.contains("提交过于频繁"));
        let n: i64 = fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar(
            "select count(*) from petition where channel = 'online'"
        )
        .fetch_one(e)
        .await)
        .unwrap();
        assert_eq!(n, 5);
    }
}

/// An API token of the demo's 12345 integration account (信访办, like the petition desk),
/// issued by the operator (the account holds business permissions no administrator may hand
/// over): tokens belong to integration accounts, never to people.
async fn xinfang_token(app: &fazhi_app::App, label: &str) -> String {
    let xinfang = fazhi_store::users::get_by_username(&app.store.read, fazhi_app::bootstrap::DEMO_INTEGRATION)
        .await
        .unwrap()
        .unwrap();
    let op = fazhi_domain::access::Principal::system(
        fazhi_domain::access::SystemActor::Operator,
        fazhi_domain::OrgId(0),
        fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
    );
    let by = fazhi_app::org::By { who: &op, username: "system", source_addr: "" };
    app.issue_token(&by, Some(xinfang.id), label).await.unwrap().1
}

#[tokio::test]
async fn petitions_api_and_all_or_nothing_import() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let token = xinfang_token(&app, "信访平台推送").await;
        let item = |t: &str, ext: &str| {
            format!(
                r#"{{"channel":"platform","external_no":"{ext}","category":"claim","title":"{t}","content":"平台推送的信访事项内容","petitioners":[{{"name":"赵六","phone":"13900000000"}}]}}"#
            )
        };
        let good = format!("[{},{}]", item("推送一", "P-1"), item("推送二", "P-2"));
        let bad = format!("[{},{},{}]", item("推送三", "P-3"), item("", "P-4"), item("推送五", ""));
        let (s, j) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
        let msgs: Vec<String> =
            j["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect();
        assert!(
            msgs.iter().any(|m| m.starts_with("第 2 行")) && msgs.iter().any(|m| m.starts_with("第 3 行")),
            "{msgs:?}"
        );
        let (_, list) = api(&router, "GET", "/api/v1/petitions", Some(&token), None).await;
        assert_eq!(list.as_array().unwrap().len(), 0, "nothing imported");
        let (s, j) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&good)).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        let id = j[0]["id"].as_i64().unwrap();
        let (s, j) =
            api(&router, "POST", &format!("/api/v1/petitions/{id}/steps"), Some(&token), Some(r#"{"action":"close"}"#))
                .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(j["message"].as_str().unwrap().contains("不能办结"), "{j}");
        let (s, j) = api(
            &router,
            "POST",
            &format!("/api/v1/petitions/{id}/steps"),
            Some(&token),
            Some(r#"{"action":"accept","date":"2026-05-29"}"#),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(j["state"], "accepted");
        assert!(j["due"]["petition.handle"].is_string());
        let (_, doc) = api(&router, "GET", "/api/v1/openapi.json", None, None).await;
        assert!(doc["paths"]["/api/v1/petitions/import"].is_object());

        // A retry of the same push (same channel and external number) registers nothing new:
        // it answers with the items registered the first time, saying so per row.
        let (s, again) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&good)).await;
        assert_eq!(s, StatusCode::CREATED, "{again}");
        assert_eq!(again[0]["id"].as_i64(), Some(id));
        assert_eq!((again[0]["existing"].as_bool(), again[1]["existing"].as_bool()), (Some(true), Some(true)));
        let (_, list) = api(&router, "GET", "/api/v1/petitions", Some(&token), None).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "no second item, no second set of clocks");
        // The same source with other contents is a conflict on its row; a repeat inside one
        // batch is the same item once.
        let changed = format!("[{}]", item("推送一（改）", "P-1"));
        let (s, j) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&changed)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
        assert!(j.to_string().contains("第 1 行 external_no") && j.to_string().contains("title"), "{j}");
        let twice = format!("[{},{}]", item("推送六", "P-6"), item("推送六", "P-6"));
        let (s, j) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&twice)).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        assert_eq!(j[0]["id"], j[1]["id"]);
        assert_eq!((j[0]["existing"].as_bool(), j[1]["existing"].as_bool()), (Some(false), Some(true)));

        // The documented 1,000 rows fit, with letters of real length (well over the
        // general 256 KiB body limit): the answer is about the rows, not the body's size.
        let long = "群众反映小区消防通道被占用的详细经过。".repeat(40);
        let row = |n: usize| item(&format!("批量{n}"), &format!("B-{n}")).replace("平台推送的信访事项内容", &long);
        let mut rows: Vec<String> = (0..1000).map(row).collect();
        rows[999] = item("", "B-999");
        let body = format!("[{}]", rows.join(","));
        assert!(body.len() > 2 * 256 * 1024, "{}", body.len());
        let (s, j) = api(&router, "POST", "/api/v1/petitions/import", Some(&token), Some(&body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
        assert!(j.to_string().contains("第 1000 行"), "{j}");
    }
}

/// Text pasted from Word/Excel carries NUL and other controls: on PostgreSQL a NUL used to
/// fail the statement (500, from the API and the portal alike). Every text is cleaned at the
/// boundary: the item is registered without them, a query parameter with one answers.
#[tokio::test]
async fn pasted_control_characters_never_break_a_request() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let token = xinfang_token(&app, "粘贴测试").await;
        let body = r#"{"channel":"platform","external_no":"N-1\u0000","category":"claim","title":"消防\u0000通道被占用","content":"第一段\u000b第二段\u001f","petitioners":[{"name":"赵\u0000六","phone":"13900000000"}]}"#;
        let (s, j) = api(&router, "POST", "/api/v1/petitions", Some(&token), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{:?}: {j}", db.engine());
        let id = j["id"].as_i64().unwrap();
        let (_, item) = api(&router, "GET", &format!("/api/v1/petitions/{id}"), Some(&token), None).await;
        let text = item.to_string();
        assert!(!text.contains("\\u0000") && !text.contains("\\u000b") && !text.contains("\\u001f"), "{text}");
        assert!(text.contains("消防通道被占用"), "{text}");
        let content: String =
            fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar("select content from petition where id = $1")
                .bind(id)
                .fetch_one(e)
                .await)
            .unwrap();
        assert_eq!(content, "第一段\n第二段", "a Word line break kept as one, the rest removed");
        let (s, _) = api(&router, "GET", "/api/v1/search?q=%00%E6%B6%88%E9%98%B2", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK, "{:?}", db.engine());
    }
}
