//! Full-text search (全文检索): Chinese segmentation in Rust, the engine's own index.
//!
//! Every searchable record has ONE row in `search_doc` (unique by record type and id),
//! written with [`upsert_doc`] / [`delete_doc`] inside the transaction that changes the
//! record, so the index never disagrees with committed data. The row keeps the display text
//! (title, body) and the text pre-segmented by jieba ([`Segmenter::index_text`], search
//! mode: overlapping sub-words such as 电动 自行 行车 自行车 电动自行车). The engine indexes
//! that text with its own machinery: SQLite an external-content FTS5 table `search_fts`
//! kept in step by triggers, PostgreSQL a generated `tsvector` column with a GIN index.
//!
//! [`search`] segments the query the same way ([`Segmenter::query_terms`], precise mode),
//! ANDs the terms, filters by the caller's data scope IN SQL (one [`push_scope`] predicate
//! per search module; the same scope is ANDed into the full-text query as tokens the index
//! carries, [`scope_tokens`], so the index does the narrowing) and ranks (FTS5 `bm25`, PostgreSQL `ts_rank`). Snippets are cut from
//! the stored original text here, not by `snippet()`/`ts_headline`: those work on the
//! segmented text, whose overlapping sub-words read as garbage once the spaces are stripped
//! (电动自行行车自行车电动自行车), and they cannot mark a term that only matched as a
//! sub-word. Highlights are delimited by the private-use characters [`MARK_START`] and
//! [`MARK_END`]; [`marked_parts`] splits them for rendering (every part escaped by the
//! caller's template).
//!
//! Engine-specific SQL exists only here, in the MATCH / `@@` part of [`search`].

use fazhi_domain::access::{Holder, ScopeFilter};
use fazhi_domain::clock::Millis;
use fazhi_domain::org::OrgPath;
use fazhi_domain::record::Kind;
use fazhi_domain::{OrgId, UserId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use crate::db::{Db, Exec, Tx};
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, StoreError};

mod highlight;
mod renormalize;
mod segment;

use highlight::plain;
pub use highlight::{mark_terms, marked_parts, snippet, strip_marks};

pub use renormalize::renormalize;
#[cfg(test)]
use segment::dict_entries;
pub use segment::{DOMAIN_DICT, Segmenter, normalize};

/// Opens a highlighted part of a title or snippet (Unicode private use, never in stored text).
pub const MARK_START: char = '\u{E000}';
/// Closes a highlighted part.
pub const MARK_END: char = '\u{E001}';
/// At most this many query terms are used; the rest of a long query is ignored.
pub const MAX_QUERY_TERMS: usize = 16;
/// At most this many characters of a query are segmented (the app refuses or cuts longer
/// queries with a message before they get here; this is the store's own bound).
pub const MAX_QUERY_CHARS: usize = 200;
/// The most results one search returns.
pub const MAX_LIMIT: i64 = 100;
/// Results come from the newest this-many matches within the caller's scope tokens: a rare
/// term is ranked by relevance over all its matches; a common one (物业 is in four items of
/// ten) does not score thousands of records on every keystroke — its newest matches, newest
/// first on SQLite (whose bm25 would count every record holding the term) and by relevance
/// on PostgreSQL, are what a worker looks for anyway.
pub const RANK_WINDOW: i64 = 200;
/// Characters of body text shown around the first hit.
const SNIPPET_CHARS: usize = 80;
/// Characters of context kept before the first hit.
const SNIPPET_LEAD: usize = 20;

/// The FTS5 MATCH expression for `terms`: each term a quoted string (inner quotes doubled),
/// separated by spaces, which FTS5 reads as AND. Always passed as a bound parameter.
pub fn fts5_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

/// A record as the index sees it.
#[derive(Debug, Clone)]
pub struct SearchDoc<'a> {
    /// The record's kind: its read permission guards the document.
    pub kind: &'static Kind,
    pub record_id: String,
    /// Everyone who holds the record (at least one); the first is shown as its node. A
    /// search admits the document when ANY holder is in the caller's scope.
    pub holders: &'a [Holder],
    pub title: String,
    pub body: String,
    pub updated_at: Millis,
}

/// The scope tokens of a document's holders (migrations 0008/0009 hold the same expression
/// in SQL for existing rows): for each holder `zscs<id>` for every node from the root down
/// to its node, `zsco<id>` for its node, `zscu<id>` for its owner. Searches AND the
/// caller's tokens into the full-text query ([`scope_tokens`]).
pub fn scope_tokens_of(holders: &[Holder]) -> String {
    let mut out: Vec<String> = Vec::new();
    for h in holders {
        out.extend(h.org_path.ids().into_iter().map(|id| format!("zscs{}", id.0)));
        out.push(format!("zsco{}", h.org_id.0));
        out.extend(h.owner.map(|u| format!("zscu{}", u.0)));
    }
    out.join(" ")
}

