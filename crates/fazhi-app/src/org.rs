//! Org tree use cases: view, create, rename, move, delete.

use fazhi_domain::access::{ORG_MANAGE, ORG_READ, Principal, RecordRef, ScopeFilter};
use fazhi_domain::org::{OrgDraft, OrgKind, OrgNode, check_delete, check_move, check_placement};
use fazhi_domain::{FieldErrors, OrgId};
use fazhi_store::StoreError;
pub use fazhi_store::org::OrgRow;
use fazhi_store::org::{self as store};

use crate::audit::Actor;
use crate::reconcile::views::{self, Saved};
use crate::{App, AppError, AppResult, check, require};
use fazhi_domain::record::ORG_NODE;

/// The record reference of an org node: a node is owned by itself.
pub fn node_ref(row: &OrgRow) -> RecordRef {
    RecordRef::single(OrgId(row.id), row.org_path(), None)
}

/// What a change to a node says about its author.
#[derive(Debug, Clone)]
pub struct By<'a> {
    pub who: &'a Principal,
    pub username: &'a str,
    pub source_addr: &'a str,
}

impl By<'_> {
    pub(crate) fn actor(&self) -> Actor<'_> {
        Actor {
            username: self.username,
            user_id: Some(self.who.user_id),
            org_id: Some(self.who.org_id),
            source_addr: self.source_addr,
        }
    }
}

impl App {
    /// Records a change of node `id` made in `tx` (its view read `before` it; `after` is read
    /// now, `None` once deleted): ONE entry in the log of the street (or district) it
    /// belongs to (see [`crate::reconcile::views`]).
    pub(crate) async fn save_node(
        &self,
        tx: &mut fazhi_store::Tx,
        actor: &Actor<'_>,
        id: OrgId,
        before: Option<&serde_json::Value>,
        action: &'static str,
        payload: serde_json::Value,
    ) -> AppResult<()> {
        let after = views::node(tx, id.0).await?;
        let s = Saved { kind: &ORG_NODE, id: id.0, org: id, action, before, after: after.as_ref(), payload };
        self.save_view(tx, actor, s).await?;
        Ok(())
    }
}

fn duplicate_name(e: StoreError) -> AppError {
    match e {
        StoreError::Duplicate(_) => AppError::Invalid(FieldErrors::single("name", "同一上级机构下已有同名机构")),
        other => other.into(),
    }
}

/// Depth-first order, siblings by kind (科室 before 社区 ...) then by creation. A node whose
/// parent is not in `rows` (outside the caller's scope) is shown as a root.
pub fn display_order(rows: Vec<OrgRow>, kinds: &[OrgKind]) -> Vec<OrgRow> {
    let rank = |k: &str| kinds.iter().find(|x| x.code == k).map_or(i64::MAX, |x| x.sort_order);
    let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let mut children: std::collections::HashMap<Option<i64>, Vec<OrgRow>> = std::collections::HashMap::new();
    for r in rows {
        let parent = r.parent_id.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(r);
    }
    for list in children.values_mut() {
        list.sort_by_key(|r| (rank(&r.kind), r.id));
    }
    let mut out = Vec::with_capacity(ids.len());
    let mut stack: Vec<OrgRow> = children.remove(&None).unwrap_or_default().into_iter().rev().collect();
    while let Some(r) = stack.pop() {
        if let Some(kids) = children.remove(&Some(r.id)) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(r);
    }
    out
}

