//! Statutory clocks, imported holiday schedules, the inbox and webhook settings.

use fazhi_domain::OrgId;
use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, Tx};

#[derive(Debug, Clone, FromRow)]
pub struct ClockRow {
    pub id: i64,
    pub org_id: i64,
    pub owner_id: Option<i64>,
    pub record_type: String,
    pub record_id: String,
    pub rule_id: String,
    pub clock_json: String,
    pub due_date: Option<String>,
    pub state: String,
    pub card: String,
    pub closed: bool,
    pub problem: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "c.id, c.org_id, c.owner_id, c.record_type, c.record_id, c.rule_id, c.clock_json, c.due_date, \
    c.state, c.card, c.closed, c.problem, c.created_at, c.updated_at";

/// A new clock row.
#[derive(Debug, Clone)]
pub struct NewClock<'a> {
    pub org_id: i64,
    pub owner_id: Option<i64>,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub rule_id: &'a str,
    pub clock_json: &'a str,
}

/// Inserts a clock with its first evaluation (`s.clock_json` is what is stored; `c.clock_json`
/// is ignored in favour of it).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert(tx: &mut Tx, c: &NewClock<'_>, s: &ClockStatus<'_>, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into deadline_clock (org_id, owner_id, record_type, record_id, rule_id, clock_json, \
        due_date, state, card, closed, problem, created_at, updated_at) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(c.org_id)
        .bind(c.owner_id)
        .bind(c.record_type)
        .bind(c.record_id)
        .bind(c.rule_id)
        .bind(s.clock_json)
        .bind(&s.due_date)
        .bind(s.state)
        .bind(s.card)
        .bind(s.closed)
        .bind(s.problem)
        .bind(now)
        .fetch_one(e)
        .await)?)
}

/// What evaluation decided about a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStatus<'a> {
    pub clock_json: &'a str,
    pub due_date: Option<String>,
    pub state: &'a str,
    pub card: &'a str,
    pub closed: bool,
    pub problem: &'a str,
}

/// Updates.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn update<'a>(ex: impl Into<Exec<'a>>, id: i64, s: &ClockStatus<'_>, now: Millis) -> Result<()> {
    const SQL: &str = "update deadline_clock set clock_json = $2, due_date = $3, state = $4, card = $5, closed = $6, \
        problem = $7, updated_at = $8 where id = $1";
    run!(ex.into(), |e| sqlx::query(SQL)
        .bind(id)
        .bind(s.clock_json)
        .bind(&s.due_date)
        .bind(s.state)
        .bind(s.card)
        .bind(s.closed)
        .bind(s.problem)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Reads.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<ClockRow>> {
    const SQL: &str = "select c.id, c.org_id, c.owner_id, c.record_type, c.record_id, c.rule_id, c.clock_json, \
        c.due_date, c.state, c.card, c.closed, c.problem, c.created_at, c.updated_at from deadline_clock c where c.id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id).fetch_optional(e).await)?)
}

/// Open clocks after `after_id`, for scanning in batches.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn open_batch<'a>(ex: impl Into<Exec<'a>>, after_id: i64, limit: i64) -> Result<Vec<ClockRow>> {
    const SQL: &str = "select c.id, c.org_id, c.owner_id, c.record_type, c.record_id, c.rule_id, c.clock_json, \
        c.due_date, c.state, c.card, c.closed, c.problem, c.created_at, c.updated_at from deadline_clock c \
        where not c.closed and c.id > $1 order by c.id limit $2";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(after_id).bind(limit).fetch_all(e).await)?)
}

