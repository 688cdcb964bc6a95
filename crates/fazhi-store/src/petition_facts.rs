//! What a search hit shows of a petition (编号, date, state, nodes), read without its text.

use fazhi_domain::petition::State;
use sqlx::{FromRow, QueryBuilder};

use crate::Result;
use crate::db::Exec;

/// What a search hit shows of an item, read without its text.
#[derive(Debug, Clone, FromRow)]
pub struct PetitionFacts {
    pub id: i64,
    pub org_id: i64,
    pub community_id: Option<i64>,
    pub handler_org_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub state: State,
    /// `YYYY-MM-DD`.
    pub received_on: String,
}

/// [`PetitionFacts`] of the items with the given ids (those that exist), in no particular
/// order: one query, none of the long text columns.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn facts_of<'a>(ex: impl Into<Exec<'a>>, ids: &[i64]) -> Result<Vec<PetitionFacts>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(
            "select id, org_id, community_id, handler_org_id, state, received_on from petition where id in (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_as().fetch_all(e).await
    })?)
}
