//! Reading a log for verification: what `LogReader::entries` / `LogReader::nodes` hand the
//! verifier is what `append` stored, and edits of the stored change text are reported.

use fazhi_ledger::tree::{Hash, MemTree, NodeId};
use fazhi_ledger::verify::{LogVerifier, Problem};
use fazhi_ledger::{AttachmentRef, Entry, HashAlg};
use fazhi_store::ledger::{self, LogReader, NewEntry};
use fazhi_store::{Engine, Store, run};
use fazhi_testkit::engines;
use serde_json::json;

const LOG: i64 = 9;

async fn append_log(store: &Store, n: u64) -> Vec<Entry> {
    // The tests below tamper as someone with write access to the database would.
    fazhi_testkit::drop_ledger_guards(store).await;
    append_entries(store, n).await
}

async fn append_entries(store: &Store, n: u64) -> Vec<Entry> {
    let mut out = Vec::new();
    for i in 0..n {
        let attachments = if i % 5 == 3 {
            vec![AttachmentRef {
                hash: format!("{i:064x}"),
                name: format!("现场照片 \"{i}\"\n.jpg"),
                size: 1000 + i,
                mime: "image/jpeg".into(),
            }]
        } else {
            vec![]
        };
        let e = NewEntry {
            log_id: LOG,
            at: 1_780_000_000_000 + i as i64,
            actor_id: (i % 4 != 0).then_some(i as i64),
            actor_name: "王\t\"管理\"".into(),
            record_type: "petition".into(),
            record_id: i.to_string(),
            action: "petition.register".into(),
            change: json!({"title": format!("第{i}件：噪声\u{1}扰民"), "n": i, "z": {"b": [1.5, null], "a": true}}),
            attachments,
        };
        let mut tx = store.begin().await.unwrap();
        out.push(ledger::append(&mut tx, HashAlg::Sha256, e).await.unwrap());
        tx.commit().await.unwrap();
    }
    out
}

/// Verifies the stored log, reading it in small chunks (so chunk boundaries are crossed);
/// returns the problems, the recomputed root and the number of stored interior nodes.
async fn verify(store: &Store) -> (Vec<Problem>, Hash, u64) {
    let mut v = LogVerifier::new(HashAlg::Sha256);
    let reader = LogReader::new(&store.read).await.unwrap();
    reader.entries(LOG, 8, |parts, leaf| v.stored_entry(parts, leaf)).await.unwrap();
    let mut nodes = 0;
    reader
        .nodes(LOG, 5, |id: NodeId, h| {
            nodes += 1;
            v.node(id, h)
        })
        .await
        .unwrap();
    reader.close().await;
    let root = v.root();
    let size = ledger::log(&store.read, LOG).await.unwrap().unwrap().0;
    (v.finish(size), root, nodes)
}

async fn exec(store: &Store, sql: &'static str, text: &str) {
    run!(&store.write, |x| sqlx::query(sql).bind(LOG).bind(text).execute(x).await.map(|_| ())).unwrap();
}

async fn set_change(store: &Store, seq: i64, text: &str) {
    run!(&store.write, |x| sqlx::query("update ledger_entry set change_json = $1 where log_id = $2 and seq = $3")
        .bind(text)
        .bind(LOG)
        .bind(seq)
        .execute(x)
        .await
        .map(|_| ()))
    .unwrap();
}

