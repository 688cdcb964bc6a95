//! Petition rows.

use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::record::push_scope_any;
use crate::scope::ScopeCols;
use crate::{Result, Tx};
use fazhi_domain::petition::{Category, Channel, Stage, State};

/// A stored item. Codes decode into their enums: a code this program did not write is a
/// decoding error, never a default.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PetitionRow {
    pub id: i64,
    /// The node that holds the item (the desk; after 转送, the receiving body).
    pub org_id: i64,
    pub tracking_code: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub external_no: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub subject: String,
    pub title: String,
    pub content: String,
    pub headcount: i64,
    pub petitioners_json: String,
    pub petitioner_key: String,
    pub community_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub state: State,
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
    pub handler_org_id: Option<i64>,
    pub lead_user_id: Option<i64>,
    pub supervised_count: i64,
    pub parent_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    pub accepted_elsewhere: String,
    pub satisfaction: String,
    pub visited_on: Option<String>,
    pub collective: i64,
}

const COLS: &str = "id, org_id, tracking_code, channel, external_no, category, subject, title, content, headcount, \
    petitioners_json, petitioner_key, community_id, state, outcome, reply_text, legal_basis, received_on, accepted_on, \
    served_on, closed_on, extended_days, duplicate_of, created_by, created_at, updated_at, handler_org_id, lead_user_id, \
    supervised_count, parent_id, stage, accepted_elsewhere, satisfaction, visited_on, collective";

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
    /// `registered` for a new item; `accepted` for a 复查/复核 request, accepted on receipt.
    pub state: &'a str,
    pub accepted_on: Option<&'a str>,
    pub parent_id: Option<i64>,
    pub stage: &'a str,
    pub accepted_elsewhere: &'a str,
    pub collective: bool,
}

/// Inserts.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert(tx: &mut Tx, p: &NewPetition<'_>, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into petition (org_id, tracking_code, channel, external_no, category, subject, title, \
        content, headcount, petitioners_json, petitioner_key, community_id, state, received_on, duplicate_of, \
        created_by, created_at, updated_at, accepted_on, parent_id, stage, accepted_elsewhere, collective) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $17, $13, $14, $15, $16, $16, $18, $19, $20, $21, \
        $22) returning id";
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
        .bind(p.state)
        .bind(p.accepted_on)
        .bind(p.parent_id)
        .bind(p.stage)
        .bind(p.accepted_elsewhere)
        .bind(i64::from(p.collective))
        .fetch_one(e)
        .await)?)
}

