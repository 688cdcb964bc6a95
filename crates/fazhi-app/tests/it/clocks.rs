//! Statutory clocks on both engines: due dates over the holiday calendar, 黄牌/红牌 by the
//! scan with notifications to the owner and leaders (once), completion, unknown years and
//! importing a new year's schedule, and the job queue.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use fazhi_app::clocks::ClockTarget;
use fazhi_app::org::By;
use fazhi_domain::UserId;

use super::{demo, org_id, who};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 10:00 Beijing time on `d`, as unix milliseconds.
fn at(d: &str) -> i64 {
    date(d).and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

#[tokio::test]
async fn cards_notify_owner_and_leaders_once() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-09-21"));
        let admin = who(&app, "admin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await;
        let xinfang = who(&app, "xinfang").await;
        let target = ClockTarget {
            record_type: "org_node",
            record_id: street.0.to_string(),
            org: street,
            owner: Some(xinfang.user_id),
        };
        // 20 working days from 2026-09-21 skip 中秋 (09-25..27) and 国庆 (10-01..07), count
        // the make-up Saturday 10-10: due 2026-10-26.
        let id = app.start_clock(&by, target, "disclosure.reply", date("2026-09-21")).await.unwrap();
        let v = &app
            .clocks_of(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()[0];
        assert_eq!(v.row.due_date.as_deref(), Some("2026-10-26"));
        assert!(v.steps.iter().any(|s| s.contains("国庆节")), "{:?}", v.steps);
        assert!(
            app.timeline(
                &super::op(),
                fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap()
            )
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "clock.start")
        );

        clock.set(at("2026-10-20"));
        assert_eq!(app.scan_clocks(&super::op()).await.unwrap().yellow, 0);
        clock.set(at("2026-10-21"));
        let r = app.scan_clocks(&super::op()).await.unwrap();
        assert_eq!((r.yellow, r.red), (1, 0));
        assert_eq!(r.notified, 3, "owner xinfang + leaders zhuren and fenguan");
        assert_eq!(app.scan_clocks(&super::op()).await.unwrap().notified, 0, "once per card");
        let zhuren = who(&app, "zhuren").await;
        assert_eq!(app.unread(zhuren.user_id).await.unwrap(), 1);

        clock.set(at("2026-10-27"));
        let r = app.scan_clocks(&super::op()).await.unwrap();
        assert_eq!((r.yellow, r.red, r.notified), (0, 1, 3));
        let inbox = app.inbox(zhuren.user_id).await.unwrap();
        assert!(inbox[0].title.starts_with("【红牌】"), "most urgent first: {:?}", inbox[0].title);
        assert_eq!(app.mark_read(zhuren.user_id, None).await.unwrap(), 2);
        assert_eq!(app.unread(zhuren.user_id).await.unwrap(), 0);
        // The 社区 worker is neither owner nor leader: nothing for them.
        assert_eq!(app.unread(who(&app, "wangge").await.user_id).await.unwrap(), 0);

        // A leader sees the overdue clock of their org; another street's admin does not.
        assert_eq!(app.clocks(&zhuren, true).await.unwrap()[0].row.card, "red");
        assert!(app.clocks(&who(&app, "wangge").await, true).await.unwrap().is_empty());

        app.complete_clock(&by, id, date("2026-10-27")).await.unwrap();
        let v = &app
            .clocks_of(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()[0];
        assert!(v.row.closed);
        assert_eq!(v.row.state, "missed");
        assert_eq!(app.scan_clocks(&super::op()).await.unwrap().checked, 0, "closed clocks are not scanned");
        let e = app
            .start_clock(
                &by,
                ClockTarget { record_type: "org_node", record_id: "1".into(), org: street, owner: None },
                "nope",
                date("2026-01-05"),
            )
            .await;
        assert!(e.is_err());
        let _ = UserId(0);
    }
}

#[tokio::test]
async fn unknown_year_then_import_recomputes() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-12-18"));
        let admin = who(&app, "sysadmin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await;
        let t = ClockTarget { record_type: "org_node", record_id: street.0.to_string(), org: street, owner: None };
        app.start_clock(&by, t, "disclosure.reply", date("2026-12-18")).await.unwrap();
        let v = &app
            .clocks_of(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()[0];
        assert_eq!(v.row.due_date, None);
        assert!(v.row.problem.contains("没有 2027 年的节假日安排"), "{}", v.row.problem);
        assert_eq!(app.calendar_status().1, Some(2027), "warning for admins from 1 November");

        let bad = app.preview_calendar_import(&by, "year 2027 test\noff 2027-13-01 元旦\n").await.unwrap_err();
        assert!(
            matches!(&bad, fazhi_app::AppError::Invalid(f) if f.get("schedule").unwrap().contains("第 2 行")),
            "{bad:?}"
        );
        let text = super::calendar::year_2027("测试用安排");
        assert_eq!(super::calendar::import(&app, &by, &text).await.unwrap().years, vec![2027]);
        let v = &app
            .clocks_of(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()[0];
        assert!(v.row.due_date.is_some() && v.row.problem.is_empty(), "{:?}", v.row);
        let actions: Vec<String> = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"clock.recompute".to_owned()), "{actions:?}");
        assert_eq!(app.calendar_status().1, None);

        // A restart loads the imported year from the database.
        let again = fazhi_app::App::new(app.store.clone(), clock.clone(), app.security);
        again.load_calendar().await.unwrap();
        assert!(again.calendar_status().0.contains(&2027));
        // Only admins with settings.manage import.
        let zhifa = who(&app, "zhifa").await;
        let by_z = By { who: &zhifa, username: "zhifa", source_addr: "" };
        assert!(matches!(app.preview_calendar_import(&by_z, &text).await, Err(fazhi_app::AppError::Forbidden(_))));
        let confirm = fazhi_app::clocks::ImportConfirm { token: "1-x", ..Default::default() };
        assert!(matches!(app.import_calendar(&by_z, &text, &confirm).await, Err(fazhi_app::AppError::Forbidden(_))));
    }
}

