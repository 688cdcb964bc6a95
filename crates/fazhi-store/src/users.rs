//! Users and their role assignments.

use fazhi_domain::access::ScopeFilter;
use fazhi_domain::clock::Millis;
use fazhi_domain::org::OrgPath;
use fazhi_domain::user::NewUser;
use fazhi_domain::{OrgId, RoleId, UserId};
use sqlx::{FromRow, QueryBuilder};

use crate::Result;
use crate::db::Exec;
use crate::scope::{ScopeCols, push_scope};

/// A stored user joined with their org node.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// `person` (logs in with a password) or `integration` (acts only through API tokens).
    pub kind: String,
}

impl UserRow {
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }

    /// Whether this is an integration account (no password login; API tokens only).
    pub fn is_integration(&self) -> bool {
        self.kind == KIND_INTEGRATION
    }

    pub fn path(&self) -> OrgPath {
        OrgPath::parse(&self.org_path).unwrap_or_else(|| OrgPath::root(OrgId(self.org_id)))
    }
}

const USER_SELECT: &str = "select u.id, u.username, u.display_name, u.mobile, u.org_id, o.name as org_name, \
    o.path as org_path, u.password_hash, u.must_change_password, u.disabled, u.created_at, u.updated_at, u.kind \
    from app_user u join org_node o on o.id = u.org_id";

/// The `kind` of an integration account.
pub const KIND_INTEGRATION: &str = "integration";

const INSERT_USER: &str = "insert into app_user (username, display_name, mobile, org_id, password_hash, \
    must_change_password, disabled, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, FALSE, $7, $7) returning id";

/// Inserts a user; a taken username is `StoreError::Duplicate`.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn insert_user(
    tx: &mut crate::Tx,
    u: &NewUser,
    password_hash: &str,
    must_change: bool,
    now: Millis,
) -> Result<UserId> {
    let id: i64 = run!(tx, |e| sqlx::query_scalar(INSERT_USER)
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.mobile)
        .bind(u.org_id.0)
        .bind(password_hash)
        .bind(must_change)
        .bind(now)
        .fetch_one(e)
        .await)?;
    Ok(UserId(id))
}

/// Makes a just-created account an integration account (the kind never changes after).
///
/// # Errors
/// [`crate::StoreError`] when the database fails.
pub async fn set_integration(tx: &mut crate::Tx, id: UserId) -> Result<()> {
    const SQL: &str = "update app_user set kind = 'integration' where id = $1";
    run!(tx, |e| sqlx::query(SQL).bind(id.0).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Reads user.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_user<'a>(ex: impl Into<Exec<'a>>, id: UserId) -> Result<Option<UserRow>> {
    const SQL: &str = "select u.id, u.username, u.display_name, u.mobile, u.org_id, o.name as org_name, \
        o.path as org_path, u.password_hash, u.must_change_password, u.disabled, u.created_at, u.updated_at, u.kind \
        from app_user u join org_node o on o.id = u.org_id where u.id = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(id.0).fetch_optional(e).await)?)
}

/// Reads by username.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn get_by_username<'a>(ex: impl Into<Exec<'a>>, username: &str) -> Result<Option<UserRow>> {
    const SQL: &str = "select u.id, u.username, u.display_name, u.mobile, u.org_id, o.name as org_name, \
        o.path as org_path, u.password_hash, u.must_change_password, u.disabled, u.created_at, u.updated_at, u.kind \
        from app_user u join org_node o on o.id = u.org_id where u.username = $1";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(username).fetch_optional(e).await)?)
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Matches username or display name (substring).
    pub text: Option<String>,
    /// Only users on this node.
    pub org_id: Option<OrgId>,
    pub limit: i64,
    pub offset: i64,
}