#[tokio::test]
async fn a_streamed_log_verifies_and_edited_change_text_is_reported() {
    for db in engines().await {
        let s = &db.store;
        let entries = append_log(s, 37).await;
        let (problems, root, nodes) = verify(s).await;
        assert!(problems.is_empty(), "{:?}: {problems:?}", db.engine());
        let mut t = MemTree::new(HashAlg::Sha256);
        for e in &entries {
            t.push(&e.leaf_bytes());
        }
        assert_eq!(root, t.root(), "{:?}", db.engine());
        assert_eq!(nodes, 37 - 3, "every interior node of 37 leaves: 18 + 9 + 4 + 2 + 1");

        // A text holding the separator of the fast form (or, on SQLite, bytes that are not
        // UTF-8) makes its chunk be read in the exact form: the edited entry is reported,
        // none of its neighbours.
        let leaf_problems =
            |p: &[Problem]| p.iter().filter(|p| matches!(p, Problem::LeafMismatch { .. })).cloned().collect::<Vec<_>>();
        exec(s, "update ledger_entry set actor_name = 'x' || $2 || 'y' where log_id = $1 and seq = 3", "\u{1f}").await;
        let (problems, ..) = verify(s).await;
        assert_eq!(leaf_problems(&problems), vec![Problem::LeafMismatch { seq: 3 }], "{:?}", db.engine());
        exec(s, "update ledger_entry set actor_name = $2 where log_id = $1 and seq = 3", "王\t\"管理\"").await;
        if db.engine() == Engine::Sqlite {
            exec(s, "update ledger_entry set record_id = cast(x'ff' as text) || $2 where log_id = $1 and seq = 5", "")
                .await;
            let (problems, ..) = verify(s).await;
            assert_eq!(leaf_problems(&problems), vec![Problem::LeafMismatch { seq: 5 }]);
            exec(s, "update ledger_entry set record_id = $2 where log_id = $1 and seq = 5", "5").await;
        }
        assert!(verify(s).await.0.is_empty(), "{:?}", db.engine());

        // The same value in other text (a space after the first colon) is still an edit.
        let stored = fazhi_ledger::canonical::to_string(&entries[11].change);
        set_change(s, 11, &stored.replacen(':', ": ", 1)).await;
        let (problems, ..) = verify(s).await;
        assert_eq!(problems.first(), Some(&Problem::LeafMismatch { seq: 11 }), "{:?}: {problems:?}", db.engine());

        // Text that is not JSON at all is reported, not an error that stops the check.
        set_change(s, 11, &stored).await;
        set_change(s, 20, "{\"title\": 伪造").await;
        let (problems, ..) = verify(s).await;
        assert_eq!(problems.first(), Some(&Problem::LeafMismatch { seq: 20 }), "{:?}: {problems:?}", db.engine());
        assert!(!problems.contains(&Problem::LeafMismatch { seq: 11 }), "restored: {problems:?}");
        set_change(s, 20, &fazhi_ledger::canonical::to_string(&entries[20].change)).await;
        assert!(verify(s).await.0.is_empty(), "{:?}", db.engine());

        // Whole chunks read the same as single rows: the same entries in the same order,
        // with the same texts, attachments and stored leaves.
        let mut seen = Vec::new();
        LogReader::new(&s.read)
            .await
            .unwrap()
            .entries(LOG, 8, |p, leaf| {
                seen.push((p.seq, p.actor_id, p.attachments.to_vec(), p.change_json.to_owned(), leaf))
            })
            .await
            .unwrap();
        assert_eq!(seen.len(), entries.len());
        for ((seq, actor_id, attachments, change, leaf), e) in seen.into_iter().zip(&entries) {
            assert_eq!((seq, actor_id, &attachments), (e.seq, e.actor_id, &e.attachments));
            assert_eq!(change, fazhi_ledger::canonical::to_string(&e.change));
            assert_eq!(leaf, Some(HashAlg::Sha256.leaf(&e.leaf_bytes())));
        }

        // A deleted entry and a missing leaf across chunk boundaries (8 per chunk).
        run!(&s.write, |x| sqlx::query("delete from ledger_entry where log_id = $1 and seq = 16")
            .bind(LOG)
            .execute(x)
            .await
            .map(|_| ()))
        .unwrap();
        run!(&s.write, |x| sqlx::query("delete from ledger_node where log_id = $1 and level = 0 and idx = 24")
            .bind(LOG)
            .execute(x)
            .await
            .map(|_| ()))
        .unwrap();
        let (problems, ..) = verify(s).await;
        assert_eq!(problems.first(), Some(&Problem::Gap { seq: 16, found: 17 }), "{:?}: {problems:?}", db.engine());
        assert!(problems.contains(&Problem::MissingLeaf { seq: 24 }), "{:?}: {problems:?}", db.engine());
        assert!(problems.contains(&Problem::SizeMismatch { head: 37, found: 36 }), "{problems:?}");

        // Holes inside a chunk of stored hashes (leaf 29, node (1, 6)) and an edited node in
        // the same chunk: read row by row, each hash still meets its own entry or node.
        for sql in [
            "delete from ledger_node where log_id = $1 and level = 0 and idx = 29",
            "delete from ledger_node where log_id = $1 and level = 1 and idx = 6",
            "update ledger_node set hash = (select hash from ledger_node where log_id = $1 and level = 1 and idx = 0) \
             where log_id = $1 and level = 1 and idx = 7",
        ] {
            run!(&s.write, |x| sqlx::query(sql).bind(LOG).execute(x).await.map(|_| ())).unwrap();
        }
        let (problems, _, nodes) = verify(s).await;
        assert_eq!(nodes, 37 - 3 - 1);
        assert!(problems.contains(&Problem::MissingLeaf { seq: 29 }), "{:?}: {problems:?}", db.engine());
        assert!(!problems.contains(&Problem::MissingLeaf { seq: 28 }), "{:?}: {problems:?}", db.engine());
        assert!(!problems.contains(&Problem::MissingLeaf { seq: 30 }), "{:?}: {problems:?}", db.engine());
        assert!(problems.contains(&Problem::NodeMismatch { level: 1, index: 7 }), "{:?}: {problems:?}", db.engine());
        assert!(!problems.contains(&Problem::NodeMismatch { level: 1, index: 5 }), "{:?}: {problems:?}", db.engine());

        // A row moved far beyond the end is read (one jump, not a query per chunk between).
        run!(&s.write, |x| sqlx::query("update ledger_entry set seq = 1000000000000 where log_id = $1 and seq = 36")
            .bind(LOG)
            .execute(x)
            .await
            .map(|_| ()))
        .unwrap();
        let (problems, ..) = verify(s).await;
        assert!(
            problems.contains(&Problem::Gap { seq: 35, found: 1_000_000_000_000 }),
            "{:?}: {problems:?}",
            db.engine()
        );
    }
}

