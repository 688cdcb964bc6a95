//! HTTP tests with `oneshot` (no socket), on both engines: login, CSRF, sessions, pages per
//! role, and the JSON API's error format.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fazhi_app::App;
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_domain::clock::{MINUTE_MS, ManualClock};
use fazhi_domain::security::SecurityPolicy;
use fazhi_web::{AppState, WebSettings, app_router};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod search;

struct Client {
    router: Router,
    cookies: BTreeMap<String, String>,
}

struct Resp {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Client {
    fn new(router: Router) -> Self {
        Self { router, cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let (kv, _) = s.split_once(';').unwrap_or((s, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = res.status();
        let location = res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Resp { status, location, body }
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = Request::get(path).header(header::COOKIE, self.cookie_header()).body(Body::empty()).unwrap();
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Resp {
        let body = serde_html_form::to_string(form).unwrap();
        let mut b = Request::post(path)
            .header(header::HOST, "fazhi.test")
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// The CSRF token in the last page's forms.
    fn csrf_of(body: &str) -> String {
        let i = body.find("name=\"csrf\" value=\"").expect("page has a csrf field") + 19;
        body[i..].split('"').next().unwrap().to_owned()
    }

    async fn login(&mut self, user: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        let csrf = Self::csrf_of(&page.body);
        self.post(
            "/login",
            &[("csrf", &csrf), ("username", user), ("password", password), ("next", "")],
            Some("http://fazhi.test"),
        )
        .await
    }
}

async fn setup(store: fazhi_store::Store) -> (Router, Arc<ManualClock>, App) {
    let clock = Arc::new(ManualClock::new(1_780_000_000_000));
    let app = App::new(store, clock.clone(), SecurityPolicy::default());
    app.seed_demo().await.unwrap();
    let router = app_router(AppState::new(app.clone(), WebSettings { demo: true, ..Default::default() }));
    (router, clock, app)
}

const ORIGIN: Option<&str> = Some("http://fazhi.test");

#[tokio::test]
async fn login_flow_and_bad_credentials() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        let mut c = Client::new(router);
        let r = c.get("/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/login"));

        let r = c.login("admin", "Wrong-pass-123").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("用户名或密码错误"));
        assert!(r.body.contains("value=\"admin\""), "username kept");
        assert!(!r.body.contains("Wrong-pass-123"), "password never echoed");
        let r = c.login("nobody", "Wrong-pass-123").await;
        assert!(r.body.contains("用户名或密码错误"));

        let r = c.login("admin", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(c.cookies.contains_key("fazhi_session"));
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("王管理") && home.body.contains("万兴街道"));

        // Login form without its CSRF cookie is refused.
        let mut fresh = Client::new(c.router.clone());
        let r =
            fresh.post("/login", &[("csrf", "x"), ("username", "admin"), ("password", DEMO_PASSWORD)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn session_cookie_attributes() {
    for db in fazhi_testkit::engines().await {
        let (_, _, app) = setup(db.store.clone()).await;
        let router = app_router(AppState::new(app, WebSettings { secure_cookies: true, ..Default::default() }));
        let res = router.clone().oneshot(Request::get("/login").body(Body::empty()).unwrap()).await.unwrap();
        let c = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"), "{c}");
    }
}

#[tokio::test]
async fn csrf_and_origin_are_checked_and_nothing_changes() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let mut c = Client::new(router);
        c.login("admin", DEMO_PASSWORD).await;
        let page = c.get("/org").await;
        let csrf = Client::csrf_of(&page.body);
        let street =
            fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap().org_id.to_string();
        let before = fazhi_store::org::count_nodes(&app.store.read).await.unwrap();
        let form = |t: &str| {
            vec![
                ("csrf", t.to_owned()),
                ("name", "新社区".to_owned()),
                ("kind", "community".to_owned()),
                ("parent_id", street.clone()),
            ]
        };
        let no_token = form("");
        let missing: Vec<(&str, &str)> = no_token.iter().skip(1).map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.post("/org", &missing, ORIGIN).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let wrong = form("deadbeef");
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(c.post("/org", &wrong, ORIGIN).await.status, StatusCode::FORBIDDEN);
        // The right token from another site's page is still refused.
        let good = form(&csrf);
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(c.post("/org", &good, Some("https://evil.example")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(fazhi_store::org::count_nodes(&app.store.read).await.unwrap(), before, "nothing changed");
        // The real thing works.
        let r = c.post("/org", &good, ORIGIN).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(fazhi_store::org::count_nodes(&app.store.read).await.unwrap(), before + 1);
    }
}

#[tokio::test]
async fn forms_show_field_errors_and_keep_input() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        let mut c = Client::new(router);
        c.login("admin", DEMO_PASSWORD).await;
        let page = c.get("/users/new").await;
        let csrf = Client::csrf_of(&page.body);
        let long = "张".repeat(31);
        let r = c
            .post(
                "/users/new",
                &[
                    ("csrf", &csrf),
                    ("username", "Bad Name"),
                    ("display_name", &long),
                    ("mobile", "123"),
                    ("org_id", ""),
                ],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        for msg in ["用户名只能包含", "姓名最多 30 个字", "手机号应为", "请选择所属机构"] {
            assert!(r.body.contains(msg), "missing {msg}");
        }
        assert!(r.body.contains("value=\"Bad Name\""), "typed value kept");
        assert!(r.body.contains("value=\"123\""));

        let r = c
            .post(
                "/users/new",
                &[("csrf", &csrf), ("username", "zhang.san"), ("display_name", "张三"), ("org_id", "1")],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "district node is above the street admin");
        assert!(r.body.contains("不能把用户放在"));
    }
}

#[tokio::test]
async fn forced_password_change_and_expired_session() {
    for db in fazhi_testkit::engines().await {
        let (router, clock, app) = setup(db.store.clone()).await;
        let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap();
        let p = app.principal(admin.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &p, username: "admin", source_addr: "" };
        let zhifa = fazhi_store::users::get_by_username(&app.store.read, "zhifa").await.unwrap().unwrap();
        let issued = app.reset_password(&by, zhifa.user_id()).await.unwrap();
        let mut c = Client::new(router);
        let r = c.login("zhifa", &issued.one_time_password).await;
        assert_eq!(r.location.as_deref(), Some("/account/password"));
        let r = c.get("/").await;
        assert_eq!(r.location.as_deref(), Some("/account/password"), "every page leads to the change");
        clock.advance(31 * MINUTE_MS);
        let r = c.get("/account/password").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.unwrap().starts_with("/login"), "expired session goes to login");
    }
}

#[tokio::test]
async fn each_role_sees_only_its_part() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let street_b = fazhi_store::org::list_nodes(&app.store.read, Some(&fazhi_domain::access::ScopeFilter::All))
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.name == "学府街道")
            .unwrap()
            .id;
        // (user, may see /users, may see street B's page)
        for (user, users_page, street_b_page) in
            [("admin", true, false), ("ducha", true, true), ("wangge", false, false), ("zhifa", false, false)]
        {
            let mut c = Client::new(router.clone());
            c.login(user, DEMO_PASSWORD).await;
            let home = c.get("/").await;
            assert_eq!(home.body.contains("href=\"/users\""), users_page, "{user} nav");
            let r = c.get("/users").await;
            assert_eq!(r.status == StatusCode::OK, users_page, "{user} /users");
            let r = c.get(&format!("/org/{street_b}")).await;
            assert_eq!(r.status == StatusCode::OK, street_b_page, "{user} street B");
            if !street_b_page {
                assert_eq!(r.status, StatusCode::FORBIDDEN);
            }
        }
        // The 社区 worker's tree is their community only.
        let mut c = Client::new(router.clone());
        c.login("wangge", DEMO_PASSWORD).await;
        let tree = c.get("/org").await.body;
        assert!(tree.contains("万兴里社区") && !tree.contains("兴南社区") && !tree.contains("学府"));
        assert!(!tree.contains("新建机构"), "no manage form without org.manage");
        // The district inspector has no write forms.
        let mut c = Client::new(router);
        c.login("ducha", DEMO_PASSWORD).await;
        let users = c.get("/users").await.body;
        assert!(!users.contains("新建用户"));
    }
}

async fn api(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(j) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(j.to_owned())).unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn api_tokens_errors_and_openapi() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap();
        let p = app.principal(admin.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &p, username: "admin", source_addr: "" };
        let (tid, token) = app.issue_token(&by, Some(admin.id), "测试").await.unwrap();

