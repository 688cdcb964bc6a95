//! The installation's registered checkpoint keys (public halves, with validity).

use fazhi_domain::clock::Millis;
use sqlx::FromRow;

use crate::db::Exec;
use crate::{Result, Tx};

/// A registered public key (`name+id+base64`), signing from `valid_from` until `valid_to`
/// (ms; `None` = signs now).
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct KeyRow {
    pub id: i64,
    pub vkey: String,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

/// Every registered key, oldest first.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn keys<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<KeyRow>> {
    const SQL: &str = "select id, vkey, valid_from, valid_to from ledger_key order by id";
    Ok(run!(ex.into(), |x| sqlx::query_as(SQL).fetch_all(x).await)?)
}

/// Ends the validity of every key still signing, at `now`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn retire_keys(tx: &mut Tx, now: Millis) -> Result<u64> {
    const SQL: &str = "update ledger_key set valid_to = $1 where valid_to is null";
    Ok(run!(tx, |x| sqlx::query(SQL).bind(now).execute(x).await.map(|r| r.rows_affected()))?)
}

/// Registers a key signing from `valid_from`; returns its id.
///
/// # Errors
/// [`crate::StoreError::Duplicate`] when the key is registered already; database errors.
pub async fn insert_key(tx: &mut Tx, vkey: &str, valid_from: Millis, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into ledger_key (vkey, valid_from, created_at) values ($1, $2, $3) returning id";
    Ok(run!(tx, |x| sqlx::query_scalar(SQL).bind(vkey).bind(valid_from).bind(now).fetch_one(x).await)?)
}