/// The item, read in the caller's transaction and locked until it ends (`for update` on
/// PostgreSQL; SQLite has one writer, so the transaction already excludes every other
/// change): two concurrent steps on one item run one after the other, and the second sees
/// the first's state.
///
/// # Errors
/// Database errors.
pub async fn get_for_update(tx: &mut Tx, id: i64) -> Result<Option<PetitionRow>> {
    let lock = match tx.engine() {
        crate::Engine::Postgres => " for update",
        crate::Engine::Sqlite => "",
    };
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where id = "));
        qb.push_bind(id);
        qb.push(lock);
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Reads.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where id = "));
        qb.push_bind(id);
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// The item registered from the source record `external_no` of `channel` (a 12345 工单
/// number, a 信访信息系统 number), if any: the oldest when an earlier import duplicated it.
/// On PostgreSQL it first takes a transaction lock on that identity, so two imports of the
/// same source record run one after the other (SQLite's single writer already does).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn by_source(tx: &mut Tx, channel: &str, external_no: &str) -> Result<Option<PetitionRow>> {
    if tx.engine() == crate::Engine::Postgres {
        run!(&mut *tx, |e| sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 12))")
            .bind(format!("{channel}:{external_no}"))
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    Ok(run!(&mut *tx, |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where channel = "));
        qb.push_bind(channel).push(" and external_no = ").push_bind(external_no).push(" order by id limit 1");
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Reads by code.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn by_code<'a>(ex: impl Into<Exec<'a>>, code: &str) -> Result<Option<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where tracking_code = "));
        qb.push_bind(code.to_owned());
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Items with id above `after`, in id order, at most `limit` (for `ledger verify`).
///
/// # Errors
/// Database errors.
pub async fn batch_after<'a>(ex: impl Into<Exec<'a>>, after: i64, limit: i64) -> Result<Vec<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where id > "));
        qb.push_bind(after);
        qb.push(" order by id limit ");
        qb.push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Earlier items of the same petitioner since `since` (for duplicate detection).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
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

/// Items naming a petitioner by identifier: the petitioner key (the first petitioner's
/// 身份证号, else phone) or any petitioner's `field` (`id_number` or `phone`) equal to
/// `value`, newest first, at most `limit`. `value` is a stored form (digits, `X`, `-`: no
/// LIKE wildcard). The second test reads the stored JSON (a scan: only for queries that are
/// identifiers).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn by_identifier<'a>(
    ex: impl Into<Exec<'a>>,
    field: &'static str,
    value: &str,
    limit: i64,
) -> Result<Vec<PetitionRow>> {
    let pattern = format!("%\"{field}\":\"{value}\"%");
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where petitioner_key = "));
        qb.push_bind(value.to_owned());
        qb.push(" or petitioners_json like ");
        qb.push_bind(pattern.clone());
        qb.push(" order by id desc limit ");
        qb.push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Filters of the list page.
#[derive(Debug, Clone, Default)]
pub struct PetitionQuery {
    pub state: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    /// Items owned by or assigned to this node or any node below it (a community's items).
    pub community_path: Option<(String, String)>,
    /// Only items with a 红牌 (overdue) clock.
    pub overdue: bool,
    /// Only items a leader owns (包案): `Some(None)` any leader, `Some(Some(id))` that leader.
    pub lead: Option<Option<i64>>,
    /// Only open items received on or before this day (积案).
    pub backlog_before: Option<String>,
    /// Only items received within `[from, to]` (`YYYY-MM-DD`).
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// Only these items (the items behind an indicator).
    pub ids: Option<Vec<i64>>,
    pub limit: i64,
    pub offset: i64,
}

/// The holders of a petition (see [`crate::record::PETITION`]): the owning desk's node and,
/// while assigned, the assignee's node (a community sees what was handed to it).
const HOLDERS: &[ScopeCols] = crate::record::PETITION.holders;

/// States that are no longer being worked on, as a SQL list (from `State::is_open`).
fn done_states() -> String {
    fazhi_domain::code::sql_list::<State>(|s| !s.is_open())
}

fn push_filters<DB>(qb: &mut QueryBuilder<DB>, filter: Option<&ScopeFilter>, q: &PetitionQuery)
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Arguments: Default,
    for<'x> i64: sqlx::Encode<'x, DB> + sqlx::Type<DB>,
    for<'x> String: sqlx::Encode<'x, DB> + sqlx::Type<DB>,
{
    push_filters_via(qb, filter, q, None);
}

/// The filters with the scope on both columns (`via: None`) or on one of them only (one
/// branch of the list's union).
fn push_filters_via<DB>(
    qb: &mut QueryBuilder<DB>,
    filter: Option<&ScopeFilter>,
    q: &PetitionQuery,
    via: Option<ScopeCols>,
) where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Arguments: Default,
    for<'x> i64: sqlx::Encode<'x, DB> + sqlx::Type<DB>,
    for<'x> String: sqlx::Encode<'x, DB> + sqlx::Type<DB>,
{
    match via {
        Some(cols) => push_scope_any(qb, filter, &[cols]),
        None => push_scope_any(qb, filter, HOLDERS),
    }
    for (col, v) in [("state", &q.state), ("channel", &q.channel), ("category", &q.category)] {
        if let Some(v) = v {
            qb.push(format_args!(" and {col} = "));
            qb.push_bind(v.clone());
        }
    }
    if let Some((lo, hi)) = &q.community_path {
        qb.push(" and (org_id in (select id from org_node where path >= ");
        qb.push_bind(lo.clone());
        qb.push(" and path < ");
        qb.push_bind(hi.clone());
        qb.push(") or handler_org_id in (select id from org_node where path >= ");
        qb.push_bind(lo.clone());
        qb.push(" and path < ");
        qb.push_bind(hi.clone());
        qb.push("))");
    }
    if q.overdue {
        qb.push(
            " and exists (select 1 from deadline_clock c where c.record_type = 'petition' \
             and c.record_id = cast(petition.id as text) and c.card = 'red')",
        );
    }
    match q.lead {
        Some(Some(user)) => {
            qb.push(" and lead_user_id = ");
            qb.push_bind(user);
        }
        Some(None) => {
            qb.push(" and lead_user_id is not null");
        }
        None => {}
    }
    if let Some(day) = &q.backlog_before {
        qb.push(format_args!(" and state not in {} and received_on <= ", done_states()));
        qb.push_bind(day.clone());
    }
    if let Some(day) = &q.received_from {
        qb.push(" and received_on >= ");
        qb.push_bind(day.clone());
    }
    if let Some(day) = &q.received_to {
        qb.push(" and received_on <= ");
        qb.push_bind(day.clone());
    }
    if let Some(ids) = &q.ids {
        if ids.is_empty() {
            qb.push(" and 1 = 0");
        } else {
            qb.push(" and id in (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
        }
    }
}

/// Lists.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    q: &PetitionQuery,
) -> Result<Vec<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        // The page's ids first, then the full rows of those ids. The ids come from a union
        // of the two scope columns, each branch newest-first on its own index and cut at
        // the page's end, so a page reads ~2 × (offset + limit) index entries instead of
        // every item in scope (an OR of the two columns made SQLite visit and sort them all,
        // with their content: ~11 ms a page at 2,000 items).
        let limit = q.limit.clamp(1, 500);
        let offset = q.offset.max(0);
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where id in (select id from ("));
        for (i, cols) in HOLDERS.iter().copied().enumerate() {
            if i > 0 {
                qb.push(" union ");
            }
            qb.push("select id from (select id from petition where ");
            push_filters_via(&mut qb, filter, q, Some(cols));
            qb.push(" order by id desc limit ");
            qb.push_bind(limit + offset);
            qb.push(format!(") b{i}"));
        }
        qb.push(") u order by id desc limit ");
        qb.push_bind(limit);
        qb.push(" offset ");
        qb.push_bind(offset);
        qb.push(") order by id desc");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// How many items match (for the list's paging line).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn count<'a>(ex: impl Into<Exec<'a>>, filter: Option<&ScopeFilter>, q: &PetitionQuery) -> Result<i64> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new("select count(*) from petition where ");
        push_filters(&mut qb, filter, q);
        qb.build_query_scalar().fetch_one(e).await
    })?)
}

