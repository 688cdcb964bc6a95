//! `ledger verify`'s reader: a log read in chunks, each result row a whole range of entries
//! or of one tree level's stored hashes.

use crate::db::Db;
use crate::{Result, StoreError};
use fazhi_ledger::AttachmentRef;
use fazhi_ledger::entry::LeafParts;
use fazhi_ledger::tree::{Hash, NodeId};
use sqlx::Row;

use super::*;

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
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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
    ///
    /// # Errors
    /// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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
