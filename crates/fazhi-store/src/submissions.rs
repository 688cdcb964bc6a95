//! Form submissions that registered a record (`form_submission`): what makes a registering
//! form idempotent per submission.

use fazhi_domain::clock::Millis;

use crate::{Result, Tx};

/// The record (type, id) the submission `key` registered, if any. On PostgreSQL it first
/// takes a transaction lock on the key, so two deliveries of one submission run one after
/// the other and the second finds the first's record (SQLite's one writer already does).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn find(tx: &mut Tx, key: &str) -> Result<Option<(String, String)>> {
    if tx.engine() == crate::Engine::Postgres {
        run!(&mut *tx, |e| sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 14))")
            .bind(key)
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    const SQL: &str = "select record_type, record_id from form_submission where submission_key = $1";
    Ok(run!(&mut *tx, |e| sqlx::query_as::<_, (String, String)>(SQL).bind(key).fetch_optional(e).await)?)
}

/// Records that the submission `key` registered the record (`record_type`, `record_id`).
///
/// # Errors
/// [`crate::StoreError::Duplicate`] when the key was recorded before; other database
/// failures.
pub async fn record(tx: &mut Tx, key: &str, record_type: &str, record_id: &str, at: Millis) -> Result<()> {
    const SQL: &str =
        "insert into form_submission (submission_key, record_type, record_id, at) values ($1, $2, $3, $4)";
    run!(&mut *tx, |e| sqlx::query(SQL)
        .bind(key)
        .bind(record_type)
        .bind(record_id)
        .bind(at)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}
