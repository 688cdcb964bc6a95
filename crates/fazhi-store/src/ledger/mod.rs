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
use fazhi_ledger::tree::{self, Hash, NodeId};
use fazhi_ledger::{AttachmentRef, Entry, HashAlg};
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
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
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// Reads entry.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_entry<'a>(ex: impl Into<Exec<'a>>, log_id: i64, seq: u64) -> Result<Option<Entry>> {
    const SQL: &str = "select log_id, seq, at, actor_id, actor_name, record_type, record_id, action, change_json, \
        attachments_json from ledger_entry where log_id = $1 and seq = $2";
    let row: Option<EntryRow> =
        run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).bind(seq as i64).fetch_optional(x).await)?;
    Ok(row.map(EntryRow::into_entry))
}

/// The timeline of one record, oldest first.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// The stored nodes among `ids`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// Lists.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn logs<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<LogRow>> {
    const SQL: &str = "select l.log_id, l.size, l.hash_alg, o.name as org_name, \
        (select max(c.size) from ledger_checkpoint c where c.log_id = l.log_id) as checkpoint_size, \
        (select max(c.created_at) from ledger_checkpoint c where c.log_id = l.log_id) as checkpoint_at \
        from ledger_log l left join org_node o on o.id = l.log_id order by l.log_id";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).fetch_all(x).await)?)
}

/// Reads.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// Inserts checkpoint.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// Checkpoints.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn checkpoints<'a>(ex: impl Into<Exec<'a>>, log_id: i64) -> Result<Vec<CheckpointRow>> {
    const SQL: &str =
        "select log_id, size, root, note, created_at from ledger_checkpoint where log_id = $1 order by size, id";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).fetch_all(x).await)?)
}

/// Reads the latest checkpoint.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn latest_checkpoint<'a>(ex: impl Into<Exec<'a>>, log_id: i64) -> Result<Option<CheckpointRow>> {
    const SQL: &str = "select log_id, size, root, note, created_at from ledger_checkpoint where log_id = $1 \
        order by size desc, id desc limit 1";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).bind(log_id).fetch_optional(x).await)?)
}

/// The ids of org nodes among `ids` whose kind keeps its own log, for finding a record's log.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

pub mod keys;
mod reader;

pub use reader::LogReader;

/// Every record id of kind `record_type` the ledger has entries for.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn record_ids<'a>(ex: impl Into<Exec<'a>>, record_type: &str) -> Result<Vec<String>> {
    const SQL: &str = "select distinct record_id from ledger_entry where record_type = $1";
    Ok(run!(ex.into(), |x| sqlx::query_scalar(SQL).bind(record_type).fetch_all(x).await)?)
}
