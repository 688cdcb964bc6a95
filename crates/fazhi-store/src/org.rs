//! Org tree persistence: kinds and nodes.

use fazhi_domain::OrgId;
use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use fazhi_domain::org::{OrgInput, OrgKind, OrgNode, OrgPath};
use sqlx::{FromRow, QueryBuilder};

use crate::Result;
use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};

#[derive(Debug, Clone, FromRow)]
struct KindRow {
    code: String,
    label: String,
    parent_kinds: String,
    keeps_log: bool,
    sort_order: i64,
}

impl From<KindRow> for OrgKind {
    fn from(r: KindRow) -> Self {
        OrgKind {
            code: r.code,
            label: r.label,
            parent_kinds: r.parent_kinds.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            keeps_log: r.keeps_log,
            sort_order: r.sort_order,
        }
    }
}

const UPSERT_KIND: &str = "insert into org_kind (code, label, parent_kinds, keeps_log, sort_order) \
    values ($1, $2, $3, $4, $5) on conflict (code) do nothing";

/// Inserts a kind unless one with its code exists (an admin's edits are kept).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn ensure_kind<'a>(ex: impl Into<Exec<'a>>, k: &OrgKind) -> Result<()> {
    let parents = k.parent_kinds.join(",");
    run!(ex.into(), |e| sqlx::query(UPSERT_KIND)
        .bind(&k.code)
        .bind(&k.label)
        .bind(&parents)
        .bind(k.keeps_log)
        .bind(k.sort_order)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

const LIST_KINDS: &str =
    "select code, label, parent_kinds, keeps_log, sort_order from org_kind order by sort_order, code";

/// Lists kinds.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_kinds<'a>(ex: impl Into<Exec<'a>>) -> Result<Vec<OrgKind>> {
    let rows: Vec<KindRow> = run!(ex.into(), |e| sqlx::query_as(LIST_KINDS).fetch_all(e).await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A stored node with its bookkeeping.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct OrgRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub path: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// 发文机关署名 when set (see [`OrgRow::official_name`]).
    pub official_name: Option<String>,
}

impl OrgRow {
    /// The name the node signs documents with: its full official name, or its name.
    pub fn official_name(&self) -> &str {
        self.official_name.as_deref().filter(|o| !o.trim().is_empty()).unwrap_or(&self.name)
    }

    pub fn node(&self) -> OrgNode {
        OrgNode {
            id: OrgId(self.id),
            parent_id: self.parent_id.map(OrgId),
            kind: self.kind.clone(),
            name: self.name.clone(),
            path: self.org_path(),
        }
    }

    pub fn org_path(&self) -> OrgPath {
        // Paths are written only by this module; an unparsable one is a corrupted row.
        OrgPath::parse(&self.path).unwrap_or_else(|| OrgPath::root(OrgId(self.id)))
    }
}

const NODE_COLS: &str = "id, parent_id, kind, name, code, path, created_at, updated_at, official_name";

const INSERT_NODE: &str = "insert into org_node (parent_id, kind, name, code, path, created_at, updated_at, official_name) \
    values ($1, $2, $3, $4, '', $5, $5, $6) returning id";
const SET_PATH: &str = "update org_node set path = $2 where id = $1";

/// Inserts a node under `parent` (whose path is given) and sets its materialised path.
/// Call inside a transaction: the row exists with an empty path between the two statements.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_node(tx: &mut crate::Tx, input: &OrgInput, parent: Option<&OrgPath>, now: Millis) -> Result<OrgId> {
    let id: i64 = run!(&mut *tx, |e| sqlx::query_scalar(INSERT_NODE)
        .bind(input.parent_id.map(|p| p.0))
        .bind(&input.kind)
        .bind(&input.name)
        .bind(&input.code)
        .bind(now)
        .bind(input.official_name.as_deref())
        .fetch_one(e)
        .await)?;
    let path = match parent {
        Some(p) => p.child(OrgId(id)),
        None => OrgPath::root(OrgId(id)),
    };
    run!(&mut *tx, |e| sqlx::query(SET_PATH).bind(id).bind(path.as_str()).execute(e).await.map(|_| ()))?;
    Ok(OrgId(id))
}

/// Reads node.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_node<'a>(ex: impl Into<Exec<'a>>, id: OrgId) -> Result<Option<OrgRow>> {
    const SQL: &str = "select id, parent_id, kind, name, code, path, created_at, updated_at, official_name \
        from org_node where id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id.0).fetch_optional(e).await)?)
}

/// Nodes within `filter` (the caller's ORG_READ scope), in path order.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_nodes<'a>(ex: impl Into<Exec<'a>>, filter: Option<&ScopeFilter>) -> Result<Vec<OrgRow>> {
    let cols = ScopeCols { org: "id", owner: None };
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("select {NODE_COLS} from org_node where "));
        push_scope(&mut qb, filter, cols);
        qb.push(" order by path");
        qb.build_query_as().fetch_all(e).await
    })?)
}

/// Number of direct children and of users on a node.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn occupancy<'a>(ex: impl Into<Exec<'a>>, id: OrgId) -> Result<(i64, i64)> {
    const SQL: &str = "select (select count(*) from org_node where parent_id = $1), \
        (select count(*) from app_user where org_id = $1)";
    Ok(run!(ex.into(), |e| sqlx::query_as::<_, (i64, i64)>(SQL).bind(id.0).fetch_one(e).await)?)
}

const UPDATE_NODE: &str = "update org_node set name = $2, code = $3, official_name = $4, updated_at = $5 where id = $1";

/// Renames node: its name, code and official name from `input` (kind and parent stay).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn rename_node(tx: &mut crate::Tx, id: OrgId, input: &OrgInput, now: Millis) -> Result<()> {
    run!(tx, |e| sqlx::query(UPDATE_NODE)
        .bind(id.0)
        .bind(&input.name)
        .bind(&input.code)
        .bind(input.official_name.as_deref())
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

const REBASE: &str = "update org_node set path = $1 || substr(path, CAST($2 AS INTEGER)), updated_at = $5 \
    where path >= $3 and path < $4";
const SET_PARENT: &str = "update org_node set parent_id = $2 where id = $1";

/// Moves `node` and its whole subtree under `new_parent`. The caller has checked for cycles.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn move_subtree(tx: &mut crate::Tx, node: &OrgNode, new_parent: &OrgNode, now: Millis) -> Result<()> {
    let new_path = new_parent.path.child(node.id);
    let (lo, hi) = node.path.subtree_range();
    let tail_from = i64::try_from(node.path.as_str().len()).unwrap_or(i64::MAX) + 1;
    run!(&mut *tx, |e| sqlx::query(REBASE)
        .bind(new_path.as_str())
        .bind(tail_from)
        .bind(&lo)
        .bind(&hi)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    run!(&mut *tx, |e| sqlx::query(SET_PARENT).bind(node.id.0).bind(new_parent.id.0).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Deletes node.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn delete_node(tx: &mut crate::Tx, id: OrgId) -> Result<()> {
    run!(tx, |e| sqlx::query("delete from org_node where id = $1").bind(id.0).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// How many nodes exist (to know whether an installation is initialised).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn count_nodes<'a>(ex: impl Into<Exec<'a>>) -> Result<i64> {
    Ok(run!(ex.into(), |e| sqlx::query_scalar("select count(*) from org_node").fetch_one(e).await)?)
}
