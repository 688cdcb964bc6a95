//! People's mediation rows: committees, mediators, cases and their sessions.

use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use sqlx::{FromRow, QueryBuilder};

use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};
use crate::{Result, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct CommitteeRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct MediatorRow {
    pub id: i64,
    pub committee_id: i64,
    pub name: String,
    pub phone: String,
    pub user_id: Option<i64>,
    pub active: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub org_id: i64,
    pub committee_id: i64,
    pub mediator_id: Option<i64>,
    pub petition_id: Option<i64>,
    pub case_no: String,
    pub dispute_type: String,
    pub parties_json: String,
    pub summary: String,
    #[sqlx(try_from = "String")]
    pub state: fazhi_domain::mediation::MediationState,
    pub received_on: String,
    pub consent_on: Option<String>,
    pub decline_reason: String,
    pub agreement_form: String,
    pub agreement_facts: String,
    pub agreement_terms: String,
    pub agreement_manner: String,
    pub perform_by: Option<String>,
    pub agreed_on: Option<String>,
    pub routes_told: String,
    pub ended_on: Option<String>,
    pub performance_checked_on: Option<String>,
    pub performance_note: String,
    pub confirmation_applied_on: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const CASE_COLS: &str = "id, org_id, committee_id, mediator_id, petition_id, case_no, dispute_type, parties_json, \
    summary, state, received_on, consent_on, decline_reason, agreement_form, agreement_facts, agreement_terms, \
    agreement_manner, perform_by, agreed_on, routes_told, ended_on, performance_checked_on, performance_note, \
    confirmation_applied_on, created_by, created_at, updated_at";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub case_id: i64,
    pub held_on: String,
    pub place: String,
    pub mediator_id: Option<i64>,
    pub record: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// The holders of a case (see [`crate::record::MEDIATION`]).
pub const SCOPE: ScopeCols = crate::record::MEDIATION.holders[0];

/// Inserts committee.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_committee(tx: &mut Tx, org_id: i64, name: &str, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into mediation_committee (org_id, name, created_at) values ($1, $2, $3) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL).bind(org_id).bind(name).bind(now).fetch_one(e).await)?)
}

/// Lists the committees.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn committees<'a>(ex: impl Into<Exec<'a>>, filter: Option<&ScopeFilter>) -> Result<Vec<CommitteeRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new("select id, org_id, name, created_at from mediation_committee where ");
        push_scope(&mut qb, filter, ScopeCols { org: "org_id", owner: None });
        qb.push(" order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Reads the committee.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn committee<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<CommitteeRow>> {
    const SQL: &str = "select id, org_id, name, created_at from mediation_committee where id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id).fetch_optional(e).await)?)
}

/// Inserts mediator.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_mediator(
    tx: &mut Tx,
    committee_id: i64,
    name: &str,
    phone: &str,
    user_id: Option<i64>,
    now: Millis,
) -> Result<i64> {
    const SQL: &str = "insert into mediator (committee_id, name, phone, user_id, created_at) values ($1, $2, $3, $4, \
        $5) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(committee_id)
        .bind(name)
        .bind(phone)
        .bind(user_id)
        .bind(now)
        .fetch_one(e)
        .await)?)
}

/// Lists the mediators.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn mediators<'a>(ex: impl Into<Exec<'a>>, committee_ids: &[i64]) -> Result<Vec<MediatorRow>> {
    if committee_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(
            "select id, committee_id, name, phone, user_id, active, created_at from mediator where committee_id in (",
        );
        let mut sep = qb.separated(", ");
        for id in committee_ids {
            sep.push_bind(*id);
        }
        qb.push(") order by id");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// A new case.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub org_id: i64,
    pub committee_id: i64,
    pub mediator_id: Option<i64>,
    pub petition_id: Option<i64>,
    pub case_no: &'a str,
    pub dispute_type: &'a str,
    pub parties_json: &'a str,
    pub summary: &'a str,
    pub received_on: &'a str,
    pub created_by: Option<i64>,
}

/// Inserts case.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_case(tx: &mut Tx, c: &NewCase<'_>, now: Millis) -> Result<i64> {
    const SQL: &str = "insert into mediation_case (org_id, committee_id, mediator_id, petition_id, case_no, \
        dispute_type, parties_json, summary, state, received_on, created_by, created_at, updated_at) values ($1, $2, \
        $3, $4, $5, $6, $7, $8, 'registered', $9, $10, $11, $11) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(c.org_id)
        .bind(c.committee_id)
        .bind(c.mediator_id)
        .bind(c.petition_id)
        .bind(c.case_no)
        .bind(c.dispute_type)
        .bind(c.parties_json)
        .bind(c.summary)
        .bind(c.received_on)
        .bind(c.created_by)
        .bind(now)
        .fetch_one(e)
        .await)?)
}

