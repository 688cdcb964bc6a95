//! The 信访处理意见书 of an item (信访工作条例 第三十二条), as an official document. Every text
//! it prints is a field of the item and so covered by the item's ledger entries: before
//! printing, the fields are compared with what the ledger vouches for, and a document is
//! refused when they differ (an edit made outside the system).

use chrono::NaiveDate;
use fazhi_domain::OrgId;
use fazhi_domain::access::{PETITION_READ, Principal};
use fazhi_domain::petition::Stage;
use fazhi_ledger::Entry;
use fazhi_store::petitions::PetitionRow;

use super::{outcome_label, stage_of};
use crate::ctx::Record;
use crate::{App, AppError, AppResult};

/// The printed fields of an item that its ledger entries must vouch for.
const PRINTED: &[&str] = &["title", "content", "received_on", "accepted_on", "outcome", "legal_basis", "reply_text"];

/// Checks that the printed fields of `row` are what its ledger entries say they are.
///
/// # Errors
/// [`AppError::Refused`] naming the fields that differ.
pub(crate) fn vouched(row: &PetitionRow, entries: &[Entry]) -> AppResult<()> {
    let mut state = serde_json::Map::new();
    for e in entries {
        fazhi_ledger::diff::fold(&mut state, &e.change);
    }
    if state.is_empty() {
        // An item registered before changes were recorded as field diffs: nothing to compare.
        return Ok(());
    }
    let view = row.ledger_view()?;
    let differ: Vec<&str> =
        PRINTED.iter().copied().filter(|f| state.get(*f).is_some_and(|v| Some(v) != view.get(*f))).collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(AppError::Refused(format!(
            "该件的{}与全过程记录不一致，可能在系统之外被改动，不能出具文书。请管理员运行 fazhi ledger verify 核查",
            differ.join("、")
        )))
    }
}

impl App {
    /// The 信访处理意见书 of an item (信访工作条例 第三十二条: the request, the facts and
    /// reasons, the opinion with its legal basis; and the right to ask for a 复查 or 复核
    /// within 30 days, 第三十五、三十六条), with the ledger reference of the reply.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a missing record; [`AppError::Refused`] when a rule refuses the change; [`AppError::Internal`] for database failures.
    pub async fn petition_opinion(&self, who: &Principal, id: i64) -> AppResult<fazhi_docs::OfficialDoc> {
        use fazhi_docs::{Block, OfficialDoc};
        let row = self.visible_petition(who, id, PETITION_READ).await?;
        if row.outcome.is_empty() {
            return Err(AppError::Refused("该件尚未出具处理意见，不能生成信访处理意见书".into()));
        }
        let timeline = fazhi_store::ledger::entries_of_record(
            &self.store.read,
            fazhi_domain::record::PETITION.code,
            &id.to_string(),
        )
        .await?;
        vouched(&row, &timeline)?;
        let reply = timeline.iter().rev().find(|e| e.action == "petition.reply");
        let reference = reply.map(|e| format!("{}-{}", e.log_id, e.seq)).unwrap_or_default();
        let day = reply
            .map_or_else(|| fazhi_domain::clock::beijing_date(self.now()), |e| fazhi_domain::clock::beijing_date(e.at));
        let (gov, above) = self.government_of(OrgId(row.org_id)).await?;
        let name = |org: OrgId| async move {
            fazhi_store::org::get_node(&self.store.read, org).await.map(|n| n.map(|n| n.name).unwrap_or_default())
        };
        let signer = name(gov).await?;
        let higher = name(above).await?;
        let people: Vec<serde_json::Value> =
            serde_json::from_str(&row.petitioners_json).map_err(|e| AppError::internal("petitioners", e))?;
        let names: Vec<&str> = people.iter().filter_map(|p| p["name"].as_str()).collect();
        let stage = stage_of(&row)?;
        let next = match stage {
            Stage::First => format!(
                "如对本处理意见不服，可以自收到本意见书之日起 30 日内向{higher}请求复查（《信访工作条例》第三十五条）。"
            ),
            Stage::Review => format!(
                "如对本复查意见不服，可以自收到本意见书之日起 30 日内向{higher}的上一级机关请求复核（《信访工作条例》第三十六条）。"
            ),
            Stage::Recheck => {
                "本复核意见为最终意见。信访人以同一事实和理由再提出信访事项的，不再受理（《信访工作条例》第三十六条）。"
                    .into()
            }
        };
        use chrono::Datelike;
        let title = match stage {
            Stage::First => "信访处理意见书",
            Stage::Review => "信访事项复查意见书",
            Stage::Recheck => "信访事项复核意见书",
        };
        Ok(OfficialDoc {
            title: title.into(),
            number: format!("信复〔{}〕{}号", day.year(), row.id),
            body: vec![
                Block::Plain(format!("{}：", names.join("、"))),
                Block::Para(format!(
                    "您（们）于{}通过{}反映的“{}”一事，本机关已于{}依法受理。现将处理意见告知如下：",
                    NaiveDate::parse_from_str(&row.received_on, "%Y-%m-%d")
                        .map_or(row.received_on.clone(), |d| fazhi_docs::chinese_date((d.year(), d.month(), d.day()))),
                    row.channel.label(),
                    row.title,
                    row.accepted_on.as_deref().unwrap_or(&row.received_on),
                )),
                Block::Heading1("一、信访人的请求".into()),
                Block::Para(row.content.clone()),
                Block::Heading1("二、调查核实的事实和理由".into()),
                Block::Para(if row.reply_text.is_empty() {
                    "（见处理意见）".into()
                } else {
                    row.reply_text.clone()
                }),
                Block::Heading1("三、处理意见".into()),
                Block::Para(format!("{}。依据：{}。", outcome_label(&row.outcome), row.legal_basis)),
                Block::Para(next),
            ],
            signer,
            date: (day.year(), day.month(), day.day()),
            reference,
        })
    }
}
