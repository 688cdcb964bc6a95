//! Persistence of the record logs: append inside the caller's transaction, read entries,
//! nodes and checkpoints for proofs, and stream a log for verification.
//!
//! Appending takes the log's head row with `UPDATE … SET size = size + 1 RETURNING`, which
//! on PostgreSQL holds a row lock until the transaction ends, so concurrent appends to one
//! log serialise while different streets append in parallel; on SQLite the single writer
//! already serialises. The entry, its leaf and the subtrees it completes are inserted in the
//! same transaction as the change they record: if the change rolls back, no entry exists.

use std::collections::{BTreeSet, HashMap};

use fazhi_domain::clock::Millis;
use fazhi_ledger::entry::LeafParts;
use fazhi_ledger::tree::{self, Hash, NodeId};
use fazhi_ledger::{AttachmentRef, Entry, HashAlg};
use sqlx::{FromRow, QueryBuilder, Row};

use crate::db::{Db, Exec};
use crate::{Result, StoreError, Tx};

/// A change to record, before it gets its place in the log.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub log_id: i64,
    pub at: Millis,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub record_type: String,
    pub record_id: String,
    pub action: String,
    pub change: serde_json::Value,
    pub attachments: Vec<AttachmentRef>,
}

fn corrupt(msg: impl Into<String>) -> StoreError {
    StoreError::Corrupt(msg.into())
}

fn hash_of(bytes: &[u8]) -> Result<Hash> {
    bytes.try_into().map_err(|_| corrupt("stored hash is not 32 bytes"))
}

const ENSURE_LOG: &str = "insert into ledger_log (log_id, size, hash_alg, created_at) values ($1, 0, $2, $3) on conflict (log_id) do nothing";
const BUMP: &str = "update ledger_log set size = size + 1 where log_id = $1 returning size, hash_alg";
const GET_NODE: &str = "select hash from ledger_node where log_id = $1 and level = $2 and idx = $3";
const PUT_ENTRY: &str = "insert into ledger_entry (log_id, seq, at, actor_id, actor_name, record_type, record_id, \
    action, change_json, attachments_json) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Appends an entry to its log inside `tx`. A new log takes `alg`; an existing log keeps
/// the algorithm it was created with.
pub async fn append(tx: &mut Tx, alg: HashAlg, e: NewEntry) -> Result<Entry> {
    // The head exists but for a log's first entry: bump first, create only when missing.
    let bumped: Option<(i64, String)> =
        run!(&mut *tx, |x| sqlx::query_as(BUMP).bind(e.log_id).fetch_optional(x).await)?;
    let (size, alg_code) = match bumped {
        Some(head) => head,
        None => {
            run!(&mut *tx, |x| sqlx::query(ENSURE_LOG)
                .bind(e.log_id)
                .bind(alg.code())
                .bind(e.at)
                .execute(x)
                .await
                .map(|_| ()))?;
            run!(&mut *tx, |x| sqlx::query_as(BUMP).bind(e.log_id).fetch_one(x).await)?
        }
    };
    let alg = HashAlg::parse(&alg_code).ok_or_else(|| corrupt(format!("unknown hash algorithm {alg_code}")))?;
    let seq = u64::try_from(size - 1).map_err(|_| corrupt("negative log size"))?;
    let entry = Entry {
        log_id: e.log_id,
        seq,
        at: e.at,
        actor_id: e.actor_id,
        actor_name: e.actor_name,
        record_type: e.record_type,
        record_id: e.record_id,
        action: e.action,
        change: e.change,
        attachments: e.attachments,
    };
    let leaf = alg.leaf(&entry.leaf_bytes());
    // The left siblings along the path of the new leaf (at most log2 n, usually none).
    let mut siblings = HashMap::new();
    for id in tree::completed_by_append(seq).into_iter().skip(1) {
        let left = NodeId { level: id.level - 1, index: id.index * 2 };
        let h: Option<Vec<u8>> = run!(&mut *tx, |x| sqlx::query_scalar(GET_NODE)
            .bind(e.log_id)
            .bind(i64::from(left.level))
            .bind(left.index as i64)
            .fetch_optional(x)
            .await)?;
        if let Some(h) = h {
            siblings.insert(left, hash_of(&h)?);
        }
    }
    let added = tree::append(alg, seq, leaf, |id| siblings.get(&id).copied()).map_err(|m| corrupt(m.to_string()))?;
    let change = fazhi_ledger::canonical::to_string(&entry.change);
    let attachments = serde_json::to_string(&entry.attachments).map_err(|e| corrupt(e.to_string()))?;
    run!(&mut *tx, |x| sqlx::query(PUT_ENTRY)
        .bind(entry.log_id)
        .bind(seq as i64)
        .bind(entry.at)
        .bind(entry.actor_id)
        .bind(&entry.actor_name)
        .bind(&entry.record_type)
        .bind(&entry.record_id)
        .bind(&entry.action)
        .bind(&change)
        .bind(&attachments)
        .execute(x)
        .await
        .map(|_| ()))?;
    // The leaf and the subtrees it completes, in one statement.
    run!(&mut *tx, |x| {
        let mut qb = QueryBuilder::new("insert into ledger_node (log_id, level, idx, hash) ");
        qb.push_values(&added, |mut b, (id, h)| {
            b.push_bind(entry.log_id).push_bind(i64::from(id.level)).push_bind(id.index as i64).push_bind(h.to_vec());
        });
        qb.build().execute(x).await.map(|_| ())
    })?;
    Ok(entry)
}