impl App {
    /// Org kinds.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn org_kinds(&self) -> AppResult<Vec<OrgKind>> {
        Ok(store::list_kinds(&self.store.read).await?)
    }

    /// Nodes the principal may see, in display order (parents before children).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn org_tree(&self, who: &Principal) -> AppResult<Vec<OrgRow>> {
        require(who, ORG_READ)?;
        let rows = store::list_nodes(&self.store.read, who.filter(ORG_READ).as_ref()).await?;
        Ok(display_order(rows, &self.org_kinds().await?))
    }

    /// Nodes under which the principal may place things (ORG_MANAGE scope).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn org_manageable(&self, who: &Principal) -> AppResult<Vec<OrgRow>> {
        let rows = store::list_nodes(&self.store.read, who.filter(ORG_MANAGE).as_ref()).await?;
        Ok(display_order(rows, &self.org_kinds().await?))
    }

    /// Org node.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Internal`] for database failures.
    pub async fn org_node(&self, who: &Principal, id: OrgId) -> AppResult<OrgRow> {
        let row = store::get_node(&self.store.read, id).await?.ok_or(AppError::NotFound("机构"))?;
        check(who, ORG_READ, &node_ref(&row))?;
        Ok(row)
    }

    async fn managed_node(&self, who: &Principal, id: OrgId, field: &'static str) -> AppResult<OrgRow> {
        let row = store::get_node(&self.store.write, id)
            .await?
            .ok_or_else(|| AppError::Invalid(FieldErrors::single(field, "所选机构不存在")))?;
        check(who, ORG_MANAGE, &node_ref(&row))?;
        Ok(row)
    }

    /// Creates a node. A root (区) needs a 全部 scope; anything else needs ORG_MANAGE on
    /// its parent.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn create_org(&self, by: &By<'_>, draft: &OrgDraft) -> AppResult<OrgId> {
        require(by.who, ORG_MANAGE)?;
        let kinds = self.org_kinds().await?;
        let input = draft.validate(&kinds)?;
        let parent = match input.parent_id {
            Some(pid) => Some(self.managed_node(by.who, pid, "parent_id").await?),
            None => {
                if by.who.filter(ORG_MANAGE) != Some(ScopeFilter::All) {
                    return Err(AppError::Invalid(FieldErrors::single("parent_id", "请选择上级机构")));
                }
                None
            }
        };
        let parent_node = parent.as_ref().map(OrgRow::node);
        check_placement(&kinds, &input.kind, parent_node.as_ref())
            .map_err(|r| AppError::Invalid(FieldErrors::single("kind", r.to_string())))?;
        let mut tx = self.store.begin().await?;
        let id = store::insert_node(&mut tx, &input, parent_node.as_ref().map(|p| &p.path), self.now())
            .await
            .map_err(duplicate_name)?;
        self.save_node(&mut tx, &by.actor(), id, None, "org.create", serde_json::Value::Null).await?;
        self.index_org(&mut tx, id).await?;
        self.audit(&mut tx, "org_created", &by.actor(), &format!("{}（{}）", input.name, id)).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(id)
    }

    /// Renames a node or changes its code or its official name (发文机关署名).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn update_org(&self, by: &By<'_>, id: OrgId, draft: &OrgDraft) -> AppResult<()> {
        let row = self.managed_node(by.who, id, "id").await?;
        let kinds = self.org_kinds().await?;
        // Kind and parent are not changed here; validate the rest with the current kind.
        let input = OrgDraft { kind: row.kind.clone(), ..draft.clone() }.validate(&kinds)?;
        let mut tx = self.store.begin().await?;
        let before = views::node(&mut tx, id.0).await?;
        store::rename_node(&mut tx, id, &input, self.now()).await.map_err(duplicate_name)?;
        self.save_node(&mut tx, &by.actor(), id, before.as_ref(), "org.update", serde_json::Value::Null).await?;
        self.index_org(&mut tx, id).await?;
        self.index_users_on(&mut tx, id).await?;
        self.audit(&mut tx, "org_updated", &by.actor(), &format!("{} -> {}", row.name, input.name)).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// Moves a node (with its subtree) under another node.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn move_org(&self, by: &By<'_>, id: OrgId, new_parent: OrgId) -> AppResult<()> {
        let row = self.managed_node(by.who, id, "id").await?;
        let target = self.managed_node(by.who, new_parent, "parent_id").await?;
        let kinds = self.org_kinds().await?;
        let (node, target_node): (OrgNode, OrgNode) = (row.node(), target.node());
        check_move(&kinds, &node, &target_node)
            .map_err(|r| AppError::Invalid(FieldErrors::single("parent_id", r.to_string())))?;
        if row.parent_id == Some(target.id) {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let before = views::node(&mut tx, id.0).await?;
        store::move_subtree(&mut tx, &node, &target_node, self.now()).await.map_err(duplicate_name)?;
        self.save_node(&mut tx, &by.actor(), id, before.as_ref(), "org.move", serde_json::Value::Null).await?;
        self.index_org(&mut tx, id).await?;
        let moved = target_node.path.child(node.id);
        let (lo, hi) = moved.subtree_range();
        fazhi_store::search::rescope_subtree(&mut tx, &lo, &hi).await?;
        self.audit(&mut tx, "org_moved", &by.actor(), &format!("{} -> {}", row.name, target.name)).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }

    /// Deletes an empty node (no children, no users).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the fields at fault; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn delete_org(&self, by: &By<'_>, id: OrgId) -> AppResult<()> {
        let row = self.managed_node(by.who, id, "id").await?;
        let mut tx = self.store.begin().await?;
        let (children, users) = store::occupancy(&mut tx, id).await?;
        check_delete(&row.node(), children, users).map_err(|r| AppError::Refused(r.to_string()))?;
        // Recorded first: the log is found through the node, which is about to go. Every
        // field becomes null; `ledger verify` expects no row after an `org.delete`.
        let before = views::node(&mut tx, id.0).await?;
        let s = Saved {
            kind: &ORG_NODE,
            id: id.0,
            org: id,
            action: "org.delete",
            before: before.as_ref(),
            after: None,
            payload: serde_json::Value::Null,
        };
        self.save_view(&mut tx, &by.actor(), s).await?;
        store::delete_node(&mut tx, id).await?;
        self.unindex(&mut tx, ORG_NODE.code, &id.to_string()).await?;
        self.audit(&mut tx, "org_deleted", &by.actor(), &row.name).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }
}

impl App {
    /// Nodes on which the principal may place users (USER_MANAGE scope).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn org_manageable_for_users(&self, who: &Principal) -> AppResult<Vec<OrgRow>> {
        let rows = store::list_nodes(&self.store.read, who.filter(fazhi_domain::access::USER_MANAGE).as_ref()).await?;
        Ok(display_order(rows, &self.org_kinds().await?))
    }
}