/// Users within `filter` (the caller's USER_READ scope). A user record is owned by the
/// user themself, so 本人 shows one's own account.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn list_users<'a>(
    ex: impl Into<Exec<'a>>,
    filter: Option<&ScopeFilter>,
    q: &UserQuery,
) -> Result<Vec<UserRow>> {
    let cols = ScopeCols { org: "u.org_id", owner: Some("u.id") };
    Ok(run!(ex.into(), |e| {
        let mut qb = QueryBuilder::new(format!("{USER_SELECT} where "));
        push_scope(&mut qb, filter, cols);
        if let Some(t) = &q.text {
            let pat = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            qb.push(" and (u.username like ");
            qb.push_bind(pat.clone());
            qb.push(" escape '\\' or u.display_name like ");
            qb.push_bind(pat);
            qb.push(" escape '\\')");
        }
        if let Some(o) = q.org_id {
            qb.push(" and u.org_id = ");
            qb.push_bind(o.0);
        }
        qb.push(" order by o.path, u.username limit ");
        qb.push_bind(q.limit.clamp(1, 1000));
        qb.push(" offset ");
        qb.push_bind(q.offset.max(0));
        qb.build_query_as().fetch_all(e).await
    })?)
}

const SET_PASSWORD: &str =
    "update app_user set password_hash = $2, must_change_password = $3, updated_at = $4 where id = $1";

/// Sets password.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn set_password(tx: &mut crate::Tx, id: UserId, hash: &str, must_change: bool, now: Millis) -> Result<()> {
    run!(tx, |e| sqlx::query(SET_PASSWORD)
        .bind(id.0)
        .bind(hash)
        .bind(must_change)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Sets disabled.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn set_disabled(tx: &mut crate::Tx, id: UserId, disabled: bool, now: Millis) -> Result<()> {
    const SQL: &str = "update app_user set disabled = $2, updated_at = $3 where id = $1";
    run!(tx, |e| sqlx::query(SQL).bind(id.0).bind(disabled).bind(now).execute(e).await.map(|_| ()))?;
    Ok(())
}

/// Updates profile.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn update_profile(tx: &mut crate::Tx, id: UserId, u: &NewUser, now: Millis) -> Result<()> {
    const SQL: &str = "update app_user set display_name = $2, mobile = $3, org_id = $4, updated_at = $5 where id = $1";
    run!(tx, |e| sqlx::query(SQL)
        .bind(id.0)
        .bind(&u.display_name)
        .bind(&u.mobile)
        .bind(u.org_id.0)
        .bind(now)
        .execute(e)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Replaces the user's roles.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn set_roles(tx: &mut crate::Tx, id: UserId, roles: &[RoleId]) -> Result<()> {
    run!(&mut *tx, |e| sqlx::query("delete from user_role where user_id = $1")
        .bind(id.0)
        .execute(e)
        .await
        .map(|_| ()))?;
    for r in roles {
        run!(&mut *tx, |e| sqlx::query("insert into user_role (user_id, role_id) values ($1, $2)")
            .bind(id.0)
            .bind(r.0)
            .execute(e)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Role ids of.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn role_ids_of<'a>(ex: impl Into<Exec<'a>>, id: UserId) -> Result<Vec<RoleId>> {
    const SQL: &str = "select role_id from user_role where user_id = $1 order by role_id";
    let ids: Vec<i64> = run!(ex.into(), |e| sqlx::query_scalar(SQL).bind(id.0).fetch_all(e).await)?;
    Ok(ids.into_iter().map(RoleId).collect())
}

/// Counts users.
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn count_users<'a>(ex: impl Into<Exec<'a>>) -> Result<i64> {
    Ok(run!(ex.into(), |e| sqlx::query_scalar("select count(*) from app_user").fetch_one(e).await)?)
}

/// Enabled users on a node within the path range `[lo, hi)` who hold `permission` through
/// one of their roles, as (id, display name), in tree then username order. One query (a
/// page listing a street's leaders must not resolve every account's roles one by one).
///
/// # Errors
/// [`crate::StoreError`] when the database fails (a unique violation is `StoreError::Duplicate`).
pub async fn holders_of<'a>(
    ex: impl Into<Exec<'a>>,
    lo: &str,
    hi: &str,
    permission: &str,
) -> Result<Vec<(i64, String)>> {
    const SQL: &str = "select u.id, u.display_name from app_user u join org_node o on o.id = u.org_id \
        where o.path >= $1 and o.path < $2 and not u.disabled and exists (select 1 from user_role ur \
        join role_permission rp on rp.role_id = ur.role_id where ur.user_id = u.id and rp.permission = $3) \
        order by o.path, u.username";
    Ok(run!(ex.into(), |e| sqlx::query_as(SQL).bind(lo).bind(hi).bind(permission).fetch_all(e).await)?)
}
