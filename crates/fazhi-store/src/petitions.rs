//! Petition rows.

use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PetitionRow {
    pub id: i64,
    pub org_id: i64,
    pub tracking_code: String,
    pub channel: String,
    pub external_no: String,
    pub category: String,
    pub subject: String,
    pub title: String,
    pub content: String,
    pub headcount: i64,
    pub petitioners_json: String,
    pub petitioner_key: String,
    pub community_id: Option<i64>,
    pub state: String,
    pub outcome: String,
    pub reply_text: String,
    pub legal_basis: String,
    pub received_on: String,
    pub accepted_on: Option<String>,
    pub served_on: Option<String>,
    pub closed_on: Option<String>,
    pub extended_days: i64,
    pub duplicate_of: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, org_id, tracking_code, channel, external_no, category, subject, title, content, headcount, \
    petitioners_json, petitioner_key, community_id, state, outcome, reply_text, legal_basis, received_on, accepted_on, \
    served_on, closed_on, extended_days, duplicate_of, created_by, created_at, updated_at";

/// A new item.
#[derive(Debug, Clone)]
pub struct NewPetition<'a> {
    pub org_id: i64,
    pub tracking_code: &'a str,
    pub channel: &'a str,
    pub external_no: &'a str,
    pub category: &'a str,
    pub subject: &'a str,
    pub title: &'a str,
    pub content: &'a str,
    pub headcount: i64,
    pub petitioners_json: &'a str,
    pub petitioner_key: &'a str,
    pub community_id: Option<i64>,
    pub received_on: &'a str,
    pub duplicate_of: Option<i64>,
    pub created_by: Option<i64>,
}

pub async fn insert(tx: &mut Tx, p: &NewPetition<'_>, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into petition (org_id, tracking_code, channel, external_no, category, subject, title, \
        content, headcount, petitioners_json, petitioner_key, community_id, state, received_on, duplicate_of, \
        created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'registered', \
        $13, $14, $15, $16, $16) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(p.org_id)
        .bind(p.tracking_code)
        .bind(p.channel)
        .bind(p.external_no)
        .bind(p.category)
        .bind(p.subject)
        .bind(p.title)
        .bind(p.content)
        .bind(p.headcount)
        .bind(p.petitioners_json)
        .bind(p.petitioner_key)
        .bind(p.community_id)
        .bind(p.received_on)
        .bind(p.duplicate_of)
        .bind(p.created_by)
        .bind(now)
        .fetch_one(e)
        .await)?)
}

pub async fn get<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where id = "));
        qb.push_bind(id);
        qb.build_query_as().fetch_optional(e).await
    })?)
}

pub async fn by_code<'a>(ex: impl Into<Exec<'a>>, code: &str) -> Result<Option<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where tracking_code = "));
        qb.push_bind(code.to_owned());
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Earlier items of the same petitioner since `since` (for duplicate detection).
pub async fn recent_of_petitioner<'a>(ex: impl Into<Exec<'a>>, key: &str, since: Millis) -> Result<Vec<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where petitioner_key = "));
        qb.push_bind(key.to_owned());
        qb.push(" and created_at >= ");
        qb.push_bind(since);
        qb.push(" order by id desc limit 20");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Filters of the list page.
#[derive(Debug, Clone, Default)]
pub struct PetitionQuery {
    pub state: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    q: &PetitionQuery,
) -> Result<Vec<PetitionRow>> {
    let cols = ScopeCols { org: "org_id", owner: Some("created_by") };
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where "));
        push_scope(&mut qb, filter, cols);
        for (col, v) in [("state", &q.state), ("channel", &q.channel), ("category", &q.category)] {
            if let Some(v) = v {
                qb.push(format_args!(" and {col} = "));
                qb.push_bind(v.clone());
            }
        }
        qb.push(" order by id desc limit ");
        qb.push_bind(q.limit.clamp(1, 500));
        qb.push(" offset ");
        qb.push_bind(q.offset.max(0));
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Stores the item's state and the dates and texts that go with it.
pub async fn save_state(tx: &mut Tx, p: &PetitionRow, now: Millis) -> Result<()> {
    const SQL: &str = "update petition set state = $2, outcome = $3, reply_text = $4, legal_basis = $5, \
        accepted_on = $6, served_on = $7, closed_on = $8, extended_days = $9, updated_at = $10 where id = $1";
    run!(tx, |e| sqlx::query(SQL)
        .bind(p.id)
        .bind(&p.state)
        .bind(&p.outcome)
        .bind(&p.reply_text)
        .bind(&p.legal_basis)
        .bind(&p.accepted_on)
        .bind(&p.served_on)
        .bind(&p.closed_on)
        .bind(p.extended_days)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}