/// Cases registered at `org_id` this year, to number the next one.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn count_cases_since<'a>(ex: impl Into<Exec<'a>>, prefix: &str) -> Result<i64> {
    const SQL: &str = "select count(*) from mediation_case where case_no like $1";
    Ok(run!(ex.into(), |e| sqlx::query_scalar(SQL).bind(format!("{prefix}%")).fetch_one(e).await)?)
}

/// A case read in the caller's transaction and locked until it ends (`for update` on
/// PostgreSQL; SQLite's one writer already serialises write transactions).
///
/// # Errors
/// Database errors.
pub async fn get_case_for_update(tx: &mut Tx, id: i64) -> Result<Option<CaseRow>> {
    let lock = match tx.engine() {
        crate::Engine::Postgres => " for update",
        crate::Engine::Sqlite => "",
    };
    let sql = format!("select {CASE_COLS} from mediation_case where id = $1{lock}");
    Ok(run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(e).await)?)
}

/// Cases with id above `after`, in id order, at most `limit` (for `ledger verify`).
///
/// # Errors
/// Database errors.
pub async fn cases_after<'a>(ex: impl Into<Exec<'a>>, after: i64, limit: i64) -> Result<Vec<CaseRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {CASE_COLS} from mediation_case where id > "));
        qb.push_bind(after);
        qb.push(" order by id limit ");
        qb.push_bind(limit);
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Reads case.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_case<'a>(ex: impl Into<Exec<'a>>, id: i64) -> Result<Option<CaseRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {CASE_COLS} from mediation_case where id = "));
        qb.push_bind(id);
        qb.build_query_as().fetch_optional(e).await
    })?)
}

/// Filters of the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub state: Option<String>,
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    pub ids: Option<Vec<i64>>,
    pub petition_id: Option<i64>,
    pub limit: i64,
}

/// Lists the cases.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn cases<'a>(ex: impl Into<Exec<'a>>, filter: Option<&ScopeFilter>, q: &CaseQuery) -> Result<Vec<CaseRow>> {
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {CASE_COLS} from mediation_case where "));
        push_scope(&mut qb, filter, SCOPE);
        if let Some(s) = &q.state {
            qb.push(" and state = ");
            qb.push_bind(s.clone());
        }
        if let Some(d) = &q.received_from {
            qb.push(" and received_on >= ");
            qb.push_bind(d.clone());
        }
        if let Some(d) = &q.received_to {
            qb.push(" and received_on <= ");
            qb.push_bind(d.clone());
        }
        if let Some(p) = q.petition_id {
            qb.push(" and petition_id = ");
            qb.push_bind(p);
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
        qb.push(" order by id desc limit ");
        qb.push_bind(if q.limit <= 0 { 200 } else { q.limit.min(5000) });
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Stores every mutable field of a case.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn save_case(tx: &mut Tx, c: &CaseRow, now: Millis) -> Result<()> {
    const SQL: &str = "update mediation_case set state = $2, consent_on = $3, decline_reason = $4, agreement_form = \
        $5, agreement_facts = $6, agreement_terms = $7, agreement_manner = $8, perform_by = $9, agreed_on = $10, \
        routes_told = $11, ended_on = $12, performance_checked_on = $13, performance_note = $14, \
        confirmation_applied_on = $15, mediator_id = $16, updated_at = $17 where id = $1";
    run!(tx, |e| sqlx::query(SQL)
        .bind(c.id)
        .bind(c.state.code())
        .bind(&c.consent_on)
        .bind(&c.decline_reason)
        .bind(&c.agreement_form)
        .bind(&c.agreement_facts)
        .bind(&c.agreement_terms)
        .bind(&c.agreement_manner)
        .bind(&c.perform_by)
        .bind(&c.agreed_on)
        .bind(&c.routes_told)
        .bind(&c.ended_on)
        .bind(&c.performance_checked_on)
        .bind(&c.performance_note)
        .bind(&c.confirmation_applied_on)
        .bind(c.mediator_id)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Adds session.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn add_session(tx: &mut Tx, s: &SessionRow) -> Result<i64> {
    const SQL: &str = "insert into mediation_session (case_id, held_on, place, mediator_id, record, created_by, \
        created_at) values ($1, $2, $3, $4, $5, $6, $7) returning id";
    Ok(run!(tx, |e| sqlx::query_scalar(SQL)
        .bind(s.case_id)
        .bind(&s.held_on)
        .bind(&s.place)
        .bind(s.mediator_id)
        .bind(&s.record)
        .bind(s.created_by)
        .bind(s.created_at)
        .fetch_one(e)
        .await)?)
}

/// Lists the sessions.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn sessions<'a>(ex: impl Into<Exec<'a>>, case_id: i64) -> Result<Vec<SessionRow>> {
    const SQL: &str = "select id, case_id, held_on, place, mediator_id, record, created_by, created_at from \
        mediation_session where case_id = $1 order by held_on, id";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(case_id).fetch_all(e).await)?)
}
