//! The SQL form of the data-scope policy.
//!
//! The domain's `Principal::filter(permission)` yields a `ScopeFilter` (or `None` when the
//! permission is not held); this module renders it as a predicate on a record table's org
//! column and owner column. Every list, search, export and report query goes through
//! [`push_scope`], so a record outside the caller's scope never leaves the database.

use fazhi_domain::access::ScopeFilter;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// The columns of a record table that the policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct ScopeCols {
    /// Column holding the owning org node id.
    pub org: &'static str,
    /// Column holding the owning user id (creator/assignee); `None` when the table has no
    /// owner, in which case a 本人 scope matches nothing.
    pub owner: Option<&'static str>,
}

/// Appends `( predicate )` for `filter` to `qb`. `None` (permission not held) matches
/// nothing: deny by default.
pub fn push_scope<DB>(qb: &mut QueryBuilder<DB>, filter: Option<&ScopeFilter>, cols: ScopeCols)
where
    DB: Database,
    <DB as Database>::Arguments: Default,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    match filter {
        None => {
            qb.push("(1 = 0)");
        }
        Some(ScopeFilter::All) => {
            qb.push("(1 = 1)");
        }
        Some(ScopeFilter::Subtree(path)) => {
            // Range on the materialised path instead of LIKE: index-friendly on both
            // engines (the PostgreSQL column uses the C collation).
            let (lo, hi) = path.subtree_range();
            qb.push(format_args!("({} IN (select id from org_node where path >= ", cols.org));
            qb.push_bind(lo);
            qb.push(" and path < ");
            qb.push_bind(hi);
            qb.push("))");
        }
        Some(ScopeFilter::Org(id)) => {
            qb.push(format_args!("({} = ", cols.org));
            qb.push_bind(id.0);
            qb.push(")");
        }
        Some(ScopeFilter::Owner(user)) => match cols.owner {
            Some(col) => {
                qb.push(format_args!("({col} = "));
                qb.push_bind(user.0);
                qb.push(")");
            }
            None => {
                qb.push("(1 = 0)");
            }
        },
    }
}
