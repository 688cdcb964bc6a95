//! The 信访处理意见书 of an item (信访工作条例 第三十二条), as an official document. Every text
//! it prints is a field of the item and so covered by the item's ledger entries: before
//! printing, the fields are compared with what the ledger vouches for, and a document is
//! refused when they differ (an edit made outside the system).

use chrono::Datelike;
use fazhi_domain::access::{PETITION_READ, Principal};
use fazhi_domain::petition::Stage;
use fazhi_domain::{Day, OrgId};
use fazhi_ledger::Entry;
use fazhi_store::petitions::PetitionRow;

use super::{day_of, outcome_label, stage_of};
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

/// What a 信访处理意见书 prints, gathered from the item, its ledger and the org tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionFacts {
    pub id: i64,
    pub stage: Stage,
    /// The petitioners' names.
    pub petitioners: Vec<String>,
    pub received_on: Day,
    /// The channel's label (来访, 来信 …).
    pub channel: &'static str,
    pub title: String,
    pub accepted_on: Day,
    /// The request, as the petitioner made it (paragraphs kept).
    pub content: String,
    /// The facts and reasons found (paragraphs kept).
    pub reply_text: String,
    /// The outcome's label (支持, 不予支持 …).
    pub outcome: &'static str,
    pub legal_basis: String,
    /// The full official names of the organ that answers and of the one above it.
    pub signer: String,
    pub higher: String,
    /// 成文日期: the day of the reply.
    pub day: Day,
    /// The ledger reference of the reply (`log-seq`), empty for none.
    pub reference: String,
}

/// `text` on one line (a title inside a sentence).
fn one_line(text: &str) -> String {
    fazhi_domain::text::paragraphs(text).join(" ")
}

/// The document of `f`: what 信访工作条例 第三十二条 asks (the request, the facts and reasons,
/// the opinion with its legal basis) and the right to ask for a 复查 or 复核 within 30 days
/// (第三十五、三十六条). Every date is printed in Chinese; every text a person wrote keeps its
/// paragraphs.
pub fn compose(f: &OpinionFacts) -> fazhi_docs::OfficialDoc {
    use fazhi_docs::{Block, OfficialDoc};
    let higher = &f.higher;
    let next = match f.stage {
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
    let title = match f.stage {
        Stage::First => "信访处理意见书",
        Stage::Review => "信访事项复查意见书",
        Stage::Recheck => "信访事项复核意见书",
    };
    let basis = f.legal_basis.trim().trim_end_matches(['。', '.']);
    OfficialDoc {
        title: title.into(),
        number: format!("信复〔{}〕{}号", f.day.date().year(), f.id),
        body: vec![
            Block::Plain(format!("{}：", one_line(&f.petitioners.join("、")))),
            Block::Para(format!(
                "您（们）于{}通过{}反映的“{}”一事，本机关已于{}依法受理。现将处理意见告知如下：",
                f.received_on.chinese(),
                f.channel,
                one_line(&f.title),
                f.accepted_on.chinese(),
            )),
            Block::Heading1("一、信访人的请求".into()),
            Block::Para(f.content.clone()),
            Block::Heading1("二、调查核实的事实和理由".into()),
            Block::Para(if f.reply_text.trim().is_empty() {
                "（见处理意见）".into()
            } else {
                f.reply_text.clone()
            }),
            Block::Heading1("三、处理意见".into()),
            Block::Para(format!("{}。依据：{basis}。", f.outcome)),
            Block::Para(next),
        ],
        signer: f.signer.clone(),
        date: f.day,
        reference: f.reference.clone(),
    }
}

impl App {
    /// The 信访处理意见书 of an item (see [`compose`]), with the ledger reference of the
    /// reply, signed with the full official name of the organ that answers.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a missing record; [`AppError::Refused`] when the item has no
    /// opinion yet or its printed fields differ from the ledger; [`AppError::Internal`] for
    /// database failures.
    pub async fn petition_opinion(&self, who: &Principal, id: i64) -> AppResult<fazhi_docs::OfficialDoc> {
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
        let day = Day::at(reply.map_or_else(|| self.now(), |e| e.at));
        let (gov, above) = self.government_of(OrgId(row.org_id)).await?;
        let name = |org: OrgId| async move {
            fazhi_store::org::get_node(&self.store.read, org)
                .await
                .map(|n| n.map(|n| n.official_name().to_owned()).unwrap_or_default())
        };
        let people: Vec<serde_json::Value> =
            serde_json::from_str(&row.petitioners_json).map_err(|e| AppError::internal("petitioners", e))?;
        let received_on = day_of(&row, "received_on", &row.received_on)?;
        let accepted_on = match row.accepted_on.as_deref() {
            Some(d) => day_of(&row, "accepted_on", d)?,
            None => received_on,
        };
        Ok(compose(&OpinionFacts {
            id: row.id,
            stage: stage_of(&row)?,
            petitioners: people.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect(),
            received_on,
            channel: row.channel.label(),
            title: row.title.clone(),
            accepted_on,
            content: row.content.clone(),
            reply_text: row.reply_text.clone(),
            outcome: outcome_label(&row.outcome),
            legal_basis: row.legal_basis.clone(),
            signer: name(gov).await?,
            higher: name(above).await?,
            day,
            reference,
        }))
    }
}

#[cfg(test)]
mod tests;