#[derive(Debug, FromRow)]
struct EntryRow {
    log_id: i64,
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    record_type: String,
    record_id: String,
    action: String,
    change_json: String,
    attachments_json: String,
}

impl EntryRow {
    /// Rows are decoded leniently: an edited row must still reach the verifier, which then
    /// reports it, rather than stop the whole check.
    fn into_entry(self) -> Entry {
        Entry {
            log_id: self.log_id,
            seq: u64::try_from(self.seq).unwrap_or(u64::MAX),
            at: self.at,
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            record_type: self.record_type,
            record_id: self.record_id,
            action: self.action,
            change: serde_json::from_str(&self.change_json).unwrap_or(serde_json::Value::String(self.change_json)),
            attachments: serde_json::from_str(&self.attachments_json).unwrap_or_default(),
        }
    }
}

pub async fn get_entry<'a>(ex: impl Into<Exec<'a>>, log_id: i64, seq: u64) -> Result<Option<Entry>> {
    const SQL: &str = "select log_id, seq, at, actor_id, actor_name, record_type, record_id, action, change_json, \
        attachments_json from ledger_entry where log_id = $1 and seq = $2";
    let row: Option<EntryRow> =
        run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).bind(seq as i64).fetch_optional(x).await)?;
    Ok(row.map(EntryRow::into_entry))
}

/// The timeline of one record, oldest first.
pub async fn entries_of_record<'a>(ex: impl Into<Exec<'a>>, record_type: &str, record_id: &str) -> Result<Vec<Entry>> {
    const SQL: &str = "select log_id, seq, at, actor_id, actor_name, record_type, record_id, action, change_json, \
        attachments_json from ledger_entry where record_type = $1 and record_id = $2 order by at, log_id, seq";
    let rows: Vec<EntryRow> =
        run!(ex.into(), |x| sqlx::query_as(SQL).bind(record_type).bind(record_id).fetch_all(x).await)?;
    Ok(rows.into_iter().map(EntryRow::into_entry).collect())
}

/// The changes of the entries of records `ids` of one kind, as `(record_id, change)` in
/// order (oldest first per record): what `ledger verify` folds to learn the field values
/// the ledger vouches for.
///
/// # Errors
/// Database errors; [`crate::StoreError::Corrupt`] for a change that is not JSON.
pub async fn changes_of<'a>(
    ex: impl Into<Exec<'a>>,
    record_type: &str,
    ids: &[String],
) -> Result<Vec<(String, serde_json::Value)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String)> = run!(ex.into(), |x| {
        let mut qb = sqlx::QueryBuilder::new("select record_id, change_json from ledger_entry where record_type = ");
        qb.push_bind(record_type.to_owned());
        qb.push(" and record_id in (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.clone());
        }
        qb.push(") order by record_id, at, log_id, seq");
        qb.build_query_as().fetch_all(x).await
    })?;
    rows.into_iter()
        .map(|(id, c)| {
            serde_json::from_str(&c)
                .map(|v| (id, v))
                .map_err(|e| crate::StoreError::Corrupt(format!("change of {record_type} entry: {e}")))
        })
        .collect()
}