const UPSERT_DOC: &str = "insert into search_doc (org_id, owner_id, module, record_type, record_id, title, body, \
    segmented, scope, updated_at) values ($1, $2, $10, $3, $4, $5, $6, $7, $8, $9) \
    on conflict (record_type, record_id) do update set org_id = excluded.org_id, owner_id = excluded.owner_id, \
    module = excluded.module, title = excluded.title, body = excluded.body, segmented = excluded.segmented, \
    scope = excluded.scope, updated_at = excluded.updated_at returning id";

/// Writes (or rewrites) the index row of a record and its holders, inside the caller's
/// transaction.
///
/// # Errors
/// [`StoreError::Corrupt`] for a document without holders; database errors.
pub async fn upsert_doc(tx: &mut Tx, seg: &Segmenter, doc: &SearchDoc<'_>) -> Result<()> {
    let Some(first) = doc.holders.first() else {
        return Err(StoreError::Corrupt(format!(
            "search document {} {} without holders",
            doc.kind.code, doc.record_id
        )));
    };
    let title = plain(&doc.title);
    let body = plain(&doc.body);
    let segmented = seg.index_text(&format!("{title}\n{body}"));
    let scope = scope_tokens_of(doc.holders);
    let id: i64 = run!(&mut *tx, |e| sqlx::query_scalar(UPSERT_DOC)
        .bind(first.org_id.0)
        .bind(first.owner.map(|u| u.0))
        .bind(doc.kind.code)
        .bind(&doc.record_id)
        .bind(&title)
        .bind(&body)
        .bind(&segmented)
        .bind(&scope)
        .bind(doc.updated_at)
        .bind(doc.kind.module.code())
        .fetch_one(e)
        .await)?;
    write_holders(tx, id, doc.holders).await
}

