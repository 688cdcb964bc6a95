//! Petitions (信访): intake at the desk, from the portal or pushed in bulk ([`intake`],
//! [`portal`]), the handling steps of the [`PetitionFlow`] workflow with their statutory
//! clocks ([`steps`]), 复查/复核 rounds ([`review`]), the 信访处理意见书 ([`opinion`]) and the
//! queries behind the list and item pages (here). Mediation, receptions and indicators sit
//! beside it as sibling modules of the app.
//!
//! [`PetitionFlow`]: fazhi_domain::petition::PetitionFlow

pub use fazhi_store::petitions::{PetitionQuery, PetitionRow, TransferRow};
pub mod intake;
pub mod opinion;
pub mod portal;
pub mod review;
pub mod search;
pub mod steps;
pub mod view;

use fazhi_domain::access::{PETITION_READ, Permission, Principal, RecordRef, authorize};
use fazhi_domain::petition::{Category, Channel, Satisfaction, Stage, State};
use fazhi_domain::record::{Kind, PETITION};
use fazhi_domain::{Day, OrgId, UserId};
use fazhi_store::org::OrgRow;
use fazhi_store::petitions::{self as store};

pub use intake::{Intake, IntakeDraft, PetitionerDraft, ValidIntake};
pub use portal::{MAX_IMPORT_ROWS, PORTAL_SUBMISSIONS_PER_HOUR, PublicStatus};
pub use review::{ReviewDraft, ReviewReceipt};
pub use steps::StepInput;
pub use view::PetitionView;

use crate::clocks::ClockView;
use crate::ctx::Record;
use crate::lookup_cache::OrgTree;
use crate::{App, AppError, AppResult, require};

/// Default 积案 threshold: open longer than the longest handling period, 60 + 30 days
/// (信访工作条例 第三十四条). A local practice; `petition_backlog_days` in the config.
pub const DEFAULT_BACKLOG_DAYS: u32 = 90;

impl Record for PetitionRow {
    const KIND: &'static Kind = &PETITION;

    fn id(&self) -> i64 {
        self.id
    }

    fn log_org(&self) -> OrgId {
        OrgId(self.org_id)
    }

    /// The desk (and creator) and, while assigned or led, the assignee's node (and the 包案
    /// leader); the same holders as `fazhi_store::record::PETITION`.
    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)> {
        let mut v = vec![(OrgId(self.org_id), self.created_by.map(UserId))];
        if self.handler_org_id.is_some() || self.lead_user_id.is_some() {
            v.push((OrgId(self.handler_org_id.unwrap_or(self.org_id)), self.lead_user_id.map(UserId)));
        }
        v
    }

    /// Title; the request and the petitioners' names (a petitioner is found by name; ID
    /// numbers, phones and tracking codes are found by exact lookup, never indexed as text:
    /// see `petitions::search`). Changing what is indexed bumps
    /// [`search::SEARCH_TEXT_VERSION`].
    fn search_text(&self) -> Option<(String, String)> {
        let names = search::petitioner_names(&self.petitioners_json);
        let body = if names.is_empty() {
            self.content.clone()
        } else {
            format!("{}\n信访人：{}", self.content, names.join("、"))
        };
        Some((self.title.clone(), body))
    }
}

/// The policy's view of an item, from the org tree.
pub(crate) fn petition_ref(tree: &OrgTree, row: &PetitionRow) -> RecordRef {
    let holders = row.holder_ids().into_iter().filter_map(|(o, u)| tree.holder(o.0, u)).collect();
    RecordRef::of(&PETITION, holders)
}

/// The label of a stored state code ("未知" for a code this program did not write).
pub fn state_label(code: &str) -> &'static str {
    State::parse(code).map_or("未知", State::label)
}

/// The label of a stored round code.
pub fn stage_label(code: &str) -> &'static str {
    Stage::parse(code).map_or("未知", Stage::label)
}

/// The label of a stored satisfaction code (empty before a 回访).
pub fn satisfaction_label(code: &str) -> &'static str {
    Satisfaction::parse(code).map_or("", Satisfaction::label)
}

/// The label of a stored channel code.
pub fn channel_label(code: &str) -> &'static str {
    Channel::parse(code).map_or("未知", Channel::label)
}

/// The label of a stored category code.
pub fn category_label(code: &str) -> &'static str {
    Category::parse(code).map_or("未分类", Category::label)
}