// Verification reads a log in chunks: one result row carries a whole range of entries, or
// of the stored hashes of one tree level. Streaming a row per entry costs far more than the
// hashing (on SQLite every row crosses from sqlx's worker thread with a wake-up and an
// allocation per column), and joining each entry to its leaf costs an index lookup per row.
// A chunk covers the seqs (or idxs) [from, to):
// - entries, fast form: every field of every entry (seq, at, actor_id or empty, actor_name,
//   record_type, record_id, action, change_json, attachments_json) joined by a separator.
//   When the text has exactly 9 fields per entry, no field contains the separator and the
//   split is exact; otherwise (a field holding it, or text that is not UTF-8: only a direct
//   edit puts them there) the chunk is read again in the exact form: `head`, comma-separated
//   numbers per entry (seq, at, actor_id or empty, and the byte lengths of the six texts),
//   and `body`, the texts concatenated, from which each is sliced by its length.
//   Each entry's fields come from one row and carry its seq, so the order in which the
//   engine aggregates the rows does not matter: the entries are sorted by seq afterwards.
// - stored hashes of one level (the leaves are level 0): when the range is dense (every idx
//   from the first to the last present, every hash 32 bytes: the normal case) just the hashes
//   concatenated in idx order; otherwise a second query adds the idx and length of each.
//   The aggregate takes the rows in the order of the inner query (by idx); were an engine
//   ever to hand them over in another order, the result would be problems reported, never
//   one missed, since a hash is compared with the entry or node at its position.
// The SQL differs between the engines only in how text becomes bytes.

macro_rules! entries_sql {
    ($to_bytes:literal, $end:literal) => {
        concat!(
            "select count(*), string_agg(concat_ws(',', seq, at, coalesce(cast(actor_id as text), ''), \
            octet_length(actor_name), octet_length(record_type), octet_length(record_id), octet_length(action), \
            octet_length(change_json), octet_length(attachments_json)), ','), ",
            $to_bytes,
            "(string_agg(concat(actor_name, record_type, record_id, action, change_json, attachments_json), '')",
            $end,
            " from (select seq, at, actor_id, actor_name, record_type, record_id, action, change_json, \
            attachments_json from ledger_entry where log_id = $1 and seq >= $2 and seq < $3) c"
        )
    };
}
const SQLITE_ENTRIES: &str = entries_sql!("cast", " as blob)");
const PG_ENTRIES: &str = entries_sql!("convert_to", ", 'UTF8')");

/// Separates the fields of the entries' fast form.
const SEP: char = '\u{1f}';
/// Fields per entry in the fast form.
const FAST_FIELDS: usize = 9;

macro_rules! entries_fast_sql {
    ($to_bytes:literal, $end:literal) => {
        concat!(
            "select count(*), ",
            $to_bytes,
            "(string_agg(concat_ws($4, seq, at, coalesce(cast(actor_id as text), ''), actor_name, record_type, \
            record_id, action, change_json, attachments_json), $4)",
            $end,
            " from (select seq, at, actor_id, actor_name, record_type, record_id, action, change_json, \
            attachments_json from ledger_entry where log_id = $1 and seq >= $2 and seq < $3) c"
        )
    };
}
const SQLITE_ENTRIES_FAST: &str = entries_fast_sql!("cast", " as blob)");
const PG_ENTRIES_FAST: &str = entries_fast_sql!("convert_to", ", 'UTF8')");

macro_rules! level_rows {
    () => {
        " from (select idx, hash from ledger_node where log_id = $1 and level = $2 and idx >= $3 and idx < $4 \
        order by idx) c"
    };
}
const SQLITE_LEVEL_DENSE: &str = concat!(
    "select count(*), min(idx), max(idx), cast(min(octet_length(hash)) as bigint), \
    cast(max(octet_length(hash)) as bigint), cast(string_agg(hash, '') as blob)",
    level_rows!()
);
const PG_LEVEL_DENSE: &str = concat!(
    "select count(*), min(idx), max(idx), cast(min(octet_length(hash)) as bigint), \
    cast(max(octet_length(hash)) as bigint), string_agg(hash, ''::bytea)",
    level_rows!()
);
const SQLITE_LEVEL_ROWS: &str = concat!(
    "select string_agg(concat_ws(',', idx, octet_length(hash)), ','), cast(string_agg(hash, '') as blob)",
    level_rows!()
);
const PG_LEVEL_ROWS: &str = concat!(
    "select string_agg(concat_ws(',', idx, octet_length(hash)), ','), string_agg(hash, ''::bytea)",
    level_rows!()
);

