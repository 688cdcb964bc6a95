//! Full-text search (全文检索) across modules, within the caller's data scope.
//!
//! Each searchable record type belongs to a search module whose read permission guards it;
//! [`SEARCH_MODULES`] is that table. A search builds one scope filter per module from the
//! principal (`Principal::filter(permission)`), and the store applies them all in SQL, so a
//! record outside the caller's scope never leaves the database. Modules the caller holds no
//! permission for are simply not searched: anyone logged in may search.
//!
//! Records are (re)indexed by the use cases that change them, in the same transaction
//! (`index_org`, `index_user`, `unindex`). Module names and record types:
//!
//! | search module | permission | record type | title | body |
//! |---|---|---|---|---|
//! | `org` | `org.read` | `org_node` | name | kind label, code |
//! | `user` | `user.read` | `user` | display name | username, org node name |

use fazhi_domain::access::{ORG_READ, Permission, Principal, ScopeFilter, USER_READ};
use fazhi_domain::{OrgId, UserId};
use fazhi_store::Tx;
use fazhi_store::org as org_store;
use fazhi_store::search::{self as store, SearchDoc};
use fazhi_store::users::{self as user_store, UserQuery};

pub use fazhi_store::search::{MAX_LIMIT, MAX_QUERY_CHARS, SearchHit};

use crate::{App, AppError, AppResult};

/// Search module of org nodes.
pub const MODULE_ORG: &str = "org";
/// Search module of user accounts.
pub const MODULE_USER: &str = "user";

/// Every search module and the permission whose scope filters it.
pub const SEARCH_MODULES: &[(&str, Permission)] = &[
    (MODULE_ORG, ORG_READ),
    (MODULE_USER, USER_READ),
    (crate::petitions::MODULE, fazhi_domain::access::PETITION_READ),
];

/// The Chinese name of a search module, for result lists.
pub fn module_label(module: &str) -> &'static str {
    match module {
        MODULE_ORG => "组织机构",
        MODULE_USER => "用户",
        crate::petitions::MODULE => "信访件",
        _ => "其他",
    }
}

/// Per-module scope filters of a principal, as the store takes them.
pub fn module_filters(who: &Principal) -> Vec<(&'static str, Option<ScopeFilter>)> {
    SEARCH_MODULES.iter().map(|(m, p)| (*m, who.filter(*p))).collect()
}

impl App {
    /// Searches every module the principal may read. The query is segmented like the
    /// indexed text; only its first [`MAX_QUERY_CHARS`] characters are used (callers tell
    /// the user when they cut it). At most `limit` results (1–[`MAX_LIMIT`]), best first.
    pub async fn search(&self, who: &Principal, query: &str, limit: i64) -> AppResult<Vec<SearchHit>> {
        let filters = module_filters(who);
        Ok(store::search(&self.store.read, &self.search, query, &filters, limit).await?)
    }

    /// (Re)indexes an org node from its stored row, inside `tx`.
    pub(crate) async fn index_org(&self, tx: &mut Tx, id: OrgId) -> AppResult<()> {
        let row = org_store::get_node(&mut *tx, id).await?.ok_or(AppError::NotFound("机构"))?;
        let kinds = org_store::list_kinds(&mut *tx).await?;
        let kind = kinds.iter().find(|k| k.code == row.kind).map_or(row.kind.as_str(), |k| k.label.as_str());
        let body = [kind, row.code.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
        let doc = SearchDoc {
            module: MODULE_ORG,
            record_type: "org_node",
            record_id: id.to_string(),
            org_id: id,
            owner_id: None,
            title: row.name,
            body,
            updated_at: row.updated_at,
        };
        store::upsert_doc(tx, &self.search, &doc).await?;
        Ok(())
    }

    /// (Re)indexes a user account from its stored row, inside `tx`.
    pub(crate) async fn index_user(&self, tx: &mut Tx, id: UserId) -> AppResult<()> {
        let u = user_store::get_user(&mut *tx, id).await?.ok_or(AppError::NotFound("用户"))?;
        let doc = SearchDoc {
            module: MODULE_USER,
            record_type: "user",
            record_id: id.to_string(),
            org_id: OrgId(u.org_id),
            owner_id: Some(id),
            title: u.display_name,
            body: format!("{} · {}", u.username, u.org_name),
            updated_at: u.updated_at,
        };
        store::upsert_doc(tx, &self.search, &doc).await?;
        Ok(())
    }

    /// Reindexes the users on an org node (their documents carry the node's name).
    pub(crate) async fn index_users_on(&self, tx: &mut Tx, org: OrgId) -> AppResult<()> {
        const PAGE: i64 = 1000;
        let mut offset = 0;
        loop {
            let q = UserQuery { text: None, org_id: Some(org), limit: PAGE, offset };
            let rows = user_store::list_users(&mut *tx, Some(&ScopeFilter::Org(org)), &q).await?;
            for u in &rows {
                self.index_user(tx, u.user_id()).await?;
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
            offset += PAGE;
        }
    }

    /// Removes a record from the index, inside `tx`.
    pub(crate) async fn unindex(&self, tx: &mut Tx, record_type: &str, record_id: &str) -> AppResult<()> {
        store::delete_doc(tx, record_type, record_id).await?;
        Ok(())
    }

    /// Indexes every org node and user when the index is empty but the installation is not
    /// (an installation created before search existed). Runs at start; does nothing after.
    pub async fn backfill_search_index(&self) -> AppResult<()> {
        if store::count_docs(&self.store.read).await? > 0 || org_store::count_nodes(&self.store.read).await? == 0 {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let nodes = org_store::list_nodes(&mut tx, Some(&ScopeFilter::All)).await?;
        for n in &nodes {
            self.index_org(&mut tx, OrgId(n.id)).await?;
            self.index_users_on(&mut tx, OrgId(n.id)).await?;
        }
        tx.commit().await?;
        tracing::info!(nodes = nodes.len(), "search index built for existing records");
        Ok(())
    }
}