/// Open clocks after `after_id`, read in the caller's transaction and locked until it ends
/// (`for update` on PostgreSQL; SQLite has one writer, so the transaction already excludes
/// every other change): a scan or a recompute writes back what it read, never over a
/// concurrent pause or extension.
///
/// # Errors
/// Database errors.
pub async fn open_batch_for_update(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<ClockRow>> {
    let lock = match tx.engine() {
        crate::Engine::Postgres => " for update",
        crate::Engine::Sqlite => "",
    };
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from deadline_clock c where not c.closed and c.id > "));
        qb.push_bind(after_id);
        qb.push(" order by c.id limit ");
        qb.push_bind(limit);
        qb.push(lock);
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Clocks of the records each `(kind, filter)` admits (the filter is the caller's scope for
/// the kind's read permission; `None` = the kind's clocks are excluded), red first, then
/// yellow, then by due date.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list<'a>(
    ex: impl Into<Exec<'a>>,
    filters: &[(&'static fazhi_domain::record::Kind, Option<ScopeFilter>)],
    open_only: bool,
    limit: i64,
) -> Result<Vec<ClockRow>> {
    let cols = ScopeCols { org: "c.org_id", owner: Some("c.owner_id") };
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from deadline_clock c where ("));
        let mut any = false;
        for (kind, filter) in filters.iter().filter(|(_, f)| f.is_some()) {
            if any {
                qb.push(" or ");
            }
            any = true;
            qb.push("(c.record_type = ");
            qb.push_bind(kind.code.to_owned());
            qb.push(" and ");
            match crate::record::table(kind) {
                // The record's holders decide, as for the record itself (an assigned
                // community sees the item's clocks; the sender no longer does after 转送).
                Some(t) => {
                    qb.push(format_args!(
                        "exists (select 1 from {} t where cast(t.id as text) = c.record_id and ",
                        t.name
                    ));
                    // Unqualified holder columns resolve to `t`, the innermost table.
                    crate::record::push_scope_any(&mut qb, filter.as_ref(), t.holders);
                    qb.push(")");
                }
                None => push_scope(&mut qb, filter.as_ref(), cols),
            }
            qb.push(")");
        }
        if !any {
            qb.push("1 = 0");
        }
        qb.push(")");
        if open_only {
            qb.push(" and not c.closed");
        }
        qb.push(" order by case c.card when 'red' then 0 when 'yellow' then 1 else 2 end, c.due_date, c.id limit ");
        qb.push_bind(limit.clamp(1, 1000));
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Reads of record.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn of_record<'a>(ex: impl Into<Exec<'a>>, record_type: &str, record_id: &str) -> Result<Vec<ClockRow>> {
    const SQL: &str = "select c.id, c.org_id, c.owner_id, c.record_type, c.record_id, c.rule_id, c.clock_json, \
        c.due_date, c.state, c.card, c.closed, c.problem, c.created_at, c.updated_at from deadline_clock c \
        where c.record_type = $1 and c.record_id = $2 order by c.id";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(record_type).bind(record_id).fetch_all(e).await)?)
}

/// Leaders (街道主要负责人, 分管领导) sitting on any of `orgs` (the clock's node and its
/// ancestors), to be told about overdue items.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn leaders<'a>(ex: impl Into<Exec<'a>>, orgs: &[OrgId]) -> Result<Vec<i64>> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(
            "select distinct u.id from app_user u join user_role ur on ur.user_id = u.id join role r on r.id = ur.role_id \
             where r.code in ('principal', 'deputy') and not u.disabled and u.org_id in (",
        );
        let mut sep = qb.separated(", ");
        for o in orgs {
            sep.push_bind(o.0);
        }
        qb.push(") order by u.id");
        qb.build_query_scalar().fetch_all(e).await
    })?)
}

/// Imported holiday schedules (year, text).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn calendar_years<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<(i64, String)>> {
    const SQL: &str = "select year, schedule_text from calendar_year order by year";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).fetch_all(e).await)?)
}

/// One imported year as stored: its schedule text, who imported it and when.
#[derive(Debug, Clone, FromRow)]
pub struct CalendarYearRow {
    pub year: i64,
    pub schedule_text: String,
    pub imported_by: Option<i64>,
    pub imported_at: i64,
}

/// The imported schedule of one year, with who imported it and when (`None`: not imported,
/// the built-in schedule or none applies).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn calendar_year<'a>(ex: impl Into<Exec<'a>>, year: i64) -> Result<Option<CalendarYearRow>> {
    const SQL: &str = "select year, schedule_text, imported_by, imported_at from calendar_year where year = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(year).fetch_optional(e).await)?)
}

/// Saves calendar year.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn save_calendar_year(tx: &mut Tx, year: i64, text: &str, by: Option<i64>, now: Millis) -> Result<()> {
    const SQL: &str = "insert into calendar_year (year, schedule_text, imported_by, imported_at) values ($1, $2, $3, $4) \
        on conflict (year) do update set schedule_text = excluded.schedule_text, imported_by = excluded.imported_by, \
        imported_at = excluded.imported_at";
    run!(tx, |e| sqlx::query(SQL).bind(year).bind(text).bind(by).bind(now).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// The key of the PostgreSQL advisory lock that orders calendar imports against every
/// transaction computing a due date ("fazhical").
const CALENDAR_LOCK: i64 = 0x6661_7a68_6963_616c;

/// The calendar's version (0 before the first import), read through a pool: a cheap check
/// whether a node's calendar in memory is current.
///
/// # Errors
/// Database errors.
pub async fn calendar_version<'a>(ex: impl Into<Exec<'a>>) -> Result<i64> {
    const SQL: &str = "select coalesce(max(version), 0) from calendar_version";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL).fetch_one(e).await)?)
}

