//! The one-time rewrite of search text indexed before normalisation (`segment::normalize`).

use super::segment::normalize;
use crate::{Result, Store};

/// The normalisation this build indexes with; rows of an older one are rewritten.
const VERSION: i64 = 1;

/// Rows read per batch.
const BATCH: i64 = 1_000;

/// Rewrites the indexed text of every search document indexed before this build's
/// normalisation ([`VERSION`]), once per installation (recorded in `search_normalized`):
/// full-width letters and digits become ASCII, upper case lower. The index follows
/// (SQLite: the FTS triggers; PostgreSQL: the generated tsvector). Returns the rows changed.
///
/// # Errors
/// [`crate::StoreError`] when the database fails; nothing is recorded as done then.
pub async fn renormalize(store: &Store) -> Result<u64> {
    let done: Option<i64> =
        run!(&store.read, |e| sqlx::query_scalar("select max(version) from search_normalized").fetch_one(e).await)?;
    if done.is_some_and(|v| v >= VERSION) {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let mut changed = 0;
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = run!(&mut tx, |e| sqlx::query_as(
            "select id, segmented from search_doc where id > $1 order by id limit $2"
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(e)
        .await)?;
        let Some(last) = rows.last().map(|r| r.0) else { break };
        for (id, text) in rows {
            let n = normalize(&text);
            if n != text {
                let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
                run!(&mut tx, |e| sqlx::query("update search_doc set segmented = $1 where id = $2")
                    .bind(&n)
                    .bind(id)
                    .execute(e)
                    .await
                    .map(|_| ()))?;
                changed += 1;
            }
        }
        after = last;
    }
    run!(&mut tx, |e| sqlx::query("insert into search_normalized (version) values ($1)")
        .bind(VERSION)
        .execute(e)
        .await
        .map(|_| ()))?;
    tx.commit().await?;
    Ok(changed)
}
