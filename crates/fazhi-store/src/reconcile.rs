//! Reads for `ledger verify`'s reconciliation (and for the save path of the access records):
//! every row of the access tables and the child rows of records as the ledger vouches for
//! them, in id batches, in the caller's transaction (the verifier's one snapshot). Nothing
//! about what they should be: that is `fazhi_app::reconcile`.

use std::collections::HashMap;

use fazhi_ledger::AttachmentRef;
use sqlx::{FromRow, QueryBuilder};

use crate::attachments::AttachmentRow;
use crate::mediation::{CommitteeRow, SessionRow};
use crate::petitions::TransferRow;
use crate::{Result, Tx};

/// An account as stored: the `app_user` row and its role grants (`user_role`).
#[derive(Debug, Clone, FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub org_id: i64,
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub kind: String,
    /// Granted role ids, ascending.
    #[sqlx(skip)]
    pub roles: Vec<i64>,
}

/// A role as stored, with its permission codes as written (ascending, unknown codes too).
#[derive(Debug, Clone, FromRow)]
pub struct RoleRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: String,
    pub builtin: bool,
    pub org_id: Option<i64>,
    #[sqlx(skip)]
    pub permissions: Vec<String>,
}

/// An API token as stored (with its hash: callers digest it before it goes anywhere).
#[derive(Debug, Clone, FromRow)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    /// `None`: issued by the operator of the binary.
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An org node as stored, with its reminder webhook (`org_webhook`), if any.
#[derive(Debug, Clone, FromRow)]
pub struct NodeRecord {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub path: String,
    pub created_at: i64,
    pub official_name: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_enabled: Option<bool>,
}

/// What an entry says, as reconciliation reads it.
#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub record_id: String,
    pub action: String,
    pub actor_id: Option<i64>,
    pub at: i64,
    pub change: serde_json::Value,
    pub attachments: Vec<AttachmentRef>,
}

#[derive(FromRow)]
struct FactsRow {
    record_id: String,
    action: String,
    actor_id: Option<i64>,
    at: i64,
    change_json: String,
    attachments_json: String,
}

/// `select {cols} from {table} where id > after order by id limit n`.
async fn after<T>(tx: &mut Tx, sql: &'static str, after: i64, limit: i64) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    Ok(run!(tx, |e| sqlx::query_as(sql).bind(after).bind(limit).fetch_all(e).await)?)
}

/// `(parent, value)` pairs of `sql` (which ends in `in (`) for `ids`.
async fn pairs<V>(tx: &mut Tx, sql: &'static str, ids: &[i64]) -> Result<Vec<(i64, V)>>
where
    V: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(sql);
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_as().fetch_all(e).await
    })?)
}

fn group<V>(pairs: Vec<(i64, V)>) -> HashMap<i64, Vec<V>> {
    let mut out: HashMap<i64, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        out.entry(k).or_default().push(v);
    }
    out
}

/// Accounts with id above `after_id`, in id order, with their role grants.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn users_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<UserRecord>> {
    const SQL: &str = "select id, username, display_name, mobile, org_id, password_hash, must_change_password, \
        disabled, created_at, kind from app_user where id > $1 order by id limit $2";
    const ROLES: &str = "select user_id, role_id from user_role where user_id in (";
    let mut rows: Vec<UserRecord> = after(tx, SQL, after_id, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut roles = group(pairs::<i64>(tx, ROLES, &ids).await?);
    for r in &mut rows {
        r.roles = roles.remove(&r.id).unwrap_or_default();
        r.roles.sort_unstable();
    }
    Ok(rows)
}

/// One account with its grants, read in `tx` (the save path reads it before and after).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn user(tx: &mut Tx, id: i64) -> Result<Option<UserRecord>> {
    Ok(users_after(tx, id - 1, 1).await?.into_iter().find(|u| u.id == id))
}

/// Roles with id above `after_id`, in id order, with their permission codes.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn roles_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<RoleRecord>> {
    const SQL: &str =
        "select id, code, name, description, scope, builtin, org_id from role where id > $1 order by id limit $2";
    const PERMS: &str = "select role_id, permission from role_permission where role_id in (";
    let mut rows: Vec<RoleRecord> = after(tx, SQL, after_id, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut perms = group(pairs::<String>(tx, PERMS, &ids).await?);
    for r in &mut rows {
        r.permissions = perms.remove(&r.id).unwrap_or_default();
        r.permissions.sort_unstable();
    }
    Ok(rows)
}

/// One role with its permissions, read in `tx`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn role(tx: &mut Tx, id: i64) -> Result<Option<RoleRecord>> {
    Ok(roles_after(tx, id - 1, 1).await?.into_iter().find(|r| r.id == id))
}

/// API tokens with id above `after_id`, in id order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn tokens_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<TokenRecord>> {
    const SQL: &str = "select id, user_id, name, token_hash, prefix, created_by, created_at, revoked_at \
        from api_token where id > $1 order by id limit $2";
    after(tx, SQL, after_id, limit).await
}

/// One token, read in `tx`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn token(tx: &mut Tx, id: i64) -> Result<Option<TokenRecord>> {
    Ok(tokens_after(tx, id - 1, 1).await?.into_iter().find(|t| t.id == id))
}

/// Org nodes with id above `after_id`, in id order, with their webhooks.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn nodes_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<NodeRecord>> {
    const SQL: &str = "select n.id, n.parent_id, n.kind, n.name, n.code, n.path, n.created_at, n.official_name, \
        w.url as webhook_url, w.enabled as webhook_enabled from org_node n \
        left join org_webhook w on w.org_id = n.id where n.id > $1 order by n.id limit $2";
    after(tx, SQL, after_id, limit).await
}

