//! Full-text search on both engines: Chinese terms found, hostile queries harmless, data
//! scope applied in SQL, index writes follow their transaction.

use fazhi_domain::access::{Holder, ScopeFilter};
use fazhi_domain::org::OrgPath;
use fazhi_domain::record::Kind;
use fazhi_domain::{OrgId, UserId};
use fazhi_store::search::{self, MARK_END, MARK_START, SearchDoc, SearchHit, Segmenter};
use fazhi_store::{Store, org};
use fazhi_testkit::engines;

use super::tree;

/// The kinds these tests index under ("cases" and "memos": any two searchable kinds).
const CASE: &Kind = &fazhi_domain::record::PETITION;
const MEMO: &Kind = &fazhi_domain::record::MEDIATION;

fn doc(record_id: &str, org_id: OrgId, owner: Option<UserId>, title: &str, body: &str) -> SearchDoc<'static> {
    // The path is filled in by `put` from the stored node.
    let holder = Holder { org_id, org_path: OrgPath::root(org_id), owner };
    SearchDoc {
        kind: CASE,
        record_id: record_id.into(),
        holders: Box::leak(vec![holder].into_boxed_slice()),
        title: title.into(),
        body: body.into(),
        updated_at: 1,
    }
}

async fn put(store: &Store, d: &SearchDoc<'_>) {
    let mut holders = Vec::new();
    for h in d.holders {
        let node = org::get_node(&store.read, h.org_id).await.unwrap().expect("holder node exists");
        holders.push(Holder { org_path: node.org_path(), ..h.clone() });
    }
    let d = SearchDoc { holders: &holders, ..d.clone() };
    let mut tx = store.begin().await.unwrap();
    search::upsert_doc(&mut tx, &Segmenter::shared(), &d).await.unwrap();
    tx.commit().await.unwrap();
}

async fn find(store: &Store, q: &str, filter: Option<ScopeFilter>) -> Vec<SearchHit> {
    search::search(&store.read, &Segmenter::shared(), q, &[(CASE, filter)], 50).await.unwrap()
}

fn ids(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.record_id.as_str()).collect()
}

const DOCS: &[(&str, &str, &str)] = &[
    ("1", "关于万兴里社区违章搭建的行政处罚听证", "当事人申请听证，综合执法大队于三日内组织听证。"),
    ("2", "邻里纠纷人民调解", "兴南社区人民调解委员会主持调解，双方达成调解协议并申请司法确认。"),
    ("3", "电动自行车飞线充电隐患", "网格员巡查发现楼道内电动自行车飞线充电，已责令改正。"),
    ("4", "消防通道堵塞整改", "德庄社区3号楼消防通道被杂物占用，物业于2026年5月清理完毕。"),
];

