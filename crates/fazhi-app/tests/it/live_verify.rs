//! `ledger verify` on a live system: run while petitions are registered and handled, it
//! must report nothing (issue 12: it used to name innocent records as deleted or inserted
//! and report node mismatches), and still catch an edit made in the middle of it all.

use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};

use super::{demo, org_id, who};

fn draft(org: i64, n: usize) -> IntakeDraft {
    IntakeDraft {
        channel: "visit".into(),
        category: "claim".into(),
        subject: "物业".into(),
        title: format!("小区消防通道被占用 第{n}件"),
        content: "万兴里小区消防通道长期被电动自行车占用，物业不清理，请求处理".into(),
        headcount: Some(1),
        received_on: fazhi_domain::clock::beijing_date(super::T0).to_string(),
        org_id: Some(org),
        petitioners: vec![PetitionerDraft {
            name: format!("张{n}"),
            phone: "13800000000".into(),
            id_number: String::new(),
            address: "万兴里 3 号楼".into(),
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_while_writing_reports_nothing() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let worker = who(&app, "xinfang").await;
        let office = org_id(&app, "信访办").await.0;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let by = By { who: &worker, username: "xinfang", source_addr: "" };
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    app.intake(&by, &draft(office, n)).await.unwrap();
                    n += 1;
                    if n % 7 == 0 {
                        app.checkpoint_all().await.unwrap();
                    }
                }
                n
            })
        };
        for round in 0..6 {
            let reports = app.verify_ledger(&super::op(), None, |_, _| {}).await.unwrap();
            for r in &reports {
                assert!(r.problems.is_empty(), "{:?} round {round}: {}: {:?}", db.engine(), r.org_name, r.problems);
            }
            let problems = app.verify_records(&super::op(), |_| {}).await.unwrap().problems;
            assert!(problems.is_empty(), "{:?} round {round}: {problems:?}", db.engine());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let written = writer.await.unwrap();
        assert!(written > 0, "nothing was written while verifying");
    }
}