const NEXT_SEQ: &str = "select min(seq) from ledger_entry where log_id = $1 and seq >= $2";
const LAST_SEQ: &str = "select max(seq) from ledger_entry where log_id = $1";
const NEXT_LEVEL: &str = "select min(level) from ledger_node where log_id = $1 and level > $2";
const NEXT_IDX: &str = "select min(idx) from ledger_node where log_id = $1 and level = $2 and idx >= $3";
const LAST_IDX: &str = "select max(idx) from ledger_node where log_id = $1 and level = $2";

/// Chunks read ahead while the caller works on the current one, each on its own pooled
/// connection: the database (on SQLite, sqlx's worker threads) prepares the next chunks
/// while this thread hashes.
const READ_AHEAD: usize = 2;

fn is_postgres(db: &Db) -> bool {
    matches!(db, Db::Postgres(_))
}

/// A chunk's `head` as numbers; any malformed number is corruption.
struct Head<'r>(std::str::Split<'r, char>);

impl<'r> Head<'r> {
    fn new(head: &'r str) -> Self {
        Head(head.split(','))
    }

    fn is_empty(&self) -> bool {
        self.0.clone().next().is_none()
    }

    fn next_str(&mut self) -> Result<&'r str> {
        self.0.next().ok_or_else(|| corrupt("ledger chunk head too short"))
    }

    fn int(&mut self) -> Result<i64> {
        let s = self.next_str()?;
        s.parse().map_err(|_| corrupt(format!("ledger chunk head: not a number: {s:?}")))
    }

    /// The next `len` bytes of `from` at `*pos`.
    fn slice<'b>(&mut self, from: &'b [u8], pos: &mut usize) -> Result<&'b [u8]> {
        let len = usize::try_from(self.int()?).map_err(|_| corrupt("ledger chunk head: negative length"))?;
        let end = pos.checked_add(len).filter(|e| *e <= from.len());
        let end = end.ok_or_else(|| corrupt("ledger chunk body shorter than its head says"))?;
        let out = &from[*pos..end];
        *pos = end;
        Ok(out)
    }
}

/// `select <one optional integer>` with the binds given.
async fn opt_int(db: &Db, sql: &'static str, binds: &[i64]) -> Result<Option<i64>> {
    Ok(run!(db, |x| {
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(x).await?
    }))
}

/// The stored hashes of `level` with idx in [from, to), in idx order.
async fn level_hashes(db: Db, log_id: i64, level: i64, from: i64, to: i64) -> Result<Vec<(i64, Hash)>> {
    let mut out = Vec::new();
    let pg = is_postgres(&db);
    let dense = run!(&db, |x| {
        let sql = if pg { PG_LEVEL_DENSE } else { SQLITE_LEVEL_DENSE };
        let row = sqlx::query(sql).bind(log_id).bind(level).bind(from).bind(to).fetch_one(x).await?;
        let n: i64 = row.try_get(0)?;
        if n == 0 {
            true
        } else {
            let (first, last): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
            let (shortest, longest): (i64, i64) = (row.try_get(3)?, row.try_get(4)?);
            let hashes: &[u8] = row.try_get(5)?;
            let dense = last - first + 1 == n && shortest == 32 && longest == 32 && hashes.len() as i64 == 32 * n;
            if dense {
                out.reserve(n as usize);
                for (k, h) in hashes.chunks_exact(32).enumerate() {
                    out.push((first + k as i64, hash_of(h)?));
                }
            }
            dense
        }
    });
    if dense {
        return Ok(out);
    }
    run!(&db, |x| {
        let sql = if pg { PG_LEVEL_ROWS } else { SQLITE_LEVEL_ROWS };
        let row = sqlx::query(sql).bind(log_id).bind(level).bind(from).bind(to).fetch_one(x).await?;
        let mut head = Head::new(row.try_get(0)?);
        let hashes: &[u8] = row.try_get(1)?;
        let mut pos = 0;
        while !head.is_empty() {
            let idx = head.int()?;
            out.push((idx, hash_of(head.slice(hashes, &mut pos)?)?));
        }
    });
    Ok(out)
}