        let (s, j) = api(&router, "GET", "/api/v1/users", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(j["code"], "unauthenticated");
        assert!(j["message"].as_str().unwrap().contains("令牌"));

        let (s, j) = api(&router, "GET", "/api/v1/users", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(j.as_array().unwrap().iter().all(|u| u["username"] != "ducha"), "scope applies to the API");

        let (s, j) = api(&router, "POST", "/api/v1/users", Some(&token), Some("{\"username\": ")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(j["code"], "invalid_json");
        assert!(j["message"].as_str().unwrap().starts_with("请求体不是合法的 JSON"));

        let (s, j) = api(&router, "POST", "/api/v1/users", Some(&token), Some("{\"username\": 5}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(j["code"], "invalid_json");

        let body = format!("{{\"username\":\"api.user\",\"display_name\":\"\",\"org_id\":{}}}", admin.org_id);
        let (s, j) = api(&router, "POST", "/api/v1/users", Some(&token), Some(&body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(j["code"], "invalid");
        assert_eq!(j["field"], "display_name");

        let body = format!("{{\"username\":\"api.user\",\"display_name\":\"接口\",\"org_id\":{}}}", admin.org_id);
        let (s, j) = api(&router, "POST", "/api/v1/users", Some(&token), Some(&body)).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        assert!(j["one_time_password"].as_str().unwrap().len() >= 10);

        let (s, j) = api(&router, "GET", "/api/v1/orgs/1", Some(&token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "district node is outside the street admin's scope: {j}");
        assert_eq!(j["code"], "forbidden");

        let (s, _) = api(&router, "GET", "/api/v1/nope", Some(&token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, j) = api(&router, "GET", "/api/v1/users?limit=abc", Some(&token), None).await;
        assert_eq!((s, j["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")), "{j}");
        let (s, j) = api(&router, "GET", "/api/v1/users/abc", Some(&token), None).await;
        assert_eq!((s, j["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{j}");

        app.revoke_token(&by, tid).await.unwrap();
        let (s, j) = api(&router, "GET", "/api/v1/me", Some(&token), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(j["message"].as_str().unwrap().contains("吊销"));

        let (s, j) = api(&router, "GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(j["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/api/v1/users", "/api/v1/orgs", "/api/v1/me"] {
            assert!(j["paths"][path].is_object(), "{path} documented");
        }
    }
}

#[tokio::test]
async fn healthz_and_unknown_pages() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        let mut c = Client::new(router);
        let r = c.get("/healthz").await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
        let r = c.get("/no/such/page").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.body.contains("页面不存在"));
    }
}

#[tokio::test]
async fn ledger_portal_timeline_and_proof_download() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        app.checkpoint_all().await.unwrap();
        let mut public = Client::new(router.clone());
        let page = public.get("/ledger").await;
        assert_eq!(page.status, StatusCode::OK, "the portal needs no login");
        assert!(page.body.contains("万兴街道") && page.body.contains(&app.ledger.verifier().to_vkey()));
        assert!(page.body.contains("\u{2014} fazhi-"), "signed notes are shown");

        // A staff member downloads a proof from a record's timeline ...
        let mut staff = Client::new(router.clone());
        staff.login("admin", DEMO_PASSWORD).await;
        let street = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap().org_id;
        let node = staff.get(&format!("/org/{street}")).await;
        assert!(node.body.contains("全过程记录") && node.body.contains("新建机构"), "timeline on the record page");
        let href = format!("/ledger/proof/{street}/0");
        assert!(node.body.contains(&href));
        let proof = staff.get(&href).await;
        assert_eq!(proof.status, StatusCode::OK);
        // ... the public checks it on the portal.
        let csrf = Client::csrf_of(&public.get("/ledger").await.body);
        let r = public.post("/ledger/check", &[("csrf", &csrf), ("proof", &proof.body)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("证明有效"));
        let forged = proof.body.replacen("万兴街道", "万兴街", 1);
        let r = public.post("/ledger/check", &[("csrf", &csrf), ("proof", &forged)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("证明无效"));
        let r = public.post("/ledger/check", &[("csrf", &csrf), ("proof", "{not json")], ORIGIN).await;
        assert!(r.body.contains("无法解析"));
        let reference = format!("{street}-0");
        let r =
            public.post("/ledger/check", &[("csrf", &csrf), ("reference", &reference), ("hash", "00")], ORIGIN).await;
        assert!(r.body.contains("哈希不一致"), "{}", r.body);
        let r = public.post("/ledger/check", &[("csrf", &csrf), ("reference", "x")], ORIGIN).await;
        assert!(r.body.contains("格式应为"));

        // A street B log's proof is not for street A's staff; and not for the public at all.
        let xuefu = fazhi_store::org::list_nodes(&app.store.read, Some(&fazhi_domain::access::ScopeFilter::All))
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.name == "学府街道")
            .unwrap()
            .id;
        assert_eq!(staff.get(&format!("/ledger/proof/{xuefu}/0")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(public.get(&href).await.status, StatusCode::SEE_OTHER);
    }
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----fazhiboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn attachments_upload_and_download_through_the_ui() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let mut c = Client::new(router);
        c.login("admin", DEMO_PASSWORD).await;
        let street = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap().org_id;
        let page = c.get(&format!("/org/{street}")).await;
        let csrf = Client::csrf_of(&page.body);
        let png: &[u8] =
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 1, 2, 3];
        let post = |ct: String, body: Vec<u8>, cookies: String| {
            Request::post(format!("/org/{street}/attachments"))
                .header(header::HOST, "fazhi.test")
                .header(header::ORIGIN, "http://fazhi.test")
                .header(header::COOKIE, cookies)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };
        let (ct, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("现场.png"), png)]);
        let r = c.send(post(ct, body, c.cookie_header())).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = c.get(&format!("/org/{street}")).await;
        assert!(page.body.contains("现场.png") && page.body.contains("上传附件"), "listed on the record page");
        let i = page.body.find("href=\"/attachments/").unwrap() + 19;
        let id: String = page.body[i..].chars().take_while(|ch| ch.is_ascii_digit()).collect();
        let dl = c.get(&format!("/attachments/{id}")).await;
        assert_eq!(dl.status, StatusCode::OK);
        assert!(dl.body.starts_with("\u{FFFD}PNG"), "the file's bytes");

        // No CSRF token first: refused, nothing stored.
        let (ct, body) = multipart(&[("file", Some("x.png"), png), ("csrf", None, csrf.as_bytes())]);
        assert_eq!(c.send(post(ct, body, c.cookie_header())).await.status, StatusCode::FORBIDDEN);
        // Wrong type: the page comes back with the field error.
        let (ct, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("a.pdf"), b"not a pdf at all")]);
        let r = c.send(post(ct, body, c.cookie_header())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("不接受该文件"), "{}", r.body);
        let rows: i64 = fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar("select count(*) from attachment")
            .fetch_one(e)
            .await)
        .unwrap();
        assert_eq!(rows, 1);
    }
}

#[tokio::test]
async fn inbox_badge_deadlines_and_calendar_pages() {
    for db in fazhi_testkit::engines().await {
        let (router, clock, app) = setup(db.store.clone()).await;
        let at = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(2, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        clock.set(at("2026-09-21"));
        let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap();
        let p = app.principal(admin.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &p, username: "admin", source_addr: "" };
        let street = fazhi_domain::OrgId(admin.org_id);
        let t = fazhi_app::clocks::ClockTarget {
            record_type: "org_node",
            record_id: street.0.to_string(),
            org: street,
            owner: None,
        };
        let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 21).unwrap();
        app.start_clock(&by, t, "disclosure.reply", day).await.unwrap();
        clock.set(at("2026-10-27"));
        app.schedule_scan_now(&p).await.unwrap();
        app.run_jobs("test").await.unwrap();

        let mut c = Client::new(router.clone());
        c.login("zhuren", DEMO_PASSWORD).await;
        let home = c.get("/").await.body;
        assert!(home.contains("class=\"badge\">1<"), "unread badge in the top bar");
        let clocks = c.get("/clocks").await.body;
        assert!(
            clocks.contains("红牌") && clocks.contains("2026-10-26") && clocks.contains("国庆节"),
            "card, date and why"
        );
        let inbox = c.get("/inbox").await.body;
        assert!(inbox.contains("【红牌】答复政府信息公开申请已超期"), "{inbox}");
        let csrf = Client::csrf_of(&inbox);
        c.post("/inbox/read-all", &[("csrf", &csrf)], ORIGIN).await;
        assert!(!c.get("/").await.body.contains("class=\"badge\""));
        assert_eq!(c.get("/calendar").await.status, StatusCode::FORBIDDEN, "only admins manage the calendar");

        let mut a = Client::new(router);
        a.login("admin", DEMO_PASSWORD).await;
        let page = a.get("/calendar").await;
        assert!(page.body.contains("2026"));
        let csrf = Client::csrf_of(&page.body);
        let r = a.post("/calendar", &[("csrf", &csrf), ("schedule", "year 2027\noff 2027-02-30 春节\n")], ORIGIN).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("第 2 行") && r.body.contains("2027-02-30"), "{}", r.body);
        let r = a
            .post(
                "/calendar",
                &[("csrf", &csrf), ("schedule", "year 2027 测试\noff 2027-01-01..2027-01-03 元旦\n")],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(a.get("/calendar").await.body.contains("2027"));
    }
}

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
        let ok = c
            .post(
                "/petitions/new",
                &[
                    ("csrf", &csrf),
                    ("channel", "visit"),
                    ("category", "claim"),
                    ("name", "张三"),
                    ("phone", "13800000000"),
                    ("headcount", "7"),
                    ("title", "工地拖欠工资"),
                    ("content", "某工地拖欠七名工人三个月工资"),
                ],
                ORIGIN,
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(ok.body.contains("第二十条"), "representatives warning shown");
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
        let csrf = Client::csrf_of(&page.body);
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
            let r = public
                .post(
                    "/petition",
                    &[
                        ("csrf", &csrf),
                        ("org_id", &street),
                        ("category", "claim"),
                        ("name", "王五"),
                        ("title", &title),
                        ("content", "小区门口路灯损坏一周，夜间出行不便"),
                    ],
                    ORIGIN,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body.contains("您的查询码"));
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

#[tokio::test]
async fn petitions_api_and_all_or_nothing_import() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let xinfang = fazhi_store::users::get_by_username(&app.store.read, "xinfang").await.unwrap().unwrap();
        let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap();
        let p = app.principal(admin.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &p, username: "admin", source_addr: "" };
        let (_, token) = app.issue_token(&by, Some(xinfang.id), "信访平台推送").await.unwrap();
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
    }
}