/// The label of a stored opinion code (empty before a reply).
pub fn outcome_label(code: &str) -> &'static str {
    fazhi_domain::petition::Outcome::parse(code).map_or("", fazhi_domain::petition::Outcome::label)
}

/// The state of a stored row; an unknown code is an error, never a default.
pub(crate) fn state_of(row: &PetitionRow) -> AppResult<State> {
    Ok(row.state)
}

/// The round of a stored row.
pub(crate) fn stage_of(row: &PetitionRow) -> AppResult<Stage> {
    Ok(row.stage)
}

/// A stored `YYYY-MM-DD` column.
pub(crate) fn day_of(row: &PetitionRow, field: &str, raw: &str) -> AppResult<Day> {
    Day::from_text(raw).map_err(|_| AppError::corrupt(&PETITION, row.id, field, raw))
}

impl App {
    /// Items within the principal's scope (ANY holder in scope).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without petition read permission; database errors.
    pub async fn petitions(&self, who: &Principal, q: &PetitionQuery) -> AppResult<Vec<PetitionRow>> {
        require(who, PETITION_READ)?;
        Ok(store::list(&self.store.read, who.filter_for(&PETITION, PETITION_READ).as_ref(), q).await?)
    }

    /// How many items within scope match.
    ///
    /// # Errors
    /// As [`App::petitions`].
    pub async fn count_petitions(&self, who: &Principal, q: &PetitionQuery) -> AppResult<i64> {
        require(who, PETITION_READ)?;
        Ok(store::count(&self.store.read, who.filter_for(&PETITION, PETITION_READ).as_ref(), q).await?)
    }

    /// The day on or before which an open item counts as 积案 (open longer than the
    /// configured number of days).
    pub fn backlog_cutoff(&self) -> chrono::NaiveDate {
        fazhi_domain::clock::beijing_date(self.now()) - chrono::Duration::days(i64::from(self.petition_backlog_days))
    }

    /// An item the principal may act on with `perm` (any holder in scope), read outside a
    /// transaction.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`]; database errors.
    pub(crate) async fn visible_petition(&self, who: &Principal, id: i64, perm: Permission) -> AppResult<PetitionRow> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("信访件"))?;
        let tree = self.org_snapshot().await?;
        authorize(who, perm, &petition_ref(&tree, &row)).into_result()?;
        Ok(row)
    }

    /// Whether `who` may still read `row` (after a step that moved it, say).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn petition_readable(&self, who: &Principal, row: &PetitionRow) -> AppResult<bool> {
        let tree = self.org_snapshot().await?;
        Ok(authorize(who, PETITION_READ, &petition_ref(&tree, row)) == fazhi_domain::access::Decision::Allow)
    }

    /// One item with its clocks.
    ///
    /// # Errors
    /// As [`App::visible_petition`].
    pub async fn petition(&self, who: &Principal, id: i64) -> AppResult<(PetitionRow, Vec<ClockView>)> {
        let row = self.visible_petition(who, id, PETITION_READ).await?;
        let clocks = self.clocks_of_record(&PETITION, &id.to_string()).await?;
        Ok((row, clocks))
    }

    /// What surrounds an item: its transfers, its 复查/复核 rounds and the round it answers
    /// (rounds only when the principal may read them).
    ///
    /// # Errors
    /// Database errors.
    pub async fn petition_links(
        &self,
        who: &Principal,
        row: &PetitionRow,
    ) -> AppResult<(Vec<TransferRow>, Vec<PetitionRow>, Option<PetitionRow>)> {
        require(who, PETITION_READ)?;
        let tree = self.org_snapshot().await?;
        let visible = |p: &PetitionRow| authorize(who, PETITION_READ, &petition_ref(&tree, p)).into_result().is_ok();
        let transfers = store::transfers(&self.store.read, row.id).await?;
        let children = store::children(&self.store.read, row.id).await?.into_iter().filter(|p| visible(p)).collect();
        let parent = match row.parent_id {
            Some(p) => store::get(&self.store.read, p).await?.filter(|p| visible(p)),
            None => None,
        };
        Ok((transfers, children, parent))
    }

    /// The nearest government body (街道/乡镇, or 区) at or above `org`, and the one above it
    /// (who answers a 复查 or 复核 request, 第三十五、三十六条).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown node; database errors.
    pub(crate) async fn government_of(&self, org: OrgId) -> AppResult<(OrgId, OrgId)> {
        let (gov, above) = self.government_node(org).await?;
        Ok((OrgId(gov.id), above))
    }

    /// The government body a node belongs to, as a row, and the one above it (from the org
    /// tree snapshot; "government body" = a node whose kind keeps a log, data not names).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown node; database errors.
    pub(crate) async fn government_node(&self, org: OrgId) -> AppResult<(OrgRow, OrgId)> {
        let tree = self.org_snapshot().await?;
        government_in(&tree, org)
    }

    /// Where the principal's items can be assigned (交办): see [`assign_targets`].
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without petition read permission; database errors.
    pub async fn assign_targets(&self, who: &Principal) -> AppResult<Vec<OrgRow>> {
        require(who, PETITION_READ)?;
        let tree = self.org_snapshot().await?;
        Ok(assign_targets(&tree, who.org_id).into_iter().cloned().collect())
    }

    /// The communities (and villages) the list can be filtered by: those of the principal's
    /// street its read scope reaches (a community worker: its own), as (id, name, path range).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without petition read permission; database errors.
    pub async fn petition_communities(&self, who: &Principal) -> AppResult<Vec<(i64, String, (String, String))>> {
        require(who, PETITION_READ)?;
        let tree = self.org_snapshot().await?;
        let filter = who.filter_for(&PETITION, PETITION_READ);
        Ok(assign_targets(&tree, who.org_id)
            .into_iter()
            .filter(|n| n.kind == "community" || n.kind == "village")
            .filter(|n| match &filter {
                Some(fazhi_domain::access::ScopeFilter::Subtree(p)) => n.org_path().is_within(p),
                Some(_) => true,
                None => false,
            })
            .map(|n| (n.id, n.name.clone(), n.org_path().subtree_range()))
            .collect())
    }

    /// Where the principal's items can be transferred (转送): see [`transfer_targets`].
    ///
    /// # Errors
    /// As [`App::assign_targets`].
    pub async fn transfer_targets(&self, who: &Principal) -> AppResult<Vec<OrgRow>> {
        require(who, PETITION_READ)?;
        let tree = self.org_snapshot().await?;
        Ok(transfer_targets(&tree, who.org_id).into_iter().cloned().collect())
    }
}