/// Entries with seq in [from, to) as stored, with the stored leaves of that range.
struct EntryChunk {
    from: i64,
    entries: EntryTexts,
    leaves: Vec<(i64, Hash)>,
}

enum EntryTexts {
    /// Every field of every entry, separated by [`SEP`]: valid UTF-8 with exactly
    /// `FAST_FIELDS` fields per entry, so no field contains the separator.
    Fast(String),
    /// Numbers and text lengths in `head`, the texts concatenated in `body`.
    Exact { head: String, body: Vec<u8> },
}

async fn entry_chunk(db: Db, log_id: i64, from: i64, to: i64) -> Result<(bool, EntryChunk)> {
    let pg = is_postgres(&db);
    // The fast form: no numbers to format but seq, at and actor_id; the texts are split
    // at the separator. A text that contains it (or that is not UTF-8) shows up as a
    // wrong count of fields, and the chunk is read again in the exact form.
    let (n, fast): (i64, Option<Vec<u8>>) = run!(&db, |x| {
        let sql = if pg { PG_ENTRIES_FAST } else { SQLITE_ENTRIES_FAST };
        let row = sqlx::query(sql).bind(log_id).bind(from).bind(to).bind(SEP.to_string()).fetch_one(x).await?;
        (row.try_get(0)?, row.try_get(1)?)
    });
    if n == 0 {
        return Ok((false, EntryChunk { from, entries: EntryTexts::Fast(String::new()), leaves: Vec::new() }));
    }
    let fast = fast.and_then(|b| String::from_utf8(b).ok()).filter(|t| {
        t.as_bytes().iter().fold(0usize, |k, b| k + usize::from(*b == SEP as u8)) + 1 == FAST_FIELDS * n as usize
    });
    let entries = match fast {
        Some(t) => EntryTexts::Fast(t),
        None => {
            let (head, body): (Option<String>, Option<Vec<u8>>) = run!(&db, |x| {
                let sql = if pg { PG_ENTRIES } else { SQLITE_ENTRIES };
                let row = sqlx::query(sql).bind(log_id).bind(from).bind(to).fetch_one(x).await?;
                (row.try_get(1)?, row.try_get(2)?)
            });
            EntryTexts::Exact { head: head.unwrap_or_default(), body: body.unwrap_or_default() }
        }
    };
    let leaves = level_hashes(db, log_id, 0, from, to).await?;
    Ok((true, EntryChunk { from, entries, leaves }))
}