/// The append-only triggers (migration 0011) refuse every update, delete and truncate of the
/// ledger's tables and any shrinking of a head, on both engines; appending still works.
#[tokio::test]
async fn the_database_refuses_rewriting_the_ledger() {
    for db in engines().await {
        let s = &db.store;
        assert_eq!(append_entries(s, 5).await.len(), 5);
        let mut tried = vec![
            "update ledger_entry set actor_name = 'x' where log_id = $1",
            "delete from ledger_entry where log_id = $1 and seq = 4",
            "update ledger_node set hash = hash where log_id = $1",
            "delete from ledger_node where log_id = $1",
            "update ledger_log set size = 2 where log_id = $1",
            "delete from ledger_log where log_id = $1",
        ];
        if db.engine() == fazhi_store::Engine::Postgres {
            tried.push("truncate ledger_entry");
        }
        for sql in tried {
            let r = run!(&s.write, |x| sqlx::query(sqlx::AssertSqlSafe(sql.replace("$1", &LOG.to_string())))
                .execute(x)
                .await
                .map(|_| ()));
            let e = r.expect_err(sql).to_string();
            assert!(e.contains("append-only") || e.contains("only grows"), "{:?} {sql}: {e}", db.engine());
        }
        assert_eq!(ledger::log(&s.read, LOG).await.unwrap().unwrap().0, 5);
    }
}
