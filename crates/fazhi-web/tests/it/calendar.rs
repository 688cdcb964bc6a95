//! The holiday calendar over HTTP (issue 13): the import in two steps (preview, then confirm
//! with the preview's token), the refusal of a year lacking a statutory holiday, a stale
//! confirmation shown again as a fresh preview, a year's page, the November warning, and the
//! same through the JSON API.

use axum::http::StatusCode;
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_app::clocks::YearOrigin;

use super::{Client, ORIGIN, api, setup};

/// The import: one line for 2026, which would replace the whole built-in 2026.
const ONE_LINE_2026: &str = "year 2026 某通知\noff 2026-01-01..2026-01-03 元旦\n";
/// A complete test 2027 (every statutory holiday of the 办法 as revised in 2024).
const FULL_2027: &str = "year 2027 测试用安排\noff 2027-01-01..2027-01-03 元旦\noff 2027-02-05..2027-02-11 春节\n\
    off 2027-04-05 清明节\noff 2027-05-01..2027-05-05 劳动节\noff 2027-06-09 端午节\noff 2027-09-15 中秋节\n\
    off 2027-10-01..2027-10-07 国庆节\n";
const FULL_2028: &str = "year 2028 测试用安排\noff 2028-01-01 元旦\noff 2028-01-25..2028-01-28 春节\n\
    off 2028-04-04 清明节\noff 2028-05-01..2028-05-02 劳动节\noff 2028-05-28 端午节\n\
    off 2028-10-01..2028-10-04 国庆节、中秋节\n";

/// 10:00 Beijing time on `d`.
fn at(d: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// The value of the hidden field `name` in a page.
fn field(body: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let i = body.find(&key).unwrap_or_else(|| panic!("no field {name}")) + key.len();
    body[i..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_web_import_is_previewed_then_confirmed() {
    for db in fazhi_testkit::engines().await {
        let (router, clock, app) = setup(db.store.clone()).await;
        clock.set(at("2026-11-02"));
        let mut a = Client::new(router.clone());
        a.login("sysadmin", DEMO_PASSWORD).await;
        assert!(a.get("/").await.body.contains("尚未导入 2027 年的节假日安排"), "home notice from 1 November");
        let page = a.get("/calendar").await.body;
        assert!(page.contains("尚未导入 2027 年的节假日安排") && page.contains("href=\"/calendar/2026\""));
        let csrf = Client::csrf_of(&page);

        // Step one: the diff, the missing festivals, the confirmation form; nothing written.
        let r = a.post("/calendar", &[("csrf", &csrf), ("schedule", ONE_LINE_2026)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::OK);
        for s in [
            "2026 年：替换现有安排",
            "取消的放假日",
            "2026-10-01（星期四） 至 2026-10-07（星期三）",
            "缺少“国庆节”",
            "确认偏离法定节假日",
        ] {
            assert!(r.body.contains(s), "{s}: {}", r.body);
        }
        let token = field(&r.body, "token");
        // Confirmed without the override: refused naming the festivals, shown again.
        let form = [("csrf", csrf.as_str()), ("schedule", ONE_LINE_2026), ("token", &token)];
        let r = a.post("/calendar/confirm", &form, ORIGIN).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("缺少“春节”") && r.body.contains("全国年节及纪念日放假办法"), "{}", r.body);
        assert_eq!(app.calendar_year(2026).await.unwrap().origin, YearOrigin::Builtin, "nothing imported");

        // A complete year: previewed, confirmed, imported.
        let r = a.post("/calendar", &[("csrf", &csrf), ("schedule", FULL_2027)], ORIGIN).await;
        assert!(r.body.contains("2027 年：新增年度") && !r.body.contains("确认偏离法定节假日"), "{}", r.body);
        let token = field(&r.body, "token");
        let form = [("csrf", csrf.as_str()), ("schedule", FULL_2027), ("token", &token)];
        let r = a.post("/calendar/confirm", &form, ORIGIN).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/calendar?done=calendar_imported"))
        );
        assert!(!a.get("/calendar").await.body.contains("尚未导入"));
        // The same confirmation again: the calendar changed since; a fresh preview instead.
        let r = a.post("/calendar/confirm", &form, ORIGIN).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("预览之后已被修改") && r.body.contains("与现有安排逐日相同"), "{}", r.body);
        assert_ne!(field(&r.body, "token"), token);

        let y = a.get("/calendar/2027").await;
        assert_eq!(y.status, StatusCode::OK);
        assert!(
            y.body.contains("由 sysadmin 于") && y.body.contains("春节") && y.body.contains("第 1 版"),
            "{}",
            y.body
        );
        // Anyone signed in reads a year; only calendar managers import.
        let mut z = Client::new(router);
        z.login("zhifa", DEMO_PASSWORD).await;
        let y = z.get("/calendar/2026").await;
        assert!(y.status == StatusCode::OK && y.body.contains("程序内置"), "{}", y.body);
        let zcsrf = Client::csrf_of(&y.body);
        let r = z.post("/calendar", &[("csrf", &zcsrf), ("schedule", FULL_2028)], ORIGIN).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(z.get("/calendar/2031").await.status, StatusCode::NOT_FOUND);
    }
}

/// The calendar API: the import is the installation's 系统管理员's (a person, on the
/// ledger by name), never an integration account's — a token is refused; the year view is
/// open to every token; the document names the three paths.
#[tokio::test]
async fn the_api_refuses_tokens_the_import_and_shows_a_year() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let (_, token) = super::integration_token(&app, "cal.sync", &["petitions.read"]).await;
        let t = Some(token.as_str());
        let body = serde_json::json!({"schedule": FULL_2028}).to_string();
        let (s, j) = api(&router, "POST", "/api/v1/calendar/preview", t, Some(&body)).await;
        assert_eq!((s, j["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{j}");
        let wrong = serde_json::json!({"schedule": FULL_2028, "token": "0-abc"}).to_string();
        let (s, _) = api(&router, "POST", "/api/v1/calendar/import", t, Some(&wrong)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Imported by the installation's 系统管理员, then shown through the API.
        let sys = fazhi_store::users::get_by_username(&app.store.read, "sysadmin").await.unwrap().unwrap();
        let p = app.principal(sys.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &p, username: "sysadmin", source_addr: "" };
        let preview = app.preview_calendar_import(&by, FULL_2028).await.unwrap();
        let confirm = fazhi_app::clocks::ImportConfirm { token: &preview.token, override_statutory: false, reason: "" };
        app.import_calendar(&by, FULL_2028, &confirm).await.unwrap();
        let (s, j) = api(&router, "GET", "/api/v1/calendar/2028", t, None).await;
        assert_eq!(
            (s, j["origin"].as_str(), j["imported_by"].as_str()),
            (StatusCode::OK, Some("imported"), Some("sysadmin")),
            "{j}"
        );
        let (_, j) = api(&router, "GET", "/api/v1/calendar/2025", t, None).await;
        assert_eq!(j["origin"], "builtin");
        let (_, j) = api(&router, "GET", "/api/v1/openapi.json", None, None).await;
        for path in ["/api/v1/calendar/preview", "/api/v1/calendar/import", "/api/v1/calendar/{year}"] {
            assert!(j["paths"][path].is_object(), "{path} documented");
        }
    }
}