#[tokio::test]
async fn chinese_terms_are_found_ranked_and_highlighted() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        for (id, title, body) in DOCS {
            put(s, &doc(id, t.community, None, title, body)).await;
        }
        let all = || Some(ScopeFilter::All);
        for (q, want) in [
            ("听证", "1"),
            ("调解", "2"),
            ("司法确认", "2"),
            ("电动自行车", "3"),
            ("自行车", "3"),
            ("飞线充电", "3"),
            ("消防通道", "4"),
            ("消防", "4"),
            ("行政处罚", "1"),
            ("综合执法", "1"),
            ("人民调解", "2"),
        ] {
            let hits = find(s, q, all()).await;
            assert_eq!(ids(&hits), vec![want], "{:?} {q}", db.engine());
        }
        // Terms are ANDed, across title and body.
        assert_eq!(ids(&find(s, "德庄社区 消防通道", all()).await), vec!["4"]);
        assert!(find(s, "德庄社区 听证", all()).await.is_empty());
        // Case-insensitive Latin and digits as they were segmented.
        assert!(find(s, "2026", all()).await.iter().any(|h| h.record_id == "4"));

        // Highlights in title and snippet; everything else as stored.
        let hit = &find(s, "听证", all()).await[0];
        assert!(hit.title.contains(&format!("{MARK_START}听证{MARK_END}")), "{}", hit.title);
        assert!(hit.snippet.contains(&format!("{MARK_START}听证{MARK_END}")), "{}", hit.snippet);
        assert_eq!(hit.module, CASE.module.code());
        assert_eq!(hit.record_type, CASE.code);
        assert_eq!(hit.org_id, t.community.0);

        // Ranking: the record that says it most often comes first.
        put(s, &doc("5", t.community, None, "会议纪要", "会上提到调解一次。")).await;
        let hits = find(s, "调解", all()).await;
        assert_eq!(ids(&hits), vec!["2", "5"], "{:?}", db.engine());
        assert!(hits[0].score > hits[1].score);

        // Update replaces the old text; delete removes the row.
        put(s, &doc("5", t.community, None, "会议纪要", "会上讨论了消防演练。")).await;
        assert_eq!(ids(&find(s, "调解", all()).await), vec!["2"]);
        let mut tx = s.begin().await.unwrap();
        search::delete_doc(&mut tx, CASE.code, "5").await.unwrap();
        search::delete_doc(&mut tx, CASE.code, "no-such").await.unwrap();
        tx.commit().await.unwrap();
        assert!(find(s, "消防演练", all()).await.is_empty());
        assert_eq!(search::count_docs(&s.read).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn hostile_queries_return_safely() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        for (id, title, body) in DOCS {
            put(s, &doc(id, t.community, None, title, body)).await;
        }
        let ten_kb: String = "听证调解，电动自行车！\"%'".chars().cycle().take(10 * 1024).collect();
        let hostile = [
            "",
            "   ",
            "，。！？、；：“”‘’（）《》——……",
            "!@#$%^&*()_+-=[]{}|\\:;<>,.?/~`",
            "hello world",
            "12345 67890",
            "\"",
            "\"\"\"",
            "%",
            "_%",
            "'",
            "'; drop table x; --",
            "'; drop table search_doc; --",
            "听证\" OR \"1\"=\"1",
            "NEAR(听证 调解)",
            "听证 OR 调解 NOT 消防",
            "听证*",
            "^听证",
            "segmented:听证",
            "{segmented}: 听证",
            "a\u{0}b",
            "\u{E000}听证\u{E001}",
            "²³ ① ⅷ",
            "é́ 🙂 𠀀",
            &ten_kb,
        ];
        for q in hostile {
            let r = search::search(&s.read, &Segmenter::shared(), q, &[(CASE, Some(ScopeFilter::All))], 20).await;
            assert!(r.is_ok(), "{:?} {:?}: {r:?}", db.engine(), q.chars().take(40).collect::<String>());
        }
        // The 10 KB query is cut to its head, whose terms are all in document 1 or 2: the
        // AND of 听证 and 调解 matches neither alone.
        assert!(find(s, &ten_kb, Some(ScopeFilter::All)).await.is_empty());
        // The table is still there and still answers.
        assert_eq!(search::count_docs(&s.read).await.unwrap(), DOCS.len() as i64);
        assert_eq!(ids(&find(s, "听证", Some(ScopeFilter::All)).await), vec!["1"]);
        // Nothing searchable, no module: no results (and no SQL).
        assert!(find(s, "，。", Some(ScopeFilter::All)).await.is_empty());
        assert!(search::search(&s.read, &Segmenter::shared(), "听证", &[], 20).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn another_streets_record_never_appears() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        put(s, &doc("a1", t.grid, None, "万兴街道听证笔录", "听证")).await;
        put(s, &doc("a2", t.dept, Some(UserId(7)), "执法大队听证通知", "听证")).await;
        put(s, &doc("b1", t.street_b, None, "学府街道听证笔录", "听证")).await;
        put(s, &doc("d1", t.district, None, "区级听证汇总", "听证")).await;
        let path = |id: OrgId| async move { org::get_node(&s.read, id).await.unwrap().unwrap().org_path() };
        let sorted = |hits: Vec<SearchHit>| {
            let mut v: Vec<String> = hits.into_iter().map(|h| h.record_id).collect();
            v.sort();
            v
        };
        let street_a = Some(ScopeFilter::Subtree(path(t.street_a).await));
        assert_eq!(sorted(find(s, "听证", street_a.clone()).await), vec!["a1", "a2"]);
        assert_eq!(sorted(find(s, "学府街道 听证", street_a.clone()).await), Vec::<String>::new());
        assert_eq!(sorted(find(s, "听证", Some(ScopeFilter::Subtree(path(t.street_b).await))).await), vec!["b1"]);
        assert_eq!(sorted(find(s, "听证", Some(ScopeFilter::Org(t.dept))).await), vec!["a2"]);
        assert_eq!(sorted(find(s, "听证", Some(ScopeFilter::Owner(UserId(7)))).await), vec!["a2"]);
        assert_eq!(sorted(find(s, "听证", None).await), Vec::<String>::new());
        assert_eq!(sorted(find(s, "听证", Some(ScopeFilter::All)).await), vec!["a1", "a2", "b1", "d1"]);

        // Each module is filtered by its own scope: street A for `case`, street B for `memo`.
        let memo = SearchDoc { kind: MEMO, ..doc("m1", t.street_b, None, "听证备忘", "") };
        put(s, &memo).await;
        let memo_a = SearchDoc { kind: MEMO, ..doc("m2", t.grid, None, "听证备忘", "") };
        put(s, &memo_a).await;
        let filters = [
            (CASE, street_a.clone()),
            (MEMO, Some(ScopeFilter::Subtree(path(t.street_b).await))),
            (&fazhi_domain::record::RECEPTION, None),
        ];
        let hits = search::search(&s.read, &Segmenter::shared(), "听证", &filters, 50).await.unwrap();
        assert_eq!(sorted(hits), vec!["a1", "a2", "m1"]);
        // A module without a filter entry is not searched at all.
        let hits =
            search::search(&s.read, &Segmenter::shared(), "听证", &[(MEMO, Some(ScopeFilter::All))], 50).await.unwrap();
        assert_eq!(sorted(hits), vec!["m1", "m2"]);
    }
}

