//! Roles: permissions plus a data scope.

use std::collections::{BTreeMap, BTreeSet};

use fazhi_domain::access::{DataScope, Permission, RoleGrant};
use fazhi_domain::clock::Millis;
use fazhi_domain::org::OrgPath;
use fazhi_domain::{OrgId, RoleId, UserId};
use sqlx::FromRow;

use crate::Result;
use crate::db::Exec;

#[derive(Debug, Clone, FromRow)]
struct RoleRowRaw {
    id: i64,
    code: String,
    name: String,
    description: String,
    scope: String,
    builtin: bool,
    org_id: Option<i64>,
    org_name: Option<String>,
    org_path: Option<String>,
}

/// A stored role with its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub id: RoleId,
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: DataScope,
    pub builtin: bool,
    pub permissions: BTreeSet<Permission>,
    /// The org node a custom role belongs to (`None`: built-in, or installation-wide).
    pub org_id: Option<OrgId>,
    pub org_name: Option<String>,
    pub org_path: Option<OrgPath>,
}

impl RoleRow {
    pub fn grant(&self) -> RoleGrant {
        RoleGrant { permissions: self.permissions.clone(), scope: self.scope }
    }
}

/// New or changed role fields.
#[derive(Debug, Clone)]
pub struct RoleFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub scope: DataScope,
    pub builtin: bool,
    /// The owning org node of a custom role; ignored by [`update_role`] (it never moves).
    pub org_id: Option<OrgId>,
}

async fn assemble<'a>(ex: impl Into<Exec<'a>>, rows: Vec<RoleRowRaw>) -> Result<Vec<RoleRow>> {
    const PERMS: &str = "select role_id, permission from role_permission";
    let perms: Vec<(i64, String)> = run!(ex.into(), |e| sqlx::query_as(PERMS).fetch_all(e).await)?;
    let mut by_role: BTreeMap<i64, BTreeSet<Permission>> = BTreeMap::new();
    for (rid, p) in perms {
        // A permission code no longer in the catalogue grants nothing.
        if let Some(p) = Permission::parse(&p) {
            by_role.entry(rid).or_default().insert(p);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| RoleRow {
            id: RoleId(r.id),
            permissions: by_role.remove(&r.id).unwrap_or_default(),
            code: r.code,
            name: r.name,
            description: r.description,
            // The CHECK constraint keeps the column within the four codes.
            scope: DataScope::parse(&r.scope).unwrap_or(DataScope::Own),
            builtin: r.builtin,
            org_id: r.org_id.map(OrgId),
            org_name: r.org_name,
            org_path: r.org_path.as_deref().and_then(OrgPath::parse),
        })
        .collect())
}

/// Lists roles.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_roles(db: &crate::Db) -> Result<Vec<RoleRow>> {
    const SQL: &str = "select r.id, r.code, r.name, r.description, r.scope, r.builtin, r.org_id, \
        o.name as org_name, o.path as org_path from role r left join org_node o on o.id = r.org_id \
        order by r.builtin desc, r.id";
    let rows: Vec<RoleRowRaw> = run!(db, |e| sqlx::query_as(SQL).fetch_all(e).await)?;
    assemble(db, rows).await
}

/// The roles of a user, with permissions; what the policy builds a `Principal` from.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn roles_of_user(db: &crate::Db, user: UserId) -> Result<Vec<RoleRow>> {
    const SQL: &str = "select r.id, r.code, r.name, r.description, r.scope, r.builtin, r.org_id, \
        o.name as org_name, o.path as org_path from role r left join org_node o on o.id = r.org_id \
        join user_role ur on ur.role_id = r.id where ur.user_id = $1 order by r.id";
    let rows: Vec<RoleRowRaw> = run!(db, |e| sqlx::query_as(SQL).bind(user.0).fetch_all(e).await)?;
    assemble(db, rows).await
}

/// Reads role.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_role(db: &crate::Db, id: RoleId) -> Result<Option<RoleRow>> {
    Ok(list_roles(db).await?.into_iter().find(|r| r.id == id))
}

const INSERT_ROLE: &str = "insert into role (code, name, description, scope, builtin, org_id, created_at, \
    updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) returning id";

/// Inserts role.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_role(
    tx: &mut crate::Tx,
    f: &RoleFields<'_>,
    perms: &BTreeSet<Permission>,
    now: Millis,
) -> Result<RoleId> {
    let id: i64 = run!(&mut *tx, |e| sqlx::query_scalar(INSERT_ROLE)
        .bind(f.code)
        .bind(f.name)
        .bind(f.description)
        .bind(f.scope.code())
        .bind(f.builtin)
        .bind(f.org_id.map(|o| o.0))
        .bind(now)
        .fetch_one(e)
        .await)?;
    set_permissions(tx, RoleId(id), perms).await?;
    Ok(RoleId(id))
}

const UPDATE_ROLE: &str = "update role set name = $2, description = $3, scope = $4, updated_at = $5 where id = $1";

/// Updates role.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn update_role(
    tx: &mut crate::Tx,
    id: RoleId,
    f: &RoleFields<'_>,
    perms: &BTreeSet<Permission>,
    now: Millis,
) -> Result<()> {
    run!(&mut *tx, |e| sqlx::query(UPDATE_ROLE)
        .bind(id.0)
        .bind(f.name)
        .bind(f.description)
        .bind(f.scope.code())
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    set_permissions(tx, id, perms).await
}

async fn set_permissions(tx: &mut crate::Tx, id: RoleId, perms: &BTreeSet<Permission>) -> Result<()> {
    run!(&mut *tx, |e| sqlx::query("delete from role_permission where role_id = $1")
        .bind(id.0)
        .execute(e)
        .await
        .map(|_| ()))?;
    for p in perms {
        run!(&mut *tx, |e| sqlx::query("insert into role_permission (role_id, permission) values ($1, $2)")
            .bind(id.0)
            .bind(p.code())
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Role id by code.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn role_id_by_code<'a>(ex: impl Into<Exec<'a>>, code: &str) -> Result<Option<RoleId>> {
    let id: Option<i64> = run!(ex.into(), |e| sqlx::query_scalar("select id from role where code = $1")
        .bind(code)
        .fetch_optional(e)
        .await)?;
    Ok(id.map(RoleId))
}

/// The org nodes of the current holders of a role, as (node id, node path), each once.
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn holder_orgs<'a>(ex: impl Into<Exec<'a>>, id: RoleId) -> Result<Vec<(OrgId, OrgPath)>> {
    const SQL: &str = "select distinct o.id, o.path from user_role ur join app_user u on u.id = ur.user_id \
        join org_node o on o.id = u.org_id where ur.role_id = $1 order by o.id";
    let rows: Vec<(i64, String)> = run!(ex.into(), |e| sqlx::query_as(SQL).bind(id.0).fetch_all(e).await)?;
    Ok(rows
        .into_iter()
        .map(|(o, p)| (OrgId(o), OrgPath::parse(&p).unwrap_or_else(|| OrgPath::root(OrgId(o)))))
        .collect())
}
