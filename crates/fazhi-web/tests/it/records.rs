//! Records across modules through the UI: the ledger portal and proofs, attachments, the
//! inbox, deadlines and the calendar.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fazhi_app::bootstrap::DEMO_PASSWORD;

use super::*;

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
        // A scan touches every street: the installation's 系统管理员 asks for it.
        let sysadmin = fazhi_store::users::get_by_username(&app.store.read, "sysadmin").await.unwrap().unwrap();
        app.schedule_scan_now(&app.principal(sysadmin.user_id()).await.unwrap()).await.unwrap();
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

        // The calendar is installation-wide: a street's 系统管理员 may look, only the
        // installation's may import.
        let mut a = Client::new(router);
        a.login("sysadmin", DEMO_PASSWORD).await;
        let page = a.get("/calendar").await;
        assert!(page.body.contains("2026"));
        let csrf = Client::csrf_of(&page.body);
        let r = a.post("/calendar", &[("csrf", &csrf), ("schedule", "year 2027\noff 2027-02-30 春节\n")], ORIGIN).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("第 2 行") && r.body.contains("2027-02-30"), "{}", r.body);
        // A valid text is previewed, not imported (the two steps: tests/it/calendar.rs).
        let r = a
            .post(
                "/calendar",
                &[("csrf", &csrf), ("schedule", "year 2027 测试\noff 2027-01-01..2027-01-03 元旦\n")],
                ORIGIN,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("尚未导入") && r.body.contains("缺少“春节”"), "{}", r.body);
    }
}

#[tokio::test]
async fn attachments_on_a_petition_follow_its_holders() {
    for db in fazhi_testkit::engines().await {
        let (router, _, app) = setup(db.store.clone()).await;
        let desk = fazhi_store::users::get_by_username(&app.store.read, "xinfang").await.unwrap().unwrap();
        let who = app.principal(desk.user_id()).await.unwrap();
        let by = fazhi_app::org::By { who: &who, username: "xinfang", source_addr: "" };
        let draft = fazhi_app::petitions::IntakeDraft {
            channel: "visit".into(),
            category: "claim".into(),
            title: "楼道堆物".into(),
            content: "楼道堆放杂物，影响消防通道".into(),
            petitioners: vec![fazhi_app::petitions::PetitionerDraft { name: "王秀兰".into(), ..Default::default() }],
            ..Default::default()
        };
        let item = app.intake(&by, &draft).await.unwrap();
        let png: &[u8] =
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 1, 2, 3];
        let url = format!("/records/petition/{}/attachments", item.id);
        let upload = |c: &Client, csrf: &str| {
            let (ct, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("现场照片.png"), png)]);
            Request::post(url.clone())
                .header(header::HOST, "fazhi.test")
                .header(header::ORIGIN, "http://fazhi.test")
                .header(header::COOKIE, c.cookie_header())
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };
        // The desk attaches a photo: back on the item page, listed, on the timeline.
        let mut c = Client::new(router.clone());
        c.login("xinfang", DEMO_PASSWORD).await;
        let page = c.get(&format!("/petitions/{}", item.id)).await;
        assert!(page.body.contains(&url), "the item page offers the upload");
        let csrf = Client::csrf_of(&page.body);
        let r = c.send(upload(&c, &csrf)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location.as_deref(), Some(format!("/petitions/{}?done=attachment_added", item.id).as_str()));
        let page = c.get(&format!("/petitions/{}", item.id)).await;
        assert!(page.body.contains("现场照片.png") && page.body.contains("上传附件"), "listed and recorded");
        // A user of another module (the enforcement officer) may neither upload nor read it.
        let mut other = Client::new(router);
        other.login("zhifa", DEMO_PASSWORD).await;
        let home = other.get("/").await;
        let csrf = Client::csrf_of(&home.body);
        assert_eq!(other.send(upload(&other, &csrf)).await.status, StatusCode::FORBIDDEN);
        let i = page.body.find("href=\"/attachments/").unwrap() + 19;
        let id: String = page.body[i..].chars().take_while(|ch| ch.is_ascii_digit()).collect();
        assert_eq!(other.get(&format!("/attachments/{id}")).await.status, StatusCode::FORBIDDEN);
    }
}