async fn write_holders(tx: &mut Tx, doc_id: i64, holders: &[Holder]) -> Result<()> {
    run!(&mut *tx, |e| sqlx::query("delete from search_holder where doc_id = $1")
        .bind(doc_id)
        .execute(e)
        .await
        .map(|_| ()))?;
    for h in holders {
        run!(&mut *tx, |e| sqlx::query("insert into search_holder (doc_id, org_id, owner_id) values ($1, $2, $3)")
            .bind(doc_id)
            .bind(h.org_id.0)
            .bind(h.owner.map(|u| u.0))
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

#[derive(Debug, FromRow)]
struct HolderPath {
    doc_id: i64,
    org_id: i64,
    path: String,
    owner_id: Option<i64>,
}

/// Rewrites the scope tokens of every document with a holder within `[lo, hi)` (a subtree's
/// path range), after that subtree moved. Inside the caller's transaction.
///
/// # Errors
/// Database errors.
pub async fn rescope_subtree(tx: &mut Tx, lo: &str, hi: &str) -> Result<u64> {
    const SQL: &str = "select h.doc_id, h.org_id, o.path, h.owner_id from search_holder h \
        join org_node o on o.id = h.org_id where h.doc_id in (select doc_id from search_holder \
        where org_id in (select id from org_node where path >= $1 and path < $2)) order by h.doc_id";
    let rows: Vec<HolderPath> = run!(&mut *tx, |e| sqlx::query_as(SQL).bind(lo).bind(hi).fetch_all(e).await)?;
    let mut n = 0;
    for group in rows.chunk_by(|a, b| a.doc_id == b.doc_id) {
        let holders: Vec<Holder> = group
            .iter()
            .filter_map(|r| {
                Some(Holder {
                    org_id: OrgId(r.org_id),
                    org_path: OrgPath::parse(&r.path)?,
                    owner: r.owner_id.map(UserId),
                })
            })
            .collect();
        let scope = scope_tokens_of(&holders);
        let doc = group[0].doc_id;
        run!(&mut *tx, |e| sqlx::query("update search_doc set scope = $2 where id = $1")
            .bind(doc)
            .bind(&scope)
            .execute(e)
            .await
            .map(|_| ()))?;
        n += 1;
    }
    Ok(n)
}

/// The full-text condition narrowing a search to the callers' scopes: `None` when some
/// module admits everything (no narrowing), else the tokens any admitted record must carry
/// one of. The SQL filter ([`push_filters`]) still decides; this only spares the work.
pub fn scope_tokens(filters: &[ModuleFilter<'_>]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (_, f) in filters {
        match f {
            None => {}
            Some(ScopeFilter::All) => return None,
            Some(ScopeFilter::Subtree(path)) => {
                out.extend(path.ids().last().map(|id| format!("zscs{}", id.0)));
            }
            Some(ScopeFilter::Org(id)) => out.push(format!("zsco{}", id.0)),
            Some(ScopeFilter::Owner(user)) => out.push(format!("zscu{}", user.0)),
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Removes the index row of a record (no error when there is none), inside the caller's
/// transaction.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn delete_doc(tx: &mut Tx, record_type: &str, record_id: &str) -> Result<()> {
    const SQL: &str = "delete from search_doc where record_type = $1 and record_id = $2";
    run!(tx, |e| sqlx::query(SQL).bind(record_type).bind(record_id).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Number of index rows (diagnostics, backfill).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn count_docs<'a>(ex: impl Into<Exec<'a>>) -> Result<i64> {
    Ok(run!(ex.into(), |e| sqlx::query_scalar("select count(*) from search_doc").fetch_one(e).await)?)
}

/// One result of a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    pub module: String,
    pub record_type: String,
    pub record_id: String,
    pub org_id: i64,
    /// The title with the query terms between [`MARK_START`] and [`MARK_END`].
    pub title: String,
    /// Up to about 80 characters of the body around the first hit, marked the same way;
    /// `…` where text was cut.
    pub snippet: String,
    /// Higher is better; comparable only within one search on one engine.
    pub score: f64,
    pub updated_at: i64,
    /// What staff tell a record by (编号, date, state, community), filled in by the module
    /// that owns the kind; empty from the index.
    pub facts: String,
}

#[derive(Debug, FromRow)]
struct HitRow {
    module: String,
    record_type: String,
    record_id: String,
    org_id: i64,
    title: String,
    body: String,
    score: f64,
    updated_at: i64,
}

/// Which records of each kind the caller may see: `(kind, filter)` where the filter is the
/// caller's scope for the kind's read permission (`None`: not held, the kind's records are
/// excluded).
pub type ModuleFilter<'a> = (&'static Kind, Option<ScopeFilter>);

const HIT_COLS: &str = "d.module, d.record_type, d.record_id, d.org_id, d.title, d.body, d.updated_at";

/// `((d.record_type = $k AND some holder in scope) OR ...)`: a record leaves the database
/// only if its kind's filter admits one of its holders. No kind at all matches nothing.
fn push_filters<DB>(qb: &mut QueryBuilder<DB>, filters: &[ModuleFilter<'_>])
where
    DB: Database,
    <DB as Database>::Arguments: Default,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    // Unary `+`: the holder check runs per candidate through `search_holder_doc` (doc_id
    // first); with a plain column SQLite walks `search_holder_org` — every holder of the
    // caller's node — for each candidate, quadratic in the street's size.
    let cols = ScopeCols { org: "+h.org_id", owner: Some("+h.owner_id") };
    let primary = ScopeCols { org: "+d.org_id", owner: Some("+d.owner_id") };
    let admitted: Vec<_> = filters.iter().filter(|(_, f)| f.is_some()).collect();
    if admitted.is_empty() {
        qb.push("(1 = 0)");
        return;
    }
    qb.push("(");
    for (i, (kind, filter)) in admitted.into_iter().enumerate() {
        if i > 0 {
            qb.push(" or ");
        }
        // `|| ''`: not an indexable column for SQLite, whose planner would otherwise walk
        // every document of the kind through the (record_type, record_id) index and probe
        // the full-text match per row (a unary `+` would do, but PostgreSQL has none for text).
        qb.push("((d.record_type || '') = ");
        qb.push_bind(kind.code.to_owned());
        // The document's first holder is on its own row: checked first, it spares the holder
        // lookup for most documents (those in scope through the node that registered them).
        qb.push(" and (");
        push_scope(qb, filter.as_ref(), primary);
        qb.push(" or exists (select 1 from search_holder h where h.doc_id = d.id and ");
        push_scope(qb, filter.as_ref(), cols);
        qb.push(")))");
    }
    qb.push(")");
}

/// Searches the index: `query` segmented, its terms ANDed, results within `filters`, best
/// first, at most `limit` (1–[`MAX_LIMIT`]). A query with nothing searchable in it (only
/// punctuation, empty) returns no results without touching the database.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn search(
    db: &Db,
    seg: &Segmenter,
    query: &str,
    filters: &[ModuleFilter<'_>],
    limit: i64,
) -> Result<Vec<SearchHit>> {
    let terms = seg.query_terms(query);
    if terms.is_empty() || filters.iter().all(|(_, f)| f.is_none()) {
        return Ok(Vec::new());
    }
    let limit = limit.clamp(1, MAX_LIMIT);
    let scope = scope_tokens(filters);
    if scope.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let rows: Vec<HitRow> = match db {
        Db::Sqlite(pool) => {
            let mut fts = fts5_query(&terms);
            if let Some(tokens) = &scope {
                fts = format!(
                    "{fts} AND ({})",
                    tokens.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" OR ")
                );
            }
            // The ranking window: the newest matches (FTS5 walks its doclists backwards and
            // stops). A full window means a common term: FTS5's bm25 would first count every
            // document holding each term (its IDF) — 8 ms for 物业 over 500,000 records — so
            // the window is ordered by recency instead; a rare term is ranked by bm25.
            let window: Vec<i64> =
                sqlx::query_scalar("select rowid from search_fts where search_fts match ? order by rowid desc limit ?")
                    .bind(&fts)
                    .bind(RANK_WINDOW + 1)
                    .fetch_all(pool)
                    .await?;
            let Some(oldest) = window.last().copied() else { return Ok(Vec::new()) };
            // Rank (or order) and cut on ids first, then read the page's rows: sorting every
            // match with its title and body (up to 2,000 characters) tripled the cost.
            let mut qb = if window.len() as i64 > RANK_WINDOW {
                let mut qb = QueryBuilder::new(
                    "select d.module, d.record_type, d.record_id, d.org_id, d.title, d.body, d.updated_at, \
                     0.0 as score from (select d.id as id from search_doc d where d.id in (",
                );
                let mut sep = qb.separated(", ");
                for id in &window[..window.len() - 1] {
                    sep.push_bind(*id);
                }
                qb.push(") and ");
                push_filters(&mut qb, filters);
                qb.push(" order by d.updated_at desc, d.id desc limit ");
                qb.push_bind(limit);
                qb.push(") h join search_doc d on d.id = h.id order by d.updated_at desc, d.id desc");
                qb
            } else {
                // The matches are ranked in a LIMITed subquery, which SQLite materialises: the
                // scope filter then checks those few rows. Written as one join, the planner may
                // turn the holder check into a driver and run the MATCH once per holder row
                // (58 ms for a rare term in a 2,000-item street).
                let mut qb = QueryBuilder::new(
                    "select d.module, d.record_type, d.record_id, d.org_id, d.title, d.body, d.updated_at, \
                     -h.r as score from (select m.id as id, m.r as r, d.updated_at as u from (select rowid as id, \
                     bm25(search_fts) as r from search_fts where search_fts match ",
                );
                qb.push_bind(fts);
                qb.push(" and rowid >= ");
                qb.push_bind(oldest);
                qb.push(" limit ");
                qb.push_bind(RANK_WINDOW + 1);
                qb.push(") m join search_doc d on d.id = m.id where ");
                push_filters(&mut qb, filters);
                qb.push(" order by m.r, d.updated_at desc, d.id limit ");
                qb.push_bind(limit);
                qb.push(") h join search_doc d on d.id = h.id order by h.r, h.u desc, d.id");
                qb
            };
            qb.build_query_as().fetch_all(pool).await?
        }
        Db::Postgres(pool) => {
            let mut qb = QueryBuilder::new("with q as (select plainto_tsquery('simple', ");
            qb.push_bind(terms.join(" "));
            qb.push(")");
            if let Some(tokens) = &scope {
                qb.push(" && to_tsquery('simple', ");
                qb.push_bind(tokens.join(" | "));
                qb.push(")");
            }
            qb.push(" as tq), w as (select d.id from search_doc d cross join q where d.tsv @@ q.tq order by d.id desc limit ");
            qb.push_bind(RANK_WINDOW);
            qb.push(
                "), h as (select d.id, ts_rank(d.tsv, q.tq)::float8 as score, d.updated_at as u \
                 from search_doc d cross join q where d.id in (select id from w) and ",
            );
            push_filters(&mut qb, filters);
            qb.push(" order by score desc, u desc, d.id limit ");
            qb.push_bind(limit);
            qb.push(format!(
                ") select {HIT_COLS}, h.score from h join search_doc d on d.id = h.id \
                 order by h.score desc, h.u desc, d.id"
            ));
            qb.build_query_as().fetch_all(pool).await?
        }
    };
    Ok(rows.into_iter().map(|r| r.hit(&terms)).collect())
}

impl HitRow {
    /// The hit, its title and body marked where `terms` occur.
    fn hit(self, terms: &[String]) -> SearchHit {
        SearchHit {
            title: mark_terms(&self.title, terms),
            snippet: snippet(&self.body, terms),
            module: self.module,
            record_type: self.record_type,
            record_id: self.record_id,
            org_id: self.org_id,
            score: self.score,
            updated_at: self.updated_at,
            facts: String::new(),
        }
    }
}

/// The version of the text a kind's documents were indexed with (0: never recorded).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn text_version<'a>(ex: impl Into<Exec<'a>>, record_type: &str) -> Result<i64> {
    const SQL: &str = "select coalesce(max(version), 0) from search_text_version where record_type = $1";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL).bind(record_type).fetch_one(e).await)?)
}

