//! The record tables of every kind, as the generic store helpers need them: where a kind's
//! rows live and which columns hold them for the data-scope policy. One [`Table`] per kind
//! in [`TABLES`]; lists, counts, search, attachments, timelines and proofs read holders
//! through it, so the SQL filter and the in-memory policy look at the same columns.

use fazhi_domain::access::{Holder, ScopeFilter};
use fazhi_domain::org::OrgPath;
use fazhi_domain::record::{self, Kind};
use fazhi_domain::{OrgId, UserId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use crate::Result;
use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};

/// A kind's table: its name and the columns of each holder.
#[derive(Debug)]
pub struct Table {
    pub kind: &'static Kind,
    /// The table name (a trusted constant).
    pub name: &'static str,
    /// One entry per holder: the org column and the owner column (`NULL` = no holder; a
    /// holder whose org column is `NULL` is absent).
    pub holders: &'static [ScopeCols],
}

/// 组织机构: a node holds itself.
pub const ORG_NODE: Table =
    Table { kind: &record::ORG_NODE, name: "org_node", holders: &[ScopeCols { org: "id", owner: None }] };
/// 用户: held by their node, owned by themselves.
pub const USER: Table =
    Table { kind: &record::USER, name: "app_user", holders: &[ScopeCols { org: "org_id", owner: Some("id") }] };
/// 信访件: the desk (and creator) and, while assigned, the assignee (and 包案 leader).
pub const PETITION: Table = Table {
    kind: &record::PETITION,
    name: "petition",
    holders: &[
        ScopeCols { org: "org_id", owner: Some("created_by") },
        ScopeCols { org: "handler_org_id", owner: Some("lead_user_id") },
    ],
};
/// 人民调解案件: the committee's government body and the registering user.
pub const MEDIATION: Table = Table {
    kind: &record::MEDIATION,
    name: "mediation_case",
    holders: &[ScopeCols { org: "org_id", owner: Some("created_by") }],
};
/// 人民调解委员会.
pub const MEDIATION_COMMITTEE: Table = Table {
    kind: &record::MEDIATION_COMMITTEE,
    name: "mediation_committee",
    holders: &[ScopeCols { org: "org_id", owner: None }],
};
/// 领导接访日.
pub const RECEPTION_DAY: Table = Table {
    kind: &record::RECEPTION_DAY,
    name: "reception_day",
    holders: &[ScopeCols { org: "org_id", owner: Some("created_by") }],
};
/// 领导接访记录.
pub const RECEPTION: Table = Table {
    kind: &record::RECEPTION,
    name: "reception",
    holders: &[ScopeCols { org: "org_id", owner: Some("created_by") }],
};

/// Every kind whose records live in a table with holders. A new module adds its tables.
pub static TABLES: &[&Table] =
    &[&ORG_NODE, &USER, &PETITION, &MEDIATION, &MEDIATION_COMMITTEE, &RECEPTION_DAY, &RECEPTION];

/// The table of a kind, when it has one.
pub fn table(kind: &Kind) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.kind == kind)
}

/// `( holder1 OR holder2 … )` for `filter`: a row is in scope when ANY holder is. `None`
/// (permission not held) matches nothing.
pub fn push_scope_any<DB>(qb: &mut QueryBuilder<DB>, filter: Option<&ScopeFilter>, holders: &[ScopeCols])
where
    DB: Database,
    <DB as Database>::Arguments: Default,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    qb.push("(");
    for (i, cols) in holders.iter().enumerate() {
        if i > 0 {
            qb.push(" or ");
        }
        push_scope(qb, filter, *cols);
    }
    if holders.is_empty() {
        qb.push("1 = 0");
    }
    qb.push(")");
}

#[derive(Debug, FromRow)]
struct HolderRow {
    org_id: i64,
    path: String,
    owner: Option<i64>,
}

/// The holders of record `id` of `table`, with their nodes' paths; empty when the record
/// does not exist. A holder whose org column is `NULL` but whose owner is set (a 包案 leader
/// of an unassigned item) is held at the first holder's node.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn holders<'a>(ex: impl Into<Exec<'a>>, table: &Table, id: i64) -> Result<Vec<Holder>> {
    let mut sql = String::new();
    let first = table.holders.first().map_or("id", |h| h.org);
    for (i, h) in table.holders.iter().enumerate() {
        if i > 0 {
            sql.push_str(" union all ");
        }
        let owner = h.owner.map_or_else(|| "cast(null as bigint)".to_owned(), |o| format!("t.{o}"));
        sql.push_str(&format!(
            "select o.id as org_id, o.path as path, {owner} as owner from {name} t \
             join org_node o on o.id = coalesce(t.{org}, case when {owner} is null then null else t.{first} end) \
             where t.id = $1",
            name = table.name,
            org = h.org,
        ));
    }
    let rows: Vec<HolderRow> =
        run!(ex.into(), |e| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_all(e).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Holder { org_id: OrgId(r.org_id), org_path: OrgPath::parse(&r.path)?, owner: r.owner.map(UserId) })
        })
        .collect())
}