/// Reads the ranges [from, from + chunk) from `first` up to `last` with `read`, each in its
/// own task, READ_AHEAD ranges ahead of the one being handed to `take` (in order). A range that comes back empty (a
/// gap of a whole chunk: only a direct edit makes one) makes the scan jump to `next(to)`,
/// the first key present from there on, so a forged key far away costs one query, not
/// one per chunk in between.
async fn read_ahead<T, F>(
    (first, last): (i64, i64),
    chunk: i64,
    read: impl Fn(i64, i64) -> F,
    next: impl AsyncFn(i64) -> Result<Option<i64>>,
    mut take: impl FnMut(T) -> Result<()>,
) -> Result<()>
where
    T: Send + 'static,
    F: Future<Output = Result<(bool, T)>> + Send + 'static,
{
    let chunk = chunk.max(1);
    let mut queue = std::collections::VecDeque::new();
    let mut from = Some(first);
    loop {
        // The chunk taken next plus READ_AHEAD more, read while it is worked on.
        while queue.len() <= READ_AHEAD
            && let Some(f) = from.filter(|f| *f <= last)
        {
            let to = f.saturating_add(chunk);
            queue.push_back((to, tokio::spawn(read(f, to))));
            from = (to < i64::MAX).then_some(to);
        }
        let Some((to, task)) = queue.pop_front() else { break };
        let (found, item) = match task.await {
            Ok(r) => r?,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if found {
            take(item)?;
        } else {
            for (_, t) in queue.drain(..) {
                t.abort();
            }
            from = next(to).await?;
        }
    }
    Ok(())
}

/// Stored text as the verifier hashes it. Text that is not UTF-8 (only a direct edit can
/// put it there) is replaced lossily: its leaf then cannot match, and the entry is reported.
fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// One entry's fields, as read from a chunk.
struct Fields<T> {
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    /// actor_name, record_type, record_id, action, change_json, attachments_json.
    texts: [T; 6],
}

fn actor_id_of(actor: &str) -> Result<Option<i64>> {
    if actor.is_empty() {
        return Ok(None);
    }
    Ok(Some(actor.parse().map_err(|_| corrupt(format!("ledger chunk: not an actor id: {actor:?}")))?))
}

fn int_of(s: &str) -> Result<i64> {
    s.parse().map_err(|_| corrupt(format!("ledger chunk: not a number: {s:?}")))
}

/// Feeds one entry to `f`; `attachments` is scratch space.
fn feed_entry<T: std::ops::Deref<Target = str>>(
    log_id: i64,
    e: &Fields<T>,
    leaf: Option<Hash>,
    attachments: &mut Vec<AttachmentRef>,
    f: &mut impl FnMut(&LeafParts<'_>, Option<Hash>),
) {
    let [actor_name, record_type, record_id, action, change_json, attachments_json] = &e.texts;
    // Almost every entry has no attachment: skip the parser for those. Parsed leniently,
    // as `get_entry` does: an edited list must reach the verifier.
    attachments.clear();
    if &**attachments_json != "[]" {
        *attachments = serde_json::from_str(attachments_json).unwrap_or_default();
    }
    let parts = LeafParts {
        log_id,
        seq: u64::try_from(e.seq).unwrap_or(u64::MAX),
        at: e.at,
        actor_id: e.actor_id,
        actor_name,
        record_type,
        record_id,
        action,
        change_json,
        attachments,
    };
    f(&parts, leaf);
}

/// Sorts a chunk's entries by seq (the queries leave the order to the engine; on
/// PostgreSQL sorting in the query costs more than the rest of it).
fn in_seq_order<T>(rows: &mut [Fields<T>]) {
    if !rows.is_sorted_by_key(|e| e.seq) {
        rows.sort_by_key(|e| e.seq);
    }
}

/// Feeds one chunk of entries to `f` in seq order, each with its stored leaf from
/// `leaf(seq)`.
fn feed_entries(
    log_id: i64,
    entries: &EntryTexts,
    leaf: impl Fn(i64) -> Option<Hash>,
    f: &mut impl FnMut(&LeafParts<'_>, Option<Hash>),
) -> Result<()> {
    let mut attachments: Vec<AttachmentRef> = Vec::new();
    match entries {
        EntryTexts::Fast(text) => {
            let mut it = text.split(SEP);
            let mut rows = Vec::new();
            // The count of fields was checked when the chunk was read.
            while let Some(seq) = it.next() {
                let mut next = || it.next().ok_or_else(|| corrupt("ledger chunk: missing field"));
                let (seq, at, actor_id) = (int_of(seq)?, int_of(next()?)?, actor_id_of(next()?)?);
                let texts = [next()?, next()?, next()?, next()?, next()?, next()?];
                rows.push(Fields { seq, at, actor_id, texts });
            }
            in_seq_order(&mut rows);
            for e in &rows {
                feed_entry(log_id, e, leaf(e.seq), &mut attachments, f);
            }
        }
        EntryTexts::Exact { head, body } => {
            let mut h = Head::new(head);
            let mut b = 0usize;
            let mut rows = Vec::new();
            while !h.is_empty() {
                let (seq, at, actor_id) = (h.int()?, h.int()?, actor_id_of(h.next_str()?)?);
                let mut text = || Ok::<_, StoreError>(text_of(h.slice(body, &mut b)?));
                let texts = [text()?, text()?, text()?, text()?, text()?, text()?];
                rows.push(Fields { seq, at, actor_id, texts });
            }
            if b != body.len() {
                return Err(corrupt("ledger chunk body longer than its head says"));
            }
            in_seq_order(&mut rows);
            for e in &rows {
                feed_entry(log_id, e, leaf(e.seq), &mut attachments, f);
            }
        }
    }
    Ok(())
}

/// Reads whole logs for verification, in chunks, a few ahead (see above).
#[derive(Debug)]
pub struct LogReader {
    db: Db,
}

impl LogReader {
    /// A reader over `db` (the read pool). On SQLite it opens its own few read-only
    /// connections that map the database file into memory (`mmap_size`): a scan touches
    /// most of the file's pages, and copying each one in through `pread` costs more than
    /// the rest of the query. The connections close with the reader.
    pub async fn new(db: &Db) -> Result<Self> {
        let db = match db {
            Db::Sqlite(pool) => {
                let opts = (*pool.connect_options()).clone().read_only(true).pragma("mmap_size", "2147418112");
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(READ_AHEAD as u32 + 1)
                    .connect_with(opts)
                    .await?;
                Db::Sqlite(pool)
            }
            Db::Postgres(_) => db.clone(),
        };
        Ok(Self { db })
    }

    /// Closes the reader's own connections (SQLite).
    pub async fn close(self) {
        if let Db::Sqlite(pool) = &self.db {
            pool.close().await;
        }
    }

    /// Streams a log's entries as stored, in sequence order from seq 0, each with its
    /// stored leaf hash (node (0, seq)), into `f`: what verification reads. The change
    /// text is passed as stored, so the verifier hashes exactly what is in the row. Rows
    /// are read leniently: an edited row must reach the verifier, which then reports it,
    /// rather than stop the whole check (only a stored hash of the wrong length, which
    /// this program cannot have written, is an error).
    ///
    /// Reads `chunk` seqs per query (thousands: a query costs about as much as a few
    /// entries).
    pub async fn entries(
        &self,
        log_id: i64,
        chunk: i64,
        mut f: impl FnMut(&LeafParts<'_>, Option<Hash>),
    ) -> Result<()> {
        let db = &self.db;
        let Some(last) = opt_int(db, LAST_SEQ, &[log_id]).await? else { return Ok(()) };
        let mut slots: Vec<Option<Hash>> = Vec::new();
        read_ahead(
            (0, last),
            chunk,
            |from, to| entry_chunk(db.clone(), log_id, from, to),
            async |to| opt_int(db, NEXT_SEQ, &[log_id, to]).await,
            |c: EntryChunk| {
                slots.clear();
                slots.resize(chunk.max(1) as usize, None);
                for (idx, h) in &c.leaves {
                    if let Some(slot) = usize::try_from(idx - c.from).ok().and_then(|i| slots.get_mut(i)) {
                        *slot = Some(*h);
                    }
                }
                let leaf = |seq: i64| slots.get(usize::try_from(seq - c.from).ok()?).copied().flatten();
                feed_entries(log_id, &c.entries, leaf, &mut f)
            },
        )
        .await
    }

    /// Streams a log's stored interior nodes (level > 0) in (level, idx) order into `f`,
    /// `chunk` idxs per query.
    pub async fn nodes(&self, log_id: i64, chunk: i64, mut f: impl FnMut(NodeId, Hash)) -> Result<()> {
        let db = &self.db;
        let mut level = 0i64;
        while let Some(l) = opt_int(db, NEXT_LEVEL, &[log_id, level]).await? {
            level = l;
            let node_level = u32::try_from(level).unwrap_or(0);
            let (Some(first), Some(last)) = (
                opt_int(db, NEXT_IDX, &[log_id, level, i64::MIN]).await?,
                opt_int(db, LAST_IDX, &[log_id, level]).await?,
            ) else {
                continue;
            };
            read_ahead(
                (first, last),
                chunk,
                |from, to| {
                    let db = db.clone();
                    async move {
                        let hashes = level_hashes(db, log_id, level, from, to).await?;
                        Ok((!hashes.is_empty(), hashes))
                    }
                },
                async |to| opt_int(db, NEXT_IDX, &[log_id, level, to]).await,
                |hashes: Vec<(i64, Hash)>| {
                    for (idx, h) in hashes {
                        f(NodeId { level: node_level, index: idx as u64 }, h);
                    }
                    Ok(())
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// The stored nodes among `ids`.
pub async fn nodes<'a>(ex: impl Into<Exec<'a>>, log_id: i64, ids: &BTreeSet<NodeId>) -> Result<HashMap<NodeId, Hash>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64, Vec<u8>)> = run!(ex.into(), |x| {
        let mut qb = QueryBuilder::new("select level, idx, hash from ledger_node where log_id = ");
        qb.push_bind(log_id);
        qb.push(" and (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                qb.push(" or ");
            }
            qb.push("(level = ");
            qb.push_bind(i64::from(id.level));
            qb.push(" and idx = ");
            qb.push_bind(id.index as i64);
            qb.push(")");
        }
        qb.push(")");
        qb.build_query_as().fetch_all(x).await
    })?;
    rows.into_iter()
        .map(|(l, i, h)| Ok((NodeId { level: u32::try_from(l).unwrap_or(0), index: i as u64 }, hash_of(&h)?)))
        .collect()
}

/// A log and its head.
#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub log_id: i64,
    pub size: i64,
    pub hash_alg: String,
    pub org_name: Option<String>,
    pub checkpoint_size: Option<i64>,
    pub checkpoint_at: Option<i64>,
}

pub async fn logs<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<LogRow>> {
    const SQL: &str = "select l.log_id, l.size, l.hash_alg, o.name as org_name, \
        (select max(c.size) from ledger_checkpoint c where c.log_id = l.log_id) as checkpoint_size, \
        (select max(c.created_at) from ledger_checkpoint c where c.log_id = l.log_id) as checkpoint_at \
        from ledger_log l left join org_node o on o.id = l.log_id order by l.log_id";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).fetch_all(x).await)?)
}

pub async fn log<'a>(ex: impl Into<Exec<'a>>, log_id: i64) -> Result<Option<(u64, HashAlg)>> {
    let row: Option<(i64, String)> =
        run!(ex.into(), |x| sqlx::query_as("select size, hash_alg from ledger_log where log_id = $1")
            .bind(log_id)
            .fetch_optional(x)
            .await)?;
    row.map(|(s, a)| Ok((s as u64, HashAlg::parse(&a).ok_or_else(|| corrupt(format!("unknown hash algorithm {a}")))?)))
        .transpose()
}