/// Records that every document of `record_type` is indexed with text version `version`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn set_text_version(tx: &mut Tx, record_type: &str, version: i64) -> Result<()> {
    const SQL: &str = "insert into search_text_version (record_type, version) values ($1, $2) \
        on conflict (record_type) do update set version = excluded.version";
    run!(&mut *tx, |e| sqlx::query(SQL).bind(record_type).bind(version).execute(e).await.map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg() -> std::sync::Arc<Segmenter> {
        Segmenter::shared()
    }

    #[test]
    fn dictionary_lines() {
        let e: Vec<_> = dict_entries("# c\n\n听证\n飞线充电 50 n\n信访 vn # x\n").collect();
        assert_eq!(e, vec![("听证", None, None), ("飞线充电", Some(50), Some("n")), ("信访", None, Some("vn"))]);
        for w in ["行政处罚", "万兴里社区", "飞线充电", "综合执法大队"] {
            assert!(seg().knows(w), "{w}");
        }
    }

    #[test]
    fn domain_words_stay_whole_and_search_mode_adds_sub_words() {
        let s = seg();
        assert!(s.cut("万兴里社区开展飞线充电整治").contains(&"飞线充电".to_owned()));
        assert!(s.cut("万兴里社区开展飞线充电整治").contains(&"万兴里社区".to_owned()));
        let idx = s.index_text("电动自行车停放在消防通道");
        for t in ["电动自行车", "自行车", "消防通道", "消防"] {
            assert!(idx.split(' ').any(|w| w == t), "{t} in {idx}");
        }
        // Dictionary words of four or more characters inside a longer word are indexed too
        // (jieba's search mode adds only 2- and 3-character ones).
        for (text, inner) in
            [("人民调解委员会", "人民调解"), ("综合执法大队", "综合执法"), ("学府花园社区", "学府花园")]
        {
            assert!(s.index_text(text).split(' ').any(|w| w == inner), "{inner} in {}", s.index_text(text));
        }
        let long = "a".repeat(100_000);
        assert_eq!(s.index_text(&long), long, "one token, indexed once and quickly");
        let idx = s.index_text("万兴里社区");
        assert!(idx.split(' ').any(|w| w == "社区") && idx.split(' ').any(|w| w == "万兴里"), "{idx}");
    }

    #[test]
    fn query_terms_are_safe() {
        let s = seg();
        assert!(s.query_terms("\"").is_empty());
        assert!(s.query_terms("%  ，。！").is_empty());
        assert_eq!(s.query_terms("'; drop table x; --"), vec!["drop", "table", "x"]);
        assert!(s.query_terms(&"听证".repeat(5000)).len() == 1);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(s.query_terms(&many).len(), MAX_QUERY_TERMS);
        assert_eq!(fts5_query(&["a\"b".into(), "听证".into()]), "\"a\"\"b\" \"听证\"");
    }

    #[test]
    fn marks_and_snippets() {
        let terms = vec!["自行车".to_owned(), "abc".to_owned()];
        assert_eq!(mark_terms("电动自行车ABC", &terms), "电动\u{E000}自行车\u{E001}\u{E000}ABC\u{E001}");
        // Markers in stored text are never taken for highlights.
        assert_eq!(mark_terms("x\u{E000}y", &terms), "xy");
        let body = format!("{}发现电动自行车在楼道{}", "前".repeat(50), "后".repeat(100));
        let s = snippet(&body, &terms);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("\u{E000}自行车\u{E001}"), "{s}");
        assert_eq!(s.chars().filter(|c| *c != MARK_START && *c != MARK_END).count(), SNIPPET_CHARS + 2);
        assert_eq!(snippet("短文本", &terms), "短文本");
        assert_eq!(snippet("", &terms), "");
        let parts = marked_parts("a\u{E000}b\u{E001}c\u{E000}d");
        assert_eq!(parts, vec![(false, "a"), (true, "b"), (false, "c"), (true, "d")]);
        assert_eq!(marked_parts("\u{E001}x"), vec![(false, "\u{E001}x")]);
    }
}