/// The government body of node `org` in `tree` and the one above it (itself when none).
///
/// # Errors
/// [`AppError::NotFound`] for an unknown node.
pub(crate) fn government_in(tree: &OrgTree, org: OrgId) -> AppResult<(OrgRow, OrgId)> {
    let node = tree.get(org.0).ok_or(AppError::NotFound("机构"))?;
    let govs = tree.governments_above(org.0);
    match govs.first() {
        Some(g) => Ok(((*g).clone(), OrgId(govs.get(1).unwrap_or(g).id))),
        None => Ok((node.clone(), org)),
    }
}

/// Where an item held at `org` can be assigned (交办): the nodes below its government body
/// (offices, departments, communities, grids). The item page offers exactly these, and the
/// step refuses any other.
pub(crate) fn assign_targets(tree: &OrgTree, org: OrgId) -> Vec<&OrgRow> {
    let Ok((gov, _)) = government_in(tree, org) else { return Vec::new() };
    let within = gov.org_path();
    tree.nodes.iter().filter(|n| n.id != gov.id && n.org_path().is_within(&within)).collect()
}

/// Where an item held at `org` can be transferred (转送, 第二十二条): the other government
/// bodies of its district and the district's own departments — never a node inside the
/// item's own government body (that is 交办), never outside the district.
pub(crate) fn transfer_targets(tree: &OrgTree, org: OrgId) -> Vec<&OrgRow> {
    let Ok((gov, above)) = government_in(tree, org) else { return Vec::new() };
    let own = gov.org_path();
    let district = tree.get(above.0).filter(|d| d.id != gov.id).map(OrgRow::org_path);
    tree.nodes
        .iter()
        .filter(|n| district.as_ref().is_none_or(|w| n.org_path().is_within(w)))
        .filter(|n| !n.org_path().is_within(&own))
        .filter(|n| {
            // A government body, or a department whose government body is the district.
            tree.is_government(n) || tree.governments_above(n.id).first().is_some_and(|g| g.id == above.0)
        })
        .collect()
}
