//! The calendar is law (issue 13), on both engines: an import is previewed (diff, statutory
//! holidays, moved deadlines) without writing anything, confirmed with the preview's token,
//! refused when stale, refused when a statutory holiday is missing unless overridden with a
//! reason; a year's arrangement can be viewed.

use fazhi_app::clocks::{ClockTarget, ImportConfirm, YearOrigin};
use fazhi_app::org::By;
use fazhi_app::{App, AppError};
use fazhi_domain::record::RecordKey;

use super::calendar::{import, year_2027};
use super::{demo, op, org_id, who};

/// The import: one line for 2026, which would replace the whole built-in 2026.
const ONE_LINE_2026: &str = "year 2026 某通知\noff 2026-01-01..2026-01-03 元旦\n";

fn at(d: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// Everything an import writes: clock rows, stored years, calendar version, ledger size.
async fn snapshot(app: &App) -> (Vec<(i64, Option<String>, String)>, Vec<(i64, String)>, i64, i64) {
    let clocks = fazhi_store::run!(&app.store.read, |e| sqlx::query_as(
        "select id, due_date, problem from deadline_clock order by id"
    )
    .fetch_all(e)
    .await)
    .unwrap();
    let entries: i64 = fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar("select count(*) from ledger_entry")
        .fetch_one(e)
        .await)
    .unwrap();
    (
        clocks,
        fazhi_store::clocks::calendar_years(&app.store.read).await.unwrap(),
        fazhi_store::clocks::calendar_version(&app.store.read).await.unwrap(),
        entries,
    )
}

/// A 5-working-day 信访 clock (异议, 信访工作条例 第二十三条第三款) received 2026-09-30: due
/// 2026-10-13 with 国庆节, 2026-10-07 without.
async fn objection_clock(app: &App, by: &By<'_>) -> i64 {
    let org = org_id(app, "万兴街道").await;
    let t = ClockTarget { record_type: "org_node", record_id: org.0.to_string(), org, owner: None };
    let d = chrono::NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    app.start_clock(by, t, "petition.objection", d).await.unwrap()
}

#[tokio::test]
async fn the_preview_lists_the_moved_deadline_and_changes_nothing() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-09-30"));
        let admin = who(&app, "sysadmin").await;
        let by = By { who: &admin, username: "sysadmin", source_addr: "" };
        let id = objection_clock(&app, &by).await;
        let before = snapshot(&app).await;
        assert_eq!(before.0.iter().find(|c| c.0 == id).unwrap().1.as_deref(), Some("2026-10-13"));

        let p = app.preview_calendar_import(&by, ONE_LINE_2026).await.unwrap();
        assert_eq!(snapshot(&app).await, before, "a preview writes nothing");
        let m: Vec<_> = p.moved.iter().filter(|m| m.clock_id == id).collect();
        assert_eq!(m.len(), 1, "{:?}", p.moved);
        assert_eq!(
            (m[0].rule_id.as_str(), m[0].from.as_deref(), m[0].to.as_deref()),
            ("petition.objection", Some("2026-10-13"), Some("2026-10-07"))
        );
        assert_eq!(m[0].rule_name, "对不属于职权范围的转送、交办提出异议");
        let y = &p.years[0];
        assert!(y.diff.existed && y.diff.vanished_festivals.contains(&"国庆节".to_owned()));
        let missing: Vec<&str> = y.shortfalls.iter().map(|s| s.festival).collect();
        assert!(missing.contains(&"春节") && missing.contains(&"国庆节"), "{missing:?}");
        assert!(!p.complete());
        assert_eq!(p.version, before.2);
    }
}

