//! Sessions, login failures (for lockout), the login audit trail and API tokens.
//! Secrets are never stored: sessions and tokens are kept as SHA-256 hashes.

use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use fazhi_domain::{OrgId, TokenId, UserId};
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, Tx};

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub source_addr: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Inserts session.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_session<'a>(ex: impl Into<Exec<'a>>, s: &SessionRow) -> Result<()> {
    const SQL: &str = "insert into user_session (token_hash, user_id, csrf_token, source_addr, created_at, last_seen_at) \
        values ($1, $2, $3, $4, $5, $6)";
    run!(ex.into(), |e| sqlx::query(SQL)
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(&s.source_addr)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Reads session.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_session<'a>(ex: impl Into<Exec<'a>>, token_hash: &str) -> Result<Option<SessionRow>> {
    const SQL: &str = "select token_hash, user_id, csrf_token, source_addr, created_at, last_seen_at \
        from user_session where token_hash = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(token_hash).fetch_optional(e).await)?)
}

/// Touches session.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn touch_session<'a>(ex: impl Into<Exec<'a>>, token_hash: &str, now: Millis) -> Result<()> {
    const SQL: &str = "update user_session set last_seen_at = $2 where token_hash = $1";
    run!(ex.into(), |e| sqlx::query(SQL).bind(token_hash).bind(now).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Deletes session.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn delete_session<'a>(ex: impl Into<Exec<'a>>, token_hash: &str) -> Result<()> {
    run!(ex.into(), |e| sqlx::query("delete from user_session where token_hash = $1")
        .bind(token_hash)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Ends every session of a user (password reset, disabling).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn delete_sessions_of<'a>(ex: impl Into<Exec<'a>>, user: UserId) -> Result<()> {
    run!(ex.into(), |e| sqlx::query("delete from user_session where user_id = $1")
        .bind(user.0)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Ends every session of a user but the one whose token hash is `keep` (a password change:
/// the person stays logged in where they changed it, everywhere else is out).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn delete_other_sessions<'a>(ex: impl Into<Exec<'a>>, user: UserId, keep: &str) -> Result<u64> {
    Ok(run!(ex.into(), |e| sqlx::query("delete from user_session where user_id = $1 and token_hash <> $2")
        .bind(user.0)
        .bind(keep)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Removes sessions idle since before `cutoff`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn purge_sessions<'a>(ex: impl Into<Exec<'a>>, cutoff: Millis) -> Result<u64> {
    Ok(run!(ex.into(), |e| sqlx::query("delete from user_session where last_seen_at < $1")
        .bind(cutoff)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Records failure.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn record_failure<'a>(ex: impl Into<Exec<'a>>, key: &str, at: Millis) -> Result<()> {
    run!(ex.into(), |e| sqlx::query("insert into login_failure (lock_key, at) values ($1, $2)")
        .bind(key)
        .bind(at)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Counts the attempts of `key` at or after `since` and, when fewer than `limit`, records
/// one more at `at` — atomically: concurrent callers with the same key are serialised for
/// the rest of the transaction (PostgreSQL: a transaction-scoped advisory lock on the key's
/// hash; SQLite: the transaction is already the one writer, `BEGIN IMMEDIATE`). Returns
/// whether the attempt was admitted. Rolled back with the transaction, so an attempt whose
/// use case fails is not counted.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn admit_attempt(tx: &mut Tx, key: &str, since: Millis, limit: i64, at: Millis) -> Result<bool> {
    if tx.engine() == crate::Engine::Postgres {
        run!(&mut *tx, |e| sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    let (n, _) = failures_since(&mut *tx, key, since).await?;
    if n >= limit {
        return Ok(false);
    }
    record_failure(&mut *tx, key, at).await?;
    Ok(true)
}

/// Failures of `key` at or after `since`: (count, time of the latest).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn failures_since<'a>(ex: impl Into<Exec<'a>>, key: &str, since: Millis) -> Result<(i64, Option<i64>)> {
    const SQL: &str = "select count(*), max(at) from login_failure where lock_key = $1 and at >= $2";
    Ok(run!(ex.into(), |e| { sqlx::query_as::<_, (i64, Option<i64>)>(SQL).bind(key).bind(since).fetch_one(e).await })?)
}

/// Clear failures.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn clear_failures<'a>(ex: impl Into<Exec<'a>>, key: &str) -> Result<()> {
    run!(ex.into(), |e| sqlx::query("delete from login_failure where lock_key = $1")
        .bind(key)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One line of the login/security audit trail.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub username: String,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub source_addr: String,
    pub detail: String,
}

/// A new audit line.
#[derive(Debug, Clone, Default)]
pub struct NewAudit<'a> {
    pub at: Millis,
    pub kind: &'a str,
    pub username: &'a str,
    pub user_id: Option<UserId>,
    pub org_id: Option<OrgId>,
    pub source_addr: &'a str,
    pub detail: &'a str,
}

/// The chain value of audit line number `seq` whose predecessor's chain is `prev` (`""` for
/// the first chained line): SHA-256, in hex, of the previous chain and the line's canonical
/// JSON (every column but `id`). See migration 0013 and `fazhi_app::reconcile::audit`.
pub fn audit_chain(prev: &str, seq: i64, a: &NewAudit<'_>) -> String {
    let line = serde_json::json!({
        "prev": prev, "seq": seq, "at": a.at, "kind": a.kind, "username": a.username,
        "user_id": a.user_id.map(|u| u.0), "org_id": a.org_id.map(|o| o.0),
        "source_addr": a.source_addr, "detail": a.detail,
    });
    let digest = fazhi_ledger::HashAlg::Sha256.digest(fazhi_ledger::canonical::to_string(&line).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

const AUDIT_BUMP: &str = "update audit_head set seq = seq + 1 where id = 1 returning seq, chain";
const AUDIT_HEAD_CREATE: &str = "insert into audit_head (id, seq, chain) values (1, 0, '') on conflict (id) do nothing";

/// Inserts an audit line as the next link of the chain, in `tx`. The head row is bumped
/// first (`UPDATE … RETURNING`: on PostgreSQL a row lock held to the end of `tx`, so
/// concurrent writers take their places one after another; SQLite's one writer already
/// does), then the line is written with its place and chain value.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_audit(tx: &mut crate::Tx, a: &NewAudit<'_>) -> Result<()> {
    let bumped: Option<(i64, String)> = run!(&mut *tx, |e| sqlx::query_as(AUDIT_BUMP).fetch_optional(e).await)?;
    let (seq, prev) = match bumped {
        Some(head) => head,
        None => {
            run!(&mut *tx, |e| sqlx::query(AUDIT_HEAD_CREATE).execute(e).await.map(|_| ()))?;
            run!(&mut *tx, |e| sqlx::query_as(AUDIT_BUMP).fetch_one(e).await)?
        }
    };
    let chain = audit_chain(&prev, seq, a);
    run!(&mut *tx, |e| sqlx::query("update audit_head set chain = $1 where id = 1")
        .bind(&chain)
        .execute(e)
        .await
        .map(|_| ()))?;
    const SQL: &str = "insert into audit_event (at, kind, username, user_id, org_id, source_addr, detail, seq, \
        chain) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    run!(&mut *tx, |e| sqlx::query(SQL)
        .bind(a.at)
        .bind(a.kind)
        .bind(a.username)
        .bind(a.user_id.map(|u| u.0))
        .bind(a.org_id.map(|o| o.0))
        .bind(a.source_addr)
        .bind(a.detail)
        .bind(seq)
        .bind(&chain)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Audit lines within the caller's AUDIT_READ scope (by the org of the user concerned).
/// Lines about unknown usernames have no org and are visible only with a 全部 scope.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_audit<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let cols = ScopeCols { org: "org_id", owner: Some("user_id") };
    let all = matches!(filter, Some(ScopeFilter::All));
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(
            "select id, at, kind, username, user_id, org_id, source_addr, detail from audit_event where (",
        );
        push_scope(&mut qb, filter, cols);
        if all {
            qb.push(" or org_id is null");
        }
        qb.push(") order by id desc limit ");
        qb.push_bind(limit.clamp(1, 1000));
        qb.build_query_as().fetch_all(e).await
    })?)
}

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub org_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Inserts a token issued by `by` (`None`: the operator of the binary).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_token(
    tx: &mut crate::Tx,
    user: UserId,
    name: &str,
    hash: &str,
    prefix: &str,
    by: Option<UserId>,
    now: Millis,
) -> Result<TokenId> {
    const SQL: &str = "insert into api_token (user_id, name, token_hash, prefix, created_by, created_at) \
        values ($1, $2, $3, $4, $5, $6) returning id";
    let id: i64 = run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(user.0)
        .bind(name)
        .bind(hash)
        .bind(prefix)
        .bind(by.map(|u| u.0))
        .bind(now)
        .fetch_one(e)
        .await)?;
    Ok(TokenId(id))
}

const TOKEN_SELECT: &str = "select t.id, t.user_id, u.username, u.org_id, t.name, t.prefix, t.created_at, \
    t.last_used_at, t.revoked_at from api_token t join app_user u on u.id = t.user_id";

/// The live token with this hash, if any.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn find_token<'a>(ex: impl Into<Exec<'a>>, hash: &str) -> Result<Option<TokenRow>> {
    const SQL: &str = "select t.id, t.user_id, u.username, u.org_id, t.name, t.prefix, t.created_at, \
        t.last_used_at, t.revoked_at from api_token t join app_user u on u.id = t.user_id \
        where t.token_hash = $1 and t.revoked_at is null";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(hash).fetch_optional(e).await)?)
}

/// Reads token.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_token<'a>(ex: impl Into<Exec<'a>>, id: TokenId) -> Result<Option<TokenRow>> {
    const SQL: &str = "select t.id, t.user_id, u.username, u.org_id, t.name, t.prefix, t.created_at, \
        t.last_used_at, t.revoked_at from api_token t join app_user u on u.id = t.user_id where t.id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id.0).fetch_optional(e).await)?)
}

/// Tokens whose holder lies within `filter`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_tokens<'a>(ex: impl Into<Exec<'a>>, filter: Option<&ScopeFilter>) -> Result<Vec<TokenRow>> {
    let cols = ScopeCols { org: "u.org_id", owner: Some("t.created_by") };
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("{TOKEN_SELECT} where "));
        push_scope(&mut qb, filter, cols);
        qb.push(" order by t.id desc");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Revokes token.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn revoke_token(tx: &mut crate::Tx, id: TokenId, now: Millis) -> Result<()> {
    const SQL: &str = "update api_token set revoked_at = $2 where id = $1 and revoked_at is null";
    run!(tx, |e| sqlx::query(SQL).bind(id.0).bind(now).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Touches token.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn touch_token<'a>(ex: impl Into<Exec<'a>>, id: TokenId, now: Millis) -> Result<()> {
    run!(ex.into(), |e| sqlx::query("update api_token set last_used_at = $2 where id = $1")
        .bind(id.0)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}
