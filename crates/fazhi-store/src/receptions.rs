//! Leader reception days (领导接访日) and the receptions held on them.

use fazhi_domain::access::ScopeFilter;
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct DayRow {
    pub id: i64,
    pub org_id: i64,
    pub leader_user_id: Option<i64>,
    pub leader_name: String,
    pub leader_title: String,
    pub day: String,
    pub hours: String,
    pub place: String,
    pub topic: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

const DAY_COLS: &str =
    "id, org_id, leader_user_id, leader_name, leader_title, day, hours, place, topic, created_by, created_at";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ReceptionRow {
    pub id: i64,
    pub org_id: i64,
    pub day_id: Option<i64>,
    pub leader_user_id: Option<i64>,
    pub leader_name: String,
    pub received_on: String,
    pub visitors: String,
    pub headcount: i64,
    pub matter: String,
    pub instruction: String,
    pub petition_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

const RECEPTION_COLS: &str = "id, org_id, day_id, leader_user_id, leader_name, received_on, visitors, headcount, \
    matter, instruction, petition_id, created_by, created_at";

const SCOPE: ScopeCols = ScopeCols { org: "org_id", owner: Some("created_by") };

/// Inserts day.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_day(tx: &mut Tx, d: &DayRow) -> Result<i64> {
    const SQL: &str = "insert into reception_day (org_id, leader_user_id, leader_name, leader_title, day, hours, \
        place, topic, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(d.org_id)
        .bind(d.leader_user_id)
        .bind(&d.leader_name)
        .bind(&d.leader_title)
        .bind(&d.day)
        .bind(&d.hours)
        .bind(&d.place)
        .bind(&d.topic)
        .bind(d.created_by)
        .bind(d.created_at)
        .fetch_one(e)
        .await)?)
}

/// Reception days within scope (the public portal passes `All`: every street's schedule
/// is public) within `[from, to]`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn days<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    from: &str,
    to: &str,
) -> Result<Vec<DayRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {DAY_COLS} from reception_day where "));
        push_scope(&mut qb, filter, SCOPE);
        qb.push(" and day >= ");
        qb.push_bind(from.to_owned());
        qb.push(" and day <= ");
        qb.push_bind(to.to_owned());
        qb.push(" order by day, id limit 500");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Reads the day.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn day<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<DayRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {DAY_COLS} from reception_day where id = "));
        qb.push_bind(id);
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Inserts reception.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_reception(tx: &mut Tx, r: &ReceptionRow) -> Result<i64> {
    const SQL: &str = "insert into reception (org_id, day_id, leader_user_id, leader_name, received_on, visitors, \
        headcount, matter, instruction, petition_id, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, \
        $9, $10, $11, $12) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(r.org_id)
        .bind(r.day_id)
        .bind(r.leader_user_id)
        .bind(&r.leader_name)
        .bind(&r.received_on)
        .bind(&r.visitors)
        .bind(r.headcount)
        .bind(&r.matter)
        .bind(&r.instruction)
        .bind(r.petition_id)
        .bind(r.created_by)
        .bind(r.created_at)
        .fetch_one(e)
        .await)?)
}

/// Receptions within scope held within `[from, to]`; `ids` narrows to the items behind an
/// indicator; `petition_id` to those linked to one item.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn receptions<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    from: &str,
    to: &str,
    petition_id: Option<i64>,
) -> Result<Vec<ReceptionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {RECEPTION_COLS} from reception where "));
        push_scope(&mut qb, filter, SCOPE);
        qb.push(" and received_on >= ");
        qb.push_bind(from.to_owned());
        qb.push(" and received_on <= ");
        qb.push_bind(to.to_owned());
        if let Some(p) = petition_id {
            qb.push(" and petition_id = ");
            qb.push_bind(p);
        }
        qb.push(" order by received_on desc, id desc limit 2000");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Reception days with id above `after`, in id order (for `ledger verify`).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn days_after<'a>(ex: impl Into<Exec<'a>>, after: i64, limit: i64) -> Result<Vec<DayRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {DAY_COLS} from reception_day where id > "));
        qb.push_bind(after);
        qb.push(" order by id limit ");
        qb.push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Receptions with id above `after`, in id order (for `ledger verify`).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn receptions_after<'a>(ex: impl Into<Exec<'a>>, after: i64, limit: i64) -> Result<Vec<ReceptionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {RECEPTION_COLS} from reception where id > "));
        qb.push_bind(after);
        qb.push(" order by id limit ");
        qb.push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}