#[tokio::test]
async fn an_incomplete_year_needs_the_override_and_a_reason_and_then_recomputes() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-09-30"));
        let admin = who(&app, "sysadmin").await;
        let by = By { who: &admin, username: "sysadmin", source_addr: "" };
        let id = objection_clock(&app, &by).await;
        let before = snapshot(&app).await;
        let token = app.preview_calendar_import(&by, ONE_LINE_2026).await.unwrap().token;

        let plain = ImportConfirm { token: &token, ..Default::default() };
        let e = app.import_calendar(&by, ONE_LINE_2026, &plain).await.unwrap_err();
        let AppError::Invalid(f) = &e else { panic!("{e:?}") };
        let m = f.get("schedule").unwrap();
        assert!(
            m.contains("缺少“春节”") && m.contains("缺少“国庆节”") && m.contains("全国年节及纪念日放假办法"),
            "{m}"
        );
        let no_reason = ImportConfirm { token: &token, override_statutory: true, reason: "  " };
        let e = app.import_calendar(&by, ONE_LINE_2026, &no_reason).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("override_reason").is_some()), "{e:?}");
        assert_eq!(snapshot(&app).await, before, "refusals write nothing");

        let reason = "测试：模拟通知只公布了元旦";
        let over = ImportConfirm { token: &token, override_statutory: true, reason };
        let out = app.import_calendar(&by, ONE_LINE_2026, &over).await.unwrap();
        assert_eq!((out.years.as_slice(), out.moved), ([2026].as_slice(), 1));
        let row = fazhi_store::clocks::get(&app.store.read, id).await.unwrap().unwrap();
        assert_eq!(row.due_date.as_deref(), Some("2026-10-07"));
        let json: String = fazhi_store::run!(&app.store.read, |e| {
            sqlx::query_scalar(
            "select change_json from ledger_entry where action = 'calendar.import' order by at desc, seq desc limit 1"
        )
        .fetch_one(e)
        .await
        })
        .unwrap();
        let change: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(change["override"]["reason"], reason);
        assert!(change["override"]["shortfalls"][0].as_str().unwrap().contains("春节"), "{change}");
        let key = RecordKey::parse("org_node", &row.record_id).unwrap();
        let moved = app.timeline(&op(), key).await.unwrap();
        let e = moved.iter().rfind(|e| e.action == "clock.recompute").unwrap();
        assert_eq!((e.change["from"].as_str(), e.change["to"].as_str()), (Some("2026-10-13"), Some("2026-10-07")));

        // The year as in force now: imported by admin over the built-in one, lacking 春节.
        let y = app.calendar_year(2026).await.unwrap();
        assert!(matches!(&y.origin, YearOrigin::Imported { by, replaces_builtin: true, .. } if by == "sysadmin"));
        assert_eq!(y.version, out.version);
        assert_eq!(y.schedule.entries().len(), 1);
        assert!(!y.shortfalls.is_empty());
    }
}

#[tokio::test]
async fn a_stale_or_altered_confirmation_is_refused() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-11-02"));
        let admin = who(&app, "sysadmin").await;
        let by = By { who: &admin, username: "sysadmin", source_addr: "" };
        assert_eq!(app.calendar_status().1, Some(2027), "warned from 1 November");
        assert_eq!(app.warn_if_next_year_missing(), Some(2027));
        let text = year_2027("测试用安排");
        let token = app.preview_calendar_import(&by, &text).await.unwrap().token;

        // The same schedule, other comments and line endings: the same token.
        let crlf = format!("# 注释\r\n{}", text.replace('\n', "\r\n"));
        assert_eq!(app.preview_calendar_import(&by, &crlf).await.unwrap().token, token);
        // Another text with this token: refused.
        let other = year_2027("另一份");
        let e = app.import_calendar(&by, &other, &ImportConfirm { token: &token, ..Default::default() }).await;
        assert!(matches!(&e, Err(AppError::Refused(m)) if m.contains("重新预览")), "{e:?}");

        // The calendar changes after the preview: the preview is stale.
        import(&app, &by, &other).await.unwrap();
        let before = snapshot(&app).await;
        let e = app.import_calendar(&by, &crlf, &ImportConfirm { token: &token, ..Default::default() }).await;
        assert!(matches!(&e, Err(AppError::Refused(m)) if m.contains("预览之后已被修改")), "{e:?}");
        assert_eq!(snapshot(&app).await, before, "nothing written");
        // Previewed again, it goes through.
        let p = app.preview_calendar_import(&by, &text).await.unwrap();
        assert!(p.complete() && p.years[0].diff.existed && p.years[0].diff.is_unchanged());
        import(&app, &by, &text).await.unwrap();
        assert_eq!(app.calendar_status().1, None);
    }
}

#[tokio::test]
async fn a_year_can_be_viewed() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let y = app.calendar_year(2025).await.unwrap();
        assert_eq!(y.origin, YearOrigin::Builtin);
        assert!(y.shortfalls.is_empty());
        assert_eq!(y.law, Some("《全国年节及纪念日放假办法》（2024年11月10日修订）"));
        assert!(matches!(app.calendar_year(2031).await, Err(AppError::NotFound(_))));
    }
}