#[tokio::test]
async fn index_writes_follow_their_transaction() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        put(s, &doc("1", t.community, None, "听证通知", "定于周五组织听证")).await;
        put(s, &doc("2", t.community, None, "调解记录", "调解成功")).await;
        {
            let mut tx = s.begin().await.unwrap();
            let seg = Segmenter::shared();
            search::upsert_doc(&mut tx, &seg, &doc("1", t.community, None, "消防通道检查", "检查消防通道"))
                .await
                .unwrap();
            search::delete_doc(&mut tx, CASE.code, "2").await.unwrap();
            search::upsert_doc(&mut tx, &seg, &doc("3", t.community, None, "电动自行车", "")).await.unwrap();
            // dropped without commit: rolled back
        }
        let all = || Some(ScopeFilter::All);
        assert_eq!(ids(&find(s, "听证", all()).await), vec!["1"]);
        assert_eq!(ids(&find(s, "调解", all()).await), vec!["2"]);
        assert!(find(s, "消防通道", all()).await.is_empty());
        assert!(find(s, "电动自行车", all()).await.is_empty());
        assert_eq!(search::count_docs(&s.read).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn scope_tokens_follow_a_moved_subtree() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        put(s, &doc("g1", t.grid, None, "网格巡查记录", "楼道堆物")).await;
        let node = |id: OrgId| async move { org::get_node(&s.read, id).await.unwrap().unwrap() };
        let street_a = Some(ScopeFilter::Subtree(node(t.street_a).await.org_path()));
        let street_b = Some(ScopeFilter::Subtree(node(t.street_b).await.org_path()));
        assert_eq!(ids(&find(s, "堆物", street_a.clone()).await), vec!["g1"]);
        assert!(find(s, "堆物", street_b.clone()).await.is_empty());

        // The community (with its grid) moves to street B: the index follows in the same
        // transaction, so street B finds the record and street A no longer does.
        let community = node(t.community).await;
        let mut tx = s.begin().await.unwrap();
        org::move_subtree(&mut tx, &community.node(), &node(t.street_b).await.node(), 2).await.unwrap();
        let moved = node(t.street_b).await.org_path().child(t.community);
        let (lo, hi) = moved.subtree_range();
        assert!(search::rescope_subtree(&mut tx, &lo, &hi).await.unwrap() >= 1);
        tx.commit().await.unwrap();
        assert_eq!(ids(&find(s, "堆物", street_b).await), vec!["g1"]);
        assert!(find(s, "堆物", street_a).await.is_empty());
        assert_eq!(ids(&find(s, "堆物", Some(ScopeFilter::Org(t.grid))).await), vec!["g1"]);
    }
}

