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

mod calendar;
mod forms;
mod petitions;
mod records;
mod search;
mod snapshots;

struct Client {
    router: Router,
    cookies: BTreeMap<String, String>,
}

struct Resp {
    status: StatusCode,
    location: Option<String>,
    cache_control: Option<String>,
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
        let cache_control = res.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Resp { status, location, cache_control, body }
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
    /// The value of the (hidden) input `name` of a page's form.
    fn field_of(body: &str, name: &str) -> String {
        let pat = format!("name=\"{name}\" value=\"");
        let i = body.find(&pat).unwrap_or_else(|| panic!("page has a {name} field")) + pat.len();
        body[i..].split('"').next().unwrap().to_owned()
    }

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

/// An API token (issued by the operator) of a new integration account on the
/// admin's street holding a role the operator defines with `permissions` at 本级及下级:
/// tokens belong to integration accounts, never to people (issue 13).
async fn integration_token(app: &App, username: &str, permissions: &[&str]) -> (fazhi_domain::TokenId, String) {
    use fazhi_domain::access::{Principal, SystemActor};
    let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await.unwrap().unwrap();
    // The operator on the admin's street: the role belongs to that street.
    let op = Principal::system(SystemActor::Operator, fazhi_domain::OrgId(admin.org_id), admin.path());
    let by_op = fazhi_app::org::By { who: &op, username: "system", source_addr: "" };
    let role = fazhi_app::roles::RoleDraft {
        name: format!("对接 {username}"),
        description: String::new(),
        scope: "subtree".into(),
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
    };
    let rid = app.create_role(&by_op, &role).await.unwrap();
    let draft = fazhi_domain::user::UserDraft {
        username: username.into(),
        display_name: format!("对接 {username}"),
        mobile: String::new(),
        org_id: Some(admin.org_id),
    };
    let id = app.create_integration(&by_op, &draft, &[rid.0]).await.unwrap();
    // Issued by the operator: the account may hold business permissions no administrator
    // may hand over through a token (privilege ceiling).
    app.issue_token(&by_op, Some(id.0), username).await.unwrap()
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

/// After login only a local path is followed (CR/LF, backslashes, other hosts go home,
/// never a 500), and pages with personal data are never cached (ASVS 3, 8).
#[tokio::test]
async fn redirects_stay_local_and_personal_pages_are_not_cached() {
    for db in fazhi_testkit::engines().await {
        let (router, _, _) = setup(db.store.clone()).await;
        for (next, to) in [
            ("/petitions?x=1", "/petitions?x=1"),
            ("/x\r\nSet-Cookie: a=b", "/"),
            ("/\\evil.example", "/"),
            ("//evil.example", "/"),
            ("https://evil.example/", "/"),
        ] {
            let mut c = Client::new(router.clone());
            let page = c.get("/login").await;
            let csrf = Client::csrf_of(&page.body);
            let r = c
                .post(
                    "/login",
                    &[("csrf", &csrf), ("username", "admin"), ("password", DEMO_PASSWORD), ("next", next)],
                    ORIGIN,
                )
                .await;
            assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some(to)), "{next:?}");
            let home = c.get("/").await;
            assert_eq!(home.cache_control.as_deref(), Some("no-store"), "an authenticated page");
        }
        let mut c = Client::new(router.clone());
        assert_eq!(c.get("/api/v1/petitions").await.cache_control.as_deref(), Some("no-store"));
        assert!(c.get("/static/app.css").await.cache_control.unwrap().contains("max-age"), "assets keep theirs");
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
        let (tid, token) = integration_token(&app, "duijie.users", &["org.read", "user.read", "user.manage"]).await;

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
        assert_eq!((j["code"].as_str(), j["field"].as_str()), (Some("invalid_json"), Some("username")), "{j}");
        assert_eq!(j["message"], "字段 username 应为文本，收到的是数值 5");

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

/// Found by fuzzing the API against its OpenAPI document: every rejection of a body, a
/// query string or a path id is the API's error body with a Chinese message naming the
/// field, with a status the document declares; none is a 500 or the framework's text.
#[tokio::test]
async fn api_rejections_are_the_error_body() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let perms = ["org.read", "org.manage", "user.read", "user.manage"];
        let (_, token) = integration_token(&app, "fuzz.api", &perms).await;
        let t = Some(token.as_str());
        for (path, field) in [
            ("/api/v1/users?org_id=9223372036854775808", "org_id"),
            ("/api/v1/users?limit=-99999999999999999999", "limit"),
            ("/api/v1/users?offset=1.5", "offset"),
            ("/api/v1/users?limit=1&limit=2", "limit"),
            ("/api/v1/search?q=x&limit=%FF", "limit"),
        ] {
            let (s, j) = api(&router, "GET", path, t, None).await;
            assert_eq!(
                (s, j["code"].as_str(), j["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"), Some(field)),
                "{path}: {j}"
            );
            assert!(j["message"].as_str().unwrap().contains(&format!("查询参数 {field}")), "{path}: {j}");
        }
        for path in
            ["/api/v1/users/%00", "/api/v1/users/99999999999999999999", "/api/v1/petitions/1e3", "/api/v1/orgs/%FF"]
        {
            let (s, j) = api(&router, "GET", path, t, None).await;
            assert_eq!((s, j["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}: {j}");
            assert!(j["message"].as_str().unwrap().starts_with("地址中的"), "{path}: {j}");
        }
        let body = r#"{"username":"fuzz.user","display_name":"模糊","org_id":2,"roles":[1,"x"]}"#;
        let (s, j) = api(&router, "POST", "/api/v1/users", t, Some(body)).await;
        assert_eq!(
            (s, j["code"].as_str(), j["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_json"), Some("roles[1]")),
            "{j}"
        );
        let (s, j) = api(&router, "POST", "/api/v1/orgs", t, Some(r#"{"name":"科"}"#)).await;
        assert_eq!((s, j["message"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("缺少必填字段 kind")), "{j}");
        let (s, j) = api(&router, "POST", "/api/v1/petitions", t, Some("\u{0}")).await;
        assert_eq!((s, j["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")), "{j}");
        let req = Request::post("/api/v1/orgs")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from("{}"))
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let j: serde_json::Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(j["code"], "invalid_json");
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

/// 发文机关署名 is edited in the node's form: shown, validated, cleared back to the name.
#[tokio::test]
async fn the_official_name_is_set_in_the_org_form() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let all = fazhi_store::org::list_nodes(&app.store.read, Some(&fazhi_domain::access::ScopeFilter::All));
        let street = all.await.unwrap().into_iter().find(|n| n.name == "万兴街道").unwrap().id;
        let mut c = Client::new(router);
        c.login("admin", DEMO_PASSWORD).await;
        let path = format!("/org/{street}");
        let page = c.get(&path).await;
        assert!(page.body.contains("value=\"天津市南开区人民政府万兴街道办事处\""), "the demo's full name");
        let csrf = Client::csrf_of(&page.body);
        let long = "长".repeat(51);
        let post = |official: String| {
            vec![
                ("csrf", csrf.clone()),
                ("name", "万兴街道".into()),
                ("code", String::new()),
                ("official_name", official),
            ]
        };
        let form = post(long);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.post(&path, &form, ORIGIN).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("发文机关署名最多 50 个字"), "{}", r.body);
        let form = post("天津市南开区万兴街道办事处".into());
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(c.post(&path, &form, ORIGIN).await.status, StatusCode::SEE_OTHER);
        let node = fazhi_store::org::get_node(&app.store.read, fazhi_domain::OrgId(street)).await.unwrap().unwrap();
        assert_eq!(node.official_name(), "天津市南开区万兴街道办事处");
        let form = post(" ".into());
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(c.post(&path, &form, ORIGIN).await.status, StatusCode::SEE_OTHER);
        let node = fazhi_store::org::get_node(&app.store.read, fazhi_domain::OrgId(street)).await.unwrap().unwrap();
        assert_eq!((node.official_name.as_deref(), node.official_name()), (None, "万兴街道"), "empty: the name");
        assert!(c.get(&path).await.body.contains("未另设，用机构名称"));
    }
}

/// 三员分立 on the user page: the 系统管理员 edits the account without touching its roles, the
/// 安全管理员 assigns roles without touching the account, and nobody sees their own roles as
/// checkboxes (the app refuses them anyway).
#[tokio::test]
async fn the_user_page_splits_account_and_roles() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let zhifa = fazhi_store::users::get_by_username(&app.store.read, "zhifa").await.unwrap().unwrap();
        let roles_of = |app: &App, id| {
            let app = app.clone();
            async move { fazhi_store::users::role_ids_of(&app.store.read, id).await.unwrap() }
        };
        let before = roles_of(&app, zhifa.user_id()).await;
        let path = format!("/users/{}", zhifa.id);

        let mut admin = Client::new(router.clone());
        admin.login("admin", DEMO_PASSWORD).await;
        let page = admin.get(&path).await.body;
        assert!(!page.contains("type=\"checkbox\" name=\"roles\""), "no role checkboxes for the 系统管理员");
        let csrf = Client::csrf_of(&page);
        let org = zhifa.org_id.to_string();
        let mut form = vec![("csrf", csrf.as_str()), ("display_name", "周改名"), ("mobile", ""), ("org_id", &org)];
        let ids: Vec<String> = before.iter().map(|r| r.0.to_string()).collect();
        form.extend(ids.iter().map(|i| ("roles", i.as_str())));
        let r = admin.post(&path, &form, ORIGIN).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(roles_of(&app, zhifa.user_id()).await, before, "roles kept as they were");

        let mut anquan = Client::new(router.clone());
        anquan.login("anquan", DEMO_PASSWORD).await;
        let page = anquan.get(&path).await.body;
        assert!(page.contains("type=\"checkbox\" name=\"roles\""), "role checkboxes for the 安全管理员");
        assert!(!page.contains("name=\"display_name\" value=\"周改名\" maxlength"), "the name is not editable");
        let me = fazhi_store::users::get_by_username(&app.store.read, "anquan").await.unwrap().unwrap();
        let own = anquan.get(&format!("/users/{}", me.id)).await.body;
        assert!(!own.contains("type=\"checkbox\" name=\"roles\""), "no checkboxes for one's own roles");
    }
}