/// Every item in scope that matters to a period `[from, to]`: received in it, or received
/// before and still open at its start (the app counts; one row per item).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn for_indicators<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    from: &str,
    to: &str,
) -> Result<Vec<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where "));
        push_filters(&mut qb, filter, &PetitionQuery::default());
        qb.push(" and received_on <= ");
        qb.push_bind(to.to_owned());
        qb.push(" and (received_on >= ");
        qb.push_bind(from.to_owned());
        qb.push(" or closed_on >= ");
        qb.push_bind(from.to_owned());
        qb.push(" or served_on >= ");
        qb.push_bind(from.to_owned());
        qb.push(" or (closed_on is null and served_on is null)) order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// The items asked to be reviewed or rechecked (children of `parent_ids`).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn children<'a>(ex: impl Into<Exec<'a>>, parent_id: i64) -> Result<Vec<PetitionRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from petition where parent_id = "));
        qb.push_bind(parent_id);
        qb.push(" order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Ids of items that have at least one 复查/复核 child, among all items.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn reviewed_parents<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<(i64, String)>> {
    Ok(run!(ex.into(), |e| sqlx::query_as("select parent_id, stage from petition where parent_id is not null")
        .fetch_all(e)
        .await)?)
}

/// A transfer, assignment or objection.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TransferRow {
    pub id: i64,
    pub petition_id: i64,
    pub kind: String,
    pub from_org_id: i64,
    pub to_org_id: i64,
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Adds transfer.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn add_transfer(tx: &mut Tx, t: &TransferRow) -> Result<i64> {
    const SQL: &str = "insert into petition_transfer (petition_id, kind, from_org_id, to_org_id, reason, created_by, \
        created_at) values ($1, $2, $3, $4, $5, $6, $7) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(t.petition_id)
        .bind(&t.kind)
        .bind(t.from_org_id)
        .bind(t.to_org_id)
        .bind(&t.reason)
        .bind(t.created_by)
        .bind(t.created_at)
        .fetch_one(e)
        .await)?)
}

/// Lists the transfers.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn transfers<'a>(ex: impl Into<Exec<'a>>, petition_id: i64) -> Result<Vec<TransferRow>> {
    const SQL: &str = "select id, petition_id, kind, from_org_id, to_org_id, reason, created_by, created_at \
        from petition_transfer where petition_id = $1 order by id";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(petition_id).fetch_all(e).await)?)
}

/// Stores the item's state and the dates and texts that go with it.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn save_state(tx: &mut Tx, p: &PetitionRow, now: Millis) -> Result<()> {
    const SQL: &str = "update petition set state = $2, outcome = $3, reply_text = $4, legal_basis = $5, \
        accepted_on = $6, served_on = $7, closed_on = $8, extended_days = $9, updated_at = $10, org_id = $11, \
        handler_org_id = $12, lead_user_id = $13, supervised_count = $14, satisfaction = $15, visited_on = $16, \
        duplicate_of = $17 where id = $1";
    run!(tx, |e| sqlx::query(SQL)
        .bind(p.id)
        .bind(p.state.code())
        .bind(&p.outcome)
        .bind(&p.reply_text)
        .bind(&p.legal_basis)
        .bind(&p.accepted_on)
        .bind(&p.served_on)
        .bind(&p.closed_on)
        .bind(p.extended_days)
        .bind(now)
        .bind(p.org_id)
        .bind(p.handler_org_id)
        .bind(p.lead_user_id)
        .bind(p.supervised_count)
        .bind(&p.satisfaction)
        .bind(&p.visited_on)
        .bind(p.duplicate_of)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A clock of a petition as the indicators need it.
#[derive(Debug, Clone, FromRow)]
pub struct PetitionClock {
    pub record_id: String,
    pub rule_id: String,
    pub state: String,
}

/// The clocks of the given rules on items within scope.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn clocks_in_scope<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    rules: &[&str],
) -> Result<Vec<PetitionClock>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(
            "select c.record_id, c.rule_id, c.state from deadline_clock c where c.record_type = 'petition' and \
             c.rule_id in (",
        );
        let mut sep = qb.separated(", ");
        for r in rules {
            sep.push_bind((*r).to_owned());
        }
        qb.push(") and c.record_id in (select cast(id as text) from petition where ");
        push_filters(&mut qb, filter, &PetitionQuery::default());
        qb.push(")");
        qb.build_query_as().fetch_all(e).await
    })?)
}