#[tokio::test]
async fn a_common_term_is_ranked_among_its_newest_matches() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        let n = search::RANK_WINDOW as usize + 30;
        let mut tx = s.begin().await.unwrap();
        for i in 0..n {
            let d = doc(&format!("c{i}"), t.community, None, &format!("物业纠纷第{i}号"), "物业服务");
            search::upsert_doc(&mut tx, &Segmenter::shared(), &d).await.unwrap();
        }
        tx.commit().await.unwrap();
        let hits = find(s, "物业", Some(ScopeFilter::All)).await;
        assert_eq!(hits.len(), 50, "a full page");
        // Only the newest RANK_WINDOW documents are ranked: the 30 oldest never come first.
        for h in &hits {
            let i: usize = h.record_id.trim_start_matches('c').parse().unwrap();
            assert!(i >= 30, "{} is older than the ranking window", h.record_id);
        }
        // A rare term is still found wherever it is.
        put(s, &doc("old", t.community, None, "古树名木保护", "物业")).await;
        assert_eq!(ids(&find(s, "古树名木", Some(ScopeFilter::All)).await), vec!["old"]);
    }
}

/// Full-width and half-width forms are one word to search, whichever was typed where; text
/// indexed before the rule is rewritten once.
#[tokio::test]
async fn width_and_case_forms_are_one_word() {
    for db in engines().await {
        let s = &db.store;
        let t = tree(s).await;
        put(
            s,
            &doc("1", t.community, None, "热线转办", "市民拨打１２３４５热线反映小区ＷＩＦＩ故障，车牌津Ａ１２３４５"),
        )
        .await;
        put(s, &doc("2", t.community, None, "热线转办", "市民拨打12345热线反映wifi故障")).await;
        for q in ["12345", "１２３４５", "wifi", "ＷＩＦＩ", "WiFi"] {
            assert_eq!(ids(&find(s, q, Some(ScopeFilter::All)).await).len(), 2, "{:?}: {q}", db.engine());
        }
        assert_eq!(ids(&find(s, "津A12345", Some(ScopeFilter::All)).await), vec!["1"], "{:?}", db.engine());
        // A row indexed before normalisation (full-width text in the index) is found after
        // the one-time rewrite.
        fazhi_store::run!(&s.write, |e| sqlx::query(
            "update search_doc set segmented = '旧 ＡＢＣ１２３ 记录' where record_id = '2'"
        )
        .execute(e)
        .await
        .map(|_| ()))
        .unwrap();
        fazhi_store::run!(&s.write, |e| sqlx::query("delete from search_normalized").execute(e).await.map(|_| ()))
            .unwrap();
        assert!(find(s, "abc123", Some(ScopeFilter::All)).await.is_empty());
        assert_eq!(search::renormalize(s).await.unwrap(), 1);
        assert_eq!(ids(&find(s, "abc123", Some(ScopeFilter::All)).await), vec!["2"], "{:?}", db.engine());
        assert_eq!(search::renormalize(s).await.unwrap(), 0, "once");
    }
}
