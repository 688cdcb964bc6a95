//! Attachments on both engines: streamed upload with limits and content sniffing, stored
//! once by hash, recorded in the ledger, downloads under the record's scope, damaged blobs
//! never served and reported by verification.

use fazhi_app::AppError;
use fazhi_app::attachments::BlobProblem;
use fazhi_app::org::By;
use fazhi_store::blobs::BlobStore;

use super::{demo, org_id, who};

fn png(extra: usize) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    v.extend((0..extra).map(|i| (i % 251) as u8));
    v
}

async fn upload(app: &fazhi_app::App, by: &By<'_>, node: i64, name: &str, bytes: &[u8]) -> Result<i64, AppError> {
    let mut up = app.begin_upload(by, "org_node", &node.to_string()).await?;
    for chunk in bytes.chunks(7_000) {
        if let Err(e) = up.write(chunk).await {
            up.discard().await;
            return Err(e);
        }
    }
    Ok(app.finish_upload(by, up, name).await?.id)
}

#[tokio::test]
async fn upload_dedup_ledger_and_scope() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let app = app.with_blobs(BlobStore::memory(), 64 * 1024);
        let admin = who(&app, "admin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await.0;

        let a = upload(&app, &by, street, "C:\\照片\\现场.png", &png(20_000)).await.unwrap();
        let b = upload(&app, &by, street, "again.png", &png(20_000)).await.unwrap();
        assert_ne!(a, b);
        let list = app.attachments_of(&admin, "org_node", &street.to_string()).await.unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "现场.png");
        assert_eq!(list[0].mime, "image/png");
        assert_eq!(list[0].blob_hash, list[1].blob_hash, "same bytes, one blob");
        let blobs: i64 =
            fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar("select count(*) from blob").fetch_one(e).await)
                .unwrap();
        assert_eq!(blobs, 1);

        // The ledger entry of the record carries the file's hash, name, size and type.
        let t = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.to_string()).unwrap())
            .await
            .unwrap();
        let e = t.iter().rev().find(|e| e.action == "attachment.add").unwrap();
        assert_eq!(e.attachments[0].hash, list[1].blob_hash);
        assert_eq!(e.attachments[0].size, 20_016);

        // Download under the record's scope.
        let (row, bytes) = app.open_attachment(&admin, a).await.unwrap();
        assert_eq!((row.size, bytes.len()), (20_016, 20_016));
        assert!(app.open_attachment(&who(&app, "ducha").await, a).await.is_ok(), "district reads all its streets");
        let e = app.open_attachment(&who(&app, "wangge").await, a).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
        // A 社区 worker may not attach to the street node either — refused before any byte.
        let wangge = who(&app, "wangge").await;
        let by_w = By { who: &wangge, username: "wangge", source_addr: "" };
        assert!(matches!(app.begin_upload(&by_w, "org_node", &street.to_string()).await, Err(AppError::Forbidden(_))));
        assert!(matches!(app.begin_upload(&by, "nope", "1").await, Err(AppError::NotFound(_))));
    }
}

#[tokio::test]
async fn refused_uploads_leave_nothing_behind() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let blobs = BlobStore::memory();
        let app = app.with_blobs(blobs.clone(), 64 * 1024);
        let admin = who(&app, "admin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await.0;
        let before = app
            .timeline(&super::op(), fazhi_domain::record::RecordKey::parse("org_node", &street.to_string()).unwrap())
            .await
            .unwrap()
            .len();

        let e = upload(&app, &by, street, "big.png", &png(70 * 1024)).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("file").unwrap().contains("大小上限")), "{e:?}");
        let e = upload(&app, &by, street, "setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00").await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("file").unwrap().contains("不接受")), "{e:?}");
        let e = upload(&app, &by, street, "renamed.pdf", b"plain text pretending to be a pdf").await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid(f) if f.get("file").unwrap().contains("无法识别")), "{e:?}");
        let e = upload(&app, &by, street, "empty.pdf", b"").await.unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)));

        assert_eq!(blobs.leftover_uploads().await.unwrap(), 0, "no temporary upload left");
        let rows: i64 =
            fazhi_store::run!(&app.store.read, |e| sqlx::query_scalar("select count(*) from blob").fetch_one(e).await)
                .unwrap();
        assert_eq!(rows, 0);
        assert_eq!(
            app.timeline(
                &super::op(),
                fazhi_domain::record::RecordKey::parse("org_node", &street.to_string()).unwrap()
            )
            .await
            .unwrap()
            .len(),
            before,
            "nothing recorded"
        );
    }
}

#[tokio::test]
async fn a_damaged_blob_is_never_served_and_is_reported() {
    for db in fazhi_testkit::engines().await {
        let (app, _) = demo(db.store.clone()).await;
        let blobs = BlobStore::memory();
        let app = app.with_blobs(blobs.clone(), 1024 * 1024);
        let admin = who(&app, "admin").await;
        let by = By { who: &admin, username: "admin", source_addr: "" };
        let street = org_id(&app, "万兴街道").await.0;
        let id = upload(&app, &by, street, "a.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n").await.unwrap();
        assert_eq!(app.verify_blobs(|_| {}).await.unwrap(), (1, vec![]));
        let (row, _) = app.open_attachment(&admin, id).await.unwrap();
        blobs.overwrite_for_test(&row.blob_hash, b"%PDF-1.7 tampered".to_vec()).await.unwrap();
        let e = app.open_attachment(&admin, id).await.unwrap_err();
        assert!(matches!(&e, AppError::Refused(m) if m.contains("已损坏")), "{e:?}");
        let (_, problems) = app.verify_blobs(|_| {}).await.unwrap();
        assert_eq!(problems, vec![BlobProblem::Mismatch { hash: row.blob_hash.clone() }]);
        blobs.delete(&row.blob_hash).await.unwrap();
        let (_, problems) = app.verify_blobs(|_| {}).await.unwrap();
        assert_eq!(problems, vec![BlobProblem::Missing { hash: row.blob_hash }]);
    }
}