/// One org node, read in `tx`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn node(tx: &mut Tx, id: i64) -> Result<Option<NodeRecord>> {
    Ok(nodes_after(tx, id - 1, 1).await?.into_iter().find(|n| n.id == id))
}

/// Mediation committees with id above `after_id`, in id order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn committees_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<CommitteeRow>> {
    const SQL: &str = "select id, org_id, name, created_at from mediation_committee where id > $1 order by id limit $2";
    after(tx, SQL, after_id, limit).await
}

/// Attachment rows with id above `after_id`, in id order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn attachments_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<AttachmentRow>> {
    const SQL: &str = "select id, org_id, record_type, record_id, blob_hash, name, size, mime, uploaded_by, \
        uploaded_at from attachment where id > $1 order by id limit $2";
    after(tx, SQL, after_id, limit).await
}

/// The transfers, assignments and objections of petitions `ids`, in id order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn transfers_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<TransferRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(
            "select id, petition_id, kind, from_org_id, to_org_id, reason, created_by, created_at \
             from petition_transfer where petition_id in (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(") order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// The 调解工作记录 of cases `ids`, in id order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn sessions_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<SessionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(
            "select id, case_id, held_on, place, mediator_id, record, created_by, created_at \
             from mediation_session where case_id in (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(") order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// The entries of records `ids` of kind `record_type`, oldest first per record (in the
/// order `ledger verify` folds them).
///
/// # Errors
/// Database errors; [`crate::StoreError::Corrupt`] for a change that is not JSON.
pub async fn entries_of(tx: &mut Tx, record_type: &str, ids: &[String]) -> Result<Vec<EntryFacts>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<FactsRow> = run!(tx, |e| {
        let mut qb = QueryBuilder::new(
            "select record_id, action, actor_id, at, change_json, attachments_json from ledger_entry \
             where record_type = ",
        );
        qb.push_bind(record_type.to_owned());
        qb.push(" and record_id in (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.clone());
        }
        qb.push(") order by record_id, at, log_id, seq");
        qb.build_query_as().fetch_all(e).await
    })?;
    facts(record_type, rows)
}

/// Every entry of kind `record_type` (a kind with few, small entries: the audit anchors).
///
/// # Errors
/// Database errors; [`crate::StoreError::Corrupt`] for a change that is not JSON.
pub async fn entries_of_kind(tx: &mut Tx, record_type: &str) -> Result<Vec<EntryFacts>> {
    const SQL: &str = "select record_id, action, actor_id, at, change_json, attachments_json from ledger_entry \
        where record_type = $1 order by at, log_id, seq";
    let rows: Vec<FactsRow> = run!(tx, |e| sqlx::query_as(SQL).bind(record_type).fetch_all(e).await)?;
    facts(record_type, rows)
}

fn facts(record_type: &str, rows: Vec<FactsRow>) -> Result<Vec<EntryFacts>> {
    rows.into_iter()
        .map(|r| {
            let change = serde_json::from_str(&r.change_json)
                .map_err(|e| crate::StoreError::Corrupt(format!("change of {record_type} entry: {e}")))?;
            // Only attachment entries carry files; an unreadable list is reported by the
            // log verifier, here it is simply empty.
            let attachments = if r.attachments_json == "[]" {
                Vec::new()
            } else {
                serde_json::from_str(&r.attachments_json).unwrap_or_default()
            };
            Ok(EntryFacts {
                record_id: r.record_id,
                action: r.action,
                actor_id: r.actor_id,
                at: r.at,
                change,
                attachments,
            })
        })
        .collect()
}

/// An audit line with its place in the chain (`None` for lines older than the chain).
#[derive(Debug, Clone, FromRow)]
pub struct AuditLine {
    pub id: i64,
    pub seq: Option<i64>,
    pub chain: Option<String>,
    pub at: i64,
    pub kind: String,
    pub username: String,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub source_addr: String,
    pub detail: String,
}

/// Chained audit lines with `seq` above `after_seq`, in chain order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn audit_after(tx: &mut Tx, after_seq: i64, limit: i64) -> Result<Vec<AuditLine>> {
    const SQL: &str = "select id, seq, chain, at, kind, username, user_id, org_id, source_addr, detail \
        from audit_event where seq > $1 order by seq limit $2";
    after(tx, SQL, after_seq, limit).await
}

/// Audit lines without a place in the chain: how many precede the first chained line (lines
/// older than the chain, written before migration 0013), and the ids of those after it
/// (which the program never writes).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn audit_unchained(tx: &mut Tx) -> Result<(i64, Vec<i64>)> {
    const FIRST: &str = "select min(id) from audit_event where seq is not null";
    const OLDER: &str = "select count(*) from audit_event where seq is null and id < $1";
    const LATER: &str = "select id from audit_event where seq is null and id > $1 order by id";
    let first: Option<i64> = run!(&mut *tx, |e| sqlx::query_scalar(FIRST).fetch_one(e).await)?;
    let first = first.unwrap_or(i64::MAX);
    let older: i64 = run!(&mut *tx, |e| sqlx::query_scalar(OLDER).bind(first).fetch_one(e).await)?;
    let later: Vec<i64> = run!(&mut *tx, |e| sqlx::query_scalar(LATER).bind(first).fetch_all(e).await)?;
    Ok((older, later))
}

/// The head of the audit chain: (latest place, its chain value); `None` before the first
/// chained line.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn audit_head<'a>(ex: impl Into<crate::Exec<'a>>) -> Result<Option<(i64, String)>> {
    const SQL: &str = "select seq, chain from audit_head where id = 1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).fetch_optional(e).await)?)
}