#[tokio::test]
async fn the_daily_job_runs_once_per_day() {
    for db in fazhi_testkit::engines().await {
        let (app, clock) = demo(db.store.clone()).await;
        clock.set(at("2026-10-21"));
        assert!(app.schedule_daily().await.unwrap());
        assert!(!app.schedule_daily().await.unwrap(), "one scan job per day");
        assert_eq!(app.run_jobs("w1").await.unwrap(), 1);
        assert_eq!(app.run_jobs("w1").await.unwrap(), 0);
        clock.set(at("2026-10-22"));
        assert!(app.schedule_daily().await.unwrap());
        let op = fazhi_domain::access::Principal::system(
            fazhi_domain::access::SystemActor::Operator,
            fazhi_domain::OrgId(0),
            fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
        );
        app.schedule_scan_now(&op).await.unwrap();
        assert_eq!(app.run_jobs("w2").await.unwrap(), 2);
    }
}

#[tokio::test]
async fn jobs_are_never_claimed_twice_by_concurrent_workers() {
    for db in fazhi_testkit::engines().await {
        let store = db.store.clone();
        for i in 0..60 {
            fazhi_store::jobs::enqueue(&store.write, "test", &format!("{{\"n\":{i}}}"), None, 1, 1).await.unwrap();
        }
        // Two "nodes": a second pool on the same database, and four workers on each.
        let url = match &store.write {
            fazhi_store::Db::Postgres(p) => Some(p.connect_options().as_ref().clone()),
            _ => None,
        };
        let other = match url {
            Some(opts) => {
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(8).connect_with(opts).await.unwrap();
                fazhi_store::Db::Postgres(pool)
            }
            None => store.write.clone(),
        };
        let mut tasks = Vec::new();
        for w in 0..8 {
            let db = if w % 2 == 0 { store.write.clone() } else { other.clone() };
            tasks.push(tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut got = Vec::new();
                while let Some(job) = fazhi_store::jobs::claim(&db, &worker, 10, 60_000).await.unwrap() {
                    tokio::task::yield_now().await;
                    assert!(fazhi_store::jobs::complete(&db, job.id, &worker, 11).await.unwrap());
                    got.push(job.id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let unique: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), 60, "every job ran");
        assert_eq!(unique.len(), 60, "no job ran twice");
    }
}

#[tokio::test]
async fn webhooks_are_delivered_and_a_failing_one_is_retried_without_blocking() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for db in fazhi_testkit::engines().await {
        let (mut app, clock) = demo(db.store.clone()).await;
        // The delivery goes to a local mock: plain http to loopback, allowed for tests only.
        app.webhooks =
            std::sync::Arc::new(fazhi_app::webhook::WebhookPolicy { allow_loopback_http: true, ..Default::default() });
        clock.set(at("2026-09-21"));
        let admin = who(&app, "admin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= i + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n{\"errcode\":0}").await.unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        let bad = app.set_webhook(&by, street, "ftp://x").await.unwrap_err();
        assert!(matches!(bad, fazhi_app::AppError::Invalid(_)));
        app.set_webhook(&by, street, &format!("http://{addr}/cgi-bin/webhook/send?key=SECRET")).await.unwrap();
        assert_eq!(app.webhook_of(street).await.unwrap().unwrap(), format!("http://{addr}"));
        let entry = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.0.to_string()).unwrap())
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert!(!entry.change.to_string().contains("SECRET"), "the robot key never enters the ledger");

        let t = ClockTarget { record_type: "org_node", record_id: street.0.to_string(), org: street, owner: None };
        app.start_clock(&by, t, "disclosure.reply", date("2026-09-21")).await.unwrap();
        clock.set(at("2026-10-27"));
        app.scan_clocks(&super::op()).await.unwrap();
        assert_eq!(app.run_jobs("w").await.unwrap(), 1, "one webhook delivery");
        let request = server.await.unwrap();
        assert!(
            request.contains("\"msgtype\"") && request.contains("\"markdown\"") && request.contains("红牌"),
            "{request}"
        );

        // A webhook that fails: the scan still completes; the delivery is retried later.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        app.set_webhook(&by, street, &format!("http://{closed}/hook")).await.unwrap();
        let community = org_id(&app, "兴南社区").await;
        let t =
            ClockTarget { record_type: "org_node", record_id: community.0.to_string(), org: community, owner: None };
        clock.set(at("2026-09-21"));
        app.start_clock(&by, t, "disclosure.reply", date("2026-09-21")).await.unwrap();
        clock.set(at("2026-10-27"));
        let r = app.scan_clocks(&super::op()).await.unwrap();
        assert!(r.notified > 0);
        assert_eq!(app.run_jobs("w").await.unwrap(), 1);
        let (attempts, run_at): (i64, i64) = fazhi_store::run!(&app.store.read, |e| sqlx::query_as(
            "select attempts, run_at from job where kind = 'webhook' and done_at is null"
        )
        .fetch_one(e)
        .await)
        .unwrap();
        assert_eq!(attempts, 1);
        assert!(run_at > at("2026-10-27"), "retried later with back-off");
        assert_eq!(app.run_jobs("w").await.unwrap(), 0, "not before its time");
    }
}
