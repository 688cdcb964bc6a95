//! Full-text search (全文检索) across modules, within the caller's data scope.
//!
//! Each searchable record kind (`Kind::searchable` in the registry) is guarded by its read
//! permission. A search builds one scope filter per kind from the principal
//! (`Principal::filter_for(kind, permission)`), and the store applies them all in SQL over
//! every holder of each document, so a record outside the caller's scope never leaves the
//! database. Kinds the caller holds no permission for are simply not searched: anyone logged
//! in may search.
//!
//! Records are (re)indexed by the use cases that change them, in the same transaction: org
//! nodes and users here (`index_org`, `index_user`, `unindex`), module records by the save
//! path (`Ctx::save`), which writes every holder:
//!
//! | kind | permission | title | body | holders |
//! |---|---|---|---|---|
//! | `org_node` | `org.read` | name | kind label, code | the node |
//! | `user` | `user.read` | display name | username, org node name | node, the user |
//! | `petition` | `petitions.read` | title | request, petitioners' names | desk + creator; assignee + 包案 leader |
//!
//! Petitions are also found exactly by tracking code, 身份证号 or phone (never indexed as
//! text), and each petition hit carries its facts (`petitions::search`).

use fazhi_domain::access::{Holder, Principal, ScopeFilter};
use fazhi_domain::record::{KINDS, Kind, ORG_NODE, USER};
use fazhi_domain::{OrgId, UserId};
use fazhi_store::Tx;
use fazhi_store::org as org_store;
use fazhi_store::search::{self as store, SearchDoc};
pub use fazhi_store::search::{marked_parts, strip_marks};
use fazhi_store::users::{self as user_store, UserQuery};

pub use fazhi_store::search::{MAX_LIMIT, MAX_QUERY_CHARS, SearchHit};

use crate::{App, AppError, AppResult};

/// Per-kind scope filters of a principal, as the store takes them: every searchable kind
/// with the principal's scope for its read permission.
pub fn module_filters(who: &Principal) -> Vec<(&'static Kind, Option<ScopeFilter>)> {
    KINDS.iter().filter(|k| k.searchable).map(|k| (*k, who.filter_for(k, k.read))).collect()
}

/// The Chinese name of a hit's kind (its `record_type`).
pub fn module_label(kind: &str) -> &'static str {
    fazhi_domain::record::kind(kind).map_or("其他", |k| k.label)
}

impl App {
    /// Searches every module the principal may read. The query is segmented like the
    /// indexed text; only its first [`MAX_QUERY_CHARS`] characters are used (callers tell
    /// the user when they cut it). At most `limit` results (1–[`MAX_LIMIT`]), best first.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn search(&self, who: &Principal, query: &str, limit: i64) -> AppResult<Vec<SearchHit>> {
        let filters = module_filters(who);
        // A tracking code, 身份证号 or phone names its items exactly: they come first.
        let mut hits = self.petition_exact_hits(who, query).await?;
        for h in store::search(&self.store.read, &self.search, query, &filters, limit).await? {
            if !hits.iter().any(|e| e.record_type == h.record_type && e.record_id == h.record_id) {
                hits.push(h);
            }
        }
        hits.truncate(usize::try_from(limit.clamp(1, MAX_LIMIT)).unwrap_or(1));
        self.petition_hit_facts(&mut hits).await?;
        Ok(hits)
    }

    /// (Re)indexes an org node from its stored row, inside `tx`.
    pub(crate) async fn index_org(&self, tx: &mut Tx, id: OrgId) -> AppResult<()> {
        let row = org_store::get_node(&mut *tx, id).await?.ok_or(AppError::NotFound("机构"))?;
        let kinds = org_store::list_kinds(&mut *tx).await?;
        let kind = kinds.iter().find(|k| k.code == row.kind).map_or(row.kind.as_str(), |k| k.label.as_str());
        let body = [kind, row.code.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
        let holder = Holder { org_id: id, org_path: row.org_path(), owner: None };
        let doc = SearchDoc {
            kind: &ORG_NODE,
            record_id: id.to_string(),
            holders: std::slice::from_ref(&holder),
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
        let holder = Holder { org_id: OrgId(u.org_id), org_path: u.path(), owner: Some(id) };
        let doc = SearchDoc {
            kind: &USER,
            record_id: id.to_string(),
            holders: std::slice::from_ref(&holder),
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
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
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