/// A stored checkpoint.
#[derive(Debug, Clone, FromRow)]
pub struct CheckpointRow {
    pub log_id: i64,
    pub size: i64,
    pub root: Vec<u8>,
    pub note: String,
    pub created_at: i64,
}

pub async fn insert_checkpoint<'a>(
    ex: impl Into<Exec<'a>>,
    log_id: i64,
    size: u64,
    root: &Hash,
    note: &str,
    at: Millis,
) -> Result<()> {
    const SQL: &str =
        "insert into ledger_checkpoint (log_id, size, root, note, created_at) values ($1, $2, $3, $4, $5)";
    run!(ex.into(), |x| sqlx::query(SQL)
        .bind(log_id)
        .bind(size as i64)
        .bind(root.to_vec())
        .bind(note)
        .bind(at)
        .execute(x)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn checkpoints<'a>(ex: impl Into<Exec<'a>>, log_id: i64) -> Result<Vec<CheckpointRow>> {
    const SQL: &str =
        "select log_id, size, root, note, created_at from ledger_checkpoint where log_id = $1 order by size, id";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).fetch_all(x).await)?)
}

pub async fn latest_checkpoint<'a>(ex: impl Into<Exec<'a>>, log_id: i64) -> Result<Option<CheckpointRow>> {
    const SQL: &str = "select log_id, size, root, note, created_at from ledger_checkpoint where log_id = $1 \
        order by size desc, id desc limit 1";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).fetch_optional(x).await)?)
}

/// The ids of org nodes among `ids` whose kind keeps its own log, for finding a record's log.
pub async fn log_keepers<'a>(ex: impl Into<Exec<'a>>, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(ex.into(), |x| {
        let mut qb = QueryBuilder::new(
            "select n.id from org_node n join org_kind k on k.code = n.kind where k.keeps_log and n.id in (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_scalar().fetch_all(x).await
    })?)
}