/// The calendar's version, read in a transaction that is about to compute due dates, and
/// held until it ends: on PostgreSQL a shared advisory lock that an import takes
/// exclusively, so no import commits between this read and this transaction's end (SQLite
/// has one writer: the transaction already excludes an import). A due date written in this
/// transaction with the calendar of this version is then never older than the calendar.
///
/// # Errors
/// Database errors.
pub async fn calendar_version_shared(tx: &mut Tx) -> Result<i64> {
    if tx.engine() == crate::Engine::Postgres {
        run!(&mut *tx, |e| sqlx::query("select pg_advisory_xact_lock_shared($1)")
            .bind(CALENDAR_LOCK)
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    calendar_version(tx).await
}

/// Starts an import: waits until no transaction computes a due date (on PostgreSQL the
/// exclusive side of [`calendar_version_shared`]; SQLite's one writer already excludes
/// them), then adds one to the calendar's version. Returns the new version.
///
/// # Errors
/// Database errors.
pub async fn bump_calendar_version(tx: &mut Tx) -> Result<i64> {
    const SQL: &str = "insert into calendar_version (id, version) values (1, 1) \
        on conflict (id) do update set version = calendar_version.version + 1 returning version";
    if tx.engine() == crate::Engine::Postgres {
        run!(&mut *tx, |e| sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(CALENDAR_LOCK)
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    Ok(run!(tx, |e| sqlx::query_scalar(SQL).fetch_one(e).await)?)
}

#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub clock_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub urgency: i64,
    pub created_at: i64,
    pub read_at: Option<i64>,
    /// The record the notice is about, when it names one.
    pub record_type: Option<String>,
    pub record_id: Option<String>,
}

/// A new inbox item.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// The record the notice is about (`record_type`, `record_id`), linked by the UI.
    pub record: Option<(&'a str, String)>,
    pub user_id: i64,
    pub clock_id: Option<i64>,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub urgency: i64,
}

/// Adds an inbox item; a second item for the same (user, clock, kind) is not added.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn notify<'a>(ex: impl Into<Exec<'a>>, n: &NewNotification<'_>, now: Millis) -> Result<bool> {
    const SQL: &str = "insert into notification (user_id, clock_id, kind, title, body, link, urgency, created_at, \
        record_type, record_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict do nothing";
    let (rt, ri) = n.record.clone().map_or((None, None), |(t, i)| (Some(t), Some(i)));
    Ok(run!(ex.into(), |e| sqlx::query(SQL)
        .bind(n.user_id)
        .bind(n.clock_id)
        .bind(n.kind)
        .bind(n.title)
        .bind(n.body)
        .bind(n.link)
        .bind(n.urgency)
        .bind(now)
        .bind(rt)
        .bind(ri.clone())
        .execute(e)
        .await
        .map(|r| r.rows_affected() == 1))?)
}

/// Counts the unread count.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn unread_count<'a>(ex: impl Into<Exec<'a>>, user: i64) -> Result<i64> {
    const SQL: &str = "select count(*) from notification where user_id = $1 and read_at is null";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL).bind(user).fetch_one(e).await)?)
}

/// A user's inbox: unread first, most urgent first, newest first.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn inbox<'a>(ex: impl Into<Exec<'a>>, user: i64, limit: i64) -> Result<Vec<NotificationRow>> {
    const SQL: &str = "select id, user_id, clock_id, kind, title, body, link, urgency, created_at, read_at, \
        record_type, record_id from notification where user_id = $1 \
        order by case when read_at is null then 0 else 1 end, urgency desc, created_at desc, id desc limit $2";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(user).bind(limit).fetch_all(e).await)?)
}

/// Marks read.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn mark_read<'a>(ex: impl Into<Exec<'a>>, user: i64, id: Option<i64>, now: Millis) -> Result<u64> {
    const ONE: &str = "update notification set read_at = $3 where user_id = $1 and id = $2 and read_at is null";
    const ALL: &str = "update notification set read_at = $2 where user_id = $1 and read_at is null";
    Ok(match id {
        Some(id) => run!(ex.into(), |e| sqlx::query(ONE)
            .bind(user)
            .bind(id)
            .bind(now)
            .execute(e)
            .await
            .map(|r| r.rows_affected()))?,
        None => run!(ex.into(), |e| sqlx::query(ALL).bind(user).bind(now).execute(e).await.map(|r| r.rows_affected()))?,
    })
}

/// The webhook of an org, if one is set and enabled.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn webhook<'a>(ex: impl Into<Exec<'a>>, org: i64) -> Result<Option<String>> {
    const SQL: &str = "select url from org_webhook where org_id = $1 and enabled";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL).bind(org).fetch_optional(e).await)?)
}

/// Sets webhook.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn set_webhook<'a>(ex: impl Into<Exec<'a>>, org: i64, url: Option<&str>, now: Millis) -> Result<()> {
    match url {
        Some(u) => {
            const SQL: &str = "insert into org_webhook (org_id, url, enabled, updated_at) values ($1, $2, TRUE, $3) \
                on conflict (org_id) do update set url = excluded.url, enabled = TRUE, updated_at = excluded.updated_at";
            run!(ex.into(), |e| sqlx::query(SQL).bind(org).bind(u).bind(now).execute(e).await.map(|_| ()))?;
        }
        None => {
            run!(ex.into(), |e| sqlx::query("delete from org_webhook where org_id = $1")
                .bind(org)
                .execute(e)
                .await
                .map(|_| ()))?;
        }
    }
    Ok(())
}

/// Clocks with id greater than `after`, in id order, at most `limit` (for `ledger verify`).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn clocks_after(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<ClockRow>> {
    Ok(run!(tx, |e| {
        let mut qb = QueryBuilder::new(format!("select {COLS} from deadline_clock c where c.id > "));
        qb.push_bind(after).push(" order by c.id limit ").push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}
