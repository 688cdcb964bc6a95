//! The item page's data in one call: the item, authorised once, with its clocks, history,
//! the steps offered to the reader and its links.

use fazhi_domain::Day;
use fazhi_domain::access::{Decision, PETITION_READ, Principal, authorize};
use fazhi_domain::petition::{Facts, PetitionFlow, Step};
use fazhi_domain::workflow::Workflow;
use fazhi_ledger::Entry;
use fazhi_store::petitions::{self as store, PetitionRow, TransferRow};

use super::{day_of, petition_ref, stage_of, state_of};
use crate::clocks::ClockView;
use crate::{App, AppError, AppResult};

/// Everything the item page shows of an item.
#[derive(Debug, Clone)]
pub struct PetitionView {
    pub row: PetitionRow,
    pub clocks: Vec<ClockView>,
    /// The ledger entries of the item, oldest first.
    pub timeline: Vec<Entry>,
    /// The steps the reader can take now (the workflow's offer, less what their permissions
    /// do not reach).
    pub offered: Vec<Step>,
    pub transfers: Vec<TransferRow>,
    /// Its 复查/复核 rounds the reader may read.
    pub rounds: Vec<PetitionRow>,
    /// The round it answers, when the reader may read it.
    pub parent: Option<PetitionRow>,
    /// Its attachments (photos, scans, recordings).
    pub attachments: Vec<crate::attachments::AttachmentRow>,
    /// Whether the reader may attach files (handle permission over its holders).
    pub can_attach: bool,
}

impl App {
    /// The item page of item `id` for `who`.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`]; a stored value this program did not
    /// write; database errors.
    pub async fn petition_view(&self, who: &Principal, id: i64) -> AppResult<PetitionView> {
        let row = store::get(&self.store.read, id).await?.ok_or(AppError::NotFound("信访件"))?;
        let tree = self.org_snapshot().await?;
        let rec = petition_ref(&tree, &row);
        authorize(who, PETITION_READ, &rec).into_result()?;
        let clock_rows =
            fazhi_store::clocks::of_record(&self.store.read, fazhi_domain::record::PETITION.code, &id.to_string())
                .await?;
        let facts = Facts {
            stage: stage_of(&row)?,
            extended: row.extended_days > 0,
            objection_window: clock_rows.iter().any(|c| c.rule_id == "petition.objection" && !c.closed),
            received: day_of(&row, "received_on", &row.received_on)?,
            today: Day::at(self.now()),
        };
        let offered = PetitionFlow::offered(state_of(&row)?, &facts)
            .into_iter()
            .filter(|s| authorize(who, PetitionFlow::permission(*s), &rec) == Decision::Allow)
            .collect();
        let clocks = self.views(clock_rows).await?;
        let timeline = fazhi_store::ledger::entries_of_record(
            &self.store.read,
            fazhi_domain::record::PETITION.code,
            &id.to_string(),
        )
        .await?;
        let (transfers, rounds, parent) = self.petition_links(who, &row).await?;
        let attachments =
            fazhi_store::attachments::of_record(&self.store.read, fazhi_domain::record::PETITION.code, &id.to_string())
                .await?;
        let can_attach = authorize(who, fazhi_domain::access::PETITION_HANDLE, &rec) == Decision::Allow;
        Ok(PetitionView { row, clocks, timeline, offered, transfers, rounds, parent, attachments, can_attach })
    }
}
