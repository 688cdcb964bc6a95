//! The job queue: reminders, notifications, webhooks. A job is claimed with a lease by one
//! worker at a time — `UPDATE … RETURNING` on SQLite (whose writer lock makes the statement
//! atomic), `FOR UPDATE SKIP LOCKED` on PostgreSQL so several `fazhi serve` nodes on one
//! database never take the same job. A failed job is retried later with back-off until its
//! attempts run out; a job whose worker died is taken again when its lease expires.

use fazhi_domain::clock::Millis;
use sqlx::FromRow;

use crate::Result;
use crate::db::{Db, Exec};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Adds a job; with a `dedup_key` already queued (done or not) nothing is added. Returns
/// whether a job was added.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn enqueue<'a>(
    ex: impl Into<Exec<'a>>,
    kind: &str,
    payload: &str,
    dedup_key: Option<&str>,
    run_at: Millis,
    now: Millis,
) -> Result<bool> {
    const SQL: &str = "insert into job (kind, payload, dedup_key, run_at, created_at) values ($1, $2, $3, $4, $5) \
        on conflict (dedup_key) do nothing";
    Ok(run!(ex.into(), |e| sqlx::query(SQL)
        .bind(kind)
        .bind(payload)
        .bind(dedup_key)
        .bind(run_at)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected() == 1))?)
}

const CLAIM_SQLITE: &str = "update job set locked_by = $1, locked_until = $2, attempts = attempts + 1 \
    where id = (select id from job where done_at is null and attempts < max_attempts and run_at <= $3 \
    and (locked_until is null or locked_until < $3) order by run_at, id limit 1) \
    returning id, kind, payload, attempts, max_attempts";
const CLAIM_PG: &str = "update job set locked_by = $1, locked_until = $2, attempts = attempts + 1 \
    where id = (select id from job where done_at is null and attempts < max_attempts and run_at <= $3 \
    and (locked_until is null or locked_until < $3) order by run_at, id limit 1 for update skip locked) \
    returning id, kind, payload, attempts, max_attempts";

/// Takes the next ready job for `worker` for `lease_ms`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn claim(db: &Db, worker: &str, now: Millis, lease_ms: Millis) -> Result<Option<JobRow>> {
    // The one place where the SQL differs by engine: SQLite has no row locks to skip.
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_as(CLAIM_SQLITE).bind(worker).bind(now + lease_ms).bind(now).fetch_optional(p).await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(CLAIM_PG).bind(worker).bind(now + lease_ms).bind(now).fetch_optional(p).await?
        }
    })
}

/// Marks a job done (only by the worker holding it).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn complete<'a>(ex: impl Into<Exec<'a>>, id: i64, worker: &str, now: Millis) -> Result<bool> {
    const SQL: &str = "update job set done_at = $3, locked_by = null, locked_until = null \
        where id = $1 and locked_by = $2 and done_at is null";
    Ok(run!(ex.into(), |e| sqlx::query(SQL)
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected() == 1))?)
}

/// Records a failure; the job becomes ready again at `retry_at` (if attempts remain).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn fail<'a>(ex: impl Into<Exec<'a>>, id: i64, worker: &str, error: &str, retry_at: Millis) -> Result<()> {
    const SQL: &str = "update job set locked_by = null, locked_until = null, last_error = $3, run_at = $4 \
        where id = $1 and locked_by = $2";
    run!(ex.into(), |e| sqlx::query(SQL)
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(retry_at)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Jobs that ran out of attempts, newest first: (id, kind, last error).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn dead<'a>(ex: impl Into<Exec<'a>>, limit: i64) -> Result<Vec<(i64, String, String)>> {
    const SQL: &str = "select id, kind, last_error from job where done_at is null and attempts >= max_attempts \
        order by id desc limit $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(limit).fetch_all(e).await)?)
}
